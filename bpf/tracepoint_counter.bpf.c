// SPDX-License-Identifier: GPL-2.0
/*
 * tracepoint_counter.bpf.c — test program: counts hits of the syscalls/sys_enter_getppid
 * tracepoint (present on the development kernel; a test triggers it with os.getppid()).
 *
 * Program: SEC("tracepoint/syscalls/sys_enter_getppid") tracepoint_count
 *          (attach with tracepoint "syscalls/sys_enter_getppid")
 * Global:  const volatile __u32 target_tgid = 0; — if non-zero only that process is counted
 *          (4 bytes LE via global_data "target_tgid"), 0 counts every process.
 * Map:     tp_count (ARRAY, 1 entry, key 0 → u64 number of hits)
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} tp_count SEC(".maps");

const volatile __u32 target_tgid = 0;

SEC("tracepoint/syscalls/sys_enter_getppid")
int tracepoint_count(void *ctx)
{
	__u32 key = 0;
	__u64 *count;

	if (target_tgid && (bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	count = bpf_map_lookup_elem(&tp_count, &key);
	if (count)
		__sync_fetch_and_add(count, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

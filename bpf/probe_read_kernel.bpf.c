// SPDX-License-Identifier: GPL-2.0
/*
 * probe_read_kernel.bpf.c — test program that reads kernel memory with bpf_probe_read_kernel.
 *
 * Program: SEC("tracepoint/syscalls/sys_enter_getppid") probe_read_count
 *          (attach with tracepoint "syscalls/sys_enter_getppid")
 * Map:     reads_ok (ARRAY, 1 entry, key 0 → u64 number of bpf_probe_read_kernel calls that
 *          returned 0; each hit copies 8 bytes of the tracepoint's own context, which lives in
 *          kernel memory)
 *
 * Under kernel lockdown=confidentiality the kernel hides bpf_probe_read_kernel from the verifier
 * (LOCKDOWN_BPF_READ_KERNEL), so loading fails with "unknown func bpf_probe_read_kernel#113";
 * bpfd must name lockdown as the cause. Under lockdown=integrity or none it loads, attaches and
 * counts. Used by the VM tier (tests/vm/tests/40-lockdown.sh; the file name avoids the word "lockdown", which would
 * otherwise show up in verifier logs and satisfy a test that looks for it in bpfd's message).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} reads_ok SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getppid")
int probe_read_count(void *ctx)
{
	__u32 key = 0;
	__u64 word = 0, *count;

	if (bpf_probe_read_kernel(&word, sizeof(word), ctx) != 0)
		return 0;
	count = bpf_map_lookup_elem(&reads_ok, &key);
	if (count)
		__sync_fetch_and_add(count, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0
/*
 * fentry_counter.bpf.c — test programs: count entries into and exits from do_unlinkat
 * through BPF trampolines.
 *
 * Programs: SEC("fentry/do_unlinkat") fentry_count → fentry_calls[0] += 1
 *           SEC("fexit/do_unlinkat")  fexit_count  → fexit_calls[0]  += 1
 * Maps:     fentry_calls, fexit_calls (ARRAY, 1 entry, key 0 → u64)
 *
 * The attach function may be overridden at Load (FentryLoadInfo/FexitLoadInfo fn_name).
 * On the development machines (lockdown=integrity) loading fails with EPERM and bpfd must
 * answer FAILED_PRECONDITION; the VM tier checks the counts (trigger: unlink a file).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} fentry_calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} fexit_calls SEC(".maps");

static __always_inline void bump(void *map)
{
	__u32 key = 0;
	__u64 *count = bpf_map_lookup_elem(map, &key);

	if (count)
		__sync_fetch_and_add(count, 1);
}

SEC("fentry/do_unlinkat")
int BPF_PROG(fentry_count)
{
	bump(&fentry_calls);
	return 0;
}

SEC("fexit/do_unlinkat")
int BPF_PROG(fexit_count)
{
	bump(&fexit_calls);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

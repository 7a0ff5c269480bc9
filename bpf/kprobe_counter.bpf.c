// SPDX-License-Identifier: GPL-2.0
/*
 * kprobe_counter.bpf.c — test programs: count entries into and returns from do_unlinkat.
 *
 * Programs: SEC("kprobe/do_unlinkat")    kprobe_count    → kprobe_calls[0]    += 1
 *           SEC("kretprobe/do_unlinkat") kretprobe_count → kretprobe_calls[0] += 1
 * Maps:     kprobe_calls, kretprobe_calls (ARRAY, 1 entry, key 0 → u64)
 *
 * Loading works on any kernel; attaching needs CONFIG_KPROBES. On the development machines
 * (no kprobes) bpfd must answer FAILED_PRECONDITION; the VM tier checks the counts (trigger:
 * unlink a file).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} kprobe_calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} kretprobe_calls SEC(".maps");

static __always_inline void bump(void *map)
{
	__u32 key = 0;
	__u64 *count = bpf_map_lookup_elem(map, &key);

	if (count)
		__sync_fetch_and_add(count, 1);
}

SEC("kprobe/do_unlinkat")
int kprobe_count(void *ctx)
{
	bump(&kprobe_calls);
	return 0;
}

SEC("kretprobe/do_unlinkat")
int kretprobe_count(void *ctx)
{
	bump(&kretprobe_calls);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

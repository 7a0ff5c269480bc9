// SPDX-License-Identifier: GPL-2.0
/*
 * uprobe_counter.bpf.c — test programs: count entries into and returns from a user function.
 *
 * Programs: SEC("uprobe")    uprobe_count    → uprobe_calls[0]   += 1 per call
 *           SEC("uretprobe") uretprobe_count → uretprobe_calls[0] += 1 per return
 * Maps:     uprobe_calls, uretprobe_calls (ARRAY, 1 entry, key 0 → u64)
 *
 * The sections carry no target: the Attach request names it (tests use
 * tests/fixtures/uprobe_target, function bpfd_test_target, which runs N times).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} uprobe_calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} uretprobe_calls SEC(".maps");

static __always_inline void bump(void *map)
{
	__u32 key = 0;
	__u64 *count = bpf_map_lookup_elem(map, &key);

	if (count)
		__sync_fetch_and_add(count, 1);
}

SEC("uprobe")
int uprobe_count(void *ctx)
{
	bump(&uprobe_calls);
	return 0;
}

SEC("uretprobe")
int uretprobe_count(void *ctx)
{
	bump(&uretprobe_calls);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

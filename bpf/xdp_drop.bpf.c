// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_drop.bpf.c — test program: drops every packet and counts the drops.
 *
 * Program: SEC("xdp") xdp_drop_all → XDP_DROP
 * Map:     drop_count (ARRAY, 1 entry, key 0 → u64 number of packets dropped)
 *
 * Used to show that attach/detach has a visible effect on traffic (ping fails while attached).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} drop_count SEC(".maps");

SEC("xdp")
int xdp_drop_all(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *count = bpf_map_lookup_elem(&drop_count, &key);

	if (count)
		__sync_fetch_and_add(count, 1);
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";

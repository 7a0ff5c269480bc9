// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_counter.bpf.c — test program: counts every packet seen at an XDP hook.
 *
 * Program: SEC("xdp") xdp_count
 * Map:     packet_count (ARRAY, 1 entry, key 0 → u64 number of packets)
 * Returns XDP_PASS, so traffic is unaffected.
 *
 * Used by tests/integration (XDP attach/detach/unload, restart) and bench/.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} packet_count SEC(".maps");

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *count = bpf_map_lookup_elem(&packet_count, &key);

	if (count)
		__sync_fetch_and_add(count, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

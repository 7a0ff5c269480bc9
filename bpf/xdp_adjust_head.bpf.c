// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_adjust_head.bpf.c — test program: changes packet data with bpf_xdp_adjust_head, so the
 * verifier marks it as changing packet data (what newer kernels check when it replaces a
 * dispatcher slot; docs/dispatchers.md).
 *
 * Program: SEC("xdp") xdp_adjust — grows the head by 16 bytes, checks it can write there, shrinks
 *          it back (the packet leaves unchanged) and returns XDP_PASS; XDP_ABORTED when an
 *          adjustment fails.
 * Map:     adjusted (ARRAY, 1 entry, key 0 → u64 number of packets adjusted)
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define GROW 16

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} adjusted SEC(".maps");

SEC("xdp")
int xdp_adjust(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *count;
	void *data, *data_end;

	if (bpf_xdp_adjust_head(ctx, -GROW))
		return XDP_ABORTED;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + GROW > data_end)
		return XDP_ABORTED;
	__builtin_memset(data, 0, GROW);
	if (bpf_xdp_adjust_head(ctx, GROW))
		return XDP_ABORTED;
	count = bpf_map_lookup_elem(&adjusted, &key);
	if (count)
		__sync_fetch_and_add(count, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

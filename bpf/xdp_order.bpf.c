// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_order.bpf.c — test program: records the run order of an XDP chain and returns a
 * configurable verdict.
 *
 * Program: SEC("xdp") xdp_record
 * Globals: const volatile __u32 tag — identifies the program in the record (global_data "tag",
 *          4 bytes little endian);
 *          const volatile __u32 verdict — what the program returns (global_data "verdict",
 *          4 bytes; default XDP_PASS = 2; XDP_DROP = 1, XDP_ABORTED = 0).
 * Map:     order (ARRAY, 1 entry, key 0 → struct order_record, 68 bytes), the same layout as
 *          tcx_order.bpf.c's: __u32 count; __u32 tags[16] (tags[i] = tag of the i-th run).
 *
 * Load the object several times (one tag each) with map_owner_id = the first program so all
 * of them append to the same `order` map; .rodata stays per program.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define ORDER_SLOTS 16

struct order_record {
	__u32 count;
	__u32 tags[ORDER_SLOTS];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct order_record);
} order SEC(".maps");

const volatile __u32 tag = 0;
const volatile __u32 verdict = XDP_PASS;

SEC("xdp")
int xdp_record(struct xdp_md *ctx)
{
	__u32 key = 0;
	struct order_record *rec = bpf_map_lookup_elem(&order, &key);

	if (rec) {
		/* Not atomic (see tcx_order.bpf.c): tests send one packet at a time. */
		__u32 slot = rec->count;

		rec->count = slot + 1;
		if (slot < ORDER_SLOTS)
			rec->tags[slot] = tag;
	}
	return verdict;
}

char LICENSE[] SEC("license") = "GPL";

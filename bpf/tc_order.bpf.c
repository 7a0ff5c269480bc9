// SPDX-License-Identifier: GPL-2.0
/*
 * tc_order.bpf.c — test program: records the run order of a TC dispatcher chain (kernels
 * without TCX; tests/vm/tests/65-tc-dispatcher.sh).
 *
 * Program: SEC("tc") tc_record (BPF_PROG_TYPE_SCHED_CLS; the daemon attaches it to ingress or
 *          egress as the Attach request says).
 * Globals: const volatile __u32 tag — per load with global_data "tag" (4 bytes, little endian),
 *          identifies the program in the record;
 *          const volatile __s32 verdict — what it returns, global_data "verdict"; default
 *          TC_ACT_PIPE (3), in the default proceed_on, so the chain goes on.
 * Map:     order (ARRAY, 1 entry, key 0 → 68 bytes: __u32 count, __u32 tags[16]), the same
 *          layout as bpf/tcx_order.bpf.c; reset by writing 68 zero bytes.
 *
 * Load the object several times (one tag each) with map_owner_id = the first program so all of
 * them append to the same `order` map.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
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
const volatile __s32 verdict = TC_ACT_PIPE;

SEC("tc")
int tc_record(struct __sk_buff *skb)
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

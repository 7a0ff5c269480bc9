/* SPDX-License-Identifier: GPL-2.0 */
/*
 * order_record.h — the run-order record shared by the chain test programs (xdp_order.bpf.c,
 * tc_order.bpf.c, tcx_order.bpf.c): include it once, in the program's .bpf.c.
 *
 * Global:  const volatile __u32 tag — set per load with global_data "tag" (4 bytes, little
 *          endian), identifies the program in the record.
 * Map:     order (ARRAY, 1 entry, key 0 → struct order_record, 68 bytes):
 *            __u32 count;            number of runs recorded so far (keeps counting past 16)
 *            __u32 tags[16];         tags[i] = tag of the i-th run, for i < 16
 *          Reset: write 68 zero bytes to key 0 (bpftool map update pinned … value hex 00 …).
 *          Read:  count, then the first min(count, 16) tags.
 *
 * Load a program several times (one tag each) with map_owner_id = the first load so all of them
 * append to the same `order` map; .rodata (tag, and the program's own globals) stays per load.
 */
#ifndef BPFD_ORDER_RECORD_H
#define BPFD_ORDER_RECORD_H

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

/* Appends this program's tag to the record. */
static __always_inline void order_record_run(void)
{
	__u32 key = 0;
	struct order_record *rec = bpf_map_lookup_elem(&order, &key);

	if (rec) {
		/*
		 * Not atomic: a fetch-and-add whose result is used needs -mcpu=v3. The programs of
		 * a chain run one after the other for a packet, and tests send one packet at a
		 * time, so a plain read-modify-write records the order faithfully.
		 */
		__u32 slot = rec->count;

		rec->count = slot + 1;
		if (slot < ORDER_SLOTS)
			rec->tags[slot] = tag;
	}
}

#endif

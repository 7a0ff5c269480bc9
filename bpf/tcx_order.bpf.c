// SPDX-License-Identifier: GPL-2.0
/*
 * tcx_order.bpf.c — test program: records the run order of a TCX chain.
 *
 * Program: SEC("tcx/ingress") tcx_record (libbpf ≥ 1.3 maps "tcx/ingress" to
 *          BPF_PROG_TYPE_SCHED_CLS with expected attach type BPF_TCX_INGRESS; the daemon
 *          attaches it to ingress or egress as the Attach request says).
 * Global:  const volatile __u32 tag — set per load with global_data "tag" (4 bytes, little
 *          endian), identifies the program in the record.
 * Map:     order (ARRAY, 1 entry, key 0 → struct order_record, 68 bytes):
 *            __u32 count;            number of runs recorded so far (keeps counting past 16)
 *            __u32 tags[16];         tags[i] = tag of the i-th run, for i < 16
 *          Reset: write 68 zero bytes to key 0 (bpftool map update pinned … value hex 00 …).
 *          Read:  count, then the first min(count, 16) tags.
 * Returns TCX_NEXT (-1) so the next program of the chain runs and the packet goes on.
 *
 * Load the object several times (one tag each) with map_owner_id = the first program so all
 * of them append to the same `order` map; .rodata stays per program.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* TCX_NEXT is in <linux/bpf.h> only from kernel 6.6 headers on; Debian 12 ships 6.1's. */
#define BPFD_TCX_NEXT (-1)

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

SEC("tcx/ingress")
int tcx_record(struct __sk_buff *skb)
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
	return BPFD_TCX_NEXT;
}

char LICENSE[] SEC("license") = "GPL";

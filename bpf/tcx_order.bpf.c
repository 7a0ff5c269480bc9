// SPDX-License-Identifier: GPL-2.0
/*
 * tcx_order.bpf.c — test program: records the run order of a TCX chain.
 *
 * Program: SEC("tcx/ingress") tcx_record (libbpf ≥ 1.3 maps "tcx/ingress" to
 *          BPF_PROG_TYPE_SCHED_CLS with expected attach type BPF_TCX_INGRESS; the daemon
 *          attaches it to ingress or egress as the Attach request says).
 * Global:  tag and the `order` map: see order_record.h (the record all chain programs share).
 * Returns TCX_NEXT (-1) so the next program of the chain runs and the packet goes on.
 */
#include "order_record.h"

/* TCX_NEXT is in <linux/bpf.h> only from kernel 6.6 headers on; Debian 12 ships 6.1's. */
#define BPFD_TCX_NEXT (-1)

SEC("tcx/ingress")
int tcx_record(struct __sk_buff *skb)
{
	order_record_run();
	return BPFD_TCX_NEXT;
}

char LICENSE[] SEC("license") = "GPL";

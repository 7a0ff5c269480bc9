// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_order.bpf.c — test program: records the run order of an XDP chain and returns a
 * configurable verdict.
 *
 * Program: SEC("xdp") xdp_record
 * Globals: tag and the `order` map: see order_record.h (the record all chain programs share);
 *          const volatile __u32 verdict — what the program returns (global_data "verdict",
 *          4 bytes; default XDP_PASS = 2; XDP_DROP = 1, XDP_ABORTED = 0).
 */
#include "order_record.h"

const volatile __u32 verdict = XDP_PASS;

SEC("xdp")
int xdp_record(struct xdp_md *ctx)
{
	order_record_run();
	return verdict;
}

char LICENSE[] SEC("license") = "GPL";

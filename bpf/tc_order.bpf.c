// SPDX-License-Identifier: GPL-2.0
/*
 * tc_order.bpf.c — test program: records the run order of a TC dispatcher chain (kernels
 * without TCX; tests/vm/tests/65-tc-dispatcher.sh).
 *
 * Program: SEC("tc") tc_record (BPF_PROG_TYPE_SCHED_CLS; the daemon attaches it to ingress or
 *          egress as the Attach request says).
 * Globals: tag and the `order` map: see order_record.h (the record all chain programs share);
 *          const volatile __s32 verdict — what it returns, global_data "verdict"; default
 *          TC_ACT_PIPE (3), in the default proceed_on, so the chain goes on.
 */
#include <linux/pkt_cls.h>
#include "order_record.h"

const volatile __s32 verdict = TC_ACT_PIPE;

SEC("tc")
int tc_record(struct __sk_buff *skb)
{
	order_record_run();
	return verdict;
}

char LICENSE[] SEC("license") = "GPL";

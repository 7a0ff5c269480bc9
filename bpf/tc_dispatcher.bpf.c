// SPDX-License-Identifier: GPL-2.0
/*
 * tc_dispatcher.bpf.c — bpfd's TC dispatcher, for kernels without TCX (< 6.6): the one cls_bpf
 * filter (direct-action) bpfd puts on an interface's clsact ingress or egress hook; it runs up
 * to ten user programs in order (docs/dispatchers.md, "TC dispatcher").
 *
 * Slots: the global functions prog0 … prog9, replaced by program extensions (freplace) exactly
 * like the XDP dispatcher's. A slot nobody replaced returns TC_DISPATCHER_RETVAL (30,
 * "dispatcher_return"), which is in every proceed_on mask bpfd builds.
 *
 * Config: `conf` is the only variable in .rodata (bpfman's TC dispatcher layout: 84 bytes).
 * TC verdicts start at -1 (TC_ACT_UNSPEC), so verdict v is bit v + 1 of a mask. A verdict
 * outside -1..30 or not in the slot's mask ends the chain with that verdict; after the last
 * enabled slot the verdict is TC_ACT_OK.
 *
 * Packet-changing helpers: Linux ≥ 6.13 lets an extension that may change packet data replace
 * only a function marked as changing it. Each stub therefore contains a bpf_skb_pull_data()
 * call the verifier sees (it marks the function while scanning its instructions) but that never
 * runs: pulling, even 0 bytes, may unclone the skb. Kernels with TCX never use this dispatcher,
 * so today this only matters for backports.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#define BPFD_TC_DISPATCHER_RETVAL 30
#define BPFD_TC_DISPATCHER_SLOTS 10
#define BPFD_TC_NEVER 0x7fffffff /* no verdict bpfd accepts */

struct tc_dispatcher_config {
	__u8 num_progs_enabled;
	__u32 chain_call_actions[BPFD_TC_DISPATCHER_SLOTS];
	__u32 run_prios[BPFD_TC_DISPATCHER_SLOTS];
};

/* const: frozen at load, so the verifier knows the values; volatile: bpfd rewrites it. */
static const volatile struct tc_dispatcher_config conf = {};

/* A slot: noinline and global so the verifier checks it on its own and an extension can replace
 * it; the volatile verdict keeps the compiler from knowing what it returns. */
#define DISPATCHER_SLOT(n)                                                                     \
	__attribute__((noinline)) int prog##n(struct __sk_buff *skb)                           \
	{                                                                                      \
		volatile int verdict = BPFD_TC_DISPATCHER_RETVAL;                              \
                                                                                               \
		if (!skb)                                                                      \
			return TC_ACT_OK;                                                      \
		if (verdict == BPFD_TC_NEVER)                                                  \
			bpf_skb_pull_data(skb, 0);                                             \
		return verdict;                                                                \
	}

DISPATCHER_SLOT(0)
DISPATCHER_SLOT(1)
DISPATCHER_SLOT(2)
DISPATCHER_SLOT(3)
DISPATCHER_SLOT(4)
DISPATCHER_SLOT(5)
DISPATCHER_SLOT(6)
DISPATCHER_SLOT(7)
DISPATCHER_SLOT(8)
DISPATCHER_SLOT(9)

#define RUN_SLOT(n)                                                                            \
	do {                                                                                   \
		if (conf.num_progs_enabled <= n)                                               \
			return TC_ACT_OK;                                                      \
		verdict = prog##n(skb);                                                        \
		if (verdict < -1 || verdict > 30 ||                                            \
		    !(conf.chain_call_actions[n] & (1u << (verdict + 1))))                     \
			return verdict;                                                        \
	} while (0)

SEC("tc")
int tc_dispatcher(struct __sk_buff *skb)
{
	int verdict;

	RUN_SLOT(0);
	RUN_SLOT(1);
	RUN_SLOT(2);
	RUN_SLOT(3);
	RUN_SLOT(4);
	RUN_SLOT(5);
	RUN_SLOT(6);
	RUN_SLOT(7);
	RUN_SLOT(8);
	RUN_SLOT(9);
	/* End of the chain. */
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_dispatcher.bpf.c — bpfd's XDP dispatcher: one program on an interface's XDP hook that
 * runs up to ten user programs in order (docs/dispatchers.md).
 *
 * Slots: the global functions prog0 … prog9. bpfd replaces slot i with the i-th program of the
 * chain by loading that program as a program extension (BPF_PROG_TYPE_EXT, "freplace") whose
 * target is progN. A slot nobody replaced returns XDP_DISPATCHER_RETVAL (31), which is in every
 * proceed_on mask bpfd builds ("dispatcher_return"), so the chain goes on.
 *
 * Config: `conf` is the only variable in .rodata, with the layout of libxdp's dispatcher
 * protocol version 2 (magic 236, version 2), so that tools reading libxdp dispatchers (xdp-loader
 * status) recognise ours; older libxdp looks for dispatcher_version (below) instead. bpfd writes it before every load; the kernel freezes it, and the
 * verifier prunes the slots beyond num_progs_enabled.
 *
 * Packet-changing helpers: since Linux 6.13 (and stable backports) an extension that may change
 * packet data (bpf_xdp_adjust_head/tail/meta, ...) may only replace a function the verifier also
 * marks as changing packet data (changes_pkt_data). Each stub therefore makes a no-op
 * bpf_xdp_adjust_head(ctx, 0) call; its result is ignored and it cannot fail for delta 0.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define BPFD_XDP_DISPATCHER_MAGIC 236 /* 'X' + 'D' + 'P' */
#define BPFD_XDP_DISPATCHER_VERSION 2
#define BPFD_XDP_DISPATCHER_RETVAL 31
#define BPFD_XDP_DISPATCHER_SLOTS 10

struct xdp_dispatcher_config {
	__u8 magic;
	__u8 dispatcher_version;
	__u8 num_progs_enabled;
	__u8 is_xdp_frags;
	__u32 chain_call_actions[BPFD_XDP_DISPATCHER_SLOTS];
	__u32 run_prios[BPFD_XDP_DISPATCHER_SLOTS];
	__u32 program_flags[BPFD_XDP_DISPATCHER_SLOTS];
};

/* const: frozen at load, so the verifier knows the values; volatile: the compiler must not
 * fold the all-zero initial value, bpfd rewrites it before loading. */
static const volatile struct xdp_dispatcher_config conf = {
	.magic = BPFD_XDP_DISPATCHER_MAGIC,
	.dispatcher_version = BPFD_XDP_DISPATCHER_VERSION,
};

/*
 * libxdp 1.3 (Debian's 1.3.1) recognises a dispatcher by this BTF variable in section
 * xdp_metadata: a pointer to an array whose length is the protocol version (libxdp's __uint()
 * idiom). No map is made for the section, so the dispatcher keeps its single .rodata map.
 */
int (*dispatcher_version)[BPFD_XDP_DISPATCHER_VERSION] SEC("xdp_metadata");

/*
 * A slot. noinline and global: the verifier checks it on its own, so an extension can replace
 * it. The volatile verdict keeps the compiler (and the verifier) from knowing what it returns.
 */
#define DISPATCHER_SLOT(n)                                                                     \
	__attribute__((noinline)) int prog##n(struct xdp_md *ctx)                              \
	{                                                                                      \
		volatile __u32 verdict = BPFD_XDP_DISPATCHER_RETVAL;                           \
                                                                                               \
		if (!ctx)                                                                      \
			return XDP_ABORTED;                                                    \
		/* Marks the slot as changing packet data; delta 0 changes nothing. */         \
		bpf_xdp_adjust_head(ctx, 0);                                                   \
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

/* Runs slot n when enabled; leaves the function with the slot's verdict unless proceed_on
 * (chain_call_actions[n]) lets the chain go on. */
#define RUN_SLOT(n)                                                                            \
	do {                                                                                   \
		if (conf.num_progs_enabled <= n)                                               \
			return XDP_PASS;                                                       \
		verdict = prog##n(ctx);                                                        \
		if (verdict < 0 || verdict > 31 ||                                             \
		    !(conf.chain_call_actions[n] & (1u << verdict)))                           \
			return verdict;                                                        \
	} while (0)

SEC("xdp")
int xdp_dispatcher(struct xdp_md *ctx)
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
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

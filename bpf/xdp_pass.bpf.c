// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_pass.bpf.c — the trivial program of bench/dispatcher_vm.sh: passes every packet and does
 * nothing else, so a chain of them costs only what the dispatcher adds.
 *
 * Program: SEC("xdp") xdp_pass → XDP_PASS
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

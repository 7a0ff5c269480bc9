// SPDX-License-Identifier: GPL-2.0
/*
 * verifier_reject.bpf.c — test program the verifier must reject.
 *
 * Program: SEC("xdp") xdp_reject reads the first 4 bytes of the packet without checking them
 * against data_end. It compiles, but BPF_PROG_LOAD fails with a verifier log containing
 * "invalid access to packet"; bpfd must answer INVALID_ARGUMENT with the log's tail.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_reject(struct xdp_md *ctx)
{
	__u32 *first = (__u32 *)(long)ctx->data;

	/* No "if ((void *)(first + 1) > (void *)(long)ctx->data_end)" here, on purpose. */
	return *first == 0 ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

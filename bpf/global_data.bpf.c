// SPDX-License-Identifier: GPL-2.0
/*
 * global_data.bpf.c — test program whose behaviour is set by global_data at load time.
 *
 * Program: SEC("xdp") xdp_global
 * Globals: const volatile __u64 increment = 1;  added to the counter per packet (8 bytes LE)
 *          const volatile __u32 drop = 0;       1 → XDP_DROP every packet, else XDP_PASS (4 bytes)
 * Map:     gd_counter (ARRAY, 1 entry, key 0 → u64 sum of increments)
 *
 * A test loads it with e.g. increment=5 and checks the counter is a multiple of 5 and ≥ 5 × the
 * packets sent, or with drop=1 and checks that ping through the interface fails.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} gd_counter SEC(".maps");

const volatile __u64 increment = 1;
const volatile __u32 drop = 0;

SEC("xdp")
int xdp_global(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *count = bpf_map_lookup_elem(&gd_counter, &key);

	if (count)
		__sync_fetch_and_add(count, increment);
	return drop == 1 ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

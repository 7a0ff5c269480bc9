/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Dispatchers: many programs on one network hook (docs/dispatchers.md). The pure parts (masks,
 * config, chain order) are here so unit tests can reach them without a kernel.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "store.h"

#define XDP_DISPATCHER_SLOTS   10
#define XDP_DISPATCHER_MAGIC   236 /* 'X' + 'D' + 'P', libxdp's dispatcher protocol */
#define XDP_DISPATCHER_VERSION 2
#define XDP_DISPATCHER_RETVAL  31 /* what an unreplaced slot returns: "dispatcher_return" */

/* bpf/xdp_dispatcher.bpf.c's .rodata: libxdp's dispatcher protocol version 2 layout. */
struct xdp_dispatcher_config {
	uint8_t magic;
	uint8_t dispatcher_version;
	uint8_t num_progs_enabled;
	uint8_t is_xdp_frags;
	uint32_t chain_call_actions[XDP_DISPATCHER_SLOTS];
	uint32_t run_prios[XDP_DISPATCHER_SLOTS];
	uint32_t program_flags[XDP_DISPATCHER_SLOTS];
};
_Static_assert(sizeof(struct xdp_dispatcher_config) == 124, "libxdp v2 config layout");

/* Checks proceed_on values for an attachment of type (BPFD_PROG_XDP or BPFD_PROG_TC; other
 * types must not give any): -EINVAL with err naming the bad value. */
int proceed_on_validate(int type, const int32_t *values, size_t n, struct error *err);

/* The XDP chain_call_actions mask of proceed_on values (validated); none given → the default
 * pass + dispatcher_return (API.md). */
uint32_t xdp_proceed_on_mask(const int32_t *values, size_t n);

/* The dispatcher config for chain (already in run order, at most XDP_DISPATCHER_SLOTS). */
int xdp_dispatcher_config_build(const struct link_record *chain, size_t n,
				struct xdp_dispatcher_config *ret, struct error *err);

/* Where a new link of priority p goes in chain (in run order): after every link of lower or
 * equal priority, so equal priorities run in attach order. */
size_t chain_insert_index(const struct link_record *chain, size_t n, int32_t priority);

/* The name of a hook's directory under <bpffs>/xdp: "<ifindex>" in bpfd's own network
 * namespace, "<ifindex>_<hash of the netns path>" in another one. */
int dispatcher_hook_name(const struct link_record *hook, char *buf, size_t size);

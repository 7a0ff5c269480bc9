/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Dispatchers: many programs on one network hook (docs/dispatchers.md). The pure parts (masks,
 * config, chain order) are here so unit tests can reach them without a kernel.
 */
#pragma once

#include <stdbool.h>
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

/* ---- The TC dispatcher (kernels without TCX; dispatcher_tc.c) ---- */

#define TC_DISPATCHER_SLOTS  10
#define TC_DISPATCHER_RETVAL 30 /* what an unreplaced slot returns: "dispatcher_return" */
/* bpfd's one cls_bpf filter on a clsact hook: a fixed (priority, handle) so that it is found
 * again after a restart and replaced in place. Priority 1 runs before any other filter. */
#define TC_DISPATCHER_PRIORITY 1
#define TC_DISPATCHER_HANDLE   0xbfd

/* bpf/tc_dispatcher.bpf.c's .rodata (bpfman's TC dispatcher layout). Verdict v is bit v + 1,
 * since TC verdicts start at TC_ACT_UNSPEC (-1). */
struct tc_dispatcher_config {
	uint8_t num_progs_enabled;
	uint32_t chain_call_actions[TC_DISPATCHER_SLOTS];
	uint32_t run_prios[TC_DISPATCHER_SLOTS];
};
_Static_assert(sizeof(struct tc_dispatcher_config) == 84, "TC dispatcher config layout");

/* The TC mask of proceed_on values (validated); none given → pipe + dispatcher_return. */
uint32_t tc_proceed_on_mask(const int32_t *values, size_t n);

/* The TC dispatcher config for chain (in run order, at most TC_DISPATCHER_SLOTS). */
int tc_dispatcher_config_build(const struct link_record *chain, size_t n,
			       struct tc_dispatcher_config *ret, struct error *err);

/* The name of a TC hook's directory under <bpffs>/tc: dispatcher_hook_name() + "_ingress" or
 * "_egress". */
int tc_dispatcher_hook_name(const struct link_record *hook, char *buf, size_t size);

struct core;
struct program_record;

/* attach_net.c: whether TC attachments on ifindex go through TCX (measured, not by version). */
bool tc_has_tcx(int ifindex, const char *direction);

/* dispatcher_tc.c, like the XDP ones: spec is validated, its ifindex set, and the caller is in
 * spec's network namespace. */
int tc_dispatcher_attach(struct core *c, const struct program_record *prog,
			 const struct link_record *spec, uint32_t *ret_link_id, struct error *err);
int tc_dispatcher_detach(struct core *c, const struct link_record *l, struct error *err);
/* Whether l is a TC link whose pin is an extension's link into a TC dispatcher. */
bool tc_link_is_dispatched(const struct link_record *l);

/* ---- Shared by both dispatchers (dispatcher_common.c); kind is "XDP" or "TC" ---- */

struct program_record;

/* The test hook of docs/dispatchers.md: true (err set) when BPFD_TEST_FAIL_REBUILD=step. */
bool dispatcher_inject_failure(const char *kind, const char *step, struct error *err);
char *dispatcher_path_in(const char *dir, const char *name);
uint32_t dispatcher_prog_id_of_fd(int fd);
/* Whether l's interface still exists under the same index and name. */
bool dispatcher_iface_exists(const struct link_record *l);
/* Loads prog again as an extension (freplace) of slot `slot` of the dispatcher disp_fd,
 * sharing prog's pinned maps and applying its global data; *ret_fd owns the new program. */
int dispatcher_load_extension(const char *kind, const struct program_record *prog, int disp_fd,
			      unsigned slot, int *ret_fd, struct error *err);
/* BTF ids of prog0..prog<n_slots-1> in the loaded dispatcher, for attaching extensions. */
int dispatcher_slot_btf_ids(const char *kind, int disp_fd, uint32_t *ids, unsigned n_slots,
			    struct error *err);

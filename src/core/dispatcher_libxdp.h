/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libxdp's view of bpfd's XDP chains (docs/dispatchers.md, "xdp-loader"): the pins through which
 * libxdp (xdp-loader status) finds the programs in a dispatcher's slots.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LIBXDP_VIEW_PREFIX "dispatch-"

/* "dispatch-<ifindex>-<dispatcher program id>", libxdp's name for a dispatcher's directory under
 * <bpffs>/xdp; with_new adds the "-new" of the one being written. */
int libxdp_view_dir_name(int ifindex, uint32_t disp_id, bool with_new, char *buf, size_t size);

/* Whether name (an entry of <bpffs>/xdp) is a view directory: then bpfd's own hook directories
 * reconcile leaves it alone. */
bool libxdp_view_owns_name(const char *name);

/* Parses a complete view directory's name; false for other names and for a "-new" one. */
bool libxdp_view_parse_name(const char *name, int *ret_ifindex, uint32_t *ret_disp_id);

/* Whether the view directory name must go: a "-new" leftover, or one whose dispatcher is not in
 * live[0..n_live) (the dispatchers that run bpfd's chains now). */
bool libxdp_view_is_stale(const char *name, const uint32_t *live, size_t n_live);

struct core;
struct link_record;

/*
 * Makes libxdp's view match what runs: for hook (may be NULL), writes the directory of the
 * dispatcher that runs its chain now, one prog<N>-prog and prog<N>-link per slot; then removes
 * every view directory whose dispatcher no longer runs a bpfd chain. Without a hook, writes the
 * views of chains that have none (at start: chains from before bpfd wrote views, or a write that
 * failed). Called after a new revision went live, a dispatcher was removed, or a hook was
 * forgotten, and at start. Takes libxdp's lock on
 * <bpffs>/xdp. A failure is logged, never returned: the chain itself is already live.
 */
void libxdp_view_sync(struct core *c, const struct link_record *hook);

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

/* Both dispatchers have ten slots; the shared rebuild sizes its arrays with this. */
#define DISPATCHER_SLOTS 10
_Static_assert(XDP_DISPATCHER_SLOTS == DISPATCHER_SLOTS && TC_DISPATCHER_SLOTS == DISPATCHER_SLOTS,
	       "one slot count for both dispatchers");

struct bpf_object;

/* The test hook of docs/dispatchers.md: true (err set) when BPFD_TEST_FAIL_REBUILD=step. */
bool dispatcher_inject_failure(const char *kind, const char *step, struct error *err);
void dispatcher_inject_crash(const char *kind, const char *step);
char *dispatcher_path_in(const char *dir, const char *name);
uint32_t dispatcher_prog_id_of_fd(int fd);
/* Whether l's interface still exists under the same index and name. */
bool dispatcher_iface_exists(const struct link_record *l);
/* Whether l (of bpfd type `type`) is pinned as an extension's (freplace) link into a dispatcher. */
bool dispatcher_link_is_dispatched(const struct link_record *l, int type);
/* Loads prog again as an extension (freplace) of slot `slot` of the dispatcher disp_fd,
 * sharing prog's pinned maps and applying its global data; *ret_fd owns the new program. */
int dispatcher_load_extension(const char *kind, const struct program_record *prog, int disp_fd,
			      unsigned slot, int *ret_fd, struct error *err);
/* BTF ids of prog0..prog<n_slots-1> in the loaded dispatcher, for attaching extensions. */
int dispatcher_slot_btf_ids(const char *kind, int disp_fd, uint32_t *ids, unsigned n_slots,
			    struct error *err);
/* Loads an embedded dispatcher object (elf, program prog_name) with cfg as its .rodata;
 * *ret_obj owns it and *ret_fd is the program's. */
int dispatcher_load_program(const char *kind, const char *prog_name, const void *elf,
			    size_t elf_size, const void *cfg, size_t cfg_size,
			    struct bpf_object **ret_obj, int *ret_fd, struct error *err);

/*
 * One rebuild for both hooks (dispatcher_chain.c; docs/dispatchers.md, "Every change is a
 * new revision"):
 * dispatcher_rebuild() does the steps and the undoing; a struct dispatcher_ops says how the
 * kind's dispatcher is loaded and put on, swapped on and taken off its hook.
 */
struct dispatcher_slot {
	struct link_record rec; /* borrowed from the chain, except kernel_link_id and pin_path */
	int ext_fd;
	int link_fd;
	char *tmp_pin;
	char *final_pin;
};

struct dispatcher_rebuild {
	struct core *c;
	const struct dispatcher_ops *ops;
	const struct link_record *hook;
	char *dir;	/* the hook's directory: <bpffs>/<ops->subdir>/<hook name> */
	char *disp_pin; /* dir/dispatcher: the running revision */
	char *disp_tmp; /* dir/dispatcher_new: the new one until it is committed */
	struct dispatcher_slot slots[DISPATCHER_SLOTS];
	size_t n;
	struct bpf_object *disp_obj; /* the new revision */
	int disp_fd;
	int old_disp_fd; /* the running revision (open_current), -EBADF for none */
	bool replace;	 /* open_current: bpfd's dispatcher is on the hook; swap replaces it */
	int link_fd;	 /* XDP: the interface's link to the dispatcher (-EBADF for TC) */
	char *link_pin;	 /* XDP: its pin, dir/link */
};

struct dispatcher_ops {
	const char *kind;   /* "XDP", "TC": messages and the test hook's kind */
	int type;	    /* BPFD_PROG_XDP, BPFD_PROG_TC */
	const char *subdir; /* the hooks' directories live in <bpffs>/<subdir> */
	int (*hook_name)(const struct link_record *hook, char *buf, size_t size);
	/* Step 1: builds the config of chain[0..n) (run order) and loads a dispatcher. */
	int (*load)(const struct link_record *chain, size_t n, struct bpf_object **ret_obj,
		    int *ret_fd, struct error *err);
	/* Before step 1: opens what runs on the hook (old_disp_fd, replace), refuses a hook used
	 * outside bpfd, prepares it for a first revision. */
	int (*open_current)(struct dispatcher_rebuild *b, struct error *err);
	/* Step 4: puts disp_fd on the hook, atomically replacing old_disp_fd when b->replace. */
	int (*swap)(struct dispatcher_rebuild *b, struct error *err);
	/* The commit after the swap failed: the previous revision back on the hook (or nothing
	 * there when this was the first). */
	void (*swap_back)(struct dispatcher_rebuild *b);
	/* The last program left: the dispatcher off the hook (the directory is removed after). */
	void (*remove)(struct dispatcher_rebuild *b);
	/* Optional. The hook's directory was removed (last program gone, or a first revision
	 * failed): what the kind set up for the hook besides (TC: bpfd's clsact qdisc). */
	void (*released)(struct core *c, const struct link_record *hook);
	/* Optional. A new revision is live on hook, or its dispatcher was removed. */
	void (*changed)(struct core *c, const struct link_record *hook);
	/* Optional. The interface of l vanished and l was forgotten; n_left links of its chain
	 * are left (0: the hook's directory was removed too). */
	void (*forgotten)(struct core *c, const struct link_record *l, size_t n_left);
	/* Reconcile at start: whether an entry of <bpffs>/<subdir> is a hook directory; */
	bool (*is_hook_dir)(const char *name);
	/* takes the dispatcher of an unused hook directory off its hook and logs it (the
	 * directory is removed after); */
	void (*remove_orphan)(struct core *c, const char *dir, const char *name);
	/* optional, after every directory was seen. */
	void (*reconciled)(struct core *c);
};

char *dispatcher_hook_dir(const struct dispatcher_ops *ops, struct core *c,
			  const struct link_record *hook);
/*
 * Makes chain[0..n) (in run order) the hook's chain. new_idx < n names the link being attached
 * (chain[new_idx] is its spec, new_prog its program; its id must be allocated); removed (may
 * be NULL) is a link leaving the chain. A failure leaves the previous revision running and
 * the store unchanged.
 */
int dispatcher_rebuild(const struct dispatcher_ops *ops, struct core *c,
		       const struct link_record *hook, const struct link_record *chain, size_t n,
		       size_t new_idx, const struct program_record *new_prog,
		       const struct link_record *removed, struct error *err);
/* spec is validated, its ifindex set, and the caller is in spec's network namespace. */
int dispatcher_attach(const struct dispatcher_ops *ops, struct core *c,
		      const struct program_record *prog, const struct link_record *spec,
		      uint32_t *ret_link_id, struct error *err);
/* Takes l out of its chain (a rebuild, or the dispatcher removed with the last link); forgets
 * it when its interface or namespace is gone. */
int dispatcher_detach(const struct dispatcher_ops *ops, struct core *c, const struct link_record *l,
		      struct error *err);
/* l's namespace is known to be gone (its path may even name another namespace now): forgets l
 * and, with the chain's last link, the hook's pins, without entering the namespace or
 * rebuilding. */
int dispatcher_forget(const struct dispatcher_ops *ops, struct core *c, const struct link_record *l,
		      struct error *err);
/* At start: hook directories no link record uses go (with what runs on their hook); in the
 * others, the temporary pins of an interrupted rebuild. */
void dispatcher_reconcile(const struct dispatcher_ops *ops, struct core *c);
/* At start, before any link is reconciled: a rebuild interrupted by a crash is finished (it was
 * committed) or undone (it was not), so the hooks run what the store names. */
void dispatcher_recover(const struct dispatcher_ops *ops, struct core *c);

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bpfd's core: everything that talks to the kernel. It knows nothing of gRPC or protobuf: it
 * takes plain C structs and returns a negative errno plus a message (struct error).
 *
 * Threading: loader__open() parses untrusted bytes (the ELF file) and runs on a request
 * thread without capabilities. Every core__*() function runs on the one privileged thread.
 *
 * bpfd keeps no kernel fds between calls: every program, link and map lives in its pin on
 * bpffs (docs/pins.md) and in the state store, so a restarted bpfd finds everything again.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "access.h"
#include "error.h"
#include "store.h"

/* BpfmanProgramType (API.md): the kind of program, also the kind of attachment. */
enum bpfd_prog_type {
	BPFD_PROG_XDP = 0,
	BPFD_PROG_TC = 1,
	BPFD_PROG_TRACEPOINT = 2,
	BPFD_PROG_KPROBE = 3,
	BPFD_PROG_UPROBE = 4,
	BPFD_PROG_FENTRY = 5,
	BPFD_PROG_FEXIT = 6,
	BPFD_PROG_TCX = 7,
	BPFD_PROG_LSM = 8,
	_BPFD_PROG_MAX,
};

/* "xdp", "tc", ...; NULL when out of range. */
const char *bpfd_prog_type_to_string(int type);

#define BPFD_PRIORITY_MIN 1
#define BPFD_PRIORITY_MAX 1000
#define BPFD_PRIORITY_DEFAULT 1000

struct core_config {
	const char *bpffs;     /* bpffs mount point owned by bpfd, e.g. /run/bpfd/fs */
	const char *state_dir; /* holds state.db */
	gid_t pin_gid;	       /* group of map pins (group bpfd), (gid_t)-1 to keep root's */
};

struct core;

/* Mounts bpffs if needed, opens the store and reconciles it with the pins (logging every
 * repair). Privileged thread. */
int core__new(const struct core_config *config, struct core **ret, struct error *err);
void core__free(struct core *c);

/* ---- Load ---- */

struct load_program_spec {
	const char *name;      /* function name in the object */
	int32_t type;	       /* enum bpfd_prog_type */
	const char *attach_fn; /* fentry/fexit target, lsm hook; NULL otherwise */
};

struct load_spec {
	const char *path;
	const struct load_program_spec *programs;
	size_t n_programs;
	const struct kv_pair *metadata;
	size_t n_metadata;
	const struct kv_pair *global_data;
	size_t n_global_data;
	uint32_t map_owner_id; /* 0: the new programs own their maps */
	const char *uuid;      /* may be NULL */
	uid_t owner_uid;
	/* When set, path is opened only if this caller could read it (access.h). */
	const struct caller_cred *caller;
};

/* An opened, validated, not yet loaded object. */
struct loader;

/* Opens and validates spec->path and applies global data. Unprivileged thread. */
int loader__open(const struct load_spec *spec, struct loader **ret, struct error *err);
void loader__free(struct loader *l);

/* ---- Kernel view of a program ---- */

struct kernel_prog_info {
	uint32_t id;
	char name[16];
	uint32_t type; /* enum bpf_prog_type */
	char loaded_at[40];
	char tag[17];
	bool gpl_compatible;
	uint32_t *map_ids;
	uint32_t n_map_ids;
	uint32_t btf_id;
	uint32_t bytes_xlated;
	bool jited;
	uint32_t bytes_jited;
	uint32_t bytes_memlock;
	uint32_t verified_insns;
};

/* A program as List/Get/Load report it: the kernel's view always, bpfd's when managed. */
struct program_view {
	bool managed;
	struct program_record record; /* valid when managed */
	uint32_t *link_ids;	      /* bpfd link ids, attach order */
	size_t n_link_ids;
	uint32_t *map_used_by; /* ids of the programs sharing record.map_pin_path */
	size_t n_map_used_by;
	struct kernel_prog_info kernel;
};
void program_view__clear(struct program_view *v);
void program_views_free(struct program_view *v, size_t n);

/* Loads every program of l, pins programs and maps, records them. On failure nothing is left
 * behind (no pin, no record, no program). Privileged thread; takes l in every case. */
int core__load(struct core *c, struct loader *l, struct program_view **ret, size_t *ret_n,
	       struct error *err);

/* ---- Unload, List, Get ---- */

/* Detaches every link of the program, removes its pins and record (and the shared maps when
 * it was their last user). caller_uid 0 may unload anything; others only what they own. */
int core__unload(struct core *c, uint32_t id, uid_t caller_uid, struct error *err);

struct list_filter {
	bool has_kernel_type;
	uint32_t kernel_type;
	bool managed_only;
	const struct kv_pair *match_metadata;
	size_t n_match_metadata;
};
int core__list(struct core *c, const struct list_filter *f, struct program_view **ret,
	       size_t *ret_n, struct error *err);
int core__get(struct core *c, uint32_t id, struct program_view *ret, struct error *err);

/* ---- Attach, Detach, links ---- */

/* spec is a link_record with the request's fields (id, seq, kernel_link_id, pin_path are
 * ignored; priority 0 means default). */
int core__attach(struct core *c, uint32_t prog_id, const struct link_record *spec,
		 uint32_t *ret_link_id, struct error *err);
int core__detach(struct core *c, uint32_t link_id, uid_t caller_uid, struct error *err);

struct link_view {
	struct link_record record;
	int32_t position; /* place in its chain, 0-based; -1 when not a chain */
};
void link_views_free(struct link_view *v, size_t n);
int core__list_links(struct core *c, uint32_t prog_id, struct link_view **ret, size_t *ret_n,
		     struct error *err);
int core__get_link(struct core *c, uint32_t link_id, struct link_view *ret, struct error *err);

/* ---- Interfaces and network namespaces that disappear (link_watch.c) ---- */

/* Starts watching rtnetlink in bpfd's own network namespace and in every namespace that has
 * links, and forgets (logging each) the links whose interface or namespace vanished while bpfd
 * was down. Returns an fd (owned by the core) that polls readable when
 * core__link_watch_handle() has work, or a negative errno: nothing is watched then. */
int core__link_watch_start(struct core *c);
/* Handles what the fd reported: forgets the links of deleted interfaces and namespaces. */
void core__link_watch_handle(struct core *c);
/* After a batch of operations: opens or closes namespaces' sockets to match the links in the
 * store (cheap when the store did not change). */
void core__link_watch_sync(struct core *c);

/* ---- Features (measured once, reported by Version and doctor) ---- */

struct feature {
	const char *name;
	bool available;
	char detail[160];
};
/* Returns the probed features (static storage, probed on first call). */
const struct feature *core__features(struct core *c, size_t *ret_n);

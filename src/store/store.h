/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bpfd's state store: the only code that speaks SQL. One SQLite file in WAL mode with a
 * versioned schema (schema.sql, PRAGMA user_version). Layout contract: docs/state-store.md.
 *
 * Records are plain C structs; strings are malloc'd and owned by the record; *_clear() frees
 * everything a record owns and zeroes it (NULL-safe, idempotent). All functions return 0 or a
 * negative errno: -ENOENT for an unknown id, -EEXIST for a duplicate id, -EINVAL for a record the
 * schema refuses (id 0, NULL name or key), -EIO for SQLite failures (the SQLite message is
 * logged at debug level); the full list is in docs/state-store.md. Output parameters are
 * untouched on failure. Every operation is atomic on its own, also inside a transaction.
 * Metadata and global data come back ordered by key.
 *
 * A struct store is used by one thread only (bpfd's privileged core thread).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct store;

/* A name and a value. For metadata the value is a NUL-terminated string (value_len excludes
 * the NUL); for global data it is raw bytes. Either way value has value_len bytes plus a NUL. */
struct kv_pair {
	char *key;
	uint8_t *value;
	size_t value_len;
};

struct program_record {
	uint32_t id;		/* kernel program id */
	char *name;		/* function name in the object */
	int32_t type;		/* BpfmanProgramType (API.md) */
	uint32_t kernel_type;	/* enum bpf_prog_type */
	char *path;		/* bytecode file the program was loaded from */
	char *attach_fn;	/* fentry/fexit target function, lsm hook; NULL otherwise */
	char *section;		/* ELF section, e.g. "kretprobe/do_unlinkat"; may be NULL */
	char *pin_path;		/* the program's pin on bpffs */
	char *map_pin_path;	/* directory holding the pinned maps */
	uint32_t map_owner_id;	/* 0: the program owns map_pin_path; else the owner's id */
	uid_t owner_uid;	/* the caller that loaded it */
	char *uuid;		/* from LoadRequest.uuid; may be NULL */
	int64_t created_usec;	/* CLOCK_REALTIME, microseconds */
	struct kv_pair *metadata;
	size_t n_metadata;
	struct kv_pair *global_data;
	size_t n_global_data;
};

struct link_record {
	uint32_t id;		 /* bpfd-issued handle (store__allocate_link_id) */
	uint32_t prog_id;	 /* kernel program id of the attached program */
	int32_t type;		 /* BpfmanProgramType of the attachment */
	uint32_t kernel_link_id; /* changes underneath; never exposed as the handle */
	char *pin_path;		 /* the link's pin on bpffs; may be NULL */
	uid_t owner_uid;
	uint64_t seq; /* attach order, assigned by store__put_link when 0: strictly increasing */
	/* network hooks (XDP, TC, TCX) */
	char *iface;
	int32_t ifindex;
	int32_t priority;
	char *direction; /* "ingress" / "egress"; NULL for XDP */
	int32_t *proceed_on;
	size_t n_proceed_on;
	char *netns; /* path; NULL for the daemon's own namespace */
	/* tracing hooks */
	char *tracepoint; /* "category/name" */
	char *fn_name;	  /* kprobe/uprobe function; NULL when only an offset was given */
	uint64_t offset;
	char *target; /* uprobe: resolved path of the binary or library */
	int32_t pid;  /* uprobe pid filter; 0: all processes */
	bool retprobe;
	struct kv_pair *metadata;
	size_t n_metadata;
};

void kv_pairs_free(struct kv_pair *pairs, size_t n);
void program_record__clear(struct program_record *p);
void link_record__clear(struct link_record *l);
void program_records_free(struct program_record *p, size_t n);
void link_records_free(struct link_record *l, size_t n);

/* Opens or creates the database at path (WAL, foreign keys on) and migrates it to the
 * current schema version. A database from a newer bpfd (higher user_version) is -EPROTO; a file
 * that is not a bpfd state database is -EMEDIUMTYPE. A new file is created with mode 0600. */
int store__open(const char *path, struct store **ret);
void store__free(struct store *s);
/* The schema version this build writes. */
int store__schema_version(void);

/* Transactions nest by counting; only the outermost commit/rollback reaches SQLite. A rollback
 * at an inner level dooms the transaction: the outermost commit then rolls back and returns
 * -ECANCELED. Unbalanced commit/rollback is -EINVAL. */
int store__begin(struct store *s);
int store__commit(struct store *s);
int store__rollback(struct store *s);

/* A number that grows with every row this handle writes, rolled back or not, and never
 * shrinks: whoever derives something from the records (link_watch.c) compares it with the
 * value of its last derivation instead of reading everything again. Cheap; 0 for NULL. */
uint64_t store__change_count(struct store *s);

int store__put_program(struct store *s, const struct program_record *p); /* insert only */
/* get_*: *ret is overwritten, not freed. */
int store__get_program(struct store *s, uint32_t id, struct program_record *ret);
/* All programs, ordered by id. An empty list is NULL, 0. */
int store__list_programs(struct store *s, struct program_record **ret, size_t *ret_n);
/* Deletes the program; -EBUSY while links of it exist. */
int store__delete_program(struct store *s, uint32_t id);

/* Returns a fresh link id never handed out before by this database (1, 2, 3, ...), nor used by
 * store__put_link(); -ENOSPC when the 32-bit id space is exhausted. */
int store__allocate_link_id(struct store *s, uint32_t *ret);
/* Inserts, or replaces the row with the same id (keeping its seq when l->seq is 0). When
 * inserting with l->seq == 0 a new seq is assigned. ret_seq (may be NULL) gets the seq.
 * A replace replaces proceed_on and metadata too. A non-zero l->seq is stored as given (-EEXIST
 * if another link has it) and later assigned seqs sort after it. -ENOENT: unknown prog_id. */
int store__put_link(struct store *s, const struct link_record *l, uint64_t *ret_seq);
int store__get_link(struct store *s, uint32_t id, struct link_record *ret);
/* Links of one program (prog_id != 0) or all links (prog_id == 0), ordered by seq. */
int store__list_links(struct store *s, uint32_t prog_id, struct link_record **ret, size_t *ret_n);
int store__delete_link(struct store *s, uint32_t id);

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The state store on SQLite. Layout contract: docs/state-store.md; schema: schema.sql.
 *
 * Threading: the connection is opened with SQLITE_OPEN_NOMUTEX, so SQLite does no locking of its
 * own around it. That is correct only because one thread uses a struct store: bpfd's privileged
 * core thread. Never share a handle between threads.
 *
 * Every statement is a constant string with bound parameters; no SQL is ever assembled at run
 * time. Each public operation that touches more than one row runs inside a SAVEPOINT, so it is
 * atomic on its own and a failed operation leaves a caller's enclosing transaction intact.
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(sqlite3_stmt *, sqlite3_finalize);
#define _cleanup_stmt_ _cleanup_(sqlite3_finalizep)

/* PRAGMA application_id of a bpfd state database: 'bpfd' in ASCII. file(1) shows it. */
#define STORE_APPLICATION_ID 0x62706664
/* A writer holding the lock (only ever a human with the sqlite3 CLI) is waited for this long. */
#define STORE_BUSY_TIMEOUT_MS 5000

/*
 * Schema migrations, in order: migrations[v] takes a database from user_version v to v + 1 and
 * ends by setting that version. A fresh database runs all of them. Released steps are frozen:
 * change the schema by appending a step and updating schema.sql (the full current schema, which
 * test-store checks against what these steps produce) and docs/state-store.md.
 */
static const char *const migrations[] = {
	/* 0 → 1: the initial schema. */
	"PRAGMA application_id = 1651533412;\n"
	"CREATE TABLE counters (\n"
	"	name TEXT PRIMARY KEY NOT NULL,\n"
	"	value INTEGER NOT NULL CHECK (value >= 0)\n"
	") STRICT, WITHOUT ROWID;\n"
	"INSERT INTO counters (name, value) VALUES ('link_id', 0), ('link_seq', 0);\n"
	"CREATE TABLE programs (\n"
	"	id INTEGER PRIMARY KEY CHECK (id BETWEEN 1 AND 4294967295),\n"
	"	name TEXT NOT NULL,\n"
	"	type INTEGER NOT NULL,\n"
	"	kernel_type INTEGER NOT NULL,\n"
	"	path TEXT,\n"
	"	attach_fn TEXT,\n"
	"	section TEXT,\n"
	"	pin_path TEXT,\n"
	"	map_pin_path TEXT,\n"
	"	map_owner_id INTEGER NOT NULL DEFAULT 0,\n"
	"	owner_uid INTEGER NOT NULL,\n"
	"	uuid TEXT,\n"
	"	created_usec INTEGER NOT NULL\n"
	") STRICT;\n"
	"CREATE TABLE program_metadata (\n"
	"	program_id INTEGER NOT NULL REFERENCES programs (id) ON DELETE CASCADE,\n"
	"	key TEXT NOT NULL,\n"
	"	value TEXT NOT NULL,\n"
	"	PRIMARY KEY (program_id, key)\n"
	") STRICT, WITHOUT ROWID;\n"
	"CREATE TABLE program_global_data (\n"
	"	program_id INTEGER NOT NULL REFERENCES programs (id) ON DELETE CASCADE,\n"
	"	name TEXT NOT NULL,\n"
	"	value BLOB NOT NULL,\n"
	"	PRIMARY KEY (program_id, name)\n"
	") STRICT, WITHOUT ROWID;\n"
	"CREATE TABLE links (\n"
	"	id INTEGER PRIMARY KEY CHECK (id BETWEEN 1 AND 4294967295),\n"
	"	prog_id INTEGER NOT NULL REFERENCES programs (id) ON DELETE RESTRICT,\n"
	"	type INTEGER NOT NULL,\n"
	"	kernel_link_id INTEGER NOT NULL DEFAULT 0,\n"
	"	pin_path TEXT,\n"
	"	owner_uid INTEGER NOT NULL,\n"
	"	seq INTEGER NOT NULL UNIQUE CHECK (seq > 0),\n"
	"	iface TEXT,\n"
	"	ifindex INTEGER NOT NULL DEFAULT 0,\n"
	"	priority INTEGER NOT NULL DEFAULT 0,\n"
	"	direction TEXT,\n"
	"	netns TEXT,\n"
	"	tracepoint TEXT,\n"
	"	fn_name TEXT,\n"
	"	probe_offset INTEGER NOT NULL DEFAULT 0,\n"
	"	target TEXT,\n"
	"	pid INTEGER NOT NULL DEFAULT 0,\n"
	"	retprobe INTEGER NOT NULL DEFAULT 0 CHECK (retprobe IN (0, 1))\n"
	") STRICT;\n"
	"CREATE INDEX links_by_prog ON links (prog_id, seq);\n"
	"CREATE TABLE link_proceed_on (\n"
	"	link_id INTEGER NOT NULL REFERENCES links (id) ON DELETE CASCADE,\n"
	"	position INTEGER NOT NULL CHECK (position >= 0),\n"
	"	value INTEGER NOT NULL,\n"
	"	PRIMARY KEY (link_id, position)\n"
	") STRICT, WITHOUT ROWID;\n"
	"CREATE TABLE link_metadata (\n"
	"	link_id INTEGER NOT NULL REFERENCES links (id) ON DELETE CASCADE,\n"
	"	key TEXT NOT NULL,\n"
	"	value TEXT NOT NULL,\n"
	"	PRIMARY KEY (link_id, key)\n"
	") STRICT, WITHOUT ROWID;\n"
	"PRAGMA user_version = 1;\n",
};

struct store {
	sqlite3 *db;
	unsigned depth; /* store__begin() nesting */
	bool doomed;	/* an inner store__rollback() happened: the outermost commit rolls back */
	/* The highest link id this handle handed out. A transaction that allocated an id may be
	 * rolled back after the id was used for a pin; never hand it out again in this process. */
	uint32_t last_link_id;
};

int store__schema_version(void)
{
	return (int)ELEMENTSOF(migrations);
}

/* Maps a SQLite result code to a negative errno and logs SQLite's message at debug level. */
static int sqlite_error(sqlite3 *db, int rc, const char *what)
{
	int r;

	switch (rc) {
	case SQLITE_CONSTRAINT_PRIMARYKEY:
	case SQLITE_CONSTRAINT_UNIQUE:
		r = -EEXIST;
		break;
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		/* Inserts are the only statements that can break a reference (deletes check
		 * first): the row referred to does not exist. */
		r = -ENOENT;
		break;
	case SQLITE_NOMEM:
		r = -ENOMEM;
		break;
	case SQLITE_FULL:
		r = -ENOSPC;
		break;
	case SQLITE_TOOBIG:
		r = -E2BIG;
		break;
	case SQLITE_READONLY:
	case SQLITE_READONLY_DBMOVED:
		r = -EROFS;
		break;
	case SQLITE_NOTADB:
		r = -EMEDIUMTYPE;
		break;
	default:
		if ((rc & 0xff) == SQLITE_CONSTRAINT)
			r = -EINVAL; /* NOT NULL, CHECK: a record the schema does not allow */
		else if ((rc & 0xff) == SQLITE_IOERR || (rc & 0xff) == SQLITE_CANTOPEN)
			r = sqlite3_system_errno(db) > 0 ? -sqlite3_system_errno(db) : -EIO;
		else
			r = -EIO;
	}
	log_debug("store: %s: %s (SQLite code %d)", what, db ? sqlite3_errmsg(db) : "no handle",
		  rc);
	return r;
}

static int store_exec(sqlite3 *db, const char *sql)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return sqlite_error(db, rc, sql);
	return 0;
}

static int store_prepare(struct store *s, const char *sql, sqlite3_stmt **ret)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sqlite_error(s->db, rc, sql);
	*ret = st;
	return 0;
}

/* Returns 1 for a row, 0 when the statement is done. */
static int step_row(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return sqlite_error(sqlite3_db_handle(st), rc, sqlite3_sql(st));
}

/* Runs a statement that returns no rows (or whose rows were read already) to completion. */
static int step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_DONE)
		return 0;
	return sqlite_error(sqlite3_db_handle(st), rc, sqlite3_sql(st));
}

/* Parameters are named in the SQL (":id") so a statement and its binds cannot drift apart. */
static int bind_index(sqlite3_stmt *st, const char *name)
{
	int i = sqlite3_bind_parameter_index(st, name);

	if (i == 0) {
		log_debug("store: no parameter %s in: %s", name, sqlite3_sql(st));
		return -EINVAL;
	}
	return i;
}

static int bind_check(sqlite3_stmt *st, int rc, const char *name)
{
	if (rc != SQLITE_OK)
		return sqlite_error(sqlite3_db_handle(st), rc, name);
	return 0;
}

static int bind_int64(sqlite3_stmt *st, const char *name, int64_t v)
{
	int i = bind_index(st, name);

	if (i < 0)
		return i;
	return bind_check(st, sqlite3_bind_int64(st, i, v), name);
}

/* NULL binds SQL NULL. */
static int bind_str(sqlite3_stmt *st, const char *name, const char *v)
{
	int i = bind_index(st, name);

	if (i < 0)
		return i;
	if (!v)
		return bind_check(st, sqlite3_bind_null(st, i), name);
	return bind_check(st, sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC), name);
}

/* Never binds NULL: an empty value is a zero-length TEXT or BLOB. */
static int bind_bytes(sqlite3_stmt *st, const char *name, const uint8_t *v, size_t n, bool blob)
{
	const void *data = v ? (const void *)v : "";
	int i = bind_index(st, name);

	if (i < 0)
		return i;
	if (blob)
		return bind_check(st, sqlite3_bind_blob64(st, i, data, n, SQLITE_STATIC), name);
	return bind_check(st, sqlite3_bind_text64(st, i, data, n, SQLITE_STATIC, SQLITE_UTF8),
			  name);
}

/* Copies a TEXT or BLOB column with a terminating NUL; *ret_len excludes it. */
static int column_dup(sqlite3_stmt *st, int col, bool blob, uint8_t **ret, size_t *ret_len)
{
	const void *data = blob ? sqlite3_column_blob(st, col) : sqlite3_column_text(st, col);
	int n = sqlite3_column_bytes(st, col);
	uint8_t *copy;

	/* Only an empty BLOB is NULL; anything else NULL means SQLite ran out of memory. */
	if (!data && (n > 0 || !blob))
		return -ENOMEM;
	copy = malloc((size_t)n + 1);
	if (!copy)
		return -ENOMEM;
	if (n > 0)
		memcpy(copy, data, (size_t)n);
	copy[n] = 0;
	*ret = copy;
	if (ret_len)
		*ret_len = (size_t)n;
	return 0;
}

/* SQL NULL becomes a NULL string. */
static int column_str(sqlite3_stmt *st, int col, char **ret)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL) {
		*ret = NULL;
		return 0;
	}
	return column_dup(st, col, false, (uint8_t **)ret, NULL);
}

static int query_int(struct store *s, const char *sql, int64_t *ret)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r;

	r = store_prepare(s, sql, &st);
	if (r < 0)
		return r;
	r = step_row(st);
	if (r < 0)
		return r;
	if (r == 0) {
		log_debug("store: %s returned nothing", sql);
		return -EOPNOTSUPP;
	}
	*ret = sqlite3_column_int64(st, 0);
	return 0;
}

/* ---- Records ---- */

void kv_pairs_free(struct kv_pair *pairs, size_t n)
{
	for (size_t i = 0; pairs && i < n; i++) {
		free(pairs[i].key);
		free(pairs[i].value);
	}
	free(pairs);
}

void program_record__clear(struct program_record *p)
{
	if (!p)
		return;
	free(p->name);
	free(p->path);
	free(p->attach_fn);
	free(p->section);
	free(p->pin_path);
	free(p->map_pin_path);
	free(p->uuid);
	kv_pairs_free(p->metadata, p->n_metadata);
	kv_pairs_free(p->global_data, p->n_global_data);
	*p = (struct program_record){};
}

void link_record__clear(struct link_record *l)
{
	if (!l)
		return;
	free(l->pin_path);
	free(l->iface);
	free(l->direction);
	free(l->proceed_on);
	free(l->netns);
	free(l->tracepoint);
	free(l->fn_name);
	free(l->target);
	kv_pairs_free(l->metadata, l->n_metadata);
	*l = (struct link_record){};
}

void program_records_free(struct program_record *p, size_t n)
{
	for (size_t i = 0; p && i < n; i++)
		program_record__clear(&p[i]);
	free(p);
}

void link_records_free(struct link_record *l, size_t n)
{
	for (size_t i = 0; l && i < n; i++)
		link_record__clear(&l[i]);
	free(l);
}

/* Grows *array (of *n elements of size) by one zeroed element; returns it. */
static void *array_append(void **array, size_t *n, size_t size)
{
	uint8_t *a;

	a = reallocarray(*array, *n + 1, size);
	if (!a)
		return NULL;
	*array = a;
	memset(a + *n * size, 0, size);
	return a + (*n)++ * size;
}

/* ---- Transactions ---- */

/*
 * Every public operation runs between op_begin() and op_end(). Outside a transaction the
 * savepoint is a transaction of its own; inside one it nests, so a failing operation undoes
 * exactly its own changes and the caller may still commit the rest.
 */
static int op_begin(struct store *s)
{
	/* SQLite rolls a transaction back on its own after some errors (SQLITE_FULL, IOERR);
	 * running on in autocommit mode would commit what the caller meant to be atomic. */
	if (s->depth > 0 && sqlite3_get_autocommit(s->db)) {
		log_debug("store: the enclosing transaction was rolled back by SQLite");
		return -EIO;
	}
	return store_exec(s->db, "SAVEPOINT store_op");
}

static int op_end(struct store *s, int r)
{
	int k;

	if (r >= 0) {
		k = store_exec(s->db, "RELEASE store_op");
		if (k >= 0)
			return r;
		r = k;
	}
	/* Both fail harmlessly when SQLite already rolled everything back. */
	(void)store_exec(s->db, "ROLLBACK TO store_op");
	(void)store_exec(s->db, "RELEASE store_op");
	return r;
}

int store__begin(struct store *s)
{
	int r;

	if (!s)
		return -EINVAL;
	if (s->depth == 0) {
		/* IMMEDIATE takes the write lock now instead of failing to upgrade later. */
		r = store_exec(s->db, "BEGIN IMMEDIATE");
		if (r < 0)
			return r;
		s->doomed = false;
	}
	s->depth++;
	return 0;
}

int store__commit(struct store *s)
{
	int r;

	if (!s || s->depth == 0)
		return -EINVAL;
	if (--s->depth > 0)
		return 0;
	if (sqlite3_get_autocommit(s->db)) {
		log_debug("store: commit: the transaction was rolled back by SQLite");
		s->doomed = false;
		return -EIO;
	}
	if (s->doomed) {
		s->doomed = false;
		(void)store_exec(s->db, "ROLLBACK");
		return -ECANCELED;
	}
	r = store_exec(s->db, "COMMIT");
	if (r < 0 && !sqlite3_get_autocommit(s->db))
		/* COMMIT can fail and leave the transaction open (SQLITE_BUSY): the caller was told
		 * it failed, so do not leave it pending. */
		(void)store_exec(s->db, "ROLLBACK");
	return r;
}

int store__rollback(struct store *s)
{
	if (!s || s->depth == 0)
		return -EINVAL;
	if (--s->depth > 0) {
		s->doomed = true;
		return 0;
	}
	s->doomed = false;
	if (sqlite3_get_autocommit(s->db))
		return 0; /* SQLite already rolled it back */
	return store_exec(s->db, "ROLLBACK");
}

uint64_t store__change_count(struct store *s)
{
	/* SQLite counts every row an INSERT, UPDATE or DELETE of this connection touched. */
	return s ? (uint64_t)sqlite3_total_changes64(s->db) : 0;
}

/* ---- Open, migrate, free ---- */

void store__free(struct store *s)
{
	if (!s)
		return;
	if (s->db && !sqlite3_get_autocommit(s->db))
		(void)store_exec(s->db, "ROLLBACK");
	/* _v2: never leaves the handle behind, even if a statement were still alive. */
	sqlite3_close_v2(s->db);
	free(s);
}

static inline void store__freep(struct store **s)
{
	store__free(*s);
}

/* Refuses files that are not a bpfd state database or come from a newer bpfd. Reads only, so
 * a foreign file is left exactly as it was. */
static int store_check_identity(struct store *s, int64_t *ret_version)
{
	int64_t app_id, version, n_objects;
	int r;

	r = query_int(s, "PRAGMA application_id", &app_id);
	if (r < 0)
		return r;
	r = query_int(s, "PRAGMA user_version", &version);
	if (r < 0)
		return r;
	if (app_id == 0 && version == 0) {
		/* New (empty) database, or someone else's. */
		r = query_int(s, "SELECT count(*) FROM sqlite_schema", &n_objects);
		if (r < 0)
			return r;
		if (n_objects > 0) {
			log_debug("store: database has tables but is not a bpfd state database");
			return -EMEDIUMTYPE;
		}
	} else if (app_id != STORE_APPLICATION_ID) {
		log_debug("store: application_id %#" PRIx64 " is not bpfd's (%#x)", app_id,
			  STORE_APPLICATION_ID);
		return -EMEDIUMTYPE;
	} else if (version > store__schema_version()) {
		log_debug("store: schema version %" PRIi64 " is newer than this bpfd's (%d)",
			  version, store__schema_version());
		return -EPROTO;
	}
	*ret_version = version;
	return 0;
}

static int store_migrate_locked(struct store *s)
{
	int64_t version, v;
	int r;

	/* Again under the write lock: another process may have migrated meanwhile. */
	r = store_check_identity(s, &version);
	if (r < 0)
		return r;
	for (; version < store__schema_version(); version++) {
		r = store_exec(s->db, migrations[version]);
		if (r < 0)
			return r;
		r = query_int(s, "PRAGMA user_version", &v);
		if (r < 0)
			return r;
		if (v != version + 1) {
			log_debug("store: migration to version %" PRIi64 " left version %" PRIi64,
				  version + 1, v);
			return -EIO;
		}
	}
	return 0;
}

static int store_migrate(struct store *s)
{
	int r;

	r = store_exec(s->db, "BEGIN IMMEDIATE");
	if (r < 0)
		return r;
	r = store_migrate_locked(s);
	if (r < 0) {
		(void)store_exec(s->db, "ROLLBACK");
		return r;
	}
	r = store_exec(s->db, "COMMIT");
	if (r < 0 && !sqlite3_get_autocommit(s->db))
		(void)store_exec(s->db, "ROLLBACK");
	return r;
}

static int store_enable_wal(struct store *s)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	const char *mode;
	int r;

	r = store_prepare(s, "PRAGMA journal_mode = WAL", &st);
	if (r < 0)
		return r;
	r = step_row(st);
	if (r < 0)
		return r;
	mode = r > 0 ? (const char *)sqlite3_column_text(st, 0) : NULL;
	if (!mode || strcmp(mode, "wal") != 0) {
		/* WAL needs shared memory beside the file; DESIGN: fail loudly, never fall back. */
		log_debug("store: cannot use WAL journal mode (got %s)", mode ?: "nothing");
		return -EOPNOTSUPP;
	}
	return 0;
}

static int store_configure(struct store *s)
{
	int64_t version, fk;
	int r;

	/* Extended codes tell a duplicate (-EEXIST) from a NOT NULL violation (-EINVAL). */
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);
	/* The schema is ours alone: no writable_schema tricks, no SQL functions run from it. */
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);

	r = store_exec(s->db, "PRAGMA foreign_keys = ON");
	if (r < 0)
		return r;
	r = query_int(s, "PRAGMA foreign_keys", &fk);
	if (r < 0 && r != -EOPNOTSUPP)
		return r;
	if (r < 0 || fk != 1) {
		/* The -EBUSY and cascade guarantees rest on them: fail rather than go without. */
		log_debug("store: SQLite does not enforce foreign keys");
		return -EOPNOTSUPP;
	}

	r = store_check_identity(s, &version);
	if (r < 0)
		return r;

	r = store_enable_wal(s);
	if (r < 0)
		return r;
	/* In WAL mode NORMAL loses at most the last commits on power loss, never consistency;
	 * the file lives in /run and does not survive power loss anyway. */
	r = store_exec(s->db, "PRAGMA synchronous = NORMAL");
	if (r < 0)
		return r;

	if (version < store__schema_version())
		return store_migrate(s);
	return 0;
}

int store__open(const char *path, struct store **ret)
{
	_cleanup_(store__freep) struct store *s = NULL;
	int fd, rc, r;

	if (!path || !ret)
		return -EINVAL;

	/* Create the file ourselves so that it (and its -wal and -shm files, which SQLite gives
	 * the same mode) is 0600: the state names owners and paths of other users' programs. */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0)
		return negative_errno();
	close(fd);

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	/* SQLite opens its own files with O_CLOEXEC. */
	rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK)
		return sqlite_error(s->db, rc, path);

	r = store_configure(s);
	if (r < 0)
		return r;

	*ret = TAKE_PTR(s);
	return 0;
}

/* ---- Key/value children ---- */

static int pairs_validate(const struct kv_pair *pairs, size_t n)
{
	if (n > 0 && !pairs)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!pairs[i].key || (!pairs[i].value && pairs[i].value_len > 0))
			return -EINVAL;
	return 0;
}

/* sql inserts one pair from :owner, :key, :value. */
static int pairs_insert(struct store *s, const char *sql, uint32_t owner,
			const struct kv_pair *pairs, size_t n, bool blob)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r;

	if (n == 0)
		return 0;
	r = store_prepare(s, sql, &st);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		sqlite3_reset(st);
		r = bind_int64(st, ":owner", owner) ?: bind_str(st, ":key", pairs[i].key)
			?: bind_bytes(st, ":value", pairs[i].value, pairs[i].value_len, blob)
			?: step_done(st);
		if (r < 0)
			return r;
	}
	return 0;
}

/* sql selects key, value for :owner, ordered by key. */
static int pairs_load(struct store *s, const char *sql, uint32_t owner, bool blob,
		      struct kv_pair **ret, size_t *ret_n)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	struct kv_pair *pairs = NULL, *kv;
	size_t n = 0;
	int r;

	r = store_prepare(s, sql, &st);
	if (r < 0)
		return r;
	r = bind_int64(st, ":owner", owner);
	if (r < 0)
		return r;
	while ((r = step_row(st)) > 0) {
		kv = array_append((void **)&pairs, &n, sizeof(*pairs));
		if (!kv) {
			r = -ENOMEM;
			break;
		}
		r = column_str(st, 0, &kv->key);
		if (r < 0)
			break;
		r = column_dup(st, 1, blob, &kv->value, &kv->value_len);
		if (r < 0)
			break;
	}
	if (r < 0) {
		kv_pairs_free(pairs, n);
		return r;
	}
	*ret = pairs;
	*ret_n = n;
	return 0;
}

/* ---- Reading records ---- */

/* What the readers below need to know of a record type: they serve programs and links. */
struct record_type {
	size_t size;
	int (*read_row)(struct store *s, sqlite3_stmt *st, void *rec);
	void (*clear)(void *rec);
};

static void records_free(const struct record_type *t, void *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		t->clear((uint8_t *)list + i * t->size);
	free(list);
}

static int read_records_locked(struct store *s, const struct record_type *t, const char *sql,
			       const char *param, int64_t value, void **ret, size_t *ret_n)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	void *list = NULL, *rec;
	size_t n = 0;
	int r;

	r = store_prepare(s, sql, &st);
	if (r < 0)
		return r;
	if (param) {
		r = bind_int64(st, param, value);
		if (r < 0)
			return r;
	}
	while ((r = step_row(st)) > 0) {
		rec = array_append(&list, &n, t->size);
		if (!rec) {
			r = -ENOMEM;
			break;
		}
		r = t->read_row(s, st, rec);
		if (r < 0)
			break;
	}
	if (r < 0) {
		records_free(t, list, n);
		return r;
	}
	*ret = list;
	*ret_n = n;
	return 0;
}

/* The rows sql selects (with param bound to value unless param is NULL), read in one
 * transaction so that each row and its children come from one snapshot. */
static int read_records(struct store *s, const struct record_type *t, const char *sql,
			const char *param, int64_t value, void **ret, size_t *ret_n)
{
	void *list = NULL;
	size_t n = 0;
	int r;

	r = op_begin(s);
	if (r < 0)
		return r;
	r = op_end(s, read_records_locked(s, t, sql, param, value, &list, &n));
	if (r < 0) {
		/* Only reachable if RELEASE of a read-only savepoint failed. */
		records_free(t, list, n);
		return r;
	}
	*ret = list;
	*ret_n = n;
	return 0;
}

/* The record sql selects by its primary key :id; -ENOENT if there is none. */
static int read_record(struct store *s, const struct record_type *t, const char *sql,
		       uint32_t id, void *ret)
{
	void *list = NULL;
	size_t n = 0;
	int r;

	r = read_records(s, t, sql, ":id", id, &list, &n);
	if (r < 0)
		return r;
	if (n == 0) {
		free(list);
		return -ENOENT;
	}
	/* id is the primary key: there is no second row. */
	memcpy(ret, list, t->size);
	free(list);
	return 0;
}

/* ---- Programs ---- */

#define PROGRAM_COLUMNS                                                                            \
	"id, name, type, kernel_type, path, attach_fn, pin_path, map_pin_path, map_owner_id, "     \
	"owner_uid, uuid, created_usec, section"

static int program_read_row(struct store *s, sqlite3_stmt *st, void *rec)
{
	struct program_record *p = rec;
	int r;

	p->id = (uint32_t)sqlite3_column_int64(st, 0);
	p->type = sqlite3_column_int(st, 2);
	p->kernel_type = (uint32_t)sqlite3_column_int64(st, 3);
	p->map_owner_id = (uint32_t)sqlite3_column_int64(st, 8);
	p->owner_uid = (uid_t)sqlite3_column_int64(st, 9);
	p->created_usec = sqlite3_column_int64(st, 11);
	r = column_str(st, 1, &p->name) ?: column_str(st, 4, &p->path)
		?: column_str(st, 5, &p->attach_fn) ?: column_str(st, 6, &p->pin_path)
		?: column_str(st, 7, &p->map_pin_path) ?: column_str(st, 10, &p->uuid)
		?: column_str(st, 12, &p->section);
	if (r < 0)
		return r;
	r = pairs_load(s,
		       "SELECT key, value FROM program_metadata WHERE program_id = :owner "
		       "ORDER BY key",
		       p->id, false, &p->metadata, &p->n_metadata);
	if (r < 0)
		return r;
	return pairs_load(s,
			  "SELECT name, value FROM program_global_data WHERE program_id = :owner "
			  "ORDER BY name",
			  p->id, true, &p->global_data, &p->n_global_data);
}

static int put_program_locked(struct store *s, const struct program_record *p)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r;

	r = store_prepare(s,
			  "INSERT INTO programs (" PROGRAM_COLUMNS ") VALUES (:id, :name, :type, "
			  ":kernel_type, :path, :attach_fn, :pin_path, :map_pin_path, "
			  ":map_owner_id, :owner_uid, :uuid, :created_usec, :section)",
			  &st);
	if (r < 0)
		return r;
	r = bind_int64(st, ":id", p->id) ?: bind_str(st, ":name", p->name)
		?: bind_int64(st, ":type", p->type) ?: bind_int64(st, ":kernel_type", p->kernel_type)
		?: bind_str(st, ":path", p->path) ?: bind_str(st, ":attach_fn", p->attach_fn)
		?: bind_str(st, ":pin_path", p->pin_path)
		?: bind_str(st, ":map_pin_path", p->map_pin_path)
		?: bind_int64(st, ":map_owner_id", p->map_owner_id)
		?: bind_int64(st, ":owner_uid", p->owner_uid) ?: bind_str(st, ":uuid", p->uuid)
		?: bind_int64(st, ":created_usec", p->created_usec)
		?: bind_str(st, ":section", p->section) ?: step_done(st);
	if (r < 0)
		return r;
	r = pairs_insert(s,
			 "INSERT INTO program_metadata (program_id, key, value) "
			 "VALUES (:owner, :key, :value)",
			 p->id, p->metadata, p->n_metadata, false);
	if (r < 0)
		return r;
	return pairs_insert(s,
			    "INSERT INTO program_global_data (program_id, name, value) "
			    "VALUES (:owner, :key, :value)",
			    p->id, p->global_data, p->n_global_data, true);
}

int store__put_program(struct store *s, const struct program_record *p)
{
	int r;

	if (!s || !p || p->id == 0 || !p->name || pairs_validate(p->metadata, p->n_metadata) < 0 ||
	    pairs_validate(p->global_data, p->n_global_data) < 0)
		return -EINVAL;
	r = op_begin(s);
	if (r < 0)
		return r;
	return op_end(s, put_program_locked(s, p));
}

static void program_clear(void *rec)
{
	program_record__clear(rec);
}

static const struct record_type program_type = {
	.size = sizeof(struct program_record),
	.read_row = program_read_row,
	.clear = program_clear,
};

int store__get_program(struct store *s, uint32_t id, struct program_record *ret)
{
	if (!s || !ret)
		return -EINVAL;
	return read_record(s, &program_type,
			   "SELECT " PROGRAM_COLUMNS " FROM programs WHERE id = :id", id, ret);
}

int store__list_programs(struct store *s, struct program_record **ret, size_t *ret_n)
{
	if (!s || !ret || !ret_n)
		return -EINVAL;
	return read_records(s, &program_type,
			    "SELECT " PROGRAM_COLUMNS " FROM programs ORDER BY id", NULL, 0,
			    (void **)ret, ret_n);
}

/* Runs a "DELETE ... WHERE id = :id"; -ENOENT when no row had that id. */
static int delete_row_locked(struct store *s, const char *sql, uint32_t id)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r;

	r = store_prepare(s, sql, &st);
	if (r < 0)
		return r;
	r = bind_int64(st, ":id", id) ?: step_done(st);
	if (r < 0)
		return r;
	return sqlite3_changes(s->db) > 0 ? 0 : -ENOENT;
}

static int delete_program_locked(struct store *s, uint32_t id)
{
	_cleanup_stmt_ sqlite3_stmt *busy = NULL;
	int r;

	/* Checked rather than left to the foreign key, whose error cannot be told apart from
	 * an insert referring to a missing program. */
	r = store_prepare(s, "SELECT 1 FROM links WHERE prog_id = :id LIMIT 1", &busy);
	if (r < 0)
		return r;
	r = bind_int64(busy, ":id", id) ?: step_row(busy);
	if (r < 0)
		return r;
	if (r > 0)
		return -EBUSY;

	return delete_row_locked(s, "DELETE FROM programs WHERE id = :id", id);
}

int store__delete_program(struct store *s, uint32_t id)
{
	int r;

	if (!s)
		return -EINVAL;
	r = op_begin(s);
	if (r < 0)
		return r;
	return op_end(s, delete_program_locked(s, id));
}

/* ---- Counters ---- */

static int counter_next(struct store *s, const char *name, int64_t floor, int64_t max,
			int64_t *ret)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL, *check = NULL;
	int64_t v;
	int r;

	r = store_prepare(s,
			  "UPDATE counters SET value = max(value, :floor) + 1 "
			  "WHERE name = :name AND max(value, :floor) < :max RETURNING value",
			  &st);
	if (r < 0)
		return r;
	r = bind_str(st, ":name", name) ?: bind_int64(st, ":floor", floor)
		?: bind_int64(st, ":max", max) ?: step_row(st);
	if (r < 0)
		return r;
	if (r > 0) {
		v = sqlite3_column_int64(st, 0);
		r = step_done(st);
		if (r < 0)
			return r;
		*ret = v;
		return 0;
	}

	r = store_prepare(s, "SELECT value FROM counters WHERE name = :name", &check);
	if (r < 0)
		return r;
	r = bind_str(check, ":name", name) ?: step_row(check);
	if (r < 0)
		return r;
	if (r == 0) {
		log_debug("store: counter %s is missing", name);
		return -EIO;
	}
	return -ENOSPC; /* every id has been handed out */
}

/* Makes sure the counter never hands out value or anything below it. */
static int counter_raise(struct store *s, const char *name, int64_t value)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r;

	r = store_prepare(s, "UPDATE counters SET value = max(value, :value) WHERE name = :name",
			  &st);
	if (r < 0)
		return r;
	return bind_str(st, ":name", name) ?: bind_int64(st, ":value", value) ?: step_done(st);
}

int store__allocate_link_id(struct store *s, uint32_t *ret)
{
	int64_t id;
	int r;

	if (!s || !ret)
		return -EINVAL;
	r = op_begin(s);
	if (r < 0)
		return r;
	r = op_end(s, counter_next(s, "link_id", s->last_link_id, UINT32_MAX, &id));
	if (r < 0)
		return r;
	s->last_link_id = (uint32_t)id;
	*ret = (uint32_t)id;
	return 0;
}

/* ---- Links ---- */

#define LINK_COLUMNS                                                                               \
	"id, prog_id, type, kernel_link_id, pin_path, owner_uid, seq, iface, ifindex, priority, "  \
	"direction, netns, tracepoint, fn_name, probe_offset, target, pid, retprobe"

static int link_read_row(struct store *s, sqlite3_stmt *st, void *rec)
{
	struct link_record *l = rec;
	_cleanup_stmt_ sqlite3_stmt *po = NULL;
	int r;

	l->id = (uint32_t)sqlite3_column_int64(st, 0);
	l->prog_id = (uint32_t)sqlite3_column_int64(st, 1);
	l->type = sqlite3_column_int(st, 2);
	l->kernel_link_id = (uint32_t)sqlite3_column_int64(st, 3);
	l->owner_uid = (uid_t)sqlite3_column_int64(st, 5);
	l->seq = (uint64_t)sqlite3_column_int64(st, 6);
	l->ifindex = sqlite3_column_int(st, 8);
	l->priority = sqlite3_column_int(st, 9);
	l->offset = (uint64_t)sqlite3_column_int64(st, 14);
	l->pid = sqlite3_column_int(st, 16);
	l->retprobe = sqlite3_column_int(st, 17) != 0;
	r = column_str(st, 4, &l->pin_path) ?: column_str(st, 7, &l->iface)
		?: column_str(st, 10, &l->direction) ?: column_str(st, 11, &l->netns)
		?: column_str(st, 12, &l->tracepoint) ?: column_str(st, 13, &l->fn_name)
		?: column_str(st, 15, &l->target);
	if (r < 0)
		return r;

	r = store_prepare(s,
			  "SELECT value FROM link_proceed_on WHERE link_id = :id ORDER BY position",
			  &po);
	if (r < 0)
		return r;
	r = bind_int64(po, ":id", l->id);
	if (r < 0)
		return r;
	while ((r = step_row(po)) > 0) {
		int32_t *v = array_append((void **)&l->proceed_on, &l->n_proceed_on,
					  sizeof(*l->proceed_on));
		if (!v)
			return -ENOMEM;
		*v = sqlite3_column_int(po, 0);
	}
	if (r < 0)
		return r;

	return pairs_load(s,
			  "SELECT key, value FROM link_metadata WHERE link_id = :owner ORDER BY key",
			  l->id, false, &l->metadata, &l->n_metadata);
}

static int link_existing_seq(struct store *s, uint32_t id, int64_t *ret)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	int r;

	r = store_prepare(s, "SELECT seq FROM links WHERE id = :id", &st);
	if (r < 0)
		return r;
	r = bind_int64(st, ":id", id) ?: step_row(st);
	if (r <= 0)
		return r;
	*ret = sqlite3_column_int64(st, 0);
	return 1;
}

static int put_link_locked(struct store *s, const struct link_record *l, int64_t *ret_seq)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL, *del = NULL, *po = NULL;
	int64_t seq = (int64_t)l->seq;
	int r;

	if (seq == 0) {
		r = link_existing_seq(s, l->id, &seq);
		if (r < 0)
			return r;
		if (r == 0) {
			r = counter_next(s, "link_seq", 0, INT64_MAX, &seq);
			if (r < 0)
				return r;
		}
	} else {
		/* A seq chosen by the caller (reconciliation): later ones still sort after it. */
		r = counter_raise(s, "link_seq", seq);
		if (r < 0)
			return r;
	}
	/* An id the allocator did not hand out (restored from a pin) must never be. */
	r = counter_raise(s, "link_id", l->id);
	if (r < 0)
		return r;

	/* An upsert, not INSERT OR REPLACE: replacing would delete the row first and cascade. */
	r = store_prepare(s,
			  "INSERT INTO links (" LINK_COLUMNS ") VALUES (:id, :prog_id, :type, "
			  ":kernel_link_id, :pin_path, :owner_uid, :seq, :iface, :ifindex, "
			  ":priority, :direction, :netns, :tracepoint, :fn_name, :probe_offset, "
			  ":target, :pid, :retprobe) "
			  "ON CONFLICT (id) DO UPDATE SET prog_id = excluded.prog_id, "
			  "type = excluded.type, kernel_link_id = excluded.kernel_link_id, "
			  "pin_path = excluded.pin_path, owner_uid = excluded.owner_uid, "
			  "seq = excluded.seq, iface = excluded.iface, ifindex = excluded.ifindex, "
			  "priority = excluded.priority, direction = excluded.direction, "
			  "netns = excluded.netns, tracepoint = excluded.tracepoint, "
			  "fn_name = excluded.fn_name, probe_offset = excluded.probe_offset, "
			  "target = excluded.target, pid = excluded.pid, retprobe = excluded.retprobe",
			  &st);
	if (r < 0)
		return r;
	r = bind_int64(st, ":id", l->id) ?: bind_int64(st, ":prog_id", l->prog_id)
		?: bind_int64(st, ":type", l->type)
		?: bind_int64(st, ":kernel_link_id", l->kernel_link_id)
		?: bind_str(st, ":pin_path", l->pin_path)
		?: bind_int64(st, ":owner_uid", l->owner_uid) ?: bind_int64(st, ":seq", seq)
		?: bind_str(st, ":iface", l->iface) ?: bind_int64(st, ":ifindex", l->ifindex)
		?: bind_int64(st, ":priority", l->priority)
		?: bind_str(st, ":direction", l->direction) ?: bind_str(st, ":netns", l->netns)
		?: bind_str(st, ":tracepoint", l->tracepoint)
		?: bind_str(st, ":fn_name", l->fn_name)
		/* two's complement: INTEGER is signed 64-bit, the offset unsigned */
		?: bind_int64(st, ":probe_offset", (int64_t)l->offset)
		?: bind_str(st, ":target", l->target) ?: bind_int64(st, ":pid", l->pid)
		?: bind_int64(st, ":retprobe", l->retprobe) ?: step_done(st);
	if (r < 0)
		return r;

	/* Children of a replaced link are replaced too. */
	r = store_prepare(s, "DELETE FROM link_proceed_on WHERE link_id = :id", &del);
	if (r < 0)
		return r;
	r = bind_int64(del, ":id", l->id) ?: step_done(del);
	if (r < 0)
		return r;
	sqlite3_finalize(TAKE_PTR(del));
	r = store_prepare(s, "DELETE FROM link_metadata WHERE link_id = :id", &del);
	if (r < 0)
		return r;
	r = bind_int64(del, ":id", l->id) ?: step_done(del);
	if (r < 0)
		return r;

	if (l->n_proceed_on > 0) {
		r = store_prepare(s,
				  "INSERT INTO link_proceed_on (link_id, position, value) "
				  "VALUES (:id, :position, :value)",
				  &po);
		if (r < 0)
			return r;
		for (size_t i = 0; i < l->n_proceed_on; i++) {
			sqlite3_reset(po);
			r = bind_int64(po, ":id", l->id) ?: bind_int64(po, ":position", (int64_t)i)
				?: bind_int64(po, ":value", l->proceed_on[i]) ?: step_done(po);
			if (r < 0)
				return r;
		}
	}

	r = pairs_insert(s,
			 "INSERT INTO link_metadata (link_id, key, value) "
			 "VALUES (:owner, :key, :value)",
			 l->id, l->metadata, l->n_metadata, false);
	if (r < 0)
		return r;
	*ret_seq = seq;
	return 0;
}

int store__put_link(struct store *s, const struct link_record *l, uint64_t *ret_seq)
{
	int64_t seq = 0;
	int r;

	if (!s || !l || l->id == 0 || l->prog_id == 0 || l->seq > INT64_MAX ||
	    (l->n_proceed_on > 0 && !l->proceed_on) ||
	    pairs_validate(l->metadata, l->n_metadata) < 0)
		return -EINVAL;
	r = op_begin(s);
	if (r < 0)
		return r;
	r = op_end(s, put_link_locked(s, l, &seq));
	if (r < 0)
		return r;
	if (ret_seq)
		*ret_seq = (uint64_t)seq;
	return 0;
}

static void link_clear(void *rec)
{
	link_record__clear(rec);
}

static const struct record_type link_type = {
	.size = sizeof(struct link_record),
	.read_row = link_read_row,
	.clear = link_clear,
};

int store__get_link(struct store *s, uint32_t id, struct link_record *ret)
{
	if (!s || !ret)
		return -EINVAL;
	return read_record(s, &link_type, "SELECT " LINK_COLUMNS " FROM links WHERE id = :id",
			   id, ret);
}

int store__list_links(struct store *s, uint32_t prog_id, struct link_record **ret, size_t *ret_n)
{
	if (!s || !ret || !ret_n)
		return -EINVAL;
	if (prog_id == 0)
		return read_records(s, &link_type,
				    "SELECT " LINK_COLUMNS " FROM links ORDER BY seq", NULL, 0,
				    (void **)ret, ret_n);
	return read_records(s, &link_type,
			    "SELECT " LINK_COLUMNS " FROM links WHERE prog_id = :prog_id "
			    "ORDER BY seq",
			    ":prog_id", prog_id, (void **)ret, ret_n);
}

int store__delete_link(struct store *s, uint32_t id)
{
	int r;

	if (!s)
		return -EINVAL;
	r = op_begin(s);
	if (r < 0)
		return r;
	/* Its proceed_on and metadata rows go by ON DELETE CASCADE. */
	return op_end(s, delete_row_locked(s, "DELETE FROM links WHERE id = :id", id));
}

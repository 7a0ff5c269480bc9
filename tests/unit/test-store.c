/* SPDX-License-Identifier: Apache-2.0 */
/* The state store against real SQLite files in a temporary directory. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include "macro.h"
#include "store.h"
#include "tests.h"

/* ---- Helpers ---- */

/* Temporary directories are removed at exit, also when a test failed (ASSERT_* longjmp()s past
 * any cleanup in the test itself). */
static struct {
	char *dir;
	char *db;
} tmps[TEST_MAX];
static size_t n_tmps;

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void tmps_remove(void)
{
	for (size_t i = 0; i < n_tmps; i++) {
		nftw(tmps[i].dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
		free(tmps[i].dir);
		free(tmps[i].db);
	}
	n_tmps = 0;
}

/* Returns "<new temp dir>/state.db"; both go away at exit. */
static const char *db_path_new(void)
{
	static bool registered;
	char tmpl[] = "/tmp/test-store-XXXXXX";

	if (!registered) {
		atexit(tmps_remove);
		registered = true;
	}
	if (n_tmps >= TEST_MAX || !mkdtemp(tmpl))
		TEST_FAIL("mkdtemp: %m");
	tmps[n_tmps].dir = strdup(tmpl);
	if (!tmps[n_tmps].dir || asprintf(&tmps[n_tmps].db, "%s/state.db", tmpl) < 0)
		TEST_FAIL("out of memory");
	return tmps[n_tmps++].db;
}

static struct store *open_ok(const char *path)
{
	struct store *s = NULL;

	ASSERT_OK(store__open(path, &s));
	ASSERT_TRUE(s != NULL);
	return s;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(sqlite3 *, sqlite3_close);
DEFINE_TRIVIAL_CLEANUP_FUNC(sqlite3_stmt *, sqlite3_finalize);

/* A second, independent connection, as a human with the sqlite3 CLI would have. */
static sqlite3 *raw_open(const char *path)
{
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
		TEST_FAIL("sqlite3_open_v2 %s: %s", path, db ? sqlite3_errmsg(db) : "?");
	return db;
}

static int64_t raw_int(sqlite3 *db, const char *sql)
{
	_cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		TEST_FAIL("prepare %s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(st) != SQLITE_ROW)
		TEST_FAIL("step %s: %s", sql, sqlite3_errmsg(db));
	return sqlite3_column_int64(st, 0);
}

static void raw_exec(sqlite3 *db, const char *sql)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		TEST_FAIL("exec %s: %s", sql, sqlite3_errmsg(db));
}

static int64_t path_int(const char *path, const char *sql)
{
	_cleanup_(sqlite3_closep) sqlite3 *db = raw_open(path);

	return raw_int(db, sql);
}

static void path_exec(const char *path, const char *sql)
{
	_cleanup_(sqlite3_closep) sqlite3 *db = raw_open(path);

	raw_exec(db, sql);
}

#define KV(k, v) { (char *)(k), (uint8_t *)(v), sizeof(v) - 1 }

static const uint8_t global_bytes[] = { 0x00, 0x01, 0x00, 0xff, 0x00 };

static void program_fill(struct program_record *p, uint32_t id)
{
	static struct kv_pair metadata[] = { KV("zeta", "last"), KV("alpha", "first"),
					     KV("empty", "") };
	static struct kv_pair global_data[] = {
		{ (char *)"GLOBAL_u8", (uint8_t *)global_bytes, sizeof(global_bytes) },
		{ (char *)"EMPTY", NULL, 0 },
	};

	*p = (struct program_record){
		.id = id,
		.name = (char *)"xdp_pass",
		.type = 0,
		.kernel_type = 6,
		.path = (char *)"/usr/lib/bpf/xdp_pass.bpf.o",
		.attach_fn = NULL,
		.pin_path = (char *)"/run/bpfd/fs/prog_42",
		.map_pin_path = (char *)"/run/bpfd/fs/maps/42",
		.map_owner_id = 7,
		.owner_uid = 4294967294u,
		.uuid = NULL,
		.created_usec = 1700000000123456LL,
		.metadata = metadata,
		.n_metadata = ELEMENTSOF(metadata),
		.global_data = global_data,
		.n_global_data = ELEMENTSOF(global_data),
	};
}

static void link_fill(struct link_record *l, uint32_t id, uint32_t prog_id)
{
	static int32_t proceed_on[] = { 2, 31, -1 };
	static struct kv_pair metadata[] = { KV("owner", "team-a"), KV("app", "fw") };

	*l = (struct link_record){
		.id = id,
		.prog_id = prog_id,
		.type = 1,
		.kernel_link_id = 99,
		.pin_path = (char *)"/run/bpfd/fs/links/1",
		.owner_uid = 1000,
		.iface = (char *)"veth0",
		.ifindex = 12,
		.priority = 50,
		.direction = (char *)"ingress",
		.proceed_on = proceed_on,
		.n_proceed_on = ELEMENTSOF(proceed_on),
		.netns = NULL,
		.tracepoint = (char *)"syscalls/sys_enter_openat",
		.fn_name = NULL,
		.offset = UINT64_MAX - 5, /* above INT64_MAX: stored as two's complement */
		.target = (char *)"/usr/lib/x86_64-linux-gnu/libc.so.6",
		.pid = -3,
		.retprobe = true,
		.metadata = metadata,
		.n_metadata = ELEMENTSOF(metadata),
	};
}

static void put_program_ok(struct store *s, uint32_t id)
{
	struct program_record p;

	program_fill(&p, id);
	ASSERT_OK(store__put_program(s, &p));
}

static uint64_t put_link_ok(struct store *s, uint32_t id, uint32_t prog_id)
{
	struct link_record l;
	uint64_t seq = 0;

	link_fill(&l, id, prog_id);
	ASSERT_OK(store__put_link(s, &l, &seq));
	ASSERT_TRUE(seq > 0);
	return seq;
}

#define ASSERT_NULL(p) ASSERT_TRUE((p) == NULL)
#define ASSERT_KV(kv, k, v, len)                                                                   \
	do {                                                                                       \
		ASSERT_STR_EQ((kv).key, (k));                                                      \
		ASSERT_INT_EQ((kv).value_len, (len));                                              \
		ASSERT_TRUE(memcmp((kv).value, (v), (len)) == 0);                                  \
		ASSERT_INT_EQ((kv).value[(len)], 0);                                               \
	} while (0)

/* ---- Records ---- */

TEST(program_roundtrip)
{
	const char *path = db_path_new();
	_cleanup_(program_record__clear) struct program_record got = {}, got2 = {};
	struct program_record p;
	struct store *s = open_ok(path);

	put_program_ok(s, 42);
	/* The other extreme: every string set, no metadata, no global data. */
	program_fill(&p, 43);
	p.attach_fn = (char *)"do_unlinkat";
	p.section = (char *)"fentry/do_unlinkat";
	p.uuid = (char *)"b7a5c4a0-0000-4000-8000-000000000001";
	p.metadata = NULL;
	p.n_metadata = 0;
	p.global_data = NULL;
	p.n_global_data = 0;
	p.created_usec = -1;
	ASSERT_OK(store__put_program(s, &p));

	/* Through a reopen: everything comes from the file. */
	store__free(s);
	s = open_ok(path);

	ASSERT_OK(store__get_program(s, 42, &got));
	ASSERT_INT_EQ(got.id, 42);
	ASSERT_STR_EQ(got.name, "xdp_pass");
	ASSERT_INT_EQ(got.type, 0);
	ASSERT_INT_EQ(got.kernel_type, 6);
	ASSERT_STR_EQ(got.path, "/usr/lib/bpf/xdp_pass.bpf.o");
	ASSERT_NULL(got.attach_fn);
	ASSERT_NULL(got.section);
	ASSERT_STR_EQ(got.pin_path, "/run/bpfd/fs/prog_42");
	ASSERT_STR_EQ(got.map_pin_path, "/run/bpfd/fs/maps/42");
	ASSERT_INT_EQ(got.map_owner_id, 7);
	ASSERT_INT_EQ(got.owner_uid, 4294967294u);
	ASSERT_NULL(got.uuid);
	ASSERT_INT_EQ(got.created_usec, 1700000000123456LL);
	/* Metadata comes back ordered by key. */
	ASSERT_INT_EQ(got.n_metadata, 3);
	ASSERT_KV(got.metadata[0], "alpha", "first", 5);
	ASSERT_KV(got.metadata[1], "empty", "", 0);
	ASSERT_KV(got.metadata[2], "zeta", "last", 4);
	/* Global data: raw bytes with NULs, and an empty value; ordered by name (memcmp). */
	ASSERT_INT_EQ(got.n_global_data, 2);
	ASSERT_KV(got.global_data[0], "EMPTY", "", 0);
	ASSERT_KV(got.global_data[1], "GLOBAL_u8", global_bytes, sizeof(global_bytes));

	ASSERT_OK(store__get_program(s, 43, &got2));
	ASSERT_STR_EQ(got2.attach_fn, "do_unlinkat");
	ASSERT_STR_EQ(got2.section, "fentry/do_unlinkat");
	ASSERT_STR_EQ(got2.uuid, "b7a5c4a0-0000-4000-8000-000000000001");
	ASSERT_INT_EQ(got2.created_usec, -1);
	ASSERT_INT_EQ(got2.n_metadata, 0);
	ASSERT_NULL(got2.metadata);
	ASSERT_INT_EQ(got2.n_global_data, 0);
	ASSERT_NULL(got2.global_data);
	store__free(s);

	/* clear is idempotent and NULL-safe */
	program_record__clear(&got2);
	program_record__clear(&got2);
	program_record__clear(NULL);
	link_record__clear(NULL);
	kv_pairs_free(NULL, 0);
	program_records_free(NULL, 0);
	link_records_free(NULL, 0);
}

TEST(link_roundtrip)
{
	const char *path = db_path_new();
	_cleanup_(link_record__clear) struct link_record got = {}, got2 = {};
	struct link_record l;
	struct store *s = open_ok(path);
	uint32_t id, id2;
	uint64_t seq;

	put_program_ok(s, 42);
	ASSERT_OK(store__allocate_link_id(s, &id));
	ASSERT_INT_EQ(id, 1);
	seq = put_link_ok(s, id, 42);

	/* Every string NULL, no arrays, zero numbers. */
	ASSERT_OK(store__allocate_link_id(s, &id2));
	l = (struct link_record){ .id = id2, .prog_id = 42, .type = 2 };
	ASSERT_OK(store__put_link(s, &l, NULL));

	store__free(s);
	s = open_ok(path);

	ASSERT_OK(store__get_link(s, id, &got));
	ASSERT_INT_EQ(got.id, id);
	ASSERT_INT_EQ(got.prog_id, 42);
	ASSERT_INT_EQ(got.type, 1);
	ASSERT_INT_EQ(got.kernel_link_id, 99);
	ASSERT_STR_EQ(got.pin_path, "/run/bpfd/fs/links/1");
	ASSERT_INT_EQ(got.owner_uid, 1000);
	ASSERT_INT_EQ(got.seq, seq);
	ASSERT_STR_EQ(got.iface, "veth0");
	ASSERT_INT_EQ(got.ifindex, 12);
	ASSERT_INT_EQ(got.priority, 50);
	ASSERT_STR_EQ(got.direction, "ingress");
	ASSERT_INT_EQ(got.n_proceed_on, 3);
	ASSERT_INT_EQ(got.proceed_on[0], 2);
	ASSERT_INT_EQ(got.proceed_on[1], 31);
	ASSERT_INT_EQ(got.proceed_on[2], -1);
	ASSERT_NULL(got.netns);
	ASSERT_STR_EQ(got.tracepoint, "syscalls/sys_enter_openat");
	ASSERT_NULL(got.fn_name);
	ASSERT_TRUE(got.offset == UINT64_MAX - 5);
	ASSERT_STR_EQ(got.target, "/usr/lib/x86_64-linux-gnu/libc.so.6");
	ASSERT_INT_EQ(got.pid, -3);
	ASSERT_TRUE(got.retprobe);
	ASSERT_INT_EQ(got.n_metadata, 2);
	ASSERT_KV(got.metadata[0], "app", "fw", 2);
	ASSERT_KV(got.metadata[1], "owner", "team-a", 6);

	ASSERT_OK(store__get_link(s, id2, &got2));
	ASSERT_INT_EQ(got2.type, 2);
	ASSERT_TRUE(got2.seq > seq);
	ASSERT_NULL(got2.pin_path);
	ASSERT_NULL(got2.iface);
	ASSERT_NULL(got2.direction);
	ASSERT_NULL(got2.tracepoint);
	ASSERT_NULL(got2.target);
	ASSERT_NULL(got2.proceed_on);
	ASSERT_INT_EQ(got2.n_proceed_on, 0);
	ASSERT_NULL(got2.metadata);
	ASSERT_INT_EQ(got2.n_metadata, 0);
	ASSERT_TRUE(!got2.retprobe);
	ASSERT_INT_EQ(got2.offset, 0);
	store__free(s);
}

/* ---- Ordering ---- */

TEST(list_ordering)
{
	const char *path = db_path_new();
	struct program_record *progs = NULL;
	struct link_record *links = NULL;
	struct store *s = open_ok(path);
	uint32_t a, b, c;
	size_t n = 99;

	ASSERT_OK(store__list_programs(s, &progs, &n));
	ASSERT_INT_EQ(n, 0);
	ASSERT_NULL(progs);
	ASSERT_OK(store__list_links(s, 0, &links, &n));
	ASSERT_INT_EQ(n, 0);

	put_program_ok(s, 30);
	put_program_ok(s, 10);
	put_program_ok(s, 20);
	ASSERT_OK(store__list_programs(s, &progs, &n));
	ASSERT_INT_EQ(n, 3);
	ASSERT_INT_EQ(progs[0].id, 10);
	ASSERT_INT_EQ(progs[1].id, 20);
	ASSERT_INT_EQ(progs[2].id, 30);
	/* children belong to the right record in a list too */
	ASSERT_INT_EQ(progs[2].n_metadata, 3);
	ASSERT_INT_EQ(progs[1].n_global_data, 2);
	program_records_free(progs, n);

	/* Links are listed in attach order (put order), not in id order. */
	ASSERT_OK(store__allocate_link_id(s, &a));
	ASSERT_OK(store__allocate_link_id(s, &b));
	ASSERT_OK(store__allocate_link_id(s, &c));
	ASSERT_TRUE(a < b && b < c);
	put_link_ok(s, c, 20);
	put_link_ok(s, a, 10);
	put_link_ok(s, b, 20);

	ASSERT_OK(store__list_links(s, 0, &links, &n));
	ASSERT_INT_EQ(n, 3);
	ASSERT_INT_EQ(links[0].id, c);
	ASSERT_INT_EQ(links[1].id, a);
	ASSERT_INT_EQ(links[2].id, b);
	ASSERT_TRUE(links[0].seq < links[1].seq && links[1].seq < links[2].seq);
	ASSERT_INT_EQ(links[2].n_proceed_on, 3);
	ASSERT_INT_EQ(links[2].n_metadata, 2);
	link_records_free(links, n);

	ASSERT_OK(store__list_links(s, 20, &links, &n));
	ASSERT_INT_EQ(n, 2);
	ASSERT_INT_EQ(links[0].id, c);
	ASSERT_INT_EQ(links[1].id, b);
	link_records_free(links, n);

	ASSERT_OK(store__list_links(s, 31, &links, &n));
	ASSERT_INT_EQ(n, 0);
	link_records_free(links, n);
	store__free(s);
}

/* ---- Errors ---- */

TEST(errors)
{
	const char *path = db_path_new();
	struct program_record p, sentinel_p = { .id = 12345 };
	struct link_record l, sentinel_l = { .id = 54321 };
	struct kv_pair bad_kv[] = { { NULL, (uint8_t *)"x", 1 } };
	struct store *s = open_ok(path);
	uint64_t seq = 777;

	/* Unknown ids: -ENOENT, output untouched. */
	ASSERT_ERR(store__get_program(s, 1, &sentinel_p), -ENOENT);
	ASSERT_INT_EQ(sentinel_p.id, 12345);
	ASSERT_ERR(store__get_link(s, 1, &sentinel_l), -ENOENT);
	ASSERT_INT_EQ(sentinel_l.id, 54321);
	ASSERT_ERR(store__delete_program(s, 1), -ENOENT);
	ASSERT_ERR(store__delete_link(s, 1), -ENOENT);

	/* A link of an unknown program. */
	link_fill(&l, 1, 1);
	ASSERT_ERR(store__put_link(s, &l, &seq), -ENOENT);
	ASSERT_INT_EQ(seq, 777);

	/* Duplicates. */
	put_program_ok(s, 1);
	program_fill(&p, 1);
	ASSERT_ERR(store__put_program(s, &p), -EEXIST);

	/* Invalid records. */
	program_fill(&p, 0);
	ASSERT_ERR(store__put_program(s, &p), -EINVAL);
	program_fill(&p, 2);
	p.name = NULL;
	ASSERT_ERR(store__put_program(s, &p), -EINVAL);
	program_fill(&p, 2);
	p.metadata = bad_kv;
	p.n_metadata = 1;
	ASSERT_ERR(store__put_program(s, &p), -EINVAL);
	link_fill(&l, 0, 1);
	ASSERT_ERR(store__put_link(s, &l, NULL), -EINVAL);
	link_fill(&l, 1, 0);
	ASSERT_ERR(store__put_link(s, &l, NULL), -EINVAL);
	link_fill(&l, 1, 1);
	l.seq = (uint64_t)INT64_MAX + 1;
	ASSERT_ERR(store__put_link(s, &l, NULL), -EINVAL);
	ASSERT_ERR(store__get_program(s, 2, &sentinel_p), -ENOENT);

	/* A program with links cannot go; without them it can. */
	put_link_ok(s, 1, 1);
	ASSERT_ERR(store__delete_program(s, 1), -EBUSY);
	ASSERT_OK(store__get_program(s, 1, &p));
	program_record__clear(&p);
	ASSERT_OK(store__delete_link(s, 1));
	ASSERT_ERR(store__delete_link(s, 1), -ENOENT);
	ASSERT_OK(store__delete_program(s, 1));
	ASSERT_ERR(store__delete_program(s, 1), -ENOENT);

	/* Transactions out of balance. */
	ASSERT_ERR(store__commit(s), -EINVAL);
	ASSERT_ERR(store__rollback(s), -EINVAL);
	store__free(s);
	store__free(NULL);
}

TEST(failed_put_is_atomic)
{
	const char *path = db_path_new();
	struct kv_pair dup[] = { KV("k", "1"), KV("k", "2") };
	struct program_record p, got;
	struct link_record l;
	int32_t proceed_on[] = { 2 };
	struct store *s = open_ok(path);

	/* The program row is inserted before the metadata that fails: it must not remain. */
	program_fill(&p, 5);
	p.metadata = dup;
	p.n_metadata = ELEMENTSOF(dup);
	ASSERT_ERR(store__put_program(s, &p), -EEXIST);
	ASSERT_ERR(store__get_program(s, 5, &got), -ENOENT);

	/* A failing replace of a link leaves the old link whole. */
	put_program_ok(s, 5);
	put_link_ok(s, 3, 5);
	link_fill(&l, 3, 5);
	l.proceed_on = proceed_on;
	l.n_proceed_on = 1;
	l.metadata = dup;
	l.n_metadata = ELEMENTSOF(dup);
	ASSERT_ERR(store__put_link(s, &l, NULL), -EEXIST);
	{
		_cleanup_(link_record__clear) struct link_record old = {};

		ASSERT_OK(store__get_link(s, 3, &old));
		ASSERT_INT_EQ(old.n_proceed_on, 3);
		ASSERT_INT_EQ(old.n_metadata, 2);
	}
	store__free(s);
}

/* ---- Counters ---- */

TEST(link_ids_never_reused)
{
	const char *path = db_path_new();
	struct store *s = open_ok(path);
	uint32_t id;

	put_program_ok(s, 1);
	ASSERT_OK(store__allocate_link_id(s, &id));
	ASSERT_INT_EQ(id, 1);
	ASSERT_OK(store__allocate_link_id(s, &id));
	ASSERT_INT_EQ(id, 2);
	ASSERT_OK(store__allocate_link_id(s, &id));
	ASSERT_INT_EQ(id, 3);
	put_link_ok(s, 3, 1);
	ASSERT_OK(store__delete_link(s, 3));
	store__free(s);

	s = open_ok(path);
	ASSERT_OK(store__allocate_link_id(s, &id));
	ASSERT_INT_EQ(id, 4);

	/* An id put without being allocated (restored from a pin) is never handed out. */
	put_link_ok(s, 10, 1);
	ASSERT_OK(store__delete_link(s, 10));
	store__free(s);
	s = open_ok(path);
	ASSERT_OK(store__allocate_link_id(s, &id));
	ASSERT_INT_EQ(id, 11);

	/* Rolled back allocations are not handed out again by the same handle: the id may
	 * already name a pin. */
	ASSERT_OK(store__begin(s));
	ASSERT_OK(store__allocate_link_id(s, &id));
	ASSERT_INT_EQ(id, 12);
	ASSERT_OK(store__rollback(s));
	ASSERT_OK(store__allocate_link_id(s, &id));
	ASSERT_INT_EQ(id, 13);
	store__free(s);

	/* The id space ends at UINT32_MAX: -ENOSPC, not a wrap to 0. */
	path_exec(path, "UPDATE counters SET value = 4294967294 WHERE name = 'link_id'");
	s = open_ok(path);
	ASSERT_OK(store__allocate_link_id(s, &id));
	ASSERT_INT_EQ(id, 4294967295u);
	id = 17;
	ASSERT_ERR(store__allocate_link_id(s, &id), -ENOSPC);
	ASSERT_INT_EQ(id, 17);
	store__free(s);
}

TEST(change_count_grows_with_writes_only)
{
	struct store *s = open_ok(db_path_new());
	struct link_record *links = NULL;
	struct link_record l = {};
	size_t n = 0;
	uint64_t c0, c1, c2;

	c0 = store__change_count(s);
	put_program_ok(s, 1);
	c1 = store__change_count(s);
	ASSERT_TRUE(c1 > c0);
	put_link_ok(s, 1, 1);
	c2 = store__change_count(s);
	ASSERT_TRUE(c2 > c1);

	/* Reads and refused writes leave it alone. */
	ASSERT_OK(store__list_links(s, 0, &links, &n));
	link_records_free(links, n);
	ASSERT_OK(store__get_link(s, 1, &l));
	link_record__clear(&l);
	ASSERT_ERR(store__delete_link(s, 7), -ENOENT);
	ASSERT_INT_EQ(store__change_count(s), c2);

	ASSERT_OK(store__delete_link(s, 1));
	ASSERT_TRUE(store__change_count(s) > c2);
	ASSERT_INT_EQ(store__change_count(NULL), 0);
	store__free(s);
}

TEST(seq_increases_across_reopen)
{
	const char *path = db_path_new();
	struct store *s = open_ok(path);
	uint64_t s1, s2, s3, s4;

	put_program_ok(s, 1);
	s1 = put_link_ok(s, 1, 1);
	s2 = put_link_ok(s, 2, 1);
	ASSERT_TRUE(s2 > s1);
	/* Deleting the newest link does not give its seq back. */
	ASSERT_OK(store__delete_link(s, 2));
	store__free(s);

	s = open_ok(path);
	s3 = put_link_ok(s, 3, 1);
	ASSERT_TRUE(s3 > s2);
	store__free(s);

	s = open_ok(path);
	s4 = put_link_ok(s, 4, 1);
	ASSERT_TRUE(s4 > s3);
	store__free(s);
}

TEST(put_link_replace_keeps_seq)
{
	const char *path = db_path_new();
	_cleanup_(link_record__clear) struct link_record got = {};
	struct kv_pair metadata[] = { KV("new", "value") };
	int32_t proceed_on[] = { 4 };
	struct link_record *links = NULL, l;
	struct store *s = open_ok(path);
	uint64_t sa, sb, seq = 0;
	size_t n;

	put_program_ok(s, 1);
	put_program_ok(s, 2);
	sa = put_link_ok(s, 1, 1);
	sb = put_link_ok(s, 2, 1);

	/* Replace link 1 with other fields, moved to program 2, seq 0: its seq stays. */
	link_fill(&l, 1, 2);
	l.kernel_link_id = 100;
	l.iface = (char *)"eth1";
	l.direction = NULL;
	l.proceed_on = proceed_on;
	l.n_proceed_on = ELEMENTSOF(proceed_on);
	l.metadata = metadata;
	l.n_metadata = ELEMENTSOF(metadata);
	l.retprobe = false;
	ASSERT_OK(store__put_link(s, &l, &seq));
	ASSERT_INT_EQ(seq, sa);

	ASSERT_OK(store__get_link(s, 1, &got));
	ASSERT_INT_EQ(got.seq, sa);
	ASSERT_INT_EQ(got.prog_id, 2);
	ASSERT_INT_EQ(got.kernel_link_id, 100);
	ASSERT_STR_EQ(got.iface, "eth1");
	ASSERT_NULL(got.direction);
	ASSERT_TRUE(!got.retprobe);
	/* children replaced, not merged */
	ASSERT_INT_EQ(got.n_proceed_on, 1);
	ASSERT_INT_EQ(got.proceed_on[0], 4);
	ASSERT_INT_EQ(got.n_metadata, 1);
	ASSERT_KV(got.metadata[0], "new", "value", 5);

	ASSERT_OK(store__list_links(s, 0, &links, &n));
	ASSERT_INT_EQ(n, 2);
	ASSERT_INT_EQ(links[0].id, 1);
	ASSERT_INT_EQ(links[1].id, 2);
	link_records_free(links, n);
	/* Link 1 moved to program 2: program 1 keeps only link 2. */
	ASSERT_OK(store__list_links(s, 1, &links, &n));
	ASSERT_INT_EQ(n, 1);
	ASSERT_INT_EQ(links[0].id, 2);
	link_records_free(links, n);

	/* An explicit seq taken by another link is a duplicate. */
	link_fill(&l, 1, 2);
	l.seq = sb;
	ASSERT_ERR(store__put_link(s, &l, NULL), -EEXIST);

	/* An explicit seq beyond the counter moves the counter: later links still sort last. */
	link_fill(&l, 5, 2);
	l.seq = 1000;
	ASSERT_OK(store__put_link(s, &l, &seq));
	ASSERT_INT_EQ(seq, 1000);
	store__free(s);
	s = open_ok(path);
	ASSERT_TRUE(put_link_ok(s, 6, 2) > 1000);
	store__free(s);
}

/* ---- Transactions ---- */

TEST(rollback_discards)
{
	const char *path = db_path_new();
	struct program_record got;
	struct link_record lgot;
	struct store *s = open_ok(path);

	ASSERT_OK(store__begin(s));
	put_program_ok(s, 1);
	put_link_ok(s, 1, 1);
	ASSERT_OK(store__get_program(s, 1, &got)); /* visible inside */
	program_record__clear(&got);
	ASSERT_OK(store__rollback(s));
	ASSERT_ERR(store__get_program(s, 1, &got), -ENOENT);
	ASSERT_ERR(store__get_link(s, 1, &lgot), -ENOENT);
	store__free(s);

	s = open_ok(path);
	ASSERT_ERR(store__get_program(s, 1, &got), -ENOENT);
	ASSERT_INT_EQ(path_int(path, "SELECT count(*) FROM program_metadata"), 0);
	ASSERT_INT_EQ(path_int(path, "SELECT count(*) FROM link_proceed_on"), 0);

	/* A handle freed inside a transaction discards it. */
	ASSERT_OK(store__begin(s));
	put_program_ok(s, 2);
	store__free(s);
	ASSERT_INT_EQ(path_int(path, "SELECT count(*) FROM programs"), 0);
}

TEST(nested_transactions)
{
	const char *path = db_path_new();
	_cleanup_(sqlite3_closep) sqlite3 *other = raw_open(path);
	struct program_record got;
	struct store *s = open_ok(path);

	/* Only the outermost commit reaches the file. */
	ASSERT_OK(store__begin(s));
	ASSERT_OK(store__begin(s));
	put_program_ok(s, 1);
	ASSERT_OK(store__commit(s));
	ASSERT_INT_EQ(raw_int(other, "SELECT count(*) FROM programs"), 0);
	put_program_ok(s, 2);
	ASSERT_OK(store__commit(s));
	ASSERT_INT_EQ(raw_int(other, "SELECT count(*) FROM programs"), 2);

	/* An inner rollback dooms the whole transaction: the outer commit says so. */
	ASSERT_OK(store__begin(s));
	put_program_ok(s, 3);
	ASSERT_OK(store__begin(s));
	put_program_ok(s, 4);
	ASSERT_OK(store__rollback(s));
	ASSERT_ERR(store__commit(s), -ECANCELED);
	ASSERT_ERR(store__get_program(s, 3, &got), -ENOENT);
	ASSERT_ERR(store__get_program(s, 4, &got), -ENOENT);
	ASSERT_INT_EQ(raw_int(other, "SELECT count(*) FROM programs"), 2);

	/* The next transaction is not doomed. */
	ASSERT_OK(store__begin(s));
	put_program_ok(s, 5);
	ASSERT_OK(store__commit(s));
	ASSERT_INT_EQ(raw_int(other, "SELECT count(*) FROM programs"), 3);

	/* A failed operation inside a transaction undoes only itself. */
	ASSERT_OK(store__begin(s));
	put_program_ok(s, 6);
	{
		struct program_record p;

		program_fill(&p, 6);
		ASSERT_ERR(store__put_program(s, &p), -EEXIST);
	}
	ASSERT_ERR(store__delete_program(s, 99), -ENOENT);
	ASSERT_OK(store__commit(s));
	ASSERT_OK(store__get_program(s, 6, &got));
	program_record__clear(&got);
	ASSERT_INT_EQ(raw_int(other, "SELECT count(*) FROM programs"), 4);
	store__free(s);
}

/* ---- The file ---- */

TEST(newer_schema_refused)
{
	const char *path = db_path_new();
	struct store *s = open_ok(path), *sentinel = (struct store *)0x1;
	char sql[64];

	store__free(s);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", store__schema_version() + 1);
	path_exec(path, sql);
	ASSERT_ERR(store__open(path, &sentinel), -EPROTO);
	ASSERT_TRUE(sentinel == (struct store *)0x1);
	/* and the file was not touched */
	ASSERT_INT_EQ(path_int(path, "PRAGMA user_version"), store__schema_version() + 1);
}

TEST(foreign_files_refused)
{
	const char *path = db_path_new(), *path2 = db_path_new(), *path3 = db_path_new();
	struct store *s = NULL;
	int fd;

	/* Someone else's SQLite database. */
	path_exec(path, "CREATE TABLE t (x INTEGER)");
	ASSERT_ERR(store__open(path, &s), -EMEDIUMTYPE);
	ASSERT_INT_EQ(path_int(path, "SELECT count(*) FROM sqlite_schema"), 1);

	/* A database with another application id. */
	path_exec(path2, "PRAGMA application_id = 42");
	ASSERT_ERR(store__open(path2, &s), -EMEDIUMTYPE);

	/* Not a database at all. */
	fd = open(path3, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	ASSERT_TRUE(fd >= 0);
	ASSERT_INT_EQ(write(fd, "this is not a database, not at all; padding padding padding "
				"padding padding padding padding padding padding padding",
			    116),
		      116);
	close(fd);
	ASSERT_ERR(store__open(path3, &s), -EMEDIUMTYPE);

	/* A directory that does not exist. */
	ASSERT_ERR(store__open("/nonexistent-bpfd-test/state.db", &s), -ENOENT);
	ASSERT_ERR(store__open(NULL, &s), -EINVAL);
	ASSERT_TRUE(s == NULL);
}

TEST(wal_version_and_mode)
{
	const char *path = db_path_new();
	struct store *s = open_ok(path);
	struct stat st;

	ASSERT_TRUE(store__schema_version() >= 1);
	put_program_ok(s, 1);
	{
		_cleanup_(sqlite3_closep) sqlite3 *db = raw_open(path);
		_cleanup_(sqlite3_finalizep) sqlite3_stmt *q = NULL;

		ASSERT_INT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
		ASSERT_INT_EQ(sqlite3_step(q), SQLITE_ROW);
		ASSERT_STR_EQ((const char *)sqlite3_column_text(q, 0), "wal");
		ASSERT_INT_EQ(raw_int(db, "PRAGMA user_version"), store__schema_version());
		ASSERT_INT_EQ(raw_int(db, "PRAGMA application_id"), 0x62706664);
	}
	/* 0600: the state names other users' programs. */
	ASSERT_INT_EQ(stat(path, &st), 0);
	ASSERT_INT_EQ(st.st_mode & 07777, 0600);
	store__free(s);

	/* Reopening a current database changes nothing. */
	s = open_ok(path);
	ASSERT_INT_EQ(path_int(path, "SELECT count(*) FROM programs"), 1);
	store__free(s);
}

TEST(cascades)
{
	const char *path = db_path_new();
	struct store *s = open_ok(path);

	put_program_ok(s, 1);
	put_link_ok(s, 1, 1);
	ASSERT_INT_EQ(path_int(path, "SELECT count(*) FROM program_metadata"), 3);
	ASSERT_INT_EQ(path_int(path, "SELECT count(*) FROM program_global_data"), 2);
	ASSERT_INT_EQ(path_int(path, "SELECT count(*) FROM link_metadata"), 2);
	ASSERT_INT_EQ(path_int(path, "SELECT count(*) FROM link_proceed_on"), 3);
	ASSERT_OK(store__delete_link(s, 1));
	ASSERT_INT_EQ(path_int(path, "SELECT count(*) FROM link_metadata"), 0);
	ASSERT_INT_EQ(path_int(path, "SELECT count(*) FROM link_proceed_on"), 0);
	ASSERT_OK(store__delete_program(s, 1));
	ASSERT_INT_EQ(path_int(path, "SELECT count(*) FROM program_metadata"), 0);
	ASSERT_INT_EQ(path_int(path, "SELECT count(*) FROM program_global_data"), 0);
	store__free(s);
}

TEST(fds_are_cloexec)
{
	const char *path = db_path_new();
	struct store *s = open_ok(path);
	char link[PATH_MAX], target[PATH_MAX];
	struct dirent *de;
	unsigned n = 0;
	DIR *d;

	put_program_ok(s, 1);
	d = opendir("/proc/self/fd");
	ASSERT_TRUE(d != NULL);
	while ((de = readdir(d))) {
		ssize_t k;

		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "/proc/self/fd/%s", de->d_name);
		k = readlink(link, target, sizeof(target) - 1);
		if (k < 0)
			continue;
		target[k] = 0;
		if (strncmp(target, path, strlen(path)) != 0)
			continue;
		n++;
		if (!(fcntl(atoi(de->d_name), F_GETFD) & FD_CLOEXEC)) {
			closedir(d);
			TEST_FAIL("fd %s (%s) lacks FD_CLOEXEC", de->d_name, target);
		}
	}
	closedir(d);
	ASSERT_TRUE(n >= 2); /* the database and its -wal (and -shm) */
	store__free(s);
}

/* ---- schema.sql ---- */

/* Drops comments and whitespace differences: "a ( b ,c )" and "a(b, c)" compare equal. */
static char *sql_normalize(const char *in)
{
	char *out = malloc(strlen(in) + 1), *o = out;
	bool space = false;

	if (!out)
		TEST_FAIL("malloc");
	for (const char *p = in; *p;) {
		if (p[0] == '-' && p[1] == '-') {
			p += strcspn(p, "\n");
			continue;
		}
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
			space = true;
			p++;
			continue;
		}
		if (space && o > out && !strchr("(,", o[-1]) && !strchr("),", *p))
			*o++ = ' ';
		space = false;
		*o++ = *p++;
	}
	*o = 0;
	return out;
}

/* One line per schema object, plus the pragmas and the seeded counters. */
static char *schema_dump(sqlite3 *db)
{
	_cleanup_(sqlite3_finalizep) sqlite3_stmt *st = NULL, *counters = NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		TEST_FAIL("open_memstream");
	fprintf(f, "user_version %lld\napplication_id %lld\n",
		(long long)raw_int(db, "PRAGMA user_version"),
		(long long)raw_int(db, "PRAGMA application_id"));
	if (sqlite3_prepare_v2(db,
			       "SELECT type, name, tbl_name, sql FROM sqlite_schema "
			       "ORDER BY type, name",
			       -1, &st, NULL) != SQLITE_OK)
		TEST_FAIL("prepare: %s", sqlite3_errmsg(db));
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *sql = (const char *)sqlite3_column_text(st, 3);
		_cleanup_free_ char *norm = sql ? sql_normalize(sql) : NULL;

		fprintf(f, "%s %s %s: %s\n", sqlite3_column_text(st, 0),
			sqlite3_column_text(st, 1), sqlite3_column_text(st, 2),
			norm ?: "(none)");
	}
	if (sqlite3_prepare_v2(db, "SELECT name, value FROM counters ORDER BY name", -1,
			       &counters, NULL) != SQLITE_OK)
		TEST_FAIL("prepare: %s", sqlite3_errmsg(db));
	while (sqlite3_step(counters) == SQLITE_ROW)
		fprintf(f, "counter %s = %lld\n", sqlite3_column_text(counters, 0),
			(long long)sqlite3_column_int64(counters, 1));
	fclose(f);
	return buf;
}

TEST(schema_sql_matches_migrations)
{
	const char *path = db_path_new();
	_cleanup_free_ char *text = NULL, *from_file = NULL, *from_store = NULL;
	_cleanup_(sqlite3_closep) sqlite3 *mem = NULL, *db = NULL;
	_cleanup_fclose_ FILE *f = NULL;
	size_t len = 0;

	f = fopen(SCHEMA_SQL_PATH, "re");
	if (!f)
		TEST_FAIL("%s: %m", SCHEMA_SQL_PATH);
	if (getdelim(&text, &len, '\0', f) < 0)
		TEST_FAIL("read %s: %m", SCHEMA_SQL_PATH);

	ASSERT_INT_EQ(sqlite3_open(":memory:", &mem), SQLITE_OK);
	raw_exec(mem, text);
	from_file = schema_dump(mem);

	store__free(open_ok(path));
	db = raw_open(path);
	from_store = schema_dump(db);

	ASSERT_STR_CONTAINS(from_file, "table links links: CREATE TABLE links (id INTEGER");
	ASSERT_STR_CONTAINS(from_file, "counter link_seq = 0");
	if (strcmp(from_file, from_store) != 0)
		TEST_FAIL("schema.sql and store.c's migrations differ:\n--- schema.sql\n%s"
			  "--- store.c\n%s",
			  from_file, from_store);
	ASSERT_INT_EQ(raw_int(mem, "PRAGMA user_version"), store__schema_version());
}

TEST(sqlite3_cli_reads_it)
{
	const char *path = db_path_new();
	_cleanup_free_ char *cmd = NULL, *out = NULL;
	struct store *s = open_ok(path);
	size_t len = 0;
	FILE *p;

	if (access("/usr/bin/sqlite3", X_OK) < 0) {
		store__free(s);
		printf("     (skipped: no /usr/bin/sqlite3)\n");
		return;
	}
	put_program_ok(s, 7);
	/* While bpfd holds it open in WAL mode, as a human debugging would. */
	if (asprintf(&cmd, "/usr/bin/sqlite3 -readonly '%s' .schema "
			   "'SELECT name FROM programs' 2>&1",
		     path) < 0)
		TEST_FAIL("asprintf");
	p = popen(cmd, "r");
	ASSERT_TRUE(p != NULL);
	if (getdelim(&out, &len, '\0', p) < 0) {
		pclose(p);
		TEST_FAIL("no output from sqlite3");
	}
	ASSERT_INT_EQ(pclose(p), 0);
	ASSERT_STR_CONTAINS(out, "CREATE TABLE links");
	ASSERT_STR_CONTAINS(out, "CREATE TABLE program_global_data");
	ASSERT_STR_CONTAINS(out, "xdp_pass");
	store__free(s);
}

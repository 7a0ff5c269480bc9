-- SPDX-License-Identifier: Apache-2.0
--
-- bpfd state store: the full schema at the current version (1). Contract and column meanings:
-- docs/state-store.md.
--
-- The binary creates and upgrades databases with the ordered migration steps in store.c;
-- test-store executes this file into an empty database and checks that the result is identical
-- (every CREATE statement, user_version, application_id, the seeded counters) to what the steps
-- produce, so this copy cannot drift. When the schema changes: append a step in store.c, update
-- this file to the new full schema, and add a line to the version history in the docs.
--
-- Comments stay outside the CREATE statements: SQLite keeps a statement's text verbatim in
-- sqlite_schema, and the comparison ignores comments and whitespace only.

-- 'bpfd' in ASCII: marks the file as a bpfd state database (file(1) shows it).
PRAGMA application_id = 1651533412;

-- Monotonic counters. 'link_id': the last link id handed out; 'link_seq': the last attach seq.
-- Never decreased, so neither ever repeats, even after rows are deleted and the file reopened.
CREATE TABLE counters (
	name TEXT PRIMARY KEY NOT NULL,
	value INTEGER NOT NULL CHECK (value >= 0)
) STRICT, WITHOUT ROWID;
INSERT INTO counters (name, value) VALUES ('link_id', 0), ('link_seq', 0);

-- One row per program bpfd loaded (struct program_record); id is the kernel program id.
CREATE TABLE programs (
	id INTEGER PRIMARY KEY CHECK (id BETWEEN 1 AND 4294967295),
	name TEXT NOT NULL,
	type INTEGER NOT NULL,
	kernel_type INTEGER NOT NULL,
	path TEXT,
	attach_fn TEXT,
	section TEXT,
	pin_path TEXT,
	map_pin_path TEXT,
	map_owner_id INTEGER NOT NULL DEFAULT 0,
	owner_uid INTEGER NOT NULL,
	uuid TEXT,
	created_usec INTEGER NOT NULL
) STRICT;

-- LoadRequest.metadata: string to string, returned ordered by key.
CREATE TABLE program_metadata (
	program_id INTEGER NOT NULL REFERENCES programs (id) ON DELETE CASCADE,
	key TEXT NOT NULL,
	value TEXT NOT NULL,
	PRIMARY KEY (program_id, key)
) STRICT, WITHOUT ROWID;

-- LoadRequest.global_data: variable name to raw bytes (may contain NULs), ordered by name.
CREATE TABLE program_global_data (
	program_id INTEGER NOT NULL REFERENCES programs (id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	value BLOB NOT NULL,
	PRIMARY KEY (program_id, name)
) STRICT, WITHOUT ROWID;

-- One row per attachment (struct link_record); id is bpfd's handle, seq the attach order.
-- A program cannot be deleted while links refer to it (RESTRICT; the store returns -EBUSY).
-- probe_offset holds the unsigned 64-bit offset as its two's-complement signed value.
CREATE TABLE links (
	id INTEGER PRIMARY KEY CHECK (id BETWEEN 1 AND 4294967295),
	prog_id INTEGER NOT NULL REFERENCES programs (id) ON DELETE RESTRICT,
	type INTEGER NOT NULL,
	kernel_link_id INTEGER NOT NULL DEFAULT 0,
	pin_path TEXT,
	owner_uid INTEGER NOT NULL,
	seq INTEGER NOT NULL UNIQUE CHECK (seq > 0),
	iface TEXT,
	ifindex INTEGER NOT NULL DEFAULT 0,
	priority INTEGER NOT NULL DEFAULT 0,
	direction TEXT,
	netns TEXT,
	tracepoint TEXT,
	fn_name TEXT,
	probe_offset INTEGER NOT NULL DEFAULT 0,
	target TEXT,
	pid INTEGER NOT NULL DEFAULT 0,
	retprobe INTEGER NOT NULL DEFAULT 0 CHECK (retprobe IN (0, 1))
) STRICT;
-- Links of one program in attach order; also serves the foreign key check on delete.
CREATE INDEX links_by_prog ON links (prog_id, seq);

-- XDP/TC proceed_on: the array element at position (0-based, order kept).
CREATE TABLE link_proceed_on (
	link_id INTEGER NOT NULL REFERENCES links (id) ON DELETE CASCADE,
	position INTEGER NOT NULL CHECK (position >= 0),
	value INTEGER NOT NULL,
	PRIMARY KEY (link_id, position)
) STRICT, WITHOUT ROWID;

-- Attach request metadata: string to string, returned ordered by key.
CREATE TABLE link_metadata (
	link_id INTEGER NOT NULL REFERENCES links (id) ON DELETE CASCADE,
	key TEXT NOT NULL,
	value TEXT NOT NULL,
	PRIMARY KEY (link_id, key)
) STRICT, WITHOUT ROWID;

PRAGMA user_version = 1;

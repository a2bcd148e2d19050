/* ROWS items (rows.c): written and read back; refused, never overread, when
 * damaged; the worked examples of doc/log-entry-format.md byte for byte, as
 * the leader really records them; and entries of the older format (SQLite
 * changesets, version 1) still applied by this build. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>
#include <uv.h>

#include "internal/db/cluster/gdb_private.h"
#include "internal/db/cluster/rows.h"
#include "internal/lib/err.h"
#include "test/unit/cluster/cluster_fixture.h"

/* A gdb of its own, without raft: batches run on its exec connection and
 * entries are applied by hand. */
struct solo {
	uv_loop_t loop;
	struct gdb *g;
	char dir[64];
	bool closed;
};

static void solo_open(struct solo *s)
{
	char path[128];
	char errmsg[TM_ERRMSG_SIZE];
	snprintf(s->dir, sizeof s->dir, "/tmp/tm-rows-XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	snprintf(path, sizeof path, "%s/g.db", s->dir);
	assert_int_equal(uv_loop_init(&s->loop), 0);
	if (gdb_init(&s->g, &s->loop, path, errmsg) != 0) {
		fail_msg("gdb_init: %s", errmsg);
	}
	s->closed = false;
}

static void solo_closed(void *arg)
{
	struct solo *s = arg;
	s->closed = true;
}

static void solo_close(struct solo *s)
{
	gdb_close(s->g, solo_closed, s);
	while (!s->closed) {
		uv_run(&s->loop, UV_RUN_ONCE);
	}
	assert_int_equal(uv_loop_close(&s->loop), 0);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
	assert_int_equal(system(cmd), 0);
}

/* Run SQLS (one request each, N of them) as one batch on S's exec
 * connection, every statement succeeding; the entry it made. */
static struct raft_buffer run_batch(struct solo *s, const char *const *sqls,
				    size_t n)
{
	struct gdb_stmt stmts[8];
	struct gdb_request reqs[8];
	struct gdb_request *p[8];
	struct raft_buffer buf = {0};
	char errmsg[TM_ERRMSG_SIZE];
	bool changed = false;
	size_t ran = 0;
	assert_true(n <= 8);
	memset(stmts, 0, sizeof stmts);
	memset(reqs, 0, sizeof reqs);
	for (size_t i = 0; i < n; i++) {
		stmts[i].sql = (char *)sqls[i];
		reqs[i].stmts = &stmts[i];
		reqs[i].n_stmts = 1;
		p[i] = &reqs[i];
	}
	assert_int_equal(
	    gdb_write_batch(&s->g->exec, p, n, 0, &buf, &changed, &ran, errmsg),
	    0);
	assert_int_equal(ran, n);
	for (size_t i = 0; i < n; i++) {
		if (reqs[i].results[0].status != 0) {
			fail_msg("%s: %s", sqls[i], reqs[i].results[0].error);
		}
		gdb_request_clear(&reqs[i]);
	}
	assert_true(changed);
	return buf;
}

/* Apply an encoded entry through the state machine, as raft would. */
static void apply(struct solo *s, const void *data, size_t len)
{
	struct raft_buffer buf = {.base = (void *)data, .len = len};
	struct raft_fsm *fsm = gdb_fsm(s->g);
	void *result = NULL;
	assert_int_equal(fsm->apply(fsm, &buf, &result), 0);
}

static void hexdump(const char *what, const uint8_t *p, size_t n)
{
	fprintf(stderr, "%s (%zu bytes):\n", what, n);
	for (size_t i = 0; i < n; i++) {
		fprintf(stderr, "%02x%s", p[i], i % 16 == 15 ? "\n" : " ");
	}
	fprintf(stderr, "\n");
}

static void expect_bytes(const char *what, const uint8_t *got, size_t n_got,
			 const uint8_t *want, size_t n_want)
{
	if (n_got != n_want || memcmp(got, want, n_got) != 0) {
		hexdump("got", got, n_got);
		hexdump("want", want, n_want);
		fail_msg("%s: bytes differ", what);
	}
}

/* Writing and reading back. */

static void write_sample(struct gdb_rows_writer *w)
{
	static const uint8_t pk[] = {0, 1};
	gdb_rows_run(w, false, 3, NULL, "t");
	gdb_rows_begin(w, GDB_ROWS_INSERT);
	gdb_rows_rowid(w, -5);
	gdb_rows_integer(w, INT64_MIN);
	gdb_rows_real(w, -0.0);
	gdb_rows_text(w, GDB_ROWS_TEXT, "", 0);
	gdb_rows_end(w);
	gdb_rows_run(w, false, 3, NULL, "t"); /* same run */
	gdb_rows_begin(w, GDB_ROWS_UPDATE);
	gdb_rows_rowid(w, -5);
	gdb_rows_rowid(w, 7);
	gdb_rows_type_only(w, GDB_ROWS_UNCHANGED);
	gdb_rows_type_only(w, GDB_ROWS_NULL);
	gdb_rows_text(w, GDB_ROWS_BLOB, "\0\1", 2);
	gdb_rows_end(w);
	gdb_rows_begin(w, GDB_ROWS_UPDATE); /* canceled: nothing changed */
	gdb_rows_rowid(w, 7);
	gdb_rows_rowid(w, 7);
	gdb_rows_cancel(w);
	gdb_rows_run(w, true, 2, pk, "kv");
	gdb_rows_begin(w, GDB_ROWS_DELETE);
	gdb_rows_text(w, GDB_ROWS_TEXT, "key", 3);
	gdb_rows_end(w);
	gdb_rows_run(w, true, 2, pk, "empty"); /* a run left empty */
	gdb_rows_run(w, false, 3, NULL, "t");
	gdb_rows_begin(w, GDB_ROWS_DELETE);
	gdb_rows_rowid(w, 7);
	gdb_rows_end(w);
	gdb_rows_finish(w);
}

static void test_round_trip(void **state)
{
	struct gdb_rows_writer w = {0};
	struct gdb_rows_iter it;
	char errmsg[TM_ERRMSG_SIZE];
	(void)state;
	write_sample(&w);
	assert_null(strstr((const char *)w.out.p, "empty"));

	gdb_rows_iter_init(&it, w.out.p, w.out.len);
	assert_int_equal(gdb_rows_next(&it, errmsg), 1);
	assert_true(it.new_run);
	assert_false(it.run.keyed);
	assert_string_equal(it.run.table, "t");
	assert_int_equal(it.run.n_cols, 3);
	assert_int_equal(it.change.op, GDB_ROWS_INSERT);
	assert_int_equal(it.change.rowid, -5);
	assert_int_equal(it.change.values[0].type, GDB_ROWS_INTEGER);
	assert_true(it.change.values[0].i == INT64_MIN);
	assert_int_equal(it.change.values[1].type, GDB_ROWS_REAL);
	double r = it.change.values[1].r;
	double negzero = -0.0;
	assert_memory_equal(&r, &negzero, sizeof r);
	assert_int_equal(it.change.values[2].type, GDB_ROWS_TEXT);
	assert_int_equal(it.change.values[2].n, 0);

	assert_int_equal(gdb_rows_next(&it, errmsg), 1);
	assert_false(it.new_run);
	assert_int_equal(it.change.op, GDB_ROWS_UPDATE);
	assert_int_equal(it.change.rowid, -5);
	assert_int_equal(it.change.new_rowid, 7);
	assert_int_equal(it.change.values[0].type, GDB_ROWS_UNCHANGED);
	assert_int_equal(it.change.values[1].type, GDB_ROWS_NULL);
	assert_int_equal(it.change.values[2].type, GDB_ROWS_BLOB);
	assert_memory_equal(it.change.values[2].p, "\0\1", 2);

	assert_int_equal(gdb_rows_next(&it, errmsg), 1);
	assert_true(it.new_run);
	assert_true(it.run.keyed);
	assert_string_equal(it.run.table, "kv");
	assert_int_equal(it.run.n_pk, 1);
	assert_int_equal(it.change.op, GDB_ROWS_DELETE);
	assert_null(it.change.values);
	assert_int_equal(it.change.key[0].type, GDB_ROWS_TEXT);
	assert_memory_equal(it.change.key[0].p, "key", 3);

	assert_int_equal(gdb_rows_next(&it, errmsg), 1);
	assert_true(it.new_run);
	assert_string_equal(it.run.table, "t");
	assert_int_equal(it.change.op, GDB_ROWS_DELETE);
	assert_int_equal(it.change.rowid, 7);

	assert_int_equal(gdb_rows_next(&it, errmsg), 0);
	gdb_rows_iter_release(&it);
	gdb_rows_release(&w);
}

static int read_all(const uint8_t *p, size_t n, char *errmsg)
{
	struct gdb_rows_iter it;
	int rv;
	gdb_rows_iter_init(&it, p, n);
	while ((rv = gdb_rows_next(&it, errmsg)) == 1) {
	}
	gdb_rows_iter_release(&it);
	return rv;
}

/* Every proper prefix of a one-run item is refused. Copies, so that ASan
 * sees any read past the end. */
static void test_truncations_refused(void **state)
{
	struct gdb_rows_writer w = {0};
	char errmsg[TM_ERRMSG_SIZE];
	(void)state;
	gdb_rows_run(&w, false, 2, NULL, "t");
	for (int i = 0; i < 3; i++) {
		gdb_rows_begin(&w, GDB_ROWS_INSERT);
		gdb_rows_rowid(&w, i);
		gdb_rows_text(&w, GDB_ROWS_TEXT, "abc", 3);
		gdb_rows_real(&w, 1.5);
		gdb_rows_end(&w);
	}
	gdb_rows_finish(&w);
	assert_int_equal(read_all(w.out.p, w.out.len, errmsg), 0);
	for (size_t n = 0; n < w.out.len; n++) {
		uint8_t *copy = malloc(n + 1);
		memcpy(copy, w.out.p, n);
		assert_int_equal(read_all(copy, n, errmsg), TM_CORRUPT);
		free(copy);
	}
	gdb_rows_release(&w);
}

/* One field patched in a valid item: refused with WORDS. */
static void expect_patched(const uint8_t *item, size_t n, size_t offset,
			   const uint8_t *bytes, size_t n_bytes,
			   const char *words)
{
	char errmsg[TM_ERRMSG_SIZE];
	uint8_t *copy = malloc(n);
	memcpy(copy, item, n);
	memcpy(copy + offset, bytes, n_bytes);
	assert_int_equal(read_all(copy, n, errmsg), TM_CORRUPT);
	if (strstr(errmsg, words) == NULL) {
		fail_msg("\"%s\" lacks \"%s\"", errmsg, words);
	}
	free(copy);
}

static void test_bad_fields(void **state)
{
	(void)state;
	/* A rowid run of table "t", 2 columns: an UPDATE of rowid 1 that
	 * changes column 2 to 5. Offsets: kind 0, n_cols 1, name_len 3,
	 * name 7, n_changes 8, op 12, rowids 13 and 21, values 29. */
	static const uint8_t upd[] = {
	    'R', 2, 0, 1, 0, 0, 0, 't', 1, 0, 0, 0, 2, 1, 0, 0, 0, 0, 0, 0,
	    0,	 1, 0, 0, 0, 0, 0, 0,	0, 0, 1, 5, 0, 0, 0, 0, 0, 0, 0,
	};
	char errmsg[TM_ERRMSG_SIZE];
	assert_int_equal(read_all(upd, sizeof upd, errmsg), 0);
	expect_patched(upd, sizeof upd, 0, (const uint8_t *)"X", 1,
		       "unknown table kind");
	expect_patched(upd, sizeof upd, 1, (const uint8_t[]){0, 0}, 2,
		       "column count out of range");
	expect_patched(upd, sizeof upd, 1, (const uint8_t[]){0xff, 0xff}, 2,
		       "column count out of range");
	expect_patched(upd, sizeof upd, 3, (const uint8_t[]){0, 0, 0, 0}, 4,
		       "bad table name");
	expect_patched(upd, sizeof upd, 3, (const uint8_t[]){0xff, 0, 0, 0}, 4,
		       "bad table name");
	expect_patched(upd, sizeof upd, 7, (const uint8_t[]){0}, 1,
		       "bad table name");
	expect_patched(upd, sizeof upd, 8, (const uint8_t[]){0, 0, 0, 0}, 4,
		       "change count out of range");
	expect_patched(upd, sizeof upd, 8, (const uint8_t[]){2, 0, 0, 0}, 4,
		       "cut short");
	expect_patched(upd, sizeof upd, 12, (const uint8_t[]){4}, 1,
		       "unknown operation");
	expect_patched(upd, sizeof upd, 29, (const uint8_t[]){6}, 1,
		       "unknown value type");
	expect_patched(upd, sizeof upd, 30, (const uint8_t[]){0}, 1,
		       "UPDATE that changes nothing");
	/* Keyed runs: key positions. */
	static const uint8_t del[] = {
	    'K', 2, 0, 0, 1, 1, 0, 0, 0, 'k', 1, 0, 0, 0, 3, 3, 1, 0, 0, 0, 'a',
	};
	assert_int_equal(read_all(del, sizeof del, errmsg), 0);
	expect_patched(del, sizeof del, 3, (const uint8_t[]){0, 0}, 2,
		       "keyed run without a key");
	expect_patched(del, sizeof del, 3, (const uint8_t[]){1, 1}, 2,
		       "key position repeated");
	expect_patched(del, sizeof del, 3, (const uint8_t[]){2, 0}, 2,
		       "key positions not 1..n");
	expect_patched(del, sizeof del, 15, (const uint8_t[]){5}, 1,
		       "NULL in a primary key");
	expect_patched(del, sizeof del, 15, (const uint8_t[]){0}, 1,
		       "unchanged value outside an UPDATE");
	expect_patched(del, sizeof del, 16, (const uint8_t[]){2}, 1,
		       "value longer than the item");
	assert_int_equal(read_all(del, 0, errmsg), TM_CORRUPT);
	assert_non_null(strstr(errmsg, "empty"));
}

/* Random damage never crashes nor reads past the item (ASan). */
static void test_random_damage(void **state)
{
	struct gdb_rows_writer w = {0};
	char errmsg[TM_ERRMSG_SIZE];
	unsigned seed = 12345;
	(void)state;
	write_sample(&w);
	for (int round = 0; round < 20000; round++) {
		uint8_t *copy = malloc(w.out.len);
		memcpy(copy, w.out.p, w.out.len);
		int flips = 1 + (int)(rand_r(&seed) % 4);
		for (int f = 0; f < flips; f++) {
			copy[rand_r(&seed) % w.out.len] =
			    (uint8_t)rand_r(&seed);
		}
		size_t n = w.out.len - (size_t)(rand_r(&seed) % 3);
		int rv = read_all(copy, n, errmsg);
		assert_true(rv == 0 || rv == TM_CORRUPT);
		free(copy);
	}
	gdb_rows_release(&w);
}

/* The worked example of doc/log-entry-format.md, "a write entry of version
 * 3": these requests, run as one batch by the leader. */
static const char *const example_sqls[] = {
    "CREATE TABLE k(a TEXT PRIMARY KEY, b)",
    "INSERT INTO k VALUES('x', 1), ('y', 2)",
    "REPLACE INTO k VALUES('x', 3)",
    "UPDATE k SET b = 5 WHERE a = 'y'",
};

/* clang-format off */
static const uint8_t example_entry[] = {
    0x54, 0x4d, 0x44, 0x42, 0x03, 0x00, 0x01, 0x00, /* TMDB, v3, write */
    0x04, 0x00, 0x00, 0x00,                         /* 4 requests */
    /* request 1: 1 item, SQL, 37 bytes */
    0x01, 0x00, 0x00, 0x00, 0x02, 0x25, 0x00, 0x00, 0x00,
    'C', 'R', 'E', 'A', 'T', 'E', ' ', 'T', 'A', 'B', 'L', 'E', ' ',
    'k', '(', 'a', ' ', 'T', 'E', 'X', 'T', ' ', 'P', 'R', 'I', 'M',
    'A', 'R', 'Y', ' ', 'K', 'E', 'Y', ',', ' ', 'b', ')',
    /* request 2: 1 item, ROWS, 60 bytes */
    0x01, 0x00, 0x00, 0x00, 0x03, 0x3c, 0x00, 0x00, 0x00,
    0x52, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00, 0x6b, /* R, 2 cols, "k" */
    0x02, 0x00, 0x00, 0x00,                         /* 2 changes */
    0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* INSERT 1 */
    0x03, 0x01, 0x00, 0x00, 0x00, 0x78,             /* 'x' */
    0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 1 */
    0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* INSERT 2 */
    0x03, 0x01, 0x00, 0x00, 0x00, 0x79,             /* 'y' */
    0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 2 */
    /* request 3: 1 item, ROWS, 45 bytes */
    0x01, 0x00, 0x00, 0x00, 0x03, 0x2d, 0x00, 0x00, 0x00,
    0x52, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00, 0x6b,
    0x02, 0x00, 0x00, 0x00,
    0x03, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* DELETE 1 */
    0x01, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* INSERT 3 */
    0x03, 0x01, 0x00, 0x00, 0x00, 0x78,             /* 'x' */
    0x01, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 3 */
    /* request 4: 1 item, ROWS, 39 bytes */
    0x01, 0x00, 0x00, 0x00, 0x03, 0x27, 0x00, 0x00, 0x00,
    0x52, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00, 0x6b,
    0x01, 0x00, 0x00, 0x00,
    0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* UPDATE 2 */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,       /* ... to 2 */
    0x00,                                           /* a unchanged */
    0x01, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* b = 5 */
    0x00, 0x00, 0x00,                               /* padding to 232 */
};

/* The ROWS item of "UPDATE w SET v = 'b' WHERE k = 1" on
 * CREATE TABLE w(k INTEGER PRIMARY KEY, v) WITHOUT ROWID. */
static const uint8_t example_keyed[] = {
    0x4b, 0x02, 0x00, 0x01, 0x00,                   /* K, 2 cols, key k */
    0x01, 0x00, 0x00, 0x00, 0x77,                   /* "w" */
    0x01, 0x00, 0x00, 0x00,                         /* 1 change */
    0x02,                                           /* UPDATE */
    0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* key 1 */
    0x00,                                           /* k unchanged */
    0x03, 0x01, 0x00, 0x00, 0x00, 0x62,             /* v = 'b' */
};
/* clang-format on */

/* A transaction left open on the exec connection does not wedge the
 * leader: the next batch ends it and runs. */
static void test_batch_after_a_stray_transaction(void **state)
{
	struct solo s;
	(void)state;
	solo_open(&s);
	assert_int_equal(sqlite3_exec(gdb_batch_conn(s.g), "BEGIN", NULL, NULL,
				      NULL),
			 SQLITE_OK);
	static const char *const sqls[] = {"CREATE TABLE t(a)",
					   "INSERT INTO t VALUES(1)"};
	struct raft_buffer buf = run_batch(&s, sqls, 2);
	assert_true(sqlite3_get_autocommit(gdb_batch_conn(s.g)));
	raft_free(buf.base);
	solo_close(&s);
}

/* The leader really writes those bytes; every member applying them,
 * the leader included, holds the rows with the leader's rowids. */
static void test_worked_example(void **state)
{
	struct solo leader;
	struct solo member;
	(void)state;
	assert_int_equal(sizeof example_entry, 232);
	solo_open(&leader);
	solo_open(&member);
	struct raft_buffer buf = run_batch(&leader, example_sqls, 4);
	expect_bytes("worked example", buf.base, buf.len, example_entry,
		     sizeof example_entry);
	apply(&leader, buf.base, buf.len);
	apply(&member, buf.base, buf.len);
	raft_free(buf.base);

	char *a = cf_dump_db(gdb_exec_conn(leader.g));
	char *b = cf_dump_db(gdb_exec_conn(member.g));
	assert_string_equal(a, b);
	/* rowid | a | b, in rowid order: y kept rowid 2, x moved to 3. */
	if (strstr(a, "table k\n  i:2 | t:79 | i:5\n  i:3 | t:78 | i:3\n") ==
	    NULL) {
		fail_msg("dump: %s", a);
	}
	free(a);
	free(b);

	static const char *const keyed[] = {
	    "CREATE TABLE w(k INTEGER PRIMARY KEY, v) WITHOUT ROWID",
	    "INSERT INTO w VALUES(1, 'a')",
	    "UPDATE w SET v = 'b' WHERE k = 1",
	};
	buf = run_batch(&leader, keyed, 3);
	struct gdb_entry e;
	char errmsg[TM_ERRMSG_SIZE];
	assert_int_equal(gdb_entry_decode(buf.base, buf.len, &e, errmsg), 0);
	assert_int_equal(e.n_requests, 3);
	assert_int_equal(e.requests[2].items[0].kind, GDB_ITEM_ROWS);
	expect_bytes("keyed example", e.requests[2].items[0].data,
		     e.requests[2].items[0].len, example_keyed,
		     sizeof example_keyed);
	gdb_entry_release(&e);
	apply(&member, buf.base, buf.len);
	raft_free(buf.base);
	assert_int_equal(
	    cf_query_int_db(gdb_exec_conn(member.g),
			    "SELECT count(*) FROM w WHERE v = 'b'"),
	    1);
	solo_close(&member);
	solo_close(&leader);
}

/* One statement's item as a version 1 leader recorded it: a SQLite
 * session's changeset for data statements, the text for schema ones. The
 * statement runs on DB too. */
static struct gdb_item legacy_item(sqlite3 *db, const char *sql)
{
	sqlite3_session *s;
	int n = 0;
	void *p = NULL;
	assert_int_equal(sqlite3session_create(db, "main", &s), SQLITE_OK);
	assert_int_equal(sqlite3session_attach(s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3session_changeset(s, &n, &p), SQLITE_OK);
	sqlite3session_delete(s);
	if (n > 0) {
		return (struct gdb_item){GDB_ITEM_CHANGESET, p, (size_t)n};
	}
	sqlite3_free(p);
	return (struct gdb_item){GDB_ITEM_SQL, (const uint8_t *)sql,
				 strlen(sql)};
}

/* A member upgraded to this build replays the entries its log already
 * holds (format version 1: changesets), then the new ones. */
static void test_version_1_entries_still_apply(void **state)
{
	static const char *const sqls[] = {
	    "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)",
	    "CREATE TABLE w(k TEXT PRIMARY KEY, n INT) WITHOUT ROWID",
	    "INSERT INTO t(v) VALUES('a'), ('b'), ('c')",
	    "UPDATE t SET v = upper(v) WHERE id >= 2",
	    "DELETE FROM t WHERE id = 1",
	    "INSERT INTO w VALUES('x', 1), ('y', 2)",
	    "INSERT INTO w VALUES('x', 5) ON CONFLICT(k) DO UPDATE "
	    "SET n = excluded.n",
	};
	enum { N = sizeof sqls / sizeof *sqls };
	struct gdb_item items[N];
	struct gdb_entry_request reqs[N];
	struct solo member;
	sqlite3 *db;
	(void)state;

	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	for (size_t i = 0; i < N; i++) {
		items[i] = legacy_item(db, sqls[i]);
		reqs[i] = (struct gdb_entry_request){1, &items[i]};
	}
	struct gdb_entry e = {
	    .type = GDB_ENTRY_WRITE, .n_requests = N, .requests = reqs};
	size_t len = gdb_entry_size(&e);
	uint8_t *buf = malloc(len);
	gdb_entry_encode(&e, buf);
	assert_int_equal(buf[4], 1); /* written as version 1 */
	for (size_t i = 0; i < N; i++) {
		if (items[i].kind == GDB_ITEM_CHANGESET) {
			sqlite3_free((void *)items[i].data);
		}
	}

	solo_open(&member);
	apply(&member, buf, len);
	free(buf);
	char *want = cf_dump_db(db);
	char *got = cf_dump_db(gdb_exec_conn(member.g));
	assert_string_equal(got, want);
	free(got);

	/* New entries on top of the old ones. */
	static const char *const more[] = {
	    "INSERT INTO t(v) VALUES('d')",
	    "DELETE FROM w WHERE k = 'y'",
	};
	struct raft_buffer next = run_batch(&member, more, 2);
	assert_int_equal(((uint8_t *)next.base)[4], 3);
	apply(&member, next.base, next.len);
	raft_free(next.base);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(sqlite3_exec(db, more[i], NULL, NULL, NULL),
				 SQLITE_OK);
	}
	free(want);
	want = cf_dump_db(db);
	got = cf_dump_db(gdb_exec_conn(member.g));
	assert_string_equal(got, want);
	free(want);
	free(got);
	sqlite3_close(db);
	solo_close(&member);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_truncations_refused),
	    cmocka_unit_test(test_bad_fields),
	    cmocka_unit_test(test_random_damage),
	    cmocka_unit_test(test_worked_example),
	    cmocka_unit_test(test_batch_after_a_stray_transaction),
	    cmocka_unit_test(test_version_1_entries_still_apply),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

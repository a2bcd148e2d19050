/* Requests: group commit, per-request and per-statement failures,
 * transactions, refusals, reads and their consistency levels, leadership. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "test/unit/cluster/cluster_fixture.h"

static int setup(void **state)
{
	struct cf *c = malloc(sizeof *c);
	cf_setup(c, 3);
	cf_exec(c, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT UNIQUE)");
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct cf *c = *state;
	cf_teardown(c);
	free(c);
	return 0;
}

static const struct gdb_result *res(const struct cf_req *r, size_t i)
{
	assert_non_null(r->req.results);
	assert_true(i < r->req.n_stmts);
	return &r->req.results[i];
}

static struct gdb_stats stats(struct cf *c, unsigned i)
{
	struct gdb_stats s;
	gdb_get_stats(c->gdb[i], &s);
	return s;
}

static bool all_done(struct cf *c, void *arg)
{
	struct cf_req *reqs = arg;
	(void)c;
	for (size_t i = 0; reqs[i].req.n_stmts > 0; i++) {
		if (!reqs[i].done) {
			return false;
		}
	}
	return true;
}

/* Writes submitted while an entry is in flight go out together as the next
 * entry; each keeps its own result. */
static void test_group_commit(void **state)
{
	struct cf *c = *state;
	enum { N = 6 };
	struct cf_req first;
	struct cf_req more[N + 1]; /* terminated by n_stmts == 0 */
	char sql[N][64];
	struct gdb_stats before = stats(c, 0);

	cf_req_init(&first, false, "INSERT INTO t VALUES(1, 'first')", NULL);
	cf_submit_write(c, 0, &first);
	uv_run(&c->loop, UV_RUN_NOWAIT); /* the leader proposes it */
	assert_int_equal(stats(c, 0).entries_proposed,
			 before.entries_proposed + 1);
	assert_false(first.done);

	memset(more, 0, sizeof more);
	for (int i = 0; i < N; i++) {
		snprintf(sql[i], sizeof sql[i],
			 "INSERT INTO t VALUES(%d, 'v%d') RETURNING id", 10 + i,
			 i);
		cf_req_init(&more[i], false, sql[i], NULL);
		cf_submit_write(c, 0, &more[i]);
	}
	uv_run(&c->loop, UV_RUN_NOWAIT);
	/* Nothing more goes out while the first entry is in flight. */
	assert_int_equal(stats(c, 0).entries_proposed,
			 before.entries_proposed + 1);
	assert_true(cf_step_until(c, all_done, more, CF_TIMEOUT_MS));
	assert_true(first.done);
	assert_int_equal(first.status, 0);

	struct gdb_stats after = stats(c, 0);
	assert_int_equal(after.entries_proposed, before.entries_proposed + 2);
	assert_int_equal(after.requests_proposed,
			 before.requests_proposed + 1 + N);
	assert_int_equal(after.max_requests_entry, N);
	for (int i = 0; i < N; i++) {
		assert_int_equal(more[i].status, 0);
		assert_int_equal(res(&more[i], 0)->status, 0);
		assert_int_equal(res(&more[i], 0)->rows[0].i, 10 + i);
		cf_req_clear(&more[i]);
	}
	cf_req_clear(&first);
	free(cf_assert_identical(c));
	assert_int_equal(cf_query_int(c, 2, "SELECT count(*) FROM t"), 1 + N);
}

/* In one batch, a request whose statement violates a constraint fails
 * alone; the others commit. */
static void test_batch_with_one_failure(void **state)
{
	struct cf *c = *state;
	struct cf_req r[4];
	memset(r, 0, sizeof r);
	cf_req_init(&r[0], false, "INSERT INTO t VALUES(1, 'a')", NULL);
	cf_req_init(&r[1], false, "INSERT INTO t VALUES(2, 'a')", NULL);
	cf_req_init(&r[2], false, "INSERT INTO t VALUES(3, 'c')", NULL);
	for (int i = 0; i < 3; i++) {
		cf_submit_write(c, 0, &r[i]);
	}
	struct gdb_stats before = stats(c, 0);
	assert_true(cf_step_until(c, all_done, r, CF_TIMEOUT_MS));
	assert_int_equal(stats(c, 0).entries_proposed,
			 before.entries_proposed + 1);
	assert_int_equal(r[0].status, 0);
	assert_int_equal(r[1].status, 0); /* non-transaction: per statement */
	assert_int_equal(res(&r[1], 0)->status, TM_CONFLICT);
	assert_string_equal(res(&r[1], 0)->error,
			    "UNIQUE constraint failed: t.v");
	assert_int_equal(r[2].status, 0);
	assert_int_equal(res(&r[2], 0)->status, 0);
	for (int i = 0; i < 3; i++) {
		cf_req_clear(&r[i]);
	}
	free(cf_assert_identical(c));
	assert_int_equal(cf_query_int(c, 1, "SELECT count(*) FROM t"), 2);
	assert_int_equal(cf_query_int(c, 1,
				      "SELECT count(*) FROM t WHERE "
				      "id = 2"),
			 0);
}

/* transaction=true: one failing statement and nothing of the request is
 * applied; each result says what happened to it. */
static void test_transaction_all_or_nothing(void **state)
{
	struct cf *c = *state;
	struct cf_req r;
	cf_req_init(&r, true, "INSERT INTO t VALUES(1, 'a')",
		    "CREATE TABLE newer(id INTEGER PRIMARY KEY)",
		    "INSERT INTO t VALUES(2, 'a')",
		    "INSERT INTO t VALUES(3, 'c')", NULL);
	assert_int_equal(cf_write(c, 0, &r), TM_CONFLICT);
	assert_string_equal(r.req.errmsg,
			    "statement 3: UNIQUE constraint failed: t.v");
	assert_int_equal(res(&r, 0)->status, TM_CANCELED);
	assert_string_equal(res(&r, 0)->error,
			    "rolled back: statement 3 of this transaction "
			    "failed");
	assert_int_equal(res(&r, 1)->status, TM_CANCELED);
	assert_int_equal(res(&r, 2)->status, TM_CONFLICT);
	assert_int_equal(res(&r, 3)->status, TM_CANCELED);
	assert_string_equal(res(&r, 3)->error,
			    "not executed: statement 3 of this transaction "
			    "failed");
	cf_req_clear(&r);
	free(cf_assert_identical(c));
	for (unsigned i = 0; i < c->n; i++) {
		assert_int_equal(cf_query_int(c, i, "SELECT count(*) FROM t"),
				 0);
		assert_int_equal(cf_query_int(c, i,
					      "SELECT count(*) FROM "
					      "sqlite_schema WHERE name = "
					      "'newer'"),
				 0);
	}

	/* The same without the flag: statements stand alone. */
	r.req.transaction = false;
	assert_int_equal(cf_write(c, 0, &r), 0);
	assert_int_equal(res(&r, 0)->status, 0);
	assert_int_equal(res(&r, 2)->status, TM_CONFLICT);
	assert_int_equal(res(&r, 3)->status, 0);
	cf_req_clear(&r);
	free(cf_assert_identical(c));
	assert_int_equal(cf_query_int(c, 2, "SELECT count(*) FROM t"), 2);
}

/* Deferred foreign keys are checked where a commit would check them: at the
 * end of each statement of a non-transaction request, at the end of a
 * transaction request. */
static void test_deferred_foreign_keys(void **state)
{
	struct cf *c = *state;
	struct cf_req r;
	cf_exec(c, "CREATE TABLE p(id INTEGER PRIMARY KEY)");
	cf_exec(c, "CREATE TABLE ch(id INTEGER PRIMARY KEY, pid INT "
		   "REFERENCES p(id) DEFERRABLE INITIALLY DEFERRED)");

	cf_req_init(&r, false, "INSERT INTO ch VALUES(1, 10)",
		    "INSERT INTO p VALUES(10)", NULL);
	assert_int_equal(cf_write(c, 0, &r), 0);
	assert_int_equal(res(&r, 0)->status, TM_CONFLICT);
	assert_string_equal(res(&r, 0)->error,
			    "FOREIGN KEY constraint failed (deferred)");
	assert_int_equal(res(&r, 1)->status, 0);
	cf_req_clear(&r);

	/* In a transaction the parent may come later... */
	cf_req_init(&r, true, "INSERT INTO ch VALUES(2, 20)",
		    "INSERT INTO p VALUES(20)", NULL);
	assert_int_equal(cf_write(c, 0, &r), 0);
	cf_req_clear(&r);

	/* ... but must come. */
	cf_req_init(&r, true, "INSERT INTO ch VALUES(3, 30)",
		    "INSERT INTO p VALUES(31)", NULL);
	assert_int_equal(cf_write(c, 0, &r), TM_CONFLICT);
	assert_string_equal(r.req.errmsg,
			    "FOREIGN KEY constraint failed (deferred)");
	assert_int_equal(res(&r, 0)->status, TM_CANCELED);
	assert_string_equal(res(&r, 1)->error,
			    "rolled back: the transaction left a deferred "
			    "foreign key violated");
	cf_req_clear(&r);

	free(cf_assert_identical(c));
	assert_int_equal(cf_query_int(c, 2, "SELECT count(*) FROM ch"), 1);
	assert_int_equal(cf_query_int(c, 2, "SELECT count(*) FROM p"), 2);
	assert_int_equal(cf_query_int(c, 2,
				      "SELECT count(*) FROM "
				      "pragma_foreign_key_check"),
			 0);
}

/* A batch of reads only, or of failures only, is answered without an
 * entry. */
static void test_no_change_no_entry(void **state)
{
	struct cf *c = *state;
	struct cf_req r;
	struct gdb_stats before = stats(c, 0);
	cf_req_init(&r, false, "SELECT 1", "INSERT INTO nope VALUES(1)",
		    "UPDATE t SET v = 'x' WHERE id = 12345", NULL);
	assert_int_equal(cf_write(c, 0, &r), 0);
	assert_int_equal(res(&r, 0)->rows[0].i, 1);
	assert_int_equal(res(&r, 1)->status, TM_INVALID);
	assert_string_equal(res(&r, 1)->error, "no such table: nope");
	assert_int_equal(res(&r, 2)->status, 0);
	assert_int_equal(res(&r, 2)->rows_affected, 0);
	cf_req_clear(&r);
	struct gdb_stats after = stats(c, 0);
	assert_int_equal(after.entries_proposed, before.entries_proposed);
	assert_int_equal(after.batches_unchanged, before.batches_unchanged + 1);
}

/* Below the free-space reserve, writes are refused before anything is
 * executed or proposed; with space back they go through again. */
static void test_low_disk_space_refuses_writes(void **state)
{
	struct cf *c = *state;
	struct cf_req r;
	struct gdb_stats before = stats(c, 0);
	gdb_set_min_free_space(c->gdb[0], UINT64_MAX / 2);
	cf_req_init(&r, false, "INSERT INTO t(v) VALUES ('refused')", NULL);
	assert_int_equal(cf_write(c, 0, &r), TM_NOSPACE);
	assert_null(r.req.results);
	assert_non_null(strstr(r.req.errmsg, "not enough disk space"));
	assert_non_null(strstr(r.req.errmsg, "kept in reserve"));
	cf_req_clear(&r);
	struct gdb_stats after = stats(c, 0);
	assert_int_equal(after.entries_proposed, before.entries_proposed);

	gdb_set_min_free_space(c->gdb[0], 1);
	cf_req_init(&r, false, "INSERT INTO t(v) VALUES ('accepted')", NULL);
	assert_int_equal(cf_write(c, 0, &r), 0);
	assert_int_equal(res(&r, 0)->rows_affected, 1);
	cf_req_clear(&r);
	assert_int_equal(cf_query_int(c, 0,
				      "SELECT count(*) FROM t WHERE v = "
				      "'refused'"),
			 0);
}

static void expect_refused(struct cf *c, const char *sql, const char *error)
{
	struct cf_req r;
	cf_req_init(&r, false, sql, NULL);
	assert_int_equal(cf_write(c, 0, &r), 0);
	if (res(&r, 0)->status == 0) {
		fail_msg("not refused: %s", sql);
	}
	if (strstr(res(&r, 0)->error, error) == NULL) {
		fail_msg("%s: got \"%s\", want \"%s\"", sql, res(&r, 0)->error,
			 error);
	}
	cf_req_clear(&r);
}

static void test_refusals(void **state)
{
	struct cf *c = *state;
	expect_refused(c, "CREATE TABLE hidden(a, rowid, oid, _ROWID_)",
		       "table \"hidden\": its columns named rowid, _rowid_ "
		       "and oid hide its rowid, which thermionic replicates: "
		       "rename one of them, or declare an INTEGER PRIMARY "
		       "KEY");
	cf_exec(c, "CREATE TABLE hidden2(a, rowid, oid)");
	expect_refused(c, "ALTER TABLE hidden2 ADD COLUMN _rowid_",
		       "hide its rowid");
	expect_refused(c,
		       "CREATE TABLE gen(id INTEGER PRIMARY KEY, a, "
		       "b AS (a * 2))",
		       "generated column \"b\"");
	expect_refused(c, "ALTER TABLE t ADD COLUMN g AS (id + 1)",
		       "generated column \"g\"");
	expect_refused(c, "CREATE TEMP TABLE tmp(id INTEGER PRIMARY KEY)",
		       "temporary objects are refused");
	expect_refused(c, "ATTACH '/tmp/x.db' AS x", "ATTACH, DETACH");
	expect_refused(c, "VACUUM INTO '/tmp/thermionic-vacuum.db'",
		       "VACUUM and VACUUM INTO are refused: each member's "
		       "database file is its own");
	expect_refused(c, " /* c */ vacuum", "use GET /1.0/sql/backup");
	expect_refused(c, "SELECT load_extension('/tmp/x.so')",
		       "load_extension() is refused: it would load code into "
		       "one member's process");
	expect_refused(c, "CREATE VIRTUAL TABLE st USING dbstat",
		       "CREATE VIRTUAL TABLE st USING dbstat is refused: "
		       "describes each member's own database file, so its "
		       "content would differ from member to member");
	expect_refused(c, "CREATE VIRTUAL TABLE s USING sqlite_stmt",
		       "lists each member's own prepared statements");
	expect_refused(c, "CREATE VIRTUAL TABLE j USING json_each",
		       "CREATE VIRTUAL TABLE j USING json_each is refused: "
		       "only virtual tables known to replicate exactly");
	expect_refused(c, "BEGIN", "transaction statements (BEGIN)");
	expect_refused(c, "COMMIT", "set the request's transaction flag");
	expect_refused(c, "SAVEPOINT x", "transaction statements");
	expect_refused(c, "PRAGMA foreign_keys = OFF",
		       "PRAGMA foreign_keys is refused");
	expect_refused(c, "PRAGMA user_version = 3",
		       "PRAGMA user_version is refused");
	expect_refused(c, "PRAGMA optimize", "PRAGMA optimize is refused");
	expect_refused(c,
		       "INSERT INTO t VALUES(1, 'a'); INSERT INTO t "
		       "VALUES(2, 'b')",
		       "one SQL statement per statement entry: found more SQL "
		       "after the first: \"INSERT INTO t VALUES(2, 'b')\"");
	expect_refused(c, "  -- nothing\n ; /* at all */ ",
		       "empty SQL statement");
	cf_exec(c, "CREATE TABLE a(id INTEGER PRIMARY KEY AUTOINCREMENT)");
	expect_refused(c, "UPDATE sqlite_sequence SET seq = 100",
		       "writing to sqlite_sequence directly is refused");
	expect_refused(c, "SELEC 1", "syntax error");

	/* Statement filler after the statement is fine. */
	struct cf_req r;
	cf_req_init(&r, false,
		    "INSERT INTO t VALUES(7, 'x'); -- trailing comment\n",
		    NULL);
	assert_int_equal(cf_write(c, 0, &r), 0);
	assert_int_equal(res(&r, 0)->status, 0);
	cf_req_clear(&r);

	/* Reads that are allowed: PRAGMA queries, table-valued pragmas;
	 * and some that are not. */
	cf_req_init(&r, false, "PRAGMA table_info(t)",
		    "SELECT name FROM pragma_table_info('t') ORDER BY cid",
		    "PRAGMA foreign_keys", "VACUUM INTO '/tmp/tm-vacuum.db'",
		    "ATTACH '/tmp/tm-attach.db' AS x",
		    "PRAGMA foreign_keys = 0", "BEGIN",
		    "SELECT load_extension('/tmp/x.so')", NULL);
	assert_int_equal(cf_read(c, 1, &r, GDB_READ_NONE), 0);
	assert_int_equal(res(&r, 0)->status, 0);
	assert_int_equal(res(&r, 0)->n_rows, 2);
	assert_string_equal(res(&r, 1)->rows[1].p, "v");
	assert_int_equal(res(&r, 2)->rows[0].i, 1);
	assert_int_equal(res(&r, 3)->status, TM_INVALID);
	assert_string_equal(res(&r, 4)->error,
			    "ATTACH, DETACH and VACUUM INTO are refused: only "
			    "the global database is replicated");
	assert_int_equal(res(&r, 5)->status, TM_INVALID);
	assert_int_equal(res(&r, 6)->status, TM_INVALID);
	assert_non_null(strstr(res(&r, 3)->error, "VACUUM INTO are refused"));
	assert_non_null(strstr(res(&r, 7)->error, "load_extension() is "
						  "refused"));
	cf_req_clear(&r);

	char *dump = cf_assert_identical(c);
	assert_null(strstr(dump, "table hidden on"));
	assert_null(strstr(dump, "_rowid_"));
	assert_null(strstr(dump, "table gen"));
	free(dump);
}

static void test_schema_parameters_refused(void **state)
{
	struct cf *c = *state;
	struct cf_req r;
	struct gdb_value v = {.type = GDB_INT, .i = 1};
	cf_req_init(&r, false,
		    "CREATE TABLE d(id INTEGER PRIMARY KEY, "
		    "x DEFAULT 1)",
		    NULL);
	r.stmts[0].params = &v;
	r.stmts[0].n_params = 1;
	assert_int_equal(cf_write(c, 0, &r), 0);
	assert_int_equal(res(&r, 0)->status, TM_INVALID);
	assert_string_equal(res(&r, 0)->error,
			    "parameters are not accepted in schema statements: "
			    "they travel as SQL text");
	cf_req_clear(&r);
}

/* The exec connection exposed for local reads cannot commit a write. */
static void test_exec_conn_cannot_commit(void **state)
{
	struct cf *c = *state;
	sqlite3 *db = gdb_exec_conn(c->gdb[1]);
	assert_int_not_equal(
	    sqlite3_exec(db, "INSERT INTO t VALUES(99, 'z')", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(cf_query_int(c, 1, "SELECT count(*) FROM t"), 0);
}

static void test_reads(void **state)
{
	struct cf *c = *state;
	struct cf_req r;
	cf_exec(c, "INSERT INTO t VALUES(1, 'one'), (2, 'two')");

	/* Any member serves GDB_READ_NONE. */
	cf_req_init(&r, false, "SELECT id, v FROM t ORDER BY id",
		    "SELECT count(*) AS n FROM t", NULL);
	assert_int_equal(cf_read(c, 2, &r, GDB_READ_NONE), 0);
	assert_int_equal(res(&r, 0)->n_rows, 2);
	assert_string_equal(res(&r, 0)->rows[3].p, "two");
	assert_string_equal(res(&r, 0)->decltypes[1], "TEXT");
	assert_string_equal(res(&r, 1)->columns[0], "n");
	assert_int_equal(res(&r, 1)->rows[0].i, 2);
	cf_req_clear(&r);

	/* A write statement in a read is refused, others still run. */
	cf_req_init(&r, false, "DELETE FROM t", "SELECT count(*) FROM t", NULL);
	assert_int_equal(cf_read(c, 0, &r, GDB_READ_NONE), 0);
	assert_int_equal(res(&r, 0)->status, TM_INVALID);
	assert_string_equal(res(&r, 0)->error,
			    "the statement writes to the database: send it as "
			    "a write request");
	assert_int_equal(res(&r, 1)->rows[0].i, 2);
	cf_req_clear(&r);

	/* Linearizable: refused on a follower, naming the leader. */
	cf_req_init(&r, false, "SELECT count(*) FROM t", NULL);
	assert_int_equal(cf_read(c, 1, &r, GDB_READ_LINEARIZABLE),
			 TM_NOTLEADER);
	assert_string_equal(r.req.errmsg,
			    "not the leader; linearizable reads are served by "
			    "the leader (leader is 1)");
	assert_null(r.req.results);

	/* ... served by the leader after a barrier. */
	uint64_t barriers = stats(c, 0).barriers;
	assert_int_equal(cf_read(c, 0, &r, GDB_READ_LINEARIZABLE), 0);
	assert_int_equal(res(&r, 0)->rows[0].i, 2);
	assert_int_equal(stats(c, 0).barriers, barriers + 1);
	cf_req_clear(&r);

	/* Writes on a follower are refused the same way. */
	cf_req_init(&r, false, "INSERT INTO t VALUES(3, 'three')", NULL);
	assert_int_equal(cf_write(c, 2, &r), TM_NOTLEADER);
	assert_string_equal(r.req.errmsg,
			    "not the leader; writes are served by the leader "
			    "(leader is 1)");

	/* An empty request is refused. */
	r.req.n_stmts = 0;
	assert_int_equal(cf_write(c, 0, &r), TM_INVALID);
}

/* A sink that records how each statement ended. */
struct ends {
	size_t n;
	int status[4];
	uint64_t rows[4];
};

static int sink_columns(struct gdb_sink *s, size_t i, sqlite3_stmt *st,
			char *errmsg)
{
	(void)s, (void)i, (void)st, (void)errmsg;
	return 0;
}

static int sink_row(struct gdb_sink *s, size_t i, sqlite3_stmt *st,
		    char *errmsg)
{
	(void)s, (void)i, (void)st, (void)errmsg;
	return 0;
}

static void sink_end(struct gdb_sink *s, size_t i, const struct gdb_result *r)
{
	struct ends *e = s->data;
	assert_int_equal(i, e->n);
	e->status[i] = r->status;
	e->rows[i] = r->n_rows;
	e->n++;
}

/* A sink learns where each statement ends, errors included; a reader
 * refuses to build a value larger than a whole response. */
static void test_read_sink_and_value_limit(void **state)
{
	struct cf *c = *state;
	struct cf_req r;
	struct ends ends = {0};
	struct gdb_sink sink = {.data = &ends,
				.columns = sink_columns,
				.row = sink_row,
				.end = sink_end};
	struct gdb_limits limits = {.max_result_bytes = 100000};
	cf_exec(c, "INSERT INTO t VALUES(1, 'one'), (2, 'two')");
	gdb_set_limits(c->gdb[0], &limits);

	cf_req_init(&r, false, "SELECT id FROM t", "SELECT * FROM nosuch",
		    "SELECT length(randomblob(200000))", NULL);
	r.req.sink = &sink;
	assert_int_equal(cf_read(c, 0, &r, GDB_READ_NONE), 0);
	assert_int_equal(ends.n, 3);
	assert_int_equal(ends.status[0], 0);
	assert_int_equal(ends.rows[0], 2);
	assert_int_equal(ends.status[1], TM_INVALID);
	assert_int_equal(ends.status[2], TM_TOOBIG);
	assert_string_equal(res(&r, 2)->error,
			    "a value is larger than core.max_response_size "
			    "(100000 bytes)");
	cf_req_clear(&r);
}

/* Linearizable reads waiting together share one barrier. */
static void test_linearizable_reads_share_a_barrier(void **state)
{
	struct cf *c = *state;
	struct cf_req r[5];
	memset(r, 0, sizeof r);
	uint64_t barriers = stats(c, 0).barriers;
	for (int i = 0; i < 4; i++) {
		cf_req_init(&r[i], false, "SELECT count(*) FROM t", NULL);
		cf_submit_read(c, 0, &r[i], GDB_READ_LINEARIZABLE);
	}
	assert_true(cf_step_until(c, all_done, r, CF_TIMEOUT_MS));
	assert_int_equal(stats(c, 0).barriers, barriers + 1);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(r[i].status, 0);
		cf_req_clear(&r[i]);
	}
}

/* A read index: no statement, answered with the index just before a
 * barrier proposed after the ask, which covers every acknowledged write;
 * it shares the barrier of the linearizable reads waiting with it, and a
 * follower refuses it. */
static bool three_done(struct cf *c, void *arg)
{
	struct cf_req *r = arg;
	(void)c;
	return r[0].done && r[1].done && r[2].done;
}

static void test_read_index(void **state)
{
	struct cf *c = *state;
	struct cf_req w, r[3];
	memset(r, 0, sizeof r);
	cf_req_init(&w, false, "INSERT INTO t VALUES(7, 'seven')", NULL);
	assert_int_equal(cf_write(c, 0, &w), 0);
	uint64_t written = w.req.index;
	assert_true(written > 0);
	cf_req_clear(&w);

	uint64_t barriers = stats(c, 0).barriers;
	cf_req_init(&r[0], false, "SELECT count(*) FROM t", NULL);
	cf_submit_read(c, 0, &r[0], GDB_READ_LINEARIZABLE);
	for (int i = 1; i < 3; i++) {
		cf_submit_read_index(c, 0, &r[i]);
	}
	assert_true(cf_step_until(c, three_done, r, CF_TIMEOUT_MS));
	assert_int_equal(stats(c, 0).barriers, barriers + 1);
	for (int i = 1; i < 3; i++) {
		assert_int_equal(r[i].status, 0);
		assert_null(r[i].req.results);
		/* The barrier came right after the write. */
		assert_int_equal(r[i].req.index, written);
	}
	assert_int_equal(r[0].status, 0);
	assert_int_equal(r[0].req.index, written + 1); /* applied the barrier */
	for (int i = 0; i < 3; i++) {
		cf_req_clear(&r[i]);
	}

	/* A follower has no read index to give. */
	cf_submit_read_index(c, 1, &r[0]);
	assert_int_equal(cf_wait(c, &r[0]), TM_NOTLEADER);
	cf_req_clear(&r[0]);
}

/* A confirmation hook under the test's control (gdb_set_confirm). */
struct fake_confirm {
	int answer; /* what the hook returns: 1 at once, 0 later, -1 cannot */
	int calls;
	gdb_confirm_done done;
	void *done_arg;
};

static int fake_confirm(void *arg, gdb_confirm_done done, void *done_arg)
{
	struct fake_confirm *f = arg;
	f->calls++;
	f->done = done;
	f->done_arg = done_arg;
	return f->answer;
}

static bool one_done(struct cf *c, void *arg)
{
	(void)c;
	return ((struct cf_req *)arg)->done;
}

/* With a confirmation hook, the first linearizable read of a term still
 * takes a barrier; later ones share a confirmation round instead (read
 * indexes get the commit index of its start); a round that fails while
 * this member still leads falls back to a barrier; a hook that confirms
 * at once serves the read without waiting. */
static void test_confirmed_reads(void **state)
{
	struct cf *c = *state;
	struct fake_confirm f = {.answer = 0};
	struct cf_req r, ri;
	uint64_t now_index = 0;
	gdb_set_confirm(c->gdb[0], fake_confirm, &f);
	cf_exec(c, "INSERT INTO t VALUES(8, 'eight')");
	/* No barrier of this term yet: no read index at once. */
	assert_int_equal(gdb_read_index_now(c->gdb[0], 1, 1, &now_index),
			 TM_BUSY);

	uint64_t barriers = stats(c, 0).barriers;
	cf_req_init(&r, false, "SELECT count(*) FROM t", NULL);
	assert_int_equal(cf_read(c, 0, &r, GDB_READ_LINEARIZABLE), 0);
	assert_int_equal(stats(c, 0).barriers, barriers + 1);
	assert_int_equal(f.calls, 0);
	cf_req_clear(&r);

	/* A follower's own term in hand: at once, if that is enough. */
	assert_int_equal(gdb_read_index_now(c->gdb[0], 1, 1, &now_index), 0);
	assert_int_equal(now_index,
			 raft_fixture_get(&c->raft, 0)->commit_index);
	assert_int_equal(gdb_read_index_now(c->gdb[0], 2, 1, &now_index),
			 TM_BUSY);
	assert_int_equal(gdb_read_index_now(c->gdb[1], 1, 1, &now_index),
			 TM_BUSY);

	/* Confirmed by a round: no barrier. */
	uint64_t commit = raft_fixture_get(&c->raft, 0)->commit_index;
	cf_req_init(&r, false, "SELECT count(*) FROM t", NULL);
	cf_submit_read(c, 0, &r, GDB_READ_LINEARIZABLE);
	memset(&ri, 0, sizeof ri);
	cf_submit_read_index(c, 0, &ri);
	cf_step_until(c, one_done, &r, 50); /* nothing happens */
	assert_false(r.done);
	assert_false(ri.done);
	assert_int_equal(f.calls, 1);
	f.done(f.done_arg, 0);
	assert_int_equal(cf_wait(c, &r), 0);
	assert_int_equal(res(&r, 0)->rows[0].i, 1);
	assert_int_equal(cf_wait(c, &ri), 0);
	assert_int_equal(ri.req.index, commit);
	assert_int_equal(stats(c, 0).barriers, barriers + 1);
	assert_int_equal(stats(c, 0).confirms, 1);
	cf_req_clear(&r);
	cf_req_clear(&ri);

	/* Not confirmed, still the leader: a barrier decides. */
	cf_req_init(&r, false, "SELECT count(*) FROM t", NULL);
	cf_submit_read(c, 0, &r, GDB_READ_LINEARIZABLE);
	cf_step_until(c, one_done, &r, 50);
	assert_int_equal(f.calls, 2);
	f.done(f.done_arg, TM_NOTLEADER);
	assert_int_equal(cf_wait(c, &r), 0);
	assert_int_equal(stats(c, 0).barriers, barriers + 2);
	cf_req_clear(&r);

	/* Confirmed at once (a single voter). */
	f.answer = 1;
	cf_req_init(&r, false, "SELECT count(*) FROM t", NULL);
	assert_int_equal(cf_read(c, 0, &r, GDB_READ_LINEARIZABLE), 0);
	assert_int_equal(f.calls, 3);
	assert_int_equal(stats(c, 0).barriers, barriers + 2);
	cf_req_clear(&r);

	/* Cannot: a barrier. */
	f.answer = -1;
	cf_req_init(&r, false, "SELECT count(*) FROM t", NULL);
	assert_int_equal(cf_read(c, 0, &r, GDB_READ_LINEARIZABLE), 0);
	assert_int_equal(stats(c, 0).barriers, barriers + 3);
	cf_req_clear(&r);
}

static bool leader_is_not(struct cf *c, void *arg)
{
	unsigned old = *(unsigned *)arg;
	return raft_state(raft_fixture_get(&c->raft, old)) != RAFT_LEADER;
}

/* The leader loses its followers with an entry in flight: the outcome is
 * unknown and the request says so. A new leader then serves writes. */
static void test_leadership_lost(void **state)
{
	struct cf *c = *state;
	struct cf_req r;
	unsigned old = 0;
	cf_req_init(&r, false, "INSERT INTO t VALUES(1, 'maybe')", NULL);
	cf_submit_write(c, 0, &r);
	uv_run(&c->loop, UV_RUN_NOWAIT);
	assert_false(r.done);
	raft_fixture_saturate(&c->raft, 0, 1);
	raft_fixture_saturate(&c->raft, 0, 2);
	raft_fixture_saturate(&c->raft, 1, 0);
	raft_fixture_saturate(&c->raft, 2, 0);
	assert_true(cf_step_until(c, leader_is_not, &old, CF_TIMEOUT_MS));
	assert_int_equal(cf_wait(c, &r), TM_CANCELED);
	assert_string_equal(r.req.errmsg,
			    "leadership lost before the write was committed; "
			    "it may or may not have been applied");
	assert_null(r.req.results);

	/* The cut-off member refuses writes. */
	assert_int_equal(cf_write(c, 0, &r), TM_NOTLEADER);

	raft_fixture_desaturate(&c->raft, 0, 1);
	raft_fixture_desaturate(&c->raft, 0, 2);
	raft_fixture_desaturate(&c->raft, 1, 0);
	raft_fixture_desaturate(&c->raft, 2, 0);
	assert_true(
	    raft_fixture_step_until_has_leader(&c->raft, CF_TIMEOUT_MS));
	unsigned l = cf_leader(c);
	cf_req_init(&r, false, "INSERT INTO t VALUES(2, 'sure')", NULL);
	assert_int_equal(cf_write(c, l, &r), 0);
	assert_int_equal(res(&r, 0)->status, 0);
	cf_req_clear(&r);
	free(cf_assert_identical(c));
	assert_int_equal(cf_query_int(c, l,
				      "SELECT count(*) FROM t WHERE "
				      "id = 2"),
			 1);
}

static bool other_leader(struct cf *c, void *arg)
{
	unsigned l = cf_leader(c);
	return l < c->n && l != *(unsigned *)arg;
}

struct appended {
	raft_index index;
};

static bool followers_appended(struct cf *c, void *arg)
{
	struct appended *a = arg;
	for (unsigned i = 1; i < c->n; i++) {
		if (raft_last_index(raft_fixture_get(&c->raft, i)) < a->index) {
			return false;
		}
	}
	return true;
}

/* A new leader elected with an entry of the old term not yet applied must
 * apply it (a catch-up barrier) before it computes a batch: the batch's
 * changes are only valid against that state. Here the old entry inserts
 * id 50 and the new leader's write inserts id 50 again, which must fail as a
 * constraint violation, not conflict on apply. */
static void test_new_leader_catches_up(void **state)
{
	struct cf *c = *state;
	static struct cf_req old; /* answered at teardown, after we return */
	struct cf_req r;
	struct appended a;

	cf_req_init(&old, false, "INSERT INTO t VALUES(50, 'old term')", NULL);
	cf_submit_write(c, 0, &old);
	uv_run(&c->loop, UV_RUN_NOWAIT);
	a.index = raft_last_index(raft_fixture_get(&c->raft, 0));
	assert_true(cf_step_until(c, followers_appended, &a, CF_TIMEOUT_MS));
	raft_fixture_kill(&c->raft, 0);
	unsigned dead = 0;
	assert_true(cf_step_until(c, other_leader, &dead, CF_TIMEOUT_MS));
	unsigned l = cf_leader(c);
	assert_int_not_equal(l, 0);
	struct raft *lr = raft_fixture_get(&c->raft, l);
	assert_true(raft_last_applied(lr) < raft_last_index(lr));
	uint64_t barriers = stats(c, l).barriers;

	cf_req_init(&r, false, "INSERT INTO t VALUES(50, 'new term')",
		    "INSERT INTO t VALUES(51, 'fine')", NULL);
	assert_int_equal(cf_write(c, l, &r), 0);
	assert_int_equal(res(&r, 0)->status, TM_CONFLICT);
	assert_int_equal(res(&r, 1)->status, 0);
	assert_int_equal(stats(c, l).barriers, barriers + 1);
	cf_req_clear(&r);
	free(cf_assert_identical(c));
	assert_int_equal(cf_query_int(c, l, "SELECT count(*) FROM t"), 2);
	assert_false(old.done); /* its member is down */
}

/* SQLite fails with "database or disk is full" in the middle of a batch
 * (simulated on the leader's exec connection only): the failing request
 * fails, the others are answered consistently, and members stay identical. */
static void test_disk_full_in_batch(void **state)
{
	struct cf *c = *state;
	sqlite3 *db = gdb_batch_conn(c->gdb[0]);
	struct cf_req r[4];
	char sql[64];
	memset(r, 0, sizeof r);
	long long pages = cf_query_int(c, 0, "PRAGMA page_count");
	snprintf(sql, sizeof sql, "PRAGMA max_page_count = %lld", pages + 1);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);

	cf_req_init(&r[0], false, "INSERT INTO t VALUES(1, 'small')", NULL);
	cf_req_init(&r[1], true,
		    "INSERT INTO t VALUES(2, hex(randomblob(100000)))", NULL);
	cf_req_init(&r[2], false, "INSERT INTO t VALUES(3, 'small')", NULL);
	for (int i = 0; i < 3; i++) {
		cf_submit_write(c, 0, &r[i]);
	}
	assert_true(cf_step_until(c, all_done, r, CF_TIMEOUT_MS));
	assert_int_equal(sqlite3_exec(db, "PRAGMA max_page_count = 1073741823",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(r[0].status, 0);
	assert_int_equal(res(&r[0], 0)->status, 0);
	assert_int_equal(r[1].status, TM_IO);
	assert_non_null(strstr(r[1].req.errmsg, "full"));
	assert_int_equal(r[2].status, 0);
	long long expected = 1 + (res(&r[2], 0)->status == 0 ? 1 : 0);
	for (int i = 0; i < 3; i++) {
		cf_req_clear(&r[i]);
	}
	free(cf_assert_identical(c));
	assert_int_equal(cf_query_int(c, 1, "SELECT count(*) FROM t"),
			 expected);

	/* The leader keeps working. */
	cf_exec(c, "INSERT INTO t VALUES(4, 'after')");
	free(cf_assert_identical(c));
}

/* Draining: the entry already proposed commits and is answered with its
 * real outcome; writes queued behind it, and later ones, are refused with
 * TM_SHUTDOWN and never applied; reads go on. */
static void test_drain(void **state)
{
	struct cf *c = *state;
	struct cf_req proposed;
	struct cf_req queued;
	struct cf_req late;
	struct cf_req rd;
	struct gdb_stats before = stats(c, 0);

	cf_req_init(&proposed, false, "INSERT INTO t VALUES(1, 'in')", NULL);
	cf_submit_write(c, 0, &proposed);
	uv_run(&c->loop, UV_RUN_NOWAIT); /* the leader proposes it */
	assert_int_equal(stats(c, 0).entries_proposed,
			 before.entries_proposed + 1);
	cf_req_init(&queued, false, "INSERT INTO t VALUES(2, 'out')", NULL);
	cf_submit_write(c, 0, &queued);
	gdb_drain(c->gdb[0]);
	cf_req_init(&late, false, "INSERT INTO t VALUES(3, 'out')", NULL);
	cf_submit_write(c, 0, &late);
	assert_false(late.done); /* never inside the call */

	assert_int_equal(cf_wait(c, &queued), TM_SHUTDOWN);
	assert_non_null(strstr(queued.req.errmsg, "nothing was applied"));
	assert_int_equal(cf_wait(c, &late), TM_SHUTDOWN);
	assert_int_equal(cf_wait(c, &proposed), 0);
	assert_int_equal(res(&proposed, 0)->status, 0);
	cf_req_init(&rd, false, "SELECT count(*) FROM t", NULL);
	assert_int_equal(cf_read(c, 0, &rd, GDB_READ_NONE), 0);
	assert_int_equal(stats(c, 0).entries_proposed,
			 before.entries_proposed + 1);
	cf_wait_applied(c);
	assert_int_equal(cf_query_int(c, 1, "SELECT count(*) FROM t"), 1);
	assert_int_equal(cf_query_int(c, 0, "SELECT id FROM t"), 1);
	cf_req_clear(&proposed);
	cf_req_clear(&queued);
	cf_req_clear(&late);
	cf_req_clear(&rd);
}

/* Closing fails what is still queued with TM_SHUTDOWN. */
static void test_close_fails_queued(void **state)
{
	struct cf *c = *state;
	struct cf_req w;
	struct cf_req rd;
	cf_req_init(&w, false, "INSERT INTO t VALUES(1, 'late')", NULL);
	cf_req_init(&rd, false, "SELECT 1", NULL);
	cf_submit_write(c, 0, &w);
	cf_submit_read(c, 1, &rd, GDB_READ_NONE);
	cf_close_raft_and_gdbs(c);
	assert_false(w.done);
	cf_finish_teardown(c);
	assert_true(w.done);
	assert_int_equal(w.status, TM_SHUTDOWN);
	assert_null(w.req.results);
	assert_true(rd.done);
	assert_int_equal(rd.status, TM_SHUTDOWN);
	free(c);
	*state = NULL;
}

static int teardown_if_open(void **state)
{
	if (*state != NULL) {
		return teardown(state);
	}
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_group_commit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_low_disk_space_refuses_writes,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_batch_with_one_failure, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_transaction_all_or_nothing,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_deferred_foreign_keys, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_no_change_no_entry, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_schema_parameters_refused,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exec_conn_cannot_commit, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_reads, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_sink_and_value_limit,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_linearizable_reads_share_a_barrier, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_index, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_confirmed_reads, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_leadership_lost, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_new_leader_catches_up, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_disk_full_in_batch, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_drain, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_close_fails_queued, setup,
					    teardown_if_open),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Replication through raft's fixture: every member must end with the same
 * database, byte for byte in a full dump, whatever the SQL did. */
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

/* Result of statement I of R. */
static const struct gdb_result *res(const struct cf_req *r, size_t i)
{
	assert_non_null(r->req.results);
	assert_true(i < r->req.n_stmts);
	return &r->req.results[i];
}

static void assert_ok(const struct cf_req *r)
{
	if (r->status != 0) {
		fail_msg("request failed: %d %s", r->status, r->req.errmsg);
	}
	for (size_t i = 0; i < r->req.n_stmts; i++) {
		if (res(r, i)->status != 0) {
			fail_msg("statement %zu failed: %s", i + 1,
				 res(r, i)->error);
		}
	}
}

static void test_dml(void **state)
{
	struct cf *c = *state;
	struct cf_req r;

	cf_exec(c, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT, n INT)");
	cf_req_init(&r, false, "INSERT INTO t(v, n) VALUES('a', 1), ('b', 2)",
		    "INSERT INTO t VALUES(10, 'c', 3) RETURNING id, v",
		    "UPDATE t SET n = n * 10 WHERE n >= 2",
		    "DELETE FROM t WHERE v = 'a'", "SELECT count(*) FROM t",
		    NULL);
	assert_int_equal(cf_write(c, 0, &r), 0);
	assert_ok(&r);
	assert_int_equal(res(&r, 0)->rows_affected, 2);
	assert_int_equal(res(&r, 0)->last_insert_id, 2);
	assert_int_equal(res(&r, 1)->n_rows, 1);
	assert_int_equal(res(&r, 1)->n_cols, 2);
	assert_string_equal(res(&r, 1)->columns[0], "id");
	assert_int_equal(res(&r, 1)->rows[0].i, 10);
	assert_string_equal(res(&r, 1)->rows[1].p, "c");
	assert_int_equal(res(&r, 2)->rows_affected, 2);
	assert_int_equal(res(&r, 3)->rows_affected, 1);
	assert_int_equal(res(&r, 4)->rows[0].i, 2);
	assert_int_equal(res(&r, 4)->rows_affected, 0);
	cf_req_clear(&r);

	free(cf_assert_identical(c));
	for (unsigned i = 0; i < c->n; i++) {
		assert_int_equal(cf_query_int(c, i, "SELECT sum(n) FROM t"),
				 50);
	}
}

/* "DELETE FROM t" without WHERE: SQLite's truncate optimization bypasses the
 * preupdate hook, so the leader must delete row by row for the change to be
 * recorded and replicated at all. */
static void test_delete_all_rows(void **state)
{
	struct cf *c = *state;
	struct cf_req r;

	cf_exec(c, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
	cf_exec(c, "INSERT INTO t(v) VALUES ('a'), ('b'), ('c')");
	cf_req_init(&r, false, "DELETE FROM t", NULL);
	assert_int_equal(cf_write(c, 0, &r), 0);
	assert_ok(&r);
	assert_int_equal(res(&r, 0)->rows_affected, 3);
	cf_req_clear(&r);
	free(cf_assert_identical(c));
	for (unsigned i = 0; i < c->n; i++) {
		assert_int_equal(cf_query_int(c, i, "SELECT count(*) FROM t"),
				 0);
	}
}

/* Schema statements and data statements in one request: the entry holds SQL
 * items and changesets interleaved, in statement order. */
static void test_ddl_then_dml_same_request(void **state)
{
	struct cf *c = *state;
	struct cf_req r;

	cf_req_init(&r, true,
		    "CREATE TABLE kv(k TEXT PRIMARY KEY NOT NULL, v BLOB)",
		    "CREATE INDEX kv_v ON kv(v)",
		    "INSERT INTO kv VALUES('a', x'01'), ('b', x'02')",
		    "ALTER TABLE kv ADD COLUMN added INT DEFAULT 7",
		    "INSERT INTO kv VALUES('c', x'03', 9)",
		    "UPDATE kv SET added = added + 1 WHERE k <> 'c'",
		    "CREATE TABLE other(id INTEGER PRIMARY KEY, x)",
		    "INSERT INTO other SELECT NULL, k FROM kv",
		    "CREATE VIEW kv_view AS SELECT k, added FROM kv", NULL);
	assert_int_equal(cf_write(c, 0, &r), 0);
	assert_ok(&r);
	cf_req_clear(&r);

	char *dump = cf_assert_identical(c);
	assert_non_null(strstr(dump, "index kv_v on kv"));
	assert_non_null(strstr(dump, "view kv_view on kv_view"));
	free(dump);
	for (unsigned i = 0; i < c->n; i++) {
		assert_int_equal(
		    cf_query_int(c, i, "SELECT sum(added) FROM kv_view"),
		    8 + 8 + 9);
		assert_int_equal(
		    cf_query_int(c, i, "SELECT count(*) FROM other"), 3);
	}

	/* Later: drop the index, rename a column, drop a column. */
	cf_req_init(&r, false, "DROP INDEX kv_v",
		    "ALTER TABLE kv RENAME COLUMN added TO extra",
		    "ALTER TABLE other DROP COLUMN x", "DROP VIEW kv_view",
		    NULL);
	assert_int_equal(cf_write(c, 0, &r), 0);
	assert_ok(&r);
	cf_req_clear(&r);
	free(cf_assert_identical(c));
}

/* A trigger's writes are part of the changeset; the apply connection runs
 * without triggers, so followers do not write the audit row twice. */
static void test_trigger_audit(void **state)
{
	struct cf *c = *state;
	struct cf_req r;

	cf_exec(c, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
	cf_exec(c, "CREATE TABLE audit(id INTEGER PRIMARY KEY, what TEXT, "
		   "row_id INT)");
	cf_exec(c, "CREATE TRIGGER t_ins AFTER INSERT ON t BEGIN "
		   "INSERT INTO audit(what, row_id) VALUES('insert', new.id); "
		   "END");
	cf_exec(c, "CREATE TRIGGER t_upd AFTER UPDATE ON t BEGIN "
		   "INSERT INTO audit(what, row_id) VALUES('update', new.id); "
		   "END");
	cf_req_init(&r, false, "INSERT INTO t VALUES(1, 'a')",
		    "INSERT INTO t VALUES(2, 'b')",
		    "UPDATE t SET v = 'z' WHERE id = 1", NULL);
	assert_int_equal(cf_write(c, 0, &r), 0);
	assert_ok(&r);
	cf_req_clear(&r);

	free(cf_assert_identical(c));
	for (unsigned i = 0; i < c->n; i++) {
		assert_int_equal(
		    cf_query_int(c, i, "SELECT count(*) FROM audit"), 3);
		assert_int_equal(cf_query_int(c, i,
					      "SELECT count(*) FROM audit "
					      "WHERE what = 'insert' AND "
					      "row_id = 1"),
				 1);
	}
}

/* ON DELETE CASCADE / SET NULL effects travel in the changeset, including
 * those of a DROP TABLE (an implicit DELETE with foreign keys on), which the
 * apply connection (foreign keys off) would not reproduce by itself. */
static void test_cascade(void **state)
{
	struct cf *c = *state;

	cf_exec(c, "CREATE TABLE parent(id INTEGER PRIMARY KEY)");
	cf_exec(c, "CREATE TABLE child(id INTEGER PRIMARY KEY, "
		   "pid INT REFERENCES parent(id) ON DELETE CASCADE)");
	cf_exec(c, "CREATE TABLE loose(id INTEGER PRIMARY KEY, "
		   "pid INT REFERENCES parent(id) ON DELETE SET NULL)");
	cf_exec(c, "CREATE TABLE log(id INTEGER PRIMARY KEY, gone INT)");
	cf_exec(c, "CREATE TRIGGER child_del AFTER DELETE ON child BEGIN "
		   "INSERT INTO log(gone) VALUES(old.id); END");
	cf_exec(c, "INSERT INTO parent VALUES(1), (2), (3)");
	cf_exec(c, "INSERT INTO child VALUES(10, 1), (11, 1), (20, 2), "
		   "(30, 3)");
	cf_exec(c, "INSERT INTO loose VALUES(100, 1), (200, 2)");

	cf_exec(c, "DELETE FROM parent WHERE id = 1");
	free(cf_assert_identical(c));
	for (unsigned i = 0; i < c->n; i++) {
		assert_int_equal(
		    cf_query_int(c, i, "SELECT count(*) FROM child"), 2);
		assert_int_equal(cf_query_int(c, i,
					      "SELECT count(*) FROM loose "
					      "WHERE pid IS NULL"),
				 1);
		assert_int_equal(cf_query_int(c, i, "SELECT count(*) FROM log"),
				 2);
	}

	cf_exec(c, "DROP TABLE parent");
	free(cf_assert_identical(c));
	for (unsigned i = 0; i < c->n; i++) {
		assert_int_equal(
		    cf_query_int(c, i, "SELECT count(*) FROM child"), 0);
		assert_int_equal(cf_query_int(c, i,
					      "SELECT count(*) FROM loose "
					      "WHERE pid IS NULL"),
				 2);
		assert_int_equal(cf_query_int(c, i, "SELECT count(*) FROM log"),
				 4);
	}
}

/* Non-deterministic SQL runs once, on the leader; its results replicate. */
static void test_nondeterministic(void **state)
{
	struct cf *c = *state;

	cf_exec(c, "CREATE TABLE t(id INTEGER PRIMARY KEY, r INT, "
		   "at TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')), "
		   "b BLOB, d TEXT)");
	cf_exec(c, "INSERT INTO t(r, b, d) VALUES(random(), randomblob(8), "
		   "datetime('now'))");
	cf_exec(c, "INSERT INTO t(r, b, d) SELECT random(), randomblob(8), "
		   "julianday('now') FROM t");
	cf_exec(c, "UPDATE t SET r = abs(random() % 1000) WHERE id = 1");
	free(cf_assert_identical(c));
	assert_int_equal(cf_query_int(c, 1,
				      "SELECT count(*) FROM t WHERE "
				      "length(b) = 8 AND d IS NOT NULL"),
			 2);
}

/* AUTOINCREMENT's sqlite_sequence has no primary key and is not recorded,
 * but replaying the INSERTs maintains it identically. */
static void test_autoincrement(void **state)
{
	struct cf *c = *state;
	cf_exec(c, "CREATE TABLE a(id INTEGER PRIMARY KEY AUTOINCREMENT, v)");
	cf_exec(c, "INSERT INTO a(v) VALUES(1), (2), (3)");
	cf_exec(c, "DELETE FROM a WHERE id = 3");
	cf_exec(c, "INSERT INTO a(v) VALUES(4)");
	char *dump = cf_assert_identical(c);
	assert_non_null(strstr(dump, "table sqlite_sequence"));
	free(dump);
	for (unsigned i = 0; i < c->n; i++) {
		assert_int_equal(cf_query_int(c, i, "SELECT max(id) FROM a"),
				 4);
	}
}

/* A UNIQUE column shifted in one statement, and values swapped through a
 * temporary value in three statements of one transaction: each statement's
 * changeset applies on its own, in order. */
static void test_unique_shift_and_swap(void **state)
{
	struct cf *c = *state;
	struct cf_req r;

	cf_exec(c, "CREATE TABLE u(id INTEGER PRIMARY KEY, "
		   "rank INT UNIQUE NOT NULL)");
	cf_exec(c, "INSERT INTO u VALUES(1, 5), (2, 4), (3, 3), (4, 2), "
		   "(5, 1)");
	cf_exec(c, "UPDATE u SET rank = rank + 1");
	cf_req_init(&r, true, "UPDATE u SET rank = -1 WHERE id = 1",
		    "UPDATE u SET rank = 6 WHERE id = 2",
		    "UPDATE u SET rank = 5 WHERE id = 1", NULL);
	assert_int_equal(cf_write(c, 0, &r), 0);
	assert_ok(&r);
	cf_req_clear(&r);
	free(cf_assert_identical(c));
	assert_int_equal(cf_query_int(c, 2, "SELECT rank FROM u WHERE id = 1"),
			 5);
}

/* Every value type round-trips through parameters, the changeset and the
 * results, on every member. */
static void test_values_round_trip(void **state)
{
	struct cf *c = *state;
	static char text_nul[] = {'a', '\0', 'b'};
	static char blob[] = {0, 1, 0, (char)0xff};
	struct gdb_value params[] = {
	    {.type = GDB_INT, .i = INT64_MIN},
	    {.type = GDB_INT, .i = INT64_MAX},
	    {.type = GDB_REAL, .r = -1.5e-300},
	    {.type = GDB_REAL, .r = 3.141592653589793},
	    {.type = GDB_NULL},
	    {.type = GDB_TEXT, .p = text_nul, .n = sizeof text_nul},
	    {.type = GDB_TEXT, .p = (char *)"", .n = 0},
	    {.type = GDB_BLOB, .p = blob, .n = sizeof blob},
	    {.type = GDB_BLOB, .p = NULL, .n = 0},
	    {.type = GDB_TEXT, .p = (char *)"h\xc3\xa9llo", .n = 6},
	};
	size_t n = sizeof params / sizeof params[0];
	struct cf_req r;

	cf_exec(c, "CREATE TABLE v(id INTEGER PRIMARY KEY, x)");
	cf_req_init(&r, false, "INSERT INTO v(id, x) VALUES(?1, ?2)", NULL);
	for (size_t i = 0; i < n; i++) {
		struct gdb_value two[2] = {{.type = GDB_INT, .i = (int64_t)i},
					   params[i]};
		r.stmts[0].params = two;
		r.stmts[0].n_params = 2;
		assert_int_equal(cf_write(c, 0, &r), 0);
		assert_ok(&r);
		cf_req_clear(&r);
	}
	free(cf_assert_identical(c));

	for (unsigned m = 0; m < c->n; m++) {
		cf_req_init(&r, false, "SELECT x FROM v ORDER BY id", NULL);
		assert_int_equal(cf_read(c, m, &r, GDB_READ_NONE), 0);
		assert_ok(&r);
		const struct gdb_result *out = res(&r, 0);
		assert_int_equal(out->n_rows, n);
		for (size_t i = 0; i < n; i++) {
			const struct gdb_value *want = &params[i];
			const struct gdb_value *got = &out->rows[i];
			assert_int_equal(got->type, want->type);
			switch (want->type) {
			case GDB_INT:
				assert_true(got->i == want->i);
				break;
			case GDB_REAL:
				assert_memory_equal(&got->r, &want->r,
						    sizeof got->r);
				break;
			case GDB_TEXT:
				assert_int_equal(got->p[got->n], '\0');
				/* fall through */
			case GDB_BLOB:
				assert_int_equal(got->n, want->n);
				if (want->n > 0) {
					assert_memory_equal(got->p, want->p,
							    want->n);
				}
				break;
			case GDB_NULL:
				break;
			}
		}
		assert_string_equal(out->columns[0], "x");
		assert_string_equal(out->decltypes[0], "");
		cf_req_clear(&r);
	}
}

/* Named parameters, and the errors for wrong ones. */
static void test_named_parameters(void **state)
{
	struct cf *c = *state;
	struct cf_req r;
	struct gdb_value vals[2] = {
	    {.type = GDB_INT, .i = 7},
	    {.type = GDB_TEXT, .p = (char *)"seven", .n = 5}};
	char *names[2] = {(char *)":id", (char *)"@name"};
	char *bad[2] = {(char *)":id", (char *)":nope"};

	cf_exec(c, "CREATE TABLE p(id INTEGER PRIMARY KEY, name TEXT)");
	cf_req_init(&r, false, "INSERT INTO p VALUES(:id, @name)",
		    "INSERT INTO p VALUES(:id, @name)",
		    "INSERT INTO p VALUES(?, ?)", NULL);
	r.stmts[0].params = vals;
	r.stmts[0].names = names;
	r.stmts[0].n_params = 2;
	r.stmts[1].params = vals;
	r.stmts[1].names = bad;
	r.stmts[1].n_params = 2;
	r.stmts[2].params = vals;
	r.stmts[2].n_params = 1;
	assert_int_equal(cf_write(c, 0, &r), 0);
	assert_int_equal(res(&r, 0)->status, 0);
	assert_int_equal(res(&r, 1)->status, TM_INVALID);
	assert_string_equal(res(&r, 1)->error,
			    "statement has no parameter named \":nope\"");
	assert_int_equal(res(&r, 2)->status, TM_INVALID);
	assert_string_equal(res(&r, 2)->error,
			    "statement has 2 parameters (?1, ?2), 1 given");
	cf_req_clear(&r);
	free(cf_assert_identical(c));
	assert_int_equal(cf_query_int(c, 2, "SELECT count(*) FROM p"), 1);
}

/* A name used several times is one parameter with one value, given by
 * name or positionally; the errors say what does not fit. */
static void test_repeated_named_parameter(void **state)
{
	struct cf *c = *state;
	struct cf_req r;
	struct gdb_value vals[2] = {{.type = GDB_INT, .i = 5},
				    {.type = GDB_INT, .i = 5}};
	char *one[1] = {(char *)":a"};
	char *twice[2] = {(char *)":a", (char *)":a"};
	char *mixed[1] = {(char *)":a"};

	cf_exec(c, "CREATE TABLE q(id INTEGER PRIMARY KEY, a INT, b INT)");
	cf_req_init(&r, false, "INSERT INTO q(a, b) VALUES(:a, :a * 2)",
		    "INSERT INTO q(a, b) VALUES(:a, :a * 2)",
		    "INSERT INTO q(a, b) VALUES(:a, :a)",
		    "INSERT INTO q(a, b) VALUES(:a, :a)",
		    "INSERT INTO q(a, b) VALUES(?, :a)", NULL);
	r.stmts[0].params = vals;
	r.stmts[0].names = one;
	r.stmts[0].n_params = 1;
	r.stmts[1].params = vals;
	r.stmts[1].n_params = 1;
	r.stmts[2].params = vals;
	r.stmts[2].n_params = 2;
	r.stmts[3].params = vals;
	r.stmts[3].names = twice;
	r.stmts[3].n_params = 2;
	r.stmts[4].params = vals;
	r.stmts[4].names = mixed;
	r.stmts[4].n_params = 1;
	assert_int_equal(cf_write(c, 0, &r), 0);
	assert_int_equal(res(&r, 0)->status, 0);
	assert_int_equal(res(&r, 1)->status, 0);
	assert_string_equal(res(&r, 2)->error,
			    "statement has 1 parameter (:a), 2 given: a named "
			    "parameter takes one value, however often it "
			    "appears");
	assert_string_equal(res(&r, 3)->error,
			    "parameter \":a\" is given twice");
	assert_string_equal(res(&r, 4)->error,
			    "parameter 1 of the statement (?) has no name: "
			    "give the values as an array (positional), or "
			    "name every parameter");
	cf_req_clear(&r);
	free(cf_assert_identical(c));
	assert_int_equal(cf_query_int(c, 1, "SELECT sum(b) FROM q WHERE a = 5"),
			 20);
}

/* WITHOUT ROWID tables with composite keys, UPSERT, and REPLACE that deletes
 * another row through a UNIQUE conflict. */
static void test_without_rowid_upsert_replace(void **state)
{
	struct cf *c = *state;
	cf_exec(c, "CREATE TABLE w(a TEXT NOT NULL, b INT NOT NULL, v INT, "
		   "PRIMARY KEY(a, b)) WITHOUT ROWID");
	cf_exec(c, "INSERT INTO w VALUES('x', 1, 10), ('x', 2, 20), "
		   "('y', 1, 30)");
	cf_exec(c, "INSERT INTO w VALUES('x', 1, 5) ON CONFLICT(a, b) "
		   "DO UPDATE SET v = v + excluded.v");
	cf_exec(c, "UPDATE w SET b = b + 10 WHERE a = 'x'");
	cf_exec(c, "CREATE TABLE r(id INTEGER PRIMARY KEY, u TEXT UNIQUE)");
	cf_exec(c, "INSERT INTO r VALUES(1, 'one'), (2, 'two')");
	cf_exec(c, "INSERT OR REPLACE INTO r VALUES(3, 'one')");
	cf_exec(c, "REPLACE INTO r VALUES(2, 'deux')");
	free(cf_assert_identical(c));
	for (unsigned i = 0; i < c->n; i++) {
		assert_int_equal(cf_query_int(c, i, "SELECT sum(v) FROM w"),
				 65);
		assert_int_equal(cf_query_int(c, i, "SELECT count(*) FROM r"),
				 2);
	}
}

/* A full-text index: the virtual table itself is not recorded, its shadow
 * tables are, and the apply connection writes them directly. */
static void test_fts5(void **state)
{
	struct cf *c = *state;
	cf_exec(c, "CREATE VIRTUAL TABLE docs USING fts5(title, body)");
	cf_exec(c, "INSERT INTO docs VALUES('raft', 'log replication'), "
		   "('sqlite', 'changesets and sessions')");
	cf_exec(c, "UPDATE docs SET body = 'replicated log' WHERE "
		   "title = 'raft'");
	cf_exec(c, "DELETE FROM docs WHERE title = 'sqlite'");
	free(cf_assert_identical(c));
	for (unsigned i = 0; i < c->n; i++) {
		assert_int_equal(cf_query_int(c, i,
					      "SELECT count(*) FROM docs "
					      "WHERE docs MATCH 'replicated'"),
				 1);
	}
	cf_exec(c, "DROP TABLE docs");
	free(cf_assert_identical(c));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_dml, cf_setup3,
					    cf_teardown_state),
	    cmocka_unit_test_setup_teardown(test_delete_all_rows, cf_setup3,
					    cf_teardown_state),
	    cmocka_unit_test_setup_teardown(test_ddl_then_dml_same_request,
					    cf_setup3, cf_teardown_state),
	    cmocka_unit_test_setup_teardown(test_trigger_audit, cf_setup3,
					    cf_teardown_state),
	    cmocka_unit_test_setup_teardown(test_cascade, cf_setup3,
					    cf_teardown_state),
	    cmocka_unit_test_setup_teardown(test_nondeterministic, cf_setup3,
					    cf_teardown_state),
	    cmocka_unit_test_setup_teardown(test_autoincrement, cf_setup3,
					    cf_teardown_state),
	    cmocka_unit_test_setup_teardown(test_unique_shift_and_swap,
					    cf_setup3, cf_teardown_state),
	    cmocka_unit_test_setup_teardown(test_values_round_trip, cf_setup3,
					    cf_teardown_state),
	    cmocka_unit_test_setup_teardown(test_repeated_named_parameter,
					    cf_setup3, cf_teardown_state),
	    cmocka_unit_test_setup_teardown(test_named_parameters, cf_setup3,
					    cf_teardown_state),
	    cmocka_unit_test_setup_teardown(test_without_rowid_upsert_replace,
					    cf_setup3, cf_teardown_state),
	    cmocka_unit_test_setup_teardown(test_fts5, cf_setup3,
					    cf_teardown_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

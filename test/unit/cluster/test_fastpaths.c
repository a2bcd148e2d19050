/* The fast paths of small writes keep the behaviour of the slow ones: the
 * statement cache shared by routing (gdb_read_only) and execution, the
 * recorder of row changes, and their apply with prepared statements. Every
 * member must end with the same database. */
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

static struct gdb_stats stats(struct cf *c, unsigned i)
{
	struct gdb_stats s;
	gdb_get_stats(c->gdb[i], &s);
	return s;
}

/* Route like the API does, then run where the routing says. */
static int route_and_run(struct cf *c, unsigned i, struct cf_req *r)
{
	struct gdb *g = c->gdb[i];
	if (gdb_read_only(g, r->req.stmts, r->req.n_stmts)) {
		return cf_read(c, i, r, GDB_READ_NONE);
	}
	return cf_write(c, i, r);
}

/* The routing check prepares the statement on its own connection; the
 * write then runs it from the exec connection's cache. "DELETE FROM t"
 * must still be compiled to delete (and record) row by row. */
static void test_routed_delete_all(void **state)
{
	struct cf *c = *state;
	struct cf_req r;

	cf_exec(c, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
	cf_exec(c, "INSERT INTO t(v) VALUES ('a'), ('b'), ('c')");
	for (int round = 0; round < 2; round++) {
		uint64_t hits = stats(c, 0).stmt_cache_hits;
		cf_req_init(&r, false, "DELETE FROM t", NULL);
		assert_int_equal(route_and_run(c, 0, &r), 0);
		assert_ok(&r);
		assert_int_equal(res(&r, 0)->rows_affected, round == 0 ? 3 : 0);
		cf_req_clear(&r);
		if (round == 1) {
			assert_true(stats(c, 0).stmt_cache_hits >= hits + 2);
		}
	}
	cf_wait_applied(c);
	free(cf_assert_identical(c));
	for (unsigned i = 0; i < c->n; i++) {
		assert_int_equal(cf_query_int(c, i, "SELECT count(*) FROM t"),
				 0);
	}
}

/* The same SQL with other parameters is prepared once; a use whose values
 * do not fit leaves nothing behind for the next one. */
static void test_cache_reuse(void **state)
{
	struct cf *c = *state;
	struct cf_req r;
	cf_exec(c, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT, w TEXT)");
	struct gdb_stats before = stats(c, 0);
	for (int i = 0; i < 5; i++) {
		struct gdb_value vals[2] = {
		    {.type = GDB_TEXT, .p = (char *)"v", .n = 1},
		    {.type = GDB_TEXT, .p = (char *)"w", .n = 1},
		};
		/* Once, :w is left out (":v" given twice): refused, where it
		 * used to run with :w NULL (params.c). */
		char *names[2] = {(char *)":v", (char *)(i == 3 ? ":v" : ":w")};
		cf_req_init(&r, false, "INSERT INTO t(v, w) VALUES (:v, :w)",
			    NULL);
		r.stmts[0].params = vals;
		r.stmts[0].names = names;
		r.stmts[0].n_params = 2;
		assert_int_equal(route_and_run(c, 0, &r), 0);
		if (i == 3) {
			assert_string_equal(r.req.results[0].error,
					    "parameter \":v\" is given twice");
		} else {
			assert_ok(&r);
		}
		cf_req_clear(&r);
	}
	struct gdb_stats after = stats(c, 0);
	/* Routing and execution (two connections) prepared it once each;
	 * every later use is a hit. */
	assert_int_equal(after.stmt_cache_misses - before.stmt_cache_misses, 2);
	assert_int_equal(after.stmt_cache_hits - before.stmt_cache_hits, 8);
	cf_wait_applied(c);
	free(cf_assert_identical(c));
	assert_int_equal(
	    cf_query_int(c, 1, "SELECT count(*) FROM t WHERE w = 'w'"), 4);
	assert_int_equal(cf_query_int(c, 1, "SELECT count(*) FROM t"), 4);
}

/* Cached statements follow schema changes. */
static void test_cache_schema_change(void **state)
{
	struct cf *c = *state;
	struct cf_req r;

	cf_exec(c, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
	cf_exec(c, "INSERT INTO t VALUES (1, 'a')");
	cf_req_init(&r, false, "SELECT * FROM t", NULL);
	assert_int_equal(route_and_run(c, 0, &r), 0);
	assert_int_equal(res(&r, 0)->n_cols, 2);
	cf_req_clear(&r);

	cf_exec(c, "ALTER TABLE t ADD COLUMN w TEXT DEFAULT 'd'");
	cf_req_init(&r, false, "SELECT * FROM t", NULL);
	assert_int_equal(route_and_run(c, 0, &r), 0);
	assert_int_equal(res(&r, 0)->n_cols, 3);
	assert_string_equal(res(&r, 0)->rows[2].p, "d");
	cf_req_clear(&r);

	/* One-row writes on the altered table (recorder, apply_one). */
	cf_exec(c, "INSERT INTO t(id, v) VALUES (2, 'b')");
	cf_exec(c, "UPDATE t SET w = 'x' WHERE id = 1");
	free(cf_assert_identical(c));

	cf_exec(c, "DROP TABLE t");
	cf_req_init(&r, false, "INSERT INTO t(v) VALUES ('gone')", NULL);
	assert_int_equal(route_and_run(c, 0, &r), 0);
	assert_int_equal(res(&r, 0)->status, TM_INVALID);
	assert_non_null(strstr(res(&r, 0)->error, "no such table"));
	cf_req_clear(&r);
}

/* Routing: reads are read-only; anything that may write, or that does not
 * prepare here (it may on the leader), goes to the write path. */
static void test_routing(void **state)
{
	struct cf *c = *state;
	struct cf_req r;
	cf_exec(c,
		"CREATE TABLE cfg(key TEXT PRIMARY KEY NOT NULL, value TEXT)");
	cf_req_init(&r, false, "SELECT 1", "SELECT * FROM cfg WHERE key = ?",
		    "PRAGMA table_info(cfg)", NULL);
	assert_true(gdb_read_only(c->gdb[0], r.req.stmts, r.req.n_stmts));
	cf_req_clear(&r);
	static const char *const not_read_only[] = {
	    "INSERT INTO cfg(key, value) VALUES ('a', 'b')",
	    "CREATE TABLE t2 (a INTEGER PRIMARY KEY)",
	    "SELECT * FROM nosuch",
	    "SELEC 1",
	    "",
	    "SELECT 1; SELECT 2",
	};
	for (size_t i = 0; i < sizeof not_read_only / sizeof not_read_only[0];
	     i++) {
		cf_req_init(&r, false, "SELECT 1", not_read_only[i], NULL);
		assert_false(gdb_read_only(c->gdb[0], r.req.stmts, 2));
		cf_req_clear(&r);
	}
}

/* A refused statement is routed as if allowed and refused where it runs,
 * with the authorizer's message. */
static void test_routed_refusal(void **state)
{
	struct cf *c = *state;
	struct cf_req r;
	cf_req_init(&r, false, "BEGIN", NULL);
	assert_true(gdb_read_only(c->gdb[0], r.req.stmts, 1));
	assert_int_equal(route_and_run(c, 0, &r), 0);
	assert_int_equal(res(&r, 0)->status, TM_INVALID);
	assert_non_null(strstr(res(&r, 0)->error, "transaction statements"));
	cf_req_clear(&r);
	/* Refusals are not cached: asking again refuses again. */
	cf_req_init(&r, false, "BEGIN", NULL);
	assert_int_equal(route_and_run(c, 0, &r), 0);
	assert_int_equal(res(&r, 0)->status, TM_INVALID);
	cf_req_clear(&r);
}

/* Every row change is recorded once, in order, and applied with prepared
 * statements; a no-op UPDATE records nothing; statements changing one row
 * or several return the results of the run that counts. */
static void test_one_row_and_many(void **state)
{
	struct cf *c = *state;
	struct cf_req r;

	cf_exec(c, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT, n REAL)");
	cf_exec(c, "CREATE TABLE k(a TEXT NOT NULL, b INT NOT NULL, x,"
		   " PRIMARY KEY (b, a)) WITHOUT ROWID");
	uint64_t direct = stats(c, 1).row_changes_applied;
	cf_exec(c, "INSERT INTO t VALUES (1, 'a', 1.5)");
	cf_exec(c, "INSERT INTO t VALUES (2, 'b', NULL)");
	cf_exec(c, "INSERT INTO t VALUES (3, 'c', 3)");
	cf_exec(c, "UPDATE t SET v = 'B', n = 2 WHERE id = 2");
	cf_exec(c, "UPDATE t SET n = 1.5 WHERE id = 1"); /* no change */
	cf_exec(c, "DELETE FROM t WHERE id = 3");
	cf_exec(c, "INSERT INTO k VALUES ('x', 1, x'00')");
	cf_exec(c, "UPDATE k SET x = 'y' WHERE a = 'x' AND b = 1");
	/* 7 changes (the no-op UPDATE records nothing), on every member. */
	assert_int_equal(stats(c, 1).row_changes_applied - direct, 7);
	free(cf_assert_identical(c));

	for (int64_t upto = 1; upto <= 3; upto += 2) {
		struct gdb_value vals[2] = {
		    {.type = GDB_TEXT, .p = (char *)"z", .n = 1},
		    {.type = GDB_INT, .i = upto},
		};
		cf_req_init(&r, false,
			    "UPDATE t SET v = ?1 || id WHERE id <= ?2 "
			    "RETURNING id, v",
			    NULL);
		r.stmts[0].params = vals;
		r.stmts[0].n_params = 2;
		assert_int_equal(route_and_run(c, 0, &r), 0);
		assert_ok(&r);
		/* upto 1: one row; upto 3: rows 1 and 2. */
		assert_int_equal(res(&r, 0)->rows_affected, upto == 1 ? 1 : 2);
		assert_int_equal(res(&r, 0)->n_rows, upto == 1 ? 1 : 2);
		assert_string_equal(res(&r, 0)->rows[1].p, "z1");
		cf_req_clear(&r);
	}
	cf_wait_applied(c);
	char *dump = cf_assert_identical(c);
	if (strstr(dump, "t:7a32") == NULL) { /* "z2", in hex */
		fail_msg("dump: %s", dump);
	}
	free(dump);

	/* In a transaction, a one-row statement after a many-row one, and a
	 * failing statement rolling everything back. */
	cf_req_init(&r, true, "UPDATE t SET n = n + 1",
		    "INSERT INTO t VALUES (10, 'ten', 10)",
		    "INSERT INTO t VALUES (1, 'dup', 0)", NULL);
	assert_int_equal(cf_write(c, 0, &r), TM_CONFLICT);
	cf_req_clear(&r);
	cf_req_init(&r, true, "UPDATE t SET n = n + 1",
		    "INSERT INTO t VALUES (10, 'ten', 10)", NULL);
	assert_int_equal(cf_write(c, 0, &r), 0);
	assert_ok(&r);
	cf_req_clear(&r);
	cf_wait_applied(c);
	free(cf_assert_identical(c));
	assert_int_equal(cf_query_int(c, 2, "SELECT count(*) FROM t"), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_routed_delete_all, cf_setup3,
					    cf_teardown_state),
	    cmocka_unit_test_setup_teardown(test_cache_reuse, cf_setup3,
					    cf_teardown_state),
	    cmocka_unit_test_setup_teardown(test_cache_schema_change, cf_setup3,
					    cf_teardown_state),
	    cmocka_unit_test_setup_teardown(test_routing, cf_setup3,
					    cf_teardown_state),
	    cmocka_unit_test_setup_teardown(test_routed_refusal, cf_setup3,
					    cf_teardown_state),
	    cmocka_unit_test_setup_teardown(test_one_row_and_many, cf_setup3,
					    cf_teardown_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

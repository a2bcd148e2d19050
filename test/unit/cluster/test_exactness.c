/* What the leader validated is never validated again on apply, and what
 * cannot be replicated exactly is refused when it is created: CHECK
 * constraints that are not deterministic, and virtual tables. Every member
 * must end with the same database, byte for byte in a full dump. */
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

#define N_INSERTS 200

/* Run SQL as one write on the leader; 1 if it changed a row, 0 if the
 * statement failed on a constraint. */
static int insert_or_conflict(struct cf *c, const char *sql)
{
	struct cf_req r;
	cf_req_init(&r, false, sql, NULL);
	assert_int_equal(cf_write(c, cf_leader(c), &r), 0);
	const struct gdb_result *res = &r.req.results[0];
	int status = res->status;
	if (status != 0 && status != TM_CONFLICT) {
		fail_msg("%s: %d %s", sql, status, res->error);
	}
	if (status == TM_CONFLICT) {
		assert_non_null(strstr(res->error, "CHECK constraint failed"));
	}
	cf_req_clear(&r);
	return status == 0;
}

/* CHECK (v > random()) passes about half the time on the leader. Applying
 * the committed rows used to evaluate it again, fail, and stop the member
 * as diverged; it must keep what the leader accepted, on every member, both
 * through apply_one.c's prepared statements (one row) and through
 * sqlite3changeset_apply_v2 (several rows). */
static void test_check_random_replicates(void **state)
{
	struct cf *c = *state;
	struct gdb_stats before;
	struct gdb_stats after;
	int single = 0;
	int multi = 0;

	cf_exec(c, "CREATE TABLE chk(id INTEGER PRIMARY KEY, "
		   "v INT CHECK (v > random()))");
	gdb_get_stats(c->gdb[1], &before);
	for (int i = 0; i < N_INSERTS; i++) {
		single += insert_or_conflict(c, "INSERT INTO chk(v) VALUES(0)");
		multi +=
		    insert_or_conflict(c, "INSERT INTO chk(v) VALUES(0), (0)");
	}
	/* An UPDATE re-checks every row on the leader only. */
	for (int i = 0; i < 20; i++) {
		insert_or_conflict(c, "UPDATE chk SET v = v + 1 WHERE id = "
				      "(SELECT max(id) FROM chk)");
	}
	cf_wait_applied(c);
	gdb_get_stats(c->gdb[1], &after);

	/* Both outcomes happened on the leader, both apply paths ran. */
	assert_true(single > 0 && single < N_INSERTS);
	assert_true(multi > 0 && multi < N_INSERTS);
	assert_true(after.row_changes_applied > before.row_changes_applied);
	free(cf_assert_identical(c));
	for (unsigned i = 0; i < c->n; i++) {
		assert_int_equal(cf_query_int(c, i, "SELECT count(*) FROM chk"),
				 single + 2 * multi);
	}
}

/* Virtual tables whose data lives in shadow tables replicate exactly: FTS3
 * and FTS4 (whose %_segdir key columns are not declared NOT NULL) and
 * R*Trees, with the read-only views over them. */
static void test_virtual_tables_replicate(void **state)
{
	struct cf *c = *state;
	static const char *const fts[] = {"fts3", "fts4"};
	char sql[256];

	for (size_t i = 0; i < 2; i++) {
		snprintf(sql, sizeof sql,
			 "CREATE VIRTUAL TABLE d%zu USING %s(title, body)", i,
			 fts[i]);
		cf_exec(c, sql);
		snprintf(sql, sizeof sql,
			 "INSERT INTO d%zu VALUES('raft', 'log replication'), "
			 "('sqlite', 'changesets and sessions')",
			 i);
		cf_exec(c, sql);
		snprintf(sql, sizeof sql,
			 "UPDATE d%zu SET body = 'replicated log' WHERE "
			 "title = 'raft'",
			 i);
		cf_exec(c, sql);
		free(cf_assert_identical(c));
		snprintf(sql, sizeof sql,
			 "INSERT INTO d%zu(d%zu) "
			 "VALUES('optimize')",
			 i, i);
		cf_exec(c, sql);
		snprintf(sql, sizeof sql,
			 "SELECT count(*) FROM d%zu WHERE d%zu MATCH "
			 "'replicated'",
			 i, i);
		for (unsigned m = 0; m < c->n; m++) {
			assert_int_equal(cf_query_int(c, m, sql), 1);
		}
	}
	cf_exec(c, "CREATE VIRTUAL TABLE d1_terms USING fts4aux(d1)");
	cf_exec(c, "CREATE VIRTUAL TABLE box USING rtree(id, x0, x1, y0, y1)");
	cf_exec(c, "INSERT INTO box VALUES(1, 0, 10, 0, 10), "
		   "(2, 5, 15, 5, 15)");
	cf_exec(c, "DELETE FROM box WHERE id = 1");
	free(cf_assert_identical(c));
	for (unsigned m = 0; m < c->n; m++) {
		assert_int_equal(cf_query_int(c, m,
					      "SELECT count(*) FROM box "
					      "WHERE x0 < 8 AND x1 > 6"),
				 1);
		assert_int_equal(cf_query_int(c, m,
					      "SELECT count(*) FROM d1_terms "
					      "WHERE term = 'replicated'"),
				 2);
	}
	cf_exec(c, "DROP TABLE d0");
	free(cf_assert_identical(c));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_check_random_replicates,
					    cf_setup3, cf_teardown_state),
	    cmocka_unit_test_setup_teardown(test_virtual_tables_replicate,
					    cf_setup3, cf_teardown_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

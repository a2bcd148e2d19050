/* Watches: a member learns, after the entry committed, that applied rows
 * changed a table it watches, on every member, once per entry; schema
 * statements and restores count as changes of every watched table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "internal/db/cluster/global_schema.h"
#include "test/unit/cluster/cluster_fixture.h"

struct seen {
	struct cf *c;
	unsigned member;
	unsigned calls;
	char last[32];
	long long rows; /* count(*) of the table, read in the callback */
};

static void watch_cb(void *arg, const char *table)
{
	struct seen *s = arg;
	char sql[96];
	s->calls++;
	snprintf(s->last, sizeof s->last, "%s", table);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\"", table);
	sqlite3 *db = gdb_exec_conn(s->c->gdb[s->member]);
	sqlite3_stmt *st;
	s->rows = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW) {
			s->rows = sqlite3_column_int64(st, 0);
		}
		sqlite3_finalize(st);
	}
}

static void write_ok(struct cf *c, bool transaction, const char *a,
		     const char *b)
{
	struct cf_req r;
	cf_req_init(&r, transaction, a, b, NULL);
	assert_int_equal(cf_write(c, cf_leader(c), &r), 0);
	for (size_t i = 0; i < r.req.n_stmts; i++) {
		if (r.req.results[i].status != 0) {
			fail_msg("%s", r.req.results[i].error);
		}
	}
	cf_req_clear(&r);
	cf_wait_applied(c);
}

static void test_watched_table_changes(void **state)
{
	struct cf *c = *state;
	struct seen seen[3];
	cf_exec(c, "CREATE TABLE settings(k TEXT PRIMARY KEY, v)");
	cf_exec(c, "CREATE TABLE other(a)");
	for (unsigned i = 0; i < 3; i++) {
		seen[i] = (struct seen){.c = c, .member = i};
		gdb_watch(c->gdb[i], "SETTINGS", watch_cb, &seen[i]);
	}

	/* Another table: nothing. */
	write_ok(c, false, "INSERT INTO other VALUES(1)", NULL);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(seen[i].calls, 0);
	}

	/* One entry changing the table twice: one call, after the commit,
	 * on every member (the leader included). */
	write_ok(c, true, "INSERT INTO settings VALUES('a', 1)",
		 "INSERT INTO settings VALUES('b', 2)");
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(seen[i].calls, 1);
		assert_string_equal(seen[i].last, "SETTINGS");
		assert_int_equal(seen[i].rows, 2);
	}

	/* A trigger writing into it counts. */
	cf_exec(c, "CREATE TRIGGER other_ai AFTER INSERT ON other BEGIN "
		   "UPDATE settings SET v = v + 1; END");
	unsigned before = seen[2].calls; /* the CREATE TRIGGER counted */
	assert_int_equal(before, 2);
	write_ok(c, false, "INSERT INTO other VALUES(2)", NULL);
	assert_int_equal(seen[2].calls, before + 1);

	/* An UPDATE that changes nothing records nothing, so no call. */
	write_ok(c, false, "UPDATE settings SET v = v WHERE k = 'a'", NULL);
	assert_int_equal(seen[2].calls, before + 1);

	/* Dropped: a schema change, which counts. */
	write_ok(c, false, "DROP TABLE settings", NULL);
	assert_int_equal(seen[1].calls, before + 2);
	assert_int_equal(seen[1].rows, -1); /* gone */
}

static void test_restore_counts(void **state)
{
	struct cf *c = *state;
	struct seen seen = {.c = c, .member = 1};
	sqlite3 *db;
	sqlite3_int64 size = 0;
	cf_exec(c, "CREATE TABLE settings(k TEXT PRIMARY KEY, v)");
	gdb_watch(c->gdb[1], "settings", watch_cb, &seen);

	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
				      "CREATE TABLE settings(k TEXT PRIMARY "
				      "KEY, v); INSERT INTO settings "
				      "VALUES('x', 1), ('y', 2), ('z', 3)",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	unsigned char *image = sqlite3_serialize(db, "main", &size, 0);
	sqlite3_close(db);
	struct cf_req r;
	cf_req_init(&r, false, NULL);
	assert_int_equal(cf_restore(c, cf_leader(c), &r, image, (size_t)size),
			 0);
	cf_req_clear(&r);
	cf_wait_applied(c);
	sqlite3_free(image);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.rows, 3);
}

/* What PUT/PATCH /1.0/config and "therm trust" write, on the global
 * schema's own tables: an upsert on one member is seen, already applied,
 * by the watches of every member, and so is a delete. */
static void test_config_and_trust_tables(void **state)
{
	struct cf *c = *state;
	struct seen cfg[3];
	struct seen trust[3];
	const struct schema_update *u = &global_schema()->updates[0];
	for (size_t i = 0; u->statements[i] != NULL; i++) {
		cf_exec(c, u->statements[i]);
	}
	for (unsigned i = 0; i < 3; i++) {
		cfg[i] = (struct seen){.c = c, .member = i};
		trust[i] = (struct seen){.c = c, .member = i};
		gdb_watch(c->gdb[i], "config", watch_cb, &cfg[i]);
		gdb_watch(c->gdb[i], "certificates", watch_cb, &trust[i]);
	}
#define UPSERT(v)                                                              \
	"INSERT INTO config (key, value) VALUES ('core.request_timeout', '" v  \
	"') ON CONFLICT (key) DO UPDATE SET value = excluded.value"
	write_ok(c, true, UPSERT("45"), NULL);
	write_ok(c, true, UPSERT("50"), NULL);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(cfg[i].calls, 2);
		assert_int_equal(cfg[i].rows, 1);
		assert_int_equal(trust[i].calls, 0);
		assert_int_equal(
		    cf_query_int(c, i,
				 "SELECT value FROM config WHERE key = "
				 "'core.request_timeout'"),
		    50);
	}
	write_ok(c, true,
		 "INSERT INTO certificates VALUES ('aa', 'admin', 'client', "
		 "'PEM', 1)",
		 "DELETE FROM config WHERE key = 'core.request_timeout'");
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(cfg[i].calls, 3);
		assert_int_equal(cfg[i].rows, 0);
		assert_int_equal(trust[i].calls, 1);
		assert_int_equal(trust[i].rows, 1);
	}
	char *dump = cf_assert_identical(c);
	free(dump);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_watched_table_changes,
					    cf_setup3, cf_teardown_state),
	    cmocka_unit_test_setup_teardown(test_config_and_trust_tables,
					    cf_setup3, cf_teardown_state),
	    cmocka_unit_test_setup_teardown(test_restore_counts, cf_setup3,
					    cf_teardown_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for the global database's schema (internal/db/cluster/
 * global_schema.c): both ways of building it agree, every table can be
 * replicated row by row, and the constraints hold. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "internal/db/cluster/global_schema.h"
#include "internal/db/schema/schema.h"
#include "internal/lib/err.h"
#include "internal/lib/mem.h"
#include "test/unit/schema/util.h"

#define LATEST 3

static const char *const tables[] = {
    "schema",	  "members",	 "config", "certificates",
    "operations", "join_tokens", NULL,
};

/* GLOBAL_SCHEMA() cut to its first N updates. */
static struct schema first_updates(size_t n)
{
	struct schema s = *global_schema();
	s.n_updates = n;
	return s;
}

static void ensure(sqlite3 *db, const struct schema *s, int from_want,
		   int to_want)
{
	char errmsg[TM_ERRMSG_SIZE];
	int from = -1;
	int to = -1;
	int rv = schema_ensure(db, s, NULL, &from, &to, errmsg);
	if (rv != 0) {
		fail_msg("schema_ensure: %s", errmsg);
	}
	assert_int_equal(from, from_want);
	assert_int_equal(to, to_want);
}

/* A database brought to the latest version by schema_ensure(). */
static sqlite3 *open_latest(void)
{
	sqlite3 *db = util_open();
	ensure(db, global_schema(), 0, LATEST);
	return db;
}

static void apply_statements(sqlite3 *db, int from)
{
	char errmsg[TM_ERRMSG_SIZE];
	char **stmts = NULL;
	int rv = schema_statements(global_schema(), from, &stmts, NULL, errmsg);
	if (rv != 0) {
		fail_msg("schema_statements: %s", errmsg);
	}
	util_apply_all(db, stmts);
	schema_statements_free(stmts);
}

static void assert_same_schema(sqlite3 *a, sqlite3 *b)
{
	char *dump_a = util_dump_schema(a);
	char *dump_b = util_dump_schema(b);
	assert_string_equal(dump_a, dump_b);
	tm_free(dump_a);
	tm_free(dump_b);
}

static void assert_versions(sqlite3 *db, const char *want)
{
	char *versions = util_versions(db);
	assert_string_equal(versions, want);
	tm_free(versions);
}

/* --- building it --------------------------------------------------------- */

static void identity(void **state)
{
	(void)state;
	const struct schema *s = global_schema();
	assert_string_equal(s->name, "global");
	assert_int_equal(s->n_updates, LATEST);
	assert_null(s->fresh);
	for (size_t i = 0; i < s->n_updates; i++) {
		/* SQL only: the leader must be able to replicate it */
		assert_null(s->updates[i].apply);
		assert_non_null(s->updates[i].statements);
		assert_non_null(s->updates[i].description);
	}
}

static void fresh_install(void **state)
{
	(void)state;
	sqlite3 *db = open_latest();
	assert_versions(db, "3");
	for (size_t i = 0; tables[i] != NULL; i++) {
		char *sql = tm_asprintf("SELECT count(*) FROM sqlite_schema "
					"WHERE type = 'table' AND name = '%s'",
					tables[i]);
		assert_int_equal(util_int(db, sql), 1);
		tm_free(sql);
	}
	assert_int_equal(util_int(db, "SELECT count(*) FROM sqlite_schema "
				      "WHERE type = 'table'"),
			 6);
	/* a second run changes nothing */
	ensure(db, global_schema(), LATEST, LATEST);
	sqlite3_close(db);
}

static void update_chain_matches_fresh(void **state)
{
	(void)state;
	sqlite3 *fresh = open_latest();
	sqlite3 *chain = util_open();
	struct schema v1 = first_updates(1);
	ensure(chain, &v1, 0, 1);
	assert_versions(chain, "1");
	assert_int_equal(util_int(chain, "SELECT count(*) FROM sqlite_schema "
					 "WHERE name = 'join_tokens'"),
			 0);
	util_exec(chain, "INSERT INTO members(id, name, address, "
			 "schema_version, api_extensions) VALUES (1, 'm1', "
			 "'10.0.0.1:8443', 1, 4)");
	ensure(chain, global_schema(), 1, LATEST);
	assert_versions(chain, "1,2,3");
	assert_same_schema(fresh, chain);
	assert_int_equal(util_int(chain, "SELECT count(*) FROM members"), 1);
	sqlite3_close(fresh);
	sqlite3_close(chain);
}

static void statements_match_ensure_fresh(void **state)
{
	(void)state;
	sqlite3 *ensured = open_latest();
	sqlite3 *applied = util_open();
	apply_statements(applied, 0);
	assert_same_schema(ensured, applied);
	assert_versions(applied, "3");
	/* schema_ensure() then finds nothing to do */
	ensure(applied, global_schema(), LATEST, LATEST);
	sqlite3_close(ensured);
	sqlite3_close(applied);
}

static void statements_match_ensure_from_v1(void **state)
{
	(void)state;
	struct schema v1 = first_updates(1);
	sqlite3 *ensured = util_open();
	sqlite3 *applied = util_open();
	ensure(ensured, &v1, 0, 1);
	ensure(applied, &v1, 0, 1);
	ensure(ensured, global_schema(), 1, LATEST);
	apply_statements(applied, 1);
	assert_same_schema(ensured, applied);
	assert_versions(ensured, "1,2,3");
	assert_versions(applied, "1,2,3");
	sqlite3_close(ensured);
	sqlite3_close(applied);
}

static void newer_database_refused(void **state)
{
	(void)state;
	char errmsg[TM_ERRMSG_SIZE];
	char **stmts = NULL;
	assert_int_equal(schema_statements(global_schema(), LATEST + 1, &stmts,
					   NULL, errmsg),
			 TM_NEWER);
	assert_string_equal(errmsg, "database schema 4 is newer than this "
				    "thermionicd (3); upgrade thermionicd");
	assert_null(stmts);
}

/* --- replicable ---------------------------------------------------------- */

/* Why the replication layer (internal/db/cluster/schema.c) would refuse
 * TABLE, or NULL: no declared PRIMARY KEY (pragma table_info pk > 0, or
 * WITHOUT ROWID); a key column that may hold NULL (notnull = 0 with a key
 * index, i.e. anything but an INTEGER PRIMARY KEY rowid alias); a generated
 * column. Owned. */
static char *table_problem(sqlite3 *db, const char *table)
{
	char *sql = tm_asprintf("SELECT (SELECT count(*) FROM "
				"pragma_table_info('%s') WHERE pk > 0) + "
				"(SELECT count(*) FROM pragma_table_list("
				"'%s') WHERE wr)",
				table, table);
	int64_t has_pk = util_int(db, sql);
	tm_free(sql);
	sql = tm_asprintf("SELECT count(*) FROM pragma_table_info('%s') "
			  "WHERE pk > 0 AND \"notnull\" = 0 AND EXISTS ("
			  "SELECT 1 FROM pragma_index_list('%s') WHERE "
			  "origin = 'pk')",
			  table, table);
	int64_t nullable = util_int(db, sql);
	tm_free(sql);
	sql = tm_asprintf("SELECT count(*) FROM pragma_table_xinfo('%s') "
			  "WHERE hidden IN (2, 3)",
			  table);
	int64_t generated = util_int(db, sql);
	tm_free(sql);
	if (has_pk == 0) {
		return tm_asprintf("%s: no PRIMARY KEY", table);
	}
	if (nullable != 0) {
		return tm_asprintf("%s: nullable PRIMARY KEY", table);
	}
	if (generated != 0) {
		return tm_asprintf("%s: generated column", table);
	}
	return NULL;
}

static void every_table_replicable(void **state)
{
	(void)state;
	sqlite3 *db = open_latest();
	sqlite3_stmt *stmt;
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT name FROM sqlite_schema "
					    "WHERE type = 'table' AND "
					    "substr(name, 1, 7) <> 'sqlite_' "
					    "ORDER BY name",
					    -1, &stmt, NULL),
			 SQLITE_OK);
	int n = 0;
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		const char *table = (const char *)sqlite3_column_text(stmt, 0);
		char *problem = table_problem(db, table);
		if (problem != NULL) {
			fail_msg("%s", problem);
		}
		n++;
	}
	sqlite3_finalize(stmt);
	assert_int_equal(n, 6);
	sqlite3_close(db);
}

static void expect_problem(sqlite3 *db, const char *table, const char *want)
{
	char *problem = table_problem(db, table);
	if (want == NULL) {
		assert_null(problem);
		return;
	}
	assert_non_null(problem);
	assert_string_equal(problem, want);
	tm_free(problem);
}

/* The check above must be able to fail. */
static void replicable_check_catches_bad_tables(void **state)
{
	(void)state;
	sqlite3 *db = util_open();
	util_exec(db, "CREATE TABLE no_pk (a TEXT UNIQUE); "
		      "CREATE TABLE null_pk (a TEXT PRIMARY KEY); "
		      "CREATE TABLE null_pk2 (a INTEGER NOT NULL, b INTEGER, "
		      "PRIMARY KEY (a, b)); "
		      "CREATE TABLE gen (a INTEGER PRIMARY KEY, "
		      "b INTEGER AS (a + 1)); "
		      "CREATE TABLE ok_int (a INTEGER PRIMARY KEY); "
		      "CREATE TABLE ok_text (a TEXT PRIMARY KEY NOT NULL); "
		      "CREATE TABLE ok_wr (a TEXT PRIMARY KEY) WITHOUT ROWID");
	expect_problem(db, "no_pk", "no_pk: no PRIMARY KEY");
	expect_problem(db, "null_pk", "null_pk: nullable PRIMARY KEY");
	expect_problem(db, "null_pk2", "null_pk2: nullable PRIMARY KEY");
	expect_problem(db, "gen", "gen: generated column");
	expect_problem(db, "ok_int", NULL);
	expect_problem(db, "ok_text", NULL);
	expect_problem(db, "ok_wr", NULL);
	sqlite3_close(db);
}

/* --- constraints --------------------------------------------------------- */

#define MEMBER(id, name, address)                                              \
	"INSERT INTO members(id, name, address, schema_version, "              \
	"api_extensions) VALUES (" #id ", '" name "', '" address "', 2, 4)"

static void members_constraints(void **state)
{
	(void)state;
	sqlite3 *db = open_latest();
	util_exec(db, MEMBER(1, "m1", "10.0.0.1:8443"));
	assert_int_equal(util_int(db, "SELECT role = 'voter' AND heartbeat = 0 "
				      "AND description = '' FROM members"),
			 1);
	assert_int_equal(util_exec_fails(db, MEMBER(2, "m1", "10.0.0.2:8443")),
			 SQLITE_CONSTRAINT_UNIQUE);
	assert_int_equal(util_exec_fails(db, MEMBER(2, "m2", "10.0.0.1:8443")),
			 SQLITE_CONSTRAINT_UNIQUE);
	util_exec(db, "UPDATE members SET role = 'standby' WHERE id = 1");
	util_exec(db, "UPDATE members SET role = 'spare' WHERE id = 1");
	assert_int_equal(util_exec_fails(db, "UPDATE members SET role = "
					     "'leader' WHERE id = 1"),
			 SQLITE_CONSTRAINT_CHECK);
	assert_int_equal(util_exec_fails(db, "INSERT INTO members(id, name, "
					     "address, schema_version) "
					     "VALUES (3, 'm3', 'x:1', 2)"),
			 SQLITE_CONSTRAINT_NOTNULL);
	sqlite3_close(db);
}

static void other_constraints(void **state)
{
	(void)state;
	sqlite3 *db = open_latest();
	assert_int_equal(util_exec_fails(db, "INSERT INTO config VALUES "
					     "(NULL, 'x')"),
			 SQLITE_CONSTRAINT_NOTNULL);
	util_exec(db, "INSERT INTO certificates VALUES ('ab', 'admin', "
		      "'client', 'PEM', 1700000000), ('cd', 'm2', 'server', "
		      "'PEM', 1700000000)");
	assert_int_equal(util_exec_fails(db, "INSERT INTO certificates "
					     "VALUES ('ef', 'x', 'root', "
					     "'PEM', 1)"),
			 SQLITE_CONSTRAINT_CHECK);
	util_exec(db, "INSERT INTO join_tokens VALUES ('h1', 'm2', "
		      "'[\"10.0.0.1:8443\"]', 'ab', 1700000000, 1700010800)");
	assert_int_equal(util_exec_fails(db, "INSERT INTO join_tokens "
					     "VALUES ('h2', 'm2', '[]', "
					     "'ab', 1, 2)"),
			 SQLITE_CONSTRAINT_UNIQUE);
	assert_int_equal(util_exec_fails(db, "INSERT INTO join_tokens "
					     "VALUES (NULL, 'm3', '[]', "
					     "'ab', 1, 2)"),
			 SQLITE_CONSTRAINT_NOTNULL);
	sqlite3_close(db);
}

/* Whether the query plan of SQL mentions INDEX. */
static bool plan_uses(sqlite3 *db, const char *sql, const char *index)
{
	char *explain = tm_asprintf("EXPLAIN QUERY PLAN %s", sql);
	sqlite3_stmt *stmt;
	assert_int_equal(sqlite3_prepare_v2(db, explain, -1, &stmt, NULL),
			 SQLITE_OK);
	tm_free(explain);
	bool found = false;
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		const char *detail = (const char *)sqlite3_column_text(stmt, 3);
		found = found || (detail != NULL && strstr(detail, index));
	}
	sqlite3_finalize(stmt);
	return found;
}

static void operations_follow_their_member(void **state)
{
	(void)state;
	sqlite3 *db = open_latest();
	util_exec(db, MEMBER(1, "m1", "10.0.0.1:8443"));
	util_exec(db, MEMBER(2, "m2", "10.0.0.2:8443"));
	util_exec(db, "INSERT INTO operations VALUES "
		      "('u1', 1, 'task', 'running', 1, 1), "
		      "('u2', 2, 'task', 'running', 1, 1), "
		      "('u3', 2, 'join', 'pending', 1, 1)");
	assert_int_equal(util_exec_fails(db, "INSERT INTO operations VALUES "
					     "('u4', 9, 'task', 'running', "
					     "1, 1)"),
			 SQLITE_CONSTRAINT_FOREIGNKEY);
	util_exec(db, "DELETE FROM members WHERE id = 2");
	char *left = util_text(db, "SELECT group_concat(uuid) FROM "
				   "operations");
	assert_string_equal(left, "u1");
	tm_free(left);
	/* the member lookup (and the cascade) use the index */
	assert_int_equal(util_int(db,
				  "SELECT count(*) FROM "
				  "pragma_index_info('operations_member_id') "
				  "WHERE name = 'member_id'"),
			 1);
	assert_true(plan_uses(db,
			      "SELECT uuid FROM operations WHERE "
			      "member_id = 1",
			      "operations_member_id"));
	sqlite3_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(identity),
	    cmocka_unit_test(fresh_install),
	    cmocka_unit_test(update_chain_matches_fresh),
	    cmocka_unit_test(statements_match_ensure_fresh),
	    cmocka_unit_test(statements_match_ensure_from_v1),
	    cmocka_unit_test(newer_database_refused),
	    cmocka_unit_test(every_table_replicable),
	    cmocka_unit_test(replicable_check_catches_bad_tables),
	    cmocka_unit_test(members_constraints),
	    cmocka_unit_test(other_constraints),
	    cmocka_unit_test(operations_follow_their_member),
	};
	return cmocka_run_group_tests_name("global-schema", tests, NULL, NULL);
}

/* Unit tests for schema updates given as SQL statements: schema_ensure()
 * running them, and schema_statements() listing them for a replicated
 * database. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "internal/db/schema/schema.h"
#include "internal/lib/err.h"
#include "internal/lib/mem.h"
#include "test/unit/schema/util.h"

#define SCHEMA_TABLE                                                           \
	"CREATE TABLE schema (version INTEGER PRIMARY KEY, updated_at "        \
	"INTEGER NOT NULL)"
#define RECORD(v)                                                              \
	"INSERT INTO schema(version, updated_at) VALUES (" #v                  \
	", strftime('%s','now'))"

static const char *const items[] = {
    "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
    NULL,
};

static const char *const color[] = {
    "ALTER TABLE items ADD COLUMN color TEXT NOT NULL DEFAULT 'red';",
    "UPDATE items SET name = upper(name)",
    NULL,
};

static const char *const tags[] = {
    "CREATE TABLE tags (tag TEXT PRIMARY KEY NOT NULL, item INTEGER "
    "REFERENCES items(id) ON DELETE CASCADE)",
    "/* comments are fine */ CREATE INDEX tags_item ON tags (item) -- too",
    NULL,
};

static const struct schema_update chain[] = {
    {.description = "create items", .statements = items},
    {.description = "add color", .statements = color},
    {.description = "add tags", .statements = tags},
};

static struct schema make_schema(size_t n)
{
	struct schema s = {.name = "test", .updates = chain, .n_updates = n};
	return s;
}

/* Bring DB to version N of the chain with schema_ensure(). */
static void ensure(sqlite3 *db, size_t n)
{
	struct schema s = make_schema(n);
	char errmsg[TM_ERRMSG_SIZE];
	int rv = schema_ensure(db, &s, NULL, NULL, NULL, errmsg);
	if (rv != 0) {
		fail_msg("schema_ensure: %s", errmsg);
	}
}

static char **statements(size_t n_updates, int from, size_t *n)
{
	struct schema s = make_schema(n_updates);
	char errmsg[TM_ERRMSG_SIZE];
	char **out = NULL;
	int rv = schema_statements(&s, from, &out, n, errmsg);
	if (rv != 0) {
		fail_msg("schema_statements: %s", errmsg);
	}
	assert_non_null(out);
	return out;
}

static void assert_list(char **got, size_t n, const char *const *want)
{
	size_t i = 0;
	for (; want[i] != NULL; i++) {
		assert_non_null(got[i]);
		assert_string_equal(got[i], want[i]);
	}
	assert_null(got[i]);
	assert_int_equal(n, i);
}

/* DB_A and DB_B have the same sqlite_schema and recorded versions. */
static void assert_same(sqlite3 *a, sqlite3 *b, const char *versions)
{
	char *dump_a = util_dump_schema(a);
	char *dump_b = util_dump_schema(b);
	assert_string_equal(dump_a, dump_b);
	tm_free(dump_a);
	tm_free(dump_b);
	char *va = util_versions(a);
	char *vb = util_versions(b);
	assert_string_equal(va, versions);
	assert_string_equal(vb, versions);
	tm_free(va);
	tm_free(vb);
}

/* --- schema_statements() ------------------------------------------------- */

static void fresh_list(void **state)
{
	(void)state;
	size_t n = 0;
	char **got = statements(3, 0, &n);
	static const char *const want[] = {
	    SCHEMA_TABLE,
	    "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT "
	    "NULL)",
	    "ALTER TABLE items ADD COLUMN color TEXT NOT NULL DEFAULT "
	    "'red';",
	    "UPDATE items SET name = upper(name)",
	    "CREATE TABLE tags (tag TEXT PRIMARY KEY NOT NULL, item "
	    "INTEGER REFERENCES items(id) ON DELETE CASCADE)",
	    "/* comments are fine */ CREATE INDEX tags_item ON tags "
	    "(item) -- too",
	    RECORD(3),
	    NULL,
	};
	assert_list(got, n, want);
	schema_statements_free(got);
}

static void fresh_statements_match_ensure(void **state)
{
	(void)state;
	sqlite3 *a = util_open();
	sqlite3 *b = util_open();
	ensure(a, 3);
	size_t n;
	char **stmts = statements(3, 0, &n);
	util_apply_all(b, stmts);
	schema_statements_free(stmts);
	assert_same(a, b, "3");
	/* and schema_ensure() agrees that B is up to date */
	struct schema s = make_schema(3);
	char errmsg[TM_ERRMSG_SIZE];
	int from = -1;
	assert_int_equal(schema_ensure(b, &s, NULL, &from, NULL, errmsg), 0);
	assert_int_equal(from, 3);
	sqlite3_close(a);
	sqlite3_close(b);
}

static void middle_list(void **state)
{
	(void)state;
	size_t n = 0;
	char **got = statements(3, 1, &n);
	static const char *const want[] = {
	    "ALTER TABLE items ADD COLUMN color TEXT NOT NULL DEFAULT "
	    "'red';",
	    "UPDATE items SET name = upper(name)",
	    RECORD(2),
	    "CREATE TABLE tags (tag TEXT PRIMARY KEY NOT NULL, item "
	    "INTEGER REFERENCES items(id) ON DELETE CASCADE)",
	    "/* comments are fine */ CREATE INDEX tags_item ON tags "
	    "(item) -- too",
	    RECORD(3),
	    NULL,
	};
	assert_list(got, n, want);
	schema_statements_free(got);
}

static void middle_statements_match_ensure(void **state)
{
	(void)state;
	sqlite3 *a = util_open();
	sqlite3 *b = util_open();
	ensure(a, 1);
	ensure(b, 1);
	util_exec(a, "INSERT INTO items(id, name) VALUES (1, 'lamp')");
	util_exec(b, "INSERT INTO items(id, name) VALUES (1, 'lamp')");
	ensure(a, 3);
	size_t n;
	char **stmts = statements(3, 1, &n);
	util_apply_all(b, stmts);
	schema_statements_free(stmts);
	assert_same(a, b, "1,2,3");
	/* the data statements ran too */
	assert_int_equal(util_int(b, "SELECT count(*) FROM items WHERE "
				     "name = 'LAMP' AND color = 'red'"),
			 1);
	sqlite3_close(a);
	sqlite3_close(b);
}

static void latest_gives_empty_list(void **state)
{
	(void)state;
	size_t n = 99;
	char **got = statements(3, 3, &n);
	assert_int_equal(n, 0);
	assert_null(got[0]);
	schema_statements_free(got);
	/* N is optional */
	struct schema s = make_schema(3);
	char errmsg[TM_ERRMSG_SIZE];
	assert_int_equal(schema_statements(&s, 2, &got, NULL, errmsg), 0);
	assert_string_equal(got[2], RECORD(3));
	assert_null(got[3]);
	schema_statements_free(got);
	schema_statements_free(NULL);
}

static void too_new_refused(void **state)
{
	(void)state;
	struct schema s = make_schema(2);
	char errmsg[TM_ERRMSG_SIZE];
	char **out = (char **)&s; /* must be overwritten */
	size_t n = 99;
	assert_int_equal(schema_statements(&s, 3, &out, &n, errmsg), TM_NEWER);
	assert_string_equal(errmsg, "database schema 3 is newer than this "
				    "thermionicd (2); upgrade thermionicd");
	assert_null(out);
	assert_int_equal(n, 0);
}

static int apply_items(sqlite3 *db, char *errmsg)
{
	return schema_exec(db, items[0], errmsg);
}

static void c_update_in_range_invalid(void **state)
{
	(void)state;
	const struct schema_update mixed[] = {
	    {.description = "create items", .apply = apply_items},
	    {.description = "add color", .statements = color},
	};
	struct schema s = {.name = "test", .updates = mixed, .n_updates = 2};
	char errmsg[TM_ERRMSG_SIZE];
	char **out = NULL;
	size_t n = 99;
	assert_int_equal(schema_statements(&s, 0, &out, &n, errmsg),
			 TM_INVALID);
	assert_string_equal(errmsg, "schema update 1 (create items): no SQL "
				    "statements");
	assert_null(out);
	assert_int_equal(n, 0);
	/* the C update is not in the range 1 -> 2 */
	assert_int_equal(schema_statements(&s, 1, &out, &n, errmsg), 0);
	assert_int_equal(n, 3);
	schema_statements_free(out);
}

/* Statements computed for version 1, run on a database another member has
 * already taken to version 2: the version row guards the transaction even
 * when the update's own statements would run twice without error. */
static void stale_statements_fail(void **state)
{
	(void)state;
	static const char *const shout[] = {
	    "UPDATE items SET name = name || '!'",
	    NULL,
	};
	const struct schema_update updates[] = {
	    {.description = "create items", .statements = items},
	    {.description = "shout", .statements = shout},
	};
	struct schema s = {.name = "test", .updates = updates, .n_updates = 2};
	sqlite3 *db = util_open();
	ensure(db, 1);
	util_exec(db, "INSERT INTO items(id, name) VALUES (1, 'lamp')");
	char errmsg[TM_ERRMSG_SIZE];
	char **stmts = NULL;
	assert_int_equal(schema_statements(&s, 1, &stmts, NULL, errmsg), 0);
	assert_int_equal(schema_ensure(db, &s, NULL, NULL, NULL, errmsg), 0);

	util_exec(db, "BEGIN");
	util_exec(db, stmts[0]);
	assert_int_equal(util_exec_fails(db, stmts[1]),
			 SQLITE_CONSTRAINT_PRIMARYKEY);
	util_exec(db, "ROLLBACK");
	schema_statements_free(stmts);
	char *name = util_text(db, "SELECT name FROM items");
	assert_string_equal(name, "lamp!");
	tm_free(name);
	char *versions = util_versions(db);
	assert_string_equal(versions, "1,2");
	tm_free(versions);
	sqlite3_close(db);
}

/* --- schema_ensure() running statements ---------------------------------- */

static int applied;

static int apply_counted(sqlite3 *db, char *errmsg)
{
	applied++;
	return schema_exec(db, items[0], errmsg);
}

static void apply_wins_over_statements(void **state)
{
	(void)state;
	static const char *const other[] = {"CREATE TABLE other (id "
					    "INTEGER PRIMARY KEY)",
					    NULL};
	const struct schema_update both[] = {
	    {.description = "both",
	     .apply = apply_counted,
	     .statements = other},
	};
	struct schema s = {.name = "test", .updates = both, .n_updates = 1};
	sqlite3 *db = util_open();
	char errmsg[TM_ERRMSG_SIZE];
	applied = 0;
	assert_int_equal(schema_ensure(db, &s, NULL, NULL, NULL, errmsg), 0);
	assert_int_equal(applied, 1);
	assert_int_equal(util_int(db, "SELECT count(*) FROM sqlite_schema "
				      "WHERE name IN ('items', 'other')"),
			 1);
	assert_int_equal(util_int(db, "SELECT count(*) FROM items"), 0);
	char **out = NULL;
	assert_int_equal(schema_statements(&s, 0, &out, NULL, errmsg), 0);
	assert_string_equal(out[1], other[0]);
	schema_statements_free(out);
	sqlite3_close(db);
}

static void empty_update_records_version(void **state)
{
	(void)state;
	static const char *const none[] = {NULL};
	const struct schema_update updates[] = {
	    {.description = "create items", .statements = items},
	    {.description = "nothing", .statements = none},
	};
	struct schema s = {.name = "test", .updates = updates, .n_updates = 2};
	sqlite3 *db = util_open();
	ensure(db, 1);
	char errmsg[TM_ERRMSG_SIZE];
	assert_int_equal(schema_ensure(db, &s, NULL, NULL, NULL, errmsg), 0);
	char *versions = util_versions(db);
	assert_string_equal(versions, "1,2");
	tm_free(versions);
	char **out = NULL;
	size_t n;
	assert_int_equal(schema_statements(&s, 1, &out, &n, errmsg), 0);
	assert_int_equal(n, 1);
	assert_string_equal(out[0], RECORD(2));
	schema_statements_free(out);
	sqlite3_close(db);
}

static void neither_apply_nor_statements(void **state)
{
	(void)state;
	const struct schema_update updates[] = {
	    {.description = "create items", .statements = items},
	    {.description = "hollow"},
	};
	struct schema s = {.name = "test", .updates = updates, .n_updates = 2};
	sqlite3 *db = util_open();
	char errmsg[TM_ERRMSG_SIZE];
	assert_int_equal(schema_ensure(db, &s, NULL, NULL, NULL, errmsg),
			 TM_INVALID);
	assert_string_equal(errmsg, "schema update 2 (hollow): neither an "
				    "apply function nor statements");
	assert_int_equal(util_int(db, "SELECT count(*) FROM sqlite_schema"), 0);
	sqlite3_close(db);
}

/* Update 2 of a database at version 1 fails at its statement 2: nothing of
 * update 2 stays, and the error names the update and the statement. */
static void expect_failure(const char *const *stmts, int code,
			   const char *message)
{
	const struct schema_update updates[] = {
	    {.description = "create items", .statements = items},
	    {.description = "break things", .statements = stmts},
	};
	struct schema s = {.name = "test", .updates = updates, .n_updates = 2};
	sqlite3 *db = util_open();
	ensure(db, 1);
	util_exec(db, "INSERT INTO items(id, name) VALUES (1, 'lamp')");
	char errmsg[TM_ERRMSG_SIZE];
	int from = -1;
	int to = -1;
	assert_int_equal(schema_ensure(db, &s, NULL, &from, &to, errmsg), code);
	assert_string_equal(errmsg, message);
	assert_int_equal(from, 1);
	assert_int_equal(to, 1);
	assert_true(sqlite3_get_autocommit(db));
	char *versions = util_versions(db);
	assert_string_equal(versions, "1");
	tm_free(versions);
	assert_int_equal(util_int(db, "SELECT count(*) FROM items WHERE "
				      "name = 'lamp'"),
			 1);
	assert_int_equal(util_int(db, "SELECT count(*) FROM sqlite_schema "
				      "WHERE name = 'extra'"),
			 0);
	sqlite3_close(db);
}

static void failing_statement_rolls_back(void **state)
{
	(void)state;
	static const char *const stmts[] = {
	    "CREATE TABLE extra (id INTEGER PRIMARY KEY)",
	    "UPDATE items SET name = 'x'",
	    "INSERT INTO missing VALUES (1)",
	    NULL,
	};
	expect_failure(stmts, TM_DB,
		       "schema update 2 (break things): statement 3: no such "
		       "table: missing");
}

static void constraint_failure_rolls_back(void **state)
{
	(void)state;
	static const char *const stmts[] = {
	    "CREATE TABLE extra (id INTEGER PRIMARY KEY)",
	    "INSERT INTO items(id, name) VALUES (1, 'again')",
	    NULL,
	};
	expect_failure(stmts, TM_DB,
		       "schema update 2 (break things): statement 2: UNIQUE "
		       "constraint failed: items.id");
}

static void two_statements_in_one_string(void **state)
{
	(void)state;
	static const char *const stmts[] = {
	    "CREATE TABLE extra (id INTEGER PRIMARY KEY); "
	    "CREATE TABLE more (id INTEGER PRIMARY KEY)",
	    NULL,
	};
	expect_failure(stmts, TM_INVALID,
		       "schema update 2 (break things): statement 1 holds "
		       "more than one statement");
	/* also when the second names what the first would create */
	static const char *const dependent[] = {
	    "CREATE TABLE extra (id INTEGER PRIMARY KEY);"
	    "INSERT INTO extra VALUES (1)",
	    NULL,
	};
	expect_failure(dependent, TM_INVALID,
		       "schema update 2 (break things): statement 1 holds "
		       "more than one statement");
}

static void empty_statement_refused(void **state)
{
	(void)state;
	static const char *const stmts[] = {
	    "CREATE TABLE extra (id INTEGER PRIMARY KEY)",
	    " ; -- nothing",
	    NULL,
	};
	expect_failure(stmts, TM_INVALID,
		       "schema update 2 (break things): statement 2 holds no "
		       "SQL");
}

static void parameters_refused(void **state)
{
	(void)state;
	static const char *const stmts[] = {
	    "CREATE TABLE extra (id INTEGER PRIMARY KEY)",
	    "UPDATE items SET name = ?",
	    NULL,
	};
	expect_failure(stmts, TM_INVALID,
		       "schema update 2 (break things): statement 2 has "
		       "parameters");
}

static void fresh_failure_leaves_empty(void **state)
{
	(void)state;
	static const char *const bad[] = {"CREATE TABLE items (id)", NULL};
	const struct schema_update updates[] = {
	    {.description = "create items", .statements = items},
	    {.description = "again", .statements = bad},
	};
	struct schema s = {.name = "test", .updates = updates, .n_updates = 2};
	sqlite3 *db = util_open();
	char errmsg[TM_ERRMSG_SIZE];
	assert_int_equal(schema_ensure(db, &s, NULL, NULL, NULL, errmsg),
			 TM_DB);
	assert_string_equal(errmsg, "schema update 2 (again): statement 1: "
				    "table items already exists");
	assert_int_equal(util_int(db, "SELECT count(*) FROM sqlite_schema"), 0);
	sqlite3_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(fresh_list),
	    cmocka_unit_test(fresh_statements_match_ensure),
	    cmocka_unit_test(middle_list),
	    cmocka_unit_test(middle_statements_match_ensure),
	    cmocka_unit_test(latest_gives_empty_list),
	    cmocka_unit_test(too_new_refused),
	    cmocka_unit_test(c_update_in_range_invalid),
	    cmocka_unit_test(stale_statements_fail),
	    cmocka_unit_test(apply_wins_over_statements),
	    cmocka_unit_test(empty_update_records_version),
	    cmocka_unit_test(neither_apply_nor_statements),
	    cmocka_unit_test(failing_statement_rolls_back),
	    cmocka_unit_test(constraint_failure_rolls_back),
	    cmocka_unit_test(two_statements_in_one_string),
	    cmocka_unit_test(empty_statement_refused),
	    cmocka_unit_test(parameters_refused),
	    cmocka_unit_test(fresh_failure_leaves_empty),
	};
	return cmocka_run_group_tests_name("schema-statements", tests, NULL,
					   NULL);
}

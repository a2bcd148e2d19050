/* Unit tests for internal/db/schema: fresh installs, update chains, backups,
 * refusals and rollback. Each test gets its own temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal/db/schema/schema.h"
#include "internal/lib/err.h"
#include "internal/lib/mem.h"

struct fixture {
	char dir[64];
	char *path;   /* dir/test.db */
	char *backup; /* dir/test.db.bak */
	sqlite3 *db;
};

/* Which steps ran, in order: update i+1 logs i+1, fresh logs 100. */
static int ran[16];
static int n_ran;

static void log_step(int step)
{
	if (n_ran < (int)(sizeof ran / sizeof ran[0])) {
		ran[n_ran] = step;
	}
	n_ran++;
}

static int update1(sqlite3 *db, char *errmsg)
{
	log_step(1);
	return schema_exec(db,
			   "CREATE TABLE items (id INTEGER PRIMARY KEY, "
			   "name TEXT NOT NULL)",
			   errmsg);
}

static int update2(sqlite3 *db, char *errmsg)
{
	log_step(2);
	return schema_exec(db,
			   "ALTER TABLE items ADD COLUMN color TEXT "
			   "NOT NULL DEFAULT 'red'; "
			   "UPDATE items SET name = upper(name)",
			   errmsg);
}

static int update3(sqlite3 *db, char *errmsg)
{
	log_step(3);
	return schema_exec(db, "CREATE TABLE tags (tag TEXT PRIMARY KEY)",
			   errmsg);
}

static int update_plain(sqlite3 *db, char *errmsg)
{
	(void)db;
	(void)errmsg;
	log_step(9);
	return 0;
}

static int update_sql_error(sqlite3 *db, char *errmsg)
{
	log_step(3);
	return schema_exec(db, "INSERT INTO missing VALUES (1)", errmsg);
}

static int update_own_error(sqlite3 *db, char *errmsg)
{
	(void)db;
	log_step(3);
	tm_errmsg_printf(errmsg, "disk says no");
	return TM_IO;
}

static int update_fk_violation(sqlite3 *db, char *errmsg)
{
	log_step(3);
	return schema_exec(db,
			   "CREATE TABLE parents (id INTEGER PRIMARY KEY); "
			   "CREATE TABLE children (id INTEGER PRIMARY KEY, "
			   "parent INTEGER REFERENCES parents(id)); "
			   "INSERT INTO children VALUES (1, 42)",
			   errmsg);
}

static int fresh3(sqlite3 *db, char *errmsg)
{
	log_step(100);
	return schema_exec(db,
			   "CREATE TABLE items (id INTEGER PRIMARY KEY, "
			   "name TEXT NOT NULL, color TEXT NOT NULL "
			   "DEFAULT 'red'); "
			   "CREATE TABLE tags (tag TEXT PRIMARY KEY)",
			   errmsg);
}

static const struct schema_update chain[] = {
	{.description = "create items", .apply = update1},
	{.description = "add color", .apply = update2},
	{.description = "add tags", .apply = update3},
};

static struct schema make_schema(size_t n, int (*fresh)(sqlite3 *, char *))
{
	struct schema s = {.name = "test",
			   .updates = chain,
			   .n_updates = n,
			   .fresh = fresh};
	return s;
}

/* --- fixture ------------------------------------------------------------- */

static void remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	if (d == NULL) {
		return;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 ||
		    strcmp(e->d_name, "..") == 0) {
			continue;
		}
		char *p = tm_asprintf("%s/%s", dir, e->d_name);
		unlink(p);
		tm_free(p);
	}
	closedir(d);
	rmdir(dir);
}

static int setup(void **state)
{
	struct fixture *f = tm_calloc(1, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/tm-schema-XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		return -1;
	}
	f->path = tm_asprintf("%s/test.db", f->dir);
	f->backup = tm_asprintf("%s/test.db.bak", f->dir);
	if (sqlite3_open(f->path, &f->db) != SQLITE_OK) {
		return -1;
	}
	n_ran = 0;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	sqlite3_close(f->db);
	remove_tree(f->dir);
	tm_free(f->path);
	tm_free(f->backup);
	tm_free(f);
	return 0;
}

/* --- helpers ------------------------------------------------------------- */

static void exec_ok(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		fail_msg("%s: %s", sql, msg);
	}
}

/* The single integer (or NULL as -1) that SQL returns. */
static int64_t query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *stmt;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	int64_t v = sqlite3_column_type(stmt, 0) == SQLITE_NULL
			    ? -1
			    : sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return v;
}

/* The recorded versions as "1,2,3". */
static void recorded(sqlite3 *db, char *out, size_t size)
{
	sqlite3_stmt *stmt;
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT group_concat(version) "
					    "FROM (SELECT version FROM "
					    "schema ORDER BY version)",
					    -1, &stmt, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	const char *text = (const char *)sqlite3_column_text(stmt, 0);
	snprintf(out, size, "%s", text != NULL ? text : "");
	sqlite3_finalize(stmt);
}

static bool table_exists(sqlite3 *db, const char *name)
{
	char *sql = tm_asprintf("SELECT count(*) FROM sqlite_master WHERE "
				"type = 'table' AND name = '%s'",
				name);
	int64_t n = query_int(db, sql);
	tm_free(sql);
	return n == 1;
}

static int version_of(sqlite3 *db)
{
	char errmsg[TM_ERRMSG_SIZE];
	int version = -1;
	assert_int_equal(schema_version(db, &version, errmsg), 0);
	return version;
}

/* Bring F's database to version N of the chain, then add sample rows. */
static void prepare_version(struct fixture *f, size_t n)
{
	struct schema s = make_schema(n, NULL);
	char errmsg[TM_ERRMSG_SIZE];
	assert_int_equal(schema_ensure(f->db, &s, NULL, NULL, NULL, errmsg),
			 0);
	exec_ok(f->db, "INSERT INTO items(id, name) VALUES (1, 'lamp'), "
		       "(2, 'valve')");
	n_ran = 0;
}

/* --- tests --------------------------------------------------------------- */

static void version_zero_without_table(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(version_of(f->db), 0);
}

static void fresh_install_uses_fresh(void **state)
{
	struct fixture *f = *state;
	struct schema s = make_schema(3, fresh3);
	char errmsg[TM_ERRMSG_SIZE];
	int from = -1;
	int to = -1;
	assert_int_equal(
		schema_ensure(f->db, &s, f->backup, &from, &to, errmsg), 0);
	assert_int_equal(from, 0);
	assert_int_equal(to, 3);
	assert_int_equal(n_ran, 1);
	assert_int_equal(ran[0], 100);
	char versions[64];
	recorded(f->db, versions, sizeof versions);
	assert_string_equal(versions, "3");
	assert_int_equal(version_of(f->db), 3);
	assert_true(table_exists(f->db, "tags"));
	assert_true(query_int(f->db, "SELECT updated_at FROM schema") >
		    1600000000);
	/* No backup on a fresh install. */
	assert_int_equal(access(f->backup, F_OK), -1);
}

static void fresh_install_runs_every_update(void **state)
{
	struct fixture *f = *state;
	struct schema s = make_schema(3, NULL);
	char errmsg[TM_ERRMSG_SIZE];
	int from = -1;
	int to = -1;
	assert_int_equal(
		schema_ensure(f->db, &s, f->backup, &from, &to, errmsg), 0);
	assert_int_equal(from, 0);
	assert_int_equal(to, 3);
	assert_int_equal(n_ran, 3);
	assert_int_equal(ran[0], 1);
	assert_int_equal(ran[1], 2);
	assert_int_equal(ran[2], 3);
	char versions[64];
	recorded(f->db, versions, sizeof versions);
	assert_string_equal(versions, "3");
	assert_int_equal(access(f->backup, F_OK), -1);
}

static void same_version_is_a_no_op(void **state)
{
	struct fixture *f = *state;
	prepare_version(f, 3);
	struct schema s = make_schema(3, fresh3);
	char errmsg[TM_ERRMSG_SIZE];
	int from = -1;
	int to = -1;
	assert_int_equal(
		schema_ensure(f->db, &s, f->backup, &from, &to, errmsg), 0);
	assert_int_equal(from, 3);
	assert_int_equal(to, 3);
	assert_int_equal(n_ran, 0);
	assert_int_equal(access(f->backup, F_OK), -1);
	assert_true(sqlite3_get_autocommit(f->db));
}

static void update_chain_from_k(void **state)
{
	struct fixture *f = *state;
	prepare_version(f, 1);
	struct schema s = make_schema(3, fresh3);
	char errmsg[TM_ERRMSG_SIZE];
	int from = -1;
	int to = -1;
	assert_int_equal(schema_ensure(f->db, &s, NULL, &from, &to, errmsg),
			 0);
	assert_int_equal(from, 1);
	assert_int_equal(to, 3);
	/* fresh is not used for an existing database; update 1 not rerun */
	assert_int_equal(n_ran, 2);
	assert_int_equal(ran[0], 2);
	assert_int_equal(ran[1], 3);
	char versions[64];
	recorded(f->db, versions, sizeof versions);
	assert_string_equal(versions, "1,2,3");
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM items WHERE "
					  "name = 'LAMP' AND color = 'red'"),
			 1);
	/* then a later binary adds on top of a fresh-installed row */
	assert_int_equal(version_of(f->db), 3);
}

static void update_after_fresh_install(void **state)
{
	struct fixture *f = *state;
	struct schema s2 = make_schema(2, NULL);
	struct schema s3 = make_schema(3, NULL);
	char errmsg[TM_ERRMSG_SIZE];
	assert_int_equal(schema_ensure(f->db, &s2, NULL, NULL, NULL, errmsg),
			 0);
	assert_int_equal(schema_ensure(f->db, &s3, NULL, NULL, NULL, errmsg),
			 0);
	char versions[64];
	recorded(f->db, versions, sizeof versions);
	assert_string_equal(versions, "2,3");
	assert_int_equal(version_of(f->db), 3);
}

static void backup_written_before_update(void **state)
{
	struct fixture *f = *state;
	prepare_version(f, 1);
	exec_ok(f->db, "PRAGMA journal_mode=WAL");
	struct schema s = make_schema(3, fresh3);
	char errmsg[TM_ERRMSG_SIZE];
	assert_int_equal(
		schema_ensure(f->db, &s, f->backup, NULL, NULL, errmsg), 0);

	struct stat st;
	assert_int_equal(stat(f->backup, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	char *tmp = tm_asprintf("%s.tmp", f->backup);
	assert_int_equal(access(tmp, F_OK), -1);
	tm_free(tmp);

	sqlite3 *old;
	assert_int_equal(sqlite3_open_v2(f->backup, &old,
					 SQLITE_OPEN_READONLY, NULL),
			 SQLITE_OK);
	assert_int_equal(version_of(old), 1);
	assert_int_equal(query_int(old, "SELECT count(*) FROM items WHERE "
					"name IN ('lamp', 'valve')"),
			 2);
	assert_false(table_exists(old, "tags"));
	sqlite3_stmt *stmt;
	assert_int_equal(sqlite3_prepare_v2(old, "PRAGMA journal_mode", -1,
					    &stmt, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(stmt, 0),
			    "delete");
	sqlite3_finalize(stmt);
	sqlite3_close(old);

	/* the live database moved on */
	assert_int_equal(version_of(f->db), 3);
	assert_true(table_exists(f->db, "tags"));
}

static void backup_of_other_version_kept(void **state)
{
	struct fixture *f = *state;
	prepare_version(f, 1);
	struct schema s2 = make_schema(2, NULL);
	struct schema s3 = make_schema(3, NULL);
	char errmsg[TM_ERRMSG_SIZE];
	assert_int_equal(
		schema_ensure(f->db, &s2, f->backup, NULL, NULL, errmsg), 0);
	assert_int_equal(
		schema_ensure(f->db, &s3, f->backup, NULL, NULL, errmsg), 0);

	sqlite3 *bak;
	assert_int_equal(sqlite3_open(f->backup, &bak), SQLITE_OK);
	assert_int_equal(version_of(bak), 2);
	sqlite3_close(bak);
	char *aside = tm_asprintf("%s.1", f->backup);
	assert_int_equal(sqlite3_open_v2(aside, &bak, SQLITE_OPEN_READWRITE,
					 NULL),
			 SQLITE_OK);
	assert_int_equal(version_of(bak), 1);
	sqlite3_close(bak);
	tm_free(aside);
}

static void backup_of_same_version_replaced(void **state)
{
	struct fixture *f = *state;
	prepare_version(f, 1);
	/* a backup left by an earlier, failed attempt at the same upgrade */
	char errmsg[TM_ERRMSG_SIZE];
	assert_int_equal(schema_backup(f->db, f->backup, errmsg), 0);
	exec_ok(f->db, "INSERT INTO items(id, name) VALUES (3, 'grid')");
	struct schema s = make_schema(2, NULL);
	assert_int_equal(
		schema_ensure(f->db, &s, f->backup, NULL, NULL, errmsg), 0);
	sqlite3 *bak;
	assert_int_equal(sqlite3_open(f->backup, &bak), SQLITE_OK);
	assert_int_equal(query_int(bak, "SELECT count(*) FROM items"), 3);
	sqlite3_close(bak);
	char *aside = tm_asprintf("%s.1", f->backup);
	assert_int_equal(access(aside, F_OK), -1);
	tm_free(aside);
}

static void backup_failure_blocks_update(void **state)
{
	struct fixture *f = *state;
	prepare_version(f, 1);
	struct schema s = make_schema(3, NULL);
	char errmsg[TM_ERRMSG_SIZE];
	char *bad = tm_asprintf("%s/no/such/dir/test.db.bak", f->dir);
	int from = -1;
	int to = -1;
	assert_int_equal(schema_ensure(f->db, &s, bad, &from, &to, errmsg),
			 TM_IO);
	tm_free(bad);
	assert_non_null(strstr(errmsg, "backup before schema update"));
	assert_int_equal(from, 1);
	assert_int_equal(to, 1);
	assert_int_equal(n_ran, 0);
	assert_int_equal(version_of(f->db), 1);
	assert_true(sqlite3_get_autocommit(f->db));
}

static void newer_version_refused(void **state)
{
	struct fixture *f = *state;
	static const struct schema_update seven[] = {
		{.description = "one", .apply = update_plain},
		{.description = "two", .apply = update_plain},
		{.description = "three", .apply = update_plain},
		{.description = "four", .apply = update_plain},
		{.description = "five", .apply = update_plain},
		{.description = "six", .apply = update_plain},
		{.description = "seven", .apply = update_plain},
	};
	struct schema s7 = {.name = "test", .updates = seven, .n_updates = 7};
	struct schema s5 = {.name = "test", .updates = seven, .n_updates = 5};
	char errmsg[TM_ERRMSG_SIZE];
	assert_int_equal(schema_ensure(f->db, &s7, NULL, NULL, NULL, errmsg),
			 0);
	n_ran = 0;
	int from = -1;
	int to = -1;
	assert_int_equal(
		schema_ensure(f->db, &s5, f->backup, &from, &to, errmsg),
		TM_NEWER);
	assert_string_equal(errmsg, "database schema 7 is newer than this "
				    "thermionicd (5); upgrade thermionicd");
	assert_int_equal(from, 7);
	assert_int_equal(to, 7);
	assert_int_equal(n_ran, 0);
	assert_int_equal(version_of(f->db), 7);
	assert_int_equal(access(f->backup, F_OK), -1);
	assert_true(sqlite3_get_autocommit(f->db));
}

/* Update 3 fails after update 2 changed data: everything is rolled back. */
static void check_rolled_back(struct fixture *f, const struct schema *s,
			      int code, const char *message)
{
	char errmsg[TM_ERRMSG_SIZE];
	int from = -1;
	int to = -1;
	assert_int_equal(schema_ensure(f->db, s, f->backup, &from, &to,
				       errmsg),
			 code);
	assert_string_equal(errmsg, message);
	assert_int_equal(from, 1);
	assert_int_equal(to, 1);
	assert_int_equal(n_ran, 2);
	assert_true(sqlite3_get_autocommit(f->db));
	assert_int_equal(version_of(f->db), 1);
	char versions[64];
	recorded(f->db, versions, sizeof versions);
	assert_string_equal(versions, "1");
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM items WHERE "
					  "name IN ('lamp', 'valve')"),
			 2);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM "
					  "pragma_table_info('items') WHERE "
					  "name = 'color'"),
			 0);
	assert_false(table_exists(f->db, "children"));
}

static void failing_update_rolls_back(void **state)
{
	struct fixture *f = *state;
	prepare_version(f, 1);
	const struct schema_update broken[] = {
		{.description = "create items", .apply = update1},
		{.description = "add color", .apply = update2},
		{.description = "break things", .apply = update_sql_error},
	};
	struct schema s = {.name = "test", .updates = broken, .n_updates = 3};
	check_rolled_back(f, &s, TM_DB,
			  "schema update 3 (break things): no such table: "
			  "missing");
}

static void failing_update_keeps_its_code(void **state)
{
	struct fixture *f = *state;
	prepare_version(f, 1);
	const struct schema_update broken[] = {
		{.description = "create items", .apply = update1},
		{.description = "add color", .apply = update2},
		{.description = "add trust store", .apply = update_own_error},
	};
	struct schema s = {.name = "test", .updates = broken, .n_updates = 3};
	check_rolled_back(f, &s, TM_IO,
			  "schema update 3 (add trust store): disk says no");
}

static void foreign_keys_checked_at_commit(void **state)
{
	struct fixture *f = *state;
	exec_ok(f->db, "PRAGMA foreign_keys=ON");
	prepare_version(f, 1);
	const struct schema_update broken[] = {
		{.description = "create items", .apply = update1},
		{.description = "add color", .apply = update2},
		{.description = "dangling child", .apply = update_fk_violation},
	};
	struct schema s = {.name = "test", .updates = broken, .n_updates = 3};
	check_rolled_back(f, &s, TM_DB,
			  "commit schema update: FOREIGN KEY constraint "
			  "failed");
}

static void failing_fresh_rolls_back(void **state)
{
	struct fixture *f = *state;
	const struct schema_update broken[] = {
		{.description = "create items", .apply = update1},
		{.description = "break things", .apply = update_sql_error},
	};
	struct schema s = {.name = "test", .updates = broken, .n_updates = 2};
	char errmsg[TM_ERRMSG_SIZE];
	assert_int_equal(schema_ensure(f->db, &s, NULL, NULL, NULL, errmsg),
			 TM_DB);
	assert_string_equal(errmsg, "schema update 2 (break things): no such "
				    "table: missing");
	assert_int_equal(version_of(f->db), 0);
	assert_false(table_exists(f->db, "items"));
	assert_false(table_exists(f->db, "schema"));
}

static void expect_corrupt(sqlite3 *db, const char *fragment)
{
	struct schema s = make_schema(3, NULL);
	char errmsg[TM_ERRMSG_SIZE];
	int version = -1;
	assert_int_equal(schema_version(db, &version, errmsg), TM_CORRUPT);
	assert_non_null(strstr(errmsg, fragment));
	int from = -1;
	assert_int_equal(schema_ensure(db, &s, NULL, &from, NULL, errmsg),
			 TM_CORRUPT);
	assert_non_null(strstr(errmsg, fragment));
	assert_int_equal(n_ran, 0);
	assert_true(sqlite3_get_autocommit(db));
}

static void gaps_are_corrupt(void **state)
{
	struct fixture *f = *state;
	prepare_version(f, 2);
	exec_ok(f->db, "INSERT INTO schema VALUES (1, 0), (4, 0)");
	expect_corrupt(f->db, "schema table has gaps: 3 versions recorded "
			      "between 1 and 4");
}

static void empty_table_is_corrupt(void **state)
{
	struct fixture *f = *state;
	exec_ok(f->db, "CREATE TABLE schema (version INTEGER PRIMARY KEY, "
		       "updated_at INTEGER NOT NULL)");
	expect_corrupt(f->db, "schema table is empty");
}

static void bad_table_is_corrupt(void **state)
{
	struct fixture *f = *state;
	exec_ok(f->db, "CREATE TABLE schema (id INTEGER, at TEXT)");
	expect_corrupt(f->db, "schema table unreadable: no such column: "
			      "version");
}

static void text_version_is_corrupt(void **state)
{
	struct fixture *f = *state;
	exec_ok(f->db, "CREATE TABLE schema (version TEXT, updated_at INT); "
		       "INSERT INTO schema VALUES ('two', 0)");
	expect_corrupt(f->db, "non-integer");
}

static void negative_version_is_corrupt(void **state)
{
	struct fixture *f = *state;
	exec_ok(f->db, "CREATE TABLE schema (version INTEGER PRIMARY KEY, "
		       "updated_at INT); INSERT INTO schema VALUES (-1, 0)");
	expect_corrupt(f->db, "invalid version -1");
}

static void backup_uses_the_read_snapshot(void **state)
{
	struct fixture *f = *state;
	prepare_version(f, 1);
	exec_ok(f->db, "PRAGMA journal_mode=WAL");
	exec_ok(f->db, "BEGIN; SELECT count(*) FROM items");
	sqlite3 *other;
	assert_int_equal(sqlite3_open(f->path, &other), SQLITE_OK);
	exec_ok(other, "INSERT INTO items(id, name) VALUES (3, 'grid')");
	sqlite3_close(other);
	char errmsg[TM_ERRMSG_SIZE];
	assert_int_equal(schema_backup(f->db, f->backup, errmsg), 0);
	exec_ok(f->db, "COMMIT");
	sqlite3 *bak;
	assert_int_equal(sqlite3_open(f->backup, &bak), SQLITE_OK);
	assert_int_equal(query_int(bak, "SELECT count(*) FROM items"), 2);
	sqlite3_close(bak);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM items"), 3);
}

static void backup_refused_in_write_transaction(void **state)
{
	struct fixture *f = *state;
	prepare_version(f, 1);
	exec_ok(f->db, "BEGIN; INSERT INTO items(id, name) VALUES (3, 'x')");
	char errmsg[TM_ERRMSG_SIZE];
	assert_int_equal(schema_backup(f->db, f->backup, errmsg), TM_BUSY);
	assert_non_null(strstr(errmsg, "write transaction"));
	assert_int_equal(access(f->backup, F_OK), -1);
	exec_ok(f->db, "ROLLBACK");
}

/* Another connection commits after schema_ensure() read the version: the
 * upgrade must not run on top of a state the backup does not hold. */
static sqlite3 *racer;

static int update_after_race(sqlite3 *db, char *errmsg)
{
	log_step(2);
	exec_ok(racer, "INSERT INTO items(id, name) VALUES (9, 'racer')");
	return update2(db, errmsg);
}

static void concurrent_commit_fails_busy(void **state)
{
	struct fixture *f = *state;
	prepare_version(f, 1);
	exec_ok(f->db, "PRAGMA journal_mode=WAL");
	assert_int_equal(sqlite3_open(f->path, &racer), SQLITE_OK);
	const struct schema_update racy[] = {
		{.description = "create items", .apply = update1},
		{.description = "add color", .apply = update_after_race},
	};
	struct schema s = {.name = "test", .updates = racy, .n_updates = 2};
	char errmsg[TM_ERRMSG_SIZE];
	int rv = schema_ensure(f->db, &s, f->backup, NULL, NULL, errmsg);
	sqlite3_close(racer);
	assert_int_equal(rv, TM_BUSY);
	assert_int_equal(version_of(f->db), 1);
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM items"), 3);
}

#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(version_zero_without_table),
		TEST(fresh_install_uses_fresh),
		TEST(fresh_install_runs_every_update),
		TEST(same_version_is_a_no_op),
		TEST(update_chain_from_k),
		TEST(update_after_fresh_install),
		TEST(backup_written_before_update),
		TEST(backup_of_other_version_kept),
		TEST(backup_of_same_version_replaced),
		TEST(backup_failure_blocks_update),
		TEST(newer_version_refused),
		TEST(failing_update_rolls_back),
		TEST(failing_update_keeps_its_code),
		TEST(foreign_keys_checked_at_commit),
		TEST(failing_fresh_rolls_back),
		TEST(gaps_are_corrupt),
		TEST(empty_table_is_corrupt),
		TEST(bad_table_is_corrupt),
		TEST(text_version_is_corrupt),
		TEST(negative_version_is_corrupt),
		TEST(backup_uses_the_read_snapshot),
		TEST(backup_refused_in_write_transaction),
		TEST(concurrent_commit_fails_busy),
	};
	return cmocka_run_group_tests_name("schema", tests, NULL, NULL);
}

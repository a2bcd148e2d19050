/* record.c writes, for a statement that changed one row, the very bytes a
 * SQLite session would have recorded; for anything else it asks for a
 * session. Each statement runs twice on the same state: once under a real
 * session (then rolled back), once under the recorder; the changesets must
 * be byte for byte the same, or the recorder must ask for a session where
 * expected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal/db/cluster/gdb_private.h"

struct fixture {
	sqlite3 *db;
	struct gdb_shapes shapes;
};

static const char schema[] =
    "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT, r REAL, b BLOB, n);"
    "CREATE TABLE c(a TEXT NOT NULL, b INTEGER NOT NULL, x,"
    " PRIMARY KEY(b, a));"
    "CREATE TABLE w(k TEXT PRIMARY KEY NOT NULL, v) WITHOUT ROWID;"
    "CREATE TABLE u(id INTEGER PRIMARY KEY, code TEXT UNIQUE);"
    "CREATE TABLE ai(id INTEGER PRIMARY KEY AUTOINCREMENT, v);"
    "CREATE TABLE audited(id INTEGER PRIMARY KEY, v);"
    "CREATE TABLE log(id INTEGER PRIMARY KEY, what);"
    "CREATE TRIGGER audited_ai AFTER INSERT ON audited"
    " BEGIN INSERT INTO log(what) VALUES ('insert ' || new.id); END;"
    "CREATE TABLE quiet(id INTEGER PRIMARY KEY, v);"
    "CREATE TRIGGER quiet_bi BEFORE INSERT ON quiet"
    " WHEN new.v = 'boom' BEGIN SELECT raise(ABORT, 'boom'); END;"
    "CREATE TABLE nopk(x, y);"
    "CREATE VIEW vt AS SELECT id, v FROM t;"
    "CREATE TRIGGER vt_ins INSTEAD OF INSERT ON vt"
    " BEGIN INSERT INTO t(id, v) VALUES (new.id, new.v); END;"
    "CREATE TABLE d(id INTEGER PRIMARY KEY, v DEFAULT 5);";

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	assert_int_equal(sqlite3_open(":memory:", &f->db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(f->db, schema, NULL, NULL, NULL),
			 SQLITE_OK);
	f->shapes.db = f->db;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	gdb_shapes_clear(&f->shapes);
	sqlite3_close(f->db);
	free(f);
	return 0;
}

static void exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fail_msg("%s: %s", sql, err);
	}
}

static void hex(const char *what, const void *p, int n)
{
	fprintf(stderr, "%s (%d):", what, n);
	for (int i = 0; i < n; i++) {
		fprintf(stderr, " %02x", ((const unsigned char *)p)[i]);
	}
	fprintf(stderr, "\n");
}

/* Run SQL (one statement) under a session, roll it back, run it under the
 * recorder and keep it. Returns whether the recorder asked for a session;
 * otherwise both changesets must be equal. */
static bool compare(struct fixture *f, const char *sql)
{
	sqlite3_session *s;
	int n_session = 0;
	void *session_cs = NULL;
	struct gdb_record rec;
	bool needs_session = false;
	void *cs = NULL;
	int n = 0;

	exec(f->db, "SAVEPOINT cmp");
	assert_int_equal(sqlite3session_create(f->db, "main", &s), SQLITE_OK);
	sqlite3session_attach(s, NULL);
	exec(f->db, sql);
	assert_int_equal(sqlite3session_changeset(s, &n_session, &session_cs),
			 SQLITE_OK);
	sqlite3session_delete(s);
	exec(f->db, "ROLLBACK TO cmp");

	gdb_record_begin(&rec, f->db);
	exec(f->db, sql);
	gdb_record_end(&rec);
	assert_int_equal(
	    gdb_record_changeset(&rec, &f->shapes, &needs_session, &cs, &n),
	    SQLITE_OK);
	gdb_record_clear(&rec);
	exec(f->db, "RELEASE cmp");

	if (!needs_session &&
	    (n != n_session || (n > 0 && memcmp(cs, session_cs, n) != 0))) {
		hex("session ", session_cs, n_session);
		hex("recorder", cs, n);
		fail_msg("changesets differ for: %s", sql);
	}
	sqlite3_free(cs);
	sqlite3_free(session_cs);
	return needs_session;
}

static void same(struct fixture *f, const char *sql)
{
	if (compare(f, sql)) {
		fail_msg("recorder asked for a session for: %s", sql);
	}
}

static void session(struct fixture *f, const char *sql)
{
	if (!compare(f, sql)) {
		fail_msg("recorder did not ask for a session for: %s", sql);
	}
}

static void test_values(void **state)
{
	struct fixture *f = *state;
	same(f, "INSERT INTO t(v) VALUES (NULL)"); /* rowid 1 */
	same(f, "INSERT INTO t VALUES (3, 'one', 1.5, x'00ff', NULL)");
	same(f, "INSERT INTO t VALUES (2, '', -0.0, x'', 7)");
	same(f, "INSERT INTO t VALUES (9223372036854775807, 'max', 1e308,"
		" zeroblob(3), -9223372036854775808)");
	same(f, "INSERT INTO t VALUES (-5, 'é✓ text', 2, NULL, 2.0)");
	same(f, "INSERT INTO t VALUES (100, 'long', 0.1,"
		" x'', '" /* a text longer than 127 bytes */
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		"')");
}

static void test_updates(void **state)
{
	struct fixture *f = *state;
	exec(f->db, "INSERT INTO t VALUES (1, 'one', 1.5, x'00ff', 1)");
	same(f, "UPDATE t SET v = 'uno' WHERE id = 1");
	same(f, "UPDATE t SET v = 'uno' WHERE id = 1"); /* no change */
	same(f, "UPDATE t SET r = 2 WHERE id = 1");
	same(f, "UPDATE t SET r = 2.0 WHERE id = 1"); /* same REAL */
	same(f, "UPDATE t SET n = 1.0 WHERE id = 1"); /* INTEGER -> REAL */
	same(f, "UPDATE t SET r = -0.0 WHERE id = 1");
	same(f, "UPDATE t SET r = 0.0 WHERE id = 1"); /* == -0.0 */
	same(f, "UPDATE t SET b = NULL, v = NULL WHERE id = 1");
	same(f, "UPDATE t SET b = x'01', v = 'x', r = 3, n = 'n' WHERE id = 1");
	same(f, "UPDATE t SET v = 'nobody' WHERE id = 2"); /* no row */
	same(f, "INSERT INTO t VALUES (1, 'up', 0, NULL, NULL)"
		" ON CONFLICT(id) DO UPDATE SET v = excluded.v");
	compare(f, "UPDATE t SET id = 50 WHERE id = 1"); /* key change */
}

static void test_deletes(void **state)
{
	struct fixture *f = *state;
	exec(f->db, "INSERT INTO t VALUES (1, 'one', 1.5, x'00ff', 1)");
	exec(f->db, "INSERT INTO t VALUES (2, 'two', NULL, NULL, 2.5)");
	same(f, "DELETE FROM t WHERE id = 1");
	same(f, "DELETE FROM t WHERE id = 1"); /* already gone */
	same(f, "DELETE FROM t");	       /* one row left */
}

static void test_keys(void **state)
{
	struct fixture *f = *state;
	same(f, "INSERT INTO c VALUES ('a', 1, 'x')");
	same(f, "INSERT INTO c VALUES ('b', 1, NULL)");
	same(f, "UPDATE c SET x = 'y' WHERE a = 'a' AND b = 1");
	same(f, "DELETE FROM c WHERE a = 'b' AND b = 1");
	same(f, "INSERT INTO w VALUES ('k1', 1)");
	same(f, "UPDATE w SET v = 2 WHERE k = 'k1'");
	same(f, "DELETE FROM w WHERE k = 'k1'");
	same(f, "INSERT INTO u VALUES (1, 'A')");
	same(f, "UPDATE u SET code = 'B' WHERE id = 1");
	same(f, "INSERT INTO d(id) VALUES (1)");
	same(f, "INSERT OR IGNORE INTO u VALUES (1, 'C')"); /* ignored */
}

static void test_triggers_and_views(void **state)
{
	struct fixture *f = *state;
	same(f, "INSERT INTO quiet VALUES (1, 'calm')"); /* trigger, no write */
	same(f, "INSERT INTO vt VALUES (7, 'through the view')"); /* indirect */
	session(f, "INSERT INTO audited VALUES (1, 'x')");
	/* sqlite_sequence is written without a preupdate event: one change,
	 * as in the session's changeset. */
	same(f, "INSERT INTO ai(v) VALUES ('x')");
}

static void test_needs_session(void **state)
{
	struct fixture *f = *state;
	exec(f->db, "INSERT INTO t VALUES (1, 'one', 1, NULL, 1)");
	exec(f->db, "INSERT INTO t VALUES (2, 'two', 2, NULL, 2)");
	session(f, "UPDATE t SET v = v || '!'");
	session(f, "INSERT INTO t(v) VALUES ('a'), ('b')");
	session(f, "INSERT OR REPLACE INTO t VALUES (1, 'new', 0, NULL, 0)");
	session(f, "INSERT INTO nopk VALUES (1, 2)");
	session(f, "DELETE FROM t");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_values, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_updates, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_deletes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_triggers_and_views, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_needs_session, setup,
					    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

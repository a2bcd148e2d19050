/* Unit tests for internal/api/sql_local.c (the read-only executor of the
 * local database, the read-only test that routes global requests) and for
 * sql_backup_copy, on SQLite files in a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal/api/sql.h"
#include "internal/lib/mem.h"

struct fixture {
	char dir[64];
	sqlite3 *db;
};

static void exec_ok(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fail_msg("%s: %s", sql, err);
	}
}

static long long query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	long long v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static char *query_text(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	char *v = tm_strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return v;
}

static int setup(void **state)
{
	struct fixture *f = tm_calloc(1, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/tm-sqlapi-XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		return -1;
	}
	char *path = tm_asprintf("%s/local.db", f->dir);
	int rc = sqlite3_open(path, &f->db);
	tm_free(path);
	if (rc != SQLITE_OK) {
		return -1;
	}
	exec_ok(f->db, "PRAGMA journal_mode=WAL;"
		       "CREATE TABLE config (key TEXT PRIMARY KEY, "
		       "value TEXT NOT NULL, n INTEGER, r REAL, b BLOB, x);"
		       "INSERT INTO config VALUES ('core.https_address', "
		       "'127.0.0.1:8443', 9223372036854775807, 1.0, "
		       "x'0001ff', NULL);"
		       "INSERT INTO config VALUES ('core.name', 'm1', "
		       "-9223372036854775808, 0.5, x'', 7);");
	*state = f;
	return 0;
}

static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 &&
		    strcmp(e->d_name, "..") != 0) {
			char *p = tm_asprintf("%s/%s", dir, e->d_name);
			unlink(p);
			tm_free(p);
		}
	}
	closedir(d);
	rmdir(dir);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	sqlite3_close(f->db);
	remove_dir(f->dir);
	tm_free(f);
	return 0;
}

/* Statements from SQL strings (NULL-terminated), no parameters. */
struct stmts {
	struct gdb_stmt v[16];
	size_t n;
};

static void stmts_init(struct stmts *s, ...)
{
	va_list args;
	const char *sql;
	memset(s, 0, sizeof *s);
	va_start(args, s);
	while ((sql = va_arg(args, const char *)) != NULL) {
		assert_true(s->n < 16);
		s->v[s->n++].sql = (char *)sql;
	}
	va_end(args);
}

/* Run and expect the request to be refused with MESSAGE. */
static void assert_refused(struct fixture *f, const struct stmts *s,
			   const char *message)
{
	char errmsg[TM_ERRMSG_SIZE] = "";
	struct gdb_result *res = (struct gdb_result *)1;
	int rv = sql_local_run(f->db, s->v, s->n, &res, errmsg);
	if (rv != TM_INVALID || strcmp(errmsg, message) != 0) {
		fail_msg("got %d \"%s\"\nwant \"%s\"", rv, errmsg, message);
	}
	assert_null(res);
	assert_true(sqlite3_get_autocommit(f->db));
}

static struct gdb_result *run_ok(struct fixture *f, const struct stmts *s)
{
	char errmsg[TM_ERRMSG_SIZE] = "";
	struct gdb_result *res = NULL;
	int rv = sql_local_run(f->db, s->v, s->n, &res, errmsg);
	if (rv != 0) {
		fail_msg("sql_local_run: %d %s", rv, errmsg);
	}
	assert_non_null(res);
	assert_true(sqlite3_get_autocommit(f->db));
	return res;
}

static void test_reads(void **state)
{
	struct fixture *f = *state;
	struct stmts s;
	stmts_init(&s, "SELECT key, value, n, r, b, x FROM config ORDER BY key",
		   "SELECT count(*) AS c FROM config", "SELECT 1 WHERE 0",
		   NULL);
	struct gdb_result *res = run_ok(f, &s);

	assert_int_equal(res[0].status, 0);
	assert_int_equal(res[0].n_cols, 6);
	assert_int_equal(res[0].n_rows, 2);
	assert_string_equal(res[0].columns[0], "key");
	assert_string_equal(res[0].decltypes[0], "TEXT");
	assert_string_equal(res[0].decltypes[2], "INTEGER");
	assert_string_equal(res[0].decltypes[5], ""); /* no declared type */
	const struct gdb_value *row = res[0].rows;
	assert_int_equal(row[0].type, GDB_TEXT);
	assert_string_equal(row[0].p, "core.https_address");
	assert_int_equal(row[2].type, GDB_INT);
	assert_true(row[2].i == INT64_MAX);
	assert_int_equal(row[3].type, GDB_REAL);
	assert_true(row[3].r > 0.99 && row[3].r < 1.01);
	assert_int_equal(row[4].type, GDB_BLOB);
	assert_int_equal(row[4].n, 3);
	assert_memory_equal(row[4].p, "\x00\x01\xff", 3);
	assert_int_equal(row[5].type, GDB_NULL);
	row += 6;
	assert_true(row[2].i == INT64_MIN);
	assert_int_equal(row[4].type, GDB_BLOB);
	assert_int_equal(row[4].n, 0);
	assert_int_equal(row[5].type, GDB_INT);

	assert_int_equal(res[1].n_rows, 1);
	assert_string_equal(res[1].columns[0], "c");
	assert_true(res[1].rows[0].i == 2);

	assert_int_equal(res[2].status, 0);
	assert_int_equal(res[2].n_cols, 1);
	assert_int_equal(res[2].n_rows, 0);
	sql_results_free(res, s.n);
}

static void test_parameters(void **state)
{
	struct fixture *f = *state;
	struct gdb_value pos[2] = {{.type = GDB_INT, .i = INT64_MIN},
				   {.type = GDB_TEXT, .p = "m1", .n = 2}};
	struct gdb_value named[2] = {
	    {.type = GDB_TEXT, .p = "core.name", .n = 9},
	    {.type = GDB_BLOB, .p = "", .n = 0}};
	char *names[2] = {":k", "@b"};
	struct gdb_stmt st[2] = {
	    {.sql = "SELECT ?, value FROM config WHERE value = ?2",
	     .params = pos,
	     .n_params = 2},
	    {.sql = "SELECT n, @b FROM config WHERE key = :k",
	     .params = named,
	     .names = names,
	     .n_params = 2},
	};
	char errmsg[TM_ERRMSG_SIZE];
	struct gdb_result *res = NULL;
	assert_int_equal(sql_local_run(f->db, st, 2, &res, errmsg), 0);
	assert_int_equal(res[0].status, 0);
	assert_int_equal(res[0].n_rows, 1);
	assert_true(res[0].rows[0].i == INT64_MIN);
	assert_string_equal(res[0].rows[1].p, "m1");
	assert_int_equal(res[1].status, 0);
	assert_int_equal(res[1].n_rows, 1);
	assert_true(res[1].rows[0].i == INT64_MIN);
	assert_int_equal(res[1].rows[1].type, GDB_BLOB);
	sql_results_free(res, 2);

	/* Wrong count and unknown name: that statement's own error. */
	st[0].n_params = 1;
	names[0] = ":nope";
	assert_int_equal(sql_local_run(f->db, st, 2, &res, errmsg), 0);
	assert_int_equal(res[0].status, TM_INVALID);
	assert_string_equal(res[0].error,
			    "statement has 2 parameters (?1, ?2), 1 given");
	assert_int_equal(res[1].status, TM_INVALID);
	assert_string_equal(res[1].error,
			    "statement has no parameter named \":nope\"");
	sql_results_free(res, 2);
}

static void test_sql_errors_per_statement(void **state)
{
	struct fixture *f = *state;
	struct stmts s;
	stmts_init(&s, "SELEC 1", "SELECT * FROM nosuch", "SELECT 1; SELECT 2",
		   "  -- nothing\n", "SELECT abs(-9223372036854775808)",
		   "SELECT 42 ; -- trailing comment is fine", NULL);
	struct gdb_result *res = run_ok(f, &s);
	assert_int_equal(res[0].status, TM_INVALID);
	assert_string_equal(res[0].error, "near \"SELEC\": syntax error");
	assert_int_equal(res[1].status, TM_INVALID);
	assert_string_equal(res[1].error, "no such table: nosuch");
	assert_int_equal(res[2].status, TM_INVALID);
	assert_string_equal(res[2].error, "one SQL statement per statement "
					  "entry: found more SQL after the "
					  "first");
	assert_int_equal(res[3].status, TM_INVALID);
	assert_string_equal(res[3].error, "empty SQL statement");
	/* Fails while stepping: no rows or columns are left behind. */
	assert_int_equal(res[4].status, TM_INVALID);
	assert_string_equal(res[4].error, "integer overflow");
	assert_int_equal(res[4].n_cols, 0);
	assert_int_equal(res[5].status, 0);
	assert_true(res[5].rows[0].i == 42);
	sql_results_free(res, s.n);
}

static void test_writes_refused(void **state)
{
	struct fixture *f = *state;
	struct stmts s;
	stmts_init(&s, "SELECT 1",
		   "INSERT INTO config(key, value) VALUES ('a', 'b')", NULL);
	assert_refused(f, &s,
		       "the local database is read-only through the "
		       "SQL API: statement 2 writes");
	static const char *const writes[] = {
	    "UPDATE config SET value = 'x'",
	    "DELETE FROM config",
	    "CREATE TABLE t (a INTEGER PRIMARY KEY)",
	    "CREATE TEMP TABLE t (a)",
	    "DROP TABLE config",
	    "REPLACE INTO config(key, value) VALUES ('core.name', 'x')",
	};
	for (size_t i = 0; i < sizeof writes / sizeof writes[0]; i++) {
		stmts_init(&s, writes[i], NULL);
		assert_refused(f, &s,
			       "the local database is read-only "
			       "through the SQL API: statement 1 "
			       "writes");
	}
	/* A syntax error elsewhere does not hide the write. */
	stmts_init(&s, "SELEC", "DELETE FROM config", NULL);
	assert_refused(f, &s,
		       "the local database is read-only through the "
		       "SQL API: statement 2 writes");
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM config"), 2);
	/* The daemon's own connection still writes afterwards. */
	exec_ok(f->db, "INSERT INTO config(key, value) VALUES ('k', 'v')");
	assert_int_equal(query_int(f->db, "SELECT count(*) FROM config"), 3);
}

static void test_connection_changes_refused(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *sql;
		const char *reason;
	} cases[] = {
	    {"BEGIN", "transaction control is not allowed (each request "
		      "runs in one read transaction)"},
	    {"COMMIT", "transaction control is not allowed (each request "
		       "runs in one read transaction)"},
	    {"SAVEPOINT a", "transaction control is not allowed (each "
			    "request runs in one read transaction)"},
	    {"ATTACH '/tmp/other.db' AS other",
	     "ATTACH and DETACH are not allowed"},
	    {"DETACH main", "ATTACH and DETACH are not allowed"},
	    {"REINDEX", "REINDEX is not allowed"},
	    {"PRAGMA foreign_keys = OFF",
	     "PRAGMA foreign_keys with a value is not allowed (only PRAGMAs "
	     "that report)"},
	    {"PRAGMA optimize",
	     "PRAGMA optimize is not allowed (only PRAGMAs that report)"},
	    {"PRAGMA user_version = 5",
	     "PRAGMA user_version with a value is not allowed (only PRAGMAs "
	     "that report)"},
	    {"PRAGMA busy_timeout = 0",
	     "PRAGMA busy_timeout with a value is not allowed (only PRAGMAs "
	     "that report)"},
	    {"SELECT load_extension('/tmp/x.so')",
	     "load_extension() is refused: it would load code into the "
	     "daemon"},
	    {"VACUUM", "VACUUM and VACUUM INTO are refused (the daemon "
		       "maintains its local database file; VACUUM INTO would "
		       "write a file on the member)"},
	    {" -- copy\nvacuum INTO '/tmp/tm-local-copy.db'",
	     "VACUUM and VACUUM INTO are refused (the daemon maintains its "
	     "local database file; VACUUM INTO would write a file on the "
	     "member)"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct stmts s;
		stmts_init(&s, "SELECT 1", cases[i].sql, NULL);
		char *msg = tm_asprintf("the local database is read-only "
					"through the SQL API: statement 2: %s",
					cases[i].reason);
		assert_refused(f, &s, msg);
		tm_free(msg);
	}
	assert_int_equal(query_int(f->db, "PRAGMA foreign_keys"), 0);
	assert_int_equal(query_int(f->db, "PRAGMA busy_timeout"), 0);
	char *mode = query_text(f->db, "PRAGMA journal_mode");
	assert_string_equal(mode, "wal");
	tm_free(mode);
}

static void test_reporting_pragmas(void **state)
{
	struct fixture *f = *state;
	struct stmts s;
	stmts_init(&s, "PRAGMA user_version", "PRAGMA table_info(config)",
		   "SELECT name FROM pragma_table_info('config') LIMIT 1",
		   "PRAGMA integrity_check", "PRAGMA page_size", NULL);
	struct gdb_result *res = run_ok(f, &s);
	for (size_t i = 0; i < s.n; i++) {
		assert_int_equal(res[i].status, 0);
	}
	assert_true(res[0].rows[0].i == 0);
	assert_int_equal(res[1].n_rows, 6);
	assert_string_equal(res[2].rows[0].p, "key");
	assert_string_equal(res[3].rows[0].p, "ok");
	assert_true(res[4].rows[0].i == 4096);
	sql_results_free(res, s.n);
}

static void test_busy_inside_transaction(void **state)
{
	struct fixture *f = *state;
	struct stmts s;
	stmts_init(&s, "SELECT 1", NULL);
	char errmsg[TM_ERRMSG_SIZE];
	struct gdb_result *res = NULL;
	exec_ok(f->db, "BEGIN");
	assert_int_equal(sql_local_run(f->db, s.v, s.n, &res, errmsg), TM_BUSY);
	assert_string_equal(errmsg, "the local database is busy");
	assert_null(res);
	exec_ok(f->db, "ROLLBACK");
	res = run_ok(f, &s);
	sql_results_free(res, s.n);
}

/* --- backup copy --- */

static size_t count_files(const char *dir)
{
	size_t n = 0;
	DIR *d = opendir(dir);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		n += e->d_name[0] != '.';
	}
	closedir(d);
	return n;
}

static void test_backup_copy(void **state)
{
	struct fixture *f = *state;
	/* Rows that live only in the WAL must be in the copy. */
	exec_ok(f->db, "PRAGMA wal_autocheckpoint = 0;"
		       "CREATE TABLE big (id INTEGER PRIMARY KEY, b BLOB);"
		       "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + "
		       "1 FROM s WHERE i < 500) INSERT INTO big SELECT i, "
		       "randomblob(1000) FROM s;");
	long long sum = query_int(f->db, "SELECT sum(length(b)) FROM big");
	size_t before = count_files(f->dir);

	char errmsg[TM_ERRMSG_SIZE];
	char *path = NULL;
	assert_int_equal(sql_backup_copy(f->db, f->dir, &path, errmsg), 0);
	char *prefix = tm_asprintf("%s/backup-", f->dir);
	assert_int_equal(strncmp(path, prefix, strlen(prefix)), 0);
	tm_free(prefix);
	/* One self-contained file: no -wal, -shm or -journal beside it. */
	assert_int_equal(count_files(f->dir), before + 1);

	FILE *file = fopen(path, "rb");
	unsigned char header[100];
	assert_int_equal(fread(header, 1, sizeof header, file), sizeof header);
	fclose(file);
	assert_memory_equal(header, "SQLite format 3", 16);
	assert_int_equal(header[18], 1); /* rollback journal, not WAL */
	assert_int_equal(header[19], 1);

	sqlite3 *copy;
	assert_int_equal(
	    sqlite3_open_v2(path, &copy, SQLITE_OPEN_READONLY, NULL),
	    SQLITE_OK);
	char *check = query_text(copy, "PRAGMA integrity_check");
	assert_string_equal(check, "ok");
	tm_free(check);
	assert_int_equal(query_int(copy, "SELECT count(*) FROM big"), 500);
	assert_true(query_int(copy, "SELECT sum(length(b)) FROM big") == sum);
	assert_int_equal(query_int(copy, "SELECT count(*) FROM config"), 2);
	sqlite3_close(copy);
	unlink(path);
	tm_free(path);

	/* A directory that does not exist: nothing is created. */
	char *missing = tm_asprintf("%s/missing", f->dir);
	path = NULL;
	assert_int_equal(sql_backup_copy(f->db, missing, &path, errmsg), TM_IO);
	assert_null(path);
	assert_non_null(strstr(errmsg, "No such file or directory"));
	tm_free(missing);
	assert_int_equal(count_files(f->dir), before);
}

/* Writes another connection commits while the copy runs, in steps, from
 * the file: the copy is the state of one moment (every row whole, as many
 * as some commit left), and the writer was never blocked. */
struct writer {
	char *path;
	atomic_bool stop;
	int commits;
	int failures;
};

static void *write_loop(void *arg)
{
	struct writer *w = arg;
	sqlite3 *db;
	if (sqlite3_open(w->path, &db) != SQLITE_OK) {
		w->failures++;
		return NULL;
	}
	sqlite3_busy_timeout(db, 5000);
	while (!atomic_load(&w->stop)) {
		int rc = sqlite3_exec(db,
				      "INSERT INTO big(b) VALUES "
				      "(randomblob(1000)), (randomblob(1000))",
				      NULL, NULL, NULL);
		if (rc == SQLITE_OK) {
			w->commits++;
		} else {
			w->failures++;
		}
	}
	sqlite3_close(db);
	return NULL;
}

static void test_backup_copy_file_while_writing(void **state)
{
	struct fixture *f = *state;
	exec_ok(f->db, "CREATE TABLE big (id INTEGER PRIMARY KEY, b BLOB);"
		       "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + "
		       "1 FROM s WHERE i < 20000) INSERT INTO big SELECT i, "
		       "randomblob(1000) FROM s;");
	struct writer w = {.path = tm_asprintf("%s/local.db", f->dir)};
	pthread_t thread;
	assert_int_equal(pthread_create(&thread, NULL, write_loop, &w), 0);
	while (w.commits < 5) {
		usleep(1000);
	}
	char errmsg[TM_ERRMSG_SIZE];
	char *path = NULL;
	int rv = sql_backup_copy_file(w.path, f->dir, &path, errmsg);
	int during = w.commits;
	atomic_store(&w.stop, true);
	pthread_join(thread, NULL);
	assert_int_equal(rv, 0);
	assert_int_equal(w.failures, 0);

	sqlite3 *copy;
	assert_int_equal(
	    sqlite3_open_v2(path, &copy, SQLITE_OPEN_READONLY, NULL),
	    SQLITE_OK);
	char *check = query_text(copy, "PRAGMA integrity_check");
	assert_string_equal(check, "ok");
	tm_free(check);
	long long rows = query_int(copy, "SELECT count(*) FROM big");
	assert_true(rows >= 20000 + 2 * 5 && rows <= 20000 + 2 * during);
	assert_true(rows % 2 == 0); /* whole commits only */
	assert_true(query_int(copy, "SELECT sum(length(b)) FROM big") ==
		    rows * 1000);
	sqlite3_close(copy);
	unlink(path);
	tm_free(path);
	tm_free(w.path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_reads, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_parameters, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sql_errors_per_statement,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_writes_refused, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_connection_changes_refused,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reporting_pragmas, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_busy_inside_transaction, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_backup_copy, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_backup_copy_file_while_writing,
					    setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Every table replicates exactly, rowids included, on three members: rowid
 * tables whose key is not the INTEGER PRIMARY KEY (TEXT and composite
 * keys), tables without a declared PRIMARY KEY, rowid tables whose key may
 * hold NULL, CREATE TABLE ... AS SELECT; WITHOUT ROWID tables as before.
 * Every member's dump (rowid tables with their rowids, in rowid order)
 * must be byte-identical to the leader's, also for a member that was cut
 * off and caught up through a snapshot. And a differential test: a
 * generated workload runs on the cluster and on stock SQLite in the same
 * order; every result and the final state, rowids included, must match. */
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

#define THRESHOLD 16 /* entries between snapshots */

static int setup(void **state)
{
	struct cf *c = malloc(sizeof *c);
	cf_setup(c, 3);
	for (unsigned i = 0; i < c->n; i++) {
		struct raft *r = raft_fixture_get(&c->raft, i);
		raft_set_snapshot_threshold(r, THRESHOLD);
		raft_set_snapshot_trailing(r, 2);
	}
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

static bool has_leader(struct cf *c, void *arg)
{
	(void)arg;
	return cf_leader(c) < c->n;
}

/* One write statement on the leader; its result (caller clears R). */
static const struct gdb_result *write1(struct cf *c, struct cf_req *r,
				       const char *sql)
{
	assert_true(cf_step_until(c, has_leader, NULL, CF_TIMEOUT_MS));
	cf_req_init(r, false, sql, NULL);
	assert_int_equal(cf_write(c, cf_leader(c), r), 0);
	if (r->req.results[0].status != 0) {
		fail_msg("%s: %s", sql, r->req.results[0].error);
	}
	return &r->req.results[0];
}

/* The first column of SQL's rows on member I, as text joined by ','. */
static char *column(struct cf *c, unsigned i, const char *sql)
{
	sqlite3 *db = gdb_exec_conn(c->gdb[i]);
	sqlite3_stmt *st;
	sqlite3_str *out = sqlite3_str_new(NULL);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), 0);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		sqlite3_str_appendf(out, "%s%s",
				    sqlite3_str_length(out) > 0 ? "," : "",
				    t != NULL ? (const char *)t : "NULL");
	}
	sqlite3_finalize(st);
	char *s = sqlite3_str_finish(out);
	char *copy = strdup(s != NULL ? s : "");
	sqlite3_free(s);
	return copy;
}

/* SQL gives EXPECTED (see column()) on every member. */
static void expect_everywhere(struct cf *c, const char *sql,
			      const char *expected)
{
	cf_wait_applied(c);
	for (unsigned i = 0; i < c->n; i++) {
		char *got = column(c, i, sql);
		if (strcmp(got, expected) != 0) {
			fail_msg("member %u: %s gave %s, want %s", i, sql, got,
				 expected);
		}
		free(got);
	}
}

/* The probes of the issue that found the gap: on a TEXT key, the rowids
 * the leader's statements chose are the ones every member holds. */
static void test_rowid_probes(void **state)
{
	struct cf *c = *state;
	struct cf_req r;

	cf_exec(c, "CREATE TABLE k(a TEXT PRIMARY KEY, b)");
	write1(c, &r, "INSERT INTO k VALUES('x', 1), ('y', 2), ('z', 3)");
	cf_req_clear(&r);
	/* No ORDER BY: a table scan, in rowid order: insertion order. */
	expect_everywhere(c, "SELECT b FROM k", "1,2,3");

	/* REPLACE deletes the old row and inserts at a new rowid. */
	const struct gdb_result *res =
	    write1(c, &r, "REPLACE INTO k VALUES('x', 9)");
	assert_int_equal(res->last_insert_id, 4);
	cf_req_clear(&r);
	expect_everywhere(c, "SELECT rowid || a FROM k ORDER BY rowid",
			  "2y,3z,4x");

	/* UPDATE of the key keeps the rowid. */
	write1(c, &r, "UPDATE k SET a = 'w' WHERE a = 'y'");
	cf_req_clear(&r);
	expect_everywhere(c, "SELECT rowid || a FROM k ORDER BY rowid",
			  "2w,3z,4x");

	/* last_insert_id names the row, on every member. */
	cf_exec(c, "CREATE TABLE k3(a TEXT PRIMARY KEY, b)");
	write1(c, &r, "INSERT INTO k3 VALUES('a', 1), ('b', 2)");
	cf_req_clear(&r);
	res = write1(c, &r, "REPLACE INTO k3 VALUES('b', 3)");
	assert_int_equal(res->last_insert_id, 3);
	cf_req_clear(&r);
	expect_everywhere(c, "SELECT a || b FROM k3 WHERE rowid = 3", "b3");

	/* A composite key, and the rowid set directly. */
	cf_exec(c, "CREATE TABLE kc(p INT, q TEXT, v, PRIMARY KEY(p, q))");
	write1(c, &r, "INSERT INTO kc VALUES(2, 'b', 1), (1, 'a', 2)");
	cf_req_clear(&r);
	write1(c, &r, "UPDATE kc SET rowid = 10 WHERE p = 2");
	cf_req_clear(&r);
	write1(c, &r, "INSERT OR REPLACE INTO kc VALUES(1, 'a', 3)");
	cf_req_clear(&r);
	expect_everywhere(c, "SELECT rowid || q || v FROM kc ORDER BY rowid",
			  "10b1,11a3");
	free(cf_assert_identical(c));
}

static void test_tables_without_primary_key(void **state)
{
	struct cf *c = *state;
	struct cf_req r;

	cf_exec(c, "CREATE TABLE np(a, b)");
	cf_exec(c, "CREATE TABLE src(id INTEGER PRIMARY KEY, v)");
	cf_exec(c, "CREATE TABLE audit(what, at)");
	cf_exec(c, "CREATE TRIGGER src_ai AFTER INSERT ON src BEGIN "
		   "INSERT INTO audit VALUES('insert ' || new.v, new.id); "
		   "INSERT INTO np VALUES(new.v, new.id * 10); END");
	cf_exec(c, "CREATE TRIGGER np_ad AFTER DELETE ON np BEGIN "
		   "INSERT INTO audit VALUES('delete ' || old.a, old.b); END");

	const struct gdb_result *res =
	    write1(c, &r, "INSERT INTO np VALUES(1, 'a'), (2, 'b'), (3, 'c')");
	assert_int_equal(res->rows_affected, 3);
	assert_int_equal(res->last_insert_id, 3);
	cf_req_clear(&r);
	write1(c, &r, "INSERT INTO src(v) VALUES('p'), ('q')");
	cf_req_clear(&r);
	write1(c, &r, "INSERT INTO np SELECT v, id FROM src ORDER BY id DESC");
	cf_req_clear(&r);
	res = write1(c, &r, "UPDATE np SET b = b || '!' WHERE a > 1");
	assert_int_equal(res->rows_affected, 6);
	cf_req_clear(&r);
	write1(c, &r, "DELETE FROM np WHERE a = 2");
	cf_req_clear(&r);
	write1(c, &r, "UPDATE np SET a = a");
	cf_req_clear(&r);
	expect_everywhere(c, "SELECT rowid || ':' || a || b FROM np",
			  "1:1a,3:3c!,4:p10!,5:q20!,6:q2!,7:p1!");
	expect_everywhere(c, "SELECT what FROM audit",
			  "insert p,insert q,delete 2");

	/* The CHECK of a table without a key, random() in a SELECT: what
	 * the leader stored is what every member holds. */
	write1(c, &r,
	       "CREATE TABLE rnd AS SELECT rowid AS r, a, random() AS x "
	       "FROM np");
	cf_req_clear(&r);
	write1(c, &r, "CREATE TABLE IF NOT EXISTS rnd AS SELECT 1");
	cf_req_clear(&r);
	expect_everywhere(c, "SELECT count(DISTINCT x) FROM rnd", "6");

	/* A rowid table whose TEXT key may hold NULL (SQLite allows it). */
	cf_exec(c, "CREATE TABLE nk(a TEXT PRIMARY KEY, b)");
	write1(c, &r, "INSERT INTO nk VALUES(NULL, 1), (NULL, 2), ('x', 3)");
	cf_req_clear(&r);
	write1(c, &r, "UPDATE nk SET b = b + 10 WHERE a IS NULL");
	cf_req_clear(&r);
	expect_everywhere(c, "SELECT rowid || ifnull(a, '-') || b FROM nk",
			  "1-11,2-12,3x3");

	/* DELETE without WHERE (the truncate optimization must not hide
	 * it), and a WITHOUT ROWID table as before. */
	res = write1(c, &r, "DELETE FROM np");
	assert_int_equal(res->rows_affected, 6);
	cf_req_clear(&r);
	cf_exec(c, "CREATE TABLE w(k INT PRIMARY KEY, v) WITHOUT ROWID");
	write1(c, &r, "INSERT INTO w VALUES(1, 'a'), (2, 'b')");
	cf_req_clear(&r);
	write1(c, &r,
	       "INSERT INTO w VALUES(1, 'z') ON CONFLICT(k) DO UPDATE "
	       "SET v = v || excluded.v");
	cf_req_clear(&r);
	write1(c, &r, "REPLACE INTO w VALUES(2, 'y')");
	cf_req_clear(&r);
	expect_everywhere(c, "SELECT k || v FROM w", "1az,2y");
	expect_everywhere(c, "SELECT count(*) FROM np", "0");
	free(cf_assert_identical(c));
}

/* A member that was down while rows were replaced and rowids reused
 * catches up (through a snapshot: the log moved on) with the leader's
 * rowids. */
static void test_member_cut_off_catches_up(void **state)
{
	struct cf *c = *state;
	char sql[160];
	cf_exec(c, "CREATE TABLE k(a TEXT PRIMARY KEY, b)");
	cf_exec(c, "CREATE TABLE np(a, b)");
	raft_fixture_kill(&c->raft, 2);
	for (int i = 0; i < 3 * THRESHOLD; i++) {
		snprintf(sql, sizeof sql, "REPLACE INTO k VALUES('%c', %d)",
			 'a' + i % 5, i);
		struct cf_req r;
		write1(c, &r, sql);
		cf_req_clear(&r);
		snprintf(sql, sizeof sql,
			 i % 4 == 3 ? "DELETE FROM np WHERE b %% 2 = 0"
				    : "INSERT INTO np VALUES(%d, %d), (%d, %d)",
			 i, i, -i, i + 1);
		write1(c, &r, sql);
		cf_req_clear(&r);
	}
	struct gdb_stats s;
	gdb_get_stats(c->gdb[2], &s);
	uint64_t restored = s.snapshots_restored;
	raft_fixture_revive(&c->raft, 2);
	free(cf_assert_identical(c));
	gdb_get_stats(c->gdb[2], &s);
	assert_true(s.snapshots_restored > restored);
}

/* The differential test. */

struct diff {
	struct cf *c;
	sqlite3 *ref; /* stock SQLite, same statements, same order */
	unsigned seed;
	unsigned n_ok;
	unsigned n_failed;
};

static unsigned rnd(struct diff *d, unsigned n)
{
	return (unsigned)rand_r(&d->seed) % n;
}

static const char *const diff_schema[] = {
    "CREATE TABLE a(id INTEGER PRIMARY KEY, v TEXT UNIQUE, n INT)",
    "CREATE TABLE b(k TEXT PRIMARY KEY, v)",
    "CREATE TABLE c(x, y)",
    "CREATE INDEX c_x ON c(x)",
    "CREATE TABLE d(p INT, q TEXT, r, PRIMARY KEY(p, q))",
    "CREATE TABLE w(k INT PRIMARY KEY, v) WITHOUT ROWID",
    "CREATE TABLE e(id INTEGER PRIMARY KEY AUTOINCREMENT, v)",
    "CREATE TABLE nk(k TEXT PRIMARY KEY, v)",
    "CREATE TRIGGER a_ai AFTER INSERT ON a BEGIN "
    "INSERT INTO c VALUES(new.id, new.v); END",
    "CREATE TRIGGER b_ad AFTER DELETE ON b BEGIN "
    "INSERT INTO c VALUES(old.k, 'gone'); END",
    NULL,
};

/* One generated statement (sqlite3_mprintf'd). Small value domains, so
 * that keys collide, rows match and constraints fail now and then. */
static char *generate(struct diff *d)
{
	unsigned k = rnd(d, 8);
	unsigned n = rnd(d, 20);
	switch (rnd(d, 24)) {
	case 0:
		return sqlite3_mprintf("INSERT INTO a(v, n) VALUES('v%u', %u)",
				       k, n);
	case 1:
		return sqlite3_mprintf("INSERT INTO a(v, n) VALUES('v%u', %u), "
				       "('v%u', %u)",
				       k, n, (k + 3) % 8, n + 1);
	case 2:
		return sqlite3_mprintf("REPLACE INTO b VALUES('k%u', %u)", k,
				       n);
	case 3:
		return sqlite3_mprintf("INSERT INTO b VALUES('k%u', %u), "
				       "('k%u', %u)",
				       k, n, (k + 1) % 8, n);
	case 4:
		return sqlite3_mprintf("UPDATE b SET k = 'k%u' WHERE k = 'k%u'",
				       k, n % 8);
	case 5:
		return sqlite3_mprintf("DELETE FROM b WHERE k = 'k%u'", k);
	case 6:
		return sqlite3_mprintf("INSERT INTO c VALUES(%u, 'y%u')", k, n);
	case 7:
		return sqlite3_mprintf("UPDATE c SET y = 'u%u' WHERE x = %u", n,
				       k);
	case 8:
		return sqlite3_mprintf("DELETE FROM c WHERE rowid %% 3 = %u",
				       k % 3);
	case 9:
		return sqlite3_mprintf("INSERT INTO c SELECT v, n FROM a "
				       "WHERE n > %u",
				       n);
	case 10:
		return sqlite3_mprintf("REPLACE INTO d VALUES(%u, 'q%u', %u)",
				       k % 3, n % 3, n);
	case 11:
		return sqlite3_mprintf("UPDATE d SET q = 'q%u' WHERE p = %u",
				       n % 4, k % 3);
	case 12:
		return sqlite3_mprintf("INSERT INTO w VALUES(%u, %u) ON "
				       "CONFLICT(k) DO UPDATE SET v = v + "
				       "excluded.v",
				       k, n);
	case 13:
		return sqlite3_mprintf("DELETE FROM w WHERE k = %u", k);
	case 14:
		return sqlite3_mprintf("UPDATE a SET id = id + 100 WHERE id = "
				       "%u",
				       k);
	case 15:
		return sqlite3_mprintf("UPDATE c SET rowid = rowid + 50 WHERE "
				       "rowid = %u",
				       k);
	case 16:
		return sqlite3_mprintf("INSERT INTO e(v) VALUES(%u)", n);
	case 17:
		return sqlite3_mprintf("DELETE FROM e WHERE id %% 4 = %u",
				       k % 4);
	case 18:
		return sqlite3_mprintf("INSERT INTO nk VALUES(%s, %u)",
				       k < 3 ? "NULL" : "'n'", n);
	case 19:
		return sqlite3_mprintf("DELETE FROM %s",
				       k < 2 ? "c" : "nk WHERE k IS NULL");
	case 20:
		return sqlite3_mprintf("SELECT * FROM b");
	case 21:
		return sqlite3_mprintf("SELECT rowid, * FROM c");
	case 22:
		return sqlite3_mprintf("SELECT rowid, * FROM d WHERE p = %u",
				       k % 3);
	default:
		return sqlite3_mprintf("UPDATE a SET n = n * 2, v = v || 'x' "
				       "WHERE n < %u",
				       n);
	}
}

static bool same_value(const struct gdb_value *v, sqlite3_stmt *st, int col)
{
	switch (sqlite3_column_type(st, col)) {
	case SQLITE_INTEGER:
		return v->type == GDB_INT &&
		       v->i == sqlite3_column_int64(st, col);
	case SQLITE_FLOAT: {
		double r = sqlite3_column_double(st, col);
		return v->type == GDB_REAL && memcmp(&r, &v->r, sizeof r) == 0;
	}
	case SQLITE_TEXT:
	case SQLITE_BLOB: {
		size_t n = (size_t)sqlite3_column_bytes(st, col);
		const void *p = sqlite3_column_type(st, col) == SQLITE_TEXT
				    ? (const void *)sqlite3_column_text(st, col)
				    : sqlite3_column_blob(st, col);
		enum gdb_type t = sqlite3_column_type(st, col) == SQLITE_TEXT
				      ? GDB_TEXT
				      : GDB_BLOB;
		return v->type == t && v->n == n &&
		       (n == 0 || memcmp(v->p, p, n) == 0);
	}
	default:
		return v->type == GDB_NULL;
	}
}

/* Run SQL on the reference; compare with the cluster's result RES. */
static void compare(struct diff *d, const char *sql,
		    const struct gdb_result *res)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(d->ref, sql, -1, &st, NULL), 0);
	size_t row = 0;
	int rc;
	bool read_only = sqlite3_stmt_readonly(st);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (res->status != 0 || row >= res->n_rows) {
			fail_msg("%s: the cluster has fewer rows (%zu)", sql,
				 row);
		}
		for (size_t col = 0; col < res->n_cols; col++) {
			if (!same_value(&res->rows[row * res->n_cols + col], st,
					(int)col)) {
				fail_msg("%s: row %zu column %zu differs", sql,
					 row + 1, col + 1);
			}
		}
		row++;
	}
	sqlite3_finalize(st);
	if ((rc == SQLITE_DONE) != (res->status == 0)) {
		fail_msg("%s: SQLite says %s, the cluster %s", sql,
			 sqlite3_errmsg(d->ref),
			 res->error != NULL ? res->error : "ok");
	}
	if (rc != SQLITE_DONE) {
		d->n_failed++;
		return;
	}
	d->n_ok++;
	assert_int_equal(row, res->n_rows);
	if (!read_only) {
		assert_int_equal(res->rows_affected, sqlite3_changes64(d->ref));
		assert_int_equal(res->last_insert_id,
				 sqlite3_last_insert_rowid(d->ref));
	}
}

static void test_differential(void **state)
{
	struct diff d = {.c = *state, .seed = 20261201};
	assert_int_equal(sqlite3_open(":memory:", &d.ref), SQLITE_OK);
	for (size_t i = 0; diff_schema[i] != NULL; i++) {
		cf_exec(d.c, diff_schema[i]);
		assert_int_equal(
		    sqlite3_exec(d.ref, diff_schema[i], NULL, NULL, NULL), 0);
	}
	for (int i = 0; i < 600; i++) {
		struct cf_req r;
		char *sql = generate(&d);
		cf_req_init(&r, false, sql, NULL);
		assert_int_equal(cf_write(d.c, cf_leader(d.c), &r), 0);
		compare(&d, sql, &r.req.results[0]);
		cf_req_clear(&r);
		sqlite3_free(sql);
	}
	/* Both outcomes happened often enough to mean something. */
	assert_true(d.n_ok > 300);
	assert_true(d.n_failed > 10);
	char *want = cf_dump_db(d.ref);
	char *got = cf_assert_identical(d.c);
	assert_string_equal(got, want);
	free(want);
	free(got);
	sqlite3_close(d.ref);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_rowid_probes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tables_without_primary_key,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_member_cut_off_catches_up,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_differential, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

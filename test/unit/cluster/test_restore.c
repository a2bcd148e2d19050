/* Restore: an image made on another database replaces the database of every
 * member at the same log index; it is ordered with writes; it survives
 * snapshots; bad images are refused before anything is proposed; only the
 * leader restores. */
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

#define THRESHOLD 4

/* The database the images are made of: data, an index, a trigger, a view,
 * AUTOINCREMENT (sqlite_sequence), a WITHOUT ROWID table, a foreign key. */
static const char source_sql[] =
    "CREATE TABLE a(id INTEGER PRIMARY KEY, v TEXT NOT NULL, n REAL);"
    "CREATE TABLE b(k TEXT PRIMARY KEY NOT NULL, a_id INTEGER "
    "  REFERENCES a(id) ON DELETE CASCADE, data BLOB) WITHOUT ROWID;"
    "CREATE TABLE log(id INTEGER PRIMARY KEY AUTOINCREMENT, msg TEXT);"
    "CREATE INDEX a_v ON a(v);"
    "CREATE TRIGGER a_ins AFTER INSERT ON a BEGIN "
    "  INSERT INTO log(msg) VALUES('inserted ' || new.v); END;"
    "CREATE VIEW big AS SELECT * FROM a WHERE n > 1;"
    "INSERT INTO a(v, n) VALUES('one', 1.5), ('two', 2.5), ('three', 0.5);"
    "INSERT INTO b VALUES('x', 1, x'00ff'), ('y', 2, NULL);"
    "PRAGMA user_version = 7;";

static int setup(void **state)
{
	struct cf *c = malloc(sizeof *c);
	cf_setup(c, 3);
	cf_exec(c, "CREATE TABLE old(id INTEGER PRIMARY KEY, v TEXT)");
	cf_exec(c, "INSERT INTO old VALUES(1, 'replaced by the restore')");
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct cf *c = *state;
	if (c != NULL) {
		cf_teardown(c);
		free(c);
	}
	return 0;
}

static struct gdb_stats stats(struct cf *c, unsigned i)
{
	struct gdb_stats s;
	gdb_get_stats(c->gdb[i], &s);
	return s;
}

/* An image of a fresh in-memory database after SQL (sqlite3_free it). */
static unsigned char *make_image(const char *sql, size_t *len)
{
	sqlite3 *db;
	sqlite3_int64 size = 0;
	char *err = NULL;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fail_msg("%s: %s", sql, err);
	}
	unsigned char *image = sqlite3_serialize(db, "main", &size, 0);
	assert_non_null(image);
	sqlite3_close(db);
	*len = (size_t)size;
	return image;
}

/* cf_dump_db() of an image (a WAL-format image is read as rollback). */
static char *dump_image(const unsigned char *image, size_t len)
{
	sqlite3 *db;
	unsigned char *copy = sqlite3_malloc64(len);
	memcpy(copy, image, len);
	copy[18] = 1;
	copy[19] = 1;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(sqlite3_deserialize(db, "main", copy,
					     (sqlite3_int64)len,
					     (sqlite3_int64)len,
					     SQLITE_DESERIALIZE_FREEONCLOSE),
			 SQLITE_OK);
	char *dump = cf_dump_db(db);
	sqlite3_close(db);
	return dump;
}

static char *query_text(struct cf *c, unsigned i, const char *sql)
{
	sqlite3_stmt *st;
	sqlite3 *db = gdb_exec_conn(c->gdb[i]);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), 0);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	char *text = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return text;
}

static void expect_text(struct cf *c, unsigned i, const char *sql,
			const char *expected)
{
	char *text = query_text(c, i, sql);
	if (strcmp(text, expected) != 0) {
		fail_msg("member %u: %s gave \"%s\", expected \"%s\"", i, sql,
			 text, expected);
	}
	free(text);
}

/* Member I's database file as one buffer (sqlite3_free it). */
static unsigned char *member_image(struct cf *c, unsigned i, size_t *len)
{
	sqlite3_int64 size = 0;
	unsigned char *image =
	    sqlite3_serialize(gdb_exec_conn(c->gdb[i]), "main", &size, 0);
	assert_non_null(image);
	*len = (size_t)size;
	return image;
}

static void write_ok(struct cf *c, const char *sql)
{
	struct cf_req r;
	cf_req_init(&r, false, sql, NULL);
	assert_int_equal(cf_write(c, cf_leader(c), &r), 0);
	if (r.req.results[0].status != 0) {
		fail_msg("%s: %s", sql, r.req.results[0].error);
	}
	cf_req_clear(&r);
}

/* Every member ends with the image's content, byte for byte the same file
 * on every member, and keeps replicating writes, triggers and cascades. */
static void test_restore_replaces_database(void **state)
{
	struct cf *c = *state;
	struct cf_req r;
	size_t len;
	unsigned char *image = make_image(source_sql, &len);
	uint64_t proposed = stats(c, 0).entries_proposed;

	cf_req_init(&r, false, NULL);
	assert_int_equal(cf_restore(c, 0, &r, image, len), 0);
	assert_null(r.req.results);
	assert_string_equal(r.req.errmsg, "");
	assert_int_equal(stats(c, 0).entries_proposed, proposed + 1);

	char *expected = dump_image(image, len);
	char *got = cf_assert_identical(c);
	assert_string_equal(got, expected);
	assert_null(strstr(got, "old"));
	assert_non_null(strstr(got, "index a_v on a"));
	assert_non_null(strstr(got, "trigger a_ins on a"));
	free(got);

	size_t leader_len;
	unsigned char *leader = member_image(c, 0, &leader_len);
	for (unsigned i = 0; i < c->n; i++) {
		assert_int_equal(stats(c, i).restores_applied, 1);
		expect_text(c, i, "PRAGMA integrity_check", "ok");
		expect_text(c, i, "PRAGMA journal_mode", "wal");
		expect_text(c, i, "PRAGMA page_size", "4096");
		assert_int_equal(cf_query_int(c, i, "PRAGMA user_version"), 7);
		size_t n;
		unsigned char *mine = member_image(c, i, &n);
		assert_int_equal(n, leader_len);
		assert_memory_equal(mine, leader, n);
		sqlite3_free(mine);
	}
	sqlite3_free(leader);

	/* Later writes: the trigger of the image fires on the leader, the
	 * AUTOINCREMENT sequence continues, the foreign key cascades. */
	write_ok(c, "INSERT INTO a(v, n) VALUES('four', 4.0)");
	write_ok(c, "DELETE FROM a WHERE id = 1");
	got = cf_assert_identical(c);
	free(got);
	for (unsigned i = 0; i < c->n; i++) {
		assert_int_equal(
		    cf_query_int(c, i,
				 "SELECT id FROM log WHERE msg = 'inserted "
				 "four'"),
		    4);
		assert_int_equal(
		    cf_query_int(c, i, "SELECT count(*) FROM b WHERE k = 'x'"),
		    0);
	}
	free(expected);
	sqlite3_free(image);
}

static bool all_done(struct cf *c, void *arg)
{
	struct cf_req **reqs = arg;
	(void)c;
	for (size_t i = 0; reqs[i] != NULL; i++) {
		if (!reqs[i]->done) {
			return false;
		}
	}
	return true;
}

/* Writes queued before the restore go out before it (and are wiped by it),
 * writes queued after it see the restored database; the restore waits for
 * the entry in flight and travels alone. */
static void test_restore_ordered_with_writes(void **state)
{
	struct cf *c = *state;
	struct cf_req first;
	struct cf_req before;
	struct cf_req restore;
	struct cf_req after[2];
	struct cf_req *all[] = {&first,	   &before,   &restore,
				&after[0], &after[1], NULL};
	size_t len;
	unsigned char *image = make_image(source_sql, &len);
	uint64_t proposed = stats(c, 0).entries_proposed;

	cf_req_init(&first, false, "INSERT INTO old VALUES(10, 'in flight')",
		    NULL);
	cf_submit_write(c, 0, &first);
	uv_run(&c->loop, UV_RUN_NOWAIT);
	assert_int_equal(stats(c, 0).entries_proposed, proposed + 1);
	cf_req_init(&before, false, "INSERT INTO old VALUES(11, 'before')",
		    NULL);
	cf_req_init(&restore, false, NULL);
	/* Table a exists only once the restore is applied. */
	cf_req_init(&after[0], false, "INSERT INTO a(v, n) VALUES('after', 9)",
		    NULL);
	cf_req_init(&after[1], false,
		    "UPDATE a SET n = n + 1 WHERE v = 'after'", NULL);
	cf_submit_write(c, 0, &before);
	cf_submit_restore(c, 0, &restore, image, len);
	cf_submit_write(c, 0, &after[0]);
	cf_submit_write(c, 0, &after[1]);
	assert_true(cf_step_until(c, all_done, all, CF_TIMEOUT_MS));

	assert_int_equal(first.status, 0);
	assert_int_equal(first.req.results[0].status, 0);
	assert_int_equal(before.status, 0);
	assert_int_equal(before.req.results[0].status, 0);
	assert_int_equal(restore.status, 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(after[i].status, 0);
		if (after[i].req.results[0].status != 0) {
			fail_msg("after %d: %s", i,
				 after[i].req.results[0].error);
		}
	}
	/* first | before | the restore | both "after" writes together. */
	assert_int_equal(stats(c, 0).entries_proposed, proposed + 4);
	for (size_t i = 0; all[i] != NULL; i++) {
		cf_req_clear(all[i]);
	}
	free(cf_assert_identical(c));
	for (unsigned i = 0; i < c->n; i++) {
		assert_int_equal(cf_query_int(c, i,
					      "SELECT count(*) FROM "
					      "sqlite_schema WHERE name = "
					      "'old'"),
				 0);
		assert_int_equal(
		    cf_query_int(c, i, "SELECT n FROM a WHERE v = 'after'"),
		    10);
	}
	sqlite3_free(image);
}

static void cut(struct cf *c, unsigned i, bool off)
{
	for (unsigned j = 0; j < c->n; j++) {
		if (j == i) {
			continue;
		}
		if (off) {
			raft_fixture_disconnect(&c->raft, i, j);
			raft_fixture_disconnect(&c->raft, j, i);
		} else {
			raft_fixture_reconnect(&c->raft, i, j);
			raft_fixture_reconnect(&c->raft, j, i);
		}
	}
}

/* A member cut off during the restore gets it inside a snapshot taken
 * after it, and ends identical. */
static void test_snapshot_after_restore(void **state)
{
	struct cf *c = *state;
	struct cf_req r;
	char sql[128];
	size_t len;
	unsigned char *image = make_image(source_sql, &len);

	for (unsigned i = 0; i < c->n; i++) {
		struct raft *raft = raft_fixture_get(&c->raft, i);
		raft_set_snapshot_threshold(raft, THRESHOLD);
		raft_set_snapshot_trailing(raft, 1);
	}
	cut(c, 2, true);
	cf_req_init(&r, false, NULL);
	assert_int_equal(cf_restore(c, 0, &r, image, len), 0);
	for (int i = 0; i < 6 * THRESHOLD; i++) {
		snprintf(sql, sizeof sql,
			 "INSERT INTO a(v, n) VALUES('row %d', %d)", i, i);
		write_ok(c, sql);
	}
	assert_true(stats(c, 0).snapshots_taken > 0);
	assert_int_equal(stats(c, 2).restores_applied, 0);

	cut(c, 2, false);
	free(cf_assert_identical(c));
	assert_true(stats(c, 2).snapshots_restored >= 1);
	assert_int_equal(stats(c, 2).restores_applied, 0);
	expect_text(c, 2, "PRAGMA integrity_check", "ok");
	assert_int_equal(cf_query_int(c, 2, "SELECT count(*) FROM log"),
			 3 + 6 * THRESHOLD);

	write_ok(c, "DELETE FROM a WHERE n > 10");
	char *dump = cf_assert_identical(c);
	assert_non_null(strstr(dump, "trigger a_ins on a"));
	free(dump);
	sqlite3_free(image);
}

/* A database file in WAL mode (header bytes 18-19 = 2) is restored as a
 * rollback-journal image; the members stay in WAL mode. */
static void test_restore_wal_image(void **state)
{
	struct cf *c = *state;
	struct cf_req r;
	sqlite3 *db;
	char path[128];

	snprintf(path, sizeof path, "%s/wal-source.db", c->dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, source_sql, NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db); /* checkpoints into the file */

	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	size_t len = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *image = malloc(len);
	assert_int_equal(fread(image, 1, len, f), len);
	fclose(f);
	assert_int_equal(image[18], 2);
	assert_int_equal(image[19], 2);

	cf_req_init(&r, false, NULL);
	assert_int_equal(cf_restore(c, 0, &r, image, len), 0);
	assert_int_equal(image[18], 2); /* borrowed, left untouched */
	char *expected = dump_image(image, len);
	char *got = cf_assert_identical(c);
	assert_string_equal(got, expected);
	for (unsigned i = 0; i < c->n; i++) {
		expect_text(c, i, "PRAGMA journal_mode", "wal");
		expect_text(c, i, "PRAGMA integrity_check", "ok");
	}
	write_ok(c, "INSERT INTO a(v, n) VALUES('after', 1)");
	free(cf_assert_identical(c));
	free(expected);
	free(got);
	free(image);
}

struct bad_image {
	const char *what;
	unsigned char *image; /* sqlite3_malloc'd or NULL */
	size_t len;
	const char *words;
};

static struct bad_image from_sql(const char *what, const char *sql,
				 const char *words)
{
	struct bad_image b = {what, NULL, 0, words};
	b.image = make_image(sql, &b.len);
	return b;
}

/* A valid image changed by hand. */
static struct bad_image edited(const char *what, size_t keep, size_t extra,
			       const char *words)
{
	struct bad_image b = {what, NULL, 0, words};
	size_t len;
	unsigned char *good =
	    make_image("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);"
		       "INSERT INTO t VALUES(1, 'x');",
		       &len);
	b.len = (keep < len ? keep : len) + extra;
	b.image = sqlite3_malloc64(b.len > 0 ? b.len : 1);
	memset(b.image, 0, b.len);
	memcpy(b.image, good, keep < len ? keep : len);
	sqlite3_free(good);
	return b;
}

/* Refused with TM_INVALID before anything is proposed; nothing changes. */
static void test_invalid_images_refused(void **state)
{
	struct cf *c = *state;
	enum { N = 16 };
	struct bad_image bad[N];
	size_t n = 0;

	bad[n] = edited("garbage", 0, 4096, "not a SQLite database");
	memset(bad[n].image, 'x', bad[n].len);
	n++;
	bad[n++] = edited("empty", 0, 0, "not a SQLite database");
	bad[n++] = edited("50 bytes", 50, 0, "shorter than the 100-byte");
	bad[n++] = edited("one page of two", 4096, 0,
			  "truncated: the header counts 2 pages of 4096 "
			  "bytes (8192 bytes), the image holds 4096 bytes");
	bad[n++] = edited("cut mid-page", 8000, 0,
			  "truncated: 8000 bytes is not a whole number of "
			  "4096-byte pages");
	bad[n++] =
	    edited("a page too many", 8192, 4096, "unexpected trailing pages");
	bad[n] = edited("garbage pages", 8192, 0,
			"invalid image: it does "
			"not open");
	memset(bad[n].image + 100, 0xee, bad[n].len - 100);
	n++;
	bad[n] = edited("format version 3", 8192, 0,
			"file format versions 3/1 are not supported");
	bad[n].image[18] = 3;
	n++;
	bad[n++] =
	    from_sql("rowid hidden", "CREATE TABLE np(a, rowid, oid, _rowid_)",
		     "invalid image: table \"np\": its columns named "
		     "rowid, _rowid_ and oid hide its rowid");
	bad[n++] = from_sql("generated column",
			    "CREATE TABLE g(id INTEGER PRIMARY KEY, x INT, "
			    "y INT GENERATED ALWAYS AS (x * 2))",
			    "table \"g\": generated column \"y\"");
	/* The index's declared column no longer matches what it holds. */
	bad[n++] = from_sql("index out of step",
			    "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);"
			    "CREATE INDEX t_v ON t(v);"
			    "INSERT INTO t VALUES(1, 'a'), (2, 'b');"
			    "PRAGMA writable_schema = ON;"
			    "UPDATE sqlite_schema SET sql = 'CREATE INDEX t_v "
			    "ON t(id)' WHERE name = 't_v';",
			    "integrity check failed: row 1 missing from index "
			    "t_v");
	bad[n++] = from_sql("page size 1024",
			    "PRAGMA page_size = 1024;"
			    "CREATE TABLE t(id INTEGER PRIMARY KEY)",
			    "page size 1024; the global database uses 4096");
	bad[n++] = from_sql("UTF-16",
			    "PRAGMA encoding = 'UTF-16le';"
			    "CREATE TABLE t(id INTEGER PRIMARY KEY)",
			    "text encoding UTF-16le");
	assert_true(n <= N);

	char *before = cf_dump(c, 0);
	uint64_t proposed = stats(c, 0).entries_proposed;
	for (size_t i = 0; i < n; i++) {
		struct cf_req r;
		cf_req_init(&r, false, NULL);
		int status = cf_restore(c, 0, &r, bad[i].image, bad[i].len);
		if (status != TM_INVALID ||
		    strstr(r.req.errmsg, bad[i].words) == NULL) {
			fail_msg("%s: status %d, \"%s\"; expected \"%s\"",
				 bad[i].what, status, r.req.errmsg,
				 bad[i].words);
		}
		assert_null(r.req.results);
		sqlite3_free(bad[i].image);
	}
	assert_int_equal(stats(c, 0).entries_proposed, proposed);
	char *after = cf_assert_identical(c);
	assert_string_equal(before, after);
	free(before);
	free(after);
	for (unsigned i = 0; i < c->n; i++) {
		assert_int_equal(stats(c, i).restores_applied, 0);
	}

	/* The leader still takes writes and good restores. */
	write_ok(c, "INSERT INTO old VALUES(2, 'still here')");
	size_t len;
	unsigned char *image = make_image(source_sql, &len);
	struct cf_req r;
	cf_req_init(&r, false, NULL);
	assert_int_equal(cf_restore(c, 0, &r, image, len), 0);
	sqlite3_free(image);
}

/* Followers refuse, before looking at the image. */
static void test_restore_on_follower(void **state)
{
	struct cf *c = *state;
	struct cf_req r;
	size_t len;
	unsigned char *image = make_image(source_sql, &len);

	cf_req_init(&r, false, NULL);
	assert_int_equal(cf_restore(c, 1, &r, image, len), TM_NOTLEADER);
	assert_non_null(strstr(r.req.errmsg,
			       "not the leader; restores are served by "
			       "the leader"));
	assert_null(r.req.results);
	assert_int_equal(cf_restore(c, 2, &r, "garbage", 7), TM_NOTLEADER);
	free(cf_assert_identical(c));
	assert_int_equal(cf_query_int(c, 1, "SELECT count(*) FROM old"), 1);
	assert_int_equal(stats(c, 1).restores_applied, 0);
	sqlite3_free(image);
}

static bool leader_is_not(struct cf *c, void *arg)
{
	unsigned old = *(unsigned *)arg;
	return raft_state(raft_fixture_get(&c->raft, old)) != RAFT_LEADER;
}

/* Leadership lost with the restore in flight: the outcome is unknown, and
 * whatever it is, the members agree once a new leader is elected. */
static void test_restore_leadership_lost(void **state)
{
	struct cf *c = *state;
	struct cf_req r;
	unsigned old = 0;
	size_t len;
	unsigned char *image = make_image(source_sql, &len);

	cf_req_init(&r, false, NULL);
	cf_submit_restore(c, 0, &r, image, len);
	uv_run(&c->loop, UV_RUN_NOWAIT);
	assert_false(r.done);
	raft_fixture_saturate(&c->raft, 0, 1);
	raft_fixture_saturate(&c->raft, 0, 2);
	raft_fixture_saturate(&c->raft, 1, 0);
	raft_fixture_saturate(&c->raft, 2, 0);
	assert_true(cf_step_until(c, leader_is_not, &old, CF_TIMEOUT_MS));
	assert_int_equal(cf_wait(c, &r), TM_CANCELED);
	assert_string_equal(r.req.errmsg,
			    "leadership lost before the restore was "
			    "committed; it may or may not have been applied");
	raft_fixture_desaturate(&c->raft, 0, 1);
	raft_fixture_desaturate(&c->raft, 0, 2);
	raft_fixture_desaturate(&c->raft, 1, 0);
	raft_fixture_desaturate(&c->raft, 2, 0);
	assert_true(
	    raft_fixture_step_until_has_leader(&c->raft, CF_TIMEOUT_MS));
	write_ok(c, "CREATE TABLE later(id INTEGER PRIMARY KEY)");
	free(cf_assert_identical(c));
	sqlite3_free(image);
}

/* A restore still queued when the gdb closes was never proposed. */
static void test_close_fails_queued_restore(void **state)
{
	struct cf *c = *state;
	struct cf_req r;
	size_t len;
	unsigned char *image = make_image(source_sql, &len);

	cf_req_init(&r, false, NULL);
	cf_submit_restore(c, 0, &r, image, len);
	cf_close_raft_and_gdbs(c);
	assert_false(r.done);
	cf_finish_teardown(c);
	assert_true(r.done);
	assert_int_equal(r.status, TM_SHUTDOWN);
	assert_null(r.req.results);
	free(c);
	*state = NULL;
	sqlite3_free(image);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_restore_replaces_database,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_restore_ordered_with_writes,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_snapshot_after_restore, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_restore_wal_image, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_invalid_images_refused, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_restore_on_follower, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_restore_leadership_lost, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_close_fails_queued_restore,
					    setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Snapshots: a member cut off while the others compact their logs catches up
 * through InstallSnapshot and ends identical; a snapshot is a valid SQLite
 * database file; a corrupt snapshot is refused without harm. */
#include <dirent.h>
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

static int setup(void **state)
{
	struct cf *c = malloc(sizeof *c);
	cf_setup(c, 3);
	for (unsigned i = 0; i < c->n; i++) {
		struct raft *r = raft_fixture_get(&c->raft, i);
		raft_set_snapshot_threshold(r, THRESHOLD);
		raft_set_snapshot_trailing(r, 1);
	}
	cf_exec(c, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT, b BLOB)");
	cf_exec(c, "INSERT INTO t VALUES(1, 'before', randomblob(100))");
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

static struct gdb_stats stats(struct cf *c, unsigned i)
{
	struct gdb_stats s;
	gdb_get_stats(c->gdb[i], &s);
	return s;
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

static void test_member_behind_catches_up_by_snapshot(void **state)
{
	struct cf *c = *state;
	char sql[128];

	cut(c, 2, true);
	for (int i = 0; i < 6 * THRESHOLD; i++) {
		snprintf(sql, sizeof sql,
			 "INSERT INTO t(id, v, b) VALUES(%d, 'row %d', "
			 "randomblob(%d))",
			 100 + i, i, i * 10);
		write_ok(c, sql);
		if (i == THRESHOLD) {
			write_ok(c, "CREATE INDEX t_v ON t(v)");
			write_ok(c, "ALTER TABLE t ADD COLUMN d INT DEFAULT 5");
		}
	}
	write_ok(c, "UPDATE t SET d = d + id WHERE id % 2 = 0");
	assert_true(stats(c, 0).snapshots_taken > 0);
	assert_int_equal(stats(c, 2).snapshots_restored, 0);

	cut(c, 2, false);
	free(cf_assert_identical(c));
	assert_true(stats(c, 2).snapshots_restored >= 1);
	assert_true(
	    raft_fixture_n_recv(&c->raft, 2, RAFT_IO_INSTALL_SNAPSHOT) >= 1);

	/* The restored member keeps applying entries, and keeps working when
	 * it becomes the leader. */
	write_ok(c, "DELETE FROM t WHERE id < 105");
	write_ok(c, "UPDATE t SET v = upper(v), d = d * 2");
	free(cf_assert_identical(c));
	raft_fixture_depose(&c->raft);
	for (unsigned i = 0; i < c->n; i++) {
		raft_fixture_set_randomized_election_timeout(
		    &c->raft, i, i == 2 ? 1000 : 100000);
	}
	assert_true(raft_fixture_step_until_state_is(&c->raft, 2, RAFT_LEADER,
						     CF_TIMEOUT_MS));
	assert_true(
	    raft_fixture_step_until_has_leader(&c->raft, CF_TIMEOUT_MS));
	assert_int_equal(cf_leader(c), 2);
	write_ok(c, "UPDATE t SET v = lower(v) WHERE id % 3 = 0");
	write_ok(c, "DELETE FROM t WHERE id % 5 = 0");
	char *dump = cf_assert_identical(c);
	assert_non_null(strstr(dump, "index t_v on t"));
	free(dump);
}

static int64_t count_rows(sqlite3 *db)
{
	sqlite3_stmt *st;
	assert_int_equal(
	    sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int64_t n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* No snapshot of raft's own from now on, and none still running: the test
 * drives the FSM's snapshot methods itself. */
static void no_raft_snapshots(struct cf *c)
{
	for (unsigned i = 0; i < c->n; i++) {
		struct raft *r = raft_fixture_get(&c->raft, i);
		raft_set_snapshot_threshold(r, 100000);
		for (int n = 0; n < 1000 && r->snapshot.pending.term != 0;
		     n++) {
			raft_fixture_step(&c->raft);
		}
		assert_int_equal(r->snapshot.pending.term, 0);
	}
}

/* The snapshot buffer is a SQLite database file anyone can open. */
/* Whether DIR holds a file whose name starts with PREFIX. */
static bool dir_has(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool found = false;
	assert_non_null(d);
	while (!found && (e = readdir(d)) != NULL) {
		found = strncmp(e->d_name, prefix, strlen(prefix)) == 0;
	}
	closedir(d);
	return found;
}

static void test_snapshot_is_a_database_file(void **state)
{
	struct cf *c = *state;
	struct raft_fsm *fsm = gdb_fsm(c->gdb[1]);
	struct raft_buffer *bufs = NULL;
	unsigned n = 0;
	char path[128];

	no_raft_snapshots(c);
	write_ok(c, "INSERT INTO t VALUES(2, 'two', x'00ff00')");
	cf_wait_applied(c);
	assert_int_equal(fsm->version, 3);
	assert_int_equal(fsm->snapshot(fsm, &bufs, &n), 0);
	assert_int_equal(fsm->snapshot_async(fsm, &bufs, &n), 0);
	/* The image, then its checksum trailer. */
	assert_int_equal(n, 2);
	assert_int_equal(((unsigned char *)bufs[0].base)[18], 1);
	assert_int_equal(((unsigned char *)bufs[0].base)[19], 1);
	assert_int_equal(bufs[1].len, 48);
	assert_memory_equal(bufs[1].base, "TMSNAPv2", 8);
	/* The copy on disk is already unlinked: nothing left behind. */
	assert_false(dir_has(c->dir, "snapshot-copy-"));
	snprintf(path, sizeof path, "%s/snapshot.db", c->dir);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(bufs[0].base, 1, bufs[0].len, f), bufs[0].len);
	fclose(f);
	assert_int_equal(fsm->snapshot_finalize(fsm, &bufs, &n), 0);
	assert_null(bufs);

	sqlite3 *db;
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
			 SQLITE_OK);
	assert_int_equal(
	    sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT count(*), sum(id) FROM t",
					    -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 2);
	assert_int_equal(sqlite3_column_int(st, 1), 3);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* snapshot() on the loop only pins the state; entries applied before
 * snapshot_async() copies it (off the loop) are not in the image, and the
 * apply connection keeps committing meanwhile. */
static void test_snapshot_pins_state_while_applying(void **state)
{
	struct cf *c = *state;
	struct raft_fsm *fsm = gdb_fsm(c->gdb[1]);
	struct raft_buffer *bufs = NULL;
	unsigned n = 0;

	no_raft_snapshots(c);
	cf_wait_applied(c);
	uint64_t taken = stats(c, 1).snapshots_taken;
	assert_non_null(fsm->snapshot_async);
	assert_int_equal(fsm->snapshot(fsm, &bufs, &n), 0);
	assert_int_equal(n, 0); /* nothing copied on the loop */
	for (int i = 0; i < 20; i++) {
		char sql[96];
		snprintf(sql, sizeof sql,
			 "INSERT INTO t VALUES(%d, 'during', randomblob(4000))",
			 10 + i);
		write_ok(c, sql);
	}
	cf_wait_applied(c);
	assert_int_equal(fsm->snapshot_async(fsm, &bufs, &n), 0);
	assert_int_equal(n, 2);

	sqlite3 *mem;
	assert_int_equal(sqlite3_open(":memory:", &mem), SQLITE_OK);
	assert_int_equal(sqlite3_deserialize(mem, "main", bufs[0].base,
					     (sqlite3_int64)bufs[0].len,
					     (sqlite3_int64)bufs[0].len,
					     SQLITE_DESERIALIZE_READONLY),
			 SQLITE_OK);
	assert_int_equal(count_rows(mem), 1);
	sqlite3_close(mem);
	assert_int_equal(fsm->snapshot_finalize(fsm, &bufs, &n), 0);
	assert_null(bufs);
	assert_int_equal(stats(c, 1).snapshots_taken, taken + 1);

	/* The member applied the 20 writes, and snapshots again. */
	free(cf_assert_identical(c));
	assert_int_equal(
	    cf_query_int(c, 1, "SELECT count(*) FROM t WHERE v = 'during'"),
	    20);
	assert_int_equal(fsm->snapshot(fsm, &bufs, &n), 0);
	assert_int_equal(fsm->snapshot_async(fsm, &bufs, &n), 0);
	assert_int_equal(fsm->snapshot_finalize(fsm, &bufs, &n), 0);
}

static void test_interval_rule(void **state)
{
	(void)state;
	/* 1 MB database, 100-byte entries: a quarter is 2,500 entries. */
	assert_int_equal(gdb_snapshot_interval(1024, 1000000, 100000, 1000),
			 2500);
	/* Never below the configured threshold. */
	assert_int_equal(gdb_snapshot_interval(1024, 100000, 100000, 1000),
			 1024);
	/* 100 MB: a hundred times the interval, the same cost per write. */
	assert_int_equal(gdb_snapshot_interval(16, 100000000, 100000, 1000),
			 250000);
	/* Entries of no bytes (barriers) and no entries at all. */
	assert_int_equal(gdb_snapshot_interval(16, 4000, 0, 10), 1000);
	assert_int_equal(gdb_snapshot_interval(16, 4000, 0, 0), 16);
	assert_int_equal(gdb_snapshot_interval(16, UINT64_MAX, 1, 1),
			 GDB_SNAPSHOT_MAX_INTERVAL);
}

/* Once the database is large next to the entries, raft is told to wait
 * longer between snapshots, never less than the configured threshold. */
static void test_interval_grows_with_database(void **state)
{
	struct cf *c = *state;
	char sql[128];
	for (unsigned i = 0; i < c->n; i++) {
		gdb_set_snapshot_threshold(c->gdb[i], THRESHOLD);
	}
	struct raft *leader = raft_fixture_get(&c->raft, cf_leader(c));
	assert_int_equal(leader->snapshot.threshold, THRESHOLD);
	for (int i = 0; i < 4 * THRESHOLD; i++) {
		snprintf(sql, sizeof sql,
			 "INSERT INTO t VALUES(%d, 'big', randomblob(50000))",
			 1000 + i);
		write_ok(c, sql);
	}
	for (int i = 0; i < 16 * THRESHOLD; i++) {
		snprintf(sql, sizeof sql, "UPDATE t SET v = 'v%d' WHERE id = 1",
			 i);
		write_ok(c, sql);
	}
	/* About 800 KB of database, entries of a few hundred bytes. */
	assert_true(leader->snapshot.threshold > 100);
	uint64_t taken = stats(c, cf_leader(c)).snapshots_taken;
	for (int i = 0; i < 50; i++) {
		snprintf(sql, sizeof sql, "UPDATE t SET v = 'w%d' WHERE id = 1",
			 i);
		write_ok(c, sql);
	}
	assert_int_equal(stats(c, cf_leader(c)).snapshots_taken, taken);

	/* A lower configured threshold does not undo it; a higher one
	 * wins. */
	gdb_set_snapshot_threshold(c->gdb[cf_leader(c)], 16);
	assert_true(leader->snapshot.threshold > 100);
	gdb_set_snapshot_threshold(c->gdb[cf_leader(c)], 1000000);
	assert_int_equal(leader->snapshot.threshold, 1000000);
	free(cf_assert_identical(c));
}

/* Large entries: a snapshot comes once the log since the last one carries
 * GDB_SNAPSHOT_MIN_BYTES (or a quarter of the database) in at least
 * GDB_SNAPSHOT_MIN_ENTRIES entries, long before the interval in entries,
 * so the log left behind stays short in bytes. */
static void test_interval_bounded_in_bytes(void **state)
{
	struct cf *c = *state;
	char sql[128];
	unsigned l = cf_leader(c);
	for (unsigned i = 0; i < c->n; i++) {
		gdb_set_snapshot_threshold(c->gdb[i], 100000);
	}
	struct raft *leader = raft_fixture_get(&c->raft, l);
	uint64_t taken = stats(c, l).snapshots_taken;
	/* 40 entries of 200 KB: 8 MB, past the 4 MB bound once at least
	 * 32 entries came. */
	for (int i = 0; i < 40; i++) {
		snprintf(sql, sizeof sql,
			 "INSERT INTO t VALUES(%d, 'big', randomblob(200000))",
			 1000 + i);
		write_ok(c, sql);
	}
	cf_wait_applied(c);
	assert_true(stats(c, l).snapshots_taken >= taken + 1);
	assert_true(raft_last_index(leader) - leader->log.snapshot.last_index <
		    40);
	/* The interval in entries is back once the snapshot is taken. */
	assert_int_equal(leader->snapshot.threshold, 100000);
	free(cf_assert_identical(c));
}

/* Large entries: the log kept before a snapshot is bounded in bytes too.
 * With raft.snapshot_trailing 512, forty entries of 200 KB would all stay
 * (in memory, on disk, read again at a restart); with a budget of 4 MiB
 * (the daemon's is 64 MiB: GDB_TRAIL_MIN_BYTES) the snapshot keeps about
 * 4 MiB of them. */
static void test_trailing_bounded_in_bytes(void **state)
{
	struct cf *c = *state;
	char sql[128];
	unsigned l = cf_leader(c);
	for (unsigned i = 0; i < c->n; i++) {
		gdb_set_snapshot_threshold(c->gdb[i], 100000);
		gdb_set_snapshot_trailing(c->gdb[i], 512,
					  GDB_SNAPSHOT_MIN_BYTES);
	}
	struct raft *leader = raft_fixture_get(&c->raft, l);
	uint64_t taken = stats(c, l).snapshots_taken;
	for (int i = 0; i < 40; i++) {
		snprintf(sql, sizeof sql,
			 "INSERT INTO t VALUES(%d, 'big', randomblob(200000))",
			 1000 + i);
		write_ok(c, sql);
	}
	cf_wait_applied(c);
	assert_true(stats(c, l).snapshots_taken >= taken + 1);
	/* 4 MiB of 200 KB entries: 20 of them, and the snapshot's own. */
	uint64_t kept = leader->log.snapshot.last_index - leader->log.offset;
	if (kept > 21) {
		fail_msg("%llu entries kept before the snapshot at %llu",
			 (unsigned long long)kept,
			 (unsigned long long)leader->log.snapshot.last_index);
	}
	assert_true(kept >= 1);
	free(cf_assert_identical(c));
}

/* Small entries keep the configured count. */
static void test_trailing_small_entries(void **state)
{
	struct cf *c = *state;
	char sql[128];
	unsigned l = cf_leader(c);
	for (unsigned i = 0; i < c->n; i++) {
		gdb_set_snapshot_threshold(c->gdb[i], 16);
		gdb_set_snapshot_trailing(c->gdb[i], 512, GDB_TRAIL_MIN_BYTES);
	}
	struct raft *leader = raft_fixture_get(&c->raft, l);
	uint64_t taken = stats(c, l).snapshots_taken;
	for (int i = 0; i < 40; i++) {
		snprintf(sql, sizeof sql, "INSERT INTO t VALUES(%d, 's', 'x')",
			 2000 + i);
		write_ok(c, sql);
	}
	cf_wait_applied(c);
	assert_true(stats(c, l).snapshots_taken >= taken + 1);
	assert_int_equal(leader->snapshot.trailing, 512);
	assert_int_equal(leader->log.offset, 0); /* nothing dropped */
	free(cf_assert_identical(c));
}

/* No entry past the members' oldest last snapshot is dropped, whatever the
 * count and the bytes allow (gdb_set_trail_floor): with the floor at 0
 * the log keeps everything from index 1; once it is known higher, the
 * count applies again. */
static void test_trailing_floor(void **state)
{
	struct cf *c = *state;
	char sql[128];
	unsigned l = cf_leader(c);
	for (unsigned i = 0; i < c->n; i++) {
		gdb_set_snapshot_threshold(c->gdb[i], 16);
		gdb_set_snapshot_trailing(c->gdb[i], 4, GDB_TRAIL_MIN_BYTES);
		gdb_set_trail_floor(c->gdb[i], 0);
	}
	struct raft *leader = raft_fixture_get(&c->raft, l);
	uint64_t taken = stats(c, l).snapshots_taken;
	for (int i = 0; i < 40; i++) {
		snprintf(sql, sizeof sql, "INSERT INTO t VALUES(%d, 'f', 'x')",
			 3000 + i);
		write_ok(c, sql);
	}
	cf_wait_applied(c);
	assert_true(stats(c, l).snapshots_taken >= taken + 1);
	assert_int_equal(leader->log.offset, 0); /* nothing dropped */
	uint64_t floor = leader->log.snapshot.last_index;
	for (unsigned i = 0; i < c->n; i++) {
		gdb_set_trail_floor(c->gdb[i], floor);
	}
	for (int i = 0; i < 40; i++) {
		snprintf(sql, sizeof sql, "INSERT INTO t VALUES(%d, 'g', 'x')",
			 4000 + i);
		write_ok(c, sql);
	}
	cf_wait_applied(c);
	/* Entries before the floor dropped, none past it. */
	assert_true(leader->log.offset > 0);
	assert_true(leader->log.offset <= floor);
	free(cf_assert_identical(c));
}

/* A buffer that is not a database is refused and changes nothing. */
/* Garbage, a header over garbage pages, and a snapshot whose image was
 * damaged after it was taken (raft_uv keeps no checksum of uncompressed
 * snapshots: the trailer is ours): all refused, nothing changed. */
static void test_corrupt_snapshot_refused(void **state)
{
	struct cf *c = *state;
	struct raft_fsm *fsm = gdb_fsm(c->gdb[1]);
	char *before = cf_dump(c, 1);
	struct raft_buffer buf;

	buf.len = 4096;
	buf.base = raft_malloc(buf.len);
	memset(buf.base, 'x', buf.len);
	assert_int_equal(fsm->restore(fsm, &buf), RAFT_CORRUPT);

	/* A real header over garbage pages. */
	memcpy(buf.base, "SQLite format 3", 16);
	assert_int_not_equal(fsm->restore(fsm, &buf), 0);
	raft_free(buf.base); /* still ours: restore failed */

	/* A real snapshot, image and trailer, with one byte of a data page
	 * flipped: its checksum no longer matches. */
	struct raft_buffer *bufs = NULL;
	unsigned n = 0;
	assert_int_equal(fsm->snapshot(fsm, &bufs, &n), 0);
	assert_int_equal(fsm->snapshot_async(fsm, &bufs, &n), 0);
	assert_int_equal(n, 2);
	buf.len = bufs[0].len + bufs[1].len;
	buf.base = raft_malloc(buf.len);
	memcpy(buf.base, bufs[0].base, bufs[0].len);
	memcpy((char *)buf.base + bufs[0].len, bufs[1].base, bufs[1].len);
	assert_int_equal(fsm->snapshot_finalize(fsm, &bufs, &n), 0);
	((unsigned char *)buf.base)[4096 + 100] ^= 0x01;
	assert_int_equal(fsm->restore(fsm, &buf), RAFT_CORRUPT);
	((unsigned char *)buf.base)[4096 + 100] ^= 0x01;
	/* Undamaged, it restores (and the buffer is then restore's). */
	assert_int_equal(fsm->restore(fsm, &buf), 0);

	char *after = cf_dump(c, 1);
	assert_string_equal(before, after);
	free(before);
	free(after);
	assert_int_equal(stats(c, 1).snapshots_restored, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
		test_member_behind_catches_up_by_snapshot, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_snapshot_is_a_database_file,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_snapshot_pins_state_while_applying, setup, teardown),
	    cmocka_unit_test(test_interval_rule),
	    cmocka_unit_test_setup_teardown(test_interval_grows_with_database,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_interval_bounded_in_bytes,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_trailing_bounded_in_bytes,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_trailing_small_entries, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_trailing_floor, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_corrupt_snapshot_refused,
					    setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

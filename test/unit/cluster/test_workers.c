/* Reads and write batches on worker threads (a real pool), and the bounds
 * on what they run: timeouts, cancel, close, write size, result size. The
 * cluster runs on raft's fixture; waits are bounded in real time because
 * the workers run in real time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal/lib/err.h"
#include "internal/lib/pool.h"
#include "test/unit/cluster/cluster_fixture.h"

#define N_THREADS 3
#define REAL_WAIT_S 20

#define ENDLESS                                                                \
	"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "     \
	"SELECT count(*) FROM c"

struct fx {
	struct cf c;
	struct pool *pool[CF_MAX];
	unsigned pools_closed;
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int setup(void **state)
{
	char errmsg[TM_ERRMSG_SIZE];
	struct fx *f = calloc(1, sizeof *f);
	cf_setup(&f->c, 3);
	for (unsigned i = 0; i < f->c.n; i++) {
		assert_int_equal(pool_init(&f->pool[i], &f->c.loop, N_THREADS),
				 0);
		assert_int_equal(gdb_set_pool(f->c.gdb[i], f->pool[i], errmsg),
				 0);
	}
	*state = f;
	return 0;
}

static void pool_closed_cb(void *arg)
{
	struct fx *f = arg;
	f->pools_closed++;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	cf_close_raft_and_gdbs(&f->c);
	while (f->c.closed < f->c.n) {
		uv_run(&f->c.loop, UV_RUN_ONCE);
	}
	for (unsigned i = 0; i < f->c.n; i++) {
		pool_close(f->pool[i], pool_closed_cb, f);
	}
	while (f->pools_closed < f->c.n) {
		uv_run(&f->c.loop, UV_RUN_ONCE);
	}
	cf_finish_teardown(&f->c);
	free(f);
	return 0;
}

/* Step the fixture and the loop until every request of R (N of them) is
 * done, within REAL_WAIT_S seconds of real time. */
static void wait_all(struct fx *f, struct cf_req *r, size_t n)
{
	uint64_t deadline = now_ms() + REAL_WAIT_S * 1000;
	for (;;) {
		size_t done = 0;
		for (size_t i = 0; i < n; i++) {
			done += r[i].done ? 1 : 0;
		}
		if (done == n) {
			return;
		}
		if (now_ms() > deadline) {
			fail_msg("requests not done after %d s", REAL_WAIT_S);
		}
		cf_step(&f->c);
		usleep(200);
	}
}

/* cf_exec with a real-time bound: the workers run in real time, and
 * raft's virtual time may pass faster than they work. */
static void exec(struct fx *f, const char *sql)
{
	struct cf_req r;
	cf_req_init(&r, false, sql, NULL);
	cf_submit_write(&f->c, 0, &r);
	wait_all(f, &r, 1);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.req.results[0].status, 0);
	cf_req_clear(&r);
	cf_wait_applied(&f->c);
}

static const struct gdb_result *res(struct cf_req *r, size_t i)
{
	assert_non_null(r->req.results);
	return &r->req.results[i];
}

/* An endless read stops at its timeout; a quick read submitted after it
 * is answered meanwhile, by another worker. */
static void test_read_timeout(void **state)
{
	struct fx *f = *state;
	struct cf_req r[2];
	cf_req_init(&r[0], false, ENDLESS, NULL);
	r[0].req.timeout_ms = 300;
	cf_req_init(&r[1], false, "SELECT 42", NULL);
	uint64_t start = now_ms();
	cf_submit_read(&f->c, 1, &r[0], GDB_READ_NONE);
	cf_submit_read(&f->c, 1, &r[1], GDB_READ_NONE);
	wait_all(f, &r[1], 1);
	assert_false(r[0].done);
	assert_int_equal(res(&r[1], 0)->rows[0].i, 42);
	wait_all(f, r, 2);
	uint64_t took = now_ms() - start;
	assert_true(took >= 300);
	assert_int_equal(r[0].status, 0);
	assert_int_equal(res(&r[0], 0)->status, TM_TIMEOUT);
	assert_non_null(strstr(res(&r[0], 0)->error, "timeout of 300 ms"));
	cf_req_clear(&r[0]);
	cf_req_clear(&r[1]);
}

/* Short reads are answered on the loop; one that passes the loop's budget
 * is run again on a worker, and its answer is whole. */
static void test_reads_on_loop(void **state)
{
	struct fx *f = *state;
	struct cf_req r[2];
	struct gdb_stats before;
	struct gdb_stats after;
	gdb_get_stats(f->c.gdb[1], &before);
	cf_req_init(&r[0], false, "SELECT 42", NULL);
	cf_submit_read(&f->c, 1, &r[0], GDB_READ_NONE);
	wait_all(f, r, 1);
	assert_int_equal(res(&r[0], 0)->rows[0].i, 42);
	gdb_get_stats(f->c.gdb[1], &after);
	assert_true(after.reads_on_loop == before.reads_on_loop + 1);
	assert_true(after.reads_offloaded == before.reads_offloaded);
	cf_req_init(&r[1], false,
		    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
		    "FROM c WHERE x < 3000000) SELECT count(*) FROM c",
		    NULL);
	cf_submit_read(&f->c, 1, &r[1], GDB_READ_NONE);
	wait_all(f, &r[1], 1);
	assert_int_equal(res(&r[1], 0)->status, 0);
	assert_int_equal(res(&r[1], 0)->rows[0].i, 3000000);
	gdb_get_stats(f->c.gdb[1], &before);
	assert_true(before.reads_offloaded == after.reads_offloaded + 1);
	assert_true(before.reads_on_loop == after.reads_on_loop);
	cf_req_clear(&r[0]);
	cf_req_clear(&r[1]);
}

/* A sink that holds up to HOLD rows on the loop, as the HTTP encoder holds
 * its first chunk. */
struct held_sink {
	struct gdb_sink sink;
	unsigned rows;
	unsigned hold;
	unsigned resets;
	unsigned rows_on_worker;
};

static int held_columns(struct gdb_sink *s, size_t i, sqlite3_stmt *st,
			char *errmsg)
{
	(void)s;
	(void)i;
	(void)st;
	(void)errmsg;
	return 0;
}

static int held_row(struct gdb_sink *s, size_t i, sqlite3_stmt *st,
		    char *errmsg)
{
	struct held_sink *h = s->data;
	(void)i;
	(void)st;
	h->rows++;
	if (!s->on_loop) {
		h->rows_on_worker++;
	} else if (h->rows > h->hold) {
		snprintf(errmsg, TM_ERRMSG_SIZE, "rows would leave");
		return TM_BUSY;
	}
	return 0;
}

static void held_reset(struct gdb_sink *s)
{
	struct held_sink *h = s->data;
	h->rows = 0;
	h->resets++;
}

/* A streamed read is tried on the loop too: one whose rows fit what the
 * sink holds is answered there; one whose rows would have to leave is
 * dropped, the sink reset, and run again whole on a worker. */
static void test_streamed_reads_on_loop(void **state)
{
	struct fx *f = *state;
	struct held_sink h = {.hold = 100};
	h.sink = (struct gdb_sink){.data = &h,
				   .columns = held_columns,
				   .row = held_row,
				   .reset = held_reset};
	struct gdb_stats before;
	struct gdb_stats after;
	struct cf_req r;
	gdb_get_stats(f->c.gdb[1], &before);
	cf_req_init(&r, false,
		    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
		    "FROM c WHERE x < 50) SELECT x FROM c",
		    NULL);
	r.req.sink = &h.sink;
	cf_submit_read(&f->c, 1, &r, GDB_READ_NONE);
	wait_all(f, &r, 1);
	assert_int_equal(res(&r, 0)->status, 0);
	assert_int_equal(h.rows, 50);
	assert_int_equal(h.resets, 0);
	gdb_get_stats(f->c.gdb[1], &after);
	assert_true(after.reads_on_loop == before.reads_on_loop + 1);
	cf_req_clear(&r);

	cf_req_init(&r, false,
		    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
		    "FROM c WHERE x < 5000) SELECT x FROM c",
		    NULL);
	r.req.sink = &h.sink;
	h.rows = 0;
	cf_submit_read(&f->c, 1, &r, GDB_READ_NONE);
	wait_all(f, &r, 1);
	assert_int_equal(res(&r, 0)->status, 0);
	assert_int_equal(h.resets, 1);
	assert_int_equal(h.rows, 5000);
	assert_int_equal(h.rows_on_worker, 5000);
	gdb_get_stats(f->c.gdb[1], &before);
	assert_true(before.reads_offloaded == after.reads_offloaded + 1);
	cf_req_clear(&r);
}

/* The default timeout applies when the request sets none. */
static void test_default_timeout(void **state)
{
	struct fx *f = *state;
	struct gdb_limits limits = {.timeout_ms = 200};
	struct cf_req r;
	gdb_set_limits(f->c.gdb[0], &limits);
	cf_req_init(&r, false, ENDLESS, NULL);
	cf_submit_read(&f->c, 0, &r, GDB_READ_NONE);
	wait_all(f, &r, 1);
	assert_int_equal(res(&r, 0)->status, TM_TIMEOUT);
	cf_req_clear(&r);
}

/* Canceling a running read interrupts it; a queued one is answered
 * without running. */
static void test_cancel(void **state)
{
	struct fx *f = *state;
	struct cf_req r[N_THREADS + 1];
	for (size_t i = 0; i < N_THREADS + 1; i++) {
		cf_req_init(&r[i], false, ENDLESS, NULL);
		cf_submit_read(&f->c, 2, &r[i], GDB_READ_NONE);
	}
	/* Readers: N_THREADS - 1 (one thread stays for batches), so at
	 * least one request waits in the queue. */
	for (size_t i = 0; i < N_THREADS + 1; i++) {
		gdb_cancel(f->c.gdb[2], &r[i].req);
		assert_false(r[i].done);
	}
	wait_all(f, r, N_THREADS + 1);
	size_t queued = 0;
	for (size_t i = 0; i < N_THREADS + 1; i++) {
		if (r[i].status == TM_CANCELED) {
			queued++;
			assert_null(r[i].req.results);
		} else {
			assert_int_equal(r[i].status, 0);
			assert_int_equal(res(&r[i], 0)->status, TM_CANCELED);
			assert_non_null(
			    strstr(res(&r[i], 0)->error, "client went away"));
		}
		cf_req_clear(&r[i]);
	}
	assert_true(queued >= 2);
}

/* Closing while reads run forever: they are interrupted and the close
 * completes (teardown would hang otherwise). */
static void test_close_interrupts(void **state)
{
	struct fx *f = *state;
	static struct cf_req r[2];
	for (size_t i = 0; i < 2; i++) {
		cf_req_init(&r[i], false, ENDLESS, NULL);
		cf_submit_read(&f->c, i, &r[i], GDB_READ_NONE);
	}
	/* Let them start on their workers. */
	for (int i = 0; i < 20; i++) {
		cf_step(&f->c);
		usleep(1000);
	}
	assert_false(r[0].done || r[1].done);
	uint64_t start = now_ms();
	cf_close_raft_and_gdbs(&f->c);
	while (f->c.closed < f->c.n) {
		uv_run(&f->c.loop, UV_RUN_ONCE);
	}
	assert_true(now_ms() - start < 5000);
	for (size_t i = 0; i < 2; i++) {
		assert_true(r[i].done);
		assert_int_equal(res(&r[i], 0)->status, TM_SHUTDOWN);
		cf_req_clear(&r[i]);
	}
	/* Teardown closes the pools and the loop. */
	f->c.closed = 0;
	for (unsigned i = 0; i < f->c.n; i++) {
		pool_close(f->pool[i], pool_closed_cb, f);
	}
	while (f->pools_closed < f->c.n) {
		uv_run(&f->c.loop, UV_RUN_ONCE);
	}
	f->c.closed = f->c.n;
	cf_finish_teardown(&f->c);
	f->c.n = 0;
}

static int teardown_closed(void **state)
{
	free(*state);
	return 0;
}

/* A write that runs past its timeout fails alone: SQLite rolls the batch
 * back, and the write queued with it runs in the next batch. */
static void test_write_timeout(void **state)
{
	struct fx *f = *state;
	struct cf_req r[2];
	struct gdb_stats before;
	struct gdb_stats after;
	exec(f, "CREATE TABLE t(x INTEGER PRIMARY KEY)");
	/* Short writes run on the loop, within its budget. */
	gdb_get_stats(f->c.gdb[0], &before);
	assert_int_equal(before.batches_offloaded, 0);
	cf_req_init(&r[0], false,
		    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
		    "FROM c) INSERT INTO t SELECT x FROM c",
		    NULL);
	r[0].req.timeout_ms = 300;
	cf_req_init(&r[1], false, "INSERT INTO t VALUES (-1)", NULL);
	cf_submit_write(&f->c, 0, &r[0]);
	cf_submit_write(&f->c, 0, &r[1]);
	wait_all(f, r, 2);
	assert_int_equal(r[0].status, 0);
	assert_int_equal(res(&r[0], 0)->status, TM_TIMEOUT);
	assert_int_equal(r[1].status, 0);
	assert_int_equal(res(&r[1], 0)->status, 0);
	cf_req_clear(&r[0]);
	cf_req_clear(&r[1]);
	/* The long one passed the loop's budget and ran on a worker. */
	gdb_get_stats(f->c.gdb[0], &after);
	assert_true(after.batches_offloaded >= 1);
	cf_wait_applied(&f->c);
	free(cf_assert_identical(&f->c));
	assert_int_equal(cf_query_int(&f->c, 1, "SELECT count(*) FROM t"), 1);
}

/* A write request's changes are bounded by max_write_bytes, whether the
 * statement is stopped while it runs (its recorded changes grow too large),
 * its changes are measured after, or a CREATE TABLE ... AS SELECT creates
 * a table whose rows are too large. */
static void test_write_size(void **state)
{
	struct fx *f = *state;
	struct gdb_limits limits = {.max_write_bytes = 100000};
	struct cf_req r[4];
	gdb_set_limits(f->c.gdb[0], &limits);
	exec(f, "CREATE TABLE t(x INTEGER PRIMARY KEY, b BLOB)");
	cf_req_init(&r[0], false,
		    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
		    "FROM c WHERE x < 100000) INSERT INTO t SELECT x, "
		    "randomblob(100) FROM c",
		    NULL);
	cf_req_init(&r[1], true, "INSERT INTO t VALUES (-1, randomblob(60000))",
		    "INSERT INTO t VALUES (-2, randomblob(60000))", NULL);
	cf_req_init(&r[2], false,
		    "INSERT INTO t VALUES (-3, randomblob(200000))", NULL);
	cf_req_init(
	    &r[3], false,
	    "CREATE TABLE big AS WITH RECURSIVE c(x) AS (SELECT 1 UNION "
	    "ALL SELECT x + 1 FROM c WHERE x < 2000) SELECT x, "
	    "randomblob(100) AS b FROM c",
	    NULL);
	for (int i = 0; i < 4; i++) {
		cf_submit_write(&f->c, 0, &r[i]);
	}
	wait_all(f, r, 4);
	assert_int_equal(res(&r[0], 0)->status, TM_TOOBIG);
	assert_non_null(strstr(res(&r[0], 0)->error, "core.max_write_size"));
	assert_int_equal(r[1].status, TM_TOOBIG);
	assert_non_null(strstr(r[1].req.errmsg, "core.max_write_size"));
	assert_int_equal(res(&r[2], 0)->status, TM_TOOBIG);
	assert_non_null(strstr(res(&r[2], 0)->error, "core.max_write_size"));
	assert_int_equal(res(&r[3], 0)->status, TM_TOOBIG);
	assert_non_null(strstr(res(&r[3], 0)->error,
			       "the new table's rows take more than "
			       "core.max_write_size (100000 bytes)"));
	for (int i = 0; i < 4; i++) {
		cf_req_clear(&r[i]);
	}
	cf_wait_applied(&f->c);
	free(cf_assert_identical(&f->c));
	assert_int_equal(cf_query_int(&f->c, 0, "SELECT count(*) FROM t"), 0);
	assert_int_equal(cf_query_int(&f->c, 0,
				      "SELECT count(*) FROM sqlite_schema "
				      "WHERE name = 'big'"),
			 0);
}

/* Group commit stops taking requests into an entry once its changes reach
 * max_write_bytes: the rest go out in the next entry. */
static void test_batch_bound(void **state)
{
	struct fx *f = *state;
	struct gdb_limits limits = {.max_write_bytes = 100000};
	struct cf_req r[3];
	struct gdb_stats before;
	gdb_set_limits(f->c.gdb[0], &limits);
	exec(f, "CREATE TABLE t(x INTEGER PRIMARY KEY, b BLOB)");
	gdb_get_stats(f->c.gdb[0], &before);
	cf_req_init(&r[0], false, "INSERT INTO t VALUES (1, randomblob(60000))",
		    NULL);
	cf_req_init(&r[1], false, "INSERT INTO t VALUES (2, randomblob(60000))",
		    NULL);
	cf_req_init(&r[2], false, "INSERT INTO t VALUES (3, randomblob(60000))",
		    NULL);
	for (int i = 0; i < 3; i++) {
		cf_submit_write(&f->c, 0, &r[i]);
	}
	wait_all(f, r, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(r[i].status, 0);
		assert_int_equal(res(&r[i], 0)->status, 0);
		cf_req_clear(&r[i]);
	}
	struct gdb_stats after;
	gdb_get_stats(f->c.gdb[0], &after);
	assert_int_equal(after.entries_proposed - before.entries_proposed, 2);
	assert_int_equal(after.max_requests_entry, 2);
	cf_wait_applied(&f->c);
	free(cf_assert_identical(&f->c));
}

/* Rows kept in results[] are bounded by max_result_bytes. */
static void test_result_size(void **state)
{
	struct fx *f = *state;
	struct gdb_limits limits = {.max_result_bytes = 100000};
	struct cf_req r;
	gdb_set_limits(f->c.gdb[1], &limits);
	cf_req_init(&r, false,
		    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
		    "FROM c WHERE x < 1000000) SELECT x FROM c",
		    "SELECT 1", NULL);
	cf_submit_read(&f->c, 1, &r, GDB_READ_NONE);
	wait_all(f, &r, 1);
	assert_int_equal(res(&r, 0)->status, TM_TOOBIG);
	assert_null(res(&r, 0)->rows);
	assert_non_null(strstr(res(&r, 0)->error, "core.max_response_size"));
	assert_int_equal(res(&r, 1)->status, 0);
	cf_req_clear(&r);
}

/* Rows a write returns (RETURNING) are bounded as a read's: the statement
 * fails and changes nothing. */
static void test_returning_size(void **state)
{
	struct fx *f = *state;
	struct gdb_limits limits = {.max_result_bytes = 100000};
	struct cf_req r;
	exec(f, "CREATE TABLE t(x INTEGER PRIMARY KEY)");
	gdb_set_limits(f->c.gdb[0], &limits);
	cf_req_init(&r, false,
		    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
		    "FROM c WHERE x < 100000) INSERT INTO t SELECT x FROM c "
		    "RETURNING x",
		    "INSERT INTO t VALUES (-1) RETURNING x", NULL);
	cf_submit_write(&f->c, 0, &r);
	wait_all(f, &r, 1);
	assert_int_equal(res(&r, 0)->status, TM_TOOBIG);
	assert_non_null(strstr(res(&r, 0)->error, "core.max_response_size"));
	assert_int_equal(res(&r, 1)->status, 0);
	assert_int_equal(res(&r, 1)->rows[0].i, -1);
	cf_req_clear(&r);
	cf_wait_applied(&f->c);
	assert_int_equal(cf_query_int(&f->c, 2, "SELECT count(*) FROM t"), 1);
}

static void check_cb(struct gdb_request *req, int status)
{
	struct cf_req *r = req->data;
	r->done = true;
	r->status = status;
}

/* A content check hashes on a worker of each member while writes go on;
 * every member finds the same content at the check's index. */
static void test_content_check(void **state)
{
	struct fx *f = *state;
	exec(f, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
	exec(f, "INSERT INTO t(v) WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL "
		"SELECT x + 1 FROM c WHERE x < 2000) SELECT 'row ' || x FROM c");
	struct cf_req check = {0};
	struct cf_req write;
	check.req.data = &check;
	gdb_check(f->c.gdb[0], &check.req, check_cb);
	cf_req_init(&write, false, "UPDATE t SET v = 'changed'", NULL);
	cf_submit_write(&f->c, 0, &write);
	wait_all(f, &check, 1);
	wait_all(f, &write, 1);
	assert_int_equal(check.status, 0);
	assert_int_equal(write.status, 0);
	cf_req_clear(&write);
	cf_wait_applied(&f->c);
	uint64_t index = check.req.index;
	struct gdb_check_result r[3];
	char errmsg[TM_ERRMSG_SIZE];
	uint64_t deadline = now_ms() + REAL_WAIT_S * 1000;
	for (unsigned i = 0; i < 3; i++) {
		int rv;
		while ((rv = gdb_check_result(f->c.gdb[i], index, &r[i],
					      errmsg)) == TM_BUSY) {
			assert_true(now_ms() < deadline);
			cf_step(&f->c);
			usleep(200);
		}
		assert_int_equal(rv, 0);
	}
	assert_memory_equal(r[0].content, r[1].content, 16);
	assert_memory_equal(r[0].content, r[2].content, 16);
	assert_memory_equal(r[0].chain, r[2].chain, 16);
}

/* With the apply thread (lane.c): committed entries run off the loop. */
static int setup_lane(void **state)
{
	char errmsg[TM_ERRMSG_SIZE];
	setup(state);
	struct fx *f = *state;
	for (unsigned i = 0; i < f->c.n; i++) {
		assert_int_equal(gdb_lane_start(f->c.gdb[i], errmsg), 0);
	}
	return 0;
}

static int teardown_lane(void **state)
{
	struct fx *f = *state;
	for (unsigned i = 0; i < f->c.n; i++) {
		gdb_lane_stop(f->c.gdb[i]);
	}
	return teardown(state);
}

/* Every member's database holds every entry in the leader's log. */
static void wait_databases(struct fx *f)
{
	uint64_t deadline = now_ms() + REAL_WAIT_S * 1000;
	for (;;) {
		cf_wait_applied(&f->c);
		struct raft *leader = raft_fixture_get(&f->c.raft, 0);
		unsigned caught_up = 0;
		for (unsigned i = 0; i < f->c.n; i++) {
			caught_up += gdb_applied_index(f->c.gdb[i]) >=
					     raft_last_index(leader)
					 ? 1
					 : 0;
		}
		if (caught_up == f->c.n) {
			return;
		}
		assert_true(now_ms() < deadline);
		cf_step(&f->c);
		usleep(200);
	}
}

/* Entries too large to apply on the loop go to the apply thread, while
 * raft takes snapshots every few entries (pinned by the thread at the
 * snapshot's index); a write is answered only once it is in the leader's
 * database, and every member ends with the same content. */
static void test_lane_large_entries(void **state)
{
	struct fx *f = *state;
	exec(f, "CREATE TABLE t(id INTEGER PRIMARY KEY, b BLOB)");
	wait_databases(f);
	for (unsigned i = 0; i < f->c.n; i++) {
		raft_set_snapshot_threshold(raft_fixture_get(&f->c.raft, i),
					    4);
		raft_set_snapshot_trailing(raft_fixture_get(&f->c.raft, i), 2);
	}
	struct gdb_stats before[3];
	for (unsigned i = 0; i < f->c.n; i++) {
		gdb_get_stats(f->c.gdb[i], &before[i]);
	}
	for (int n = 0; n < 24; n++) {
		struct cf_req r;
		cf_req_init(&r, false,
			    "INSERT INTO t(b) SELECT randomblob(100000)", NULL);
		cf_submit_write(&f->c, 0, &r);
		wait_all(f, &r, 1);
		assert_int_equal(r.status, 0);
		assert_int_equal(res(&r, 0)->status, 0);
		assert_true(gdb_applied_index(f->c.gdb[0]) >= r.req.index);
		assert_int_equal(cf_query_int(&f->c, 0,
					      "SELECT count(*) FROM t"),
				 n + 1);
		cf_req_clear(&r);
	}
	wait_databases(f);
	for (unsigned i = 0; i < f->c.n; i++) {
		struct gdb_stats after;
		gdb_get_stats(f->c.gdb[i], &after);
		assert_true(after.entries_applied_lane >=
			    before[i].entries_applied_lane + 24);
		assert_true(after.entries_applied >=
			    before[i].entries_applied + 24);
		assert_true(after.snapshots_taken > before[i].snapshots_taken);
	}
	free(cf_assert_identical(&f->c));
	assert_int_equal(cf_query_int(&f->c, 2, "SELECT count(*) FROM t"),
			 24);
}

/* Small entries, one at a time, stay on the loop: no thread switch in the
 * common case. */
static void test_lane_small_entries_inline(void **state)
{
	struct fx *f = *state;
	exec(f, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
	wait_databases(f);
	struct gdb_stats before;
	struct gdb_stats after;
	gdb_get_stats(f->c.gdb[1], &before);
	for (int n = 0; n < 10; n++) {
		exec(f, "INSERT INTO t(v) VALUES ('small')");
	}
	wait_databases(f);
	gdb_get_stats(f->c.gdb[1], &after);
	assert_int_equal(after.entries_applied_lane,
			 before.entries_applied_lane);
	assert_true(after.entries_applied_inline >=
		    before.entries_applied_inline + 10);
	free(cf_assert_identical(&f->c));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_lane_large_entries, setup_lane,
					    teardown_lane),
	    cmocka_unit_test_setup_teardown(test_lane_small_entries_inline,
					    setup_lane, teardown_lane),
	    cmocka_unit_test_setup_teardown(test_read_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reads_on_loop, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_streamed_reads_on_loop, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_content_check, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_default_timeout, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_close_interrupts, setup,
					    teardown_closed),
	    cmocka_unit_test_setup_teardown(test_write_timeout, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_write_size, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_batch_bound, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_result_size, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_returning_size, setup,
					    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

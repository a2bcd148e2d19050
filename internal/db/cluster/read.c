/* Reads: run on the exec connection in one read transaction, after a raft
 * barrier for linearizable ones.
 *
 * A linearizable read is answered only after a barrier entry proposed AFTER
 * the read arrived has been committed and applied: the commit proves this
 * member was still the leader then, and the apply means every write
 * acknowledged before the read arrived is in the database. Reads that arrive
 * while a barrier is in flight wait for the next one (joining the in-flight
 * barrier would not prove leadership at a time after their arrival). All the
 * linearizable reads waiting when a barrier starts share it, and so do the
 * read indexes asked for by followers (gdb_read_index: no statement, answered
 * with the index before the barrier once it is committed).
 *
 * A read runs on a read-only connection of its own (a reader) in WAL mode:
 * it sees the entries applied before it began, and neither blocks nor is
 * blocked by the apply connection. It is tried on the loop first, within a
 * budget per tick (try_read_on_loop), and otherwise runs on a worker thread
 * of the pool. Reads wait in g->reads while every reader is busy.
 *
 * Once a read barrier of the current term has committed, later rounds
 * confirm leadership without an entry when the daemon gave a way to
 * (gdb_set_confirm: a majority of voters asked for their term): every
 * request waiting shares the round, read indexes are answered with the
 * commit index at its start, and reads run once that index is applied.
 *
 * Failure modes: not the leader (TM_NOTLEADER, names the leader), the barrier
 * fails because leadership was lost (TM_NOTLEADER), a statement is not
 * read-only, fails, runs past its timeout, is canceled or makes a result
 * larger than max_result_bytes (its own result only). */
#include "internal/db/cluster/gdb_private.h"
#include "internal/lib/mem.h"

/* How long reads may hold the loop in one tick before the rest go to
 * workers: far below raft's heartbeat interval. */
#define GDB_READ_LOOP_BUDGET_US 1000

static void run_statement(struct gdb_conn *c, struct gdb_request *req, size_t i,
			  uint64_t *row_bytes, uint64_t row_budget)
{
	const struct gdb_stmt *stmt = &req->stmts[i];
	struct gdb_result *res = &req->results[i];
	struct gdb_auth auth;
	sqlite3_stmt *st = NULL;

	gdb_auth_begin(c, &auth, GDB_EXEC_READ);
	if (gdb_exec_prepare(c, stmt, &auth, &st, res) != 0) {
		goto out;
	}
	if (!sqlite3_stmt_readonly(st)) {
		gdb_result_fail(res, TM_INVALID,
				"the statement writes to the database: send "
				"it as a write request");
		goto out;
	}
	if (gdb_stmt_bind(st, stmt, res) != 0) {
		goto out;
	}
	uint64_t before = *row_bytes;
	if (gdb_exec_step_rows(c, st, &auth, res, req->sink, i, row_bytes,
			       row_budget) != 0) {
		*row_bytes = before; /* its rows were dropped */
	}
out:
	gdb_exec_release(c, st);
	gdb_auth_end(c, &auth);
	if (req->sink != NULL && req->sink->end != NULL) {
		req->sink->end(req->sink, i, res);
	}
}

/* On a worker thread: the whole request in one read transaction. */
static void read_work(struct pool_work *w)
{
	struct gdb_conn *c = w->data;
	struct gdb_request *req = c->job;
	uint64_t row_bytes = 0;

	req->results = tm_calloc(req->n_stmts, sizeof *req->results);
	req->status = 0;
	req->errmsg[0] = '\0';
	int rc = gdb_sql_run(c->sql, GDB_SQL_BEGIN_READ);
	if (rc != SQLITE_OK) {
		req->status = TM_DB;
		tm_errmsg_printf(req->errmsg, "BEGIN: %s",
				 sqlite3_errmsg(c->db));
		return;
	}
	for (size_t i = 0; i < req->n_stmts; i++) {
		gdb_conn_bound(c, req, c->default_timeout_ms);
		run_statement(c, req, i, &row_bytes, c->row_budget);
	}
	gdb_conn_unbound(c);
	if (!sqlite3_get_autocommit(c->db)) {
		gdb_conn_run_quiet(c, GDB_SQL_ROLLBACK);
	}
}

/* Back on the loop: answer, and the reader is free again. */
static void read_done(struct pool_work *w)
{
	struct gdb_conn *c = w->data;
	struct gdb *g = c->g;
	struct gdb_request *req = c->job;

	c->job = NULL;
	c->next = g->free_readers;
	g->free_readers = c;
	g->readers_busy--;
	gdb_conn_collect_stats(g, c);
	if (req->status != 0) {
		gdb_request_clear(req);
	}
	gdb_done(g, req);
	gdb_schedule(g);
	/* gdb_close() may be waiting for this reader. */
	gdb_maybe_closed(g);
}

/* Ready reader C to run REQ. */
static void prepare_read(struct gdb *g, struct gdb_conn *c,
			 struct gdb_request *req)
{
	gdb_conn_sync_schema(g, c);
	c->job = req;
	c->default_timeout_ms = g->limits.timeout_ms;
	c->row_budget = req->sink == NULL ? g->limits.max_result_bytes : 0;
	/* No value larger than a whole response: SQLite refuses to make one
	 * (SQLITE_TOOBIG, reported with c->length_key) instead of building
	 * it in memory first. Set here, with the reader idle. */
	sqlite3_limit(c->db, SQLITE_LIMIT_LENGTH,
		      g->limits.max_result_bytes == 0 ||
			      g->limits.max_result_bytes > INT32_MAX
			  ? INT32_MAX
			  : (int)g->limits.max_result_bytes);
	atomic_store(&c->stop, GDB_STOP_NONE);
	c->work.data = c;
	g->readers_busy++;
}

/* A read is first run right here on the loop, until the loop has spent
 * GDB_READ_LOOP_BUDGET_US on reads since the tick began (*SPENT_NS):
 * most reads take tens of microseconds, and the two thread switches of a
 * worker cost more than that. One that passes the budget is interrupted
 * (a read changes nothing), its results are dropped and it runs again
 * from the start on a worker, as do the tick's later reads. A streamed
 * read is tried too while its rows fit in the sink's first chunk: one
 * whose rows would have to leave (the sink answers TM_BUSY) is dropped the
 * same way, its sink reset. True if REQ was answered here. */
/* Did the sink refuse to let rows leave on the loop (TM_BUSY)? */
static bool sink_held(const struct gdb_request *req)
{
	if (req->results == NULL) {
		return false;
	}
	for (size_t i = 0; i < req->n_stmts; i++) {
		if (req->results[i].status == TM_BUSY) {
			return true;
		}
	}
	return false;
}

static bool try_read_on_loop(struct gdb *g, struct gdb_conn *c,
			     struct gdb_request *req, uint64_t *spent_ns)
{
	uint64_t budget_ns = GDB_READ_LOOP_BUDGET_US * 1000u;
	if (g->pool == NULL || *spent_ns >= budget_ns ||
	    (req->sink != NULL && req->sink->reset == NULL)) {
		return false;
	}
	uint64_t start = gdb_now_ns();
	c->budget_ns = start + (budget_ns - *spent_ns);
	c->budget_hit = false;
	if (req->sink != NULL) {
		req->sink->on_loop = true;
	}
	read_work(&c->work);
	c->budget_ns = 0;
	if (req->sink != NULL) {
		req->sink->on_loop = false;
		if (!c->budget_hit && sink_held(req)) {
			c->budget_hit = true;
		}
		if (c->budget_hit) {
			req->sink->reset(req->sink);
		}
	}
	*spent_ns += gdb_now_ns() - start;
	if (!c->budget_hit) {
		g->stats.reads_on_loop++;
		read_done(&c->work);
		return true;
	}
	*spent_ns = budget_ns;
	gdb_request_clear(req);
	req->status = 0;
	req->errmsg[0] = '\0';
	g->stats.reads_offloaded++;
	return false;
}

/* REQ, confirmed, runs once the database holds INDEX (the apply thread
 * may still be applying entries raft counts as applied). */
static void read_after(struct gdb *g, struct gdb_request *req, uint64_t index)
{
	if (gdb_queue_empty(&g->reads_after) &&
	    gdb_applied_index(g) >= index) {
		gdb_queue_push(&g->reads, req);
		return;
	}
	if (index > g->reads_after_index) {
		g->reads_after_index = index;
	}
	gdb_queue_push(&g->reads_after, req);
}

static void read_barrier_cb(struct raft_barrier *barrier, int status)
{
	struct gdb *g = barrier->data;
	struct gdb_request *req;
	g->read_barrier_inflight = false;
	if (status == 0) {
		g->confirmed_term = g->barrier_term;
	}
	while ((req = gdb_queue_pop(&g->lin_barrier)) != NULL) {
		if (status == 0 && req->n_stmts == 0) {
			/* gdb_read_index: the barrier proved leadership; every
			 * entry before it is committed with it. */
			req->index =
			    barrier->index > 1 ? barrier->index - 1 : 1;
			gdb_done(g, req);
		} else if (status == 0) {
			/* raft counts the barrier applied after this. */
			read_after(g, req, barrier->index - 1);
		} else {
			gdb_finish(g, req, TM_NOTLEADER,
				   "leadership lost before the read could be "
				   "confirmed (%s); retry on the leader",
				   raft_strerror(status));
		}
	}
	gdb_schedule(g);
}

/* The confirmation round (gdb_set_confirm) is over: STATUS 0 if a
 * majority answered with confirm_term. */
static void confirm_done(void *arg, int status)
{
	struct gdb *g = arg;
	struct gdb_request *req;
	bool leads = g->raft != NULL && raft_state(g->raft) == RAFT_LEADER &&
		     g->raft->current_term == g->confirm_term;
	g->read_barrier_inflight = false;
	while ((req = gdb_queue_pop(&g->lin_barrier)) != NULL) {
		if (!leads) {
			gdb_fail_not_leader(g, req, "linearizable reads");
		} else if (status != 0) {
			/* Not confirmed, not deposed either: a barrier will
			 * tell. */
			gdb_queue_push(&g->lin_waiting, req);
			g->force_barrier = true;
		} else if (req->n_stmts == 0) {
			req->index = g->confirm_index; /* gdb_read_index */
			gdb_done(g, req);
		} else {
			read_after(g, req, g->confirm_index);
		}
	}
	gdb_schedule(g);
}

/* Confirm leadership without an entry if this term allows it; false if
 * a barrier must be used. */
static bool start_confirm(struct gdb *g)
{
	struct raft *r = g->raft;
	if (g->confirm == NULL || g->force_barrier ||
	    g->confirmed_term != r->current_term) {
		return false;
	}
	uint64_t term = r->current_term;
	uint64_t index = r->commit_index;
	int rv = g->confirm(g->confirm_arg, confirm_done, g);
	if (rv < 0) {
		return false;
	}
	g->stats.confirms++;
	g->confirm_term = term;
	g->confirm_index = index;
	g->read_barrier_inflight = true;
	gdb_queue_append(&g->lin_barrier, &g->lin_waiting);
	if (rv == 1) {
		confirm_done(g, 0);
	}
	return true;
}

static void start_read_barrier(struct gdb *g)
{
	struct gdb_request *req;
	if (g->raft == NULL || raft_state(g->raft) != RAFT_LEADER) {
		while ((req = gdb_queue_pop(&g->lin_waiting)) != NULL) {
			gdb_fail_not_leader(g, req, "linearizable reads");
		}
		return;
	}
	if (start_confirm(g)) {
		return;
	}
	g->force_barrier = false;
	g->read_barrier.data = g;
	g->barrier_term = g->raft->current_term;
	int rv = raft_barrier(g->raft, &g->read_barrier, read_barrier_cb);
	if (rv != 0) {
		while ((req = gdb_queue_pop(&g->lin_waiting)) != NULL) {
			gdb_finish(g, req, TM_NOTLEADER,
				   "raft_barrier: %s; retry on the leader",
				   raft_strerror(rv));
		}
		return;
	}
	g->read_barrier_inflight = true;
	g->stats.barriers++;
	gdb_queue_append(&g->lin_barrier, &g->lin_waiting);
}

int gdb_read_index_now(struct gdb *g, unsigned need, unsigned confirmed,
		       uint64_t *index)
{
	struct raft *r = g->raft;
	if (r == NULL || raft_state(r) != RAFT_LEADER || g->closing ||
	    g->confirmed_term != r->current_term || confirmed < need) {
		return TM_BUSY;
	}
	*index = r->commit_index;
	return 0;
}

bool gdb_read_only(struct gdb *g, const struct gdb_stmt *stmts, size_t n)
{
	bool read_only = true;
	gdb_conn_sync_schema(g, &g->route);
	for (size_t i = 0; i < n && read_only; i++) {
		read_only = gdb_exec_read_only(&g->route, &stmts[i]);
	}
	gdb_conn_collect_stats(g, &g->route);
	return read_only;
}

void gdb_tick_reads(struct gdb *g)
{
	struct gdb_request *req;
	if (!gdb_queue_empty(&g->lin_waiting) && !g->read_barrier_inflight) {
		start_read_barrier(g);
	}
	if (!gdb_queue_empty(&g->reads_after) &&
	    gdb_applied_index(g) >= g->reads_after_index) {
		gdb_queue_append(&g->reads, &g->reads_after);
	}
	uint64_t spent_ns = 0;
	while (g->free_readers != NULL &&
	       (req = gdb_queue_pop(&g->reads)) != NULL) {
		struct gdb_conn *c = g->free_readers;
		g->free_readers = c->next;
		c->next = NULL;
		prepare_read(g, c, req);
		if (!try_read_on_loop(g, c, req, &spent_ns)) {
			gdb_submit(g, &c->work, read_work, read_done);
		}
	}
}

void gdb_fail_reads(struct gdb *g, int status, const char *message)
{
	struct gdb_queue *queues[] = {&g->reads, &g->lin_waiting,
				      &g->lin_barrier, &g->reads_after};
	for (size_t q = 0; q < sizeof queues / sizeof queues[0]; q++) {
		struct gdb_request *req;
		while ((req = gdb_queue_pop(queues[q])) != NULL) {
			gdb_finish(g, req, status, "%s", message);
		}
	}
}

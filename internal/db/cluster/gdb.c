/* Request queues and the write pipeline of the global database (setup and
 * close: lifecycle.c).
 *
 * Write pipeline (leader):
 *   gdb_write() queues the request and schedules gdb_tick() on the next loop
 *   turn. gdb_tick(), when no entry and no catch-up barrier is in flight:
 *   1. not the leader: fail every queued write with TM_NOTLEADER;
 *   2. the local log holds entries not yet applied (a new leader inherits
 *      entries of earlier terms; the membership code may have appended
 *      configuration entries): wait for them with a barrier, since the batch
 *      must be computed against the state its entry will be applied to;
 *   3. otherwise take the queued writes up to the first restore as one batch
 *      (write.c), propose its entry with raft_apply(), and answer the
 *      requests when raft reports it applied (apply_cb). Writes arriving
 *      meanwhile form the next batch.
 *   A batch that changed nothing is answered at once without an entry.
 *   A restore at the head of the queue goes out alone: its image is checked
 *   and encoded as a RESTORE entry (restore.c), proposed, and answered in
 *   apply_cb like a batch; the writes behind it form the next batch.
 *
 * Callbacks are always fired from gdb_tick() (or the close path), never
 * from inside gdb_write()/gdb_read() or from inside a raft callback. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal/db/cluster/gdb_private.h"
#include "internal/lib/assert.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"

/* How long a write batch may hold the loop before it moves to a worker: far
 * below raft's heartbeat interval (100 ms). */
#define GDB_LOOP_BUDGET_US 2000

/* Queues. */

void gdb_queue_push(struct gdb_queue *q, struct gdb_request *req)
{
	req->next = NULL;
	if (q->tail == NULL) {
		q->head = req;
	} else {
		q->tail->next = req;
	}
	q->tail = req;
}

struct gdb_request *gdb_queue_pop(struct gdb_queue *q)
{
	struct gdb_request *req = q->head;
	if (req != NULL) {
		q->head = req->next;
		if (q->head == NULL) {
			q->tail = NULL;
		}
		req->next = NULL;
	}
	return req;
}

void gdb_queue_append(struct gdb_queue *dst, struct gdb_queue *src)
{
	struct gdb_request *req;
	while ((req = gdb_queue_pop(src)) != NULL) {
		gdb_queue_push(dst, req);
	}
}

bool gdb_queue_empty(const struct gdb_queue *q) { return q->head == NULL; }

size_t gdb_queue_len(const struct gdb_queue *q)
{
	size_t n = 0;
	for (const struct gdb_request *r = q->head; r != NULL; r = r->next) {
		n++;
	}
	return n;
}

/* Answering requests. */

void gdb_done(struct gdb *g, struct gdb_request *req)
{
	if (req->index == 0 && g->raft != NULL) {
		req->index = gdb_applied_index(g);
	}
	gdb_queue_push(&g->done, req);
}

void gdb_finish(struct gdb *g, struct gdb_request *req, int status,
		const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	vsnprintf(req->errmsg, sizeof req->errmsg, fmt, args);
	va_end(args);
	req->status = status;
	gdb_done(g, req);
}

void gdb_fail_not_leader(struct gdb *g, struct gdb_request *req,
			 const char *what)
{
	raft_id id = 0;
	const char *address = NULL;
	if (g->raft != NULL) {
		raft_leader(g->raft, &id, &address);
	}
	if (id != 0 && address != NULL) {
		gdb_finish(g, req, TM_NOTLEADER,
			   "not the leader; %s are served by the leader "
			   "(leader is %s)",
			   what, address);
	} else {
		gdb_finish(g, req, TM_NOTLEADER,
			   "not the leader; %s are served by the leader (no "
			   "leader is known right now)",
			   what);
	}
}

void gdb_fail_queue(struct gdb *g, struct gdb_queue *q, int status,
		    const char *message)
{
	struct gdb_request *req;
	while ((req = gdb_queue_pop(q)) != NULL) {
		gdb_request_clear(req);
		gdb_finish(g, req, status, "%s", message);
	}
}

void gdb_deliver(struct gdb *g)
{
	struct gdb_request *req;
	while ((req = gdb_queue_pop(&g->done)) != NULL) {
		req->cb(req, req->status);
	}
}

/* Write pipeline. */

static bool is_leader(const struct gdb *g)
{
	return g->raft != NULL && raft_state(g->raft) == RAFT_LEADER;
}

/* Answer REQ, whose entry raft failed with STATUS. */
static void fail_proposed(struct gdb *g, struct gdb_request *req, int status)
{
	const char *what = req->restore ? "restore"
			   : req->check ? "content check"
					: "write";
	gdb_request_clear(req);
	if (status == RAFT_NOSPACE) {
		/* raft 0.15 fails the entry when its own log write or the
		 * creation of its next segment meets ENOSPC, truncates the
		 * entry from its log and stays leader. A follower may have
		 * stored it already, so in a cluster it may still commit. */
		gdb_finish(g, req, TM_NOSPACE,
			   "disk full: the %s could not be stored in the raft "
			   "log (not applied on this member; in a cluster it "
			   "may or may not have been); free disk space in %s, "
			   "check, then retry: %s",
			   what, g->dir, raft_errmsg(g->raft));
		return;
	}
	gdb_finish(g, req, TM_CANCELED,
		   "%s before the %s was committed; it may or may not have "
		   "been applied",
		   status == RAFT_SHUTDOWN ? "raft shut down"
					   : "leadership lost",
		   what);
}

/* The entry of the batch in flight is in the database: answer it. */
static void answer_inflight(struct gdb *g)
{
	struct gdb_request *req;
	g->apply_inflight = false;
	while ((req = gdb_queue_pop(&g->inflight)) != NULL) {
		req->index = g->inflight_index;
		gdb_done(g, req);
	}
	g->inflight_index = 0;
	gdb_schedule(g);
}

static void apply_cb(struct raft_apply *apply, int status, void *result)
{
	struct gdb *g = apply->data;
	struct gdb_request *req;
	(void)result;
	if (status == 0) {
		/* raft applied it; the database may still be applying it on
		 * the apply thread (lane.c): the batch stays in flight, and
		 * the next one waits, until it is there. */
		g->inflight_index = apply->index;
		if (gdb_applied_index(g) >= apply->index) {
			answer_inflight(g);
		}
		return;
	}
	g->apply_inflight = false;
	if (status == RAFT_NOSPACE) {
		LOGE("gdb: disk full: raft could not write entry %llu to its "
		     "log: %s",
		     (unsigned long long)apply->index, raft_errmsg(g->raft));
	}
	while ((req = gdb_queue_pop(&g->inflight)) != NULL) {
		fail_proposed(g, req, status);
	}
	gdb_schedule(g);
}

void gdb_applied_advanced(struct gdb *g)
{
	uint64_t applied = gdb_applied_index(g);
	if (g->inflight_index != 0 && applied >= g->inflight_index) {
		answer_inflight(g);
	}
	if (!gdb_queue_empty(&g->reads_after) &&
	    applied >= g->reads_after_index) {
		gdb_queue_append(&g->reads, &g->reads_after);
	}
	gdb_schedule(g);
}

static void catchup_cb(struct raft_barrier *barrier, int status)
{
	struct gdb *g = barrier->data;
	g->catchup_inflight = false;
	if (status != 0) {
		gdb_fail_queue(g, &g->writes, TM_NOTLEADER,
			       "leadership lost before the write was proposed; "
			       "nothing was applied, retry on the leader");
	}
	gdb_schedule(g);
}

static void start_catchup(struct gdb *g)
{
	g->catchup.data = g;
	int rv = raft_barrier(g->raft, &g->catchup, catchup_cb);
	if (rv != 0) {
		char message[TM_ERRMSG_SIZE];
		snprintf(message, sizeof message, "raft_barrier: %s",
			 raft_strerror(rv));
		gdb_fail_queue(g, &g->writes,
			       rv == RAFT_NOTLEADER ? TM_NOTLEADER : TM_DB,
			       message);
		return;
	}
	g->catchup_inflight = true;
	g->stats.barriers++;
}

static void propose(struct gdb *g, struct gdb_queue *batch, size_t n,
		    struct raft_buffer *buf)
{
	g->apply_req.data = g;
	int rv = raft_apply(g->raft, &g->apply_req, buf, 1, apply_cb);
	if (rv != 0) {
		char message[TM_ERRMSG_SIZE];
		raft_free(buf->base);
		snprintf(message, sizeof message,
			 "raft_apply: %s; nothing was applied",
			 raft_strerror(rv));
		gdb_fail_queue(g, batch,
			       rv == RAFT_NOTLEADER ? TM_NOTLEADER
			       : rv == RAFT_TOOBIG  ? TM_TOOBIG
						    : TM_DB,
			       message);
		return;
	}
	g->inflight = *batch;
	g->apply_inflight = true;
	g->stats.entries_proposed++;
	g->stats.requests_proposed += n;
	if (n > g->stats.max_requests_entry) {
		g->stats.max_requests_entry = n;
	}
	LOGT("gdb: proposed entry %llu with %zu requests (%zu bytes)",
	     (unsigned long long)g->apply_req.index, n, buf->len);
}

/* The writes at the head of the queue, up to the first restore or check. */
static struct gdb_queue take_batch(struct gdb *g)
{
	struct gdb_queue batch = {NULL, NULL};
	while (g->writes.head != NULL && !g->writes.head->restore &&
	       !g->writes.head->check) {
		gdb_queue_push(&batch, gdb_queue_pop(&g->writes));
	}
	return batch;
}

void gdb_submit(struct gdb *g, struct pool_work *w, pool_work_fn work,
		pool_done_fn done)
{
	if (g->pool == NULL) {
		work(w);
		done(w);
	} else {
		pool_submit(g->pool, w, work, done);
	}
}

/* Ready the exec connection for the batch or restore in g->running. */
static void prepare_exec(struct gdb *g)
{
	g->batch_running = true;
	g->batch_void = false;
	g->exec.work.data = g;
	gdb_conn_sync_schema(g, &g->exec);
	g->exec.default_timeout_ms = g->limits.timeout_ms;
	g->exec.max_write_bytes = g->limits.max_write_bytes;
	g->exec.row_budget = g->limits.max_result_bytes;
	if (g->limits.max_write_bytes != 0) {
		sqlite3_limit(g->exec.db, SQLITE_LIMIT_LENGTH,
			      (int)(g->limits.max_write_bytes < INT32_MAX
					? g->limits.max_write_bytes
					: INT32_MAX));
	}
	atomic_store(&g->exec.stop, GDB_STOP_NONE);
}

/* Hand the exec connection to WORK (then DONE) for the batch or restore
 * in g->running. */
static void submit_exec(struct gdb *g, pool_work_fn work, pool_done_fn done)
{
	prepare_exec(g);
	if (g->pool != NULL) {
		pthread_mutex_lock(&g->exec_mutex);
		g->exec_busy = true;
		pthread_mutex_unlock(&g->exec_mutex);
	}
	gdb_submit(g, &g->exec.work, work, done);
}

/* On the worker, last thing: the exec connection is idle again. */
static void release_exec(struct gdb *g)
{
	pthread_mutex_lock(&g->exec_mutex);
	g->exec_busy = false;
	pthread_cond_signal(&g->exec_cond);
	pthread_mutex_unlock(&g->exec_mutex);
}

static void batch_work(struct pool_work *w)
{
	struct gdb *g = w->data;
	size_t n = gdb_queue_len(&g->running);
	struct gdb_request **reqs = tm_malloc(n * sizeof *reqs);
	size_t i = 0;
	for (struct gdb_request *r = g->running.head; r != NULL; r = r->next) {
		reqs[i++] = r;
	}
	g->batch_buf = (struct raft_buffer){NULL, 0};
	g->batch_changed = false;
	g->batch_rv = gdb_write_batch(
	    &g->exec, reqs, n, g->exec.default_timeout_ms, &g->batch_buf,
	    &g->batch_changed, &g->batch_ran, g->batch_errmsg);
	tm_free(reqs);
	release_exec(g);
}

/* The batch came back after gdb_exec_quiesce() or gdb_close() took the
 * exec connection from it: what it computed may not match the database
 * any more. Nothing was proposed. */
static void fail_void_batch(struct gdb *g, struct gdb_queue *batch)
{
	if (g->batch_changed) {
		raft_free(g->batch_buf.base);
	}
	if (g->closing || g->draining) {
		gdb_fail_queue(g, batch, TM_SHUTDOWN,
			       "shutting down; the write was not proposed, "
			       "nothing was applied");
	} else {
		gdb_fail_queue(
		    g, batch, TM_NOTLEADER,
		    "leadership changed while the write ran; nothing "
		    "was applied, retry on the leader");
	}
}

/* Put the requests of BATCH after the first N back at the head of the
 * write queue: SQLite rolled the batch back before they ran. */
static void requeue_rest(struct gdb *g, struct gdb_queue *batch, size_t n)
{
	struct gdb_queue rest = {NULL, NULL};
	struct gdb_request *r = batch->head;
	for (size_t i = 1; i < n; i++) {
		r = r->next;
	}
	if (r == NULL || r->next == NULL) {
		return;
	}
	rest.head = r->next;
	rest.tail = batch->tail;
	r->next = NULL;
	batch->tail = r;
	gdb_queue_append(&rest, &g->writes);
	g->writes = rest;
}

static void batch_done(struct pool_work *w)
{
	struct gdb *g = w->data;
	struct gdb_queue batch = g->running;

	g->running = (struct gdb_queue){NULL, NULL};
	g->batch_running = false;
	if (g->batch_rv == 0 && g->batch_ran > 0 && !batch.head->restore) {
		requeue_rest(g, &batch, g->batch_ran);
	}
	size_t n = gdb_queue_len(&batch);
	gdb_conn_collect_stats(g, &g->exec);
	if (g->batch_void || g->closing || g->draining) {
		fail_void_batch(g, &batch);
	} else if (g->batch_rv != 0) {
		gdb_fail_queue(g, &batch, g->batch_rv, g->batch_errmsg);
	} else if (!g->batch_changed) {
		g->stats.batches_unchanged++;
		gdb_queue_append(&g->done, &batch);
	} else if (gdb_space_check(g, g->batch_buf.len, g->batch_errmsg) != 0) {
		raft_free(g->batch_buf.base);
		gdb_fail_queue(g, &batch, TM_NOSPACE, g->batch_errmsg);
	} else {
		propose(g, &batch, n, &g->batch_buf);
	}
	gdb_schedule(g);
	gdb_maybe_closed(g);
}

/* A batch is first run right here on the loop, within GDB_LOOP_BUDGET_US:
 * most batches are done well within it, and save the two thread switches
 * of a worker. One that passes it is interrupted (SQLite rolls its
 * transaction back: nothing of it stays), its results are dropped, and it
 * runs again from the start on a worker. True if it was done here. */
static bool try_on_loop(struct gdb *g)
{
	prepare_exec(g);
	g->exec.budget_ns = gdb_now_ns() + GDB_LOOP_BUDGET_US * 1000u;
	g->exec.budget_hit = false;
	batch_work(&g->exec.work);
	g->exec.budget_ns = 0;
	if (!g->exec.budget_hit) {
		batch_done(&g->exec.work);
		return true;
	}
	if (g->batch_changed) {
		raft_free(g->batch_buf.base);
	}
	for (struct gdb_request *r = g->running.head; r != NULL; r = r->next) {
		gdb_request_clear(r);
		r->status = 0;
		r->errmsg[0] = '\0';
	}
	g->batch_running = false;
	g->stats.batches_offloaded++;
	return false;
}

static void start_batch(struct gdb *g)
{
	g->running = take_batch(g);
	PRE(!gdb_queue_empty(&g->running));
	if (g->pool != NULL && try_on_loop(g)) {
		return;
	}
	submit_exec(g, batch_work, batch_done);
}

static void restore_work(struct pool_work *w)
{
	struct gdb *g = w->data;
	struct gdb_request *req = g->running.head;
	g->batch_buf = (struct raft_buffer){NULL, 0};
	g->batch_ran = 1;
	g->batch_rv = gdb_restore_prepare(req->image, req->image_len,
					  &g->batch_buf, g->batch_errmsg);
	g->batch_changed = g->batch_rv == 0;
	release_exec(g);
}

/* The restore at the head of the queue, alone in its entry. Its image is
 * checked on the exec connection's worker, so that nothing else runs
 * there meanwhile. */
static void start_restore(struct gdb *g)
{
	struct gdb_request *req = gdb_queue_pop(&g->writes);
	PRE(req->restore);
	gdb_queue_push(&g->running, req);
	submit_exec(g, restore_work, batch_done);
}

/* The check at the head of the queue: a CHECK entry, alone. */
static void start_check(struct gdb *g)
{
	struct gdb_queue batch = {NULL, NULL};
	struct gdb_entry e = {.type = GDB_ENTRY_CHECK};
	struct raft_buffer buf;
	gdb_queue_push(&batch, gdb_queue_pop(&g->writes));
	buf.len = gdb_entry_size(&e);
	buf.base = raft_malloc(buf.len);
	INVARIANT(buf.base != NULL);
	gdb_entry_encode(&e, buf.base);
	propose(g, &batch, 1, &buf);
}

/* Each turn either proposes an entry or answers the requests it took, so
 * the loop ends. */
static void tick_writes(struct gdb *g)
{
	if (g->draining) {
		gdb_fail_queue(g, &g->writes, TM_SHUTDOWN,
			       "shutting down; the write was not proposed, "
			       "nothing was applied");
		return;
	}
	while (!gdb_queue_empty(&g->writes) && !g->apply_inflight &&
	       !g->catchup_inflight && !g->batch_running) {
		if (!is_leader(g)) {
			struct gdb_request *req;
			while ((req = gdb_queue_pop(&g->writes)) != NULL) {
				gdb_fail_not_leader(g, req,
						    req->restore ? "restores"
						    : req->check ? "checks"
								 : "writes");
			}
			return;
		}
		if (raft_last_applied(g->raft) < raft_last_index(g->raft)) {
			if (!g->read_barrier_inflight) {
				start_catchup(g);
			}
			return; /* a barrier callback schedules the next tick */
		}
		if (gdb_applied_index(g) < raft_last_applied(g->raft)) {
			return; /* the apply thread's progress schedules it */
		}
		char errmsg[TM_ERRMSG_SIZE];
		if (gdb_space_check(g, 0, errmsg) != 0) {
			gdb_fail_queue(g, &g->writes, TM_NOSPACE, errmsg);
			return;
		}
		if (g->writes.head->restore) {
			start_restore(g);
		} else if (g->writes.head->check) {
			start_check(g);
		} else {
			start_batch(g);
		}
	}
}

static void idle_cb(uv_idle_t *idle)
{
	struct gdb *g = idle->data;
	uv_idle_stop(idle);
	if (!g->closing) {
		tick_writes(g);
		gdb_tick_reads(g);
	}
	gdb_deliver(g);
}

void gdb_schedule(struct gdb *g)
{
	if (!g->closing) {
		uv_idle_start(&g->idle, idle_cb);
	}
}

/* Requests. */

/* Reset REQ's outputs; false (REQ answered) while closing. */
static bool accept_common(struct gdb *g, struct gdb_request *req,
			  gdb_request_cb cb)
{
	req->cb = cb;
	req->next = NULL;
	req->results = NULL;
	req->index = 0;
	req->status = 0;
	req->errmsg[0] = '\0';
	req->restore = false;
	req->check = false;
	req->image = NULL;
	req->image_len = 0;
	atomic_store(&req->canceled, false);
	if (g->closing) {
		gdb_finish(g, req, TM_SHUTDOWN, "shutting down");
		return false;
	}
	return true;
}

/* While draining nothing new is proposed; false (REQ answered) then. */
static bool accept_proposal(struct gdb *g, struct gdb_request *req)
{
	if (!g->draining) {
		return true;
	}
	gdb_finish(g, req, TM_SHUTDOWN, "shutting down; nothing was applied");
	gdb_schedule(g);
	return false;
}

static bool accept_request(struct gdb *g, struct gdb_request *req,
			   gdb_request_cb cb)
{
	if (!accept_common(g, req, cb)) {
		return false;
	}
	if (req->n_stmts == 0 || req->stmts == NULL) {
		gdb_finish(g, req, TM_INVALID,
			   "a request needs at least one statement");
		gdb_schedule(g);
		return false;
	}
	return true;
}

void gdb_write(struct gdb *g, struct gdb_request *req, gdb_request_cb cb)
{
	if (accept_request(g, req, cb) && accept_proposal(g, req)) {
		gdb_queue_push(&g->writes, req);
		gdb_schedule(g);
	}
}

void gdb_restore(struct gdb *g, struct gdb_request *req, const void *image,
		 size_t len, gdb_request_cb cb)
{
	PRE(image != NULL || len == 0);
	if (accept_common(g, req, cb) && accept_proposal(g, req)) {
		req->restore = true;
		req->image = image;
		req->image_len = len;
		gdb_queue_push(&g->writes, req);
		gdb_schedule(g);
	}
}

void gdb_check(struct gdb *g, struct gdb_request *req, gdb_request_cb cb)
{
	if (accept_common(g, req, cb) && accept_proposal(g, req)) {
		req->check = true;
		gdb_queue_push(&g->writes, req);
		gdb_schedule(g);
	}
}

void gdb_read(struct gdb *g, struct gdb_request *req, gdb_request_cb cb)
{
	if (accept_request(g, req, cb)) {
		gdb_queue_push(req->level == GDB_READ_LINEARIZABLE
				   ? &g->lin_waiting
				   : &g->reads,
			       req);
		gdb_schedule(g);
	}
}

void gdb_set_confirm(struct gdb *g, gdb_confirm_fn fn, void *arg)
{
	g->confirm = fn;
	g->confirm_arg = arg;
}

void gdb_read_index(struct gdb *g, struct gdb_request *req, gdb_request_cb cb)
{
	if (accept_common(g, req, cb)) {
		req->stmts = NULL; /* marks an index-only request (read.c) */
		req->n_stmts = 0;
		req->level = GDB_READ_LINEARIZABLE;
		gdb_queue_push(&g->lin_waiting, req);
		gdb_schedule(g);
	}
}

void gdb_drain(struct gdb *g)
{
	if (g->draining || g->closing) {
		return;
	}
	g->draining = true;
	LOGD("gdb: draining: %zu write(s) queued are refused, %zu proposed "
	     "go on",
	     gdb_queue_len(&g->writes), gdb_queue_len(&g->inflight));
	gdb_schedule(g);
}

/* Remove REQ from Q; false if it is not there. */
static bool queue_remove(struct gdb_queue *q, struct gdb_request *req)
{
	struct gdb_queue kept = {NULL, NULL};
	struct gdb_request *r;
	bool found = false;
	while ((r = gdb_queue_pop(q)) != NULL) {
		if (r == req) {
			found = true;
		} else {
			gdb_queue_push(&kept, r);
		}
	}
	*q = kept;
	return found;
}

void gdb_cancel(struct gdb *g, struct gdb_request *req)
{
	struct gdb_queue *waiting[] = {&g->writes, &g->reads, &g->lin_waiting,
				       &g->lin_barrier, &g->reads_after};
	for (size_t i = 0; i < sizeof waiting / sizeof waiting[0]; i++) {
		if (queue_remove(waiting[i], req)) {
			gdb_finish(g, req, TM_CANCELED,
				   "canceled: the client went away before the "
				   "request ran; nothing was applied");
			gdb_schedule(g);
			return;
		}
	}
	/* Running on a worker (or proposed: then the flag is never read). */
	atomic_store(&req->canceled, true);
}

void gdb_exec_quiesce(struct gdb *g)
{
	if (!g->batch_running || g->pool == NULL) {
		return;
	}
	atomic_store(&g->exec.stop, GDB_STOP_SHUTDOWN);
	pthread_mutex_lock(&g->exec_mutex);
	while (g->exec_busy) {
		pthread_cond_wait(&g->exec_cond, &g->exec_mutex);
	}
	pthread_mutex_unlock(&g->exec_mutex);
	g->batch_void = true;
	LOGD("gdb: took the exec connection back from a running batch");
}

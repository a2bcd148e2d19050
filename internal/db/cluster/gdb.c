/* Lifecycle, request queues and the write pipeline of the global database.
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

#define STR_(x) #x
#define STR(x) STR_(x)
#define PAGE_SIZE_SQL "PRAGMA page_size = " STR(GDB_PAGE_SIZE)
#define BUSY_TIMEOUT_MS 1000

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

static void gdb_done(struct gdb *g, struct gdb_request *req)
{
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

static void fail_queue(struct gdb *g, struct gdb_queue *q, int status,
		       const char *message)
{
	struct gdb_request *req;
	while ((req = gdb_queue_pop(q)) != NULL) {
		gdb_request_clear(req);
		gdb_finish(g, req, status, "%s", message);
	}
}

static void deliver(struct gdb *g)
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

static void apply_cb(struct raft_apply *apply, int status, void *result)
{
	struct gdb *g = apply->data;
	struct gdb_request *req;
	(void)result;
	g->apply_inflight = false;
	while ((req = gdb_queue_pop(&g->inflight)) != NULL) {
		if (status == 0) {
			gdb_done(g, req);
			continue;
		}
		gdb_request_clear(req);
		gdb_finish(g, req, TM_CANCELED,
			   "%s before the %s was committed; it may or may "
			   "not have been applied",
			   status == RAFT_SHUTDOWN ? "raft shut down"
						   : "leadership lost",
			   req->restore ? "restore" : "write");
	}
	gdb_schedule(g);
}

static void catchup_cb(struct raft_barrier *barrier, int status)
{
	struct gdb *g = barrier->data;
	g->catchup_inflight = false;
	if (status != 0) {
		fail_queue(g, &g->writes, TM_NOTLEADER,
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
		fail_queue(g, &g->writes,
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
		fail_queue(g, batch,
			   rv == RAFT_NOTLEADER ? TM_NOTLEADER
			   : rv == RAFT_TOOBIG	? TM_TOOBIG
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

/* The writes at the head of the queue, up to the first restore. */
static struct gdb_queue take_batch(struct gdb *g)
{
	struct gdb_queue batch = {NULL, NULL};
	while (g->writes.head != NULL && !g->writes.head->restore) {
		gdb_queue_push(&batch, gdb_queue_pop(&g->writes));
	}
	return batch;
}

static void start_batch(struct gdb *g)
{
	struct gdb_queue batch = take_batch(g);
	size_t n = gdb_queue_len(&batch);
	struct gdb_request **reqs = tm_malloc(n * sizeof *reqs);
	struct raft_buffer buf = {NULL, 0};
	bool changed = false;
	char errmsg[TM_ERRMSG_SIZE];
	size_t i = 0;

	PRE(n > 0);
	for (struct gdb_request *r = batch.head; r != NULL; r = r->next) {
		reqs[i++] = r;
	}
	int rv = gdb_write_batch(g, reqs, n, &buf, &changed, errmsg);
	tm_free(reqs);
	if (rv != 0) {
		fail_queue(g, &batch, rv, errmsg);
		return;
	}
	if (!changed) {
		g->stats.batches_unchanged++;
		gdb_queue_append(&g->done, &batch);
		return;
	}
	propose(g, &batch, n, &buf);
}

/* The restore at the head of the queue, alone in its entry. */
static void start_restore(struct gdb *g)
{
	struct gdb_request *req = gdb_queue_pop(&g->writes);
	struct gdb_queue batch = {NULL, NULL};
	struct raft_buffer buf = {NULL, 0};
	char errmsg[TM_ERRMSG_SIZE];

	PRE(req->restore);
	int rv = gdb_restore_prepare(req->image, req->image_len, &buf, errmsg);
	if (rv != 0) {
		gdb_finish(g, req, rv, "%s", errmsg);
		return;
	}
	gdb_queue_push(&batch, req);
	propose(g, &batch, 1, &buf);
}

/* Each turn either proposes an entry or answers the requests it took, so
 * the loop ends. */
static void tick_writes(struct gdb *g)
{
	while (!gdb_queue_empty(&g->writes) && !g->apply_inflight &&
	       !g->catchup_inflight) {
		if (!is_leader(g)) {
			struct gdb_request *req;
			while ((req = gdb_queue_pop(&g->writes)) != NULL) {
				gdb_fail_not_leader(g, req,
						    req->restore ? "restores"
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
		char errmsg[TM_ERRMSG_SIZE];
		if (gdb_space_check(g, errmsg) != 0) {
			fail_queue(g, &g->writes, TM_NOSPACE, errmsg);
			return;
		}
		if (g->writes.head->restore) {
			start_restore(g);
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
	deliver(g);
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
	req->status = 0;
	req->errmsg[0] = '\0';
	req->restore = false;
	req->image = NULL;
	req->image_len = 0;
	if (g->closing) {
		gdb_finish(g, req, TM_SHUTDOWN, "shutting down");
		return false;
	}
	return true;
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
	if (accept_request(g, req, cb)) {
		gdb_queue_push(&g->writes, req);
		gdb_schedule(g);
	}
}

void gdb_restore(struct gdb *g, struct gdb_request *req, const void *image,
		 size_t len, gdb_request_cb cb)
{
	PRE(image != NULL || len == 0);
	if (accept_common(g, req, cb)) {
		req->restore = true;
		req->image = image;
		req->image_len = len;
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

/* Setup. */

static int remove_file(const char *path, const char *suffix, char *errmsg)
{
	char *name = tm_asprintf("%s%s", path, suffix);
	int rv = 0;
	if (unlink(name) != 0 && errno != ENOENT) {
		tm_errmsg_printf(errmsg, "remove %s: %s", name,
				 strerror(errno));
		rv = TM_IO;
	}
	tm_free(name);
	return rv;
}

/* DEFENSIVE is for connections that run user SQL: it would also make the
 * shadow tables of virtual tables (FTS5) read-only for changeset apply. */
static int open_conn(const char *path, const char *setup, bool defensive,
		     sqlite3 **out, char *errmsg)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
		    SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
	char *err = NULL;
	int rc = sqlite3_open_v2(path, out, flags, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(*out, BUSY_TIMEOUT_MS);
		sqlite3_db_config(*out, SQLITE_DBCONFIG_DEFENSIVE,
				  defensive ? 1 : 0, NULL);
		rc = sqlite3_exec(*out, setup, NULL, NULL, &err);
	}
	if (rc != SQLITE_OK) {
		tm_errmsg_printf(errmsg, "open %s: %s", path,
				 err != NULL ? err : sqlite3_errmsg(*out));
		sqlite3_free(err);
		sqlite3_close(*out);
		*out = NULL;
		return rc == SQLITE_CANTOPEN ? TM_IO : TM_DB;
	}
	return 0;
}

/* Every commit on the exec connection becomes a rollback. */
static int refuse_commit(void *arg)
{
	(void)arg;
	LOGE("gdb: refused a commit on the exec connection");
	return 1;
}

static int open_databases(struct gdb *g, char *errmsg)
{
	int rv = open_conn(g->path,
			   PAGE_SIZE_SQL "; PRAGMA journal_mode = WAL; "
					 "PRAGMA synchronous = OFF; "
					 "PRAGMA foreign_keys = OFF; "
					 "PRAGMA ignore_check_constraints = ON",
			   false, &g->apply, errmsg);
	if (rv != 0) {
		return rv;
	}
	sqlite3_db_config(g->apply, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, NULL);
	rv = open_conn(g->path,
		       "PRAGMA synchronous = OFF; PRAGMA foreign_keys = ON",
		       true, &g->exec, errmsg);
	if (rv != 0) {
		goto err_after_apply;
	}
	sqlite3_limit(g->exec, SQLITE_LIMIT_ATTACHED, 0);
	sqlite3_commit_hook(g->exec, refuse_commit, NULL);
	gdb_auth_install(g);
	rv = gdb_sql_prepare_all(g->apply, g->apply_sql, errmsg);
	if (rv != 0) {
		goto err_after_exec;
	}
	rv = gdb_sql_prepare_all(g->exec, g->exec_sql, errmsg);
	if (rv != 0) {
		goto err_after_apply_sql;
	}
	return 0;

err_after_apply_sql:
	gdb_sql_finalize_all(g->apply_sql);
err_after_exec:
	sqlite3_close(g->exec);
err_after_apply:
	sqlite3_close(g->apply);
	return rv;
}

int gdb_init(struct gdb **out, uv_loop_t *loop, const char *db_path,
	     char *errmsg)
{
	struct gdb *g = tm_calloc(1, sizeof *g);
	int rv;

	g->loop = loop;
	g->path = tm_strdup(db_path);
	g->dir = tm_strdup(db_path);
	char *slash = strrchr(g->dir, '/');
	if (slash == NULL) {
		strcpy(g->dir, ".");
	} else {
		slash[slash == g->dir ? 1 : 0] = '\0';
	}
	rv = remove_file(db_path, "", errmsg);
	if (rv == 0) {
		rv = remove_file(db_path, "-wal", errmsg);
	}
	if (rv == 0) {
		rv = remove_file(db_path, "-shm", errmsg);
	}
	if (rv == 0) {
		rv = open_databases(g, errmsg);
	}
	if (rv != 0) {
		tm_free(g->dir);
		tm_free(g->path);
		tm_free(g);
		return rv;
	}
	g->shapes.db = g->apply;
	g->exec_shapes.db = g->exec;
	uv_idle_init(loop, &g->idle);
	g->idle.data = g;
	g->fsm.version = 2;
	g->fsm.data = g;
	g->fsm.apply = gdb_fsm_apply;
	g->fsm.snapshot = gdb_fsm_snapshot;
	g->fsm.snapshot_finalize = gdb_fsm_snapshot_finalize;
	g->fsm.restore = gdb_fsm_restore;
	g->fsm.snapshot_async = NULL;
	*out = g;
	return 0;
}

struct raft_fsm *gdb_fsm(struct gdb *g) { return &g->fsm; }

void gdb_set_raft(struct gdb *g, struct raft *raft)
{
	PRE(g->raft == NULL && raft != NULL);
	g->raft = raft;
}

sqlite3 *gdb_exec_conn(struct gdb *g) { return g->exec; }

void gdb_get_stats(struct gdb *g, struct gdb_stats *out) { *out = g->stats; }

void gdb_set_min_free_space(struct gdb *g, uint64_t bytes)
{
	g->min_free_bytes = bytes;
}

/* Close. */

static void idle_close_cb(uv_handle_t *handle)
{
	struct gdb *g = handle->data;
	gdb_close_cb cb = g->close_cb;
	void *arg = g->close_arg;

	deliver(g);
	gdb_schema_changed(g);
	gdb_sql_finalize_all(g->exec_sql);
	gdb_sql_finalize_all(g->apply_sql);
	sqlite3_close(g->exec);
	sqlite3_close(g->apply);
	tm_free(g->dir);
	tm_free(g->path);
	tm_free(g);
	if (cb != NULL) {
		cb(arg);
	}
}

void gdb_close(struct gdb *g, gdb_close_cb cb, void *arg)
{
	PRE(!g->closing);
	/* raft must be closed first: it fails what it still holds. */
	PRE(!g->apply_inflight && !g->catchup_inflight &&
	    !g->read_barrier_inflight);
	g->closing = true;
	g->close_cb = cb;
	g->close_arg = arg;
	fail_queue(g, &g->writes, TM_SHUTDOWN,
		   "shutting down; the write was not proposed");
	fail_queue(g, &g->reads, TM_SHUTDOWN, "shutting down");
	fail_queue(g, &g->lin_waiting, TM_SHUTDOWN, "shutting down");
	fail_queue(g, &g->lin_barrier, TM_SHUTDOWN, "shutting down");
	uv_idle_stop(&g->idle);
	uv_close((uv_handle_t *)&g->idle, idle_close_cb);
}

/* One POST /1.0/sql in flight: from the handler to the answer.
 *
 * Happy path: sql_call_new (encoder and pipe ready when the rows are
 * encoded on the worker) -> the handler submits to gdb or to the local job
 * -> sql_call_started starts the watch timer -> the worker encodes rows,
 * handing full chunks to the pipe (the first one starts a chunked 200) ->
 * sql_call_done on the loop: if nothing was streamed, a plain answer (200
 * with Content-Length, or the error envelope with its status); if it was,
 * the rest of the text ends the stream -> handles are closed, and the
 * call is freed by the last of their callbacks (sql_call_maybe_free).
 *
 * Failure modes:
 * - the client goes away (its connection detached or half-closed, seen by
 *   the watch timer every SQL_WATCH_MS): gdb_cancel (or the local job's
 *   cancel flag) once, and the pipe aborts, so that a worker waiting for
 *   the client returns at once; the answer goes into the void;
 * - the daemon drains (rest_draining): a read is canceled the same way
 *   and, unless rows were streamed already, answered 503 "shutting down";
 *   a write runs on, so that its answer tells what happened;
 * - the daemon stops: the REST server closes every connection,
 *   which the watch timer sees as a client gone;
 * - once streaming has begun, a failure can only be reported in-band (the
 *   statement's "error"): the HTTP status is already 200. */
#include <string.h>

#include "internal/api/sql_call.h"
#include "internal/lib/assert.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"

#define SQL_WATCH_MS 150

static int sink_columns(struct gdb_sink *s, size_t i, sqlite3_stmt *st,
			char *errmsg)
{
	struct sql_call *call = s->data;
	(void)i;
	sql_pipe_start_statement(&call->pipe);
	return sql_enc_columns(&call->enc, st, errmsg);
}

static int sink_row(struct gdb_sink *s, size_t i, sqlite3_stmt *st,
		    char *errmsg)
{
	struct sql_call *call = s->data;
	(void)i;
	call->enc.hold = s->on_loop;
	return sql_enc_row(&call->enc, st, errmsg);
}

/* The read tried on the loop made more than a chunk: it runs again on a
 * worker, from an empty encoder. */
static void sink_reset(struct gdb_sink *s)
{
	struct sql_call *call = s->data;
	sql_enc_reset(&call->enc);
}

static void sink_end(struct gdb_sink *s, size_t i, const struct gdb_result *res)
{
	struct sql_call *call = s->data;
	(void)i;
	sql_enc_end(&call->enc, res);
}

struct sql_call *sql_call_new(struct rest_request *req, uv_loop_t *loop,
			      struct sql_request *parsed, bool read,
			      unsigned timeout_ms, uint64_t limit)
{
	struct sql_call *call = tm_calloc(1, sizeof *call);
	call->http = req;
	call->loop = loop;
	call->parsed = *parsed; /* takes the statements */
	memset(parsed, 0, sizeof *parsed);
	call->read = read;
	call->timeout_ms = timeout_ms;
	atomic_store(&call->cancel, false);
	uv_timer_init(loop, &call->watch);
	call->watch.data = call;
	call->watch_alive = true;
	sql_pipe_init(&call->pipe, loop, req, timeout_ms);
	call->pipe.owner = call;
	sql_enc_init(&call->enc, limit, SQL_STREAM_CHUNK, sql_pipe_put,
		     &call->pipe);
	call->sink = (struct gdb_sink){.data = call,
				       .columns = sink_columns,
				       .row = sink_row,
				       .end = sink_end,
				       .reset = sink_reset};
	call->gdb.data = call;
	call->gdb.stmts = call->parsed.stmts;
	call->gdb.n_stmts = call->parsed.n_stmts;
	call->gdb.transaction = call->parsed.transaction;
	call->gdb.level = call->parsed.level;
	call->gdb.timeout_ms = call->parsed.timeout > 0 ? timeout_ms : 0;
	call->gdb.sink = read ? &call->sink : NULL;
	call->running = true;
	return call;
}

static bool client_gone(struct sql_call *call)
{
	struct conn *c = rest_conn(call->http);
	return c == NULL || conn_peer_closed(c);
}

static void watch_cb(uv_timer_t *t)
{
	struct sql_call *call = t->data;
	if (!call->running || call->canceled) {
		return;
	}
	if (client_gone(call)) {
		LOGD("sql: the client went away; canceling its request");
	} else if (call->read && rest_draining(call->http)) {
		LOGD("sql: shutting down; canceling a read");
		call->shutdown = true;
	} else {
		return;
	}
	call->canceled = true;
	uv_timer_stop(t);
	atomic_store(&call->cancel, true);
	sql_pipe_abort(&call->pipe);
	if (call->g != NULL) {
		gdb_cancel(call->g, &call->gdb);
	}
}

void sql_call_started(struct sql_call *call)
{
	uv_timer_start(&call->watch, watch_cb, SQL_WATCH_MS, SQL_WATCH_MS);
}

static void watch_close_cb(uv_handle_t *h)
{
	struct sql_call *call = h->data;
	call->watch_alive = false;
	sql_call_maybe_free(call);
}

/* Nothing was streamed: one plain answer. */
static void answer_whole(struct sql_call *call, int status, const char *errmsg,
			 const struct gdb_result *results, size_t n)
{
	struct sql_answer answer;
	if (call->shutdown) {
		rest_respond_error(call->http, 503,
				   "shutting down: the daemon is stopping and "
				   "interrupted the read; retry once it is "
				   "back");
		return;
	}
	bool fails =
	    sql_answer_fails(status, results, n, call->parsed.transaction);
	if (!call->read || fails) {
		sql_answer_build(status, errmsg, results, n,
				 call->parsed.transaction, &answer);
		if (answer.metadata != NULL && !call->local) {
			/* Read-your-writes on any member: min_index. */
			cJSON_AddNumberToObject(answer.metadata, "raft_index",
						(double)call->gdb.index);
		}
		if (answer.http_status >= 500) {
			LOGD("sql: request of %zu statement(s): %d %s", n,
			     answer.http_status, answer.message);
		}
		sql_answer_send(call->http, &answer);
		return;
	}
	sql_enc_finish(&call->enc);
	rest_respond_sync(call->http, cJSON_CreateRaw(call->enc.out.p), NULL);
}

/* The worker is done: stop watching and take what it handed over. */
static void stop_running(struct sql_call *call)
{
	PRE(call->running);
	call->running = false;
	uv_timer_stop(&call->watch);
	uv_close((uv_handle_t *)&call->watch, watch_close_cb);
	sql_pipe_drain(&call->pipe);
}

static void answered(struct sql_call *call)
{
	call->answered = true;
	sql_pipe_close(&call->pipe);
	sql_call_maybe_free(call);
}

void sql_call_refuse(struct sql_call *call, int http_status,
		     const char *message)
{
	stop_running(call);
	PRE(!call->pipe.streaming); /* refused before anything ran */
	rest_respond_error(call->http, http_status, "%s", message);
	answered(call);
}

void sql_call_hand_off(struct sql_call *call)
{
	stop_running(call);
	PRE(!call->pipe.streaming);
	answered(call);
}

void sql_call_done(struct sql_call *call, int status, const char *errmsg,
		   const struct gdb_result *results, size_t n)
{
	stop_running(call);
	if (!call->pipe.streaming) {
		answer_whole(call, status, errmsg, results, n);
	} else {
		if (status != 0 || results == NULL) {
			/* Never for reads once rows flowed; keep the JSON
			 * whole anyway. */
			LOGE("sql: request failed after streaming began: %s",
			     errmsg != NULL ? errmsg : "");
		}
		sql_enc_finish(&call->enc);
		sql_pipe_end(&call->pipe, call->enc.out.p, call->enc.out.n);
	}
	answered(call);
}

void sql_call_maybe_free(struct sql_call *call)
{
	if (!call->answered || call->watch_alive ||
	    !sql_pipe_closed(&call->pipe)) {
		return;
	}
	sql_pipe_release(&call->pipe);
	sql_enc_clear(&call->enc);
	gdb_request_clear(&call->gdb);
	sql_results_free(call->local_results, call->parsed.n_stmts);
	sql_request_clear(&call->parsed);
	tm_free(call->local_path);
	tm_free(call);
}

/* POST /1.0/sql and GET /1.0/sql/backup (doc/sql-api.md).
 *
 * POST, happy path: parse the body (sql_request_parse) -> check the
 * request's "timeout" against core.max_query_timeout -> a struct sql_call
 * (sql_call.c) takes the statements -> target "global": is every statement
 * read-only when prepared on the exec connection (gdb_read_only, which
 * leaves them in gdb's statement cache for the execution that follows)?
 * gdb_read with the consistency level and the call's encoder as its sink,
 * else gdb_write with the transaction flag; target "local": a job on a
 * worker of the daemon's pool (sql_local_job.c) -> the answer, plain or
 * streamed, comes from sql_call_done.
 *
 * Failure modes: a malformed request or a timeout above the maximum (400,
 * nothing is queued); a member still starting: the request waits until
 * it is ready, then is handled again (global_wait.h), or 503 after the
 * bound; no global database or no worker pool otherwise (503);
 * whatever gdb or the local job report (sql_answer_build maps it). The
 * REST request stays valid until we respond, even if the client went away
 * meanwhile (the answer is then dropped); the call's watch timer cancels
 * the work when that happens. */
#include <math.h>
#include <stdio.h>

#include "internal/api/api.h"
#include "internal/api/cluster_http.h"
#include "internal/api/forward.h"
#include "internal/api/global_wait.h"
#include "internal/api/sql.h"
#include "internal/api/sql_call.h"
#include "internal/api/sql_wait.h"
#include "internal/config/config.h"
#include "internal/daemon/cluster.h"
#include "internal/daemon/daemon.h"
#include "internal/db/node/nodedb.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"

void sql_answer_send(struct rest_request *req, struct sql_answer *answer)
{
	if (answer->metadata != NULL) {
		rest_respond_sync(req, answer->metadata, NULL);
	} else {
		rest_respond_error(req, answer->http_status, "%s",
				   answer->message);
	}
	tm_free(answer->message);
	answer->metadata = NULL;
	answer->message = NULL;
}

static void global_done_cb(struct gdb_request *greq, int status)
{
	struct sql_call *call = greq->data;
	struct rest_request *http = call->http;
	struct daemon *d = rest_server_data(http);
	/* Leadership moved before the request was proposed (nothing was
	 * applied): the new leader takes it. */
	if (status == TM_NOTLEADER && greq->results == NULL &&
	    !call->pipe.streaming && cluster_follows(d) &&
	    !api_forwarded(http)) {
		char errmsg[TM_ERRMSG_SIZE];
		snprintf(errmsg, sizeof errmsg, "%s", greq->errmsg);
		sql_call_hand_off(call);
		if (!api_to_leader(http)) {
			rest_respond_error(http, 503, "%s", errmsg);
		}
		return;
	}
	/* The same for a write relayed here: the member that relayed it
	 * takes it to the leader. */
	if (status == TM_NOTLEADER && greq->results == NULL &&
	    !call->pipe.streaming && api_forwarded(http)) {
		char errmsg[TM_ERRMSG_SIZE];
		snprintf(errmsg, sizeof errmsg, "%s", greq->errmsg);
		sql_call_hand_off(call);
		api_refuse_not_leader(http, cluster_leader_address(d), "%s",
				      errmsg);
		return;
	}
	sql_call_done(call, status, greq->errmsg, greq->results, greq->n_stmts);
}

unsigned sql_statement_timeout_ms(const cJSON *config,
				  const struct sql_request *parsed,
				  char *errmsg)
{
	int64_t max = config_get_int(config, "core.max_query_timeout");
	if (parsed->timeout <= 0) {
		return (unsigned)config_get_int(config, "core.query_timeout") *
		       1000u;
	}
	if (parsed->timeout > (double)max) {
		tm_errmsg_printf(errmsg,
				 "field \"timeout\" (%g seconds) is above "
				 "core.max_query_timeout (%lld seconds): ask "
				 "for less, or raise core.max_query_timeout",
				 parsed->timeout, (long long)max);
		return 0;
	}
	double ms = ceil(parsed->timeout * 1000.0);
	return ms < 1.0 ? 1u : (unsigned)ms;
}

static void run_global(struct daemon *d, struct gdb *g, struct sql_call *call)
{
	(void)d;
	call->g = g;
	if (gdb_read_only(g, call->parsed.stmts, call->parsed.n_stmts)) {
		call->read = true;
		call->gdb.sink = &call->sink;
		gdb_read(g, &call->gdb, global_done_cb);
	} else {
		call->read = false;
		call->gdb.sink = NULL;
		gdb_write(g, &call->gdb, global_done_cb);
	}
	sql_call_started(call);
}

/* After sql_wait: the global database may have closed meanwhile. */
static void run_waited(struct daemon *d, struct sql_call *call)
{
	struct gdb *g = daemon_gdb(d);
	if (g == NULL) {
		sql_call_refuse(call, 503, "global database not available");
		return;
	}
	run_global(d, g, call);
}

static void run_local(struct daemon *d, struct pool *pool,
		      struct sql_call *call)
{
	call->local = true;
	call->read = true;
	call->local_path = tm_asprintf("%s/%s", daemon_dir(d), NODEDB_FILE);
	sql_local_job_submit(call, pool);
	sql_call_started(call);
}

static void sql_post(struct rest_request *req, bool batch);

/* A write the batched relay gave back (nothing of it ran): the single
 * way, to a leader (or here, if this member leads now). */
static void relay_fallback(struct rest_request *req) { sql_post(req, false); }

void api_sql_post(struct rest_request *req) { sql_post(req, true); }

/* BATCH: a follower relays a write with the others arriving meanwhile
 * (cluster_relay_write), else alone (api_to_leader). */
static void sql_post(struct rest_request *req, bool batch)
{
	struct daemon *d = rest_server_data(req);
	const cJSON *config = daemon_config(d);
	char errmsg[TM_ERRMSG_SIZE];
	struct sql_request parsed;
	size_t len = 0;
	const char *body = rest_body(req, &len);

	if (sql_request_parse(body, len, &parsed, errmsg) != 0) {
		rest_respond_error(req, 400, "%s", errmsg);
		return;
	}
	unsigned timeout_ms = sql_statement_timeout_ms(config, &parsed, errmsg);
	if (timeout_ms == 0) {
		rest_respond_error(req, 400, "%s", errmsg);
		sql_request_clear(&parsed);
		return;
	}
	struct gdb *g = daemon_gdb(d);
	struct pool *pool = daemon_pool(d);
	bool local = parsed.target == SQL_TARGET_LOCAL;
	if (!local && g == NULL && api_global_wait(req)) {
		sql_request_clear(&parsed); /* parsed again once ready */
		return;
	}
	if (local ? pool == NULL : g == NULL) {
		rest_respond_error(req, 503, "%s",
				   local ? "the SQL worker threads are not "
					   "running yet; retry once the "
					   "daemon is ready"
					 : "global database not available yet");
		sql_request_clear(&parsed);
		return;
	}
	/* A follower relays writes to the leader; it serves reads itself,
	 * linearizable ones after a read index from the leader. */
	bool read_only =
	    !local && gdb_read_only(g, parsed.stmts, parsed.n_stmts);
	if (!local && !read_only && cluster_follows(d) &&
	    ((batch && !api_forwarded(req) &&
	      cluster_relay_write(d, req, relay_fallback)) ||
	     api_to_leader(req))) {
		sql_request_clear(&parsed);
		return;
	}
	bool read_index = read_only && parsed.level != GDB_READ_NONE &&
			  cluster_follows(d) && !api_forwarded(req);
	uint64_t min_index = parsed.min_index;
	uint64_t limit =
	    (uint64_t)config_get_int(config, "core.max_response_size");
	struct sql_call *call = sql_call_new(req, daemon_loop(d), &parsed,
					     local, timeout_ms, limit);
	if (local) {
		run_local(d, pool, call);
	} else if (read_index || min_index > cluster_applied_index(d)) {
		if (read_index) {
			call->gdb.level = GDB_READ_NONE; /* the index says */
		}
		sql_wait_then_run(d, call, min_index, read_index, run_waited);
	} else {
		run_global(d, g, call);
	}
}

void api_sql_backup_get(struct rest_request *req)
{
	struct daemon *d = rest_server_data(req);
	struct gdb *g = daemon_gdb(d);
	if (g == NULL && api_global_wait(req)) {
		return;
	}
	if (g == NULL) {
		rest_respond_error(req, 503,
				   "global database not available yet");
		return;
	}
	struct pool *pool = daemon_pool(d);
	if (pool == NULL) {
		rest_respond_error(req, 503,
				   "the SQL worker threads are not running "
				   "yet; retry once the daemon is ready");
		return;
	}
	sql_backup_send(req, pool, gdb_path(g), daemon_dir(d));
}

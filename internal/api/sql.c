/* POST /1.0/sql and GET /1.0/sql/backup (doc/sql-api.md).
 *
 * POST, target "global", happy path: parse the body (sql_request_parse) ->
 * is every statement read-only when prepared on the exec connection
 * (gdb_read_only, which leaves them in gdb's statement cache for the
 * execution that follows)? ->
 * gdb_read with the consistency level, else gdb_write with the transaction
 * flag -> the callback builds the answer from the status and the results,
 * responds, and frees the one struct sql_call that owned the gdb_request
 * and the converted statements.
 *
 * Failure modes: a malformed request (400, nothing is queued); no global
 * database yet (503); whatever gdb reports (sql_answer_build maps it). The
 * REST request stays valid until we respond, even if the client went away
 * meanwhile (the answer is then dropped), so the callback may always
 * respond; a gdb that closes answers its queued requests with TM_SHUTDOWN.
 *
 * Target "local" runs synchronously on the local database connection
 * (sql_local_run) and responds at once. */
#include "internal/api/sql.h"
#include "internal/api/api.h"
#include "internal/daemon/daemon.h"
#include "internal/db/node/nodedb.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"

/* One POST /1.0/sql on the global database, from the handler to gdb's
 * callback. Owns the parsed statements that gdb borrows. */
struct sql_call {
	struct rest_request *http; /* borrowed until we respond */
	struct sql_request parsed;
	struct gdb_request gdb;
};

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
	struct sql_answer answer;
	sql_answer_build(status, greq->errmsg, greq->results, greq->n_stmts,
			 call->parsed.transaction, &answer);
	if (answer.http_status >= 500) {
		LOGD("sql: request of %zu statement(s): %d %s", greq->n_stmts,
		     answer.http_status, answer.message);
	}
	sql_answer_send(call->http, &answer);
	gdb_request_clear(greq);
	sql_request_clear(&call->parsed);
	tm_free(call);
}

static void run_global(struct rest_request *req, struct gdb *g,
		       struct sql_request *parsed)
{
	struct sql_call *call = tm_calloc(1, sizeof *call);
	call->http = req;
	call->parsed = *parsed; /* takes the statements */
	call->gdb.data = call;
	call->gdb.stmts = call->parsed.stmts;
	call->gdb.n_stmts = call->parsed.n_stmts;
	call->gdb.transaction = call->parsed.transaction;
	call->gdb.level = call->parsed.level;
	if (gdb_read_only(g, call->parsed.stmts, call->parsed.n_stmts)) {
		gdb_read(g, &call->gdb, global_done_cb);
	} else {
		gdb_write(g, &call->gdb, global_done_cb);
	}
}

static void run_local(struct rest_request *req, sqlite3 *db,
		      struct sql_request *parsed)
{
	char errmsg[TM_ERRMSG_SIZE];
	struct gdb_result *results = NULL;
	struct sql_answer answer;
	int rv =
	    sql_local_run(db, parsed->stmts, parsed->n_stmts, &results, errmsg);
	if (rv == TM_INVALID) {
		rest_respond_error(req, 400, "%s", errmsg);
		return;
	}
	if (rv != 0) {
		rest_respond_error(req, rv == TM_BUSY ? 503 : 500, "%s",
				   errmsg);
		return;
	}
	sql_answer_build(0, NULL, results, parsed->n_stmts, parsed->transaction,
			 &answer);
	sql_answer_send(req, &answer);
	sql_results_free(results, parsed->n_stmts);
}

void api_sql_post(struct rest_request *req)
{
	struct daemon *d = rest_server_data(req);
	char errmsg[TM_ERRMSG_SIZE];
	struct sql_request parsed;
	size_t len = 0;
	const char *body = rest_body(req, &len);

	if (sql_request_parse(body, len, &parsed, errmsg) != 0) {
		rest_respond_error(req, 400, "%s", errmsg);
		return;
	}
	if (parsed.target == SQL_TARGET_LOCAL) {
		run_local(req, nodedb_sqlite(daemon_nodedb(d)), &parsed);
		sql_request_clear(&parsed);
		return;
	}
	struct gdb *g = daemon_gdb(d);
	if (g == NULL) {
		rest_respond_error(req, 503,
				   "global database not available yet");
		sql_request_clear(&parsed);
		return;
	}
	run_global(req, g, &parsed);
}

void api_sql_backup_get(struct rest_request *req)
{
	struct daemon *d = rest_server_data(req);
	struct gdb *g = daemon_gdb(d);
	if (g == NULL) {
		rest_respond_error(req, 503,
				   "global database not available yet");
		return;
	}
	sql_backup_send(req, gdb_exec_conn(g), daemon_dir(d));
}

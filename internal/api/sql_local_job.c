/* Target "local" off the loop: the statements run on a worker thread of
 * the daemon's pool, on a read-only connection of their own to
 * DIR/local.db (WAL: it neither blocks nor is blocked by the daemon's own
 * connection), opened for the request and closed after it.
 *
 * Happy path: open read-only -> cap the length of a value at the response
 * limit -> sql_local_run_bounded (each statement bounded by the request's
 * timeout and its cancel flag; rows to the call's encoder) -> close ->
 * sql_call_done on the loop.
 *
 * Failure modes: the file cannot be opened (TM_DB, 500); a statement runs
 * past its timeout or its client goes away (that statement's error);
 * everything sql_local_run reports. */
#include <limits.h>

#include "internal/api/sql_call.h"
#include "internal/lib/mem.h"

#define LOCAL_BUSY_TIMEOUT_MS 1000

static int open_local(const char *path, sqlite3 **db, uint64_t limit,
		      char *errmsg)
{
	int rc = sqlite3_open_v2(
	    path, db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		tm_errmsg_printf(errmsg, "local database: open: %s",
				 *db != NULL ? sqlite3_errmsg(*db)
					     : sqlite3_errstr(rc));
		sqlite3_close(*db);
		*db = NULL;
		return TM_DB;
	}
	sqlite3_busy_timeout(*db, LOCAL_BUSY_TIMEOUT_MS);
	sqlite3_limit(*db, SQLITE_LIMIT_ATTACHED, 0);
	sqlite3_limit(*db, SQLITE_LIMIT_LENGTH,
		      limit == 0 || limit > INT_MAX ? INT_MAX : (int)limit);
	return 0;
}

static void local_work(struct pool_work *w)
{
	struct sql_call *call = w->data;
	struct sql_bounds bounds = {.timeout_ms = call->timeout_ms,
				    .cancel = &call->cancel};
	sqlite3 *db = NULL;
	call->local_rv = open_local(call->local_path, &db, call->enc.limit,
				    call->local_errmsg);
	if (call->local_rv != 0) {
		return;
	}
	call->local_rv = sql_local_run_bounded(
	    db, call->parsed.stmts, call->parsed.n_stmts, &bounds, &call->sink,
	    &call->local_results, call->local_errmsg);
	sqlite3_close(db);
}

static void local_done(struct pool_work *w)
{
	struct sql_call *call = w->data;
	int rv = call->local_rv;
	if (rv != 0) {
		/* Refused or failed before anything ran: the message is the
		 * whole answer. */
		sql_call_refuse(call,
				rv == TM_INVALID ? 400
				: rv == TM_BUSY	 ? 503
						 : 500,
				call->local_errmsg);
		return;
	}
	sql_call_done(call, 0, NULL, call->local_results, call->parsed.n_stmts);
}

void sql_local_job_submit(struct sql_call *call, struct pool *pool)
{
	call->work.data = call;
	pool_submit(pool, &call->work, local_work, local_done);
}

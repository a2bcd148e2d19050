/* Reads: run on the exec connection in one read transaction, after a raft
 * barrier for linearizable ones.
 *
 * A linearizable read is answered only after a barrier entry proposed AFTER
 * the read arrived has been committed and applied: the commit proves this
 * member was still the leader then, and the apply means every write
 * acknowledged before the read arrived is in the database. Reads that arrive
 * while a barrier is in flight wait for the next one (joining the in-flight
 * barrier would not prove leadership at a time after their arrival). All the
 * linearizable reads waiting when a barrier starts share it.
 *
 * Failure modes: not the leader (TM_NOTLEADER, names the leader), the barrier
 * fails because leadership was lost (TM_NOTLEADER), a statement is not
 * read-only or fails (its own result only). */
#include "internal/db/cluster/gdb_private.h"
#include "internal/lib/mem.h"

static void run_statement(struct gdb *g, const struct gdb_stmt *stmt,
			  struct gdb_result *res)
{
	struct gdb_auth auth;
	sqlite3_stmt *st = NULL;

	gdb_auth_begin(g, &auth, GDB_EXEC_READ);
	if (gdb_exec_prepare(g, stmt, &auth, &st, res) != 0) {
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
	gdb_exec_step(g->exec, st, &auth, res);
out:
	gdb_exec_release(g, st);
	gdb_auth_end(g, &auth);
}

static void run_read(struct gdb *g, struct gdb_request *req)
{
	int rc = gdb_sql_run(g->exec_sql, GDB_SQL_BEGIN_READ);
	if (rc != SQLITE_OK) {
		gdb_finish(g, req, TM_DB, "BEGIN: %s", sqlite3_errmsg(g->exec));
		return;
	}
	req->results = tm_calloc(req->n_stmts, sizeof *req->results);
	for (size_t i = 0; i < req->n_stmts; i++) {
		run_statement(g, &req->stmts[i], &req->results[i]);
	}
	if (!sqlite3_get_autocommit(g->exec)) {
		gdb_sql_run(g->exec_sql, GDB_SQL_ROLLBACK);
	}
	gdb_finish(g, req, 0, "%s", "");
}

static void read_barrier_cb(struct raft_barrier *barrier, int status)
{
	struct gdb *g = barrier->data;
	struct gdb_request *req;
	g->read_barrier_inflight = false;
	while ((req = gdb_queue_pop(&g->lin_barrier)) != NULL) {
		if (status == 0) {
			gdb_queue_push(&g->reads, req);
		} else {
			gdb_finish(g, req, TM_NOTLEADER,
				   "leadership lost before the read could be "
				   "confirmed (%s); retry on the leader",
				   raft_strerror(status));
		}
	}
	gdb_schedule(g);
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
	g->read_barrier.data = g;
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

bool gdb_read_only(struct gdb *g, const struct gdb_stmt *stmts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!gdb_exec_read_only(g, &stmts[i])) {
			return false;
		}
	}
	return true;
}

void gdb_tick_reads(struct gdb *g)
{
	struct gdb_request *req;
	if (!gdb_queue_empty(&g->lin_waiting) && !g->read_barrier_inflight) {
		start_read_barrier(g);
	}
	while ((req = gdb_queue_pop(&g->reads)) != NULL) {
		run_read(g, req);
	}
}

/* The leader's write batch: execute requests, record their changes, build
 * the entry.
 *
 * Happy path, on the exec connection:
 *   BEGIN IMMEDIATE
 *   for each request:   SAVEPOINT gdb_request
 *     for each statement: SAVEPOINT gdb_statement
 *       data statement:   its row changes -> one CHANGESET item, written
 *                         by record.c when the statement changed one row,
 *                         else recorded by a session on every table (the
 *                         statement is rolled back to its savepoint and run
 *                         again under the session; the statement cache
 *                         remembers to use a session next time)
 *       schema statement: the SQL text -> one SQL item; after ALTER TABLE
 *                         ADD COLUMN with a DEFAULT, "UPDATE t SET c = c"
 *                         -> one more SQL item (schema.c says why); a
 *                         session limited to tables that existed before,
 *                         other than the ones the statement names, records
 *                         side effects (ON DELETE actions of a DROP TABLE)
 *                         -> one CHANGESET item after them, since the apply
 *                         connection runs with foreign keys off
 *     RELEASE gdb_statement
 *   RELEASE gdb_request
 *   ROLLBACK   (the database changes only when the entry is applied)
 *
 * One changeset per statement, not per request: a session consolidates all
 * changes of a row, so two statements that swap UNIQUE values through a
 * temporary value would yield a changeset that cannot be applied row by row.
 * Within one statement SQLite itself checks constraints row by row, and
 * changeset apply retries rows that fail a constraint transiently.
 *
 * Failure modes:
 * - a statement fails: ROLLBACK TO its savepoint, its items are dropped; in a
 *   transaction request the whole request is rolled back to its savepoint and
 *   its other statements report TM_CANCELED;
 * - a deferred foreign key is left violated (SQLite checks those only at a
 *   COMMIT, which the exec transaction never reaches): checked after each
 *   statement of a non-transaction request and at the end of a transaction
 *   request, and treated as a failure of that statement or request;
 * - SQLite rolls the whole transaction back by itself (I/O error, disk full):
 *   the batch is "broken"; what ran before stays valid (each item was computed
 *   against the state the entry will be applied to), everything after fails
 *   without running;
 * - BEGIN fails: the batch cannot run at all (returned to the caller). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "internal/db/cluster/gdb_private.h"
#include "internal/lib/assert.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"

struct owned_item {
	enum gdb_item_kind kind;
	void *data; /* CHANGESET: sqlite3_malloc'd; SQL: tm_malloc'd */
	size_t len;
};

struct item_list {
	struct owned_item *v;
	size_t n;
	size_t cap;
};

struct batch {
	struct gdb_conn *c;
	sqlite3 *db;
	unsigned default_timeout_ms;
	bool broken; /* SQLite rolled the transaction back */
	char broken_msg[TM_ERRMSG_SIZE];
	bool schema_ran; /* a schema statement ran: no recorder from then on */
};

static void items_push(struct item_list *items, enum gdb_item_kind kind,
		       void *data, size_t len)
{
	if (items->n == items->cap) {
		items->cap = items->cap == 0 ? 4 : items->cap * 2;
		items->v = tm_realloc(items->v, items->cap * sizeof *items->v);
	}
	items->v[items->n++] = (struct owned_item){kind, data, len};
}

/* Drop the items from index FROM on. */
static void items_truncate(struct item_list *items, size_t from)
{
	while (items->n > from) {
		struct owned_item *it = &items->v[--items->n];
		if (it->kind == GDB_ITEM_CHANGESET) {
			sqlite3_free(it->data);
		} else {
			tm_free(it->data);
		}
	}
}

static void items_release(struct item_list *items)
{
	items_truncate(items, 0);
	tm_free(items->v);
	memset(items, 0, sizeof *items);
}

/* Run a savepoint statement; a failure means the transaction is gone. */
static void savepoint(struct batch *b, enum gdb_sql which)
{
	if (b->broken) {
		return;
	}
	int rc = gdb_sql_run(b->c->sql, which);
	if (rc != SQLITE_OK || sqlite3_get_autocommit(b->db)) {
		b->broken = true;
		tm_errmsg_printf(b->broken_msg, "savepoint: %s",
				 sqlite3_errmsg(b->db));
	}
}

/* Run ST to the end; the rows it returns (RETURNING, or a read in a write
 * request) are bounded as a read's are. */
static int step(struct batch *b, sqlite3_stmt *st, struct gdb_auth *auth,
		struct gdb_result *res)
{
	uint64_t bytes = 0;
	return gdb_exec_step_rows(b->c, st, auth, res, NULL, 0, &bytes,
				  b->c->row_budget);
}

/* Collect the session's changeset as an item; empty changesets add none. */
static int take_changeset(sqlite3_session *s, struct item_list *items,
			  struct gdb_result *res)
{
	int n = 0;
	void *p = NULL;
	int rc = sqlite3session_changeset(s, &n, &p);
	if (rc != SQLITE_OK) {
		sqlite3_free(p);
		gdb_result_fail(res, gdb_sqlite_status(rc),
				"recording the statement's row changes failed: "
				"%s",
				sqlite3_errstr(rc));
		return res->status;
	}
	if (n > 0) {
		items_push(items, GDB_ITEM_CHANGESET, p, (size_t)n);
	} else {
		sqlite3_free(p);
	}
	return 0;
}

static int open_session(sqlite3 *db, sqlite3_session **out,
			struct gdb_result *res)
{
	int rc = sqlite3session_create(db, "main", out);
	if (rc == SQLITE_OK) {
		return 0;
	}
	gdb_result_fail(res, gdb_sqlite_status(rc), "sqlite3session_create: %s",
			sqlite3_errstr(rc));
	return res->status;
}

/* Run a data statement and record its changes with a session. */
static int run_with_session(struct batch *b, sqlite3_stmt *st,
			    struct gdb_auth *auth, struct gdb_result *res,
			    struct item_list *items)
{
	sqlite3_session *s = NULL;
	int rv = open_session(b->db, &s, res);
	if (rv != 0) {
		return rv;
	}
	sqlite3session_attach(s, NULL);
	b->c->session = s;
	rv = step(b, st, auth, res);
	b->c->session = NULL;
	gdb_auth_stop(b->c);
	if (rv == 0) {
		res->rows_affected = sqlite3_changes64(b->db);
		res->last_insert_id = sqlite3_last_insert_rowid(b->db);
		rv = take_changeset(s, items, res);
	}
	sqlite3session_delete(s);
	return rv;
}

#define NEEDS_SESSION (-1)

/* Run a data statement with the recorder of record.c; NEEDS_SESSION when
 * its changes must be recorded by a session after all (it ran). */
static int run_recorded(struct batch *b, sqlite3_stmt *st,
			struct gdb_auth *auth, struct gdb_result *res,
			struct item_list *items)
{
	struct gdb_record rec;
	bool needs_session = false;
	void *cs = NULL;
	int n = 0;

	gdb_record_begin(&rec, b->db);
	int rv = step(b, st, auth, res);
	gdb_record_end(&rec);
	gdb_auth_stop(b->c);
	if (rv == 0) {
		res->rows_affected = sqlite3_changes64(b->db);
		res->last_insert_id = sqlite3_last_insert_rowid(b->db);
		int rc = gdb_record_changeset(&rec, &b->c->shapes,
					      &needs_session, &cs, &n);
		if (rc != SQLITE_OK) {
			gdb_result_fail(res, gdb_sqlite_status(rc),
					"recording the statement's row "
					"changes failed: %s",
					sqlite3_errstr(rc));
			rv = res->status;
		} else if (cs != NULL) {
			items_push(items, GDB_ITEM_CHANGESET, cs, (size_t)n);
		}
	}
	gdb_record_clear(&rec);
	return rv == 0 && needs_session ? NEEDS_SESSION : rv;
}

/* Undo a run of ST (inside its statement savepoint) to run it again. */
static int undo_run(struct batch *b, sqlite3_stmt *st, struct gdb_auth *auth,
		    struct gdb_result *res)
{
	gdb_result_clear(res);
	sqlite3_reset(st);
	savepoint(b, GDB_SQL_RB_STMT);
	if (b->broken) {
		gdb_result_fail(res, TM_IO, "%s", b->broken_msg);
		return res->status;
	}
	gdb_auth_resume(b->c, auth);
	return 0;
}

/* A data statement: read-only ones need no recording; the others are tried
 * with the recorder unless they needed a session before (several rows,
 * triggers...), and recorded with a session otherwise. */
static int run_data(struct batch *b, sqlite3_stmt *st, struct gdb_auth *auth,
		    struct gdb_result *res, struct item_list *items)
{
	if (sqlite3_stmt_readonly(st)) {
		int rv = step(b, st, auth, res);
		gdb_auth_stop(b->c);
		return rv;
	}
	if (!b->schema_ran && !gdb_cache_needs_session(b->c, st)) {
		int rv = run_recorded(b, st, auth, res, items);
		if (rv != NEEDS_SESSION) {
			return rv;
		}
		gdb_cache_set_needs_session(b->c, st);
		rv = undo_run(b, st, auth, res);
		if (rv != 0) {
			return rv;
		}
	}
	return run_with_session(b, st, auth, res, items);
}

struct side_effects {
	struct gdb_names before; /* tables that existed before the statement */
	const struct gdb_names *targets;
};

/* Record changes only to tables that existed before and that the schema
 * statement does not name: replaying the statement recreates the rest. */
static int side_effect_filter(void *arg, const char *table)
{
	struct side_effects *fx = arg;
	return strncasecmp(table, "sqlite_", 7) != 0 &&
	       gdb_names_has(&fx->before, table) &&
	       !gdb_names_has(fx->targets, table);
}

static int check_tables(struct batch *b, const struct gdb_auth *auth,
			struct gdb_result *res)
{
	for (size_t i = 0; i < auth->checks.n; i++) {
		int rv = gdb_schema_check_table(b->db, auth->checks.v[i], res);
		if (rv != 0) {
			return rv;
		}
	}
	return 0;
}

/* Run SQL on the exec connection with triggers off, as the apply
 * connection will. */
static int run_without_triggers(sqlite3 *db, const char *sql)
{
	sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, NULL);
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 1, NULL);
	return rc;
}

/* After ALTER TABLE ADD COLUMN ... DEFAULT: store the default in every row
 * and ship the statement that did it (see schema.c for why). BEFORE holds
 * each altered table's column count before the statement ran. */
static int materialize_defaults(struct batch *b, const struct gdb_auth *auth,
				const int *before, struct item_list *items,
				struct gdb_result *res)
{
	for (size_t i = 0; i < auth->altered.n; i++) {
		const char *table = auth->altered.v[i];
		char *sql = NULL;
		int now = 0;
		int rc = gdb_schema_column_count(b->db, table, &now);
		if (rc == SQLITE_OK && now > before[i]) {
			rc = gdb_schema_materialize_sql(b->db, table, before[i],
							&sql);
		}
		if (rc == SQLITE_OK && sql != NULL) {
			rc = run_without_triggers(b->db, sql);
		}
		if (rc != SQLITE_OK) {
			tm_free(sql);
			gdb_result_fail(res, gdb_sqlite_status(rc),
					"storing the new column's default in "
					"\"%s\": %s",
					table, sqlite3_errmsg(b->db));
			return res->status;
		}
		if (sql != NULL) {
			items_push(items, GDB_ITEM_SQL, sql, strlen(sql));
		}
	}
	return 0;
}

static int count_altered_columns(struct batch *b, const struct gdb_auth *auth,
				 int *counts, struct gdb_result *res)
{
	for (size_t i = 0; i < auth->altered.n; i++) {
		int rc = gdb_schema_column_count(b->db, auth->altered.v[i],
						 &counts[i]);
		if (rc != SQLITE_OK) {
			gdb_result_fail(res, gdb_sqlite_status(rc),
					"reading table \"%s\": %s",
					auth->altered.v[i],
					sqlite3_errmsg(b->db));
			return res->status;
		}
	}
	return 0;
}

/* Step the schema statement, check what it created, and collect its items:
 * the SQL text, then any follow-up statement, then side effects. */
static int step_schema(struct batch *b, sqlite3_stmt *st, struct gdb_auth *auth,
		       sqlite3_session *s, struct gdb_result *res,
		       struct item_list *items)
{
	int *before = tm_calloc(auth->altered.n, sizeof *before);
	int rv = count_altered_columns(b, auth, before, res);
	if (rv == 0) {
		rv = step(b, st, auth, res);
	}
	gdb_auth_stop(b->c);
	if (rv == 0) {
		rv = check_tables(b, auth, res);
	}
	if (rv == 0) {
		const char *sql = sqlite3_sql(st);
		size_t len = strlen(sql);
		items_push(items, GDB_ITEM_SQL, tm_strndup(sql, len), len);
		rv = materialize_defaults(b, auth, before, items, res);
	}
	if (rv == 0) {
		rv = take_changeset(s, items, res);
	}
	tm_free(before);
	return rv;
}

static int run_schema(struct batch *b, sqlite3_stmt *st, struct gdb_auth *auth,
		      struct gdb_result *res, struct item_list *items)
{
	struct side_effects fx = {.targets = &auth->targets};
	sqlite3_session *s = NULL;
	int rv;

	/* The exec connection's schema may now change until the batch rolls
	 * back: the recorder, which caches table shapes, stands aside. */
	b->schema_ran = true;
	gdb_shapes_clear(&b->c->shapes);

	int rc = gdb_schema_tables(b->db, &fx.before);
	if (rc != SQLITE_OK) {
		gdb_result_fail(res, gdb_sqlite_status(rc),
				"listing tables: %s", sqlite3_errmsg(b->db));
		rv = res->status;
		goto out;
	}
	rv = open_session(b->db, &s, res);
	if (rv != 0) {
		goto out;
	}
	sqlite3session_table_filter(s, side_effect_filter, &fx);
	sqlite3session_attach(s, NULL);
	rv = step_schema(b, st, auth, s, res, items);
out:
	if (s != NULL) {
		sqlite3session_delete(s);
	}
	gdb_names_clear(&fx.before);
	return rv;
}

static int run_statement(struct batch *b, const struct gdb_stmt *stmt,
			 struct gdb_result *res, struct item_list *items)
{
	struct gdb_auth auth;
	sqlite3_stmt *st = NULL;
	int rv;

	gdb_auth_begin(b->c, &auth, GDB_EXEC_WRITE);
	rv = gdb_exec_prepare(b->c, stmt, &auth, &st, res);
	if (rv != 0) {
		goto out;
	}
	if (auth.schema && stmt->n_params > 0) {
		gdb_result_fail(res, TM_INVALID,
				"parameters are not accepted in schema "
				"statements: they travel as SQL text");
		rv = res->status;
		goto out;
	}
	rv = gdb_stmt_bind(st, stmt, res);
	if (rv != 0) {
		goto out;
	}
	if (auth.schema) {
		rv = run_schema(b, st, &auth, res, items);
	} else {
		rv = run_data(b, st, &auth, res, items);
	}
out:
	gdb_exec_release(b->c, st);
	gdb_auth_end(b->c, &auth);
	return rv;
}

static void check_broken(struct batch *b, const struct gdb_result *res)
{
	if (!b->broken && sqlite3_get_autocommit(b->db)) {
		b->broken = true;
		tm_errmsg_printf(b->broken_msg, "%s", res->error);
		if (b->c->why == GDB_STOP_BUDGET) {
			LOGT("gdb: batch past the loop's budget: to a worker");
		} else {
			LOGW("gdb: SQLite rolled back the batch: %s",
			     res->error);
		}
	}
}

/* Deferred foreign key violations still pending in the transaction. The
 * exec transaction never commits, so SQLite never checks them itself. */
static bool deferred_fk_pending(sqlite3 *db)
{
	int current = 0;
	int high = 0;
	sqlite3_db_status(db, SQLITE_DBSTATUS_DEFERRED_FKS, &current, &high, 0);
	return current > 0;
}

static uint64_t items_bytes(const struct item_list *items)
{
	uint64_t total = 0;
	for (size_t i = 0; i < items->n; i++) {
		total += items->v[i].len;
	}
	return total;
}

/* The changes of a request (ITEMS) must stay within max_write_bytes: an
 * entry is held in memory by every member and written to every log. */
static int check_write_size(struct batch *b, const struct item_list *items,
			    struct gdb_result *res)
{
	uint64_t total = items_bytes(items);
	if (b->c->max_write_bytes == 0 || total <= b->c->max_write_bytes) {
		return 0;
	}
	gdb_result_clear(res);
	gdb_result_fail(res, TM_TOOBIG,
			"the request's changes take %llu bytes, more than "
			"core.max_write_size (%llu bytes); split it into "
			"smaller requests",
			(unsigned long long)total,
			(unsigned long long)b->c->max_write_bytes);
	return res->status;
}

/* Execute one statement of REQ inside its own savepoint. A statement of a
 * non-transaction request stands alone, so its deferred foreign keys must
 * hold when it ends. */
static int run_in_savepoint(struct batch *b, struct gdb_request *req,
			    const struct gdb_stmt *stmt, struct gdb_result *res,
			    struct item_list *items)
{
	size_t mark = items->n;
	bool transaction = req->transaction;
	gdb_conn_bound(b->c, req, b->default_timeout_ms);
	savepoint(b, GDB_SQL_SP_STMT);
	if (b->broken) {
		gdb_result_fail(res, TM_IO,
				"not executed: the batch's transaction was "
				"rolled back by SQLite (%s)",
				b->broken_msg);
		return res->status;
	}
	int rv = run_statement(b, stmt, res, items);
	if (rv == 0 && !transaction && deferred_fk_pending(b->db)) {
		gdb_result_clear(res);
		gdb_result_fail(res, TM_CONFLICT,
				"FOREIGN KEY constraint failed (deferred)");
		rv = res->status;
	}
	if (rv == 0) {
		rv = check_write_size(b, items, res);
	}
	if (rv != 0) {
		items_truncate(items, mark);
		check_broken(b, res);
		savepoint(b, GDB_SQL_RB_STMT);
	}
	savepoint(b, GDB_SQL_RL_STMT);
	return rv;
}

/* Roll REQ back; FAILED is the statement that failed, or n_stmts when the
 * request as a whole broke a deferred foreign key. */
static void roll_back_request(struct batch *b, struct gdb_request *req,
			      size_t failed, struct item_list *items)
{
	char why[TM_ERRMSG_SIZE];
	savepoint(b, GDB_SQL_RB_REQUEST);
	items_truncate(items, 0);
	if (failed < req->n_stmts) {
		snprintf(why, sizeof why,
			 "statement %zu of this transaction failed",
			 failed + 1);
		req->status = req->results[failed].status;
		tm_errmsg_printf(req->errmsg, "statement %zu: %s", failed + 1,
				 req->results[failed].error);
	} else {
		snprintf(why, sizeof why,
			 "the transaction left a deferred foreign key "
			 "violated");
		req->status = TM_CONFLICT;
		tm_errmsg_printf(req->errmsg,
				 "FOREIGN KEY constraint failed (deferred)");
	}
	for (size_t i = 0; i < req->n_stmts; i++) {
		if (i == failed) {
			continue;
		}
		gdb_result_clear(&req->results[i]);
		gdb_result_fail(&req->results[i], TM_CANCELED, "%s: %s",
				i < failed ? "rolled back" : "not executed",
				why);
	}
}

static void run_request(struct batch *b, struct gdb_request *req,
			struct item_list *items)
{
	size_t failed = SIZE_MAX;

	req->results = tm_calloc(req->n_stmts, sizeof *req->results);
	req->status = 0;
	req->errmsg[0] = '\0';
	if (atomic_load(&req->canceled)) {
		/* Its client went away while it waited in the batch. */
		req->status = TM_CANCELED;
		tm_errmsg_printf(req->errmsg, "canceled: the client went "
					      "away; nothing was applied");
		for (size_t i = 0; i < req->n_stmts; i++) {
			gdb_result_fail(&req->results[i], TM_CANCELED,
					"not executed: the client went away");
		}
		return;
	}
	savepoint(b, GDB_SQL_SP_REQUEST);
	for (size_t i = 0; i < req->n_stmts; i++) {
		if (req->transaction && failed != SIZE_MAX) {
			break;
		}
		int rv = run_in_savepoint(b, req, &req->stmts[i],
					  &req->results[i], items);
		if (rv != 0 && failed == SIZE_MAX) {
			failed = i;
		}
	}
	if (req->transaction && failed == SIZE_MAX && !b->broken &&
	    deferred_fk_pending(b->db)) {
		failed = req->n_stmts;
	}
	if (req->transaction && failed != SIZE_MAX) {
		roll_back_request(b, req, failed, items);
	}
	savepoint(b, GDB_SQL_RL_REQUEST);
}

/* Build the entry from the requests that changed something. */
static void encode(struct item_list *lists, size_t n, struct raft_buffer *buf)
{
	struct gdb_entry e = {.type = GDB_ENTRY_WRITE};
	size_t n_items = 0;
	for (size_t k = 0; k < n; k++) {
		n_items += lists[k].n;
		e.n_requests += lists[k].n > 0 ? 1 : 0;
	}
	e.requests = tm_calloc(e.n_requests, sizeof *e.requests);
	struct gdb_item *items = tm_calloc(n_items, sizeof *items);
	size_t r = 0;
	size_t next = 0;
	for (size_t k = 0; k < n; k++) {
		if (lists[k].n == 0) {
			continue;
		}
		e.requests[r].n_items = lists[k].n;
		e.requests[r].items = &items[next];
		for (size_t i = 0; i < lists[k].n; i++) {
			items[next].kind = lists[k].v[i].kind;
			items[next].data = lists[k].v[i].data;
			items[next].len = lists[k].v[i].len;
			next++;
		}
		r++;
	}
	buf->len = gdb_entry_size(&e);
	buf->base = raft_malloc(buf->len);
	INVARIANT(buf->base != NULL);
	gdb_entry_encode(&e, buf->base);
	tm_free(items);
	tm_free(e.requests);
}

int gdb_write_batch(struct gdb_conn *c, struct gdb_request **reqs, size_t n,
		    unsigned default_timeout_ms, struct raft_buffer *buf,
		    bool *changed, size_t *n_ran, char *errmsg)
{
	struct batch b = {
	    .c = c, .db = c->db, .default_timeout_ms = default_timeout_ms};
	int rc = gdb_sql_run(c->sql, GDB_SQL_BEGIN_WRITE);
	*n_ran = 0;
	if (rc != SQLITE_OK) {
		tm_errmsg_printf(errmsg, "BEGIN: %s", sqlite3_errmsg(c->db));
		return gdb_sqlite_status(rc) != 0 ? gdb_sqlite_status(rc)
						  : TM_DB;
	}
	struct item_list *lists = tm_calloc(n, sizeof *lists);
	size_t n_items = 0;
	/* Once SQLite rolled the transaction back, the requests left did not
	 * run: the caller queues them again. So are the requests after the
	 * batch's changes reached max_write_bytes: each request is bounded by
	 * it, so an entry stays below twice that. */
	uint64_t bytes = 0;
	for (size_t k = 0; k < n && !b.broken; k++) {
		if (c->max_write_bytes != 0 && bytes >= c->max_write_bytes) {
			break;
		}
		run_request(&b, reqs[k], &lists[k]);
		n_items += lists[k].n;
		bytes += items_bytes(&lists[k]);
		*n_ran = k + 1;
	}
	gdb_conn_unbound(c);
	if (!sqlite3_get_autocommit(c->db)) {
		rc = gdb_sql_run(c->sql, GDB_SQL_ROLLBACK);
		if (rc != SQLITE_OK) {
			/* The write lock would block every apply: stop. */
			LOGE("gdb: cannot roll back the leader's batch: %s",
			     sqlite3_errmsg(c->db));
			IMPOSSIBLE("rollback of the exec transaction failed");
		}
	}
	if (b.schema_ran) {
		gdb_shapes_clear(&c->shapes); /* the schema rolled back */
	}
	*changed = n_items > 0;
	if (*changed) {
		encode(lists, n, buf);
	}
	for (size_t k = 0; k < n; k++) {
		items_release(&lists[k]);
	}
	tm_free(lists);
	return 0;
}

/* The leader's write batch: execute requests, record their changes, build
 * the entry.
 *
 * Happy path, on the exec connection:
 *   BEGIN IMMEDIATE
 *   for each request:   SAVEPOINT gdb_request
 *     for each statement: SAVEPOINT gdb_statement
 *       data statement:   its row changes, in the order SQLite made them,
 *                         each by rowid or key -> one ROWS item (record.c)
 *       schema statement: the SQL text -> one SQL item; for CREATE TABLE
 *                         ... AS SELECT, the table's definition as SQLite
 *                         stored it instead, and its rows -> one ROWS item
 *                         (replaying the SELECT could give other rows or
 *                         rowids: random(), the time); after ALTER TABLE
 *                         ADD COLUMN with a DEFAULT, "UPDATE t SET c = c"
 *                         -> one more SQL item (schema.c says why); the
 *                         changes to tables that existed before, other
 *                         than the ones the statement names (ON DELETE
 *                         actions of a DROP TABLE) -> one ROWS item after
 *                         them, since the apply connection runs with
 *                         foreign keys off
 *     RELEASE gdb_statement
 *   RELEASE gdb_request
 *   ROLLBACK   (the database changes only when the entry is applied)
 *
 * A statement's changes are recorded one by one, not merged per row: SQLite
 * checks UNIQUE constraints row by row, so every intermediate state the
 * leader went through was valid, and replaying the same steps in the same
 * order on a member cannot meet a conflict the leader did not.
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
	void *data; /* tm_malloc'd */
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
	bool schema_ran; /* the exec connection's schema may have changed */
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
		tm_free(items->v[--items->n].data);
	}
}

static void items_release(struct item_list *items)
{
	items_truncate(items, 0);
	tm_free(items->v);
	memset(items, 0, sizeof *items);
}

/* A rollback may have undone schema changes: the recorder reads the
 * tables again. */
static void forget_tables(struct batch *b)
{
	if (b->schema_ran) {
		gdb_shapes_clear(&b->c->shapes);
	}
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

/* Start recording the row changes of the statement about to run. */
static int record_start(struct batch *b, const struct gdb_names *only,
			const struct gdb_names *except, struct gdb_result *res)
{
	int rc = gdb_record_start(b->c, only, except);
	if (rc != SQLITE_OK) {
		gdb_result_fail(res, gdb_sqlite_status(rc),
				"reading the tables' definitions: %s",
				sqlite3_errmsg(b->db));
		return res->status;
	}
	return 0;
}

/* Stop recording; when the statement ran (RV 0), its changes become an
 * item, if any. */
static int record_stop(struct batch *b, int rv, struct gdb_result *res,
		       struct item_list *items)
{
	uint8_t *rows = NULL;
	size_t len = 0;
	int rc = gdb_record_stop(b->c, &rows, &len);
	if (rv == 0 && rc != SQLITE_OK) {
		gdb_result_clear(res);
		gdb_result_fail(res, gdb_sqlite_status(rc),
				"recording the statement's row changes "
				"failed: %s",
				sqlite3_errstr(rc));
		rv = res->status;
	}
	if (rv == 0 && rows != NULL) {
		items_push(items, GDB_ITEM_ROWS, rows, len);
	} else {
		tm_free(rows);
	}
	return rv;
}

/* A data statement: read-only ones need no recording. */
static int run_data(struct batch *b, sqlite3_stmt *st, struct gdb_auth *auth,
		    struct gdb_result *res, struct item_list *items)
{
	if (sqlite3_stmt_readonly(st)) {
		int rv = step(b, st, auth, res);
		gdb_auth_stop(b->c);
		return rv;
	}
	int rv = record_start(b, NULL, NULL, res);
	if (rv != 0) {
		return rv;
	}
	rv = step(b, st, auth, res);
	gdb_auth_stop(b->c);
	if (rv == 0) {
		res->rows_affected = sqlite3_changes64(b->db);
		res->last_insert_id = sqlite3_last_insert_rowid(b->db);
		int rc = gdb_record_flush(b->c);
		if (rc != SQLITE_OK) {
			gdb_result_fail(res, gdb_sqlite_status(rc),
					"flushing the virtual tables' "
					"buffers: %s",
					sqlite3_errmsg(b->db));
			rv = res->status;
		}
	}
	return record_stop(b, rv, res, items);
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

/* The definition SQLite stored for TABLE, an ordinary table; NULL if none
 * (tm_malloc'd). */
static char *stored_sql(sqlite3 *db, const char *table)
{
	sqlite3_stmt *st;
	char *sql = NULL;
	/* Not the shadow tables of a virtual table, which the module fills
	 * when it creates them, identically on every member. */
	if (sqlite3_prepare_v2(db,
			       "SELECT s.sql FROM main.sqlite_schema AS s, "
			       "pragma_table_list(?1) AS t "
			       "WHERE s.type = 'table' AND s.name = ?1 "
			       "AND t.schema = 'main' AND t.type = 'table'",
			       -1, &st, NULL) != SQLITE_OK) {
		return NULL;
	}
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
		sql = tm_strdup((const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	return sql;
}

/* The items of a schema statement that created a table holding rows (only
 * CREATE TABLE ... AS SELECT does): the table's stored definition and its
 * rows, instead of the statement. False when ST is not such a statement. */
static bool created_with_rows(struct batch *b, const struct gdb_auth *auth,
			      const struct gdb_names *before,
			      struct item_list *items, int *rc)
{
	*rc = SQLITE_OK;
	for (size_t i = 0; i < auth->checks.n; i++) {
		const char *table = auth->checks.v[i];
		struct gdb_shape *s = NULL;
		uint8_t *rows = NULL;
		size_t len = 0;
		if (gdb_names_has(before, table)) {
			continue;
		}
		char *sql = stored_sql(b->db, table);
		if (sql == NULL) {
			continue;
		}
		*rc = gdb_shapes_get(&b->c->shapes, table, &s);
		if (*rc == SQLITE_OK && s != NULL && !s->keyed &&
		    s->rowid_name != NULL) {
			*rc = gdb_record_table(b->db, s, b->c->max_write_bytes,
					       &rows, &len);
		}
		if (*rc != SQLITE_OK || rows == NULL) {
			tm_free(sql);
			if (*rc != SQLITE_OK) {
				return false;
			}
			continue;
		}
		items_push(items, GDB_ITEM_SQL, sql, strlen(sql));
		items_push(items, GDB_ITEM_ROWS, rows, len);
		return true;
	}
	return false;
}

/* Step the schema statement, check what it created, and collect its items:
 * the SQL text (or the definition and rows of the table it created), then
 * any follow-up statement, then side effects. */
static int step_schema(struct batch *b, sqlite3_stmt *st, struct gdb_auth *auth,
		       const struct gdb_names *before, struct gdb_result *res,
		       struct item_list *items)
{
	struct item_list side = {0};
	int *before_cols = tm_calloc(auth->altered.n, sizeof *before_cols);
	int rv = count_altered_columns(b, auth, before_cols, res);
	if (rv == 0) {
		rv = record_start(b, before, &auth->targets, res);
	}
	if (rv == 0) {
		rv = step(b, st, auth, res);
		gdb_auth_stop(b->c);
		rv = record_stop(b, rv, res, &side);
	}
	gdb_shapes_clear(&b->c->shapes); /* the schema changed */
	if (rv == 0) {
		rv = check_tables(b, auth, res);
	}
	int rc = SQLITE_OK;
	if (rv == 0 && !created_with_rows(b, auth, before, items, &rc) &&
	    rc == SQLITE_OK) {
		const char *sql = sqlite3_sql(st);
		size_t len = strlen(sql);
		items_push(items, GDB_ITEM_SQL, tm_strndup(sql, len), len);
	}
	if (rv == 0 && rc == SQLITE_TOOBIG) {
		gdb_result_clear(res);
		gdb_result_fail(res, TM_TOOBIG,
				"the new table's rows take more than "
				"core.max_write_size (%llu bytes); create it "
				"empty and fill it in smaller requests",
				(unsigned long long)b->c->max_write_bytes);
		rv = res->status;
	} else if (rv == 0 && rc != SQLITE_OK) {
		gdb_result_clear(res);
		gdb_result_fail(res, gdb_sqlite_status(rc),
				"reading the rows of the new table: %s",
				sqlite3_errmsg(b->db));
		rv = res->status;
	}
	if (rv == 0) {
		rv = materialize_defaults(b, auth, before_cols, items, res);
	}
	for (size_t i = 0; rv == 0 && i < side.n; i++) {
		items_push(items, side.v[i].kind, side.v[i].data,
			   side.v[i].len);
		side.v[i].data = NULL;
	}
	items_release(&side);
	tm_free(before_cols);
	return rv;
}

static int run_schema(struct batch *b, sqlite3_stmt *st, struct gdb_auth *auth,
		      struct gdb_result *res, struct item_list *items)
{
	struct gdb_names before = {0};
	int rv;

	/* The exec connection's schema may now change until the batch rolls
	 * back: what the recorder knows of its tables is read again. */
	b->schema_ran = true;
	gdb_shapes_clear(&b->c->shapes);

	int rc = gdb_schema_tables(b->db, &before);
	if (rc != SQLITE_OK) {
		gdb_result_fail(res, gdb_sqlite_status(rc),
				"listing tables: %s", sqlite3_errmsg(b->db));
		rv = res->status;
	} else {
		rv = step_schema(b, st, auth, &before, res, items);
	}
	gdb_names_clear(&before);
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
		forget_tables(b);
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
	forget_tables(b);
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
	if (!sqlite3_get_autocommit(c->db)) {
		/* Never expected: every batch ends its transaction below. Seen
		 * once on a leader whose loop was slowed down by a tracer
		 * (every later write failed with "BEGIN: cannot start a
		 * transaction within a transaction"): end it rather than
		 * refuse every write from now on. */
		LOGE("gdb: the leader's exec connection was left in a "
		     "transaction; rolling it back");
		if (gdb_conn_run_quiet(c, GDB_SQL_ROLLBACK) != SQLITE_OK) {
			IMPOSSIBLE("rollback of the exec transaction failed");
		}
	}
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
		rc = gdb_conn_run_quiet(c, GDB_SQL_ROLLBACK);
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

/* SQL on the member's local database, read-only, and the read-only test
 * that routes global requests to gdb_read or gdb_write.
 *
 * The daemon manages the local database's contents, so the SQL API only
 * reads it. sql_local_run, happy path: the connection is idle -> BEGIN ->
 * install the authorizer -> prepare every statement -> bind and step each,
 * collecting rows -> remove the authorizer -> ROLLBACK.
 *
 * Failure modes:
 * - the connection is inside a transaction (a bug elsewhere): TM_BUSY;
 * - BEGIN fails: TM_DB;
 * - a statement that prepares but is not read-only, or that the authorizer
 *   refuses (transaction control, ATTACH/DETACH, REINDEX, load_extension(),
 *   a PRAGMA that sets or acts): the whole request is refused (TM_INVALID)
 *   before anything runs;
 * - SQL errors (syntax, unknown table, wrong parameter count, a failure
 *   while stepping): that statement's own result, the others still run;
 * - with bounds (sql_local_run_bounded): a statement that runs past its
 *   timeout or whose client went away is interrupted by the progress
 *   handler: its own result says why, the others still run (and are
 *   interrupted at once when the client is gone).
 *
 * The transaction is rolled back, never committed: whatever a statement
 * might have changed is undone, and all statements see one snapshot. */
#include <string.h>
#include <strings.h>
#include <time.h>

#include "internal/api/sql.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"

/* Instructions between two looks at a statement's bounds. */
#define PROGRESS_OPS 1000

struct local_auth {
	bool denied;
	char message[TM_ERRMSG_SIZE];
};

/* PRAGMAs that only report, without an argument ("PRAGMA user_version"). */
static const char *const pragma_reports[] = {
    "application_id",  "auto_vacuum",	 "cache_size",	  "collation_list",
    "compile_options", "data_version",	 "database_list", "encoding",
    "foreign_keys",    "freelist_count", "function_list", "max_page_count",
    "module_list",     "page_count",	 "page_size",	  "pragma_list",
    "schema_version",  "synchronous",	 "user_version",  NULL,
};

/* PRAGMAs whose argument only names what they report on. */
static const char *const pragma_queries[] = {
    "foreign_key_check", "foreign_key_list", "index_info",  "index_list",
    "index_xinfo",	 "integrity_check",  "quick_check", "table_info",
    "table_list",	 "table_xinfo",	     NULL,
};

static bool listed(const char *const *list, const char *name)
{
	for (size_t i = 0; list[i] != NULL; i++) {
		if (strcasecmp(list[i], name) == 0) {
			return true;
		}
	}
	return false;
}

static int deny(struct local_auth *auth, const char *what)
{
	if (!auth->denied) {
		tm_errmsg_printf(auth->message, "%s", what);
		auth->denied = true;
	}
	return SQLITE_DENY;
}

static int authorize(void *arg, int action, const char *a, const char *b,
		     const char *db_name, const char *trigger)
{
	struct local_auth *auth = arg;
	(void)db_name;
	(void)trigger;
	switch (action) {
	case SQLITE_TRANSACTION:
	case SQLITE_SAVEPOINT:
		return deny(auth, "transaction control is not allowed (each "
				  "request runs in one read transaction)");
	case SQLITE_ATTACH:
	case SQLITE_DETACH:
		return deny(auth, "ATTACH and DETACH are not allowed");
	case SQLITE_REINDEX:
		return deny(auth, "REINDEX is not allowed");
	case SQLITE_PRAGMA:
		if (a != NULL && ((b == NULL && listed(pragma_reports, a)) ||
				  listed(pragma_queries, a))) {
			return SQLITE_OK;
		}
		if (!auth->denied) {
			tm_errmsg_printf(auth->message,
					 "PRAGMA %.40s%s is not allowed (only "
					 "PRAGMAs that report)",
					 a != NULL ? a : "",
					 b != NULL ? " with a value" : "");
			auth->denied = true;
		}
		return SQLITE_DENY;
	case SQLITE_FUNCTION:
		if (b != NULL && strcasecmp(b, "load_extension") == 0) {
			return deny(auth,
				    "load_extension() is refused: it would "
				    "load code into the daemon");
		}
		return SQLITE_OK;
	default:
		return SQLITE_OK;
	}
}

/* Skip whitespace, comments and semicolons: where real SQL starts, or the
 * terminating NUL. */
static const char *skip_filler(const char *p)
{
	for (;;) {
		if (strchr(" \t\n\r\f\v;", *p) != NULL && *p != '\0') {
			p++;
		} else if (p[0] == '-' && p[1] == '-') {
			p += strcspn(p, "\n");
		} else if (p[0] == '/' && p[1] == '*') {
			const char *end = strstr(p + 2, "*/");
			if (end == NULL) {
				return p + strlen(p);
			}
			p = end + 2;
		} else {
			return p;
		}
	}
}

static void fail(struct gdb_result *res, int status, const char *msg)
{
	tm_free(res->error);
	res->error = tm_strdup(msg);
	res->status = status;
}

static int sqlite_status(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return TM_BUSY;
	case SQLITE_TOOBIG:
		return TM_TOOBIG;
	case SQLITE_CONSTRAINT:
		return TM_CONFLICT;
	case SQLITE_IOERR:
	case SQLITE_FULL:
	case SQLITE_CANTOPEN:
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	case SQLITE_NOMEM:
		return TM_DB;
	default: /* ERROR, MISMATCH, RANGE, SCHEMA: the SQL is wrong */
		return TM_INVALID;
	}
}

/* Prepare exactly one statement. 0 with *OUT set, or a TM_* code with RES
 * failed. */
static int prepare_one(sqlite3 *db, const char *sql, struct local_auth *auth,
		       sqlite3_stmt **out, struct gdb_result *res)
{
	const char *tail = NULL;
	*out = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, out, &tail);
	if (rc != SQLITE_OK) {
		fail(res, sqlite_status(rc),
		     auth != NULL && auth->denied ? auth->message
						  : sqlite3_errmsg(db));
		return res->status;
	}
	if (*out == NULL) {
		fail(res, TM_INVALID, "empty SQL statement");
		return res->status;
	}
	if (*skip_filler(tail) != '\0') {
		sqlite3_finalize(*out);
		*out = NULL;
		fail(res, TM_INVALID,
		     "one SQL statement per statement entry: "
		     "found more SQL after the first");
		return res->status;
	}
	return 0;
}

static void set_columns(sqlite3_stmt *st, struct gdb_result *res)
{
	size_t n = (size_t)sqlite3_column_count(st);
	res->n_cols = n;
	res->columns = tm_calloc(n, sizeof *res->columns);
	res->decltypes = tm_calloc(n, sizeof *res->decltypes);
	for (size_t c = 0; c < n; c++) {
		const char *name = sqlite3_column_name(st, (int)c);
		const char *decl = sqlite3_column_decltype(st, (int)c);
		res->columns[c] = tm_strdup(name != NULL ? name : "");
		res->decltypes[c] = tm_strdup(decl != NULL ? decl : "");
	}
}

static void add_row(sqlite3_stmt *st, struct gdb_result *res, size_t *cap)
{
	if (res->n_rows == *cap) {
		*cap = *cap == 0 ? 8 : *cap * 2;
		res->rows = tm_realloc(res->rows,
				       *cap * res->n_cols * sizeof *res->rows);
	}
	struct gdb_value *row = &res->rows[res->n_rows * res->n_cols];
	for (size_t c = 0; c < res->n_cols; c++) {
		gdb_value_from_column(st, (int)c, &row[c]);
	}
	res->n_rows++;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* SQLite calls this every PROGRESS_OPS instructions of a statement. */
static int progress_cb(void *arg)
{
	struct sql_bounds *b = arg;
	if (b->cancel != NULL && atomic_load(b->cancel)) {
		b->why = TM_CANCELED;
		return 1;
	}
	if (b->deadline_ns != 0 && now_ns() > b->deadline_ns) {
		b->why = TM_TIMEOUT;
		return 1;
	}
	return 0;
}

static void bound_statement(struct sql_bounds *b)
{
	if (b != NULL) {
		b->why = 0;
		b->deadline_ns =
		    b->timeout_ms != 0
			? now_ns() + (uint64_t)b->timeout_ms * 1000000u
			: 0;
	}
}

/* Why statement stepping failed with RC: RES gets the status and error. */
static void step_failed(sqlite3 *db, struct local_auth *auth,
			const struct sql_bounds *b, int rc,
			struct gdb_result *res)
{
	char *error;
	int status = sqlite_status(rc);
	if (b != NULL && (rc & 0xff) == SQLITE_INTERRUPT && b->why != 0) {
		status = b->why;
		error = b->why == TM_TIMEOUT
			    ? tm_asprintf("interrupted: the statement ran "
					  "longer than its timeout of %u ms "
					  "(core.query_timeout; a request may "
					  "ask for another with \"timeout\", "
					  "up to core.max_query_timeout)",
					  b->timeout_ms)
			    : tm_strdup("interrupted: the client went away");
	} else if ((rc & 0xff) == SQLITE_TOOBIG) {
		error = tm_asprintf("a value is larger than "
				    "core.max_response_size (%d bytes)",
				    sqlite3_limit(db, SQLITE_LIMIT_LENGTH, -1));
	} else {
		error = tm_strdup(auth->denied ? auth->message
					       : sqlite3_errmsg(db));
	}
	gdb_result_clear(res);
	res->status = status;
	res->error = error;
}

/* One row: to SINK, or kept in RES. 0, or the sink's status (RES
 * failed). */
static int take_row(sqlite3_stmt *st, struct gdb_sink *sink, size_t i,
		    struct gdb_result *res, size_t *cap)
{
	char errmsg[TM_ERRMSG_SIZE];
	if (sink == NULL) {
		add_row(st, res, cap);
		return 0;
	}
	res->n_rows++;
	int rv = sink->row(sink, i, st, errmsg);
	if (rv != 0) {
		fail(res, rv, errmsg);
	}
	return rv;
}

static void run_one(sqlite3 *db, struct local_auth *auth, sqlite3_stmt *st,
		    const struct gdb_stmt *stmt, struct sql_bounds *b,
		    struct gdb_sink *sink, size_t i, struct gdb_result *res)
{
	char errmsg[TM_ERRMSG_SIZE];
	size_t cap = 0;
	if (gdb_stmt_bind(st, stmt, res) != 0) {
		return;
	}
	bound_statement(b);
	int rc = sqlite3_step(st);
	/* Names after the first step: a re-prepare may change them. */
	set_columns(st, res);
	if (sink != NULL && res->n_cols > 0) {
		int rv = sink->columns(sink, i, st, errmsg);
		if (rv != 0) {
			fail(res, rv, errmsg);
			return;
		}
	}
	while (rc == SQLITE_ROW) {
		if (res->n_cols > 0 && take_row(st, sink, i, res, &cap) != 0) {
			return;
		}
		rc = sqlite3_step(st);
	}
	if (rc != SQLITE_DONE) {
		step_failed(db, auth, b, rc, res);
	}
}

/* VACUUM has no authorizer action: recognise it by its first word. */
static bool is_vacuum(const char *sql)
{
	const char *p = skip_filler(sql);
	return strncasecmp(p, "VACUUM", 6) == 0 &&
	       strchr(" \t\n\r\f\v;-/'\"", p[6]) != NULL;
}

/* Prepare every statement into PREPARED (per-statement SQL errors go to
 * RES). TM_INVALID with ERRMSG if one writes or was refused. */
static int prepare_all(sqlite3 *db, struct local_auth *auth,
		       const struct gdb_stmt *stmts, size_t n,
		       sqlite3_stmt **prepared, struct gdb_result *res,
		       char *errmsg)
{
	for (size_t i = 0; i < n; i++) {
		auth->denied = false;
		if (prepare_one(db, stmts[i].sql, auth, &prepared[i],
				&res[i]) != 0) {
			if (auth->denied) {
				tm_errmsg_printf(errmsg,
						 "the local database is "
						 "read-only through the SQL "
						 "API: statement %zu: %s",
						 i + 1, auth->message);
				return TM_INVALID;
			}
			continue;
		}
		if (is_vacuum(stmts[i].sql)) {
			tm_errmsg_printf(errmsg,
					 "the local database is "
					 "read-only through the SQL "
					 "API: statement %zu: VACUUM and "
					 "VACUUM INTO are refused (the daemon "
					 "maintains its local database file; "
					 "VACUUM INTO would write a file on "
					 "the member)",
					 i + 1);
			return TM_INVALID;
		}
		if (!sqlite3_stmt_readonly(prepared[i])) {
			tm_errmsg_printf(errmsg,
					 "the local database is "
					 "read-only through the SQL "
					 "API: statement %zu writes",
					 i + 1);
			return TM_INVALID;
		}
	}
	return 0;
}

int sql_local_run(sqlite3 *db, const struct gdb_stmt *stmts, size_t n,
		  struct gdb_result **results, char *errmsg)
{
	return sql_local_run_bounded(db, stmts, n, NULL, NULL, results, errmsg);
}

int sql_local_run_bounded(sqlite3 *db, const struct gdb_stmt *stmts, size_t n,
			  struct sql_bounds *bounds, struct gdb_sink *sink,
			  struct gdb_result **results, char *errmsg)
{
	struct local_auth auth = {0};
	*results = NULL;
	if (!sqlite3_get_autocommit(db)) {
		tm_errmsg_printf(errmsg, "the local database is busy");
		return TM_BUSY;
	}
	int rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		tm_errmsg_printf(errmsg, "local database: BEGIN: %s",
				 sqlite3_errmsg(db));
		return TM_DB;
	}
	sqlite3_set_authorizer(db, authorize, &auth);
	sqlite3_stmt **prepared = tm_calloc(n, sizeof *prepared);
	struct gdb_result *res = tm_calloc(n, sizeof *res);
	int rv = prepare_all(db, &auth, stmts, n, prepared, res, errmsg);
	if (rv == 0 && bounds != NULL) {
		sqlite3_progress_handler(db, PROGRESS_OPS, progress_cb, bounds);
	}
	for (size_t i = 0; i < n && rv == 0; i++) {
		if (prepared[i] != NULL) {
			auth.denied = false;
			run_one(db, &auth, prepared[i], &stmts[i], bounds, sink,
				i, &res[i]);
		}
		if (sink != NULL && sink->end != NULL) {
			sink->end(sink, i, &res[i]);
		}
	}
	sqlite3_progress_handler(db, 0, NULL, NULL);
	for (size_t i = 0; i < n; i++) {
		sqlite3_finalize(prepared[i]);
	}
	tm_free(prepared);
	sqlite3_set_authorizer(db, NULL, NULL);
	if (!sqlite3_get_autocommit(db) &&
	    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK) {
		LOGE("sql: local database: ROLLBACK: %s", sqlite3_errmsg(db));
	}
	if (rv != 0) {
		sql_results_free(res, n);
		return rv;
	}
	*results = res;
	return 0;
}

void sql_results_free(struct gdb_result *results, size_t n)
{
	if (results == NULL) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		gdb_result_clear(&results[i]);
	}
	tm_free(results);
}

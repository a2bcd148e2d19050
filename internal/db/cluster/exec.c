/* Running one user statement: prepare (exactly one statement, through the
 * statement cache of cache.c), bind the request's parameters, step to the
 * end collecting rows. Shared by the leader's write batches, reads and the
 * read-only test; the caller decides about sessions and transactions. */
#include <string.h>

#include "internal/db/cluster/gdb_private.h"
#include "internal/lib/assert.h"
#include "internal/lib/mem.h"

/* Skip whitespace, comments and semicolons; return where real SQL starts, or
 * the terminating NUL. */
static const char *skip_filler(const char *p)
{
	for (;;) {
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' ||
		    *p == '\f' || *p == '\v' || *p == ';') {
			p++;
		} else if (p[0] == '-' && p[1] == '-') {
			while (*p != '\0' && *p != '\n') {
				p++;
			}
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

static int fail_sqlite(struct gdb_conn *c, struct gdb_auth *auth, int rc,
		       struct gdb_result *res)
{
	char why[TM_ERRMSG_SIZE];
	if (auth->denied) {
		gdb_result_fail(res, TM_INVALID, "%s", auth->message);
	} else if (gdb_conn_interrupted(c, rc)) {
		int status = gdb_conn_stop_message(c, why, sizeof why);
		gdb_result_fail(res, status, "%s", why);
	} else if ((rc & 0xff) == SQLITE_TOOBIG && c->length_key != NULL) {
		gdb_result_fail(res, TM_TOOBIG,
				"a value is larger than %s (%d bytes)",
				c->length_key,
				sqlite3_limit(c->db, SQLITE_LIMIT_LENGTH, -1));
	} else {
		gdb_result_fail(res, gdb_sqlite_status(rc), "%s",
				sqlite3_errmsg(c->db));
	}
	return res->status;
}

/* Prepare SQL on DB, bypassing the cache. */
static int prepare_one(struct gdb_conn *c, const char *sql,
		       struct gdb_auth *auth, sqlite3_stmt **out,
		       struct gdb_result *res)
{
	const char *tail = NULL;
	sqlite3_stmt *st = NULL;

	*out = NULL;
	int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
				    &st, &tail);
	if (rc != SQLITE_OK) {
		return fail_sqlite(c, auth, rc, res);
	}
	if (st == NULL) {
		gdb_result_fail(res, TM_INVALID, "empty SQL statement");
		return res->status;
	}
	if (gdb_auth_refuse_vacuum(auth, skip_filler(sql))) {
		sqlite3_finalize(st);
		return fail_sqlite(c, auth, SQLITE_AUTH, res);
	}
	const char *rest = skip_filler(tail);
	if (*rest != '\0') {
		sqlite3_finalize(st);
		gdb_result_fail(res, TM_INVALID,
				"one SQL statement per statement entry: found "
				"more SQL after the first: \"%.40s\"",
				rest);
		return res->status;
	}
	*out = st;
	return 0;
}

int gdb_exec_prepare(struct gdb_conn *c, const struct gdb_stmt *stmt,
		     struct gdb_auth *auth, sqlite3_stmt **out,
		     struct gdb_result *res)
{
	*out = NULL;
	if (stmt->sql == NULL) {
		gdb_result_fail(res, TM_INVALID, "no SQL text");
		return res->status;
	}
	*out = gdb_cache_get(c, stmt->sql);
	if (*out != NULL) {
		return 0;
	}
	PRE(c->auth == auth);
	int rv = prepare_one(c, stmt->sql, auth, out, res);
	if (rv == 0 && !auth->schema) {
		gdb_cache_put(c, stmt->sql, *out);
	}
	return rv;
}

bool gdb_exec_read_only(struct gdb_conn *c, const struct gdb_stmt *stmt)
{
	struct gdb_auth auth;
	struct gdb_result res = {0};
	sqlite3_stmt *st = NULL;
	bool read_only = false;

	if (stmt->sql == NULL) {
		return false;
	}
	gdb_auth_begin(c, &auth, GDB_EXEC_READ);
	int rv = gdb_exec_prepare(c, stmt, &auth, &st, &res);
	gdb_auth_end(c, &auth);
	gdb_result_clear(&res);
	if (rv == 0) {
		read_only = sqlite3_stmt_readonly(st);
		gdb_exec_release(c, st);
	} else if (auth.denied) {
		/* Route it as if nothing were refused: gdb_read or gdb_write
		 * then reports the refusal (never cached: unauthorized). */
		auth = (struct gdb_auth){.mode = GDB_EXEC_READ};
		if (prepare_one(c, stmt->sql, &auth, &st, &res) == 0) {
			read_only = sqlite3_stmt_readonly(st);
			sqlite3_finalize(st);
		}
		gdb_result_clear(&res);
	}
	return read_only;
}

static int bind_one(sqlite3_stmt *st, int idx, const struct gdb_value *v)
{
	switch (v->type) {
	case GDB_INT:
		return sqlite3_bind_int64(st, idx, v->i);
	case GDB_REAL:
		return sqlite3_bind_double(st, idx, v->r);
	case GDB_TEXT:
		return sqlite3_bind_text64(st, idx, v->p != NULL ? v->p : "",
					   v->n, SQLITE_STATIC, SQLITE_UTF8);
	case GDB_BLOB:
		if (v->n == 0) {
			return sqlite3_bind_zeroblob(st, idx, 0);
		}
		return sqlite3_bind_blob64(st, idx, v->p, v->n, SQLITE_STATIC);
	case GDB_NULL:
	default:
		return sqlite3_bind_null(st, idx);
	}
}

int gdb_stmt_bind(sqlite3_stmt *st, const struct gdb_stmt *stmt,
		  struct gdb_result *res)
{
	if (gdb_params_check(st, stmt, res) != 0) {
		return res->status;
	}
	for (size_t i = 0; i < stmt->n_params; i++) {
		int idx = (int)i + 1;
		if (stmt->names != NULL) {
			const char *name = stmt->names[i];
			idx = name != NULL
				  ? sqlite3_bind_parameter_index(st, name)
				  : 0;
			if (idx == 0) {
				gdb_result_fail(res, TM_INVALID,
						"statement has no parameter "
						"named \"%s\"",
						name != NULL ? name : "(null)");
				return res->status;
			}
		}
		int rc = bind_one(st, idx, &stmt->params[i]);
		if (rc != SQLITE_OK) {
			gdb_result_fail(res, gdb_sqlite_status(rc),
					"bind parameter %zu: %s", i + 1,
					sqlite3_errstr(rc));
			return res->status;
		}
	}
	return 0;
}

static void set_columns(sqlite3_stmt *st, size_t n_cols, struct gdb_result *res)
{
	res->n_cols = n_cols;
	res->columns = tm_calloc(n_cols, sizeof *res->columns);
	res->decltypes = tm_calloc(n_cols, sizeof *res->decltypes);
	for (size_t c = 0; c < n_cols; c++) {
		const char *name = sqlite3_column_name(st, (int)c);
		const char *decl = sqlite3_column_decltype(st, (int)c);
		res->columns[c] = tm_strdup(name != NULL ? name : "");
		res->decltypes[c] = tm_strdup(decl != NULL ? decl : "");
	}
}

/* Bytes a value holds in results[] (what a response will carry). */
static uint64_t value_bytes(const struct gdb_value *v)
{
	return sizeof *v +
	       (v->type == GDB_TEXT || v->type == GDB_BLOB ? v->n : 0);
}

static uint64_t add_row(sqlite3_stmt *st, struct gdb_result *res, size_t *cap)
{
	size_t n_cols = res->n_cols;
	uint64_t bytes = 0;
	if (res->n_rows == *cap) {
		*cap = *cap == 0 ? 8 : *cap * 2;
		res->rows =
		    tm_realloc(res->rows, *cap * n_cols * sizeof *res->rows);
	}
	struct gdb_value *row = &res->rows[res->n_rows * n_cols];
	for (size_t c = 0; c < n_cols; c++) {
		gdb_value_from_column(st, (int)c, &row[c]);
		bytes += value_bytes(&row[c]);
	}
	res->n_rows++;
	return bytes;
}

/* Keep the error of a failed statement and drop everything else. */
static int keep_error_only(struct gdb_result *res, int status)
{
	char *error = res->error;
	res->error = NULL;
	gdb_result_clear(res);
	res->status = status;
	res->error = error;
	return status;
}

/* One row: to the sink, or into RES within the budget. */
static int take_row(sqlite3_stmt *st, struct gdb_result *res, size_t *cap,
		    struct gdb_sink *sink, size_t i, uint64_t *row_bytes,
		    uint64_t row_budget)
{
	char errmsg[TM_ERRMSG_SIZE];
	if (sink != NULL) {
		res->n_rows++;
		int rv = sink->row(sink, i, st, errmsg);
		if (rv != 0) {
			gdb_result_fail(res, rv, "%s", errmsg);
		}
		return rv;
	}
	uint64_t bytes = add_row(st, res, cap);
	if (row_bytes == NULL) {
		return 0;
	}
	*row_bytes += bytes;
	if (row_budget != 0 && *row_bytes > row_budget) {
		gdb_result_fail(res, TM_TOOBIG,
				"the result is larger than "
				"core.max_response_size (%llu bytes) after "
				"%zu rows; fetch it in pages (LIMIT and a "
				"WHERE on the key)",
				(unsigned long long)row_budget, res->n_rows);
		return TM_TOOBIG;
	}
	return 0;
}

int gdb_exec_step_rows(struct gdb_conn *c, sqlite3_stmt *st,
		       struct gdb_auth *auth, struct gdb_result *res,
		       struct gdb_sink *sink, size_t i, uint64_t *row_bytes,
		       uint64_t row_budget)
{
	char errmsg[TM_ERRMSG_SIZE];
	size_t cap = 0;
	int rc = sqlite3_step(st);
	/* Names after the first step: a re-prepare may have changed them. */
	set_columns(st, (size_t)sqlite3_column_count(st), res);
	if (sink != NULL && res->n_cols > 0) {
		int rv = sink->columns(sink, i, st, errmsg);
		if (rv != 0) {
			gdb_result_fail(res, rv, "%s", errmsg);
			return keep_error_only(res, rv);
		}
	}
	while (rc == SQLITE_ROW) {
		if (res->n_cols > 0) {
			int rv = take_row(st, res, &cap, sink, i, row_bytes,
					  row_budget);
			if (rv != 0) {
				return keep_error_only(res, rv);
			}
		}
		rc = sqlite3_step(st);
	}
	if (rc != SQLITE_DONE) {
		return keep_error_only(res, fail_sqlite(c, auth, rc, res));
	}
	return 0;
}

int gdb_exec_step(struct gdb_conn *c, sqlite3_stmt *st, struct gdb_auth *auth,
		  struct gdb_result *res)
{
	return gdb_exec_step_rows(c, st, auth, res, NULL, 0, NULL, 0);
}

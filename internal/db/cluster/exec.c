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

static int fail_sqlite(sqlite3 *db, struct gdb_auth *auth, int rc,
		       struct gdb_result *res)
{
	if (auth->denied) {
		gdb_result_fail(res, TM_INVALID, "%s", auth->message);
	} else {
		gdb_result_fail(res, gdb_sqlite_status(rc), "%s",
				sqlite3_errmsg(db));
	}
	return res->status;
}

/* Prepare SQL on DB, bypassing the cache. */
static int prepare_one(sqlite3 *db, const char *sql, struct gdb_auth *auth,
		       sqlite3_stmt **out, struct gdb_result *res)
{
	const char *tail = NULL;
	sqlite3_stmt *st = NULL;

	*out = NULL;
	int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
				    &tail);
	if (rc != SQLITE_OK) {
		return fail_sqlite(db, auth, rc, res);
	}
	if (st == NULL) {
		gdb_result_fail(res, TM_INVALID, "empty SQL statement");
		return res->status;
	}
	if (gdb_auth_refuse_vacuum(auth, skip_filler(sql))) {
		sqlite3_finalize(st);
		return fail_sqlite(db, auth, SQLITE_AUTH, res);
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

int gdb_exec_prepare(struct gdb *g, const struct gdb_stmt *stmt,
		     struct gdb_auth *auth, sqlite3_stmt **out,
		     struct gdb_result *res)
{
	*out = NULL;
	if (stmt->sql == NULL) {
		gdb_result_fail(res, TM_INVALID, "no SQL text");
		return res->status;
	}
	*out = gdb_cache_get(g, stmt->sql);
	if (*out != NULL) {
		return 0;
	}
	PRE(g->auth == auth);
	int rv = prepare_one(g->exec, stmt->sql, auth, out, res);
	if (rv == 0 && !auth->schema) {
		gdb_cache_put(g, stmt->sql, *out);
	}
	return rv;
}

bool gdb_exec_read_only(struct gdb *g, const struct gdb_stmt *stmt)
{
	struct gdb_auth auth;
	struct gdb_result res = {0};
	sqlite3_stmt *st = NULL;
	bool read_only = false;

	if (stmt->sql == NULL) {
		return false;
	}
	gdb_auth_begin(g, &auth, GDB_EXEC_READ);
	int rv = gdb_exec_prepare(g, stmt, &auth, &st, &res);
	gdb_auth_end(g, &auth);
	gdb_result_clear(&res);
	if (rv == 0) {
		read_only = sqlite3_stmt_readonly(st);
		gdb_exec_release(g, st);
	} else if (auth.denied) {
		/* Route it as if nothing were refused: gdb_read or gdb_write
		 * then reports the refusal (never cached: unauthorized). */
		auth = (struct gdb_auth){.mode = GDB_EXEC_READ};
		if (prepare_one(g->exec, stmt->sql, &auth, &st, &res) == 0) {
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

static void add_row(sqlite3_stmt *st, struct gdb_result *res, size_t *cap)
{
	size_t n_cols = res->n_cols;
	if (res->n_rows == *cap) {
		*cap = *cap == 0 ? 8 : *cap * 2;
		res->rows =
		    tm_realloc(res->rows, *cap * n_cols * sizeof *res->rows);
	}
	struct gdb_value *row = &res->rows[res->n_rows * n_cols];
	for (size_t c = 0; c < n_cols; c++) {
		gdb_value_from_column(st, (int)c, &row[c]);
	}
	res->n_rows++;
}

int gdb_exec_step(sqlite3 *db, sqlite3_stmt *st, struct gdb_auth *auth,
		  struct gdb_result *res)
{
	size_t cap = 0;
	int rc = sqlite3_step(st);
	/* Names after the first step: a re-prepare may have changed them. */
	set_columns(st, (size_t)sqlite3_column_count(st), res);
	while (rc == SQLITE_ROW) {
		if (res->n_cols > 0) {
			add_row(st, res, &cap);
		}
		rc = sqlite3_step(st);
	}
	if (rc != SQLITE_DONE) {
		int status = fail_sqlite(db, auth, rc, res);
		char *error = res->error;
		res->error = NULL;
		gdb_result_clear(res);
		res->status = status;
		res->error = error;
		return status;
	}
	return 0;
}

/* Schema updates given as SQL statements.
 *
 * Two users: schema_ensure() runs an update's statements on a local
 * connection (schema_run_statements), and a replicated database asks for the
 * whole list of statements between two versions (schema_statements) so that
 * its leader can submit them as one ordinary write request. Both paths use
 * the same texts, including the version table's CREATE TABLE, so a database
 * built either way has the same sqlite_schema. */
#include <limits.h>

#include "internal/db/schema/private.h"
#include "internal/db/schema/schema.h"
#include "internal/lib/assert.h"
#include "internal/lib/err.h"
#include "internal/lib/mem.h"

/* Prepare the first statement of SQL into *STMT and check that nothing but
 * whitespace, comments and ';' follows it. SQLite's own tokenizer decides:
 * preparing such a tail gives no statement; anything else (even one that
 * does not prepare yet, as it names a table the first one creates) is a
 * second statement. */
static int prepare_single(sqlite3 *db, const char *sql, size_t index,
			  sqlite3_stmt **stmt, char *errmsg)
{
	const char *tail = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, stmt, &tail);
	if (rc != SQLITE_OK) {
		tm_errmsg_printf(errmsg, "statement %zu: %s", index,
				 sqlite3_errmsg(db));
		return (rc & 0xff) == SQLITE_BUSY ? TM_BUSY : TM_DB;
	}
	if (*stmt == NULL) {
		tm_errmsg_printf(errmsg, "statement %zu holds no SQL", index);
		return TM_INVALID;
	}
	sqlite3_stmt *extra = NULL;
	rc = sqlite3_prepare_v2(db, tail, -1, &extra, NULL);
	sqlite3_finalize(extra);
	if (rc != SQLITE_OK || extra != NULL) {
		tm_errmsg_printf(errmsg,
				 "statement %zu holds more than one "
				 "statement",
				 index);
		goto err_after_prepare;
	}
	if (sqlite3_bind_parameter_count(*stmt) > 0) {
		tm_errmsg_printf(errmsg, "statement %zu has parameters", index);
		goto err_after_prepare;
	}
	return 0;

err_after_prepare:
	sqlite3_finalize(*stmt);
	*stmt = NULL;
	return TM_INVALID;
}

int schema_run_statements(sqlite3 *db, const char *const *stmts, char *errmsg)
{
	PRE(db != NULL && stmts != NULL && errmsg != NULL);
	for (size_t i = 0; stmts[i] != NULL; i++) {
		sqlite3_stmt *stmt = NULL;
		int rv = prepare_single(db, stmts[i], i + 1, &stmt, errmsg);
		if (rv != 0) {
			return rv;
		}
		int rc;
		while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		}
		if (rc != SQLITE_DONE) {
			tm_errmsg_printf(errmsg, "statement %zu: %s", i + 1,
					 sqlite3_errmsg(db));
		}
		sqlite3_finalize(stmt);
		if (rc != SQLITE_DONE) {
			return (rc & 0xff) == SQLITE_BUSY ? TM_BUSY : TM_DB;
		}
	}
	return 0;
}

/* A growing NULL-terminated array of owned strings. */
struct strv {
	char **v;
	size_t n;
	size_t cap; /* slots allocated, the terminating NULL included */
};

static void strv_init(struct strv *l)
{
	l->cap = 16;
	l->v = tm_malloc(l->cap * sizeof *l->v);
	l->v[0] = NULL;
	l->n = 0;
}

static void strv_push(struct strv *l, char *s)
{
	if (l->n + 2 > l->cap) {
		l->cap *= 2;
		l->v = tm_realloc(l->v, l->cap * sizeof *l->v);
	}
	l->v[l->n++] = s;
	l->v[l->n] = NULL;
}

static char *record_sql(int version)
{
	return tm_asprintf("INSERT INTO schema(version, updated_at) VALUES "
			   "(%d, strftime('%%s','now'))",
			   version);
}

/* Every update in [FROM, KNOWN) must be expressed as statements. */
static int check_range(const struct schema *s, int from, char *errmsg)
{
	for (int i = from; i < (int)s->n_updates; i++) {
		if (s->updates[i].statements == NULL) {
			tm_errmsg_printf(errmsg,
					 "schema update %d (%s): no SQL "
					 "statements",
					 i + 1, s->updates[i].description);
			return TM_INVALID;
		}
	}
	return 0;
}

int schema_statements(const struct schema *s, int from, char ***out, size_t *n,
		      char *errmsg)
{
	PRE(s != NULL && s->name != NULL && out != NULL && errmsg != NULL);
	PRE(s->n_updates > 0 && s->n_updates <= INT_MAX);
	PRE(from >= 0);
	int known = (int)s->n_updates;
	errmsg[0] = '\0';
	*out = NULL;
	if (n != NULL) {
		*n = 0;
	}
	if (from > known) {
		return schema_fail_newer(from, known, errmsg);
	}
	int rv = check_range(s, from, errmsg);
	if (rv != 0) {
		return rv;
	}
	struct strv l;
	strv_init(&l);
	if (from == 0) {
		strv_push(&l, tm_strdup(schema_table_sql));
	}
	for (int i = from; i < known; i++) {
		const char *const *stmts = s->updates[i].statements;
		for (size_t j = 0; stmts[j] != NULL; j++) {
			strv_push(&l, tm_strdup(stmts[j]));
		}
		/* A fresh install records only the final version, as
		 * schema_ensure() does; an upgrade records each step. */
		if (from > 0 || i + 1 == known) {
			strv_push(&l, record_sql(i + 1));
		}
	}
	*out = l.v;
	if (n != NULL) {
		*n = l.n;
	}
	return 0;
}

void schema_statements_free(char **stmts)
{
	if (stmts == NULL) {
		return;
	}
	for (size_t i = 0; stmts[i] != NULL; i++) {
		tm_free(stmts[i]);
	}
	tm_free(stmts);
}

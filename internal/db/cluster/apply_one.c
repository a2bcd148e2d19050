/* Applying a changeset that holds a single row change with statements
 * prepared once per table, instead of sqlite3changeset_apply_v2().
 *
 * Why: each sqlite3changeset_apply_v2() call prepares its own statements
 * (PRAGMA defer_foreign_keys, which also expires every prepared statement of
 * the connection, the table's PRAGMA table_info, then INSERT, UPDATE, DELETE
 * and SELECT statements): about 20 us for a change that takes 2 us to write.
 * Most statements change one row, so most changesets hold one change.
 *
 * What: the statements are those sqlite3changeset_apply_v2() itself runs for
 * one change when nothing conflicts, kept per table in its shape
 * (shapes.c) until the schema changes:
 *   INSERT INTO main."t" VALUES(?1, ..., ?n)                   new values
 *   DELETE FROM main."t" WHERE "pk" = ?1 AND "c" IS ?2 ...      old values
 *   UPDATE main."t" SET "c" = ?(n+i) ... WHERE "pk" = ?1 AND "c" IS ?i ...
 * one UPDATE per set of changed columns: the changeset holds the old value of
 * the primary key and of each changed column, and the new value of each
 * changed column. So a change applied here has exactly the effect it has
 * there, and is checked the same way: the DELETE or UPDATE must find the row
 * with its old values, the INSERT must not meet a constraint.
 *
 * When a change cannot be applied here, nothing was changed and the caller
 * hands the changeset to sqlite3changeset_apply_v2(), which either applies
 * it or reports the conflict through the conflict handler (which stops the
 * process naming the row): so the reports on divergence are SQLite's own.
 * That covers: a constraint failure (the INSERT met an existing row or a
 * UNIQUE value), no row matched (DELETE, UPDATE), and shapes not handled
 * here (sqlite_* tables, an UPDATE changing a primary key column, a table of
 * more than 64 columns, or a 33rd set of changed columns for one table:
 * statements kept per table are bounded). Other errors (I/O, disk full) are
 * returned to the caller, which stops the process as for any failure to
 * apply. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "internal/db/cluster/gdb_private.h"
#include "internal/lib/mem.h"

#define MAX_UPDATE_COLS 64
#define MAX_UPDATE_STMTS 32 /* per table: sets of changed columns kept */

/* SQL text, built with sqlite3_str; NULL when out of memory. */
static char *insert_sql(const char *table, const struct gdb_shape *s)
{
	sqlite3_str *q = sqlite3_str_new(NULL);
	sqlite3_str_appendf(q, "INSERT INTO main.\"%w\" VALUES(", table);
	for (int c = 0; c < s->n_cols; c++) {
		sqlite3_str_appendf(q, "%s?%d", c > 0 ? ", " : "", c + 1);
	}
	sqlite3_str_appendall(q, ")");
	return sqlite3_str_finish(q);
}

/* WHERE clause: "pk" = ?i for key columns, "c" IS ?i for the columns in
 * MASK (all of them when ALL). */
static void append_where(sqlite3_str *q, const struct gdb_shape *s,
			 uint64_t mask, bool all)
{
	const char *sep = " WHERE ";
	for (int c = 0; c < s->n_cols; c++) {
		if (s->pk[c]) {
			sqlite3_str_appendf(q, "%s\"%w\" = ?%d", sep,
					    s->names[c], c + 1);
		} else if (all || (mask & (UINT64_C(1) << c)) != 0) {
			sqlite3_str_appendf(q, "%s\"%w\" IS ?%d", sep,
					    s->names[c], c + 1);
		} else {
			continue;
		}
		sep = " AND ";
	}
}

static char *delete_sql(const char *table, const struct gdb_shape *s)
{
	sqlite3_str *q = sqlite3_str_new(NULL);
	sqlite3_str_appendf(q, "DELETE FROM main.\"%w\"", table);
	append_where(q, s, 0, true);
	return sqlite3_str_finish(q);
}

static char *update_sql(const char *table, const struct gdb_shape *s,
			uint64_t mask)
{
	sqlite3_str *q = sqlite3_str_new(NULL);
	const char *sep = " SET ";
	sqlite3_str_appendf(q, "UPDATE main.\"%w\"", table);
	for (int c = 0; c < s->n_cols; c++) {
		if ((mask & (UINT64_C(1) << c)) != 0) {
			sqlite3_str_appendf(q, "%s\"%w\" = ?%d", sep,
					    s->names[c], s->n_cols + c + 1);
			sep = ", ";
		}
	}
	append_where(q, s, mask, false);
	return sqlite3_str_finish(q);
}

static int prepare(sqlite3 *db, char *sql, sqlite3_stmt **out)
{
	if (sql == NULL) {
		return SQLITE_NOMEM;
	}
	int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, out,
				    NULL);
	sqlite3_free(sql);
	return rc;
}

/* The statement for OP (and MASK for an UPDATE), prepared on first use. */
static int statement(struct gdb *g, const char *table, struct gdb_shape *s,
		     int op, uint64_t mask, sqlite3_stmt **out)
{
	if (op == SQLITE_INSERT) {
		if (s->insert == NULL) {
			int rc =
			    prepare(g->apply, insert_sql(table, s), &s->insert);
			if (rc != SQLITE_OK) {
				return rc;
			}
		}
		*out = s->insert;
		return SQLITE_OK;
	}
	if (op == SQLITE_DELETE) {
		if (s->delete == NULL) {
			int rc =
			    prepare(g->apply, delete_sql(table, s), &s->delete);
			if (rc != SQLITE_OK) {
				return rc;
			}
		}
		*out = s->delete;
		return SQLITE_OK;
	}
	for (size_t i = 0; i < s->n_updates; i++) {
		if (s->updates[i].mask == mask) {
			*out = s->updates[i].st;
			return SQLITE_OK;
		}
	}
	if (s->n_updates == MAX_UPDATE_STMTS) {
		*out = NULL; /* enough kept for this table */
		return SQLITE_OK;
	}
	sqlite3_stmt *st = NULL;
	int rc = prepare(g->apply, update_sql(table, s, mask), &st);
	if (rc != SQLITE_OK) {
		return rc;
	}
	s->updates =
	    tm_realloc(s->updates, (s->n_updates + 1) * sizeof *s->updates);
	s->updates[s->n_updates].mask = mask;
	s->updates[s->n_updates].st = st;
	s->n_updates++;
	*out = st;
	return SQLITE_OK;
}

/* Bind the change's values to ST (prepared for its op and, for an UPDATE,
 * its changed columns). false if a value the statement needs is missing. */
static bool bind_change(sqlite3_changeset_iter *it, int op,
			const struct gdb_shape *s, sqlite3_stmt *st)
{
	for (int c = 0; c < s->n_cols; c++) {
		sqlite3_value *old = NULL;
		sqlite3_value *new = NULL;
		if (op != SQLITE_INSERT &&
		    sqlite3changeset_old(it, c, &old) != SQLITE_OK) {
			return false;
		}
		if (op != SQLITE_DELETE &&
		    sqlite3changeset_new(it, c, &new) != SQLITE_OK) {
			return false;
		}
		if (op == SQLITE_INSERT) {
			if (new == NULL) {
				return false;
			}
			sqlite3_bind_value(st, c + 1, new);
		} else if (op == SQLITE_DELETE) {
			if (old == NULL) {
				return false;
			}
			sqlite3_bind_value(st, c + 1, old);
		} else if (old != NULL) {
			sqlite3_bind_value(st, c + 1, old);
			if (new != NULL) {
				sqlite3_bind_value(st, s->n_cols + c + 1, new);
			}
		}
	}
	return true;
}

/* The columns an UPDATE changes; false if it is not of the handled form:
 * key columns keep their value (old defined, new undefined), every other
 * column is either changed (both defined) or not (neither). */
static bool update_mask(sqlite3_changeset_iter *it, const struct gdb_shape *s,
			uint64_t *mask)
{
	*mask = 0;
	if (s->n_cols > MAX_UPDATE_COLS) {
		return false;
	}
	for (int c = 0; c < s->n_cols; c++) {
		sqlite3_value *old = NULL;
		sqlite3_value *new = NULL;
		if (sqlite3changeset_old(it, c, &old) != SQLITE_OK ||
		    sqlite3changeset_new(it, c, &new) != SQLITE_OK) {
			return false;
		}
		if (s->pk[c]) {
			if (old == NULL || new != NULL) {
				return false;
			}
		} else if ((old == NULL) != (new == NULL)) {
			return false;
		} else if (new != NULL) {
			*mask |= UINT64_C(1) << c;
		}
	}
	return *mask != 0;
}

enum gdb_apply_one gdb_apply_one(struct gdb *g, sqlite3_changeset_iter *it,
				 int *rc_out)
{
	const char *table = NULL;
	int n_cols = 0;
	int op = 0;
	int indirect = 0;
	struct gdb_shape *s = NULL;
	uint64_t mask = 0;
	sqlite3_stmt *st = NULL;

	*rc_out = SQLITE_OK;
	sqlite3changeset_op(it, &table, &n_cols, &op, &indirect);
	if (strncasecmp(table, "sqlite_", 7) == 0) {
		return GDB_APPLY_ONE_FALLBACK;
	}
	int rc = gdb_shapes_get(&g->shapes, table, &s);
	if (rc != SQLITE_OK || s == NULL || s->n_cols != n_cols) {
		return GDB_APPLY_ONE_FALLBACK; /* the caller checked it */
	}
	if (op == SQLITE_UPDATE && !update_mask(it, s, &mask)) {
		return GDB_APPLY_ONE_FALLBACK;
	}
	rc = statement(g, table, s, op, mask, &st);
	if (rc != SQLITE_OK) {
		*rc_out = rc;
		return GDB_APPLY_ONE_ERROR;
	}
	if (st == NULL) {
		return GDB_APPLY_ONE_FALLBACK;
	}
	if (!bind_change(it, op, s, st)) {
		sqlite3_clear_bindings(st);
		return GDB_APPLY_ONE_FALLBACK;
	}
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	int changes = rc == SQLITE_DONE ? sqlite3_changes(g->apply) : 0;
	if (changes == 1) {
		return GDB_APPLY_ONE_APPLIED;
	}
	if ((rc == SQLITE_DONE && changes == 0) ||
	    (rc & 0xff) == SQLITE_CONSTRAINT) {
		/* Nothing changed: no row matched, or the one-row statement
		 * failed its constraint checks, which come before any
		 * write. */
		return GDB_APPLY_ONE_FALLBACK;
	}
	*rc_out = rc == SQLITE_DONE ? SQLITE_CORRUPT : rc; /* > 1 row */
	return GDB_APPLY_ONE_ERROR;
}

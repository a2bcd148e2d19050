/* Checks the leader runs after a schema statement, on the exec connection
 * inside the batch's transaction (a refusal rolls the statement back).
 *
 * A SQLite session records a row change only if it can name the row by its
 * PRIMARY KEY, so three kinds of tables would silently diverge:
 * - no declared PRIMARY KEY (rowid tables: nothing is recorded);
 * - a PRIMARY KEY column that may hold NULL: a rowid table whose key is not
 *   the INTEGER PRIMARY KEY rowid alias accepts NULL keys (an old SQLite
 *   quirk) and rows with a NULL key are not recorded;
 * - generated columns: SQLite 3.40's session extension fails to build a
 *   changeset for such tables (SQLITE_SCHEMA).
 * All three are refused when the table is created or altered. The shadow
 * tables of virtual tables (fts3's %_segdir has PRIMARY KEY(level, idx)
 * without NOT NULL) are exempt from the second rule: only their module
 * writes them, never with a NULL key. Which modules may be used at all is
 * decided by the authorizer (auth.c).
 *
 * One more SQLite 3.40 quirk: for a row stored before ALTER TABLE ADD COLUMN
 * added a column with a DEFAULT, the preupdate hook (hence the session)
 * reports the column's old value as NULL while reads return the default. A
 * later UPDATE or DELETE of that row would then carry an old value that does
 * not match the row on apply, a false divergence. So right after such an
 * ALTER the leader stores the default in every row with
 * "UPDATE t SET c = c" (triggers off, not recorded) and ships that statement
 * as a SQL item, which the apply connection (triggers off) runs identically. */
#include <stdio.h>
#include <string.h>

#include "internal/db/cluster/gdb_private.h"
#include "internal/lib/mem.h"

/* Does SQL, with TABLE bound to ?1, return a row? *OUT says; a SQLite
 * code. */
static int query_exists(sqlite3 *db, const char *sql, const char *table,
			bool *out)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		return rc;
	}
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int has_pk_index(sqlite3 *db, const char *table, bool *out)
{
	return query_exists(db,
			    "SELECT 1 FROM pragma_index_list(?1) "
			    "WHERE origin = 'pk'",
			    table, out);
}

/* A shadow table of a virtual table (fts3, rtree, ...): its rows are
 * written by the module only (the exec connection is defensive, so user SQL
 * cannot write it), with keys that are never NULL. */
static int is_shadow(sqlite3 *db, const char *table, bool *out)
{
	return query_exists(db,
			    "SELECT 1 FROM pragma_table_list(?1) "
			    "WHERE schema = 'main' AND type = 'shadow'",
			    table, out);
}

struct table_shape {
	int n_cols;
	int n_pk;
	char nullable_pk[128]; /* first PK column without NOT NULL */
	char generated[128];   /* first generated column */
};

static int read_shape(sqlite3 *db, const char *table, struct table_shape *s)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db,
				    "SELECT name, \"notnull\", pk, hidden "
				    "FROM pragma_table_xinfo(?1)",
				    -1, &st, NULL);
	if (rc != SQLITE_OK) {
		return rc;
	}
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	memset(s, 0, sizeof *s);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		int hidden = sqlite3_column_int(st, 3);
		s->n_cols++;
		if ((hidden == 2 || hidden == 3) && s->generated[0] == '\0') {
			snprintf(s->generated, sizeof s->generated, "%s",
				 name != NULL ? name : "");
		}
		if (sqlite3_column_int(st, 2) > 0) {
			s->n_pk++;
			if (sqlite3_column_int(st, 1) == 0 &&
			    s->nullable_pk[0] == '\0') {
				snprintf(s->nullable_pk, sizeof s->nullable_pk,
					 "%s", name != NULL ? name : "");
			}
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int gdb_schema_check_table(sqlite3 *db, const char *table,
			   struct gdb_result *res)
{
	struct table_shape shape;
	bool pk_index = false;
	bool shadow = false;
	int rc = read_shape(db, table, &shape);
	if (rc == SQLITE_OK) {
		rc = has_pk_index(db, table, &pk_index);
	}
	if (rc == SQLITE_OK) {
		rc = is_shadow(db, table, &shadow);
	}
	if (rc != SQLITE_OK) {
		gdb_result_fail(res, TM_DB, "checking table \"%s\": %s", table,
				sqlite3_errmsg(db));
		return res->status;
	}
	if (shape.n_cols == 0) {
		return 0; /* a virtual table: its shadow tables are checked */
	}
	if (shape.n_pk == 0) {
		gdb_result_fail(res, TM_INVALID,
				"table \"%s\" has no PRIMARY KEY: thermionic "
				"replicates rows by primary key, declare one",
				table);
		return res->status;
	}
	if (shape.nullable_pk[0] != '\0' && pk_index && !shadow) {
		gdb_result_fail(res, TM_INVALID,
				"table \"%s\": PRIMARY KEY column \"%s\" may "
				"hold NULL, and rows with a NULL key cannot be "
				"replicated: declare it NOT NULL (or use "
				"INTEGER PRIMARY KEY)",
				table, shape.nullable_pk);
		return res->status;
	}
	if (shape.generated[0] != '\0') {
		gdb_result_fail(res, TM_INVALID,
				"table \"%s\": generated column \"%s\" cannot "
				"be replicated (SQLite's session extension "
				"does not record tables with generated "
				"columns)",
				table, shape.generated);
		return res->status;
	}
	return 0;
}

int gdb_schema_tables(sqlite3 *db, struct gdb_names *out)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db,
				    "SELECT name FROM main.sqlite_schema "
				    "WHERE type = 'table'",
				    -1, &st, NULL);
	if (rc != SQLITE_OK) {
		return rc;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		gdb_names_add(out, (const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int gdb_schema_column_count(sqlite3 *db, const char *table, int *out)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(
	    db, "SELECT count(*) FROM pragma_table_xinfo(?1)", -1, &st, NULL);
	if (rc != SQLITE_OK) {
		return rc;
	}
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? SQLITE_OK : rc;
}

int gdb_schema_materialize_sql(sqlite3 *db, const char *table, int from,
			       char **out)
{
	sqlite3_stmt *st;
	char *sql = NULL;
	*out = NULL;
	int rc =
	    sqlite3_prepare_v2(db,
			       "SELECT name FROM pragma_table_xinfo(?1) "
			       "WHERE cid >= ?2 AND dflt_value IS NOT NULL "
			       "AND upper(dflt_value) <> 'NULL'",
			       -1, &st, NULL);
	if (rc != SQLITE_OK) {
		return rc;
	}
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, from);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *col = (const char *)sqlite3_column_text(st, 0);
		char *next;
		if (sql == NULL) {
			next =
			    sqlite3_mprintf("UPDATE \"%w\" SET \"%w\" = \"%w\"",
					    table, col, col);
		} else {
			next = sqlite3_mprintf("%s, \"%w\" = \"%w\"", sql, col,
					       col);
		}
		sqlite3_free(sql);
		sql = next;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		sqlite3_free(sql);
		return rc;
	}
	if (sql != NULL) {
		*out = tm_strdup(sql);
		sqlite3_free(sql);
	}
	return SQLITE_OK;
}

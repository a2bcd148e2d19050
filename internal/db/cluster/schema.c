/* Checks the leader runs after a schema statement, on the exec connection
 * inside the batch's transaction (a refusal rolls the statement back).
 *
 * Rows replicate by rowid (rowid tables) or by primary key (WITHOUT ROWID
 * tables, whose key SQLite keeps NOT NULL), so any table replicates, with
 * or without a declared PRIMARY KEY, except:
 * - a rowid table without an INTEGER PRIMARY KEY whose columns are named
 *   rowid, _rowid_ and oid: SQL can no longer name its rowid, so no member
 *   could set it;
 * - generated columns: SQLite 3.40's preupdate hook, which records row
 *   changes, reports wrong values for the columns of such tables (it counts
 *   virtual columns that the stored record does not hold).
 * Both are refused when the table is created or altered. Which virtual
 * table modules may be used at all is decided by the authorizer (auth.c).
 *
 * One more SQLite 3.40 quirk: for a row stored before ALTER TABLE ADD COLUMN
 * added a column with a DEFAULT, the preupdate hook reports the column's old
 * value as NULL while reads return the default. An UPDATE that sets it to
 * NULL would then look like no change and not be recorded. So right after
 * such an ALTER the leader stores the default in every row with
 * "UPDATE t SET c = c" (triggers off, not recorded) and ships that statement
 * as a SQL item, which the apply connection (triggers off) runs identically. */
#include <stdio.h>
#include <string.h>

#include "internal/db/cluster/gdb_private.h"
#include "internal/lib/mem.h"

struct table_shape {
	int n_cols;	     /* 0: no such table, or a virtual one */
	bool rowid_hidden;   /* a rowid table whose rowid SQL cannot name */
	char generated[128]; /* first generated column */
};

static int read_shape(sqlite3 *db, const char *table, struct table_shape *s)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db,
				    "SELECT name, hidden FROM "
				    "pragma_table_xinfo(?1) WHERE hidden IN "
				    "(2, 3)",
				    -1, &st, NULL);
	if (rc != SQLITE_OK) {
		return rc;
	}
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	memset(s, 0, sizeof *s);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		snprintf(s->generated, sizeof s->generated, "%s",
			 name != NULL ? name : "");
		rc = SQLITE_DONE;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		return rc;
	}
	struct gdb_shapes shapes = {.db = db};
	struct gdb_shape *found = NULL;
	rc = gdb_shapes_get(&shapes, table, &found);
	if (rc == SQLITE_OK && found != NULL) {
		s->n_cols = found->n_cols;
		s->rowid_hidden = !found->keyed && found->rowid_name == NULL;
	}
	gdb_shapes_clear(&shapes);
	return rc;
}

int gdb_schema_check_table(sqlite3 *db, const char *table,
			   struct gdb_result *res)
{
	struct table_shape shape;
	int rc = read_shape(db, table, &shape);
	if (rc != SQLITE_OK) {
		gdb_result_fail(res, TM_DB, "checking table \"%s\": %s", table,
				sqlite3_errmsg(db));
		return res->status;
	}
	if (shape.n_cols == 0) {
		return 0; /* a virtual table: its shadow tables are checked */
	}
	if (shape.rowid_hidden) {
		gdb_result_fail(
		    res, TM_INVALID,
		    "table \"%s\": its columns named rowid, _rowid_ "
		    "and oid hide its rowid, which thermionic "
		    "replicates: rename one of them, or declare an "
		    "INTEGER PRIMARY KEY",
		    table);
		return res->status;
	}
	if (shape.generated[0] != '\0') {
		gdb_result_fail(res, TM_INVALID,
				"table \"%s\": generated column \"%s\" cannot "
				"be replicated (SQLite 3.40 reports wrong row "
				"values for tables with generated columns)",
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

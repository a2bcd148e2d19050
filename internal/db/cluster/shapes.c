/* Table shapes (columns and primary key, as PRAGMA table_info says) as one
 * connection sees them, cached until its schema changes, with statements
 * prepared for the table on that connection.
 *
 * Apply connection (g->shapes): before a changeset is applied, apply.c
 * checks that each table it names exists with the changeset's column count
 * and primary key columns (sqlite3changeset_apply would silently skip a
 * table that does not match); apply_one.c keeps its statements here. The
 * schema of the apply connection changes only through apply.c (an SQL
 * item) or snapshot.c (a snapshot or restore loaded), both of which call
 * gdb_schema_changed().
 *
 * Exec connection (g->exec.shapes): record.c keeps what it needs to write a
 * changeset. Its schema also changes while a batch runs a schema statement
 * (until the batch rolls back), so write.c clears these around them.
 *
 * Reading a shape costs a prepared PRAGMA query, one more sqlite3_prepare
 * per request for small writes; each is read once and kept until then.
 *
 * A table that does not exist is not cached (the caller stops the process
 * anyway). The shapes array may move when a table is added: callers keep a
 * shape only while they apply one change. */
#include <string.h>
#include <strings.h>

#include "internal/db/cluster/gdb_private.h"
#include "internal/lib/mem.h"

static void shape_clear(struct gdb_shape *s)
{
	for (int c = 0; c < s->n_cols; c++) {
		tm_free(s->names[c]);
	}
	tm_free(s->names);
	tm_free(s->pk);
	tm_free(s->table);
	sqlite3_finalize(s->insert);
	sqlite3_finalize(s->delete);
	sqlite3_finalize(s->select);
	for (size_t i = 0; i < s->n_updates; i++) {
		sqlite3_finalize(s->updates[i].st);
	}
	tm_free(s->updates);
	memset(s, 0, sizeof *s);
}

static void shape_add_column(struct gdb_shape *s, size_t *cap, const char *name,
			     int pk)
{
	if ((size_t)s->n_cols == *cap) {
		*cap = *cap == 0 ? 8 : *cap * 2;
		s->pk = tm_realloc(s->pk, *cap);
		s->names = tm_realloc(s->names, *cap * sizeof *s->names);
	}
	/* As the session extension does: the key position, truncated. */
	s->pk[s->n_cols] = (unsigned char)pk;
	s->names[s->n_cols] = tm_strdup(name != NULL ? name : "");
	s->n_cols++;
}

static int read_shape(sqlite3 *db, const char *table, struct gdb_shape *out)
{
	sqlite3_stmt *st;
	int rc =
	    sqlite3_prepare_v2(db,
			       "SELECT name, pk FROM pragma_table_info(?1) "
			       "ORDER BY cid",
			       -1, &st, NULL);
	if (rc != SQLITE_OK) {
		return rc;
	}
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	size_t cap = 0;
	memset(out, 0, sizeof *out);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		shape_add_column(out, &cap,
				 (const char *)sqlite3_column_text(st, 0),
				 sqlite3_column_int(st, 1));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		shape_clear(out);
		return rc;
	}
	return SQLITE_OK;
}

int gdb_shapes_get(struct gdb_shapes *s, const char *table,
		   struct gdb_shape **out)
{
	*out = NULL;
	for (size_t i = 0; i < s->n; i++) {
		/* SQLite table names are case-insensitive (ASCII). */
		if (strcasecmp(s->v[i].table, table) == 0) {
			*out = &s->v[i];
			return SQLITE_OK;
		}
	}
	struct gdb_shape shape;
	int rc = read_shape(s->db, table, &shape);
	if (rc != SQLITE_OK) {
		return rc;
	}
	if (shape.n_cols == 0) {
		shape_clear(&shape);
		return SQLITE_OK; /* no such table */
	}
	if (s->n == s->cap) {
		s->cap = s->cap == 0 ? 8 : s->cap * 2;
		s->v = tm_realloc(s->v, s->cap * sizeof *s->v);
	}
	shape.table = tm_strdup(table);
	s->v[s->n] = shape;
	*out = &s->v[s->n++];
	return SQLITE_OK;
}

void gdb_shapes_clear(struct gdb_shapes *s)
{
	for (size_t i = 0; i < s->n; i++) {
		shape_clear(&s->v[i]);
	}
	tm_free(s->v);
	s->v = NULL;
	s->n = 0;
	s->cap = 0;
}

void gdb_schema_changed(struct gdb *g)
{
	gdb_shapes_clear(&g->shapes);
	/* The other connections forget theirs when next idle on the loop
	 * (gdb_conn_sync_schema). */
	g->schema_gen++;
}

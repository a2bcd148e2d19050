/* Table shapes (columns and primary key, as PRAGMA table_info says; WITHOUT
 * ROWID or not; the INTEGER PRIMARY KEY and how SQL names the rowid) as one
 * connection sees them, cached until its schema changes, with statements
 * prepared for the table on that connection.
 *
 * Apply connection (g->shapes): apply_rows.c checks each run of a ROWS
 * item against its table's shape and keeps its statements here; before an
 * old changeset is applied, apply.c checks each table it names the same
 * way (sqlite3changeset_apply would silently skip a table that does not
 * match), and apply_one.c keeps its statements here too. The
 * schema of the apply connection changes only through apply.c (an SQL
 * item) or snapshot.c (a snapshot or restore loaded), both of which call
 * gdb_schema_changed().
 *
 * Exec connection (g->exec.shapes): the lists of WITHOUT ROWID tables and
 * of shadow tables, which record.c looks up from inside the preupdate hook
 * (where no SQL may run), loaded before each recorded statement when not
 * known; and the shapes of tables a CREATE TABLE ... AS SELECT made. Its schema
 * also changes while a batch runs a schema statement (until the batch rolls
 * back), so write.c clears it around them.
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
	for (size_t i = 0; i < s->n_updates; i++) {
		sqlite3_finalize(s->updates[i].st);
	}
	tm_free(s->updates);
	sqlite3_finalize(s->rows.insert);
	sqlite3_finalize(s->rows.delete);
	for (size_t i = 0; i < s->rows.n_updates; i++) {
		sqlite3_finalize(s->rows.updates[i].st);
		tm_free(s->rows.updates[i].set);
	}
	tm_free(s->rows.updates);
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

static bool has_column(const struct gdb_shape *s, const char *name)
{
	for (int c = 0; c < s->n_cols; c++) {
		if (strcasecmp(s->names[c], name) == 0) {
			return true;
		}
	}
	return false;
}

const char *gdb_shape_rowid_name(const struct gdb_shape *s)
{
	static const char *const aliases[] = {"rowid", "_rowid_", "oid"};
	if (s->keyed) {
		return NULL;
	}
	if (s->ipk >= 0) {
		return s->names[s->ipk];
	}
	for (size_t i = 0; i < sizeof aliases / sizeof *aliases; i++) {
		if (!has_column(s, aliases[i])) {
			return aliases[i];
		}
	}
	return NULL;
}

/* WITHOUT ROWID or not, and the INTEGER PRIMARY KEY: the one key column
 * of a rowid table whose key has no index of its own (SQLite makes one for
 * every other key, "INTEGER PRIMARY KEY DESC" included). SQLITE_DONE. */
static int read_kind(sqlite3 *db, const char *table, struct gdb_shape *out)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(
	    db,
	    "SELECT (SELECT wr FROM pragma_table_list(?1) "
	    "        WHERE schema = 'main'), "
	    "       EXISTS (SELECT 1 FROM pragma_index_list(?1) "
	    "               WHERE origin = 'pk')",
	    -1, &st, NULL);
	if (rc != SQLITE_OK) {
		return rc;
	}
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		bool pk_index = sqlite3_column_int(st, 1) != 0;
		int n_pk = 0;
		int pk_col = -1;
		out->keyed = sqlite3_column_int(st, 0) != 0;
		for (int c = 0; c < out->n_cols; c++) {
			if (out->pk[c] != 0) {
				n_pk++;
				pk_col = c;
			}
		}
		out->ipk = !out->keyed && n_pk == 1 && !pk_index ? pk_col : -1;
		out->rowid_name = gdb_shape_rowid_name(out);
		rc = SQLITE_DONE;
	}
	sqlite3_finalize(st);
	return rc;
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
	if (rc == SQLITE_DONE && out->n_cols > 0) {
		rc = read_kind(db, table, out);
	}
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

static void keyed_clear(struct gdb_shapes *s)
{
	for (size_t i = 0; i < s->n_keyed; i++) {
		tm_free(s->keyed[i].table);
		tm_free(s->keyed[i].pk);
	}
	tm_free(s->keyed);
	s->keyed = NULL;
	s->n_keyed = 0;
	if (s->shadow != NULL) {
		gdb_names_clear(s->shadow);
		tm_free(s->shadow);
		s->shadow = NULL;
	}
	s->keyed_loaded = false;
}

static int load_shadow(struct gdb_shapes *s)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db,
				    "SELECT name FROM pragma_table_list "
				    "WHERE schema = 'main' AND type = 'shadow'",
				    -1, &st, NULL);
	if (rc != SQLITE_OK) {
		return rc;
	}
	s->shadow = tm_calloc(1, sizeof *s->shadow);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		gdb_names_add(s->shadow,
			      (const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	return rc;
}

int gdb_shapes_load_keyed(struct gdb_shapes *s)
{
	sqlite3_stmt *st;
	if (s->keyed_loaded) {
		return SQLITE_OK;
	}
	keyed_clear(s);
	int rc = sqlite3_prepare_v2(
	    s->db,
	    "SELECT t.name, c.pk FROM pragma_table_list AS t, "
	    "pragma_table_info(t.name) AS c WHERE t.schema = 'main' AND "
	    "t.wr = 1 ORDER BY t.name, c.cid",
	    -1, &st, NULL);
	if (rc != SQLITE_OK) {
		return rc;
	}
	struct gdb_keyed *k = NULL;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		if (k == NULL || strcmp(k->table, name) != 0) {
			s->keyed = tm_realloc(s->keyed, (s->n_keyed + 1) *
							    sizeof *s->keyed);
			k = &s->keyed[s->n_keyed++];
			memset(k, 0, sizeof *k);
			k->table = tm_strdup(name);
		}
		k->pk = tm_realloc(k->pk, k->n_cols + 1);
		k->pk[k->n_cols++] = (uint8_t)sqlite3_column_int(st, 1);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE) {
		rc = load_shadow(s);
	}
	if (rc != SQLITE_DONE) {
		keyed_clear(s);
		return rc;
	}
	s->keyed_loaded = true;
	return SQLITE_OK;
}

const struct gdb_keyed *gdb_shapes_keyed(const struct gdb_shapes *s,
					 const char *table, bool *shadow)
{
	*shadow = s->shadow != NULL && gdb_names_has(s->shadow, table);
	for (size_t i = 0; i < s->n_keyed; i++) {
		if (strcasecmp(s->keyed[i].table, table) == 0) {
			return &s->keyed[i];
		}
	}
	return NULL;
}

void gdb_shapes_clear(struct gdb_shapes *s)
{
	keyed_clear(s);
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
	atomic_fetch_add(&g->schema_gen, 1);
}

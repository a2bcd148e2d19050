/* Recording the row changes of the leader's statements as ROWS items
 * (rows.h, doc/log-entry-format.md).
 *
 * A preupdate hook (sqlite3_preupdate_hook) is installed on the exec
 * connection when it opens, before any statement is prepared there (SQLite
 * decides at prepare time, among other things, not to use the truncate
 * optimization of "DELETE FROM t" when a hook is installed). While a
 * statement runs with the recorder on, every row change SQLite makes to a
 * table of the main database, including those made by triggers, foreign
 * key actions and virtual table modules (their shadow tables), is appended
 * in the order SQLite makes it:
 *   - rowid tables by rowid: the preupdate hook gives the rowid before and
 *     after the change, so an INSERT carries the rowid SQLite chose, an
 *     UPDATE the rowid it had and has, a DELETE the rowid it removed;
 *   - WITHOUT ROWID tables by their primary key (old values of its
 *     columns).
 * INSERT and UPDATE carry the new values; an UPDATE marks the columns whose
 * value did not change (same type and same bytes: -0.0 and 0.0 differ) as
 * unchanged, and an UPDATE that changed nothing, not even the rowid, is not
 * recorded. Replaying the changes in this order, by rowid or key, makes
 * every member hold exactly the leader's rows, rowids included: each change
 * is applied to the state the previous ones left, as on the leader.
 *
 * Virtual table modules may keep changes in memory until a savepoint opens
 * or the transaction commits (FTS3/4/5 buffer new terms): after a statement
 * that wrote a shadow table, gdb_record_flush() opens and releases a
 * savepoint with the recorder still on, so what they flush is recorded
 * with the statement that caused it, not lost when the batch rolls back.
 *
 * Not recorded: SQLite's own tables (sqlite_sequence and sqlite_stat*
 * follow from the replicated rows and statements on every member), other
 * schemas (temp objects are refused), and, during a schema statement, any
 * table outside the ONLY list or inside EXCEPT (write.c: the statement's
 * own tables are rebuilt by replaying its SQL). */
#include <string.h>
#include <strings.h>

#include "internal/db/cluster/gdb_private.h"
#include "internal/lib/assert.h"
#include "internal/lib/mem.h"

static const struct gdb_keyed *keyed_find(struct gdb_recorder *r,
					  const char *table)
{
	if (r->last_table != table) {
		r->last_keyed =
		    gdb_shapes_keyed(r->shapes, table, &r->last_shadow);
		r->last_table = table;
	}
	r->shadow_written = r->shadow_written || r->last_shadow;
	return r->last_keyed;
}

static void put_value(struct gdb_rows_writer *w, sqlite3_value *v)
{
	switch (sqlite3_value_type(v)) {
	case SQLITE_INTEGER:
		gdb_rows_integer(w, sqlite3_value_int64(v));
		break;
	case SQLITE_FLOAT:
		gdb_rows_real(w, sqlite3_value_double(v));
		break;
	case SQLITE_TEXT: {
		const unsigned char *p = sqlite3_value_text(v);
		gdb_rows_text(w, GDB_ROWS_TEXT, p,
			      (uint32_t)sqlite3_value_bytes(v));
		break;
	}
	case SQLITE_BLOB: {
		const void *p = sqlite3_value_blob(v);
		gdb_rows_text(w, GDB_ROWS_BLOB, p,
			      (uint32_t)sqlite3_value_bytes(v));
		break;
	}
	default:
		gdb_rows_type_only(w, GDB_ROWS_NULL);
		break;
	}
}

/* Same type and same bytes. */
static bool same_value(sqlite3_value *a, sqlite3_value *b)
{
	int type = sqlite3_value_type(a);
	if (type != sqlite3_value_type(b)) {
		return false;
	}
	switch (type) {
	case SQLITE_INTEGER:
		return sqlite3_value_int64(a) == sqlite3_value_int64(b);
	case SQLITE_FLOAT: {
		double x = sqlite3_value_double(a);
		double y = sqlite3_value_double(b);
		return memcmp(&x, &y, sizeof x) == 0;
	}
	case SQLITE_TEXT:
	case SQLITE_BLOB: {
		const void *p = type == SQLITE_TEXT
				    ? (const void *)sqlite3_value_text(a)
				    : sqlite3_value_blob(a);
		const void *q = type == SQLITE_TEXT
				    ? (const void *)sqlite3_value_text(b)
				    : sqlite3_value_blob(b);
		int n = sqlite3_value_bytes(a);
		return n == sqlite3_value_bytes(b) &&
		       (n == 0 || memcmp(p, q, (size_t)n) == 0);
	}
	default:
		return true; /* both NULL */
	}
}

/* The new values of an INSERT. */
static int put_new(struct gdb_rows_writer *w, sqlite3 *db, int n)
{
	for (int c = 0; c < n; c++) {
		sqlite3_value *v = NULL;
		int rc = sqlite3_preupdate_new(db, c, &v);
		if (rc != SQLITE_OK) {
			return rc;
		}
		put_value(w, v);
	}
	return SQLITE_OK;
}

/* The key of a WITHOUT ROWID row: old values of its key columns. */
static int put_key(struct gdb_rows_writer *w, sqlite3 *db,
		   const struct gdb_keyed *k)
{
	for (unsigned c = 0; c < k->n_cols; c++) {
		sqlite3_value *v = NULL;
		if (k->pk[c] == 0) {
			continue;
		}
		int rc = sqlite3_preupdate_old(db, (int)c, &v);
		if (rc != SQLITE_OK) {
			return rc;
		}
		put_value(w, v);
	}
	return SQLITE_OK;
}

/* New values of an UPDATE, unchanged ones marked; *changed says whether
 * any differs. */
static int put_update(struct gdb_rows_writer *w, sqlite3 *db, int n,
		      bool *changed)
{
	*changed = false;
	for (int c = 0; c < n; c++) {
		sqlite3_value *old = NULL;
		sqlite3_value *new = NULL;
		int rc = sqlite3_preupdate_old(db, c, &old);
		if (rc == SQLITE_OK) {
			rc = sqlite3_preupdate_new(db, c, &new);
		}
		if (rc != SQLITE_OK) {
			return rc;
		}
		if (same_value(old, new)) {
			gdb_rows_type_only(w, GDB_ROWS_UNCHANGED);
		} else {
			put_value(w, new);
			*changed = true;
		}
	}
	return SQLITE_OK;
}

static int record(struct gdb_recorder *r, sqlite3 *db, int op,
		  const char *table, sqlite3_int64 key1, sqlite3_int64 key2)
{
	struct gdb_rows_writer *w = &r->w;
	int n = sqlite3_preupdate_count(db);
	const struct gdb_keyed *k = keyed_find(r, table);
	bool changed = true;
	int rc = SQLITE_OK;

	if (n < 1 || n > GDB_ROWS_MAX_COLUMNS ||
	    (k != NULL && (unsigned)n != k->n_cols)) {
		return SQLITE_SCHEMA;
	}
	gdb_rows_run(w, k != NULL, (unsigned)n, k != NULL ? k->pk : NULL,
		     table);
	switch (op) {
	case SQLITE_INSERT:
		gdb_rows_begin(w, GDB_ROWS_INSERT);
		if (k == NULL) {
			gdb_rows_rowid(w, key2);
		}
		rc = put_new(w, db, n);
		break;
	case SQLITE_DELETE:
		gdb_rows_begin(w, GDB_ROWS_DELETE);
		if (k == NULL) {
			gdb_rows_rowid(w, key1);
		} else {
			rc = put_key(w, db, k);
		}
		break;
	default:
		gdb_rows_begin(w, GDB_ROWS_UPDATE);
		if (k == NULL) {
			gdb_rows_rowid(w, key1);
			gdb_rows_rowid(w, key2);
		} else {
			rc = put_key(w, db, k);
		}
		if (rc == SQLITE_OK) {
			rc = put_update(w, db, n, &changed);
		}
		changed = changed || (k == NULL && key1 != key2);
		break;
	}
	if (rc != SQLITE_OK || !changed) {
		gdb_rows_cancel(w);
	} else {
		gdb_rows_end(w);
	}
	return rc;
}

static void preupdate_cb(void *arg, sqlite3 *db, int op, const char *db_name,
			 const char *table, sqlite3_int64 key1,
			 sqlite3_int64 key2)
{
	struct gdb_recorder *r = arg;
	if (!r->on || r->rc != SQLITE_OK) {
		return;
	}
	if (strcmp(db_name, "main") != 0 ||
	    strncasecmp(table, "sqlite_", 7) == 0) {
		return;
	}
	if (r->only != NULL && (!gdb_names_has(r->only, table) ||
				gdb_names_has(r->except, table))) {
		return;
	}
	r->rc = record(r, db, op, table, key1, key2);
}

void gdb_record_install(struct gdb_conn *c)
{
	c->rec.shapes = &c->shapes;
	void *previous = sqlite3_preupdate_hook(c->db, preupdate_cb, &c->rec);
	PRE(previous == NULL);
}

int gdb_record_start(struct gdb_conn *c, const struct gdb_names *only,
		     const struct gdb_names *except)
{
	struct gdb_recorder *r = &c->rec;
	int rc = gdb_shapes_load_keyed(&c->shapes);
	if (rc != SQLITE_OK) {
		return rc;
	}
	gdb_rows_reset(&r->w);
	r->rc = SQLITE_OK;
	r->only = only;
	r->except = except;
	r->last_table = NULL;
	r->last_keyed = NULL;
	r->shadow_written = false;
	r->on = true;
	return SQLITE_OK;
}

int gdb_record_flush(struct gdb_conn *c)
{
	if (!c->rec.on || !c->rec.shadow_written) {
		return SQLITE_OK;
	}
	int rc = gdb_sql_run(c->sql, GDB_SQL_SP_FLUSH);
	if (rc == SQLITE_OK) {
		rc = gdb_sql_run(c->sql, GDB_SQL_RL_FLUSH);
	}
	return rc;
}

size_t gdb_record_size(const struct gdb_conn *c)
{
	return c->rec.on ? c->rec.w.out.len : 0;
}

int gdb_record_stop(struct gdb_conn *c, uint8_t **out, size_t *len)
{
	struct gdb_recorder *r = &c->rec;
	int rc = r->rc;
	r->on = false;
	r->only = NULL;
	r->except = NULL;
	gdb_rows_finish(&r->w);
	*out = NULL;
	*len = 0;
	if (rc == SQLITE_OK && r->w.out.len > 0) {
		*out = r->w.out.p;
		*len = r->w.out.len;
		memset(&r->w.out, 0, sizeof r->w.out);
	}
	gdb_rows_reset(&r->w);
	return rc;
}

void gdb_record_release(struct gdb_conn *c) { gdb_rows_release(&c->rec.w); }

int gdb_record_table(sqlite3 *db, const struct gdb_shape *s, uint64_t limit,
		     uint8_t **out, size_t *len)
{
	struct gdb_rows_writer w = {0};
	sqlite3_stmt *st = NULL;
	*out = NULL;
	*len = 0;
	char *sql =
	    sqlite3_mprintf("SELECT \"%w\", * FROM main.\"%w\" ORDER BY \"%w\"",
			    s->rowid_name, s->table, s->rowid_name);
	if (sql == NULL) {
		return SQLITE_NOMEM;
	}
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	sqlite3_free(sql);
	if (rc != SQLITE_OK) {
		return rc;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (limit != 0 && w.out.len > limit) {
			rc = SQLITE_TOOBIG;
			break;
		}
		gdb_rows_run(&w, false, (unsigned)s->n_cols, NULL, s->table);
		gdb_rows_begin(&w, GDB_ROWS_INSERT);
		gdb_rows_rowid(&w, sqlite3_column_int64(st, 0));
		for (int c = 0; c < s->n_cols; c++) {
			put_value(&w, sqlite3_column_value(st, c + 1));
		}
		gdb_rows_end(&w);
	}
	sqlite3_finalize(st);
	gdb_rows_finish(&w);
	if (rc == SQLITE_DONE && w.out.len > 0) {
		*out = w.out.p;
		*len = w.out.len;
		memset(&w.out, 0, sizeof w.out);
	}
	gdb_rows_release(&w);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

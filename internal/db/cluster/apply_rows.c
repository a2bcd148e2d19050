/* Applying a ROWS item (rows.h) on the apply connection: each change, in
 * order, with a statement kept in its table's shape (shapes.c) until the
 * schema changes:
 *   rowid table, INSERT:  INSERT INTO main."t"("rowid", "a", ...) VALUES(...)
 *                         (without "rowid" when the table has an INTEGER
 *                         PRIMARY KEY: that column is the rowid)
 *                UPDATE:  UPDATE main."t" SET ["rowid" = ?2,] "a" = ?, ...
 *                         WHERE "rowid" = ?1, one statement per set of
 *                         changed columns
 *                DELETE:  DELETE FROM main."t" WHERE "rowid" = ?1
 *   WITHOUT ROWID, the same by primary key: WHERE "k1" = ? AND ...
 * where "rowid" is whichever of rowid, _rowid_, oid no column hides.
 *
 * A change that fails, or an UPDATE or DELETE that finds no row, means this
 * member's database no longer matches the leader's: the caller stops the
 * process. So does a table that is missing or shaped otherwise than the
 * item says (kind, column count, key columns), and an item that does not
 * decode. */
#include <stdio.h>
#include <string.h>

#include "internal/db/cluster/gdb_private.h"
#include "internal/lib/mem.h"

#define MAX_UPDATE_STMTS 32 /* per table: sets of changed columns kept */

struct rows_apply {
	struct gdb *g;
	char *errmsg;
	struct gdb_shape *shape; /* of the current run */
	uint8_t *set;		 /* n_cols + 1: scratch for UPDATE */
	size_t set_cap;
};

static int shape_for_run(struct rows_apply *a, const struct gdb_rows_run *run)
{
	struct gdb_shape *s = NULL;
	int rc = gdb_shapes_get(&a->g->shapes, run->table, &s);
	if (rc != SQLITE_OK) {
		tm_errmsg_printf(a->errmsg, "reading table \"%s\": %s",
				 run->table, sqlite3_errstr(rc));
		return TM_DB;
	}
	if (s == NULL) {
		tm_errmsg_printf(a->errmsg,
				 "row changes for table \"%s\", which does not "
				 "exist here",
				 run->table);
		return TM_DB;
	}
	bool same = s->keyed == run->keyed &&
		    (unsigned)s->n_cols == run->n_cols &&
		    (s->keyed || s->rowid_name != NULL);
	for (int c = 0; same && run->keyed && c < s->n_cols; c++) {
		same = s->pk[c] == run->pk[c];
	}
	if (!same) {
		tm_errmsg_printf(
		    a->errmsg,
		    "row changes for table \"%s\" (%s, %u columns) "
		    "do not fit the table here (%s, %d columns)",
		    run->table, run->keyed ? "WITHOUT ROWID" : "rowid",
		    run->n_cols, s->keyed ? "WITHOUT ROWID" : "rowid",
		    s->n_cols);
		return TM_DB;
	}
	a->shape = s;
	gdb_watch_touch(a->g, run->table);
	if ((size_t)s->n_cols + 1 > a->set_cap) {
		a->set_cap = (size_t)s->n_cols + 1;
		a->set = tm_realloc(a->set, a->set_cap);
	}
	return 0;
}

/* Parameter numbers: rowid tables take ?1 (the rowid, old one for an
 * UPDATE), ?2 (the new rowid) and the values from ?3; WITHOUT ROWID tables
 * take the key at ?(c+1) and the new values at ?(n+c+1). An INSERT takes
 * the values from ?1, after the rowid (?1) when it is not a column. */
static int value_param(const struct gdb_shape *s, enum gdb_rows_op op, int c)
{
	if (op == GDB_ROWS_INSERT) {
		return !s->keyed && s->ipk < 0 ? c + 2 : c + 1;
	}
	return s->keyed ? s->n_cols + c + 1 : c + 3;
}

static void append_key_where(sqlite3_str *q, const struct gdb_shape *s)
{
	if (!s->keyed) {
		sqlite3_str_appendf(q, " WHERE \"%w\" = ?1", s->rowid_name);
		return;
	}
	const char *sep = " WHERE ";
	for (int c = 0; c < s->n_cols; c++) {
		if (s->pk[c] != 0) {
			sqlite3_str_appendf(q, "%s\"%w\" = ?%d", sep,
					    s->names[c], c + 1);
			sep = " AND ";
		}
	}
}

static char *insert_sql(const struct gdb_shape *s)
{
	sqlite3_str *q = sqlite3_str_new(NULL);
	bool rowid = !s->keyed && s->ipk < 0;
	sqlite3_str_appendf(q, "INSERT INTO main.\"%w\"(", s->table);
	if (rowid) {
		sqlite3_str_appendf(q, "\"%w\", ", s->rowid_name);
	}
	for (int c = 0; c < s->n_cols; c++) {
		sqlite3_str_appendf(q, "%s\"%w\"", c > 0 ? ", " : "",
				    s->names[c]);
	}
	sqlite3_str_appendall(q, ") VALUES(");
	for (int c = 0; c < s->n_cols + (rowid ? 1 : 0); c++) {
		sqlite3_str_appendf(q, "%s?%d", c > 0 ? ", " : "", c + 1);
	}
	sqlite3_str_appendall(q, ")");
	return sqlite3_str_finish(q);
}

static char *delete_sql(const struct gdb_shape *s)
{
	sqlite3_str *q = sqlite3_str_new(NULL);
	sqlite3_str_appendf(q, "DELETE FROM main.\"%w\"", s->table);
	append_key_where(q, s);
	return sqlite3_str_finish(q);
}

/* SET[c] for each column set, SET[n_cols] when the rowid is set. */
static char *update_sql(const struct gdb_shape *s, const uint8_t *set)
{
	sqlite3_str *q = sqlite3_str_new(NULL);
	const char *sep = " SET ";
	sqlite3_str_appendf(q, "UPDATE main.\"%w\"", s->table);
	if (set[s->n_cols]) {
		sqlite3_str_appendf(q, "%s\"%w\" = ?2", sep, s->rowid_name);
		sep = ", ";
	}
	for (int c = 0; c < s->n_cols; c++) {
		if (set[c]) {
			sqlite3_str_appendf(q, "%s\"%w\" = ?%d", sep,
					    s->names[c],
					    value_param(s, GDB_ROWS_UPDATE, c));
			sep = ", ";
		}
	}
	append_key_where(q, s);
	return sqlite3_str_finish(q);
}

static int prepare(sqlite3 *db, char *sql, unsigned flags, sqlite3_stmt **out)
{
	if (sql == NULL) {
		return SQLITE_NOMEM;
	}
	int rc = sqlite3_prepare_v3(db, sql, -1, flags, out, NULL);
	sqlite3_free(sql);
	return rc;
}

/* The statement for a change; *transient when the caller must finalize
 * it (an UPDATE past the sets kept for the table). */
static int statement(struct rows_apply *a, enum gdb_rows_op op,
		     sqlite3_stmt **out, bool *transient)
{
	struct gdb_shape *s = a->shape;
	sqlite3 *db = a->g->apply;
	*transient = false;
	if (op == GDB_ROWS_INSERT || op == GDB_ROWS_DELETE) {
		sqlite3_stmt **st =
		    op == GDB_ROWS_INSERT ? &s->rows.insert : &s->rows.delete;
		int rc = SQLITE_OK;
		if (*st == NULL) {
			rc = prepare(db,
				     op == GDB_ROWS_INSERT ? insert_sql(s)
							   : delete_sql(s),
				     SQLITE_PREPARE_PERSISTENT, st);
		}
		*out = *st;
		return rc;
	}
	size_t n = (size_t)s->n_cols + 1;
	for (size_t i = 0; i < s->rows.n_updates; i++) {
		if (memcmp(s->rows.updates[i].set, a->set, n) == 0) {
			*out = s->rows.updates[i].st;
			return SQLITE_OK;
		}
	}
	if (s->rows.n_updates == MAX_UPDATE_STMTS) {
		*transient = true;
		return prepare(db, update_sql(s, a->set), 0, out);
	}
	sqlite3_stmt *st = NULL;
	int rc =
	    prepare(db, update_sql(s, a->set), SQLITE_PREPARE_PERSISTENT, &st);
	if (rc != SQLITE_OK) {
		return rc;
	}
	s->rows.updates = tm_realloc(
	    s->rows.updates, (s->rows.n_updates + 1) * sizeof *s->rows.updates);
	struct gdb_rows_update *u = &s->rows.updates[s->rows.n_updates++];
	u->set = tm_malloc(n);
	memcpy(u->set, a->set, n);
	u->st = st;
	*out = st;
	return SQLITE_OK;
}

static void bind_value(sqlite3_stmt *st, int idx,
		       const struct gdb_rows_value *v)
{
	switch (v->type) {
	case GDB_ROWS_INTEGER:
		sqlite3_bind_int64(st, idx, v->i);
		break;
	case GDB_ROWS_REAL:
		sqlite3_bind_double(st, idx, v->r);
		break;
	case GDB_ROWS_TEXT:
		sqlite3_bind_text64(st, idx, v->n > 0 ? (const char *)v->p : "",
				    v->n, SQLITE_STATIC, SQLITE_UTF8);
		break;
	case GDB_ROWS_BLOB:
		if (v->n == 0) {
			sqlite3_bind_zeroblob(st, idx, 0);
		} else {
			sqlite3_bind_blob64(st, idx, v->p, v->n, SQLITE_STATIC);
		}
		break;
	default:
		sqlite3_bind_null(st, idx);
		break;
	}
}

/* The row a change names, for messages. */
static void describe_row(const struct gdb_rows_iter *it, char *out, size_t size)
{
	const struct gdb_rows_change *ch = &it->change;
	if (!it->run.keyed) {
		snprintf(out, size, "rowid %lld", (long long)ch->rowid);
		return;
	}
	const struct gdb_rows_value *k =
	    ch->op == GDB_ROWS_INSERT ? NULL : &ch->key[0];
	if (k == NULL) {
		for (unsigned c = 0; c < it->run.n_cols; c++) {
			if (it->run.pk[c] == 1) {
				k = &ch->values[c];
			}
		}
	}
	if (k != NULL && k->type == GDB_ROWS_INTEGER) {
		snprintf(out, size, "key %lld", (long long)k->i);
	} else if (k != NULL && k->type == GDB_ROWS_TEXT) {
		snprintf(out, size, "key '%.*s'", (int)(k->n > 64 ? 64 : k->n),
			 (const char *)k->p);
	} else {
		snprintf(out, size, "key of type %d",
			 k != NULL ? (int)k->type : 0);
	}
}

static const char *op_name(enum gdb_rows_op op)
{
	return op == GDB_ROWS_INSERT   ? "INSERT"
	       : op == GDB_ROWS_UPDATE ? "UPDATE"
				       : "DELETE";
}

/* The rowid and the INTEGER PRIMARY KEY column must agree. */
static bool ipk_agrees(const struct gdb_shape *s,
		       const struct gdb_rows_change *ch)
{
	if (s->keyed || s->ipk < 0 || ch->op == GDB_ROWS_DELETE) {
		return true;
	}
	const struct gdb_rows_value *v = &ch->values[s->ipk];
	if (ch->op == GDB_ROWS_INSERT) {
		return v->type == GDB_ROWS_INTEGER && v->i == ch->rowid;
	}
	if (ch->rowid == ch->new_rowid) {
		return v->type == GDB_ROWS_UNCHANGED;
	}
	return v->type == GDB_ROWS_INTEGER && v->i == ch->new_rowid;
}

static void bind_change(struct rows_apply *a, sqlite3_stmt *st,
			const struct gdb_rows_change *ch)
{
	const struct gdb_shape *s = a->shape;
	if (!s->keyed && !(ch->op == GDB_ROWS_INSERT && s->ipk >= 0)) {
		sqlite3_bind_int64(st, 1, ch->rowid);
	}
	if (!s->keyed && ch->op == GDB_ROWS_UPDATE && a->set[s->n_cols]) {
		sqlite3_bind_int64(st, 2, ch->new_rowid);
	}
	if (ch->key != NULL) {
		unsigned k = 0;
		for (int c = 0; c < s->n_cols; c++) {
			if (s->pk[c] != 0) {
				bind_value(st, c + 1, &ch->key[k++]);
			}
		}
	}
	for (int c = 0; ch->values != NULL && c < s->n_cols; c++) {
		if (ch->values[c].type != GDB_ROWS_UNCHANGED) {
			bind_value(st, value_param(s, ch->op, c),
				   &ch->values[c]);
		}
	}
}

static int apply_change(struct rows_apply *a, const struct gdb_rows_iter *it)
{
	const struct gdb_rows_change *ch = &it->change;
	const struct gdb_shape *s = a->shape;
	char row[96];
	sqlite3_stmt *st = NULL;
	bool transient = false;

	if (!ipk_agrees(s, ch)) {
		describe_row(it, row, sizeof row);
		tm_errmsg_printf(a->errmsg,
				 "%s of %s in table \"%s\": its INTEGER "
				 "PRIMARY KEY does not match its rowid",
				 op_name(ch->op), row, s->table);
		return TM_CORRUPT;
	}
	if (ch->op == GDB_ROWS_UPDATE) {
		for (int c = 0; c < s->n_cols; c++) {
			a->set[c] = ch->values[c].type != GDB_ROWS_UNCHANGED;
		}
		a->set[s->n_cols] =
		    !s->keyed && s->ipk < 0 && ch->rowid != ch->new_rowid;
	}
	int rc = statement(a, ch->op, &st, &transient);
	if (rc != SQLITE_OK) {
		tm_errmsg_printf(a->errmsg,
				 "preparing the %s of table "
				 "\"%s\": %s",
				 op_name(ch->op), s->table,
				 sqlite3_errmsg(a->g->apply));
		return TM_DB;
	}
	bind_change(a, st, ch);
	rc = sqlite3_step(st);
	int changes = sqlite3_changes(a->g->apply);
	if (rc != SQLITE_DONE || changes != 1) {
		describe_row(it, row, sizeof row);
		tm_errmsg_printf(a->errmsg, "%s of %s in table \"%s\": %s",
				 op_name(ch->op), row, s->table,
				 rc != SQLITE_DONE ? sqlite3_errmsg(a->g->apply)
						   : "no such row");
	}
	if (transient) {
		sqlite3_finalize(st);
	} else {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	return rc == SQLITE_DONE && changes == 1 ? 0 : TM_DB;
}

int gdb_apply_rows(struct gdb *g, const uint8_t *data, size_t len, char *errmsg)
{
	struct rows_apply a = {.g = g, .errmsg = errmsg};
	struct gdb_rows_iter it;
	int rv;

	gdb_rows_iter_init(&it, data, len);
	while ((rv = gdb_rows_next(&it, errmsg)) == 1) {
		if (it.new_run) {
			rv = shape_for_run(&a, &it.run);
			if (rv != 0) {
				break;
			}
		}
		rv = apply_change(&a, &it);
		if (rv != 0) {
			break;
		}
		g->astats.row_changes_applied++;
	}
	gdb_rows_iter_release(&it);
	tm_free(a.set);
	return rv;
}

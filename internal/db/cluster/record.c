/* Recording the row change of a one-row statement without a session.
 *
 * Why: a SQLite session costs about 35 us per statement, most of it
 * preparing statements: when it meets its first change it reads the table
 * with PRAGMA table_info (which SQLite prepares twice: it steps the pragma
 * twice and a pragma statement runs only once), and sqlite3session_changeset
 * reads it again, prepares a SELECT, and wraps the work in SAVEPOINT and
 * RELEASE statements it parses each time. Most statements change one row.
 *
 * How: while a data statement runs, a preupdate hook (the same hook the
 * session extension is built on, sqlite3_preupdate_hook) counts the row
 * changes and keeps the first one as the session would (its old values for
 * an UPDATE or DELETE, and here also its new values). When the statement
 * changed exactly one row of a table of the main database with a primary
 * key, gdb_record_changeset() writes the changeset that
 * sqlite3session_changeset() would have written for it, following the
 * session extension's own steps for one change: read the row's current
 * values with "SELECT * FROM main.t WHERE pk IS ?" (kept prepared per table
 * in the exec connection's shapes), then
 *   - the row exists, INSERT: an INSERT of its current values;
 *   - the row exists, UPDATE or DELETE: an UPDATE holding the old value of
 *     the key and of every column whose value differs (same type and same
 *     value, doubles compared with ==, text and blobs by bytes) and the new
 *     value of the latter; nothing at all if none differs;
 *   - the row is gone, UPDATE or DELETE: a DELETE of the old values;
 *   - the row is gone, INSERT: nothing;
 * after a table header: 'T', the column count, the key position of each
 * column (PRAGMA table_info's pk), the table name as the hook named it.
 * The change is indirect when it was made by a trigger (preupdate depth).
 * test/unit/cluster/test_record.c compares the bytes with the session's for
 * many statements.
 *
 * Anything else, and the caller records the statement with a session as
 * before (write.c rolls it back to its savepoint and runs it again): more
 * than one row change (several rows, triggers that write, cascades,
 * REPLACE, AUTOINCREMENT, FTS5), an UPDATE that changes the primary key, a
 * table without a primary key or with a NULL key value, sqlite_* tables, a
 * column count that does not match the table. So a statement's changeset is
 * the session's in every case, and still one changeset per statement.
 *
 * The hook must never be installed while a session exists on the
 * connection: sqlite3session_create() takes whatever hook argument it finds
 * for the previous session in its list. */
#include <string.h>
#include <strings.h>

#include "internal/db/cluster/gdb_private.h"
#include "internal/lib/assert.h"
#include "internal/lib/mem.h"

/* Session record value types (sqlite3session.h, "changeset format"). */
#define TYPE_UNDEFINED 0x00

static void buf_reserve(struct gdb_buf *b, size_t more)
{
	if (b->len + more > b->cap) {
		size_t cap = b->cap == 0 ? 64 : b->cap;
		while (cap < b->len + more) {
			cap *= 2;
		}
		b->p = tm_realloc(b->p, cap);
		b->cap = cap;
	}
}

static void buf_append(struct gdb_buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	if (n > 0) {
		memcpy(b->p + b->len, p, n);
	}
	b->len += n;
}

static void buf_byte(struct gdb_buf *b, unsigned char c)
{
	buf_append(b, &c, 1);
}

/* SQLite's variable-length integer (the one of record headers). */
static void buf_varint(struct gdb_buf *b, uint64_t v)
{
	unsigned char out[9];
	unsigned char tmp[10];
	int n = 0;
	if ((v & ((uint64_t)0xff000000 << 32)) != 0) {
		out[8] = (unsigned char)v;
		v >>= 8;
		for (int i = 7; i >= 0; i--) {
			out[i] = (unsigned char)((v & 0x7f) | 0x80);
			v >>= 7;
		}
		buf_append(b, out, 9);
		return;
	}
	do {
		tmp[n++] = (unsigned char)((v & 0x7f) | 0x80);
		v >>= 7;
	} while (v != 0);
	tmp[0] &= 0x7f;
	for (int i = 0; i < n; i++) {
		out[i] = tmp[n - 1 - i];
	}
	buf_append(b, out, (size_t)n);
}

static void buf_i64(struct gdb_buf *b, uint64_t v)
{
	unsigned char out[8];
	for (int i = 7; i >= 0; i--) {
		out[i] = (unsigned char)v;
		v >>= 8;
	}
	buf_append(b, out, 8);
}

/* One value in the session's format; NULL pointer: undefined. */
static void buf_value(struct gdb_buf *b, sqlite3_value *v)
{
	if (v == NULL) {
		buf_byte(b, TYPE_UNDEFINED);
		return;
	}
	int type = sqlite3_value_type(v);
	buf_byte(b, (unsigned char)type);
	switch (type) {
	case SQLITE_INTEGER:
		buf_i64(b, (uint64_t)sqlite3_value_int64(v));
		break;
	case SQLITE_FLOAT: {
		double r = sqlite3_value_double(v);
		uint64_t bits;
		memcpy(&bits, &r, sizeof bits);
		buf_i64(b, bits);
		break;
	}
	case SQLITE_TEXT:
	case SQLITE_BLOB: {
		const void *p = type == SQLITE_TEXT
				    ? (const void *)sqlite3_value_text(v)
				    : sqlite3_value_blob(v);
		int n = sqlite3_value_bytes(v);
		buf_varint(b, (uint64_t)n);
		buf_append(b, p, (size_t)n);
		break;
	}
	default: /* SQLITE_NULL */
		break;
	}
}

/* Read SQLite's varint at P (before END): bytes used, 0 if cut short. */
static size_t get_varint(const unsigned char *p, const unsigned char *end,
			 uint64_t *out)
{
	uint64_t v = 0;
	for (size_t i = 0; i < 9; i++) {
		if (p + i >= end) {
			return 0;
		}
		if (i == 8) {
			*out = (v << 8) | p[i];
			return 9;
		}
		v = (v << 7) | (p[i] & 0x7f);
		if ((p[i] & 0x80) == 0) {
			*out = v;
			return i + 1;
		}
	}
	return 0;
}

/* The bytes of the TEXT or BLOB value at P (before END). */
static bool get_bytes(const unsigned char *p, const unsigned char *end,
		      const unsigned char **data, size_t *len)
{
	uint64_t n = 0;
	size_t hdr = get_varint(p + 1, end, &n);
	if (hdr == 0 || n > (uint64_t)(end - (p + 1 + hdr))) {
		return false;
	}
	*data = p + 1 + hdr;
	*len = (size_t)n;
	return true;
}

/* Length of the serialized value at P (before END); 0 if malformed. */
static size_t value_len(const unsigned char *p, const unsigned char *end)
{
	const unsigned char *data;
	size_t len;
	if (p >= end) {
		return 0;
	}
	switch (p[0]) {
	case SQLITE_INTEGER:
	case SQLITE_FLOAT:
		return end - p >= 9 ? 9 : 0;
	case SQLITE_TEXT:
	case SQLITE_BLOB:
		if (!get_bytes(p, end, &data, &len)) {
			return 0;
		}
		return (size_t)(data - p) + len;
	default: /* NULL, undefined */
		return 1;
	}
}

static uint64_t get_i64(const unsigned char *p)
{
	uint64_t bits = 0;
	for (int i = 0; i < 8; i++) {
		bits = (bits << 8) | p[i];
	}
	return bits;
}

/* The offsets of the N_COLS values of a serialized record. */
static bool split_record(const struct gdb_buf *rec, int n_cols, size_t *off)
{
	const unsigned char *p = rec->p;
	const unsigned char *end = rec->p + rec->len;
	for (int c = 0; c < n_cols; c++) {
		size_t n = value_len(p, end);
		if (n == 0) {
			return false;
		}
		off[c] = (size_t)(p - rec->p);
		p += n;
	}
	return p == end;
}

static void preupdate_cb(void *arg, sqlite3 *db, int op, const char *db_name,
			 const char *table, sqlite3_int64 key1,
			 sqlite3_int64 key2)
{
	struct gdb_record *rec = arg;
	(void)key1;
	(void)key2;
	if (rec->events++ > 0) {
		return;
	}
	if (strcmp(db_name, "main") != 0 ||
	    strncasecmp(table, "sqlite_", 7) == 0) {
		rec->other = true;
		return;
	}
	rec->op = op;
	rec->indirect = sqlite3_preupdate_depth(db) > 0;
	rec->table = tm_strdup(table);
	rec->n_cols = sqlite3_preupdate_count(db);
	for (int c = 0; c < rec->n_cols; c++) {
		sqlite3_value *v = NULL;
		if (op != SQLITE_INSERT) {
			if (sqlite3_preupdate_old(db, c, &v) != SQLITE_OK) {
				rec->other = true;
				return;
			}
			buf_value(&rec->old, v);
		}
		if (op != SQLITE_DELETE) {
			if (sqlite3_preupdate_new(db, c, &v) != SQLITE_OK) {
				rec->other = true;
				return;
			}
			buf_value(&rec->new, v);
		}
	}
}

void gdb_record_begin(struct gdb_record *rec, sqlite3 *db)
{
	memset(rec, 0, sizeof *rec);
	rec->db = db;
	void *previous = sqlite3_preupdate_hook(db, preupdate_cb, rec);
	PRE(previous == NULL); /* no session, no other recorder */
}

void gdb_record_end(struct gdb_record *rec)
{
	sqlite3_preupdate_hook(rec->db, NULL, NULL);
}

void gdb_record_clear(struct gdb_record *rec)
{
	tm_free(rec->table);
	tm_free(rec->old.p);
	tm_free(rec->new.p);
	memset(rec, 0, sizeof *rec);
}

static int prepare_select(sqlite3 *db, const char *table, struct gdb_shape *s)
{
	sqlite3_str *q = sqlite3_str_new(NULL);
	const char *sep = " WHERE ";
	sqlite3_str_appendf(q, "SELECT * FROM \"main\".\"%w\"", table);
	for (int c = 0; c < s->n_cols; c++) {
		if (s->pk[c]) {
			sqlite3_str_appendf(q, "%s\"%w\" IS ?%d", sep,
					    s->names[c], c + 1);
			sep = " AND ";
		}
	}
	char *sql = sqlite3_str_finish(q);
	if (sql == NULL) {
		return SQLITE_NOMEM;
	}
	int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT,
				    &s->select, NULL);
	sqlite3_free(sql);
	return rc;
}

/* Bind the serialized value at P (well formed, before END) to parameter
 * IDX; false for NULL. */
static bool bind_serialized(sqlite3_stmt *st, int idx, const unsigned char *p,
			    const unsigned char *end)
{
	const unsigned char *data = NULL;
	size_t len = 0;
	switch (p[0]) {
	case SQLITE_INTEGER:
		sqlite3_bind_int64(st, idx, (sqlite3_int64)get_i64(p + 1));
		return true;
	case SQLITE_FLOAT: {
		uint64_t bits = get_i64(p + 1);
		double r;
		memcpy(&r, &bits, sizeof r);
		sqlite3_bind_double(st, idx, r);
		return true;
	}
	case SQLITE_TEXT:
		get_bytes(p, end, &data, &len);
		sqlite3_bind_text64(st, idx, (const char *)data, len,
				    SQLITE_STATIC, SQLITE_UTF8);
		return true;
	case SQLITE_BLOB:
		get_bytes(p, end, &data, &len);
		sqlite3_bind_blob64(st, idx, data, len, SQLITE_STATIC);
		return true;
	default:
		return false;
	}
}

/* Does the serialized value at P (before END) equal column C of ST? The
 * session's test (sessionAppendUpdate): same type and, for numbers, ==
 * (so -0.0 equals 0.0), for text and blobs, the same bytes. */
static bool same_value(const unsigned char *p, const unsigned char *end,
		       sqlite3_stmt *st, int c)
{
	int type = sqlite3_column_type(st, c);
	if (p[0] == SQLITE_NULL || type != p[0]) {
		return p[0] == SQLITE_NULL && type == SQLITE_NULL;
	}
	switch (type) {
	case SQLITE_INTEGER:
		return (sqlite3_int64)get_i64(p + 1) ==
		       sqlite3_column_int64(st, c);
	case SQLITE_FLOAT: {
		uint64_t bits = get_i64(p + 1);
		double r;
		double col = sqlite3_column_double(st, c);
		memcpy(&r, &bits, sizeof r);
		return !(r < col || r > col);
	}
	default: {
		const unsigned char *data = NULL;
		size_t len = 0;
		get_bytes(p, end, &data, &len);
		const void *col = type == SQLITE_TEXT
				      ? (const void *)sqlite3_column_text(st, c)
				      : sqlite3_column_blob(st, c);
		return (size_t)sqlite3_column_bytes(st, c) == len &&
		       (len == 0 || memcmp(data, col, len) == 0);
	}
	}
}

static void write_header(struct gdb_buf *out, const struct gdb_record *rec,
			 const struct gdb_shape *s)
{
	buf_byte(out, 'T');
	buf_varint(out, (uint64_t)s->n_cols);
	buf_append(out, s->pk, (size_t)s->n_cols);
	buf_append(out, rec->table, strlen(rec->table) + 1);
}

/* The row exists after an UPDATE: the session's UPDATE record (old value
 * of the key and of changed columns, new value of changed columns); false
 * if no column differs. */
static bool write_update(struct gdb_buf *out, const struct gdb_record *rec,
			 const struct gdb_shape *s, const size_t *old_off,
			 sqlite3_stmt *sel)
{
	struct gdb_buf new = {0};
	bool changed_any = false;
	buf_byte(out, SQLITE_UPDATE);
	buf_byte(out, rec->indirect ? 1 : 0);
	for (int c = 0; c < s->n_cols; c++) {
		const unsigned char *end = rec->old.p + rec->old.len;
		const unsigned char *old = rec->old.p + old_off[c];
		size_t len = value_len(old, end);
		bool changed = !same_value(old, end, sel, c);
		changed_any = changed_any || changed;
		if (changed || s->pk[c]) {
			buf_append(out, old, len);
		} else {
			buf_byte(out, TYPE_UNDEFINED);
		}
		if (changed) {
			buf_value(&new, sqlite3_column_value(sel, c));
		} else {
			buf_byte(&new, TYPE_UNDEFINED);
		}
	}
	buf_append(out, new.p, new.len);
	tm_free(new.p);
	return changed_any;
}

/* Check the recorded change can be written here; bind its key to SEL. */
static bool bind_key(const struct gdb_record *rec, const struct gdb_shape *s,
		     const size_t *old_off, const size_t *new_off,
		     sqlite3_stmt *sel)
{
	for (int c = 0; c < s->n_cols; c++) {
		if (!s->pk[c]) {
			continue;
		}
		const struct gdb_buf *from =
		    rec->op == SQLITE_INSERT ? &rec->new : &rec->old;
		const unsigned char *key =
		    from->p +
		    (rec->op == SQLITE_INSERT ? new_off[c] : old_off[c]);
		const unsigned char *end = from->p + from->len;
		if (rec->op == SQLITE_UPDATE) {
			/* The key must not change. */
			const unsigned char *nk = rec->new.p + new_off[c];
			size_t n = value_len(key, end);
			if (n != value_len(nk, rec->new.p + rec->new.len) ||
			    memcmp(key, nk, n) != 0) {
				return false;
			}
		}
		if (!bind_serialized(sel, c + 1, key, end)) {
			return false; /* NULL key: the session ignores it */
		}
	}
	return true;
}

static bool has_key(const struct gdb_shape *s)
{
	for (int c = 0; c < s->n_cols; c++) {
		if (s->pk[c]) {
			return true;
		}
	}
	return false;
}

/* The changeset of the one change, from the row as it is now: SEL (bound
 * by bind_key) finds it or not. Empty when nothing is to be recorded. */
static int write_change(const struct gdb_record *rec, const struct gdb_shape *s,
			const size_t *old_off, sqlite3_stmt *sel,
			struct gdb_buf *cs)
{
	write_header(cs, rec, s);
	size_t header = cs->len;
	int rc = sqlite3_step(sel);
	if (rc == SQLITE_ROW && rec->op == SQLITE_INSERT) {
		buf_byte(cs, SQLITE_INSERT);
		buf_byte(cs, rec->indirect ? 1 : 0);
		for (int c = 0; c < s->n_cols; c++) {
			buf_value(cs, sqlite3_column_value(sel, c));
		}
	} else if (rc == SQLITE_ROW) {
		if (!write_update(cs, rec, s, old_off, sel)) {
			cs->len = header; /* no column differs */
		}
	} else if (rc == SQLITE_DONE && rec->op != SQLITE_INSERT) {
		buf_byte(cs, SQLITE_DELETE);
		buf_byte(cs, rec->indirect ? 1 : 0);
		buf_append(cs, rec->old.p, rec->old.len);
	} else if (rc != SQLITE_DONE) {
		return rc;
	}
	if (cs->len == header) {
		cs->len = 0; /* no change: no table header either */
	}
	return SQLITE_OK;
}

/* The exec shape of REC's table if record.c can write its change. */
static int usable_shape(const struct gdb_record *rec, struct gdb_shapes *shapes,
			struct gdb_shape **out)
{
	struct gdb_shape *s = NULL;
	*out = NULL;
	int rc = gdb_shapes_get(shapes, rec->table, &s);
	if (rc != SQLITE_OK || s == NULL || s->n_cols != rec->n_cols ||
	    !has_key(s)) {
		return rc;
	}
	if (s->select == NULL) {
		rc = prepare_select(shapes->db, rec->table, s);
		if (rc != SQLITE_OK) {
			return rc;
		}
	}
	*out = s;
	return SQLITE_OK;
}

int gdb_record_changeset(struct gdb_record *rec, struct gdb_shapes *shapes,
			 bool *need_session, void **out, int *n)
{
	struct gdb_shape *s = NULL;
	*need_session = rec->events > 1 || rec->other;
	*out = NULL;
	*n = 0;
	if (rec->events == 0 || *need_session) {
		return SQLITE_OK;
	}
	int rc = usable_shape(rec, shapes, &s);
	if (rc != SQLITE_OK || s == NULL) {
		*need_session = rc == SQLITE_OK;
		return rc;
	}
	size_t *off = tm_calloc(2 * (size_t)s->n_cols, sizeof *off);
	size_t *old_off = off;
	size_t *new_off = off + s->n_cols;
	if ((rec->op != SQLITE_INSERT &&
	     !split_record(&rec->old, s->n_cols, old_off)) ||
	    (rec->op != SQLITE_DELETE &&
	     !split_record(&rec->new, s->n_cols, new_off)) ||
	    !bind_key(rec, s, old_off, new_off, s->select)) {
		*need_session = true;
	} else {
		struct gdb_buf cs = {0};
		rc = write_change(rec, s, old_off, s->select, &cs);
		if (rc == SQLITE_OK && cs.len > 0) {
			/* Items hold changesets in SQLite's memory. */
			*out = sqlite3_malloc64(cs.len);
			rc = *out != NULL ? SQLITE_OK : SQLITE_NOMEM;
		}
		if (*out != NULL) {
			memcpy(*out, cs.p, cs.len);
			*n = (int)cs.len;
		}
		tm_free(cs.p);
	}
	sqlite3_reset(s->select);
	sqlite3_clear_bindings(s->select);
	tm_free(off);
	return rc;
}

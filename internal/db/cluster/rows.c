/* ROWS items: see rows.h and doc/log-entry-format.md. */
#include "internal/db/cluster/rows.h"

#include <string.h>

#include "internal/lib/assert.h"
#include "internal/lib/err.h"
#include "internal/lib/mem.h"

void gdb_bytes_put(struct gdb_bytes *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap == 0 ? 256 : b->cap;
		while (cap < b->len + n) {
			cap *= 2;
		}
		b->p = tm_realloc(b->p, cap);
		b->cap = cap;
	}
	if (n > 0) {
		memcpy(b->p + b->len, p, n);
	}
	b->len += n;
}

void gdb_bytes_release(struct gdb_bytes *b)
{
	tm_free(b->p);
	memset(b, 0, sizeof *b);
}

static void put_le(struct gdb_bytes *b, uint64_t v, size_t n)
{
	uint8_t out[8];
	for (size_t i = 0; i < n; i++) {
		out[i] = (uint8_t)(v >> (8 * i));
	}
	gdb_bytes_put(b, out, n);
}

static uint64_t get_le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	for (size_t i = n; i > 0; i--) {
		v = (v << 8) | p[i - 1];
	}
	return v;
}

static void set_u32(uint8_t *p, uint32_t v)
{
	for (size_t i = 0; i < 4; i++) {
		p[i] = (uint8_t)(v >> (8 * i));
	}
}

/* Writing. */

static void close_run(struct gdb_rows_writer *w)
{
	if (!w->run_open) {
		return;
	}
	if (w->n_changes == 0) {
		w->out.len = w->run_start; /* a run without changes: none */
	} else {
		set_u32(w->out.p + w->count_at, w->n_changes);
	}
	w->run_open = false;
	tm_free(w->table);
	w->table = NULL;
}

void gdb_rows_run(struct gdb_rows_writer *w, bool keyed, unsigned n_cols,
		  const uint8_t *pk, const char *table)
{
	if (w->run_open && w->keyed == keyed && strcmp(w->table, table) == 0) {
		return;
	}
	PRE(n_cols >= 1 && n_cols <= GDB_ROWS_MAX_COLUMNS);
	close_run(w);
	size_t name_len = strlen(table);
	w->run_start = w->out.len;
	gdb_bytes_put(
	    &w->out,
	    &(uint8_t){keyed ? GDB_ROWS_KIND_KEYED : GDB_ROWS_KIND_ROWID}, 1);
	put_le(&w->out, n_cols, 2);
	if (keyed) {
		gdb_bytes_put(&w->out, pk, n_cols);
	}
	put_le(&w->out, name_len, 4);
	gdb_bytes_put(&w->out, table, name_len);
	w->count_at = w->out.len;
	put_le(&w->out, 0, 4);
	w->n_changes = 0;
	w->run_open = true;
	w->keyed = keyed;
	w->table = tm_strdup(table);
}

void gdb_rows_begin(struct gdb_rows_writer *w, enum gdb_rows_op op)
{
	PRE(w->run_open);
	w->change_start = w->out.len;
	gdb_bytes_put(&w->out, &(uint8_t){(uint8_t)op}, 1);
}

void gdb_rows_rowid(struct gdb_rows_writer *w, int64_t rowid)
{
	put_le(&w->out, (uint64_t)rowid, 8);
}

void gdb_rows_integer(struct gdb_rows_writer *w, int64_t v)
{
	gdb_bytes_put(&w->out, &(uint8_t){GDB_ROWS_INTEGER}, 1);
	put_le(&w->out, (uint64_t)v, 8);
}

void gdb_rows_real(struct gdb_rows_writer *w, double v)
{
	uint64_t bits;
	memcpy(&bits, &v, sizeof bits);
	gdb_bytes_put(&w->out, &(uint8_t){GDB_ROWS_REAL}, 1);
	put_le(&w->out, bits, 8);
}

void gdb_rows_text(struct gdb_rows_writer *w, enum gdb_rows_type type,
		   const void *p, uint32_t n)
{
	PRE(type == GDB_ROWS_TEXT || type == GDB_ROWS_BLOB);
	gdb_bytes_put(&w->out, &(uint8_t){(uint8_t)type}, 1);
	put_le(&w->out, n, 4);
	gdb_bytes_put(&w->out, p, n);
}

void gdb_rows_type_only(struct gdb_rows_writer *w, enum gdb_rows_type type)
{
	PRE(type == GDB_ROWS_NULL || type == GDB_ROWS_UNCHANGED);
	gdb_bytes_put(&w->out, &(uint8_t){(uint8_t)type}, 1);
}

void gdb_rows_end(struct gdb_rows_writer *w) { w->n_changes++; }

void gdb_rows_cancel(struct gdb_rows_writer *w)
{
	w->out.len = w->change_start;
}

void gdb_rows_finish(struct gdb_rows_writer *w) { close_run(w); }

void gdb_rows_reset(struct gdb_rows_writer *w)
{
	close_run(w);
	w->out.len = 0;
}

void gdb_rows_release(struct gdb_rows_writer *w)
{
	close_run(w);
	gdb_bytes_release(&w->out);
}

/* Reading. */

void gdb_rows_iter_init(struct gdb_rows_iter *it, const uint8_t *data,
			size_t len)
{
	memset(it, 0, sizeof *it);
	it->base = data;
	it->p = data;
	it->end = data + len;
}

void gdb_rows_iter_release(struct gdb_rows_iter *it)
{
	tm_free(it->run.table);
	tm_free(it->vals);
	memset(it, 0, sizeof *it);
}

static size_t left(const struct gdb_rows_iter *it)
{
	return (size_t)(it->end - it->p);
}

static int corrupt(struct gdb_rows_iter *it, char *errmsg, const char *what)
{
	tm_errmsg_printf(errmsg, "ROWS item, offset %zu: %s",
			 (size_t)(it->p - it->base), what);
	return TM_CORRUPT;
}

static int read_run(struct gdb_rows_iter *it, char *errmsg)
{
	if (left(it) < 1 + 2) {
		return corrupt(it, errmsg, "run header cut short");
	}
	uint8_t kind = it->p[0];
	if (kind != GDB_ROWS_KIND_ROWID && kind != GDB_ROWS_KIND_KEYED) {
		return corrupt(it, errmsg, "unknown table kind");
	}
	unsigned n_cols = (unsigned)get_le(it->p + 1, 2);
	if (n_cols == 0 || n_cols > GDB_ROWS_MAX_COLUMNS) {
		return corrupt(it, errmsg, "column count out of range");
	}
	it->p += 3;
	it->run.keyed = kind == GDB_ROWS_KIND_KEYED;
	it->run.n_cols = n_cols;
	it->run.pk = NULL;
	it->run.n_pk = 0;
	if (it->run.keyed) {
		if (left(it) < n_cols) {
			return corrupt(it, errmsg,
				       "key positions cut "
				       "short");
		}
		/* Positions 1..n_pk, each once. */
		uint8_t seen[256] = {0};
		for (unsigned c = 0; c < n_cols; c++) {
			uint8_t pos = it->p[c];
			if (pos == 0) {
				continue;
			}
			if (seen[pos]++ > 0) {
				return corrupt(it, errmsg,
					       "key position repeated");
			}
			it->run.n_pk++;
		}
		for (unsigned k = 1; k <= it->run.n_pk; k++) {
			if (k > 255 || seen[k] == 0) {
				return corrupt(it, errmsg,
					       "key positions not 1..n");
			}
		}
		if (it->run.n_pk == 0) {
			return corrupt(it, errmsg,
				       "keyed run without "
				       "a key");
		}
		it->run.pk = it->p;
		it->p += n_cols;
	}
	if (left(it) < 4) {
		return corrupt(it, errmsg, "table name cut short");
	}
	uint32_t name_len = (uint32_t)get_le(it->p, 4);
	it->p += 4;
	if (name_len == 0 || name_len > left(it) ||
	    memchr(it->p, '\0', name_len) != NULL) {
		return corrupt(it, errmsg, "bad table name");
	}
	tm_free(it->run.table);
	it->run.table = tm_strndup((const char *)it->p, name_len);
	it->p += name_len;
	if (left(it) < 4) {
		return corrupt(it, errmsg, "change count cut short");
	}
	it->left = (uint32_t)get_le(it->p, 4);
	it->p += 4;
	/* The smallest change: a keyed DELETE of a one-byte value, or a
	 * rowid DELETE of 9 bytes. */
	if (it->left == 0 || it->left > left(it) / 2) {
		return corrupt(it, errmsg, "change count out of range");
	}
	size_t need = (size_t)it->run.n_pk + n_cols;
	if (need > it->vals_cap) {
		it->vals = tm_realloc(it->vals, need * sizeof *it->vals);
		it->vals_cap = need;
	}
	return 0;
}

/* One value; UNCHANGED only where ALLOW_UNCHANGED. */
static int read_value(struct gdb_rows_iter *it, char *errmsg,
		      struct gdb_rows_value *v, bool allow_unchanged)
{
	if (left(it) < 1) {
		return corrupt(it, errmsg, "value cut short");
	}
	memset(v, 0, sizeof *v);
	v->type = (enum gdb_rows_type)it->p[0];
	it->p++;
	switch (v->type) {
	case GDB_ROWS_UNCHANGED:
		if (!allow_unchanged) {
			return corrupt(it, errmsg,
				       "unchanged value outside an UPDATE");
		}
		return 0;
	case GDB_ROWS_NULL:
		return 0;
	case GDB_ROWS_INTEGER:
	case GDB_ROWS_REAL: {
		if (left(it) < 8) {
			return corrupt(it, errmsg, "number cut short");
		}
		uint64_t bits = get_le(it->p, 8);
		it->p += 8;
		if (v->type == GDB_ROWS_INTEGER) {
			v->i = (int64_t)bits;
		} else {
			memcpy(&v->r, &bits, sizeof v->r);
		}
		return 0;
	}
	case GDB_ROWS_TEXT:
	case GDB_ROWS_BLOB:
		if (left(it) < 4) {
			return corrupt(it, errmsg, "length cut short");
		}
		v->n = (uint32_t)get_le(it->p, 4);
		it->p += 4;
		if (v->n > left(it)) {
			return corrupt(it, errmsg,
				       "value longer than "
				       "the item");
		}
		v->p = it->p;
		it->p += v->n;
		return 0;
	default:
		it->p--;
		return corrupt(it, errmsg, "unknown value type");
	}
}

static int read_rowid(struct gdb_rows_iter *it, char *errmsg, int64_t *out)
{
	if (left(it) < 8) {
		return corrupt(it, errmsg, "rowid cut short");
	}
	*out = (int64_t)get_le(it->p, 8);
	it->p += 8;
	return 0;
}

static int read_values(struct gdb_rows_iter *it, char *errmsg,
		       struct gdb_rows_value *v, unsigned n, bool update)
{
	for (unsigned c = 0; c < n; c++) {
		int rv = read_value(it, errmsg, &v[c], update);
		if (rv != 0) {
			return rv;
		}
	}
	return 0;
}

static bool any_changed(const struct gdb_rows_value *v, unsigned n)
{
	for (unsigned c = 0; c < n; c++) {
		if (v[c].type != GDB_ROWS_UNCHANGED) {
			return true;
		}
	}
	return false;
}

static int read_change(struct gdb_rows_iter *it, char *errmsg)
{
	struct gdb_rows_change *ch = &it->change;
	const struct gdb_rows_run *run = &it->run;
	int rv = 0;
	memset(ch, 0, sizeof *ch);
	it->offset = (size_t)(it->p - it->base);
	if (left(it) < 1) {
		return corrupt(it, errmsg, "change cut short");
	}
	ch->op = (enum gdb_rows_op)it->p[0];
	it->p++;
	if (ch->op != GDB_ROWS_INSERT && ch->op != GDB_ROWS_UPDATE &&
	    ch->op != GDB_ROWS_DELETE) {
		it->p--;
		return corrupt(it, errmsg, "unknown operation");
	}
	ch->key = it->vals;
	ch->values = it->vals + run->n_pk;
	if (!run->keyed) {
		rv = read_rowid(it, errmsg, &ch->rowid);
		ch->new_rowid = ch->rowid;
		if (rv == 0 && ch->op == GDB_ROWS_UPDATE) {
			rv = read_rowid(it, errmsg, &ch->new_rowid);
		}
	} else if (ch->op != GDB_ROWS_INSERT) {
		rv = read_values(it, errmsg, ch->key, run->n_pk, false);
		for (unsigned k = 0; rv == 0 && k < run->n_pk; k++) {
			if (ch->key[k].type == GDB_ROWS_NULL) {
				rv = corrupt(it, errmsg,
					     "NULL in a primary key");
			}
		}
	}
	if (rv == 0 && ch->op != GDB_ROWS_DELETE) {
		rv = read_values(it, errmsg, ch->values, run->n_cols,
				 ch->op == GDB_ROWS_UPDATE);
	}
	if (rv == 0 && ch->op == GDB_ROWS_UPDATE &&
	    ch->rowid == ch->new_rowid &&
	    !any_changed(ch->values, run->n_cols)) {
		rv = corrupt(it, errmsg, "UPDATE that changes nothing");
	}
	if (ch->op == GDB_ROWS_DELETE) {
		ch->values = NULL;
	}
	if (!run->keyed || ch->op == GDB_ROWS_INSERT) {
		ch->key = NULL;
	}
	return rv;
}

int gdb_rows_next(struct gdb_rows_iter *it, char *errmsg)
{
	if (it->left == 0) {
		if (it->p == it->end) {
			if (it->run.table == NULL) {
				tm_errmsg_printf(errmsg, "ROWS item is empty");
				return TM_CORRUPT;
			}
			return 0;
		}
		int rv = read_run(it, errmsg);
		if (rv != 0) {
			return rv;
		}
		it->new_run = true;
	} else {
		it->new_run = false;
	}
	int rv = read_change(it, errmsg);
	if (rv != 0) {
		return rv;
	}
	it->left--;
	return 1;
}

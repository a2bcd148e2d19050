/* The ROWS item of a write entry: the row changes of one statement, in the
 * order SQLite made them, each naming its row by rowid (rowid tables) or by
 * primary key (WITHOUT ROWID tables).
 *
 * Pure functions on memory (no SQLite), so the reader can be fuzzed on its
 * own. The byte layout is documented in doc/log-entry-format.md ("ROWS");
 * keep the two in step.
 *
 *   rows   := run{1..}
 *   run    := kind(1) n_cols(2) pk(n_cols, keyed runs only) name_len(4)
 *             name(name_len) n_changes(4) change{n_changes}
 *   change := op(1) then, by op and kind:
 *             rowid INSERT:  rowid(8) value{n_cols}
 *             rowid UPDATE:  old_rowid(8) new_rowid(8) value{n_cols}
 *             rowid DELETE:  rowid(8)
 *             keyed INSERT:  value{n_cols}
 *             keyed UPDATE:  key{n_pk} value{n_cols}
 *             keyed DELETE:  key{n_pk}
 *   value  := type(1) payload: INTEGER and REAL 8 bytes, TEXT and BLOB
 *             length(4) bytes, NULL nothing; type 0 (UPDATE only) means
 *             "unchanged", also without payload.
 * Integers are little-endian; rowids and INTEGER values two's complement.
 */
#ifndef TM_DB_CLUSTER_ROWS_H
#define TM_DB_CLUSTER_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GDB_ROWS_KIND_ROWID 'R' /* a rowid table: rows named by rowid */
#define GDB_ROWS_KIND_KEYED 'K' /* WITHOUT ROWID: rows named by their key */

enum gdb_rows_op {
	GDB_ROWS_INSERT = 1,
	GDB_ROWS_UPDATE = 2,
	GDB_ROWS_DELETE = 3,
};

/* Value types: SQLite's fundamental type codes, and 0. */
enum gdb_rows_type {
	GDB_ROWS_UNCHANGED = 0, /* UPDATE: the column keeps its value */
	GDB_ROWS_INTEGER = 1,
	GDB_ROWS_REAL = 2,
	GDB_ROWS_TEXT = 3,
	GDB_ROWS_BLOB = 4,
	GDB_ROWS_NULL = 5,
};

#define GDB_ROWS_MAX_COLUMNS 32767 /* SQLite's own hard limit */

/* A growing byte buffer (tm_realloc'd). */
struct gdb_bytes {
	uint8_t *p;
	size_t len;
	size_t cap;
};
void gdb_bytes_put(struct gdb_bytes *b, const void *p, size_t n);
void gdb_bytes_release(struct gdb_bytes *b);

/* Writing: open a run for each table change (consecutive changes of one
 * table share it), then the change's fields in order, then end it; or
 * cancel it, which also drops a run left without changes. */
struct gdb_rows_writer {
	struct gdb_bytes out;
	size_t run_start;   /* offset of the open run's kind byte */
	size_t count_at;    /* offset of its n_changes field */
	uint32_t n_changes; /* in the open run */
	size_t change_start;
	bool run_open;
	char *table; /* of the open run, owned */
	bool keyed;
};
/* Open a run for TABLE unless the open run is TABLE's (same name, same
 * kind). PK (n_cols bytes, key positions 1.., 0 elsewhere) for keyed runs
 * only. */
void gdb_rows_run(struct gdb_rows_writer *w, bool keyed, unsigned n_cols,
		  const uint8_t *pk, const char *table);
void gdb_rows_begin(struct gdb_rows_writer *w, enum gdb_rows_op op);
void gdb_rows_rowid(struct gdb_rows_writer *w, int64_t rowid);
void gdb_rows_integer(struct gdb_rows_writer *w, int64_t v);
void gdb_rows_real(struct gdb_rows_writer *w, double v);
void gdb_rows_text(struct gdb_rows_writer *w, enum gdb_rows_type type,
		   const void *p, uint32_t n); /* TEXT or BLOB */
void gdb_rows_type_only(struct gdb_rows_writer *w, enum gdb_rows_type type);
void gdb_rows_end(struct gdb_rows_writer *w);
void gdb_rows_cancel(struct gdb_rows_writer *w);
/* Close the open run; the item is w->out (empty: no change). */
void gdb_rows_finish(struct gdb_rows_writer *w);
/* Forget everything written (keeps the buffer). */
void gdb_rows_reset(struct gdb_rows_writer *w);
void gdb_rows_release(struct gdb_rows_writer *w);

/* Reading. */
struct gdb_rows_value {
	enum gdb_rows_type type;
	int64_t i;	  /* INTEGER */
	double r;	  /* REAL */
	const uint8_t *p; /* TEXT, BLOB: into the item */
	uint32_t n;
};
struct gdb_rows_run {
	bool keyed;
	unsigned n_cols;
	const uint8_t *pk; /* keyed: n_cols key positions, into the item */
	unsigned n_pk;	   /* keyed: number of key columns */
	char *table;	   /* NUL-terminated copy, owned by the iterator */
};
struct gdb_rows_change {
	enum gdb_rows_op op;
	int64_t rowid;		       /* rowid runs: the row (old one) */
	int64_t new_rowid;	       /* rowid UPDATE: its rowid after */
	struct gdb_rows_value *key;    /* keyed UPDATE, DELETE: n_pk */
	struct gdb_rows_value *values; /* INSERT, UPDATE: n_cols */
};
struct gdb_rows_iter {
	const uint8_t *base; /* the item */
	const uint8_t *p;
	const uint8_t *end;
	struct gdb_rows_run run;
	bool new_run;  /* the change just read opened RUN */
	uint32_t left; /* changes of RUN not read yet */
	struct gdb_rows_change change;
	struct gdb_rows_value *vals; /* key then values */
	size_t vals_cap;
	size_t offset; /* of the change just read, for messages */
};
void gdb_rows_iter_init(struct gdb_rows_iter *it, const uint8_t *data,
			size_t len);
/* The next change into it->change (and it->run): 1; the end: 0; TM_CORRUPT
 * with errmsg (TM_ERRMSG_SIZE bytes) saying where. Every length is checked
 * against the bytes left before it is used; an item with no run, a run
 * with no change, and an UPDATE that changes nothing are corrupt. */
int gdb_rows_next(struct gdb_rows_iter *it, char *errmsg);
void gdb_rows_iter_release(struct gdb_rows_iter *it);

#endif /* TM_DB_CLUSTER_ROWS_H */

/* Fuzz target: the reader of ROWS items (a write entry's row changes, from
 * the leader over raft) must refuse, never crash on, any byte string; what
 * it accepts, written again change by change, gives the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal/db/cluster/rows.h"
#include "internal/lib/assert.h"
#include "internal/lib/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void put_value(struct gdb_rows_writer *w, const struct gdb_rows_value *v)
{
	switch (v->type) {
	case GDB_ROWS_INTEGER:
		gdb_rows_integer(w, v->i);
		break;
	case GDB_ROWS_REAL:
		gdb_rows_real(w, v->r);
		break;
	case GDB_ROWS_TEXT:
	case GDB_ROWS_BLOB:
		gdb_rows_text(w, v->type, v->p, v->n);
		break;
	default:
		gdb_rows_type_only(w, v->type);
		break;
	}
}

static void rewrite(struct gdb_rows_writer *w, const struct gdb_rows_iter *it)
{
	const struct gdb_rows_change *ch = &it->change;
	gdb_rows_run(w, it->run.keyed, it->run.n_cols, it->run.pk,
		     it->run.table);
	if (it->new_run) {
	}
	gdb_rows_begin(w, ch->op);
	if (!it->run.keyed) {
		gdb_rows_rowid(w, ch->rowid);
		if (ch->op == GDB_ROWS_UPDATE) {
			gdb_rows_rowid(w, ch->new_rowid);
		}
	}
	for (unsigned k = 0; ch->key != NULL && k < it->run.n_pk; k++) {
		put_value(w, &ch->key[k]);
	}
	for (unsigned c = 0; ch->values != NULL && c < it->run.n_cols; c++) {
		put_value(w, &ch->values[c]);
	}
	gdb_rows_end(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gdb_rows_iter it;
	struct gdb_rows_writer w = {0};
	char errmsg[TM_ERRMSG_SIZE];
	int rv;
	bool same_table_twice = false;
	gdb_rows_iter_init(&it, data, size);
	while ((rv = gdb_rows_next(&it, errmsg)) == 1) {
		if (it.new_run && w.run_open && w.keyed == it.run.keyed &&
		    strcmp(w.table, it.run.table) == 0) {
			same_table_twice = true; /* the writer would merge */
		}
		rewrite(&w, &it);
	}
	gdb_rows_iter_release(&it);
	if (rv == 0 && !same_table_twice) {
		gdb_rows_finish(&w);
		INVARIANT(w.out.len == size);
		INVARIANT(memcmp(w.out.p, data, size) == 0);
	}
	gdb_rows_release(&w);
	return 0;
}

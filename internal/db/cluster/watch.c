/* Watching tables: tell the caller when applied entries changed a table,
 * on every member (gdb_watch in gdb.h).
 *
 * While an entry is applied, each table it changes is marked: the table
 * of every run of a ROWS item (apply_rows.c), every table an old changeset
 * names (apply.c), and every watched table when the entry changed the
 * schema (an SQL item: a table may have been dropped, created or altered)
 * or replaced the database (a RESTORE entry, a snapshot installed). Once
 * the entry's transaction has committed, each marked watch's callback runs
 * once on the loop, in the order the watches were added; the marks are
 * then cleared. Entries applied on the apply thread (lane.c) mark from
 * there, and the loop fires when it learns of them: several entries may
 * then fire a watch once. Watches are added before raft starts.
 * Without watches this costs nothing but a loop over none. */
#include <strings.h>

#include "internal/db/cluster/gdb_private.h"
#include "internal/lib/mem.h"

void gdb_watch(struct gdb *g, const char *table, gdb_watch_cb cb, void *arg)
{
	g->watches =
	    tm_realloc(g->watches, (g->n_watches + 1) * sizeof *g->watches);
	g->watches[g->n_watches++] =
	    (struct gdb_watch){.table = tm_strdup(table), .cb = cb, .arg = arg};
}

void gdb_watch_touch(struct gdb *g, const char *table)
{
	for (size_t i = 0; i < g->n_watches; i++) {
		if (strcasecmp(g->watches[i].table, table) == 0) {
			atomic_store(&g->watches[i].touched, true);
		}
	}
}

void gdb_watch_touch_all(struct gdb *g)
{
	for (size_t i = 0; i < g->n_watches; i++) {
		atomic_store(&g->watches[i].touched, true);
	}
}

void gdb_watch_fire(struct gdb *g)
{
	for (size_t i = 0; i < g->n_watches; i++) {
		struct gdb_watch *w = &g->watches[i];
		if (atomic_exchange(&w->touched, false)) {
			w->cb(w->arg, w->table);
		}
	}
}

void gdb_watch_release(struct gdb *g)
{
	for (size_t i = 0; i < g->n_watches; i++) {
		tm_free(g->watches[i].table);
	}
	tm_free(g->watches);
	g->watches = NULL;
	g->n_watches = 0;
}

/* The log kept after a snapshot, bounded in bytes as well as in entries
 * (gdb_set_snapshot_trailing in gdb.h).
 *
 * raft takes the number of entries to keep from its "trailing" setting,
 * read when a snapshot is stored. Each entry applied is noted here with
 * the bytes applied up to it (a ring of the last GDB_TRAIL_RING); when a
 * snapshot of the state at S begins, raft is told to keep the newest
 * entries up to S whose bytes together fit the budget: trailing is S
 * minus the index of the newest entry that no longer fits, at least 1
 * and at most the configured count. Entries older than the ring are not known: a ring that fits the
 * budget whole keeps the configured count. And whatever the budget says,
 * nothing past the members' oldest last snapshot is dropped
 * (gdb_set_trail_floor in gdb.h says why). */
#include <limits.h>

#include "internal/db/cluster/gdb_private.h"
#include "internal/lib/log.h"

void gdb_set_snapshot_trailing(struct gdb *g, unsigned base, uint64_t min_bytes)
{
	g->trail_base = base;
	g->trail_min_bytes = min_bytes;
	if (g->raft != NULL && base != 0) {
		raft_set_snapshot_trailing(g->raft, base);
	}
}

void gdb_set_trail_floor(struct gdb *g, uint64_t floor)
{
	g->trail_floor = floor;
	g->trail_floor_known = true;
}

void gdb_trail_note(struct gdb *g, uint64_t index)
{
	struct gdb_trail *t = &g->trail;
	t->index[t->next] = index;
	t->bytes[t->next] = g->applied_bytes;
	t->next = (t->next + 1) % GDB_TRAIL_RING;
	if (t->n < GDB_TRAIL_RING) {
		t->n++;
	}
}

/* How many entries up to INDEX to keep within BUDGET bytes, or BASE when
 * every entry the ring knows fits. */
static unsigned trailing_for(const struct gdb *g, uint64_t index,
			     uint64_t budget, unsigned base)
{
	const struct gdb_trail *t = &g->trail;
	uint64_t keep_from = index; /* entries after this one are kept */
	for (unsigned k = 0; k < t->n; k++) {
		unsigned at =
		    (t->next + GDB_TRAIL_RING - 1 - k) % GDB_TRAIL_RING;
		if (t->index[at] > index) {
			continue; /* applied after the snapshot's state */
		}
		if (g->applied_bytes - t->bytes[at] > budget) {
			uint64_t n = index - keep_from;
			if (n < 1) {
				n = 1;
			}
			return n < base ? (unsigned)n : base;
		}
		keep_from = t->index[at];
	}
	return base;
}

void gdb_trail_set(struct gdb *g, uint64_t index)
{
	if (g->raft == NULL || g->trail_base == 0) {
		return;
	}
	uint64_t budget = g->snap_db_bytes / GDB_SNAPSHOT_DB_SHARE;
	if (budget < g->trail_min_bytes) {
		budget = g->trail_min_bytes;
	}
	unsigned n = trailing_for(g, index, budget, g->trail_base);
	if (g->trail_floor_known && g->trail_floor < index &&
	    index - g->trail_floor > n) {
		uint64_t need = index - g->trail_floor;
		n = need < UINT_MAX ? (unsigned)need : UINT_MAX;
	}
	if (n != g->raft->snapshot.trailing) {
		LOGD("gdb: the snapshot at %llu keeps %u entries before it "
		     "(raft.snapshot_trailing %u, %llu bytes at most)",
		     (unsigned long long)index, n, g->trail_base,
		     (unsigned long long)budget);
	}
	raft_set_snapshot_trailing(g->raft, n);
}

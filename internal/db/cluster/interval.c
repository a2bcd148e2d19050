/* The snapshot interval grows with the database (gdb_set_snapshot_threshold
 * in gdb.h).
 *
 * A snapshot copies the whole database (D bytes). Taken every N entries of
 * E bytes on average, it costs D / N per entry: with a fixed N that grows
 * with the database. Choosing N so that the entries between two snapshots
 * carry D / GDB_SNAPSHOT_DB_SHARE bytes makes it GDB_SNAPSHOT_DB_SHARE * E
 * per entry, the same for a small and a large database. The price: raft
 * keeps the entries since the last snapshot in memory and on disk, about
 * D / GDB_SNAPSHOT_DB_SHARE bytes, and a restart replays them.
 *
 * E is measured over the interval that just ended: the bytes of the
 * entries applied (raft's barriers and configuration changes count as
 * entries of no bytes) divided by how far raft's applied index moved.
 *
 * A snapshot whose copy failed (a full disk, most likely) doubles the
 * interval: raft would otherwise try again after the very next entry,
 * copying the whole database each time. The next snapshot that succeeds
 * sets it from the measurements again. */
#include "internal/db/cluster/gdb_private.h"
#include "internal/lib/log.h"

unsigned gdb_snapshot_interval(unsigned base, uint64_t db_bytes,
			       uint64_t entry_bytes, uint64_t entries)
{
	uint64_t wanted = 0;
	if (entries > 0) {
		uint64_t average = entry_bytes / entries;
		if (average == 0) {
			average = 1;
		}
		wanted = db_bytes / GDB_SNAPSHOT_DB_SHARE / average;
	}
	if (wanted > GDB_SNAPSHOT_MAX_INTERVAL) {
		wanted = GDB_SNAPSHOT_MAX_INTERVAL;
	}
	return wanted > base ? (unsigned)wanted : base;
}

static void apply_interval(struct gdb *g)
{
	if (g->raft == NULL || g->snap_base == 0) {
		return;
	}
	unsigned interval =
	    g->snap_wanted > g->snap_base ? g->snap_wanted : g->snap_base;
	if (interval != g->raft->snapshot.threshold) {
		LOGD("gdb: snapshots every %u entries "
		     "(raft.snapshot_threshold %u)",
		     interval, g->snap_base);
	}
	raft_set_snapshot_threshold(g->raft, interval);
}

void gdb_set_snapshot_threshold(struct gdb *g, unsigned base)
{
	g->snap_base = base;
	apply_interval(g);
}

void gdb_interval_backoff(struct gdb *g)
{
	if (g->raft == NULL) {
		return;
	}
	g->snap_failed_bytes = g->applied_bytes;
	uint64_t now = g->raft->snapshot.threshold;
	uint64_t next = 2 * (now > g->snap_wanted ? now : g->snap_wanted);
	if (next > GDB_SNAPSHOT_MAX_INTERVAL) {
		next = GDB_SNAPSHOT_MAX_INTERVAL;
	}
	g->snap_wanted = (unsigned)next;
	LOGW("gdb: next snapshot attempt in %llu entries",
	     (unsigned long long)next);
	apply_interval(g);
}

/* Bytes of the entries applied since the last snapshot taken here. */
static uint64_t bytes_since_snapshot(const struct gdb *g)
{
	uint64_t mark = g->snap_prev.valid ? g->snap_prev.applied_bytes : 0;
	return g->applied_bytes - mark;
}

/* Have raft snapshot once the entry at INDEX is applied: it compares
 * last_applied - snapshot.last_index with the threshold then. */
static void snapshot_after(struct gdb *g, uint64_t index)
{
	struct raft *r = g->raft;
	uint64_t distance = index - r->log.snapshot.last_index;
	if (distance < r->snapshot.threshold) {
		LOGD("gdb: %llu bytes applied since the last snapshot: one "
		     "after entry %llu",
		     (unsigned long long)bytes_since_snapshot(g),
		     (unsigned long long)index);
		raft_set_snapshot_threshold(r, (unsigned)distance);
	}
}

void gdb_interval_bytes(struct gdb *g, uint64_t index)
{
	struct raft *r = g->raft;
	if (r == NULL || g->snap_base == 0 || g->snap_pinned) {
		return;
	}
	uint64_t since = bytes_since_snapshot(g);
	if (g->snap_failed_bytes > g->applied_bytes - since) {
		/* No retry at every entry after a failed one. */
		since = g->applied_bytes - g->snap_failed_bytes;
	}
	uint64_t limit = g->snap_db_bytes / GDB_SNAPSHOT_DB_SHARE;
	if (limit < GDB_SNAPSHOT_MIN_BYTES) {
		limit = GDB_SNAPSHOT_MIN_BYTES;
	}
	if (since >= limit &&
	    index >= r->log.snapshot.last_index + GDB_SNAPSHOT_MIN_ENTRIES) {
		snapshot_after(g, index);
	}
}

void gdb_snapshot_soon(struct gdb *g)
{
	if (g->raft != NULL && !g->snap_pinned &&
	    bytes_since_snapshot(g) >= GDB_SNAPSHOT_SOON_BYTES) {
		snapshot_after(g, raft_last_applied(g->raft) + 1);
	}
}

void gdb_interval_update(struct gdb *g, const struct gdb_snap_mark *at,
			 uint64_t db_bytes)
{
	g->snap_db_bytes = db_bytes;
	if (!at->valid) {
		return;
	}
	if (g->snap_prev.valid && at->index > g->snap_prev.index) {
		g->snap_wanted = gdb_snapshot_interval(
		    0, db_bytes, at->applied_bytes - g->snap_prev.applied_bytes,
		    at->index - g->snap_prev.index);
	}
	g->snap_prev = *at;
	apply_interval(g);
}

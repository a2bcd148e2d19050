/* Snapshots: the raft_fsm snapshot, snapshot_async, snapshot_finalize and
 * restore methods (raft_fsm version 3).
 *
 * Happy path of a snapshot:
 *   1. snapshot(), on the loop, right after an apply: BEGIN a read
 *      transaction on g->snap, a read-only connection kept for this. In WAL
 *      mode it sees exactly the entries applied so far, whatever is applied
 *      after it. Cheap: it reads the WAL index, not the database.
 *   2. snapshot_async(), on a worker of libuv's threadpool (raft's
 *      io->async_work; in raft's fixture, on the test's thread later in
 *      virtual time): copy that read transaction's state into a file with
 *      SQLite's backup API, map it read-only and unlink it (snapfile.c).
 *      Bytes 18 and 19 (file format write/read versions) are set to 1, the
 *      rollback-journal format, so the image is a standalone SQLite
 *      database file: it opens without a -wal file, and it can be
 *      deserialized into memory (SQLite refuses a WAL-format image). raft
 *      gets two buffers: the mapped image and a 48-byte trailer holding
 *      the hash chain at the snapshot and a checksum ("TMSNAPv2",
 *      gdb_private.h). No copy of the
 *      database is made on the heap: raft_uv compresses (LZ4) from the
 *      mapping, whose pages are the page cache's, into one buffer of the
 *      compressed size, and writes that.
 *   3. snapshot_finalize(), on the loop, once raft has written the image:
 *      unmap it, end the read transaction, set the next interval
 *      (interval.c).
 * Meanwhile the apply connection keeps committing: WAL readers do not block
 * the writer. What the pinned reader holds back is the checkpoint: frames
 * written after the pin stay in the -wal file (which grows by the entries
 * applied during the copy) until the transaction ends.
 *
 * Failure modes: BEGIN fails (snapshot() returns RAFT_IOERR; raft retries
 * at the next threshold); less free space than twice the database above
 * core.min_free_space (space.c: the copy is not even started), or the copy
 * fails (snapshot_async returns RAFT_NOSPACE/RAFT_IOERR; raft calls
 * finalize, which releases the pin, logs why and doubles the interval
 * until a snapshot succeeds).
 *
 * Restore checks the trailer first: a snapshot whose image does not match
 * its checksum is refused (RAFT_CORRUPT). raft_uv's LZ4 frame has a
 * checksum of its own, but the trailer does not depend on raft_uv's
 * settings (raft_uv writes uncompressed snapshots with no checksum at
 * all). A snapshot without a trailer, or with the 16-byte "TMSNAPv1" one
 * (no chain), was written by an older build: the hash chain then restarts
 * at the snapshot's index ("unknown before it", chain.h). Restore
 * then deserializes the image into a read-only in-memory database and copies it
 * over the file with the backup API (one transaction on the apply connection;
 * the exec connection sees the new content and schema at its next transaction).
 * Both connections must be idle, which they always are between loop turns. The
 * page size is fixed at 4096 (GDB_PAGE_SIZE) on every member, so the backup
 * into the WAL database never meets a page-size mismatch. The same load
 * replaces the database when a RESTORE entry is applied (apply.c): the leader
 * normalised that image as a snapshot is. */
#include <string.h>

#include "internal/db/cluster/gdb_private.h"
#include "internal/lib/assert.h"
#include "internal/lib/hash64.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"

#define SQLITE_HEADER "SQLite format 3"
#define SQLITE_HEADER_SIZE 100

int gdb_snap_open(struct gdb *g, char *errmsg)
{
	int flags =
	    SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
	int rc = sqlite3_open_v2(g->path, &g->snap, flags, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(g->snap, GDB_BUSY_TIMEOUT_MS);
		/* The copy reads every page once: keep few in the cache. */
		rc = sqlite3_exec(g->snap, "PRAGMA cache_size = -512", NULL,
				  NULL, NULL);
	}
	if (rc != SQLITE_OK) {
		tm_errmsg_printf(errmsg, "open %s for snapshots: %s", g->path,
				 sqlite3_errmsg(g->snap));
		sqlite3_close(g->snap);
		g->snap = NULL;
		return TM_DB;
	}
	return 0;
}

void gdb_snap_close(struct gdb *g)
{
	/* A pin left by raft (never finalized) is rolled back by close. */
	gdb_snapfile_release(&g->snap_file);
	sqlite3_close(g->snap);
	g->snap = NULL;
	g->snap_pinned = false;
}

int gdb_fsm_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[],
		     unsigned *n_bufs)
{
	struct gdb *g = fsm->data;
	PRE(!g->snap_pinned);
	uint64_t index = g->raft != NULL ? raft_last_applied(g->raft) : 0;
	char errmsg[TM_ERRMSG_SIZE];
	if (gdb_lane_pin(g, index, errmsg) != 0) {
		LOGE("gdb: snapshot: %s; raft retries at its next snapshot",
		     errmsg);
		return RAFT_IOERR;
	}
	g->snap_pinned = true;
	gdb_trail_set(g, index);
	g->snap_reserve = g->min_free_bytes;
	g->snap_at.index = index;
	g->snap_at.applied_bytes = g->applied_bytes;
	g->snap_at.valid = g->raft != NULL;
	memset(&g->snap_file, 0, sizeof g->snap_file);
	g->snap_err[0] = '\0';
	*bufs = NULL;
	*n_bufs = 0;
	return 0;
}

/* The pinned database's size, from its page count. */
static int room_for_copy(struct gdb *g)
{
	sqlite3_stmt *st;
	uint64_t pages = 0;
	if (g->snap_reserve == 0) {
		return 0;
	}
	if (sqlite3_prepare_v2(g->snap, "PRAGMA page_count", -1, &st, NULL) ==
	    SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW) {
			pages = (uint64_t)sqlite3_column_int64(st, 0);
		}
		sqlite3_finalize(st);
	}
	return gdb_space_for_snapshot(g->dir, g->snap_reserve,
				      pages * GDB_PAGE_SIZE, g->snap_err);
}

/* Off the loop: touches g->snap, g->snap_file, g->snap_bufs, g->snap_err
 * and g->snap_reserve only. */
int gdb_fsm_snapshot_async(struct raft_fsm *fsm, struct raft_buffer *bufs[],
			   unsigned *n_bufs)
{
	struct gdb *g = fsm->data;
	/* The apply thread pins once it applied the snapshot's entries. */
	int rv = gdb_lane_wait_pin(g, g->snap_err);
	if (rv == 0) {
		rv = room_for_copy(g);
	}
	if (rv == 0) {
		rv = gdb_snapfile_make(g->snap, g->dir, &g->snap_chain,
				       &g->snap_file, g->snap_err);
	}
	if (rv != 0) {
		/* Logged by finalize, on the loop. */
		return rv == TM_NOSPACE ? RAFT_NOSPACE : RAFT_IOERR;
	}
	g->snap_bufs[0].base = g->snap_file.map;
	g->snap_bufs[0].len = g->snap_file.len;
	g->snap_bufs[1].base = g->snap_file.trailer;
	g->snap_bufs[1].len = GDB_SNAP_TRAILER_SIZE;
	*bufs = g->snap_bufs;
	*n_bufs = 2;
	return 0;
}

/* The copy's mapping, released on a worker: unmapping the last reference
 * to the unlinked file drops its pages from the page cache, about 0.3 ms
 * per MB, which held the loop for 11 ms after a snapshot of 38 MB. */
struct release {
	struct pool_work work;
	struct gdb_snapfile file;
};

static void release_work(struct pool_work *w)
{
	struct release *r = w->data;
	gdb_snapfile_release(&r->file);
}

static void release_done(struct pool_work *w) { tm_free(w->data); }

static void release_later(struct gdb *g)
{
	struct release *r = tm_calloc(1, sizeof *r);
	r->file = g->snap_file;
	r->work.data = r;
	memset(&g->snap_file, 0, sizeof g->snap_file);
	gdb_submit(g, &r->work, release_work, release_done);
}

int gdb_fsm_snapshot_finalize(struct raft_fsm *fsm, struct raft_buffer *bufs[],
			      unsigned *n_bufs)
{
	struct gdb *g = fsm->data;
	size_t size = g->snap_file.len;
	if (g->snap_file.map != NULL) {
		release_later(g);
		g->stats.snapshots_taken++;
		LOGD("gdb: snapshot of %zu bytes at index %llu", size,
		     (unsigned long long)g->snap_at.index);
		gdb_interval_update(g, &g->snap_at, size);
	} else if (g->snap_pinned) {
		LOGE("gdb: snapshot: copying the database failed (%s); the "
		     "log keeps every entry until a snapshot succeeds",
		     g->snap_err[0] != '\0' ? g->snap_err : "unknown error");
		gdb_interval_backoff(g);
	}
	memset(g->snap_bufs, 0, sizeof g->snap_bufs);
	g->snap_err[0] = '\0';
	if (g->snap_pinned) {
		/* raft calls finalize after snapshot_async returned, so the
		 * pin is done (or failed) by now. */
		if (!sqlite3_get_autocommit(g->snap)) {
			sqlite3_exec(g->snap, "COMMIT", NULL, NULL, NULL);
		}
		g->snap_pinned = false;
	}
	*bufs = NULL;
	*n_bufs = 0;
	return 0;
}

/* Copy the database held by MEM over the file. */
static int copy_over(struct gdb *g, sqlite3 *mem, char *errmsg)
{
	sqlite3_backup *backup =
	    sqlite3_backup_init(g->apply, "main", mem, "main");
	if (backup == NULL) {
		tm_errmsg_printf(errmsg, "backup_init: %s",
				 sqlite3_errmsg(g->apply));
		return TM_DB;
	}
	int rc = sqlite3_backup_step(backup, -1);
	int rc2 = sqlite3_backup_finish(backup);
	if (rc != SQLITE_DONE || rc2 != SQLITE_OK) {
		tm_errmsg_printf(errmsg, "backup: %s",
				 sqlite3_errstr(rc != SQLITE_DONE ? rc : rc2));
		return TM_IO;
	}
	return 0;
}

static unsigned page_size(const unsigned char *image)
{
	unsigned size = (unsigned)image[16] << 8 | image[17];
	return size == 1 ? 65536 : size;
}

int gdb_snapshot_load(struct gdb *g, const unsigned char *image, size_t len,
		      char *errmsg)
{
	sqlite3 *mem = NULL;
	int rv;

	if (len < SQLITE_HEADER_SIZE ||
	    memcmp(image, SQLITE_HEADER, sizeof SQLITE_HEADER) != 0) {
		tm_errmsg_printf(errmsg,
				 "the image (%zu bytes) is not a SQLite "
				 "database",
				 len);
		return TM_CORRUPT;
	}
	if (image[18] != 1 || image[19] != 1) {
		tm_errmsg_printf(errmsg,
				 "the image is in WAL format (file format "
				 "versions %u/%u, 1/1 expected)",
				 image[18], image[19]);
		return TM_CORRUPT;
	}
	if (page_size(image) != GDB_PAGE_SIZE) {
		tm_errmsg_printf(errmsg,
				 "the image's page size is %u, the database's "
				 "is %d",
				 page_size(image), GDB_PAGE_SIZE);
		return TM_CORRUPT;
	}
	if (sqlite3_open(":memory:", &mem) != SQLITE_OK) {
		tm_errmsg_printf(errmsg, "open: %s", sqlite3_errmsg(mem));
		rv = TM_NOMEM;
		goto out;
	}
	/* Read-only: SQLite never writes to IMAGE, nor frees it. */
	int rc = sqlite3_deserialize(mem, "main", (unsigned char *)image,
				     (sqlite3_int64)len, (sqlite3_int64)len,
				     SQLITE_DESERIALIZE_READONLY);
	if (rc == SQLITE_OK) {
		rc = sqlite3_exec(mem, "SELECT count(*) FROM sqlite_schema",
				  NULL, NULL, NULL);
	}
	if (rc != SQLITE_OK) {
		tm_errmsg_printf(errmsg, "the image does not open: %s",
				 sqlite3_errmsg(mem));
		rv = TM_CORRUPT;
		goto out;
	}
	rv = copy_over(g, mem, errmsg);
	/* A new database, maybe a new schema. */
	gdb_schema_changed(g);
out:
	sqlite3_close(mem);
	return rv;
}

static uint64_t get_u64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--) {
		v = v << 8 | p[i];
	}
	return v;
}

static bool has_trailer(const unsigned char *buf, size_t n, size_t size,
			const char *magic)
{
	return n >= SQLITE_HEADER_SIZE + size && n % GDB_PAGE_SIZE == size &&
	       memcmp(buf + n - size, magic, 8) == 0;
}

/* A snapshot ends with a trailer when its length is a whole number of
 * pages plus the trailer and the magic is there; *LEN becomes the image's
 * length, and *CHAIN (with *HAS_CHAIN) the chain a v2 trailer carries.
 * TM_CORRUPT when the checksum does not match. */
static int check_trailer(const unsigned char *buf, size_t *len,
			 struct gdb_snap_chain *chain, bool *has_chain,
			 char *errmsg)
{
	size_t n = *len;
	*has_chain = false;
	bool v2 = has_trailer(buf, n, GDB_SNAP_TRAILER_SIZE,
			      GDB_SNAP_TRAILER_MAGIC);
	bool v1 = !v2 && has_trailer(buf, n, GDB_SNAP_TRAILER_V1_SIZE,
				     GDB_SNAP_TRAILER_V1_MAGIC);
	if (!v1 && !v2) {
		return 0; /* an older build's snapshot: no trailer */
	}
	const unsigned char *t;
	bool ok;
	if (v2) {
		n -= GDB_SNAP_TRAILER_SIZE;
		t = buf + n;
		chain->base = get_u64(t + 16);
		chain->index = get_u64(t + 24);
		memcpy(chain->value, t + 32, GDB_CHAIN_SIZE);
		uint8_t want[GDB_SNAP_TRAILER_SIZE];
		gdb_snap_trailer(buf, n, chain, want);
		ok = memcmp(want, t, GDB_SNAP_TRAILER_SIZE) == 0;
	} else {
		n -= GDB_SNAP_TRAILER_V1_SIZE;
		t = buf + n;
		ok = get_u64(t + 8) == hash64(buf, n);
	}
	if (!ok) {
		tm_errmsg_printf(errmsg,
				 "the image does not match its checksum: the "
				 "snapshot file is damaged");
		return TM_CORRUPT;
	}
	*has_chain = v2;
	*len = n;
	return 0;
}

/* raft 0.15 reports a failed restore by its code only: leave the reason
 * where raft_errmsg() reads it, for whoever started raft. */
static void set_raft_errmsg(struct gdb *g, const char *errmsg)
{
	static const char prefix[] = "restoring the snapshot: ";
	if (g->raft != NULL) {
		size_t room = sizeof g->raft->errmsg - (sizeof prefix - 1);
		memcpy(g->raft->errmsg, prefix, sizeof prefix - 1);
		size_t n = strnlen(errmsg, room - 1);
		memcpy(g->raft->errmsg + sizeof prefix - 1, errmsg, n);
		g->raft->errmsg[sizeof prefix - 1 + n] = '\0';
	}
}

/* The chain a v2 trailer carries, read without the checksum (the
 * applier verifies it). */
static bool peek_chain(const unsigned char *buf, size_t n,
		       struct gdb_snap_chain *chain)
{
	if (!has_trailer(buf, n, GDB_SNAP_TRAILER_SIZE,
			 GDB_SNAP_TRAILER_MAGIC)) {
		return false;
	}
	const unsigned char *t = buf + n - GDB_SNAP_TRAILER_SIZE;
	chain->base = get_u64(t + 16);
	chain->index = get_u64(t + 24);
	memcpy(chain->value, t + 32, GDB_CHAIN_SIZE);
	return true;
}

/* Check and load the snapshot in BUF; 0 or a raft code, logged. */
static int load_snapshot(struct gdb *g, struct raft_buffer *buf)
{
	unsigned char *image = buf->base;
	size_t len = buf->len;
	char errmsg[TM_ERRMSG_SIZE];
	struct gdb_snap_chain chain;
	bool has_chain = false;

	int rv = check_trailer(image, &len, &chain, &has_chain, errmsg);
	if (rv != 0) {
		LOGE("gdb: restore: snapshot of %zu bytes: %s", buf->len,
		     errmsg);
		set_raft_errmsg(g, errmsg);
		return RAFT_CORRUPT;
	}
	/* The buffer is ours to change; older snapshots may still say WAL. */
	if (len >= SQLITE_HEADER_SIZE &&
	    memcmp(image, SQLITE_HEADER, sizeof SQLITE_HEADER) == 0) {
		image[18] = 1;
		image[19] = 1;
	}
	rv = gdb_snapshot_load(g, image, len, errmsg);
	if (rv != 0) {
		LOGE("gdb: restore: snapshot of %zu bytes: %s", buf->len,
		     errmsg);
		set_raft_errmsg(g, errmsg);
		return rv == TM_CORRUPT ? RAFT_CORRUPT
		       : rv == TM_NOMEM ? RAFT_NOMEM
					: RAFT_IOERR;
	}
	g->astats.snapshots_restored++;
	gdb_watch_touch_all(g);
	LOGI("gdb: restored a snapshot of %zu bytes", buf->len);
	return 0;
}

/* The chain restarts where the snapshot in BUF was taken (the applier). */
static void restore_chain(struct gdb *g, const struct raft_buffer *buf)
{
	struct gdb_snap_chain chain;
	bool has_chain = peek_chain(buf->base, buf->len, &chain);
	pthread_mutex_lock(&g->lane.mutex);
	if (has_chain) {
		gdb_chain_reset(&g->chain, chain.base, chain.index,
				chain.value);
		g->chain_unknown = false;
	} else {
		g->chain_unknown = true; /* settled at the next apply */
	}
	pthread_mutex_unlock(&g->lane.mutex);
}

void gdb_snapshot_install(struct gdb *g, struct raft_buffer *buf)
{
	restore_chain(g, buf);
	if (load_snapshot(g, buf) != 0) {
		char line[TM_ERRMSG_SIZE + 128];
		snprintf(line, sizeof line,
			 "the snapshot received from the leader cannot be "
			 "installed: %s; stopping this member: start it "
			 "again, it fetches a new one",
			 g->raft != NULL ? g->raft->errmsg : "");
		tm_panic(__FILE__, __LINE__, line);
	}
	raft_free(buf->base);
}

int gdb_fsm_restore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
	struct gdb *g = fsm->data;
	struct gdb_snap_chain chain;
	bool has_chain = peek_chain(buf->base, buf->len, &chain);

	gdb_exec_quiesce(g);
	/* raft sets last_applied to the snapshot's index after this; the
	 * trailer says which it is. */
	uint64_t index = has_chain ? chain.index : 0;
	if (!gdb_lane_restore(g, buf, index)) {
		int rv = load_snapshot(g, buf);
		if (rv != 0) {
			return rv;
		}
		restore_chain(g, buf);
		/* On success the buffer is ours (raft's contract). */
		raft_free(buf->base);
		gdb_watch_fire(g);
	}
	/* The next interval is measured from the next snapshot on. */
	g->snap_prev.valid = false;
	return 0;
}

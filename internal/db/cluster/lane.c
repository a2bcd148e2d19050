/* The apply lane: committed entries applied to SQLite off the loop.
 *
 * raft 0.15 calls the state machine's apply for every committed entry, on
 * the loop, one after the other, in one go: a follower catching up a
 * backlog, a member installing a snapshot or an entry carrying a few
 * megabytes of rows held the loop for tens of milliseconds, and with it
 * raft's heartbeats and every request. So applying an entry to the
 * database is decoupled from raft applying it:
 *
 *   - gdb_fsm_apply() (loop) either applies the entry right there, when
 *     the lane is idle, the entry small (LANE_INLINE_BYTES) and this loop
 *     turn has spent less than LANE_INLINE_BUDGET_NS applying (the common
 *     case of a steady stream of writes: no thread switch, no added
 *     latency), or queues it for the lane and returns;
 *   - the lane's thread applies queued entries in order (the hash chain
 *     first, then the database, on the apply connection, which only the
 *     applier touches), publishes the index it reached
 *     (gdb_applied_index) and wakes the loop (uv_async);
 *   - the loop (lane_progress) then fires the watches, answers the
 *     leader's writes whose entry is now in the database, and lets waiting
 *     reads and the next write batch go.
 *
 * A queued entry is a copy of raft's buffer. Borrowing raft's buffer is
 * not safe: raft 0.15 frees entries it counts as applied when an
 * InstallSnapshot message arrives (logRestore, before the snapshot is even
 * written) and when a log write fails (logTruncate after a failed append,
 * on a full disk), which the fault harness met as a member applying freed
 * bytes ("unknown table kind"). Copies of large entries go to buffers
 * kept for reuse (up to LANE_SPARE_BYTES), made of huge pages (bigbuf.h):
 * fresh memory faulting in 4 KiB at a time on the loop cost 25 times the
 * copy itself (a member restarted on 30 MB of 3.8 MB entries past its
 * snapshot held its loop 128-247 ms copying them; doc/benchmarks.md).
 *
 * What this member reports as applied (reads with min_index, the read
 * index a follower waits for, readiness, GET /1.0/cluster) is the
 * database's index, never raft's, so a read never sees less than what it
 * waited for. The hash chain stays on raft's index: it describes the log.
 *
 * Snapshots: raft asks for one right after applying index X, which the
 * lane may not have reached. gdb_lane_pin(X) pins the snapshot connection
 * at once when the lane is at X and idle, or has the lane's thread pin it
 * right after applying X; snapshot_async (a worker) waits for that pin.
 * A snapshot received from the leader is queued as a job like an entry
 * (its checksum is verified and its image loaded on the lane's thread);
 * before the lane starts (raft_start restoring the last snapshot) it is
 * loaded at once. A CHECK entry pins the content check's connection on the
 * loop: the lane is drained first (checks are rare and entries short).
 *
 * Without gdb_lane_start() (unit tests on raft's fixture) every entry is
 * applied inline, exactly as before. */
#include <string.h>
#include <time.h>

#include "internal/db/cluster/gdb_private.h"
#include "internal/lib/assert.h"
#include "internal/lib/bigbuf.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"

/* Entries up to this size may be applied on the loop. */
#define LANE_INLINE_BYTES (64u * 1024)
/* What one loop turn may spend applying entries inline. */
#define LANE_INLINE_BUDGET_NS (1000u * 1000u)

struct gdb_lane_job {
	struct gdb_lane_job *next;
	uint64_t seq;	/* 1, 2, ... in the order queued */
	uint64_t index; /* raft's; 0 for an old snapshot (not known) */
	bool restore;	    /* a snapshot (raft's buffer, ours) */
	struct raft_buffer buf; /* an entry: our copy */
	size_t cap;		/* ... in a buffer of this size */
};

/* Buffers kept for the copies of entries: at most this many bytes. */
#define LANE_SPARE_BYTES (64u << 20)
/* Smaller copies come from the allocator's free lists: a member restarted
 * on a log of thousands of short entries queues them all in one loop turn,
 * and a page each (fresh memory, faulted in on the loop) cost it 10 ms. */
#define LANE_SPARE_MIN LANE_INLINE_BYTES

/* A buffer of at least LEN bytes (*CAP): the smallest spare that fits, or
 * a new one. */
static void *buf_get(struct gdb_lane *l, size_t len, size_t *cap)
{
	void *base = NULL;
	pthread_mutex_lock(&l->mutex);
	unsigned best = GDB_LANE_SPARES;
	for (unsigned i = 0; i < l->n_spares; i++) {
		if (l->spares[i].cap >= len &&
		    (best == GDB_LANE_SPARES ||
		     l->spares[i].cap < l->spares[best].cap)) {
			best = i;
		}
	}
	if (best != GDB_LANE_SPARES) {
		base = l->spares[best].base;
		*cap = l->spares[best].cap;
		l->spare_bytes -= *cap;
		l->spares[best] = l->spares[--l->n_spares];
	}
	pthread_mutex_unlock(&l->mutex);
	if (base == NULL) {
		base = bigbuf_alloc(len, cap);
	}
	return base;
}

/* Keep BASE for a later copy, or free it. */
static void buf_put(struct gdb_lane *l, void *base, size_t cap)
{
	pthread_mutex_lock(&l->mutex);
	if (cap >= LANE_SPARE_MIN && l->n_spares < GDB_LANE_SPARES &&
	    l->spare_bytes + cap <= LANE_SPARE_BYTES) {
		l->spares[l->n_spares].base = base;
		l->spares[l->n_spares].cap = cap;
		l->n_spares++;
		l->spare_bytes += cap;
		base = NULL;
	}
	pthread_mutex_unlock(&l->mutex);
	bigbuf_free(base, cap);
}

static void publish_stats(struct gdb *g)
{
	pthread_mutex_lock(&g->lane.mutex);
	g->lane.published = g->astats;
	pthread_mutex_unlock(&g->lane.mutex);
}

/* Pin g->snap at the current state (the applier's thread, or the loop
 * with the lane idle). */
static int pin_snapshot(struct gdb *g)
{
	int rc = sqlite3_exec(g->snap, GDB_PIN_SQL, NULL, NULL, NULL);
	if (rc == SQLITE_OK) {
		/* The chain at raft's index: no entry of ours after the
		 * last one applied. */
		uint64_t index = g->lane.pin_index;
		gdb_chain_settle(g, index);
		g->snap_chain.base = g->chain.base;
		g->snap_chain.index = index;
		memcpy(g->snap_chain.value, g->chain.last.value,
		       GDB_CHAIN_SIZE);
		return 0;
	}
	tm_errmsg_printf(g->lane.pin_err,
			 "cannot begin a read transaction on %s: %s", g->path,
			 sqlite3_errmsg(g->snap));
	if (!sqlite3_get_autocommit(g->snap)) {
		sqlite3_exec(g->snap, "ROLLBACK", NULL, NULL, NULL);
	}
	return TM_DB;
}

/* How often the apply thread tries an entry again on a full disk. */
#define LANE_NOSPACE_RETRY_MS 200

/* The disk is full even without the reserve: wait for room, a try every
 * LANE_NOSPACE_RETRY_MS, raft and the loop going on meanwhile (this
 * member's database stays at the entry before). False if the lane stops
 * first: the entry stays in raft's log, applied at the next start. */
static bool apply_when_room(struct gdb *g, struct gdb_lane_job *job)
{
	struct gdb_lane *l = &g->lane;
	uint64_t since = gdb_now_ns();
	bool logged = false;
	while (gdb_apply_buffer(g, job->buf.base, job->buf.len, job->index) ==
	       TM_NOSPACE) {
		if (!logged) {
			LOGE("gdb: disk full in %s: entry %llu waits for room "
			     "to be applied (this member's database stays "
			     "at the entry before it meanwhile); free disk "
			     "space",
			     g->dir, (unsigned long long)job->index);
			logged = true;
		}
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += LANE_NOSPACE_RETRY_MS * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		pthread_mutex_lock(&l->mutex);
		bool stop = l->stop;
		if (!stop) {
			pthread_cond_timedwait(&l->cond, &l->mutex, &until);
			stop = l->stop;
		}
		pthread_mutex_unlock(&l->mutex);
		if (stop) {
			return false;
		}
	}
	if (logged) {
		LOGI("gdb: entry %llu applied after waiting %.1f s for disk "
		     "space",
		     (unsigned long long)job->index,
		     (double)(gdb_now_ns() - since) / 1e9);
	}
	return true;
}

/* Apply JOB; false if it was not (stopping on a full disk: the jobs
 * after it are not applied either, or the database would skip one). */
static bool run_job(struct gdb *g, struct gdb_lane_job *job)
{
	bool applied = !atomic_load(&g->lane.abandoned);
	if (!applied) {
		if (job->restore) {
			raft_free(job->buf.base);
		} else {
			buf_put(&g->lane, job->buf.base, job->cap);
		}
	} else if (job->restore) {
		gdb_snapshot_install(g, &job->buf);
	} else {
		applied = apply_when_room(g, job);
		atomic_store(&g->lane.abandoned, !applied);
		buf_put(&g->lane, job->buf.base, job->cap);
	}
	if (!applied) {
		atomic_fetch_add(&g->lane.done, 1);
		tm_free(job);
		return false;
	}
	if (job->index > atomic_load(&g->lane.applied)) {
		atomic_store(&g->lane.applied, job->index);
	}
	atomic_fetch_add(&g->lane.done, 1);
	tm_free(job);
	return true;
}

static void *lane_main(void *arg)
{
	struct gdb *g = arg;
	struct gdb_lane *l = &g->lane;
	pthread_mutex_lock(&l->mutex);
	for (;;) {
		while (l->head == NULL && !l->stop) {
			pthread_cond_wait(&l->cond, &l->mutex);
		}
		struct gdb_lane_job *job = l->head;
		if (job == NULL) {
			break;
		}
		l->head = job->next;
		if (l->head == NULL) {
			l->tail = NULL;
		}
		l->busy = true;
		pthread_mutex_unlock(&l->mutex);

		uint64_t seq = job->seq;
		bool applied = run_job(g, job);

		pthread_mutex_lock(&l->mutex);
		l->busy = false;
		l->published = g->astats;
		if (l->pin_at == seq && l->pin_status == TM_BUSY) {
			if (applied) {
				l->pin_status = pin_snapshot(g);
			} else {
				tm_errmsg_printf(l->pin_err,
						 "stopping before the entries "
						 "of the snapshot were applied");
				l->pin_status = TM_CANCELED;
			}
		}
		pthread_cond_broadcast(&l->cond);
		pthread_mutex_unlock(&l->mutex);
		uv_async_send(&l->async);
		pthread_mutex_lock(&l->mutex);
	}
	pthread_mutex_unlock(&l->mutex);
	return NULL;
}

static void lane_progress(struct gdb *g)
{
	struct gdb_lane *l = &g->lane;
	pthread_mutex_lock(&l->mutex);
	bool reserve_lost = l->reserve_lost;
	l->reserve_lost = false;
	pthread_mutex_unlock(&l->mutex);
	if (reserve_lost) {
		gdb_reserve_lost(g);
	}
	gdb_watch_fire(g);
	gdb_applied_advanced(g);
}

static void async_cb(uv_async_t *async) { lane_progress(async->data); }

void gdb_lane_init(struct gdb *g)
{
	struct gdb_lane *l = &g->lane;
	pthread_mutex_init(&l->mutex, NULL);
	pthread_cond_init(&l->cond, NULL);
	uv_async_init(g->loop, &l->async, async_cb);
	l->async.data = g;
}

int gdb_lane_start(struct gdb *g, char *errmsg)
{
	struct gdb_lane *l = &g->lane;
	PRE(!l->started);
	if (g->raft != NULL) {
		atomic_store(&l->applied, raft_last_applied(g->raft));
	}
	int rv = pthread_create(&l->thread, NULL, lane_main, g);
	if (rv != 0) {
		tm_errmsg_printf(errmsg, "cannot start the apply thread: %s",
				 strerror(rv));
		return TM_IO;
	}
	l->started = true;
	return 0;
}

/* True when nothing is queued nor running: the loop may use the apply
 * connection. */
static bool lane_idle(struct gdb *g)
{
	struct gdb_lane *l = &g->lane;
	if (!l->started) {
		return true;
	}
	pthread_mutex_lock(&l->mutex);
	bool idle = l->head == NULL && !l->busy;
	pthread_mutex_unlock(&l->mutex);
	return idle;
}

/* Block until the lane is idle, then catch the loop up with it. */
void gdb_lane_drain(struct gdb *g)
{
	struct gdb_lane *l = &g->lane;
	if (!l->started) {
		return;
	}
	pthread_mutex_lock(&l->mutex);
	while (l->head != NULL || l->busy) {
		pthread_cond_wait(&l->cond, &l->mutex);
	}
	pthread_mutex_unlock(&l->mutex);
	lane_progress(g);
}

static void push(struct gdb *g, struct gdb_lane_job *job)
{
	struct gdb_lane *l = &g->lane;
	pthread_mutex_lock(&l->mutex);
	if (l->tail == NULL) {
		l->head = job;
	} else {
		l->tail->next = job;
	}
	l->tail = job;
	job->seq = ++l->queued;
	pthread_cond_signal(&l->cond);
	pthread_mutex_unlock(&l->mutex);
}

/* Time spent applying inline in this loop turn, within the budget? */
static bool inline_budget_left(struct gdb *g)
{
	struct gdb_lane *l = &g->lane;
	uint64_t turn = uv_now(g->loop);
	if (turn != l->turn_ms) {
		l->turn_ms = turn;
		l->turn_spent_ns = 0;
	}
	return l->turn_spent_ns < LANE_INLINE_BUDGET_NS;
}

static void queue_copy(struct gdb *g, const struct raft_buffer *buf,
		       uint64_t index)
{
	struct gdb_lane_job *job = tm_calloc(1, sizeof *job);
	job->index = index;
	job->buf.base = buf_get(&g->lane, buf->len, &job->cap);
	job->buf.len = buf->len;
	memcpy(job->buf.base, buf->base, buf->len);
	push(g, job);
}

void gdb_lane_apply(struct gdb *g, const struct raft_buffer *buf,
		    uint64_t index, bool check)
{
	struct gdb_lane *l = &g->lane;
	if (atomic_load(&l->abandoned)) {
		return; /* stopping; an entry before could not be applied */
	}
	if (!l->started) {
		gdb_apply_buffer(g, buf->base, buf->len, index);
		atomic_store(&l->applied, index);
		publish_stats(g);
		gdb_watch_fire(g);
		return;
	}
	if (check) {
		gdb_lane_drain(g);
	}
	if (check || (buf->len <= LANE_INLINE_BYTES && inline_budget_left(g) &&
		      lane_idle(g))) {
		uint64_t start = gdb_now_ns();
		if (gdb_apply_buffer(g, buf->base, buf->len, index) ==
		    TM_NOSPACE) {
			/* The apply thread waits for room, not the loop. */
			queue_copy(g, buf, index);
			return;
		}
		atomic_store(&l->applied, index);
		l->turn_spent_ns += gdb_now_ns() - start;
		l->inline_applied++;
		publish_stats(g);
		lane_progress(g);
		return;
	}
	queue_copy(g, buf, index);
}

bool gdb_lane_restore(struct gdb *g, struct raft_buffer *buf, uint64_t index)
{
	if (!g->lane.started) {
		return false;
	}
	struct gdb_lane_job *job = tm_calloc(1, sizeof *job);
	job->index = index;
	job->restore = true;
	job->buf = *buf;
	push(g, job);
	return true;
}

int gdb_lane_pin(struct gdb *g, uint64_t index, char *errmsg)
{
	struct gdb_lane *l = &g->lane;
	if (!l->started) {
		l->pin_index = index;
		int rv = pin_snapshot(g);
		if (rv != 0) {
			tm_errmsg_printf(errmsg, "%s", l->pin_err);
		}
		l->pin_status = rv;
		return rv;
	}
	pthread_mutex_lock(&l->mutex);
	l->pin_index = index;
	if (l->head == NULL && !l->busy) {
		l->pin_status = pin_snapshot(g);
	} else {
		/* The state at raft's INDEX is the one after the last entry
		 * queued (raft applies barriers and configurations without
		 * us): the thread pins right after it. */
		l->pin_at = l->queued;
		l->pin_status = TM_BUSY;
	}
	int rv = l->pin_status == TM_BUSY ? 0 : l->pin_status;
	if (rv != 0) {
		tm_errmsg_printf(errmsg, "%s", l->pin_err);
	}
	pthread_mutex_unlock(&l->mutex);
	return rv;
}

int gdb_lane_wait_pin(struct gdb *g, char *errmsg)
{
	struct gdb_lane *l = &g->lane;
	pthread_mutex_lock(&l->mutex);
	while (l->pin_status == TM_BUSY) {
		pthread_cond_wait(&l->cond, &l->mutex);
	}
	int rv = l->pin_status;
	if (rv != 0) {
		tm_errmsg_printf(errmsg, "%s", l->pin_err);
	}
	pthread_mutex_unlock(&l->mutex);
	return rv;
}

void gdb_lane_reserve_lost(struct gdb *g)
{
	pthread_mutex_lock(&g->lane.mutex);
	g->lane.reserve_lost = true;
	pthread_mutex_unlock(&g->lane.mutex);
}

uint64_t gdb_applied_index(struct gdb *g)
{
	struct gdb_lane *l = &g->lane;
	uint64_t applied = atomic_load(&l->applied);
	if (atomic_load(&l->done) == l->queued && g->raft != NULL &&
	    raft_last_applied(g->raft) > applied) {
		/* Idle: raft's index, which counts the entries it applies
		 * without us (barriers, configurations). */
		return raft_last_applied(g->raft);
	}
	return applied;
}

void gdb_lane_published(struct gdb *g, struct gdb_stats *out)
{
	pthread_mutex_lock(&g->lane.mutex);
	/* Without the thread the loop is the applier. */
	const struct gdb_applied_stats *a =
	    g->lane.started ? &g->lane.published : &g->astats;
	out->changesets_direct = a->changesets_direct;
	out->restores_applied = a->restores_applied;
	out->entries_applied = a->entries_applied;
	out->row_changes_applied = a->row_changes_applied;
	out->snapshots_restored = a->snapshots_restored;
	pthread_mutex_unlock(&g->lane.mutex);
	out->entries_applied_inline = g->lane.inline_applied;
	out->entries_applied_lane = g->lane.queued;
}

void gdb_lane_stop(struct gdb *g)
{
	struct gdb_lane *l = &g->lane;
	if (!l->started) {
		return;
	}
	pthread_mutex_lock(&l->mutex);
	l->stop = true;
	pthread_cond_signal(&l->cond);
	pthread_mutex_unlock(&l->mutex);
	pthread_join(l->thread, NULL);
	l->started = false;
	lane_progress(g);
}

void gdb_lane_close(struct gdb *g, uv_close_cb cb)
{
	uv_close((uv_handle_t *)&g->lane.async, cb);
}

void gdb_lane_free(struct gdb *g)
{
	PRE(!g->lane.started);
	for (unsigned i = 0; i < g->lane.n_spares; i++) {
		bigbuf_free(g->lane.spares[i].base, g->lane.spares[i].cap);
	}
	pthread_cond_destroy(&g->lane.cond);
	pthread_mutex_destroy(&g->lane.mutex);
}

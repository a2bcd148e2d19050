/* Content checks and the hash chain's accessors (doc/consistency.md).
 *
 * Happy path of a check on one member:
 *   1. gdb_check() (leader) queues a request; gdb.c proposes it alone as a
 *      CHECK entry (entry.h) and answers it once applied here.
 *   2. Every member applying the CHECK entry at index N
 *      (gdb_check_begin, on the loop) begins a read transaction on its own
 *      read-only connection: in WAL mode it sees exactly the state after
 *      N, whatever is applied later. Cheap: it reads the WAL index.
 *   3. A worker hashes the content that transaction sees (content.c) and
 *      ends it; the loop stores the result for N with the chain at N.
 *   4. gdb_check_result(N) gives it to whoever asks (the member's
 *      /internal/cluster/check).
 *
 * Failure modes: a CHECK entry applied while the previous hash still runs
 * (checks proposed back to back) is recorded as failed (TM_BUSY is for a
 * hash in progress, so TM_CONFLICT); BEGIN or the hash fails (TM_DB, kept
 * with its message); closing stops the hash (TM_CANCELED) and waits for
 * the worker. Results are kept for the last GDB_CHECK_KEEP checks. */
#include <string.h>

#include "internal/db/cluster/content.h"
#include "internal/db/cluster/gdb_private.h"
#include "internal/lib/assert.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"

int gdb_check_open(struct gdb *g, char *errmsg)
{
	int flags =
	    SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
	int rc = sqlite3_open_v2(g->path, &g->check.db, flags, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(g->check.db, GDB_BUSY_TIMEOUT_MS);
		rc = sqlite3_exec(g->check.db, "PRAGMA cache_size = -2048",
				  NULL, NULL, NULL);
	}
	if (rc != SQLITE_OK) {
		tm_errmsg_printf(errmsg, "open %s for content checks: %s",
				 g->path, sqlite3_errmsg(g->check.db));
		sqlite3_close(g->check.db);
		g->check.db = NULL;
		return TM_DB;
	}
	return 0;
}

void gdb_check_close(struct gdb *g)
{
	PRE(!g->check.running);
	sqlite3_close(g->check.db); /* rolls back a pin */
	g->check.db = NULL;
}

static void check_work(struct pool_work *w)
{
	struct gdb *g = w->data;
	struct gdb_checker *k = &g->check;
	k->work_errmsg[0] = '\0';
	k->work_status =
	    gdb_content_hash(k->db, &k->stop, k->work_content, k->work_errmsg);
	sqlite3_exec(k->db, "COMMIT", NULL, NULL, NULL);
}

static void check_done(struct pool_work *w)
{
	struct gdb *g = w->data;
	struct gdb_checker *k = &g->check;
	struct gdb_check_slot *s = k->current;
	k->running = false;
	k->current = NULL;
	s->status = k->work_status;
	memcpy(s->r.content, k->work_content, sizeof s->r.content);
	snprintf(s->errmsg, sizeof s->errmsg, "%s", k->work_errmsg);
	if (s->status == 0) {
		char hex[GDB_CHAIN_HEX];
		gdb_chain_hex(s->r.content, hex);
		LOGI("gdb: content check at index %llu: %s",
		     (unsigned long long)s->r.index, hex);
	} else {
		LOGE("gdb: content check at index %llu failed: %s",
		     (unsigned long long)s->r.index, s->errmsg);
	}
	gdb_maybe_closed(g);
}

static struct gdb_check_slot *new_slot(struct gdb *g, uint64_t index)
{
	struct gdb_checker *k = &g->check;
	struct gdb_check_slot *s = &k->slots[k->next];
	k->next = (k->next + 1) % GDB_CHECK_KEEP;
	memset(s, 0, sizeof *s);
	s->r.index = index;
	pthread_mutex_lock(&g->lane.mutex);
	s->r.chain_base = g->chain.base;
	memcpy(s->r.chain, g->chain.last.value, sizeof s->r.chain);
	pthread_mutex_unlock(&g->lane.mutex);
	return s;
}

void gdb_check_begin(struct gdb *g, uint64_t index)
{
	struct gdb_checker *k = &g->check;
	struct gdb_check_slot *s = new_slot(g, index);
	if (k->running) {
		s->status = TM_CONFLICT;
		tm_errmsg_printf(s->errmsg,
				 "the content check at index %llu was still "
				 "running here",
				 (unsigned long long)k->current->r.index);
		return;
	}
	if (sqlite3_exec(k->db, GDB_PIN_SQL, NULL, NULL, NULL) != SQLITE_OK) {
		s->status = TM_DB;
		tm_errmsg_printf(s->errmsg, "beginning a read transaction: %s",
				 sqlite3_errmsg(k->db));
		if (!sqlite3_get_autocommit(k->db)) {
			sqlite3_exec(k->db, "ROLLBACK", NULL, NULL, NULL);
		}
		return;
	}
	s->status = TM_BUSY;
	k->current = s;
	k->running = true;
	atomic_store(&k->stop, g->closing);
	k->work.data = g;
	gdb_submit(g, &k->work, check_work, check_done);
}

int gdb_check_result(struct gdb *g, uint64_t index,
		     struct gdb_check_result *out, char *errmsg)
{
	for (size_t i = 0; i < GDB_CHECK_KEEP; i++) {
		const struct gdb_check_slot *s = &g->check.slots[i];
		if (s->r.index != index || index == 0) {
			continue;
		}
		*out = s->r;
		if (s->status != 0) {
			tm_errmsg_printf(errmsg, "%s",
					 s->status == TM_BUSY
					     ? "the content hash is being "
					       "computed"
					     : s->errmsg);
		}
		return s->status;
	}
	tm_errmsg_printf(errmsg, "no content check at index %llu here",
			 (unsigned long long)index);
	return TM_NOTFOUND;
}

void gdb_chain_settle(struct gdb *g, uint64_t index)
{
	static const uint8_t zero[GDB_CHAIN_SIZE];
	if (g->chain_unknown) {
		gdb_chain_reset(&g->chain, index, index, zero);
		g->chain_unknown = false;
		LOGW("gdb: the hash chain restarts at index %llu: the snapshot "
		     "this member started from does not carry it; it is "
		     "compared only with members whose chain restarted there",
		     (unsigned long long)index);
	}
}

/* The index up to which the chain is known, with the lane's mutex held:
 * raft's applied index once the apply thread is idle. */
static uint64_t chain_known(struct gdb *g)
{
	struct gdb_lane *l = &g->lane;
	bool idle = !l->busy && l->head == NULL;
	if (idle && g->raft != NULL &&
	    raft_last_applied(g->raft) > g->chain.last.index) {
		return raft_last_applied(g->raft);
	}
	return g->chain.last.index;
}

bool gdb_chain_now(struct gdb *g, uint64_t *index, uint64_t *base,
		   uint8_t value[16])
{
	bool known = false;
	pthread_mutex_lock(&g->lane.mutex);
	if (g->chain_unknown && g->raft != NULL && !g->lane.busy &&
	    g->lane.head == NULL) {
		gdb_chain_settle(g, raft_last_applied(g->raft));
	}
	if (!g->chain_unknown) {
		*index = chain_known(g);
		*base = g->chain.base;
		memcpy(value, g->chain.last.value, GDB_CHAIN_SIZE);
		known = true;
	}
	pthread_mutex_unlock(&g->lane.mutex);
	return known;
}

bool gdb_chain_get(struct gdb *g, uint64_t index, uint64_t *base,
		   uint8_t value[16])
{
	bool found = false;
	pthread_mutex_lock(&g->lane.mutex);
	if (!g->chain_unknown && index <= chain_known(g) &&
	    gdb_chain_at(&g->chain, index, value)) {
		*base = g->chain.base;
		found = true;
	}
	pthread_mutex_unlock(&g->lane.mutex);
	return found;
}

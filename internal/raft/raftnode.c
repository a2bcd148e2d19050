/* Lifecycle of the member's raft instance.
 *
 * init:  raft_uv I/O in DIR (auto-recovery off) + our transport +
 *        raft_init.
 * start: read DIR/watermark -> check closed segments (segcheck.c) ->
 *        raft_bootstrap (only when there is no
 *        watermark; only succeeds on an empty directory) -> raft_start ->
 *        refuse if the loaded log ends below the watermark -> keep the
 *        watermark up to date (watermark.c).
 * close: (next check phase) raft_close -> (raft closed) final watermark
 *        -> raft_uv_close, transport_free, free, user callback last.
 *
 * Why raft_close waits for a check callback: raft_uv 0.15 does not count
 * the writer of the open segment it finalizes at close among the things
 * its close waits for, and fires its close callback again when that writer
 * has closed. If the segment's finalize work (truncate and rename, on the
 * thread pool) completes before the writer's handles are closed, raft's
 * close callback runs twice and frees raft's memory twice (a segfault
 * or "double free" at SIGTERM; see doc/storage.md). That happens when
 * raft_close is called from a close callback, as our stop path does: the
 * handles raft closes then wait for the next loop iteration, after the
 * thread pool's results. Called from a check callback, raft's handles are
 * closed in the same iteration, before any thread pool result arrives.
 * An idle handle runs meanwhile only so that the loop does not block in
 * poll before the check phase (raft may have no timer running yet). */
#include "internal/raft/raftnode.h"

#include <stddef.h>
#include <stdlib.h>

#include <raft/uv.h>

#include "internal/lib/err.h"
#include "internal/lib/fs.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"
#include "internal/raft/refusal.h"
#include "internal/raft/segcheck.h"
#include "internal/raft/snaplog.h"
#include "internal/raft/transport.h"
#include "internal/raft/watermark.h"

#define RAFTNODE_SEGMENT_SIZE (32 * 1024 * 1024)
#define RAFTNODE_ELECTION_TIMEOUT_MS 500
#define RAFTNODE_HEARTBEAT_MS 50
#define RAFTNODE_CONNECT_RETRY_MS 100

/* Tests only: the segment size in bytes, so that a few writes fill closed
 * segments. Read only when set. */
#define RAFTNODE_SEGMENT_SIZE_ENV "TM_RAFT_SEGMENT_SIZE"

struct raftnode {
	struct raft raft;
	struct raft_io io;
	snaplog_put_fn snapshot_put; /* raft_uv's own */
	uv_loop_t *loop;
	struct raft_uv_transport transport;
	raft_id id;
	char *address;
	char *dir;
	bool bootstrap;
	bool recover;
	struct watermark *watermark; /* NULL until started */
	bool started;
	uv_check_t close_check; /* runs raft_close outside close callbacks */
	uv_idle_t close_wake;	/* keeps poll from blocking until then */
	int handles_alive;	/* close_check and close_wake */
	bool raft_closed;
	void (*close_cb)(void *data);
	void *close_data;
	bool hold; /* options.hold_vote */
};

/* raft_io's snapshot_put, logged (snaplog.h). */
static int snapshot_put(struct raft_io *io, unsigned trailing,
			struct raft_io_snapshot_put *req,
			const struct raft_snapshot *snapshot,
			raft_io_snapshot_put_cb cb)
{
	struct raftnode *n =
	    (struct raftnode *)(void *)((char *)io -
					offsetof(struct raftnode, io));
	return snaplog_put(n->snapshot_put, io, trailing, req, snapshot, cb);
}

static void set_segment_size(struct raftnode *n)
{
	/* 32 MiB holds the largest default request body (8 MiB) with room
	 * to spare; raft accepts larger entries too. */
	size_t size = RAFTNODE_SEGMENT_SIZE;
	const char *env = getenv(RAFTNODE_SEGMENT_SIZE_ENV);
	if (env != NULL && env[0] != '\0') {
		char *end;
		unsigned long long v = strtoull(env, &end, 10);
		if (*end == '\0' && v >= 8192) {
			size = (size_t)v;
			LOGW("raft: segment size %zu bytes from %s (for tests "
			     "only)",
			     size, RAFTNODE_SEGMENT_SIZE_ENV);
		}
	}
	raft_uv_set_segment_size(&n->io, size);
}

int raftnode_init(struct raftnode **out, uv_loop_t *loop, const char *dir,
		  const struct raftnode_options *opts, struct raft_fsm *fsm,
		  char *errmsg)
{
	int rv = fs_ensure_dir(dir, 0700, errmsg);
	if (rv != 0) {
		return rv;
	}
	struct raftnode *n = tm_calloc(1, sizeof *n);
	n->id = opts->id;
	n->bootstrap = opts->bootstrap;
	n->recover = opts->recover;
	n->hold = opts->hold_vote;
	n->address = tm_strdup(opts->address);
	n->dir = tm_strdup(dir);
	n->loop = loop;
	transport_init(&n->transport, loop, opts->transport);
	rv = raft_uv_init(&n->io, loop, dir, &n->transport);
	if (rv != 0) {
		tm_errmsg_printf(errmsg, "raft I/O in %s: %s", dir,
				 n->io.errmsg);
		goto err_after_transport;
	}
	set_segment_size(n);
	n->snapshot_put = n->io.snapshot_put;
	n->io.snapshot_put = snapshot_put;
	/* Debian's raft_uv 0.15 implements async_work but says version 1,
	 * and raft_init refuses an FSM with asynchronous snapshots (gdb's,
	 * taken off the loop) on such an io. */
	if (n->io.async_work != NULL && n->io.version < 2) {
		n->io.version = 2;
	}
	/* A damaged segment must stop the start, not be renamed corrupt-...
	 * and silently left out. */
	raft_uv_set_auto_recovery(&n->io, false);
	/* LZ4, raft_uv's default, said explicitly: it compresses from the
	 * database's mapped copy into one buffer of the compressed size, and
	 * writes that. Uncompressed snapshots would spare that buffer but
	 * write the whole database to disk and fsync it at every snapshot:
	 * in the soak benchmark, write p99.9 during the first minute (when
	 * snapshots are frequent) went from 8.5 ms to 13-16 ms. */
	raft_uv_set_snapshot_compression(&n->io, true);
	/* A peer that could not be reached is dialed again after this
	 * (raft_uv's default is 1 s). A member just admitted by a join is
	 * refused until it has restarted raft with its new id, a few tens of
	 * milliseconds later: with the default, the leader's first contact,
	 * and so join -> serving, waited a whole second. A dial to a dead
	 * peer is a refused connect or a timed-out one, cheap either way. */
	raft_uv_set_connect_retry_delay(&n->io, RAFTNODE_CONNECT_RETRY_MS);
	rv = raft_init(&n->raft, &n->io, fsm, n->id, n->address);
	if (rv != 0) {
		tm_errmsg_printf(errmsg, "raft: %s", raft_errmsg(&n->raft));
		goto err_after_io;
	}
	raftnode_set_snapshot(n, opts->snapshot_threshold,
			      opts->snapshot_trailing);
	/* A follower that hears nothing for 500-1000 ms (raft randomizes)
	 * starts an election, so a dead leader is replaced within about a
	 * second; the leader's heartbeats every 50 ms leave ten chances
	 * before that. Pre-vote keeps a member that was cut off from
	 * disrupting a healthy leader when it returns. */
	raft_set_election_timeout(&n->raft, RAFTNODE_ELECTION_TIMEOUT_MS);
	raft_set_heartbeat_timeout(&n->raft, RAFTNODE_HEARTBEAT_MS);
	raft_set_pre_vote(&n->raft, true);
	*out = n;
	return 0;

err_after_io:
	raft_uv_close(&n->io);
err_after_transport:
	transport_free(&n->transport);
	tm_free(n->dir);
	tm_free(n->address);
	tm_free(n);
	return TM_IO;
}

void raftnode_set_snapshot(struct raftnode *n, unsigned threshold,
			   unsigned trailing)
{
	raft_set_snapshot_threshold(&n->raft, threshold);
	raft_set_snapshot_trailing(&n->raft, trailing);
}

/* A voter among others forgot at this start whom it followed, and libraft
 * would grant its vote at once: no raft connection is accepted for an
 * election timeout, so a leader that counted on this member's refusals
 * before it stopped (raft/lease.h) is not deposed before its lease ends.
 * Its own election timer waits as long anyway. */
static void hold_vote(struct raftnode *n)
{
	const struct raft_configuration *conf = &n->raft.configuration;
	unsigned voters = 0;
	bool votes = false;
	for (unsigned i = 0; i < conf->n; i++) {
		if (conf->servers[i].role == RAFT_VOTER) {
			voters++;
			votes |= conf->servers[i].id == n->id;
		}
	}
	if (votes && voters > 1) {
		transport_hold(&n->transport, RAFTNODE_ELECTION_TIMEOUT_MS);
		LOGD("raft: holding this voter's vote for %u ms after its start",
		     RAFTNODE_ELECTION_TIMEOUT_MS);
	}
}

/* Bootstrap as the single voter; a directory that holds raft state
 * already is left alone. */
static int bootstrap(struct raftnode *n, char *errmsg)
{
	struct raft_configuration conf;
	raft_configuration_init(&conf);
	int rv = raft_configuration_add(&conf, n->id, n->address, RAFT_VOTER);
	if (rv == 0) {
		rv = raft_bootstrap(&n->raft, &conf);
		if (rv == 0) {
			LOGI("raft: bootstrapped as the single voter (id %llu)",
			     (unsigned long long)n->id);
		} else if (rv == RAFT_CANTBOOTSTRAP) {
			rv = 0; /* existing state: recover it */
		}
	}
	raft_configuration_close(&conf);
	if (rv != 0) {
		tm_errmsg_printf(errmsg, "raft bootstrap: %s",
				 raft_errmsg(&n->raft));
		return TM_IO;
	}
	return 0;
}

/* This member alone, as a voter at its address. */
static int recover(struct raftnode *n, char *errmsg)
{
	struct raft_configuration conf;
	raft_configuration_init(&conf);
	int rv = raft_configuration_add(&conf, n->id, n->address, RAFT_VOTER);
	if (rv == 0) {
		rv = raft_recover(&n->raft, &conf);
	}
	raft_configuration_close(&conf);
	if (rv != 0) {
		tm_errmsg_printf(errmsg, "raft recover: %s",
				 raft_errmsg(&n->raft));
		return TM_IO;
	}
	LOGI("raft: configuration is now this member alone, at %s", n->address);
	return 0;
}

static raft_index applied_cb(void *data)
{
	struct raftnode *n = data;
	return raft_last_applied(&n->raft);
}

int raftnode_start(struct raftnode *n, char *errmsg)
{
	raft_index watermark;
	int rv = watermark_read(n->dir, &watermark, errmsg);
	if (rv != 0) {
		LOGE("raft: the watermark file says how far this member's log "
		     "reached; if it alone is damaged, remove it to start "
		     "without that check");
		tm_errmsg_wrapf(errmsg, "refusing to start");
		return rv;
	}
	/* Before raft reads them: raft's loader leaks on a damaged closed
	 * segment and does not say which entries are lost. */
	char problem[TM_ERRMSG_SIZE];
	rv = segcheck_closed(n->dir, problem);
	if (rv != 0) {
		refusal_segment(n->dir, problem, watermark, errmsg);
		return rv;
	}
	/* With a watermark the directory held a log: never start a new one
	 * in its place. */
	if (watermark == 0 && n->bootstrap) {
		rv = bootstrap(n, errmsg);
		if (rv != 0) {
			return rv;
		}
	}
	if (n->recover) {
		rv = recover(n, errmsg);
		if (rv != 0) {
			return rv;
		}
	}
	rv = raft_start(&n->raft);
	if (rv != 0) {
		refusal_load_failed(n->dir, raft_errmsg(&n->raft), watermark,
				    errmsg);
		return TM_CORRUPT;
	}
	n->started = true;
	if (n->hold) {
		hold_vote(n);
	}
	raft_index last = raft_last_index(&n->raft);
	if (last < watermark) {
		refusal_log_short(n->dir, last, watermark, errmsg);
		return TM_CORRUPT;
	}
	LOGD("raft: log ends at index %llu, watermark %llu",
	     (unsigned long long)last, (unsigned long long)watermark);
	watermark_start(&n->watermark, n->loop, n->dir, watermark, applied_cb,
			n);
	return 0;
}

struct raft *raftnode_raft(struct raftnode *n) { return &n->raft; }

struct raft_uv_transport *raftnode_transport(struct raftnode *n)
{
	return &n->transport;
}

static void release(void *data)
{
	struct raftnode *n = data;
	n->raft_closed = true;
	if (n->handles_alive > 0) {
		return; /* close_handle_closed_cb releases */
	}
	void (*cb)(void *data) = n->close_cb;
	void *cb_data = n->close_data;
	raft_uv_close(&n->io);
	transport_free(&n->transport);
	tm_free(n->dir);
	tm_free(n->address);
	tm_free(n);
	if (cb != NULL) {
		cb(cb_data);
	}
}

static void raft_closed_cb(struct raft *r)
{
	struct raftnode *n = r->data;
	if (n->watermark == NULL) {
		release(n);
		return;
	}
	/* Everything applied is in the log, which raft has written: record
	 * how far it reached. */
	watermark_close(n->watermark, raft_last_applied(&n->raft), release, n);
	n->watermark = NULL;
}

static void close_handle_closed_cb(uv_handle_t *h)
{
	struct raftnode *n = h->data;
	n->handles_alive--;
	if (n->handles_alive == 0 && n->raft_closed) {
		release(n);
	}
}

static void close_wake_cb(uv_idle_t *idle) { (void)idle; }

static void close_check_cb(uv_check_t *check)
{
	struct raftnode *n = check->data;
	uv_check_stop(check);
	uv_idle_stop(&n->close_wake);
	uv_close((uv_handle_t *)check, close_handle_closed_cb);
	uv_close((uv_handle_t *)&n->close_wake, close_handle_closed_cb);
	raft_close(&n->raft, raft_closed_cb);
}

void raftnode_close(struct raftnode *n, void (*cb)(void *data), void *data)
{
	n->close_cb = cb;
	n->close_data = data;
	n->raft.data = n;
	uv_check_init(n->loop, &n->close_check);
	n->close_check.data = n;
	uv_idle_init(n->loop, &n->close_wake);
	n->close_wake.data = n;
	n->handles_alive = 2;
	uv_check_start(&n->close_check, close_check_cb);
	uv_idle_start(&n->close_wake, close_wake_cb);
}

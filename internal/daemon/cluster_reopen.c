/* Restarting the global part of a running member, for enable and join:
 *
 *   READY -> JOINING: the global database refuses new writes (gdb_drain)
 *   and the API answers 503 for it -> raft closes (its last proposals
 *   finish or fail) -> the state machine closes -> PREPARE (wipe the raft
 *   directory, store a new identity...) -> the global database opens
 *   again -> DONE -> once caught up, READY (daemon_global_ready).
 *
 * A stop during the reopen waits for the close to finish, then stops
 * instead of opening again. */
#include "internal/daemon/daemon_priv.h"
#include "internal/db/cluster/gdb.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"
#include "internal/raft/raftnode.h"

struct cluster_reopen {
	cluster_prepare_fn prepare;
	cluster_reopened_fn done;
	void *arg;
};

bool cluster_reopen_busy(struct daemon *d) { return d->reopen != NULL; }

static void finish(struct daemon *d, int status, const char *errmsg)
{
	struct cluster_reopen *r = d->reopen;
	d->reopen = NULL;
	r->done(d, r->arg, status, errmsg);
	tm_free(r);
}

static void gdb_closed_cb(void *arg)
{
	struct daemon *d = arg;
	d->gdb_closing = false;
	if (d->state != DAEMON_JOINING) {
		/* Stopped meanwhile. */
		finish(d, TM_SHUTDOWN, "the member stopped");
		daemon_maybe_stopped(d);
		return;
	}
	char errmsg[TM_ERRMSG_SIZE] = "";
	int rv = d->reopen->prepare(d, d->reopen->arg, errmsg);
	if (rv == 0) {
		rv = daemon_global_open(d, errmsg);
	}
	if (rv != 0) {
		LOGE("cluster: %s", errmsg);
		finish(d, rv, errmsg);
		return;
	}
	finish(d, 0, "");
	daemon_global_schema(d);
}

static void raft_closed_cb(void *arg)
{
	struct daemon *d = arg;
	d->raftnode = NULL;
	d->raft_closing = false;
	struct gdb *g = d->gdb;
	d->gdb = NULL;
	gdb_close(g, gdb_closed_cb, d);
}

void cluster_reopen(struct daemon *d, cluster_prepare_fn prepare,
		    cluster_reopened_fn done, void *arg)
{
	struct cluster_reopen *r = tm_calloc(1, sizeof *r);
	r->prepare = prepare;
	r->done = done;
	r->arg = arg;
	d->reopen = r;
	daemon_set_state(d, DAEMON_JOINING);
	cluster_rebalance_stop(d);
	cluster_heartbeat_stop(d);
	gdb_drain(d->gdb);
	/* First: a snapshot raft waits for at close may wait for the
	 * apply thread, which may wait for disk space. */
	if (d->gdb != NULL) {
		gdb_lane_stop(d->gdb);
	}
	d->raft_closing = true;
	d->gdb_closing = true;
	raftnode_close(d->raftnode, raft_closed_cb, d);
}

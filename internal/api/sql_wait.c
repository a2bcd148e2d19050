/* Global reads that must see a raft index first, served by this member
 * without moving the query:
 *
 * - "min_index": N (read-your-writes): run once this member has applied
 *   N;
 * - a linearizable read on a follower (a read index): ask the leader for
 *   an index it confirmed as committed while still leading, after the
 *   read arrived (cluster_read_index: one ask shared by the reads waiting
 *   for it, one raft barrier on the leader), wait until this member has
 *   applied it, then read this member's copy. The read sees every write
 *   acknowledged before it started, as on the leader.
 *
 * Waiting polls the applied index every WAIT_POLL_MS, within the
 * request's statement timeout; a member that does not get there answers
 * 504 with how far it got. */
#include <math.h>
#include <stdio.h>

#include "internal/api/forward.h"
#include "internal/api/sql.h"
#include "internal/api/sql_call.h"
#include "internal/api/sql_wait.h"
#include "internal/daemon/cluster.h"
#include "internal/daemon/daemon.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"

#define WAIT_POLL_MS 1

struct sql_wait {
	struct daemon *d;
	struct sql_call *call;
	sql_wait_run_fn run;
	uint64_t index;
	uint64_t deadline; /* uv_now, ms */
	uv_timer_t timer;
	struct cluster_read_index_wait ask;
	int error_status;
	char errmsg[TM_ERRMSG_SIZE];
};

static void closed_cb(uv_handle_t *h)
{
	struct sql_wait *w = h->data;
	if (w->error_status != 0) {
		sql_call_refuse(w->call, w->error_status, w->errmsg);
	} else {
		w->run(w->d, w->call);
	}
	tm_free(w);
}

/* Stop waiting: run the call (STATUS 0) or refuse it. */
static void finish(struct sql_wait *w, int http_status)
{
	w->error_status = http_status;
	uv_timer_stop(&w->timer);
	uv_close((uv_handle_t *)&w->timer, closed_cb);
}

static void poll_cb(uv_timer_t *t)
{
	struct sql_wait *w = t->data;
	uint64_t applied = cluster_applied_index(w->d);
	if (applied >= w->index) {
		finish(w, 0);
		return;
	}
	if (uv_now(t->loop) >= w->deadline) {
		snprintf(w->errmsg, sizeof w->errmsg,
			 "this member has applied the cluster's log up to "
			 "index %llu, and did not reach %llu in time",
			 (unsigned long long)applied,
			 (unsigned long long)w->index);
		finish(w, 504);
	}
}

static void wait_for_index(struct sql_wait *w)
{
	uv_timer_start(&w->timer, poll_cb, 0, WAIT_POLL_MS);
}

static void asked(struct cluster_read_index_wait *ask, int status,
		  uint64_t index, const char *errmsg)
{
	struct sql_wait *w = ask->data;
	if (status != 0) {
		snprintf(w->errmsg, sizeof w->errmsg, "%s", errmsg);
		finish(w, status == TM_PROTO ? 502 : 503);
		return;
	}
	if (index > w->index) {
		w->index = index;
	}
	wait_for_index(w);
}

void sql_wait_then_run(struct daemon *d, struct sql_call *call,
		       uint64_t min_index, bool read_index, sql_wait_run_fn run)
{
	struct sql_wait *w = tm_calloc(1, sizeof *w);
	w->d = d;
	w->call = call;
	w->run = run;
	w->index = min_index;
	uv_loop_t *loop = daemon_loop(d);
	w->deadline = uv_now(loop) + call->timeout_ms;
	uv_timer_init(loop, &w->timer);
	w->timer.data = w;
	if (!read_index) {
		wait_for_index(w);
		return;
	}
	w->ask.data = w;
	cluster_read_index(d, &w->ask, asked);
}

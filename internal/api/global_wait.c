/* A request waiting for the global database of a member that is still
 * starting (global_wait.h).
 *
 * Happy path: api_global_wait starts a timer polling the daemon's state
 * every API_GLOBAL_WAIT_POLL_MS -> the member is READY -> the timer is
 * closed and the request's handler runs again (rest_handle_again).
 *
 * Failure modes, each answered once and ending the wait:
 * - not READY within API_LEADER_WAIT_MS: 503 "global database not
 *   available yet: ..." with what the member is waiting for;
 * - the member starts stopping (DRAINING or later): 503 "shutting down";
 * - the client went away: 503 into the void, so that nothing is held. */
#include "internal/api/global_wait.h"

#include <stdio.h>

#include "internal/api/cluster_http.h"
#include "internal/daemon/cluster.h"
#include "internal/daemon/daemon.h"
#include "internal/lib/mem.h"
#include "internal/net/conn.h"

struct global_wait {
	struct rest_request *req;
	uv_timer_t timer;
	uint64_t deadline; /* uv_now, ms */
	bool again;	   /* handle REQ again once the timer is closed */
};

static bool coming(enum daemon_state state)
{
	return state == DAEMON_STARTING || state == DAEMON_JOINING;
}

static void closed_cb(uv_handle_t *h)
{
	struct global_wait *w = h->data;
	struct rest_request *req = w->req;
	bool again = w->again;
	tm_free(w);
	if (again) {
		rest_handle_again(req);
	}
}

static void finish(struct global_wait *w, bool again)
{
	w->again = again;
	uv_timer_stop(&w->timer);
	uv_close((uv_handle_t *)&w->timer, closed_cb);
}

static void too_late(struct global_wait *w, struct daemon *d)
{
	const char *why = cluster_message(d);
	bool starting = daemon_state(d) == DAEMON_STARTING;
	rest_respond_error(
	    w->req, 503,
	    "global database not available yet: %s after %d s%s%s%s",
	    starting ? "this member is still starting"
		     : "the global part of this member is still restarting "
		       "(enable, join or leave)",
	    API_LEADER_WAIT_MS / 1000, why[0] != '\0' ? " (" : "", why,
	    why[0] != '\0' ? ")" : "");
	finish(w, false);
}

static void poll_cb(uv_timer_t *t)
{
	struct global_wait *w = t->data;
	struct daemon *d = rest_server_data(w->req);
	struct conn *c = rest_conn(w->req);
	if (daemon_gdb(d) != NULL) {
		finish(w, true);
	} else if (c == NULL || conn_peer_closed(c)) {
		rest_respond_error(w->req, 503, "the client went away");
		finish(w, false);
	} else if (!coming(daemon_state(d))) {
		rest_respond_error(w->req, 503, "shutting down");
		finish(w, false);
	} else if (uv_now(t->loop) >= w->deadline) {
		too_late(w, d);
	}
}

bool api_global_wait(struct rest_request *req)
{
	struct daemon *d = rest_server_data(req);
	if (daemon_gdb(d) != NULL || !coming(daemon_state(d))) {
		return false;
	}
	struct global_wait *w = tm_calloc(1, sizeof *w);
	w->req = req;
	uv_loop_t *loop = daemon_loop(d);
	w->deadline = uv_now(loop) + API_LEADER_WAIT_MS;
	uv_timer_init(loop, &w->timer);
	w->timer.data = w;
	uv_timer_start(&w->timer, poll_cb, API_GLOBAL_WAIT_POLL_MS,
		       API_GLOBAL_WAIT_POLL_MS);
	return true;
}

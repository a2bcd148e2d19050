/* A request waiting for the global database of a member that is still
 * starting (global_wait.h).
 *
 * Happy path: api_global_wait starts a timer polling the daemon's state
 * every API_GLOBAL_WAIT_POLL_MS -> the member is READY -> the timer is
 * closed and the request's handler runs again (rest_handle_again).
 *
 * A request relayed by another member to this one as leader (a write
 * with X-Thermionic-Forwarded, a batch, a read-index ask) needs this
 * member to lead: once this member knows it follows another leader, the
 * request is answered at once, 503 with X-Thermionic-Not-Leader
 * (api_refuse_not_leader), and the member that relayed it takes it to
 * that leader. While no leader is known it may still be elected itself,
 * so the request keeps waiting.
 *
 * Failure modes, each answered once and ending the wait:
 * - not READY within API_LEADER_WAIT_MS: 503 "global database not
 *   available yet: ..." with what the member is waiting for;
 * - the member starts stopping (DRAINING or later): 503 "shutting down";
 * - the client went away: 503 into the void, so that nothing is held. */
#include "internal/api/global_wait.h"

#include <stdio.h>

#include "internal/api/cluster_http.h"
#include "internal/api/forward.h"
#include "internal/daemon/cluster.h"
#include "internal/daemon/daemon.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"
#include "internal/net/conn.h"

struct global_wait {
	struct rest_request *req;
	uv_timer_t timer;
	uint64_t deadline; /* uv_now, ms */
	bool again;	   /* handle REQ again once the timer is closed */
	bool relay;	   /* REQ needs this member to lead */
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

/* Does this member know it follows another member (elected in a term
 * it has heard of)? Then a relayed request is not for it. */
static bool follows_another(struct daemon *d)
{
	return cluster_follows(d) && cluster_leader_address(d) != NULL;
}

static void not_leader(struct rest_request *req, struct daemon *d)
{
	const char *leader = cluster_leader_address(d);
	api_refuse_not_leader(req, leader,
			      "this member is not the leader (still starting; "
			      "it follows %s): nothing was done",
			      leader);
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
	} else if (w->relay && follows_another(d)) {
		not_leader(w->req, d);
		finish(w, false);
	} else if (uv_now(t->loop) >= w->deadline) {
		too_late(w, d);
	}
}

static bool wait(struct rest_request *req, bool relay)
{
	struct daemon *d = rest_server_data(req);
	if (daemon_gdb(d) != NULL || !coming(daemon_state(d))) {
		return false;
	}
	if (relay && follows_another(d)) {
		not_leader(req, d);
		return true;
	}
	const char *by = rest_header(req, API_FORWARDED_HEADER);
	LOGD("api: %s %s%s%s waits for this member to be ready",
	     rest_method(req), rest_target(req), by != NULL ? " relayed by " : "",
	     by != NULL ? by : "");
	struct global_wait *w = tm_calloc(1, sizeof *w);
	w->req = req;
	w->relay = relay;
	uv_loop_t *loop = daemon_loop(d);
	w->deadline = uv_now(loop) + API_LEADER_WAIT_MS;
	uv_timer_init(loop, &w->timer);
	w->timer.data = w;
	uv_timer_start(&w->timer, poll_cb, API_GLOBAL_WAIT_POLL_MS,
		       API_GLOBAL_WAIT_POLL_MS);
	return true;
}

bool api_global_wait(struct rest_request *req)
{
	return wait(req, api_forwarded(req));
}

bool api_global_wait_relay(struct rest_request *req) { return wait(req, true); }

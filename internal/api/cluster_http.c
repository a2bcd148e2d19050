/* The HTTP side of cluster operations: status codes, and requests that
 * need the raft leader relayed to it from a follower
 * (internal/api/forward.h). */
#include "internal/api/cluster_http.h"
#include "internal/api/api.h"
#include "internal/api/forward.h"
#include "internal/daemon/cluster.h"
#include "internal/daemon/daemon.h"
#include <stdio.h>
#include <string.h>

#include "internal/lib/log.h"
#include "internal/lib/mem.h"

int api_cluster_http_status(int status)
{
	switch (status) {
	case TM_INVALID:
	case TM_PROTO:
		return 400;
	case TM_PERM:
		return 403;
	case TM_NOTFOUND:
		return 404;
	case TM_EXISTS:
	case TM_CONFLICT:
		return 409;
	case TM_BUSY:
	case TM_NOTLEADER:
	case TM_SHUTDOWN:
	case TM_CANCELED:
		return 503;
	case TM_TIMEOUT:
		return 504;
	case TM_NOSPACE:
		return 507;
	default:
		return 500;
	}
}

/* A request that needs the leader, on a follower (api_to_leader).
 *
 * Happy path: the leader this member knows -> api_forward_ex -> its
 * answer goes back to the client (relayed).
 *
 * No leader known: poll every LEADER_POLL_MS until one is, then relay.
 * The leader cannot be reached (nothing sent): poll again from
 * LEADER_RETRY_MS on, and relay to whoever leads then (the same member
 * too: it may have been restarting). The member answers that it does not
 * lead and did nothing (API_FORWARD_NOT_LEADER: a stale view, e.g. a
 * standby still naming a leader that restarted as a follower): poll until
 * this member's view moves (another leader, or a later raft term), then
 * relay there; at most LEADER_MAX_REFUSALS such answers. All of it within
 * API_LEADER_WAIT_MS of the request's arrival here; past it, or after
 * the last refusal, 503 saying nothing was applied and whom it tried.
 * This member elected meanwhile: the request is handled again here. */
#define LEADER_POLL_MS 20
/* After the known leader could not be reached. */
#define LEADER_RETRY_MS 100
/* Members that said they do not lead, for one request. */
#define LEADER_MAX_REFUSALS 3

struct leader_wait {
	struct rest_request *req;
	uv_timer_t timer;
	uint64_t deadline;
	char last_error[TM_ERRMSG_SIZE]; /* of the last leader tried */
	char target[128];		 /* the member relayed to last */
	uint64_t target_term;		 /* this member's raft term then */
	unsigned refusals;		 /* answers "not the leader" */
	char refused[TM_ERRMSG_SIZE];	 /* who said so: "A (why); B ..." */
};

static void wait_closed_cb(uv_handle_t *h) { tm_free(h->data); }

static void wait_end(struct leader_wait *w)
{
	uv_timer_stop(&w->timer);
	uv_close((uv_handle_t *)&w->timer, wait_closed_cb);
}

static void no_leader(struct leader_wait *w)
{
	struct daemon *d = rest_server_data(w->req);
	char members[TM_ERRMSG_SIZE];
	cluster_reachability(d, members, sizeof members);
	rest_respond_error(
	    w->req, 503,
	    "no leader known after %d s%s%s: an election "
	    "cannot complete without a majority of voters; "
	    "from this member: %s",
	    API_LEADER_WAIT_MS / 1000,
	    w->last_error[0] != '\0' ? "; last leader: " : "", w->last_error,
	    members[0] != '\0' ? members : "no other member known");
	wait_end(w);
}

/* Every member relayed to said it does not lead. */
static void refused_everywhere(struct leader_wait *w, bool late)
{
	if (late) {
		rest_respond_error(w->req, 503,
				   "nothing was applied: no member that leads "
				   "took the request within %d s; relayed to "
				   "%s",
				   API_LEADER_WAIT_MS / 1000, w->refused);
	} else {
		rest_respond_error(w->req, 503,
				   "nothing was applied: the members it was "
				   "relayed to do not lead: %s",
				   w->refused);
	}
	wait_end(w);
}

static void leader_poll_cb(uv_timer_t *t);

/* Has this member's view of the leader moved since the last relay was
 * refused (another leader, or the same one in a later term)? */
static bool view_moved(struct leader_wait *w, const char *leader)
{
	return w->refusals == 0 || strcmp(leader, w->target) != 0 ||
	       cluster_raft_term(rest_server_data(w->req)) != w->target_term;
}

static void note_refusal(struct leader_wait *w, const char *errmsg)
{
	size_t n = strlen(w->refused);
	snprintf(w->refused + n, sizeof w->refused - n, "%s%s (%.160s)",
		 n > 0 ? "; " : "", w->target, errmsg);
	w->refusals++;
}

static void relayed(void *arg, enum api_forward_outcome outcome,
		    const char *errmsg)
{
	struct leader_wait *w = arg;
	switch (outcome) {
	case API_FORWARD_ANSWERED:
		wait_end(w);
		return;
	case API_FORWARD_UNREACHABLE:
		/* The leader this member knows is gone: wait for the next
		 * one. */
		snprintf(w->last_error, sizeof w->last_error, "%.200s", errmsg);
		uv_timer_start(&w->timer, leader_poll_cb, LEADER_RETRY_MS,
			       LEADER_POLL_MS);
		return;
	case API_FORWARD_NOT_LEADER:
		/* Nothing was done there: wait for this member to learn
		 * who leads. */
		LOGD("relay: %s does not lead (%s); waiting for another "
		     "leader",
		     w->target, errmsg);
		note_refusal(w, errmsg);
		if (w->refusals >= LEADER_MAX_REFUSALS) {
			refused_everywhere(w, false);
			return;
		}
		uv_timer_start(&w->timer, leader_poll_cb, LEADER_POLL_MS,
			       LEADER_POLL_MS);
		return;
	}
}

/* Does ADDRESS still lead in this member's raft view? */
static bool still_leads(struct rest_request *req, const char *address)
{
	const char *leader = cluster_leader_address(rest_server_data(req));
	return leader != NULL && strcmp(leader, address) == 0;
}

static void try_leader(struct leader_wait *w, const char *leader)
{
	struct daemon *d = rest_server_data(w->req);
	uv_timer_stop(&w->timer);
	snprintf(w->target, sizeof w->target, "%s", leader);
	w->target_term = cluster_raft_term(d);
	api_forward_ex(w->req, daemon_hclient(d), leader,
		       cluster_fingerprint(d), cluster_member_name(d),
		       still_leads, relayed, w);
}

static void leader_poll_cb(uv_timer_t *t)
{
	struct leader_wait *w = t->data;
	struct daemon *d = rest_server_data(w->req);
	const char *leader = cluster_leader_address(d);
	bool late = uv_now(t->loop) >= w->deadline;
	if (daemon_hclient(d) == NULL || rest_conn(w->req) == NULL) {
		rest_respond_error(w->req, 503, "the member is stopping");
		wait_end(w);
	} else if (leader != NULL && !cluster_follows(d)) {
		/* This member leads now: it serves the request itself. */
		struct rest_request *req = w->req;
		wait_end(w);
		rest_handle_again(req);
	} else if (late && w->refusals > 0) {
		refused_everywhere(w, true);
	} else if (late) {
		no_leader(w);
	} else if (leader != NULL && view_moved(w, leader)) {
		try_leader(w, leader);
	}
}

bool api_to_leader(struct rest_request *req)
{
	struct daemon *d = rest_server_data(req);
	if (!cluster_follows(d) || api_forwarded(req) ||
	    daemon_hclient(d) == NULL) {
		return false;
	}
	struct leader_wait *w = tm_calloc(1, sizeof *w);
	w->req = req;
	uv_loop_t *loop = daemon_loop(d);
	w->deadline = uv_now(loop) + API_LEADER_WAIT_MS;
	uv_timer_init(loop, &w->timer);
	w->timer.data = w;
	const char *leader = cluster_leader_address(d);
	if (leader != NULL) {
		try_leader(w, leader);
	} else {
		uv_timer_start(&w->timer, leader_poll_cb, LEADER_POLL_MS,
			       LEADER_POLL_MS);
	}
	return true;
}

/* A view relayed to the leader; when the leader cannot be reached, does
 * not answer within VIEW_TIMEOUT_MS, or sent no heartbeat for the offline
 * threshold, the local handler answers instead: a view never waits on a
 * dead member. */
#define VIEW_TIMEOUT_MS 2000

struct view {
	struct rest_request *req;
	rest_handler local;
};

static void viewed(void *arg, enum api_forward_outcome outcome,
		   const char *errmsg)
{
	struct view *v = arg;
	(void)errmsg;
	if (outcome != API_FORWARD_ANSWERED) {
		v->local(v->req); /* unreachable, or it does not lead */
	}
	tm_free(v);
}

bool api_view_from_leader(struct rest_request *req, rest_handler local)
{
	struct daemon *d = rest_server_data(req);
	if (!cluster_follows(d) || api_forwarded(req) ||
	    daemon_hclient(d) == NULL) {
		return false;
	}
	const char *leader = cluster_leader_address(d);
	if (leader == NULL || cluster_leader_silent(d)) {
		return false; /* never wait: this member's view will do */
	}
	struct view *v = tm_calloc(1, sizeof *v);
	v->req = req;
	v->local = local;
	api_forward_view(req, daemon_hclient(d), leader, cluster_fingerprint(d),
			 cluster_member_name(d), VIEW_TIMEOUT_MS, viewed, v);
	return true;
}

void api_cluster_fail(struct rest_request *req, int status, const char *errmsg)
{
	if (status == TM_NOTLEADER && api_to_leader(req)) {
		return;
	}
	if (status == TM_NOTLEADER && api_forwarded(req)) {
		api_refuse_not_leader(
		    req, cluster_leader_address(rest_server_data(req)), "%s",
		    errmsg);
		return;
	}
	rest_respond_error(req, api_cluster_http_status(status), "%s", errmsg);
}

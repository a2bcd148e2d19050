/* GET /internal/cluster/applied?index=N[&wait_ms=M]: has this member
 * applied the raft log up to index N? Asked by the member that handled a
 * cluster-wide configuration change, to report on which members it is
 * in force (config_inforce.c). Members' certificates only.
 *
 * Answers 200 {"member": NAME, "applied_index": X} as soon as X >= N,
 * polling every POLL_MS for at most WAIT_MS (default 0, capped at
 * MAX_WAIT_MS); 504 "applied up to X, not N" once that has passed; 503
 * when the member is stopping or its raft is not running; 400 on a
 * malformed index or wait. The applied index is read on the loop, after
 * gdb's watch callbacks ran for each applied entry: a member that
 * answers 200 has the configuration of entry N in force. */
#include <errno.h>
#include <stdlib.h>

#include "internal/api/api.h"
#include "internal/daemon/cluster.h"
#include "internal/daemon/daemon.h"
#include "internal/lib/mem.h"

#define POLL_MS 2
#define MAX_WAIT_MS 10000

struct applied_wait {
	struct rest_request *req;
	struct daemon *d;
	uint64_t index;
	uint64_t deadline; /* uv_now, ms */
	uv_timer_t timer;
};

static void closed_cb(uv_handle_t *h) { tm_free(h->data); }

static void answer(struct rest_request *req, struct daemon *d)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "member", cluster_member_name(d));
	cJSON_AddNumberToObject(o, "applied_index",
				(double)cluster_applied_index(d));
	rest_respond_sync(req, o, NULL);
}

/* Answer now if there is nothing to wait for; true if answered. */
static bool answer_now(struct rest_request *req, struct daemon *d,
		       uint64_t index, bool late)
{
	uint64_t applied = cluster_applied_index(d);
	if (applied >= index && applied > 0) {
		answer(req, d);
	} else if (rest_draining(req) || daemon_gdb(d) == NULL) {
		rest_respond_error(req, 503, "this member is stopping");
	} else if (late) {
		rest_respond_error(req, 504,
				   "this member has applied the cluster's log "
				   "up to index %llu, not %llu yet",
				   (unsigned long long)applied,
				   (unsigned long long)index);
	} else {
		return false;
	}
	return true;
}

static void poll_cb(uv_timer_t *t)
{
	struct applied_wait *w = t->data;
	bool late = uv_now(t->loop) >= w->deadline;
	if (answer_now(w->req, w->d, w->index, late)) {
		uv_timer_stop(t);
		uv_close((uv_handle_t *)t, closed_cb);
	}
}

/* QUERY (may be NULL: DFLT) as a non-negative decimal no larger than
 * MAX; false if malformed. */
static bool parse_u64(const char *query, uint64_t dflt, uint64_t max,
		      uint64_t *out)
{
	if (query == NULL) {
		*out = dflt;
		return true;
	}
	if (query[0] < '0' || query[0] > '9') {
		return false;
	}
	char *end;
	errno = 0;
	unsigned long long v = strtoull(query, &end, 10);
	if (errno != 0 || *end != '\0' || v > max) {
		return false;
	}
	*out = v;
	return true;
}

void api_internal_applied_get(struct rest_request *req)
{
	struct daemon *d = rest_server_data(req);
	if (!cluster_is_member(d, rest_peer_fingerprint(req))) {
		rest_respond_error(req, 403,
				   "not authorized: only members of this "
				   "cluster may ask for the applied index");
		return;
	}
	uint64_t index;
	uint64_t wait_ms;
	if (!parse_u64(rest_query(req, "index"), 0, INT64_MAX, &index) ||
	    rest_query(req, "index") == NULL || index == 0) {
		rest_respond_error(req, 400,
				   "index must be a raft index (1 or more)");
		return;
	}
	if (!parse_u64(rest_query(req, "wait_ms"), 0, MAX_WAIT_MS, &wait_ms)) {
		rest_respond_error(req, 400,
				   "wait_ms must be a number of milliseconds "
				   "from 0 to %d",
				   MAX_WAIT_MS);
		return;
	}
	if (answer_now(req, d, index, wait_ms == 0)) {
		return;
	}
	struct applied_wait *w = tm_calloc(1, sizeof *w);
	w->req = req;
	w->d = d;
	w->index = index;
	uv_loop_t *loop = daemon_loop(d);
	w->deadline = uv_now(loop) + wait_ms;
	uv_timer_init(loop, &w->timer);
	w->timer.data = w;
	uv_timer_start(&w->timer, poll_cb, POLL_MS, POLL_MS);
}

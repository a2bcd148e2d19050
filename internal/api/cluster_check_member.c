/* GET /internal/cluster/check?index=N[&wait_ms=M]: this member's result of
 * the content check at index N (doc/consistency.md), asked by the member
 * that runs the check. Members' certificates only.
 *
 * Answers 200 with check_answer.h's object as soon as this member applied
 * N and hashed its content there, polling every POLL_MS for at most WAIT_MS
 * (default 0, capped at MAX_WAIT_MS); 504 "applied up to X, not N" or
 * "still computing" once that has passed; 409 when it applied N but holds
 * no result for it (the hash failed, or it was forgotten); 503 when the
 * member is stopping; 400 on a malformed index or wait. */
#include <errno.h>
#include <stdlib.h>

#include "internal/api/api.h"
#include "internal/api/check_answer.h"
#include "internal/daemon/cluster.h"
#include "internal/daemon/daemon.h"
#include "internal/db/cluster/chain.h"
#include "internal/db/cluster/gdb.h"
#include "internal/lib/mem.h"

#define POLL_MS 5
#define MAX_WAIT_MS 30000

struct check_wait {
	struct rest_request *req;
	struct daemon *d;
	uint64_t index;
	uint64_t deadline; /* uv_now, ms */
	uv_timer_t timer;
};

static void closed_cb(uv_handle_t *h) { tm_free(h->data); }

static void answer(struct rest_request *req, struct daemon *d,
		   const struct gdb_check_result *r)
{
	struct check_answer a = {.index = r->index,
				 .applied_index = cluster_applied_index(d),
				 .chain_base = r->chain_base};
	snprintf(a.member, sizeof a.member, "%s", cluster_member_name(d));
	gdb_chain_hex(r->chain, a.chain);
	gdb_chain_hex(r->content, a.content);
	rest_respond_sync(req, check_answer_json(&a), NULL);
}

/* Answer now if there is nothing to wait for; true if answered. */
static bool answer_now(struct rest_request *req, struct daemon *d,
		       uint64_t index, bool late)
{
	struct gdb *g = daemon_gdb(d);
	if (rest_draining(req) || g == NULL) {
		rest_respond_error(req, 503, "this member is stopping");
		return true;
	}
	uint64_t applied = cluster_applied_index(d);
	struct gdb_check_result r;
	char errmsg[TM_ERRMSG_SIZE] = "";
	int rv =
	    applied >= index ? gdb_check_result(g, index, &r, errmsg) : TM_BUSY;
	if (rv == 0) {
		answer(req, d, &r);
	} else if (rv != TM_BUSY) {
		rest_respond_error(req, 409, "%s", errmsg);
	} else if (!late) {
		return false;
	} else if (applied < index) {
		rest_respond_error(req, 504,
				   "behind: this member has applied the "
				   "cluster's log up to index %llu, not %llu "
				   "yet",
				   (unsigned long long)applied,
				   (unsigned long long)index);
	} else {
		rest_respond_error(req, 504,
				   "the content hash at index %llu is still "
				   "being computed",
				   (unsigned long long)index);
	}
	return true;
}

static void poll_cb(uv_timer_t *t)
{
	struct check_wait *w = t->data;
	bool late = uv_now(t->loop) >= w->deadline;
	if (answer_now(w->req, w->d, w->index, late)) {
		uv_timer_stop(t);
		uv_close((uv_handle_t *)t, closed_cb);
	}
}

/* QUERY (may be NULL: DFLT) as a decimal no larger than MAX. */
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

void api_internal_check_get(struct rest_request *req)
{
	struct daemon *d = rest_server_data(req);
	if (!cluster_is_member(d, rest_peer_fingerprint(req))) {
		rest_respond_error(req, 403,
				   "not authorized: only members of this "
				   "cluster may ask for a content check");
		return;
	}
	uint64_t index;
	uint64_t wait_ms;
	if (rest_query(req, "index") == NULL ||
	    !parse_u64(rest_query(req, "index"), 0, INT64_MAX, &index) ||
	    index == 0) {
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
	struct check_wait *w = tm_calloc(1, sizeof *w);
	w->req = req;
	w->d = d;
	w->index = index;
	uv_loop_t *loop = daemon_loop(d);
	w->deadline = uv_now(loop) + wait_ms;
	uv_timer_init(loop, &w->timer);
	w->timer.data = w;
	uv_timer_start(&w->timer, poll_cb, POLL_MS, POLL_MS);
}

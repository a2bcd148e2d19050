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
#include "internal/api/api.h"
#include "internal/api/check_answer.h"
#include "internal/api/index_wait.h"
#include "internal/daemon/cluster.h"
#include "internal/daemon/daemon.h"
#include "internal/db/cluster/chain.h"
#include "internal/db/cluster/gdb.h"

#define POLL_MS 5
#define MAX_WAIT_MS 30000

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

void api_internal_check_get(struct rest_request *req)
{
	struct daemon *d = rest_server_data(req);
	if (!cluster_is_member(d, rest_peer_fingerprint(req))) {
		rest_respond_error(req, 403,
				   "not authorized: only members of this "
				   "cluster may ask for a content check");
		return;
	}
	index_wait(req, answer_now, POLL_MS, MAX_WAIT_MS);
}

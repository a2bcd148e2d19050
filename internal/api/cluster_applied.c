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
#include "internal/api/api.h"
#include "internal/api/index_wait.h"
#include "internal/daemon/cluster.h"
#include "internal/daemon/daemon.h"

#define POLL_MS 2
#define MAX_WAIT_MS 10000

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

void api_internal_applied_get(struct rest_request *req)
{
	struct daemon *d = rest_server_data(req);
	if (!cluster_is_member(d, rest_peer_fingerprint(req))) {
		rest_respond_error(req, 403,
				   "not authorized: only members of this "
				   "cluster may ask for the applied index");
		return;
	}
	index_wait(req, answer_now, POLL_MS, MAX_WAIT_MS);
}

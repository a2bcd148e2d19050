/* /1.0/cluster: the cluster as this member sees it; enable and join
 * (doc/clustering.md). */
#include <stdlib.h>
#include <string.h>

#include "internal/api/api.h"
#include "internal/api/cluster_http.h"
#include "internal/api/forward.h"
#include "internal/api/global_wait.h"
#include "internal/daemon/cluster.h"
#include "internal/daemon/daemon.h"
#include "internal/db/cluster/gdb.h"
#include "internal/lib/mem.h"

void api_cluster_answer(void *arg, int status, const char *errmsg, cJSON *meta)
{
	struct rest_request *req = arg;
	if (status != 0) {
		cJSON_Delete(meta);
		/* TM_NOTLEADER: nothing was done here (gdb refused it). */
		api_cluster_fail(req, status, errmsg);
		return;
	}
	rest_respond_sync(req, meta, NULL);
}

void api_cluster_get(struct rest_request *req)
{
	struct daemon *d = rest_server_data(req);
	rest_respond_sync(req, cluster_info(d), NULL);
}

static void enabled(void *arg, int status, const char *errmsg)
{
	struct rest_request *req = arg;
	if (status != 0) {
		rest_respond_error(req, api_cluster_http_status(status), "%s",
				   errmsg);
		return;
	}
	rest_respond_sync(req, cluster_info(rest_server_data(req)), NULL);
}

static const char *string_field(const cJSON *body, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, name);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* PUT /1.0/cluster: {"enabled": true, "member_name": NAME} enables;
 * {"enabled": true, "token": TOKEN, "address"?, "force"?} joins. */
void api_cluster_put(struct rest_request *req)
{
	static const char *const allowed[] = {"enabled", "member_name", "token",
					      "address", "force",	NULL};
	struct daemon *d = rest_server_data(req);
	cJSON *body = rest_body_json(req);
	if (body == NULL) {
		return;
	}
	if (!api_check_fields(req, body, allowed)) {
		cJSON_Delete(body);
		return;
	}
	const cJSON *on = cJSON_GetObjectItemCaseSensitive(body, "enabled");
	const char *name = string_field(body, "member_name");
	const char *token = string_field(body, "token");
	const char *address = string_field(body, "address");
	const cJSON *force = cJSON_GetObjectItemCaseSensitive(body, "force");
	char errmsg[TM_ERRMSG_SIZE];
	int rv;
	if (!cJSON_IsTrue(on)) {
		rv = TM_INVALID;
		tm_errmsg_printf(errmsg,
				 "\"enabled\" must be true (a member leaves "
				 "a cluster by being removed: therm cluster "
				 "remove NAME)");
	} else if (token != NULL) {
		if (force != NULL && !cJSON_IsBool(force)) {
			rv = TM_INVALID;
			tm_errmsg_printf(errmsg, "\"force\" must be a boolean");
		} else {
			rv = cluster_join(d, token,
					  address != NULL ? address : "",
					  cJSON_IsTrue(force), errmsg);
		}
		if (rv == 0) {
			rest_respond_sync(req, cluster_info(d), NULL);
		}
	} else if (name != NULL) {
		rv = cluster_enable(d, name, enabled, req, errmsg);
	} else {
		rv = TM_INVALID;
		tm_errmsg_printf(errmsg,
				 "give \"member_name\" to enable clustering, "
				 "or \"token\" to join a cluster");
	}
	cJSON_Delete(body);
	if (rv != 0) {
		rest_respond_error(req, api_cluster_http_status(rv), "%s",
				   errmsg);
	}
}

/* POST /internal/cluster/join: public, authenticated by the token's
 * secret and the certificate the joiner connects with. */
void api_internal_cluster_join(struct rest_request *req)
{
	struct daemon *d = rest_server_data(req);
	size_t len = 0;
	const char *body = rest_body(req, &len);
	char errmsg[TM_ERRMSG_SIZE];
	int rv = cluster_admit(d, body != NULL ? body : "", len,
			       rest_peer_fingerprint(req), api_cluster_answer,
			       req, errmsg);
	if (rv != 0) {
		rest_respond_error(req, api_cluster_http_status(rv), "%s",
				   errmsg);
	}
}

/* GET /internal/cluster/read-index: an index this member, as leader,
 * confirmed as committed after the ask arrived (gdb_read_index: a raft
 * barrier, shared), for a follower's linearizable reads
 * (internal/daemon/cluster_read_index.c). */
struct read_index {
	struct rest_request *req;
	struct gdb_request greq;
};

static void read_index_cb(struct gdb_request *greq, int status)
{
	struct read_index *r = greq->data;
	if (status == TM_NOTLEADER) {
		api_refuse_not_leader(
		    r->req, cluster_leader_address(rest_server_data(r->req)),
		    "%s", greq->errmsg);
	} else if (status != 0) {
		rest_respond_error(r->req, 500, "%s", greq->errmsg);
	} else {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "index", (double)greq->index);
		rest_respond_sync(r->req, o, NULL);
	}
	gdb_request_clear(greq);
	tm_free(r);
}

void api_internal_read_index_get(struct rest_request *req)
{
	struct daemon *d = rest_server_data(req);
	if (!cluster_is_member(d, rest_peer_fingerprint(req))) {
		rest_respond_error(req, 403,
				   "not authorized: only members of this "
				   "cluster may ask for a read index");
		return;
	}
	struct gdb *g = daemon_gdb(d);
	if (g == NULL && api_global_wait_relay(req)) {
		return; /* elected while starting: answered once ready */
	}
	if (cluster_follows(d)) {
		api_refuse_not_leader(req, cluster_leader_address(d),
				      "this member is not the leader");
		return;
	}
	if (g == NULL) {
		rest_respond_error(req, 503, "this member is not the leader");
		return;
	}
	/* The asker's term, when it is ours, is a confirmation in hand. */
	const char *term = rest_query(req, "term");
	const char *id = rest_query(req, "id");
	uint64_t index;
	if (term != NULL && id != NULL &&
	    cluster_read_index_now(d, strtoull(term, NULL, 10),
				   strtoull(id, NULL, 10), &index) == 0) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "index", (double)index);
		rest_respond_sync(req, o, NULL);
		return;
	}
	struct read_index *r = tm_calloc(1, sizeof *r);
	r->req = req;
	r->greq.data = r;
	gdb_read_index(g, &r->greq, read_index_cb);
}

/* GET /internal/cluster/term: this member's raft term, for a leader
 * confirming its leadership before a linearizable read
 * (internal/daemon/cluster_confirm.c), and on a follower that knows its
 * leader, the leader's raft id and the milliseconds since it last heard
 * from it (for the leader's lease). Answered at once, from memory. */
void api_internal_term_get(struct rest_request *req)
{
	struct daemon *d = rest_server_data(req);
	if (!cluster_is_member(d, rest_peer_fingerprint(req))) {
		rest_respond_error(req, 403,
				   "not authorized: only members of this "
				   "cluster may ask for the raft term");
		return;
	}
	uint64_t leader = 0;
	uint64_t quiet_ms = 0;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "term", (double)cluster_raft_term(d));
	if (cluster_raft_follows(d, &leader, &quiet_ms)) {
		cJSON_AddNumberToObject(o, "leader", (double)leader);
		cJSON_AddNumberToObject(o, "quiet_ms", (double)quiet_ms);
	}
	rest_respond_sync(req, o, NULL);
}

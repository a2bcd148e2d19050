/* A follower's read indexes (cluster.h: cluster_read_index).
 *
 * One ask to the leader is in flight at a time. A read that arrives while
 * it is cannot share its answer: the leader may have confirmed its
 * leadership before that read arrived, which proves nothing about the
 * time after. Such reads wait in NEXT and share the ask sent when the
 * current one is answered. At concurrency 16 a follower so sends one
 * HTTPS request per round instead of one per read, and the leader answers
 * them all from one raft barrier (gdb_read_index).
 *
 * An ask that fails fails the reads sharing it; the waiting ones get an
 * ask of their own. An ask refused by a member that does not lead
 * (X-Thermionic-Not-Leader: a stale view of who leads) is sent once more
 * if this member knows another leader by then. Shutdown: hclient_close answers the ask in flight
 * (canceled) and refuses the next (TM_SHUTDOWN), so every read is
 * answered. */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "internal/daemon/cluster_internal.h"
#include "internal/daemon/daemon_priv.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"

/* How long an ask may take: a leader that does not answer within it is
 * treated as gone (an election takes about a second). */
#define ASK_TIMEOUT_MS 5000

static void answer(struct cluster_read_index_wait *list, int status,
		   uint64_t index, const char *errmsg)
{
	while (list != NULL) {
		struct cluster_read_index_wait *next = list->next;
		list->next = NULL;
		list->cb(list, status, index, errmsg);
		list = next;
	}
}

static void ask(struct daemon *d);

/* Parse the leader's answer into *INDEX; TM_PROTO if malformed. */
static int parse_answer(const struct hclient_request *req, uint64_t *index)
{
	cJSON *root = cJSON_ParseWithLength(req->body_out, req->body_out_len);
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(root, "metadata");
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(meta, "index");
	int rv = TM_PROTO;
	if (cJSON_IsNumber(n) && n->valuedouble >= 0) {
		*index = (uint64_t)n->valuedouble;
		rv = 0;
	}
	cJSON_Delete(root);
	return rv;
}

/* REQ was refused by a member that does not lead, and this member
 * knows another leader now, not asked yet for these reads. */
static bool ask_again(struct daemon *d, const struct hclient_request *req)
{
	struct cluster_read_index *ri = &d->read_index;
	const char *leader = cluster_leader_address(d);
	return req->status == 0 && req->http_status == 503 &&
	       req->kept_header != NULL && !ri->asked_again &&
	       leader != NULL && strcmp(leader, ri->leader) != 0;
}

static void asked(struct hclient_request *req)
{
	struct daemon *d = req->data;
	struct cluster_read_index *ri = &d->read_index;
	if (ask_again(d, req)) {
		LOGD("read index: %s does not lead; asking %s",
		     ri->leader, cluster_leader_address(d));
		hclient_request_clear(&ri->ask);
		tm_free(ri->leader);
		ri->leader = NULL;
		ri->asked_again = true;
		ask(d);
		return;
	}
	char errmsg[TM_ERRMSG_SIZE] = "";
	uint64_t index = 0;
	int status = 0;
	if (req->status != 0 || req->http_status != 200) {
		status =
		    req->status == TM_SHUTDOWN || req->status == TM_CANCELED
			? TM_SHUTDOWN
			: TM_NOTLEADER;
		snprintf(errmsg, sizeof errmsg,
			 "the leader %s could not confirm a read index: %.160s",
			 ri->leader,
			 req->status != 0
			     ? req->errmsg
			     : (req->body_out != NULL ? req->body_out
						      : "no answer"));
	} else if (parse_answer(req, &index) != 0) {
		status = TM_PROTO;
		snprintf(errmsg, sizeof errmsg,
			 "the leader %s sent a malformed read index",
			 ri->leader);
	}
	struct cluster_read_index_wait *done = ri->current;
	ri->current = NULL;
	ri->asking = false;
	ri->asked_again = false;
	hclient_request_clear(&ri->ask);
	tm_free(ri->leader);
	ri->leader = NULL;
	if (ri->next != NULL) {
		ri->current = ri->next;
		ri->next = NULL;
		ask(d);
	}
	answer(done, status, index, errmsg);
}

/* Send an ask for the reads in CURRENT. */
static void ask(struct daemon *d)
{
	struct cluster_read_index *ri = &d->read_index;
	const char *leader = cluster_leader_address(d);
	struct hclient *c = daemon_hclient(d);
	if (leader == NULL || c == NULL) {
		struct cluster_read_index_wait *done = ri->current;
		ri->current = NULL;
		answer(done, TM_NOTLEADER, 0,
		       "no leader known to confirm a linearizable read: an "
		       "election may be under way, or too few members are "
		       "reachable; retry shortly");
		return;
	}
	ri->leader = tm_strdup(leader);
	/* This member's term, read now, after every read sharing the ask
	 * arrived: the leader may count it as a confirmation. */
	snprintf(ri->path, sizeof ri->path,
		 "/internal/cluster/read-index?term=%llu&id=%llu",
		 (unsigned long long)cluster_raft_term(d),
		 (unsigned long long)cluster_raft_id(d));
	ri->ask = (struct hclient_request){
	    .data = d,
	    .method = "GET",
	    .address = ri->leader,
	    .path = ri->path,
	    .pin = cluster_fingerprint(d),
	    .timeout_ms = ASK_TIMEOUT_MS,
	    /* API_NOT_LEADER_HEADER (internal/api/forward.h) */
	    .keep_header = "X-Thermionic-Not-Leader",
	};
	ri->asking = true;
	ri->asks++;
	if (hclient_send(c, &ri->ask, asked) != 0) {
		struct cluster_read_index_wait *done = ri->current;
		ri->current = NULL;
		ri->asking = false;
		ri->asked_again = false;
		tm_free(ri->leader);
		ri->leader = NULL;
		answer(done, TM_SHUTDOWN, 0,
		       "cannot ask the leader for a read index: this member "
		       "is stopping");
	}
}

void cluster_read_index(struct daemon *d, struct cluster_read_index_wait *w,
			cluster_read_index_cb cb)
{
	struct cluster_read_index *ri = &d->read_index;
	w->cb = cb;
	if (ri->asking) {
		w->next = ri->next;
		ri->next = w;
		return;
	}
	w->next = ri->current;
	ri->current = w;
	ask(d);
}

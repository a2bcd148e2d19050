/* The cluster-wide part of a configuration change made on a follower,
 * relayed to the leader (config_relay.h).
 *
 * Happy path: PATCH /1.0/config with only the cluster-wide keys that
 * change, "X-Thermionic-Forwarded: <this member>", pinned to the cluster
 * certificate -> the leader writes them (one replicated transaction) and
 * answers 200 with the index of the entry -> CB(200, index).
 *
 * Waiting for a leader, as relayed writes do (cluster_http.c), all of it
 * within API_LEADER_WAIT_MS of the change's arrival:
 * - no leader known: poll every POLL_MS until one is;
 * - the leader cannot be reached (nothing sent): poll again from
 *   RETRY_MS on and relay to whoever leads then (the same member too: it
 *   may have been restarting);
 * - the member relayed to answers that it does not lead and did nothing
 *   (503 with X-Thermionic-Not-Leader: a stale view): poll until this
 *   member's view moves (another leader, or a later raft term), at most
 *   MAX_REFUSALS times;
 * - this member elected meanwhile: CB(0) and the caller writes it here.
 * Past the wait, or after the last refusal: 503 saying nothing was
 * applied and why.
 *
 * Other failures: the daemon stopping (503, nothing sent); contact lost
 * once the request may have reached the leader (503 that says it may or
 * may not have been applied); the leader refuses otherwise (its status
 * and message); a 200 without an index (502). */
#include <stdio.h>
#include <string.h>

#include "internal/api/cluster_http.h"
#include "internal/api/config_inforce.h"
#include "internal/api/config_relay.h"
#include "internal/api/forward.h"
#include "internal/client/hclient.h"
#include "internal/daemon/cluster.h"
#include "internal/daemon/daemon.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"

/* The leader writes, and its answer waits for the entry to apply. */
#define RELAY_TIMEOUT_MS 30000
/* While no leader is known, or this member's view has not moved. */
#define POLL_MS 20
/* After the leader could not be reached. */
#define RETRY_MS 100
/* Members that said they do not lead, for one change. */
#define MAX_REFUSALS 3

struct relay {
	struct daemon *d;
	struct hclient_request h;
	uv_timer_t timer;
	uint64_t deadline;
	cJSON *changes;
	char *body;
	char *headers;
	char leader[128];     /* the member relayed to last */
	uint64_t leader_term; /* this member's raft term then */
	unsigned refusals;
	char last_error[TM_ERRMSG_SIZE]; /* why the last try failed */
	config_relay_cb cb;
	void *arg;
};

static void closed_cb(uv_handle_t *h)
{
	struct relay *r = h->data;
	cJSON_Delete(r->changes);
	cJSON_free(r->body);
	tm_free(r->headers);
	tm_free(r);
}

/* CB once, then the relay goes. */
static void finish(struct relay *r, int status, uint64_t index,
		   const char *errmsg)
{
	uv_timer_stop(&r->timer);
	r->cb(r->arg, status, index, r->changes, errmsg);
	uv_close((uv_handle_t *)&r->timer, closed_cb);
}

/* The "error" of the leader's error envelope, or its body's start. */
static void leader_error(const struct hclient_request *h, char *out)
{
	cJSON *json = h->body_out != NULL
			  ? cJSON_ParseWithLength(h->body_out, h->body_out_len)
			  : NULL;
	const cJSON *error = cJSON_GetObjectItemCaseSensitive(json, "error");
	if (cJSON_IsString(error)) {
		tm_errmsg_printf(out, "%s", error->valuestring);
	} else {
		tm_errmsg_printf(out, "the leader answered HTTP %ld",
				 h->http_status);
	}
	cJSON_Delete(json);
}

static void poll_cb(uv_timer_t *t);

static void retry(struct relay *r, uint64_t after_ms)
{
	uv_timer_start(&r->timer, poll_cb, after_ms, POLL_MS);
}

static void answered_cb(struct hclient_request *h)
{
	struct relay *r = h->data;
	char errmsg[TM_ERRMSG_SIZE] = "";
	int status = 200;
	uint64_t index = 0;
	if (h->status != 0 && !h->sent) {
		/* Nothing reached it: wait for the next leader. */
		tm_errmsg_printf(r->last_error, "%s: %s", r->leader,
				 h->errmsg);
		hclient_request_clear(h);
		retry(r, RETRY_MS);
		return;
	}
	if (h->status != 0) {
		status = 503;
		tm_errmsg_printf(
		    errmsg,
		    "lost contact with the leader %s while the change "
		    "was in flight: it may or may not have been applied "
		    "(%s)",
		    r->leader, h->errmsg);
	} else if (h->http_status == 503 && h->kept_header != NULL) {
		/* It does not lead and did nothing there. */
		leader_error(h, errmsg);
		LOGD("config relay: %s does not lead (%s); waiting for "
		     "another leader",
		     r->leader, errmsg);
		size_t n = strlen(r->last_error);
		if (r->refusals == 0) {
			n = 0;
		}
		snprintf(r->last_error + n, sizeof r->last_error - n,
			 "%s%s (%.160s)", n > 0 ? "; " : "", r->leader,
			 errmsg);
		r->refusals++;
		hclient_request_clear(h);
		if (r->refusals >= MAX_REFUSALS) {
			tm_errmsg_printf(errmsg,
					 "nothing was applied: the members it "
					 "was relayed to do not lead: %s",
					 r->last_error);
			finish(r, 503, 0, errmsg);
			return;
		}
		retry(r, POLL_MS);
		return;
	} else if (h->http_status != 200) {
		status = (int)h->http_status;
		leader_error(h, errmsg);
	} else if (!config_answer_index(h->body_out, h->body_out_len, "index",
					&index) ||
		   index == 0) {
		status = 502;
		snprintf(errmsg, sizeof errmsg,
			 "the leader %s answered without the index of its "
			 "write",
			 r->leader);
	}
	hclient_request_clear(h);
	finish(r, status, index, errmsg);
}

static void send_to(struct relay *r, const char *leader)
{
	struct daemon *d = r->d;
	uv_timer_stop(&r->timer);
	snprintf(r->leader, sizeof r->leader, "%s", leader);
	r->leader_term = cluster_raft_term(d);
	memset(&r->h, 0, sizeof r->h);
	r->h.data = r;
	r->h.method = "PATCH";
	r->h.address = r->leader;
	r->h.path = "/1.0/config";
	r->h.pin = cluster_fingerprint(d);
	r->h.body = r->body;
	r->h.body_len = strlen(r->body);
	r->h.content_type = "application/json";
	r->h.headers = r->headers;
	r->h.keep_header = API_NOT_LEADER_HEADER;
	r->h.timeout_ms = RELAY_TIMEOUT_MS;
	if (hclient_send(daemon_hclient(d), &r->h, answered_cb) != 0) {
		char why[TM_ERRMSG_SIZE];
		tm_errmsg_printf(why, "cannot relay to the leader: %s",
				 r->h.errmsg);
		finish(r, 503, 0, why);
	}
}

/* Has this member's view of the leader moved since the last refusal? */
static bool view_moved(struct relay *r, const char *leader)
{
	return r->refusals == 0 || strcmp(leader, r->leader) != 0 ||
	       cluster_raft_term(r->d) != r->leader_term;
}

/* Relay to the leader this member knows, or wait for one. */
static void attempt(struct relay *r)
{
	struct daemon *d = r->d;
	if (daemon_hclient(d) == NULL) {
		finish(r, 503, 0, "the member is stopping");
		return;
	}
	const char *leader = cluster_leader_address(d);
	if (leader != NULL && !cluster_follows(d)) {
		finish(r, 0, 0, NULL); /* this member leads now */
		return;
	}
	bool late = uv_now(daemon_loop(d)) >= r->deadline;
	if (leader != NULL && view_moved(r, leader) && !late) {
		send_to(r, leader);
		return;
	}
	if (!late) {
		if (!uv_is_active((uv_handle_t *)&r->timer)) {
			retry(r, POLL_MS);
		}
		return;
	}
	char errmsg[TM_ERRMSG_SIZE];
	if (r->refusals > 0) {
		tm_errmsg_printf(errmsg,
				 "nothing was applied: no member that leads "
				 "took the change within %d s; relayed to %s",
				 API_LEADER_WAIT_MS / 1000, r->last_error);
	} else {
		char members[TM_ERRMSG_SIZE];
		cluster_reachability(d, members, sizeof members);
		tm_errmsg_printf(
		    errmsg,
		    "nothing was applied: no leader known after %d s to "
		    "write cluster-wide keys%s%s; from this member: %s",
		    API_LEADER_WAIT_MS / 1000,
		    r->last_error[0] != '\0' ? "; last leader: " : "",
		    r->last_error,
		    members[0] != '\0' ? members : "no other member known");
	}
	finish(r, 503, 0, errmsg);
}

static void poll_cb(uv_timer_t *t) { attempt(t->data); }

void config_relay(struct daemon *d, const cJSON *changes, config_relay_cb cb,
		  void *arg)
{
	if (daemon_hclient(d) == NULL) {
		cb(arg, 503, 0, changes, "the member is stopping");
		return;
	}
	struct relay *r = tm_calloc(1, sizeof *r);
	r->d = d;
	r->changes = cJSON_Duplicate(changes, true);
	r->body = cJSON_PrintUnformatted(changes);
	r->headers = tm_asprintf(API_FORWARDED_HEADER ": %s\r\n",
				 cluster_member_name(d));
	r->cb = cb;
	r->arg = arg;
	uv_timer_init(daemon_loop(d), &r->timer);
	r->timer.data = r;
	r->deadline = uv_now(daemon_loop(d)) + API_LEADER_WAIT_MS;
	attempt(r);
}

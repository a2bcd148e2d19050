/* The cluster-wide part of a configuration change made on a follower,
 * relayed to the leader (config_relay.h).
 *
 * Happy path: PATCH /1.0/config with only the cluster-wide keys that
 * change, "X-Thermionic-Forwarded: <this member>", pinned to the cluster
 * certificate -> the leader writes them (one replicated transaction) and
 * answers 200 with the index of the entry -> CB(200, index).
 *
 * Failure modes: no leader known or the daemon stopping (503, nothing
 * sent); the leader unreachable (503, nothing sent); contact lost once
 * the request may have reached it (503 that says it may or may not have
 * been applied); the leader refuses (its status and message, e.g. 503 if
 * it lost leadership meanwhile: nothing was applied); a 200 without an
 * index (502). */
#include <stdio.h>
#include <string.h>

#include "internal/api/config_inforce.h"
#include "internal/api/config_relay.h"
#include "internal/api/forward.h"
#include "internal/client/hclient.h"
#include "internal/daemon/cluster.h"
#include "internal/daemon/daemon.h"
#include "internal/lib/mem.h"

/* The leader writes, and its answer waits for the entry to apply. */
#define RELAY_TIMEOUT_MS 30000

struct relay {
	struct hclient_request h;
	char *leader;
	char *body;
	char *headers;
	config_relay_cb cb;
	void *arg;
};

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

static void answered_cb(struct hclient_request *h)
{
	struct relay *r = h->data;
	char errmsg[TM_ERRMSG_SIZE] = "";
	int status = 200;
	uint64_t index = 0;
	if (h->status != 0 && !h->sent) {
		status = 503;
		tm_errmsg_printf(errmsg, "no leader reachable: %s", h->errmsg);
	} else if (h->status != 0) {
		status = 503;
		tm_errmsg_printf(
		    errmsg,
		    "lost contact with the leader %s while the change "
		    "was in flight: it may or may not have been applied "
		    "(%s)",
		    r->leader, h->errmsg);
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
	r->cb(r->arg, status, index, errmsg);
	tm_free(r->leader);
	cJSON_free(r->body);
	tm_free(r->headers);
	tm_free(r);
}

void config_relay(struct daemon *d, const cJSON *changes, config_relay_cb cb,
		  void *arg)
{
	const char *leader = cluster_leader_address(d);
	struct hclient *client = daemon_hclient(d);
	if (client == NULL) {
		cb(arg, 503, 0, "the member is stopping");
		return;
	}
	if (leader == NULL) {
		cb(arg, 503, 0,
		   "no leader known to write cluster-wide keys: an election "
		   "may be under way; retry shortly");
		return;
	}
	struct relay *r = tm_calloc(1, sizeof *r);
	r->leader = tm_strdup(leader);
	r->body = cJSON_PrintUnformatted(changes);
	r->headers = tm_asprintf(API_FORWARDED_HEADER ": %s\r\n",
				 cluster_member_name(d));
	r->cb = cb;
	r->arg = arg;
	r->h.data = r;
	r->h.method = "PATCH";
	r->h.address = r->leader;
	r->h.path = "/1.0/config";
	r->h.pin = cluster_fingerprint(d);
	r->h.body = r->body;
	r->h.body_len = strlen(r->body);
	r->h.content_type = "application/json";
	r->h.headers = r->headers;
	r->h.timeout_ms = RELAY_TIMEOUT_MS;
	if (hclient_send(client, &r->h, answered_cb) != 0) {
		char why[TM_ERRMSG_SIZE];
		tm_errmsg_printf(why, "cannot relay to the leader: %s",
				 r->h.errmsg);
		tm_free(r->leader);
		cJSON_free(r->body);
		tm_free(r->headers);
		tm_free(r);
		cb(arg, 503, 0, why);
	}
}

/* Global reads that must see a raft index first, served by this member
 * without moving the query:
 *
 * - "min_index": N (read-your-writes): run once this member has applied
 *   N;
 * - a linearizable read on a follower (a read index): ask the leader
 *   (GET /internal/cluster/read-index) for an index it confirmed as
 *   committed while still leading (a raft barrier), wait until this member
 *   has applied it, then read this member's copy. The read sees every
 *   write acknowledged before it started, as on the leader.
 *
 * Waiting polls the applied index every WAIT_POLL_MS, within the
 * request's statement timeout; a member that does not get there answers
 * 504 with how far it got. */
#include <math.h>
#include <stdio.h>

#include "internal/api/forward.h"
#include "internal/api/sql.h"
#include "internal/api/sql_call.h"
#include "internal/api/sql_wait.h"
#include "internal/client/hclient.h"
#include "internal/daemon/cluster.h"
#include "internal/daemon/daemon.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"

#define WAIT_POLL_MS 1

struct sql_wait {
	struct daemon *d;
	struct sql_call *call;
	sql_wait_run_fn run;
	uint64_t index;
	uint64_t deadline; /* uv_now, ms */
	uv_timer_t timer;
	struct hclient_request ask;
	char *leader;
	int error_status;
	char errmsg[TM_ERRMSG_SIZE];
};

static void closed_cb(uv_handle_t *h)
{
	struct sql_wait *w = h->data;
	if (w->error_status != 0) {
		sql_call_refuse(w->call, w->error_status, w->errmsg);
	} else {
		w->run(w->d, w->call);
	}
	hclient_request_clear(&w->ask);
	tm_free(w->leader);
	tm_free(w);
}

/* Stop waiting: run the call (STATUS 0) or refuse it. */
static void finish(struct sql_wait *w, int http_status)
{
	w->error_status = http_status;
	uv_timer_stop(&w->timer);
	uv_close((uv_handle_t *)&w->timer, closed_cb);
}

static void poll_cb(uv_timer_t *t)
{
	struct sql_wait *w = t->data;
	uint64_t applied = cluster_applied_index(w->d);
	if (applied >= w->index) {
		finish(w, 0);
		return;
	}
	if (uv_now(t->loop) >= w->deadline) {
		snprintf(w->errmsg, sizeof w->errmsg,
			 "this member has applied the cluster's log up to "
			 "index %llu, and did not reach %llu in time",
			 (unsigned long long)applied,
			 (unsigned long long)w->index);
		finish(w, 504);
	}
}

static void wait_for_index(struct sql_wait *w)
{
	uv_timer_start(&w->timer, poll_cb, 0, WAIT_POLL_MS);
}

static void asked(struct hclient_request *req)
{
	struct sql_wait *w = req->data;
	if (req->status != 0 || req->http_status != 200) {
		snprintf(w->errmsg, sizeof w->errmsg,
			 "the leader %s could not confirm a read index: %.160s",
			 w->leader,
			 req->status != 0
			     ? req->errmsg
			     : (req->body_out != NULL ? req->body_out
						      : "no answer"));
		finish(w, 503);
		return;
	}
	cJSON *root = cJSON_ParseWithLength(req->body_out, req->body_out_len);
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(root, "metadata");
	const cJSON *index = cJSON_GetObjectItemCaseSensitive(meta, "index");
	if (!cJSON_IsNumber(index) || index->valuedouble < 0) {
		cJSON_Delete(root);
		snprintf(w->errmsg, sizeof w->errmsg,
			 "the leader %s sent a malformed read index",
			 w->leader);
		finish(w, 502);
		return;
	}
	uint64_t n = (uint64_t)index->valuedouble;
	cJSON_Delete(root);
	if (n > w->index) {
		w->index = n;
	}
	wait_for_index(w);
}

void sql_wait_then_run(struct daemon *d, struct sql_call *call,
		       uint64_t min_index, bool read_index, sql_wait_run_fn run)
{
	struct sql_wait *w = tm_calloc(1, sizeof *w);
	w->d = d;
	w->call = call;
	w->run = run;
	w->index = min_index;
	uv_loop_t *loop = daemon_loop(d);
	w->deadline = uv_now(loop) + call->timeout_ms;
	uv_timer_init(loop, &w->timer);
	w->timer.data = w;
	if (!read_index) {
		wait_for_index(w);
		return;
	}
	const char *leader = cluster_leader_address(d);
	struct hclient *c = daemon_hclient(d);
	if (leader == NULL || c == NULL) {
		snprintf(w->errmsg, sizeof w->errmsg,
			 "no leader known to confirm a linearizable read: an "
			 "election may be under way, or too few members are "
			 "reachable; retry shortly");
		finish(w, 503);
		return;
	}
	w->leader = tm_strdup(leader);
	w->ask.data = w;
	w->ask.method = "GET";
	w->ask.address = w->leader;
	w->ask.path = "/internal/cluster/read-index";
	w->ask.pin = cluster_fingerprint(d);
	w->ask.timeout_ms = call->timeout_ms;
	if (hclient_send(c, &w->ask, asked) != 0) {
		snprintf(w->errmsg, sizeof w->errmsg,
			 "cannot ask the leader for a read index");
		finish(w, 503);
	}
}

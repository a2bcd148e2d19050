/* GET /1.0/cluster/check: are the members' databases the same? (doc/
 * consistency.md, "Content check").
 *
 * Happy path, on the leader (a follower relays the request to it):
 *   1. propose a CHECK entry (gdb_check); once applied here its index N is
 *      known, and every member, applying it, hashes its database as it
 *      stands at N;
 *   2. one notifier call, GET /internal/cluster/check?index=N&wait_ms=W, to
 *      every member, this one included: each answers with its hash chain
 *      and content hash at N (check_answer.h);
 *   3. each member is compared with this one (the leader): ok, diverged
 *      (which hash differs), behind (not at N within W), unreachable (no
 *      answer, or an error); the answer lists every member in name order.
 *      A member diverged by content, or ok again, is marked so in the
 *      member list (cluster_heartbeat_content_verdict).
 *
 * Failure modes: no global database (503); the CHECK entry not committed
 * (the write's status: 503 not leader/shutting down, 507 disk full); this
 * member's own hash failed (500, with why); the member list unreadable
 * (500). A standalone member checks itself alone: its verdict is ok when
 * its hash was computed.
 *
 * The same check runs without a request every cluster.check_interval
 * seconds on the leader (api_cluster_check_start, from the heartbeat's
 * tick). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal/api/api.h"
#include "internal/api/check_answer.h"
#include "internal/api/cluster_http.h"
#include "internal/client/hclient.h"
#include "internal/daemon/cluster.h"
#include "internal/daemon/daemon.h"
#include "internal/db/cluster/chain.h"
#include "internal/db/cluster/gdb.h"
#include "internal/lib/mem.h"
#include "internal/notify/notify.h"

/* How long each member may take to apply N and hash its database. */
#define CHECK_WAIT_MS 10000
#define REQUEST_TIMEOUT_MS (CHECK_WAIT_MS + 2000)
#define SELF_POLL_MS 5

struct check {
	api_check_cb cb;
	void *arg;
	struct daemon *d;
	struct gdb_request greq;
	uint64_t index;
	struct notify_req nreq;
	char *path;
	cJSON *list;	  /* the member list, owned */
	uv_timer_t timer; /* standalone: waits for this member's hash */
	uint64_t deadline;
	/* Standalone: the answer, given once the timer is closed. */
	int status;
	char errmsg[TM_ERRMSG_SIZE];
	cJSON *out;
};

/* Answer with an error (CB's list NULL) or with LIST, and free C. */
static void check_free(struct check *c);

static void finish_error(struct check *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void finish_error(struct check *c, int status, const char *fmt, ...)
{
	char errmsg[TM_ERRMSG_SIZE];
	va_list args;
	va_start(args, fmt);
	vsnprintf(errmsg, sizeof errmsg, fmt, args);
	va_end(args);
	c->cb(c->arg, status, errmsg, NULL);
	check_free(c);
}

static void finish(struct check *c, cJSON *list)
{
	c->cb(c->arg, 200, "", list);
	check_free(c);
}

static void check_free(struct check *c)
{
	cJSON_Delete(c->list);
	tm_free(c->path);
	tm_free(c);
}

static cJSON *entry(const char *name, const char *address, const char *verdict,
		    const struct check_answer *a, const char *message)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddStringToObject(o, "address", address);
	cJSON_AddStringToObject(o, "verdict", verdict);
	cJSON_AddNumberToObject(o, "index", a != NULL ? (double)a->index : 0);
	cJSON_AddNumberToObject(o, "applied_index",
				a != NULL ? (double)a->applied_index : 0);
	cJSON_AddStringToObject(o, "chain", a != NULL ? a->chain : "");
	cJSON_AddNumberToObject(o, "chain_base",
				a != NULL ? (double)a->chain_base : 0);
	cJSON_AddStringToObject(o, "content", a != NULL ? a->content : "");
	cJSON_AddStringToObject(o, "message", message);
	return o;
}

/* "node2: connection refused" -> "connection refused". */
static const char *without_name(const char *message, const char *name)
{
	size_t n = strlen(name);
	return strncmp(message, name, n) == 0 &&
		       strncmp(message + n, ": ", 2) == 0
		   ? message + n + 2
		   : message;
}

/* Member A against the leader's REF at the same index. */
static cJSON *judge(struct check *c, const struct notify_result *r,
		    const struct check_answer *ref)
{
	struct check_answer a;
	char message[TM_ERRMSG_SIZE] = "";
	if (!r->ok) {
		bool behind = r->http_status == 504;
		return entry(r->name, r->address,
			     behind ? "behind" : "unreachable", NULL,
			     without_name(r->errmsg, r->name));
	}
	if (check_answer_parse(r->body, r->body_len, &a, message) != 0 ||
	    a.index != c->index) {
		return entry(r->name, r->address, "unreachable", NULL,
			     message[0] != '\0' ? message
						: "answered for another index");
	}
	bool content = strcmp(a.content, ref->content) == 0;
	bool comparable = a.chain_base == ref->chain_base;
	bool chain = !comparable || strcmp(a.chain, ref->chain) == 0;
	if (!content) {
		snprintf(message, sizeof message,
			 "diverged from the leader at index %" PRIu64
			 ": content hash %s, leader %s%s",
			 c->index, a.content, ref->content,
			 chain ? "" : "; hash chain differs too");
	} else if (!chain) {
		snprintf(message, sizeof message,
			 "diverged from the leader at index %" PRIu64
			 ": hash chain %s, leader %s",
			 c->index, a.chain, ref->chain);
	} else if (!comparable) {
		snprintf(
		    message, sizeof message,
		    "hash chain not comparable: it starts at index %" PRIu64
		    ", the leader's at %" PRIu64,
		    a.chain_base, ref->chain_base);
	}
	cluster_heartbeat_content_verdict(c->d, r->name,
					  content ? "" : message);
	return entry(r->name, r->address, content && chain ? "ok" : "diverged",
		     &a, message);
}

static void called_cb(struct notify_req *nreq)
{
	struct check *c = nreq->data;
	const char *self = cluster_member_name(c->d);
	const struct notify_result *mine = notify_result_of(nreq, self);
	struct check_answer ref;
	char errmsg[TM_ERRMSG_SIZE] = "";
	cJSON *out = NULL;
	if (mine == NULL) {
		snprintf(errmsg, sizeof errmsg, "not in the member list");
	} else if (!mine->ok) {
		snprintf(errmsg, sizeof errmsg, "%s", mine->errmsg);
	} else if (check_answer_parse(mine->body, mine->body_len, &ref,
				      errmsg) == 0) {
		out = cJSON_CreateArray();
		for (size_t i = 0; i < nreq->n_results; i++) {
			cJSON_AddItemToArray(out,
					     judge(c, &nreq->results[i], &ref));
		}
	}
	notify_req_clear(nreq);
	if (out != NULL) {
		finish(c, out);
	} else {
		finish_error(c, 500,
			     "this member could not check itself at index "
			     "%" PRIu64 ": %s",
			     c->index, errmsg);
	}
}

static void collect(struct check *c)
{
	char errmsg[TM_ERRMSG_SIZE] = "";
	c->list = cluster_member_list(c->d, true, errmsg);
	struct hclient *client = daemon_hclient(c->d);
	if (c->list == NULL || client == NULL) {
		finish_error(c, client == NULL ? 503 : 500, "%s",
			     client == NULL ? "the member is stopping"
					    : errmsg);
		return;
	}
	size_t n = (size_t)cJSON_GetArraySize(c->list);
	struct notify_member *members = tm_calloc(n + 1, sizeof *members);
	size_t i = 0;
	const cJSON *m;
	cJSON_ArrayForEach(m, c->list)
	{
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(m, "name");
		const cJSON *address =
		    cJSON_GetObjectItemCaseSensitive(m, "address");
		if (cJSON_IsString(name) && cJSON_IsString(address)) {
			members[i++] = (struct notify_member){
			    name->valuestring, address->valuestring,
			    cluster_fingerprint(c->d)};
		}
	}
	c->path =
	    tm_asprintf("/internal/cluster/check?index=%" PRIu64 "&wait_ms=%d",
			c->index, CHECK_WAIT_MS);
	c->nreq.data = c;
	c->nreq.method = "GET";
	c->nreq.path = c->path;
	c->nreq.timeout_ms = REQUEST_TIMEOUT_MS;
	c->nreq.policy = NOTIFY_TRY_ALL;
	c->nreq.max_concurrent = 64; /* each mostly waits */
	int rv = notify_call(client, &c->nreq, members, i, called_cb);
	tm_free(members);
	if (rv != 0) {
		finish_error(c, 500, "%s", c->nreq.errmsg);
	}
}

/* ---- standalone: this member alone ---- */

static void timer_closed_cb(uv_handle_t *h)
{
	struct check *c = h->data;
	c->cb(c->arg, c->status, c->errmsg, c->out);
	check_free(c);
}

static void self_poll_cb(uv_timer_t *t)
{
	struct check *c = t->data;
	struct gdb *g = daemon_gdb(c->d);
	struct gdb_check_result r;
	char errmsg[TM_ERRMSG_SIZE] = "";
	int rv =
	    g != NULL ? gdb_check_result(g, c->index, &r, errmsg) : TM_SHUTDOWN;
	if (rv == TM_BUSY && uv_now(t->loop) < c->deadline) {
		return;
	}
	if (rv != 0) {
		c->status = 500;
		snprintf(c->errmsg, sizeof c->errmsg,
			 "this member could not check itself at index %" PRIu64
			 ": %.180s",
			 c->index,
			 g == NULL ? "the member is stopping" : errmsg);
	} else {
		struct check_answer a = {.index = r.index,
					 .applied_index =
					     cluster_applied_index(c->d),
					 .chain_base = r.chain_base};
		gdb_chain_hex(r.chain, a.chain);
		gdb_chain_hex(r.content, a.content);
		const char *name = cluster_member_name(c->d);
		cJSON *out = cJSON_CreateArray();
		cJSON_AddItemToArray(
		    out, entry(name[0] != '\0' ? name : "this member", "", "ok",
			       &a, ""));
		c->status = 200;
		c->out = out;
	}
	uv_timer_stop(t);
	uv_close((uv_handle_t *)t, timer_closed_cb);
}

static void self_only(struct check *c)
{
	uv_loop_t *loop = daemon_loop(c->d);
	c->deadline = uv_now(loop) + CHECK_WAIT_MS;
	uv_timer_init(loop, &c->timer);
	c->timer.data = c;
	uv_timer_start(&c->timer, self_poll_cb, 0, SELF_POLL_MS);
}

static void proposed_cb(struct gdb_request *greq, int status)
{
	struct check *c = greq->data;
	if (status != 0) {
		int http = api_cluster_http_status(status);
		char errmsg[TM_ERRMSG_SIZE];
		snprintf(errmsg, sizeof errmsg, "%s", greq->errmsg);
		gdb_request_clear(greq);
		finish_error(c, http, "content check: %s", errmsg);
		return;
	}
	c->index = greq->index;
	gdb_request_clear(greq);
	if (cluster_fingerprint(c->d)[0] == '\0') {
		self_only(c);
	} else {
		collect(c);
	}
}

void api_cluster_check_start(struct daemon *d, api_check_cb cb, void *arg)
{
	struct gdb *g = daemon_gdb(d);
	if (g == NULL) {
		cb(arg, 503, "global database not available yet", NULL);
		return;
	}
	struct check *c = tm_calloc(1, sizeof *c);
	c->cb = cb;
	c->arg = arg;
	c->d = d;
	c->greq.data = c;
	gdb_check(g, &c->greq, proposed_cb);
}

static void answered(void *arg, int status, const char *errmsg, cJSON *list)
{
	struct rest_request *req = arg;
	if (list != NULL) {
		rest_respond_sync(req, list, NULL);
	} else {
		rest_respond_error(req, status, "%s", errmsg);
	}
}

void api_cluster_check_get(struct rest_request *req)
{
	if (api_to_leader(req)) {
		return;
	}
	api_cluster_check_start(rest_server_data(req), answered, req);
}

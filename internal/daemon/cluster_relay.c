/* A follower's SQL writes, relayed to the leader in batches
 * (cluster.h: cluster_relay_write; the leader's side is
 * internal/api/sql_batch.c).
 *
 * One batch is in flight at a time: writes that arrive meanwhile wait and
 * go together in the next one, as the leader's own group commit gathers
 * them. A batch is one POST /internal/cluster/sql-batch on the members'
 * kept-alive connections whose body frames (internal/lib/frames.h) the
 * clients' bodies; the answer frames each write's status and answer,
 * which goes back to its client as if the leader had answered it.
 *
 * Failure modes, per batch:
 * - nothing reached the leader (refused, unreachable, wrong certificate),
 *   or the target answered that it does not lead: every write is handed
 *   to FALLBACK (api_to_leader: wait for a leader, relay it alone);
 * - the connection failed or timed out once the batch may have reached
 *   the leader, or the target stopped leading in this member's view for
 *   a second: 503 "lost contact ... may or may not have been applied"
 *   for every write;
 * - any other refusal of the whole batch: that status and message for
 *   every write; a malformed answer: 502;
 * - per write, RETRY (the leader stopped leading before proposing it,
 *   nothing applied): FALLBACK. */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "internal/daemon/cluster_internal.h"
#include "internal/daemon/daemon_priv.h"
#include "internal/lib/frames.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"
#include "internal/rest/rest.h"

#define RELAY_MAX_WRITES 256
#define RELAY_MAX_BYTES (4u << 20)
#define RELAY_WATCH_MS 150
#define RELAY_LEADER_GRACE_MS 1000

struct relay_write {
	struct rest_request *req;
	cluster_relay_fallback_fn fallback;
	struct relay_write *next;
};

struct relay_batch {
	struct daemon *d;
	struct hclient_request h;
	char *leader; /* owned */
	struct frames_buf body;
	struct relay_write *writes;
	size_t n;
	uv_timer_t watch;
	uint64_t not_leading_since;
	bool leader_lost;
};

static void send_next(struct daemon *d);

static void free_writes(struct relay_write *w)
{
	while (w != NULL) {
		struct relay_write *next = w->next;
		tm_free(w);
		w = next;
	}
}

static void watch_closed(uv_handle_t *h)
{
	struct relay_batch *b = h->data;
	free_writes(b->writes);
	tm_free(b->leader);
	tm_free(b->body.p);
	tm_free(b);
}

/* Every write of B handed to its fallback. */
static void fall_back(struct relay_batch *b)
{
	for (struct relay_write *w = b->writes; w != NULL; w = w->next) {
		w->fallback(w->req);
	}
}

static void refuse_all(struct relay_batch *b, int status, const char *message)
{
	for (struct relay_write *w = b->writes; w != NULL; w = w->next) {
		rest_respond_error(w->req, status, "%s", message);
	}
}

/* The message of an error envelope, or the body as it is. */
static char *envelope_message(const struct hclient_request *h)
{
	cJSON *root = cJSON_ParseWithLength(h->body_out, h->body_out_len);
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
	char *msg = cJSON_IsString(e) ? tm_strdup(e->valuestring)
		    : h->body_out != NULL
			? tm_strndup(h->body_out, h->body_out_len)
			: tm_strdup("no answer");
	cJSON_Delete(root);
	return msg;
}

/* Hand each write its answer from the leader's frames; false if they do
 * not match the batch (nothing answered then). */
static bool answer_each(struct relay_batch *b)
{
	const char *body = b->h.body_out;
	size_t len = b->h.body_out_len;
	size_t pos = 0;
	uint64_t head[2];
	const char *p;
	size_t plen;
	size_t count = 0;
	while (frames_next(body, len, &pos, head, 2, &p, &plen) == 1) {
		count++;
	}
	if (count != b->n || pos != len) {
		return false;
	}
	pos = 0;
	for (struct relay_write *w = b->writes; w != NULL; w = w->next) {
		(void)frames_next(body, len, &pos, head, 2, &p, &plen);
		if (head[1] != 0) {
			w->fallback(w->req);
		} else if (head[0] == 200) {
			char *json = tm_strndup(p, plen);
			rest_respond_sync(w->req, cJSON_CreateRaw(json), NULL);
			tm_free(json);
		} else {
			rest_respond_error(w->req, (int)head[0], "%.*s",
					   (int)plen, p);
		}
	}
	return true;
}

static void batch_done(struct hclient_request *h)
{
	struct relay_batch *b = h->data;
	struct daemon *d = b->d;
	char msg[2 * TM_ERRMSG_SIZE];
	if (h->status == 0 && h->http_status == 200) {
		if (!answer_each(b)) {
			snprintf(msg, sizeof msg,
				 "the leader %s answered relayed writes in a "
				 "form this member does not understand",
				 b->leader);
			refuse_all(b, 502, msg);
		}
	} else if (h->status == 0 && h->http_status == 503) {
		fall_back(b); /* it does not lead (any more): nothing ran */
	} else if (h->status == 0) {
		char *e = envelope_message(h);
		refuse_all(b, (int)h->http_status, e);
		tm_free(e);
	} else if (!h->sent) {
		fall_back(b);
	} else {
		snprintf(msg, sizeof msg,
			 "lost contact with the leader %.64s while the request "
			 "was in flight: it may or may not have been applied "
			 "(%.160s)",
			 b->leader,
			 b->leader_lost ? "it no longer leads as far as this "
					  "member knows; retry"
					: h->errmsg);
		refuse_all(b, 503, msg);
	}
	hclient_request_clear(h);
	d->relay.inflight = NULL;
	uv_timer_stop(&b->watch);
	uv_close((uv_handle_t *)&b->watch, watch_closed);
	send_next(d);
}

static void watch_cb(uv_timer_t *t)
{
	struct relay_batch *b = t->data;
	const char *leader = cluster_leader_address(b->d);
	uint64_t now = uv_now(t->loop);
	if (leader != NULL && strcmp(leader, b->leader) == 0) {
		b->not_leading_since = 0;
		return;
	}
	if (b->not_leading_since == 0) {
		b->not_leading_since = now;
	}
	if (now - b->not_leading_since >= RELAY_LEADER_GRACE_MS) {
		LOGD("relay: %s no longer leads; giving up on %zu write(s)",
		     b->leader, b->n);
		b->leader_lost = true;
		uv_timer_stop(t);
		hclient_cancel(&b->h);
	}
}

/* Take up to RELAY_MAX_WRITES pending writes (RELAY_MAX_BYTES of bodies)
 * into B. */
static void take_pending(struct cluster_relay *r, struct relay_batch *b)
{
	struct relay_write **tail = &b->writes;
	while (r->head != NULL && b->n < RELAY_MAX_WRITES) {
		struct relay_write *w = r->head;
		size_t len = 0;
		const char *body = rest_body(w->req, &len);
		if (b->n > 0 && b->body.n + len > RELAY_MAX_BYTES) {
			break;
		}
		frames_put(&b->body, NULL, 0, body, len);
		r->head = w->next;
		if (r->head == NULL) {
			r->tail = NULL;
		}
		w->next = NULL;
		*tail = w;
		tail = &w->next;
		b->n++;
	}
}

static void send_next(struct daemon *d)
{
	struct cluster_relay *r = &d->relay;
	if (r->inflight != NULL || r->head == NULL) {
		return;
	}
	struct relay_batch *b = tm_calloc(1, sizeof *b);
	b->d = d;
	take_pending(r, b);
	const char *leader = cluster_leader_address(d);
	struct hclient *c = daemon_hclient(d);
	b->leader = tm_strdup(leader != NULL ? leader : "");
	uv_timer_init(d->loop, &b->watch);
	b->watch.data = b;
	b->h = (struct hclient_request){
	    .data = b,
	    .method = "POST",
	    .address = b->leader,
	    .path = "/internal/cluster/sql-batch",
	    .pin = cluster_fingerprint(d),
	    .body = b->body.p,
	    .body_len = b->body.n,
	    .content_type = "application/octet-stream",
	};
	if (leader == NULL || c == NULL ||
	    hclient_send(c, &b->h, batch_done) != 0) {
		fall_back(b);
		uv_close((uv_handle_t *)&b->watch, watch_closed);
		send_next(d);
		return;
	}
	r->inflight = b;
	r->batches++;
	uv_timer_start(&b->watch, watch_cb, RELAY_WATCH_MS, RELAY_WATCH_MS);
}

bool cluster_relay_write(struct daemon *d, struct rest_request *req,
			 cluster_relay_fallback_fn fallback)
{
	size_t len = 0;
	(void)rest_body(req, &len);
	if (cluster_leader_address(d) == NULL || daemon_hclient(d) == NULL ||
	    len > RELAY_MAX_BYTES) {
		return false;
	}
	struct cluster_relay *r = &d->relay;
	struct relay_write *w = tm_calloc(1, sizeof *w);
	w->req = req;
	w->fallback = fallback;
	if (r->tail != NULL) {
		r->tail->next = w;
	} else {
		r->head = w;
	}
	r->tail = w;
	r->writes++;
	send_next(d);
	return true;
}

/* One request relayed to the leader.
 *
 * Happy path: api_forward copies what the leader needs to see into an
 * hclient request (target, body and headers are borrowed from the REST
 * request, valid until it is answered) and starts the watch timer -> the
 * leader answers -> forward_done_cb relays status, Content-Type, ETag and
 * body with rest_respond_raw -> the watch timer is closed and its close
 * callback frees the forward.
 *
 * Failure modes:
 * - already relayed, or a target that is not a path: answered at once;
 * - the target answers 503 with X-Thermionic-Not-Leader (it does not
 *   lead and did nothing): given back to the caller's callback
 *   (API_FORWARD_NOT_LEADER) to take elsewhere, else relayed as it is;
 * - hclient_send refuses (the client is closing): 503 at once;
 * - the leader cannot be reached (nothing sent): 503 "no leader
 *   reachable";
 * - the request may have reached the leader and then the connection
 *   failed or timed out: 503 "lost contact ... may or may not have been
 *   applied";
 * - the client goes away (its connection detached or half-closed, seen
 *   by the watch timer): hclient_cancel, and the eventual answer goes
 *   into the void;
 * - the target stops leading in this member's view for longer than a
 *   grace (seen by the watch timer): hclient_cancel, and 503 "lost
 *   contact ... may or may not have been applied". */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "internal/api/forward.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"

#define FORWARD_WATCH_MS 150

struct forward {
	struct hclient_request h;
	struct rest_request *http;
	uv_timer_t watch;
	char *address; /* owned copies */
	char *pin;
	char *headers;
	bool client_gone;
	bool view; /* changes nothing: any failure may be answered elsewhere */
	bool leader_lost;
	api_forward_leads_fn leads; /* may be NULL */
	uint64_t not_leading_since; /* uv_now; 0 while the target leads */
	api_forward_cb cb;	    /* may be NULL */
	void *cb_arg;
};

bool api_forwarded(const struct rest_request *req)
{
	return rest_header(req, API_FORWARDED_HEADER) != NULL;
}

void api_refuse_not_leader(struct rest_request *req, const char *leader,
			   const char *fmt, ...)
{
	char text[TM_ERRMSG_SIZE];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	char *extra = tm_asprintf("%s: %s\r\n", API_NOT_LEADER_HEADER,
				  leader != NULL ? leader : "");
	rest_respond_error_headers(req, 503, extra, text);
	tm_free(extra);
}

static void watch_close_cb(uv_handle_t *h)
{
	struct forward *f = h->data;
	tm_free(f->address);
	tm_free(f->pin);
	tm_free(f->headers);
	tm_free(f);
}

static void forward_free(struct forward *f)
{
	hclient_request_clear(&f->h);
	uv_timer_stop(&f->watch);
	uv_close((uv_handle_t *)&f->watch, watch_close_cb);
}

/* Has the target stopped leading for longer than the grace? */
static bool leader_gone(struct forward *f, uint64_t now)
{
	if (f->leads == NULL || f->leads(f->http, f->address)) {
		f->not_leading_since = 0;
		return false;
	}
	if (f->not_leading_since == 0) {
		f->not_leading_since = now;
	}
	return now - f->not_leading_since >= API_FORWARD_LEADER_GRACE_MS;
}

static void watch_cb(uv_timer_t *t)
{
	struct forward *f = t->data;
	struct conn *c = rest_conn(f->http);
	if (c == NULL || conn_peer_closed(c)) {
		LOGD("forward: the client went away; canceling the request "
		     "to %s",
		     f->address);
		f->client_gone = true;
	} else if (leader_gone(f, uv_now(t->loop))) {
		LOGD("forward: %s no longer leads; giving up on the request",
		     f->address);
		f->leader_lost = true;
	} else {
		return;
	}
	uv_timer_stop(t);
	hclient_cancel(&f->h);
}

static void relay_answer(struct forward *f)
{
	struct hclient_request *h = &f->h;
	char *extra = tm_asprintf(
	    "%s%s%s%s", h->etag != NULL ? "ETag: " : "",
	    h->etag != NULL ? h->etag : "", h->etag != NULL ? "\r\n" : "",
	    h->http_status >= 400 ? "X-Content-Type-Options: nosniff\r\n" : "");
	rest_respond_raw(f->http, (int)h->http_status, h->content_type_out,
			 h->body_out, h->body_out_len, extra);
	tm_free(extra);
}

/* Did the target refuse the request because it does not lead, doing
 * nothing? Its message into ERRMSG. */
static bool refused_not_leader(const struct hclient_request *h, char *errmsg)
{
	if (h->status != 0 || h->http_status != 503 || h->kept_header == NULL) {
		return false;
	}
	cJSON *root = cJSON_ParseWithLength(h->body_out, h->body_out_len);
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
	snprintf(errmsg, TM_ERRMSG_SIZE, "%s",
		 cJSON_IsString(e) ? e->valuestring : "not the leader");
	cJSON_Delete(root);
	return true;
}

static void forward_done_cb(struct hclient_request *h)
{
	struct forward *f = h->data;
	struct rest_request *http = f->http;
	api_forward_cb cb = f->cb;
	void *cb_arg = f->cb_arg;
	char errmsg[TM_ERRMSG_SIZE];
	if (cb != NULL && !f->client_gone && refused_not_leader(h, errmsg)) {
		forward_free(f);
		cb(cb_arg, API_FORWARD_NOT_LEADER, errmsg);
		return;
	}
	if (h->status != 0 && (!h->sent || f->view) && !f->client_gone &&
	    h->status != TM_TOOBIG && cb != NULL) {
		/* Nothing reached the leader (also when given up on
		 * because it stopped leading), or nothing it could change
		 * (a view): the caller may try again or answer itself. */
		snprintf(errmsg, sizeof errmsg, "%s", h->errmsg);
		forward_free(f);
		cb(cb_arg, API_FORWARD_UNREACHABLE, errmsg);
		return;
	}
	if (h->status == 0) {
		relay_answer(f);
	} else if (f->client_gone) {
		rest_respond_error(http, 503, "the client went away");
	} else if (h->status == TM_TOOBIG) {
		rest_respond_error(http, 502,
				   "the leader's answer cannot be relayed: %s",
				   h->errmsg);
	} else if (!h->sent) {
		rest_respond_error(http, 503, "no leader reachable: %s",
				   h->errmsg);
	} else if (f->leader_lost) {
		rest_respond_error(http, 503,
				   "lost contact with the leader %s while the "
				   "request was in flight: it may or may not "
				   "have been applied (it no longer leads as "
				   "far as this member knows; retry)",
				   f->address);
	} else {
		rest_respond_error(http, 503,
				   "lost contact with the leader %s while the "
				   "request was in flight: it may or may not "
				   "have been applied (%s)",
				   f->address, h->errmsg);
	}
	forward_free(f);
	if (cb != NULL) {
		cb(cb_arg, API_FORWARD_ANSWERED, NULL);
	}
}

static char *forward_headers(const struct rest_request *req,
			     const char *forwarder)
{
	const char *if_match = rest_header(req, "If-Match");
	return tm_asprintf("%s: %s\r\n%s%s%s", API_FORWARDED_HEADER, forwarder,
			   if_match != NULL ? "If-Match: " : "",
			   if_match != NULL ? if_match : "",
			   if_match != NULL ? "\r\n" : "");
}

void api_forward(struct rest_request *req, struct hclient *c,
		 const char *address, const char *pin, const char *forwarder)
{
	api_forward_ex(req, c, address, pin, forwarder, NULL, NULL, NULL);
}

static void forward_start(struct rest_request *req, struct hclient *c,
			  const char *address, const char *pin,
			  const char *forwarder, api_forward_leads_fn leads,
			  unsigned view_timeout_ms, api_forward_cb cb,
			  void *arg);

void api_forward_ex(struct rest_request *req, struct hclient *c,
		    const char *address, const char *pin, const char *forwarder,
		    api_forward_leads_fn leads, api_forward_cb cb, void *arg)
{
	forward_start(req, c, address, pin, forwarder, leads, 0, cb, arg);
}

void api_forward_view(struct rest_request *req, struct hclient *c,
		      const char *address, const char *pin,
		      const char *forwarder, unsigned timeout_ms,
		      api_forward_cb cb, void *arg)
{
	forward_start(req, c, address, pin, forwarder, NULL, timeout_ms, cb,
		      arg);
}

static void forward_start(struct rest_request *req, struct hclient *c,
			  const char *address, const char *pin,
			  const char *forwarder, api_forward_leads_fn leads,
			  unsigned view_timeout_ms, api_forward_cb cb,
			  void *arg)
{
	const char *target = rest_target(req);
	if (api_forwarded(req)) {
		rest_respond_error(req, 503,
				   "not relaying a request relayed already "
				   "(by %s): the members disagree about who "
				   "leads; retry",
				   rest_header(req, API_FORWARDED_HEADER));
		if (cb != NULL) {
			cb(arg, API_FORWARD_ANSWERED, NULL);
		}
		return;
	}
	if (target == NULL || target[0] != '/') {
		rest_respond_error(req, 400, "cannot relay request target %s",
				   target != NULL ? target : "(none)");
		if (cb != NULL) {
			cb(arg, API_FORWARD_ANSWERED, NULL);
		}
		return;
	}
	struct forward *f = tm_calloc(1, sizeof *f);
	f->http = req;
	f->address = tm_strdup(address);
	f->pin = tm_strdup(pin);
	f->headers = forward_headers(req, forwarder);
	f->leads = leads;
	f->cb = cb;
	f->cb_arg = arg;
	f->view = view_timeout_ms > 0;
	f->h.timeout_ms = view_timeout_ms;
	f->h.data = f;
	f->h.method = rest_method(req);
	f->h.address = f->address;
	f->h.path = target;
	f->h.pin = f->pin;
	f->h.body = rest_body(req, &f->h.body_len);
	f->h.content_type = rest_header(req, "Content-Type");
	f->h.headers = f->headers;
	f->h.keep_header = API_NOT_LEADER_HEADER;
	uv_timer_init(hclient_loop(c), &f->watch);
	f->watch.data = f;
	int rv = hclient_send(c, &f->h, forward_done_cb);
	if (rv != 0) {
		rest_respond_error(req, 503, "no leader reachable: %s",
				   f->h.errmsg);
		forward_free(f);
		if (cb != NULL) {
			cb(arg, API_FORWARD_ANSWERED, NULL);
		}
		return;
	}
	uv_timer_start(&f->watch, watch_cb, FORWARD_WATCH_MS, FORWARD_WATCH_MS);
}

/* GET /1.0/events as Server-Sent Events (text/event-stream), on a
 * chunked streaming response:
 *
 *   id: <location>:<sequence>
 *   event: <type>
 *   data: <the event, one JSON line>
 *   <empty line>
 *
 * A first comment line (": subscribed to ...") tells the client the
 * subscription is in place; a comment line every EVENTS_SSE_KEEPALIVE_MS
 * keeps an idle stream alive and finds out whether the client went.
 *
 * Failure modes: the client goes (a write fails, or the keep-alive finds
 * the connection gone); the client is too slow ("event: error" with the
 * error event, then the stream ends); the bus shuts down (the stream
 * ends). The session is freed once its timer is closed and its last
 * write has completed. */
#include <stdio.h>
#include <string.h>

#include "internal/events/stream.h"
#include "internal/lib/assert.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"

struct sse_session {
	struct rest_request *req; /* NULL once the stream has ended */
	struct events_sub *sub;	  /* NULL once unsubscribed */
	uv_timer_t keepalive;
	size_t pending; /* writes not completed */
	bool timer_closed;
};

static void sse_maybe_free(struct sse_session *s)
{
	if (s->req == NULL && s->timer_closed && s->pending == 0) {
		tm_free(s);
	}
}

static void sse_timer_close_cb(uv_handle_t *h)
{
	struct sse_session *s = h->data;
	s->timer_closed = true;
	sse_maybe_free(s);
}

static void sse_end(struct sse_session *s)
{
	if (s->req == NULL) {
		return;
	}
	if (s->sub != NULL) {
		events_unsubscribe(s->sub);
		s->sub = NULL;
	}
	struct rest_request *req = s->req;
	s->req = NULL;
	uv_close((uv_handle_t *)&s->keepalive, sse_timer_close_cb);
	rest_stream_end(req);
}

static void sse_pump(struct sse_session *s);

static void sse_write_cb(struct rest_request *req, void *arg, int status)
{
	(void)req;
	struct sse_session *s = arg;
	s->pending--;
	if (status != 0) {
		sse_end(s);
	} else {
		sse_pump(s);
	}
	sse_maybe_free(s);
}

static bool sse_write(struct sse_session *s, const char *text, size_t len)
{
	if (rest_stream_write(s->req, text, len, sse_write_cb, s) != 0) {
		sse_end(s);
		return false;
	}
	s->pending++;
	return true;
}

static bool sse_gone(struct sse_session *s)
{
	struct conn *c = rest_conn(s->req);
	return c == NULL || conn_peer_closed(c);
}

static void sse_pump(struct sse_session *s)
{
	while (s->req != NULL && s->sub != NULL) {
		struct conn *c = rest_conn(s->req);
		if (c == NULL) {
			sse_end(s);
			return;
		}
		if (conn_write_queue_size(c) >= EVENTS_STREAM_WINDOW) {
			return;
		}
		struct events_msg *m = events_sub_pop(s->sub);
		if (m == NULL) {
			return;
		}
		char *text =
		    tm_asprintf("id: %s:%llu\nevent: %s\ndata: %s\n\n",
				m->location, (unsigned long long)m->sequence,
				events_type_name(m->type), m->text);
		events_msg_unref(m);
		bool ok = sse_write(s, text, strlen(text));
		tm_free(text);
		if (!ok) {
			return;
		}
	}
}

static void sse_keepalive_cb(uv_timer_t *t)
{
	struct sse_session *s = t->data;
	static const char line[] = ": keep-alive\n\n";
	if (sse_gone(s)) {
		sse_end(s);
		return;
	}
	sse_write(s, line, sizeof line - 1);
}

static void sse_ready(struct events_sub *sub)
{
	sse_pump(events_sub_data(sub));
}

static void sse_overflow(struct events_sub *sub, uint64_t dropped)
{
	struct sse_session *s = events_sub_data(sub);
	char *last = events_slow_message(dropped);
	char *text = tm_asprintf("event: error\ndata: %s\n\n", last);
	LOGI("events: client too slow, %llu events dropped, disconnecting",
	     (unsigned long long)dropped);
	if (sse_write(s, text, strlen(text))) {
		sse_end(s);
	}
	tm_free(text);
	tm_free(last);
}

static void sse_shutdown(struct events_sub *sub)
{
	sse_end(events_sub_data(sub));
}

static const struct events_sub_ops sse_ops = {
    .ready = sse_ready,
    .overflow = sse_overflow,
    .shutdown = sse_shutdown,
};

void events_sse_serve(struct events_bus *b, const struct events_sub_config *cfg,
		      struct rest_request *req)
{
	if (rest_stream_begin(req, 200, "text/event-stream",
			      "Cache-Control: no-cache\r\n") != 0) {
		rest_stream_end(req);
		return;
	}
	struct sse_session *s = tm_calloc(1, sizeof *s);
	s->req = req;
	int rv = uv_timer_init(rest_loop(req), &s->keepalive);
	INVARIANT(rv == 0);
	s->keepalive.data = s;
	uv_timer_start(&s->keepalive, sse_keepalive_cb, EVENTS_SSE_KEEPALIVE_MS,
		       EVENTS_SSE_KEEPALIVE_MS);
	char types[64] = "";
	for (unsigned t = 1; t <= EVENTS_LOGGING; t <<= 1) {
		if ((cfg->types & t) != 0) {
			snprintf(types + strlen(types),
				 sizeof types - strlen(types), "%s%s",
				 types[0] != '\0' ? "," : "",
				 events_type_name(t));
		}
	}
	char *hello = tm_asprintf(": subscribed to %s\n\n", types);
	bool ok = sse_write(s, hello, strlen(hello));
	tm_free(hello);
	if (ok) {
		s->sub = events_subscribe(b, cfg, &sse_ops, s);
	}
}

/* Server and connection lifecycle.
 *
 * Happy path of a connection: rest_server_add_conn starts reading with the
 * idle timer (IDLE); the first byte of a request starts the read timer
 * (READING); once the request is complete, reading and the timer stop and
 * the handler runs (HANDLING); its response is queued and the connection
 * goes back to IDLE, parsing at once any bytes the client pipelined (a
 * zero-delay "kick" of the timer, so that the next handler never runs
 * inside the previous handler's rest_respond_* call).
 *
 * Failure modes:
 * - idle timeout, or EOF between requests: close quietly;
 * - EOF or reset seen (conn_peer_closed) once a request is answered: close,
 *   dropping the requests it pipelined after it;
 * - read timeout: 408, then close;
 * - malformed request or a limit exceeded: 400/413/431, then close;
 * - EOF (half-close) while a request is handled: answer it, then close;
 * - stream error or failed write: close; a request still in its handler is
 *   detached and its response dropped;
 * - rest_server_close: every connection is closed as above.
 *
 * Closing is gathered: a connection's conn and timer each clear their alive
 * flag in their close callback and call conn_maybe_free(); the server's
 * close callback runs once its last connection and its own timer are gone. */
#include <stdio.h>
#include <string.h>

#include "internal/lib/assert.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"
#include "internal/rest/internal.h"

static const struct rest_limits default_limits = {
    .max_header_bytes = 16 * 1024,
    .max_body_bytes = 8 * 1024 * 1024,
    .read_timeout_ms = 30 * 1000,
    .idle_timeout_ms = 60 * 1000,
};

static const char *state_names[] = {
    [REST_CONN_IDLE] = "idle",	       [REST_CONN_READING] = "reading",
    [REST_CONN_HANDLING] = "handling", [REST_CONN_UPGRADING] = "upgrading",
    [REST_CONN_CLOSING] = "closing",
};

static void server_maybe_closed(struct rest_server *s)
{
	if (!s->closing || s->conns != NULL || s->close_timer_alive) {
		return;
	}
	void (*cb)(void *data) = s->close_cb;
	void *data = s->close_data;
	tm_free(s);
	if (cb != NULL) {
		cb(data);
	}
}

static void server_timer_close_cb(uv_handle_t *handle)
{
	struct rest_server *s = handle->data;
	s->close_timer_alive = false;
	server_maybe_closed(s);
}

int rest_server_init(uv_loop_t *loop, const struct rest_route *routes,
		     size_t n_routes, rest_trust_cb trust_cb, void *data,
		     struct rest_server **out)
{
	PRE(loop != NULL && (routes != NULL || n_routes == 0));
	struct rest_server *s = tm_calloc(1, sizeof *s);
	s->loop = loop;
	s->routes = routes;
	s->n_routes = n_routes;
	s->trust_cb = trust_cb;
	s->data = data;
	s->limits = default_limits;
	if (uv_timer_init(loop, &s->close_timer) != 0) {
		tm_free(s);
		return TM_IO;
	}
	s->close_timer.data = s;
	s->close_timer_alive = true;
	*out = s;
	return 0;
}

void rest_server_set_limits(struct rest_server *s,
			    const struct rest_limits *limits)
{
	s->limits = *limits;
	if (s->limits.max_header_bytes == 0) {
		s->limits.max_header_bytes = default_limits.max_header_bytes;
	}
	if (s->limits.max_body_bytes == 0) {
		s->limits.max_body_bytes = default_limits.max_body_bytes;
	}
	if (s->limits.read_timeout_ms == 0) {
		s->limits.read_timeout_ms = default_limits.read_timeout_ms;
	}
	if (s->limits.idle_timeout_ms == 0) {
		s->limits.idle_timeout_ms = default_limits.idle_timeout_ms;
	}
}

static void conn_set_state(struct rest_conn *rc, enum rest_conn_state state)
{
	LOGT("rest: %s: %s -> %s", rc->peer, state_names[rc->state],
	     state_names[state]);
	rc->state = state;
}

static void conn_unlink(struct rest_conn *rc)
{
	struct rest_server *s = rc->server;
	if (rc->prev != NULL) {
		rc->prev->next = rc->next;
	} else {
		s->conns = rc->next;
	}
	if (rc->next != NULL) {
		rc->next->prev = rc->prev;
	}
}

static void conn_maybe_free(struct rest_conn *rc)
{
	if (rc->conn_alive || rc->timer_alive) {
		return;
	}
	struct rest_server *s = rc->server;
	if (rc->upgrade_cb != NULL) {
		rest_upgrade_cb cb = rc->upgrade_cb;
		rc->upgrade_cb = NULL;
		cb(rc->upgrade_arg, NULL, NULL, 0);
	}
	conn_unlink(rc);
	rest_parser_close(&rc->parser);
	rest_admission_clear(&rc->admission);
	tm_free(rc->in);
	tm_free(rc);
	server_maybe_closed(s);
}

static void server_conn_close_cb(struct conn *c)
{
	struct rest_conn *rc = conn_data(c);
	rc->conn = NULL;
	rc->conn_alive = false;
	conn_maybe_free(rc);
}

static void conn_timer_close_cb(uv_handle_t *handle)
{
	struct rest_conn *rc = handle->data;
	rc->timer_alive = false;
	conn_maybe_free(rc);
}

static void conn_detach_request(struct rest_conn *rc)
{
	if (rc->req != NULL) {
		rc->req->rc = NULL;
		rc->req = NULL;
	}
}

void rest_conn_close(struct rest_conn *rc)
{
	if (rc->state == REST_CONN_CLOSING) {
		return;
	}
	conn_set_state(rc, REST_CONN_CLOSING);
	conn_detach_request(rc);
	uv_timer_stop(&rc->timer);
	uv_close((uv_handle_t *)&rc->timer, conn_timer_close_cb);
	if (rc->conn != NULL) {
		conn_read_stop(rc->conn);
		conn_close(rc->conn, server_conn_close_cb);
	}
}

static void conn_resume_pipeline(struct rest_conn *rc);

static void server_conn_write_cb(struct conn *c, void *arg, int status)
{
	struct rest_conn *rc = arg;
	if (rc->state == REST_CONN_CLOSING) {
		return;
	}
	if (status == 0) {
		if (rc->drain_wait &&
		    conn_write_queue_size(c) <= REST_MAX_UNSENT) {
			conn_resume_pipeline(rc);
		}
		return;
	}
	LOGD("rest: %s: write failed: %s", rc->peer, conn_errmsg(c));
	rest_conn_close(rc);
}

void rest_conn_write(struct rest_conn *rc, const void *buf, size_t len)
{
	PRE(rc->conn != NULL && rc->state != REST_CONN_CLOSING);
	int rv = conn_write(rc->conn, buf, len, server_conn_write_cb, rc);
	if (rv != 0) {
		LOGD("rest: %s: write failed: %s", rc->peer,
		     conn_errmsg(rc->conn));
		rest_conn_close(rc);
	}
}

/* Answer a request that cannot be handled (no request object) and close. */
static void conn_fail(struct rest_conn *rc, int status, const char *msg)
{
	size_t len;
	LOGD("rest: %s: %d %s", rc->peer, status, msg);
	char *resp = rest_response_error_close(status, msg, &len);
	rest_conn_write(rc, resp, len);
	tm_free(resp);
	rest_conn_close(rc);
}

static void conn_timer_cb(uv_timer_t *timer);

static void conn_timer_start(struct rest_conn *rc, unsigned timeout_ms)
{
	rc->kick = false;
	uv_timer_start(&rc->timer, conn_timer_cb, timeout_ms, 0);
}

static void conn_drop_input(struct rest_conn *rc, size_t n)
{
	PRE(n <= rc->in_len);
	memmove(rc->in, rc->in + n, rc->in_len - n);
	rc->in_len -= n;
}

static void conn_append_input(struct rest_conn *rc, const char *buf, size_t len)
{
	if (rc->in_len + len > rc->in_cap) {
		size_t cap = rc->in_cap < 4096 ? 4096 : rc->in_cap;
		while (cap < rc->in_len + len) {
			cap *= 2;
		}
		rc->in = tm_realloc(rc->in, cap);
		rc->in_cap = cap;
	}
	memcpy(rc->in + rc->in_len, buf, len);
	rc->in_len += len;
}

static void conn_begin_request(struct rest_conn *rc)
{
	struct rest_message *msg = rest_parser_take(&rc->parser);
	uv_timer_stop(&rc->timer);
	rc->kick = false;
	conn_read_stop(rc->conn);
	conn_set_state(rc, REST_CONN_HANDLING);
	rest_dispatch(rc, msg);
}

/* Parse buffered bytes until a request is complete or more are needed. */
static void conn_process_input(struct rest_conn *rc)
{
	static const char continue_100[] = "HTTP/1.1 100 Continue\r\n\r\n";
	const struct rest_limits *limits = &rc->server->limits;
	while (
	    (rc->state == REST_CONN_IDLE || rc->state == REST_CONN_READING) &&
	    rc->in_len > 0) {
		size_t used;
		enum rest_parse_result r =
		    rest_parser_feed(&rc->parser, rc->in, rc->in_len, &used);
		conn_drop_input(rc, used);
		if (rest_parser_take_continue(&rc->parser)) {
			rest_conn_write(rc, continue_100,
					sizeof continue_100 - 1);
			if (rc->state == REST_CONN_CLOSING) {
				return;
			}
		}
		switch (r) {
		case REST_PARSE_MORE:
			if (rc->state == REST_CONN_IDLE &&
			    rest_parser_started(&rc->parser)) {
				conn_set_state(rc, REST_CONN_READING);
				conn_timer_start(rc, limits->read_timeout_ms);
			}
			break;
		case REST_PARSE_DONE:
			conn_begin_request(rc);
			return;
		case REST_PARSE_ERROR:
			conn_fail(rc, rest_parser_error_status(&rc->parser),
				  rest_parser_error(&rc->parser));
			return;
		}
	}
	if (rc->peer_eof &&
	    (rc->state == REST_CONN_IDLE || rc->state == REST_CONN_READING)) {
		/* Nothing more will come: an incomplete request is lost. */
		rest_conn_close(rc);
	}
}

static void conn_timer_cb(uv_timer_t *timer)
{
	struct rest_conn *rc = timer->data;
	if (rc->kick) {
		rc->kick = false;
		if (rc->state == REST_CONN_IDLE) {
			conn_timer_start(rc,
					 rc->server->limits.idle_timeout_ms);
			conn_process_input(rc);
		}
		return;
	}
	switch (rc->state) {
	case REST_CONN_IDLE:
		LOGT("rest: %s: idle timeout", rc->peer);
		rest_conn_close(rc);
		break;
	case REST_CONN_READING:
		conn_fail(rc, 408, "request timeout");
		break;
	default:
		break;
	}
}

static void server_conn_read_cb(struct conn *c, const char *buf, size_t len)
{
	struct rest_conn *rc = conn_data(c);
	if (rc == NULL || rc->state == REST_CONN_CLOSING) {
		return;
	}
	conn_append_input(rc, buf, len);
	conn_process_input(rc);
}

static void server_conn_eof_cb(struct conn *c, int status)
{
	struct rest_conn *rc = conn_data(c);
	if (rc == NULL || rc->state == REST_CONN_CLOSING) {
		return;
	}
	if (status != 0) {
		LOGD("rest: %s: connection failed: %s", rc->peer,
		     conn_errmsg(c));
		rest_conn_close(rc);
		return;
	}
	rc->peer_eof = true;
	switch (rc->state) {
	case REST_CONN_HANDLING:
		break; /* answer, then close */
	default:
		rest_conn_close(rc);
		break;
	}
}

static void conn_discard_close_cb(struct conn *c) { (void)c; }

void rest_server_add_conn(struct rest_server *s, struct conn *c)
{
	if (s->closing) {
		LOGD("rest: %s: refused, server closing", conn_peer_name(c));
		conn_close(c, conn_discard_close_cb);
		return;
	}
	struct rest_conn *rc = tm_calloc(1, sizeof *rc);
	rc->server = s;
	rc->conn = c;
	rc->conn_alive = true;
	rc->state = REST_CONN_IDLE;
	snprintf(rc->peer, sizeof rc->peer, "%s", conn_peer_name(c));
	rest_parser_init(&rc->parser, &s->limits);
	rest_parser_set_headers_cb(&rc->parser, rest_admit_headers_cb, rc);
	int rv = uv_timer_init(s->loop, &rc->timer);
	INVARIANT(rv == 0); /* only fails for an invalid loop */
	rc->timer.data = rc;
	rc->timer_alive = true;
	rc->next = s->conns;
	if (s->conns != NULL) {
		s->conns->prev = rc;
	}
	s->conns = rc;
	conn_set_data(c, rc);
	conn_set_callbacks(c, server_conn_read_cb, server_conn_eof_cb);
	LOGT("rest: %s: new connection", rc->peer);
	conn_timer_start(rc, s->limits.idle_timeout_ms);
	if (conn_read_start(c) != 0) {
		LOGD("rest: %s: read: %s", rc->peer, conn_errmsg(c));
		rest_conn_close(rc);
	}
}

static void conn_resume_pipeline(struct rest_conn *rc)
{
	rc->drain_wait = false;
	if (rc->state != REST_CONN_IDLE) {
		return;
	}
	rc->kick = true;
	uv_timer_start(&rc->timer, conn_timer_cb, 0, 0);
	if (!rc->peer_eof && conn_read_start(rc->conn) != 0) {
		LOGD("rest: %s: read: %s", rc->peer, conn_errmsg(rc->conn));
		rest_conn_close(rc);
	}
}

void rest_conn_next(struct rest_conn *rc, bool keep_alive)
{
	PRE(rc->state == REST_CONN_HANDLING && rc->req == NULL);
	/* A peer that has gone (or half-closed) gets no answers to requests
	 * it pipelined: a client that sent 200,000 and left would otherwise
	 * keep the member busy answering into the void. */
	if (!keep_alive || rc->peer_eof || conn_peer_closed(rc->conn)) {
		rest_conn_close(rc);
		return;
	}
	conn_set_state(rc, REST_CONN_IDLE);
	if (rc->in_len > 0 &&
	    conn_write_queue_size(rc->conn) > REST_MAX_UNSENT) {
		/* Answers pile up unsent: the client reads slowly or has
		 * gone. Parse what it pipelined only once they drain (or the
		 * failed write closes the connection). */
		rc->drain_wait = true;
		conn_timer_start(rc, rc->server->limits.read_timeout_ms);
	} else if (rc->in_len > 0) {
		rc->kick = true;
		uv_timer_start(&rc->timer, conn_timer_cb, 0, 0);
	} else {
		conn_timer_start(rc, rc->server->limits.idle_timeout_ms);
	}
	if (!rc->peer_eof && !rc->drain_wait &&
	    conn_read_start(rc->conn) != 0) {
		LOGD("rest: %s: read: %s", rc->peer, conn_errmsg(rc->conn));
		rest_conn_close(rc);
	}
}

static void conn_upgrade_write_cb(struct conn *c, void *arg, int status)
{
	struct rest_conn *rc = arg;
	if (rc->state != REST_CONN_UPGRADING) {
		return; /* closed meanwhile: conn_maybe_free tells the owner */
	}
	if (status != 0) {
		LOGD("rest: %s: upgrade failed: %s", rc->peer, conn_errmsg(c));
		rest_conn_close(rc);
		return;
	}
	rest_upgrade_cb cb = rc->upgrade_cb;
	rc->upgrade_cb = NULL;
	rc->conn = NULL;
	rc->conn_alive = false;
	conn_set_data(c, NULL);
	conn_set_state(rc, REST_CONN_CLOSING);
	uv_timer_stop(&rc->timer);
	uv_close((uv_handle_t *)&rc->timer, conn_timer_close_cb);
	/* RC, and with it the leftover bytes, lives until the timer's close
	 * callback, which cannot run before CB returns. */
	cb(rc->upgrade_arg, c, rc->in, rc->in_len);
}

void rest_conn_upgrade(struct rest_conn *rc, const char *head, size_t len,
		       rest_upgrade_cb cb, void *arg)
{
	PRE(rc->state == REST_CONN_HANDLING && rc->req == NULL);
	conn_set_state(rc, REST_CONN_UPGRADING);
	rc->upgrade_cb = cb;
	rc->upgrade_arg = arg;
	if (rc->peer_eof) {
		/* The new owner would never learn about the EOF. */
		rest_conn_close(rc);
		return;
	}
	int rv = conn_write(rc->conn, head, len, conn_upgrade_write_cb, rc);
	if (rv != 0) {
		LOGD("rest: %s: upgrade failed: %s", rc->peer,
		     conn_errmsg(rc->conn));
		rest_conn_close(rc);
	}
}

void rest_server_drain(struct rest_server *s) { s->draining = true; }

bool rest_draining(const struct rest_request *req)
{
	return req->rc != NULL && req->rc->server->draining;
}

size_t rest_server_pending(const struct rest_server *s)
{
	size_t n = 0;
	for (const struct rest_conn *rc = s->conns; rc != NULL; rc = rc->next) {
		if (rc->req != NULL) {
			n++;
		}
	}
	return n;
}

size_t rest_server_revalidate(struct rest_server *s)
{
	size_t closed = 0;
	/* rest_conn_close unlinks nothing before its close callbacks: the
	 * list can be walked while closing. */
	for (struct rest_conn *rc = s->conns; rc != NULL; rc = rc->next) {
		if (!rc->trusted || rc->state == REST_CONN_CLOSING ||
		    rc->conn == NULL || !conn_is_tls(rc->conn)) {
			continue;
		}
		const char *fp = conn_peer_fingerprint(rc->conn);
		if (fp != NULL && s->trust_cb != NULL &&
		    s->trust_cb(s->data, fp)) {
			continue;
		}
		LOGI("rest: %s: certificate %.16s... no longer trusted, "
		     "closing",
		     rc->peer, fp != NULL ? fp : "?");
		rest_conn_close(rc);
		closed++;
	}
	return closed;
}

void rest_server_close(struct rest_server *s, void (*cb)(void *data),
		       void *data)
{
	PRE(!s->closing);
	s->closing = true;
	s->close_cb = cb;
	s->close_data = data;
	for (struct rest_conn *rc = s->conns; rc != NULL; rc = rc->next) {
		rest_conn_close(rc);
	}
	uv_close((uv_handle_t *)&s->close_timer, server_timer_close_cb);
}

/* GET /1.0/events as a WebSocket: frames by wslay, one text frame per
 * event.
 *
 * Happy path: the connection was upgraded (101 sent); reads feed wslay,
 * which answers pings and honours a close; events move from the queue
 * into text frames while the connection's unsent bytes stay under the
 * window; each completed write pulls more.
 *
 * Failure modes: the client closes (close frame, answered, then the
 * connection closes) or goes (EOF, error); the client sends a frame wslay
 * refuses (it closes with the matching status); the client is too slow
 * (a text frame with the error event, then close 1008); the bus shuts
 * down (close 1001). Memory is freed in the connection's close callback
 * only. */
#include <string.h>

#include <wslay/wslay.h>

#include "internal/events/stream.h"
#include "internal/lib/assert.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"

/* Messages from the client are not used; this bounds what one may cost. */
#define MAX_CLIENT_MESSAGE 4096

struct ws_session {
	struct events_sub *sub;
	struct conn *conn;
	wslay_event_context_ptr ctx;
	char *in; /* received, not taken by wslay yet */
	size_t in_len;
	size_t in_off;
	bool closing; /* conn_close called */
};

static void ws_close_cb(struct conn *c)
{
	struct ws_session *s = conn_data(c);
	wslay_event_context_free(s->ctx);
	tm_free(s->in);
	tm_free(s);
}

static void ws_finish(struct ws_session *s)
{
	if (!s->closing) {
		s->closing = true;
		/* Nothing more is queued for it from now on. */
		events_unsubscribe(s->sub);
		s->sub = NULL;
		conn_close(s->conn, ws_close_cb);
	}
}

static ssize_t ws_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len,
			  int flags, void *user)
{
	(void)flags;
	struct ws_session *s = user;
	size_t have = s->in_len - s->in_off;
	if (have == 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	size_t n = have < len ? have : len;
	memcpy(buf, s->in + s->in_off, n);
	s->in_off += n;
	return (ssize_t)n;
}

static void ws_pump(struct ws_session *s);

static void ws_write_cb(struct conn *c, void *arg, int status)
{
	(void)c;
	struct ws_session *s = arg;
	if (status != 0) {
		ws_finish(s);
		return;
	}
	ws_pump(s);
}

static ssize_t ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *data,
			  size_t len, int flags, void *user)
{
	(void)flags;
	struct ws_session *s = user;
	if (s->closing || conn_write(s->conn, data, len, ws_write_cb, s) != 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return (ssize_t)len;
}

static void ws_msg_cb(wslay_event_context_ptr ctx,
		      const struct wslay_event_on_msg_recv_arg *arg, void *user)
{
	(void)ctx;
	(void)user;
	/* Pings are answered and closes honoured by wslay itself; text and
	 * binary messages from the client mean nothing here. */
	(void)arg;
}

static const struct wslay_event_callbacks callbacks = {
    .recv_callback = ws_recv_cb,
    .send_callback = ws_send_cb,
    .on_msg_recv_callback = ws_msg_cb,
};

/* Send what wslay holds, and end once the close handshake is over. */
static void ws_flush(struct ws_session *s)
{
	if (s->closing) {
		return;
	}
	if (wslay_event_want_write(s->ctx) && wslay_event_send(s->ctx) != 0) {
		ws_finish(s);
		return;
	}
	if (wslay_event_get_close_sent(s->ctx) ||
	    (!wslay_event_want_read(s->ctx) &&
	     !wslay_event_want_write(s->ctx))) {
		/* conn_close still flushes the close frame. */
		ws_finish(s);
	}
}

static void ws_pump(struct ws_session *s)
{
	if (s->closing) {
		return;
	}
	while (!wslay_event_get_close_sent(s->ctx) &&
	       conn_write_queue_size(s->conn) < EVENTS_STREAM_WINDOW) {
		struct events_msg *m = events_sub_pop(s->sub);
		if (m == NULL) {
			break;
		}
		struct wslay_event_msg msg = {.opcode = WSLAY_TEXT_FRAME,
					      .msg = (const uint8_t *)m->text,
					      .msg_length = m->len};
		int rv = wslay_event_queue_msg(s->ctx, &msg); /* copies */
		events_msg_unref(m);
		if (rv != 0) {
			break;
		}
		/* Send each frame at once: wslay's queue stays short. */
		if (wslay_event_send(s->ctx) != 0) {
			ws_finish(s);
			return;
		}
	}
	ws_flush(s);
}

/* End with a last text message (may be NULL) and a close frame. */
static void ws_end(struct ws_session *s, const char *last, uint16_t code,
		   const char *reason)
{
	if (s->closing || wslay_event_get_close_sent(s->ctx)) {
		return;
	}
	if (last != NULL) {
		struct wslay_event_msg msg = {.opcode = WSLAY_TEXT_FRAME,
					      .msg = (const uint8_t *)last,
					      .msg_length = strlen(last)};
		/* Sent before the close is queued: wslay sends control
		 * frames ahead of data frames. */
		if (wslay_event_queue_msg(s->ctx, &msg) == 0 &&
		    wslay_event_send(s->ctx) != 0) {
			ws_finish(s);
			return;
		}
	}
	wslay_event_queue_close(s->ctx, code, (const uint8_t *)reason,
				strlen(reason));
	ws_flush(s);
}

static void ws_read_cb(struct conn *c, const char *buf, size_t len)
{
	struct ws_session *s = conn_data(c);
	if (s->in_off == s->in_len) {
		s->in_off = s->in_len = 0;
	}
	s->in = tm_realloc(s->in, s->in_len + len);
	memcpy(s->in + s->in_len, buf, len);
	s->in_len += len;
	if (wslay_event_recv(s->ctx) != 0) {
		ws_finish(s);
		return;
	}
	ws_flush(s);
}

static void ws_eof_cb(struct conn *c, int status)
{
	(void)status;
	ws_finish(conn_data(c));
}

static void ws_ready(struct events_sub *sub) { ws_pump(events_sub_data(sub)); }

static void ws_overflow(struct events_sub *sub, uint64_t dropped)
{
	struct ws_session *s = events_sub_data(sub);
	char *last = events_slow_message(dropped);
	LOGI("events: %s: client too slow, %llu events dropped, "
	     "disconnecting",
	     conn_peer_name(s->conn), (unsigned long long)dropped);
	ws_end(s, last, 1008, "client too slow");
	tm_free(last);
}

static void ws_shutdown(struct events_sub *sub)
{
	ws_end(events_sub_data(sub), NULL, 1001, "shutting down");
}

static const struct events_sub_ops ws_ops = {
    .ready = ws_ready,
    .overflow = ws_overflow,
    .shutdown = ws_shutdown,
};

void events_ws_serve(struct events_bus *b, const struct events_sub_config *cfg,
		     struct conn *c, const char *extra, size_t extra_len)
{
	struct ws_session *s = tm_calloc(1, sizeof *s);
	s->conn = c;
	int rv = wslay_event_context_server_init(&s->ctx, &callbacks, s);
	INVARIANT(rv == 0);
	wslay_event_config_set_max_recv_msg_length(s->ctx, MAX_CLIENT_MESSAGE);
	conn_set_data(c, s);
	conn_set_callbacks(c, ws_read_cb, ws_eof_cb);
	s->sub = events_subscribe(b, cfg, &ws_ops, s);
	if (extra_len > 0) {
		ws_read_cb(c, extra, extra_len);
		if (s->closing) {
			return;
		}
	}
	if (conn_read_start(c) != 0) {
		ws_finish(s);
	}
}

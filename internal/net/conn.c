/* The part of a conn shared by every kind of stream: the public API, which
 * checks state and dispatches to the kind's vtable, ordered writes of
 * owned buffers, and the close sequence described in conn_internal.h. */
#include "internal/net/conn_internal.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "internal/lib/assert.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"
#include "internal/net/tuning.h"

struct conn_write_req {
	uv_write_t req;
	struct conn *c;
	conn_write_cb cb;
	void *arg;
	char *buf; /* owned */
};

void conn_init(struct conn *c, uv_loop_t *loop, const struct conn_vtable *vt,
	       bool tcp)
{
	c->vt = vt;
	c->loop = loop;
	c->linger_ms = CONN_LINGER_MS;
	/* Neither call creates a socket, so neither can fail. */
	int rv = tcp ? uv_tcp_init(loop, &c->h.tcp)
		     : uv_pipe_init(loop, &c->h.pipe, 0);
	INVARIANT(rv == 0);
	rv = uv_timer_init(loop, &c->timer);
	INVARIANT(rv == 0);
	c->h.handle.data = c;
	c->timer.data = c;
	c->shutdown.data = c;
	snprintf(c->peer_name, sizeof c->peer_name, "unknown");
}

int conn_uv_error(struct conn *c, int uv_rv, const char *what)
{
	tm_errmsg_printf(c->errmsg, "%s: %s", what, uv_strerror(uv_rv));
	return uv_rv == UV_ETIMEDOUT ? TM_TIMEOUT : TM_IO;
}

void conn_set_peer_name_tcp(struct conn *c)
{
	struct sockaddr_storage ss;
	int len = (int)sizeof ss;
	if (uv_tcp_getpeername(&c->h.tcp, (struct sockaddr *)&ss, &len) != 0) {
		return;
	}
	net_format_sockaddr((struct sockaddr *)&ss, c->peer_name,
			    sizeof c->peer_name);
}

/* Accessors. */

void *conn_data(struct conn *c) { return c->data; }

void conn_set_data(struct conn *c, void *data) { c->data = data; }

void conn_set_callbacks(struct conn *c, conn_read_cb read_cb,
			conn_eof_cb eof_cb)
{
	c->read_cb = read_cb;
	c->eof_cb = eof_cb;
}

bool conn_is_tls(const struct conn *c) { return c->tls; }

bool conn_peer_uid(const struct conn *c, uid_t *uid)
{
	if (!c->has_uid) {
		return false;
	}
	*uid = c->uid;
	return true;
}

const char *conn_peer_fingerprint(const struct conn *c)
{
	return c->tls && c->has_fingerprint ? c->fingerprint : NULL;
}

const char *conn_peer_key_weakness(const struct conn *c)
{
	return c->tls && c->has_fingerprint && c->peer_key_weak
		   ? c->peer_key_errmsg
		   : NULL;
}

const char *conn_peer_name(const struct conn *c) { return c->peer_name; }

const char *conn_errmsg(const struct conn *c) { return c->errmsg; }

void conn_set_linger(struct conn *c, uint64_t ms) { c->linger_ms = ms; }

/* Reading. */

int conn_read_start(struct conn *c)
{
	PRE(c->read_cb != NULL && c->eof_cb != NULL);
	if (c->closing) {
		tm_errmsg_printf(c->errmsg, "read: connection is closing");
		return TM_CANCELED;
	}
	if (c->reading || c->eof_delivered) {
		return 0;
	}
	c->reading = true;
	int rv = c->vt->read_start(c);
	if (rv != 0) {
		c->reading = false;
	}
	return rv;
}

void conn_read_stop(struct conn *c)
{
	c->reading = false;
	if (!c->closing) {
		c->vt->read_stop(c);
	}
}

void conn_deliver_eof(struct conn *c, int status)
{
	if (c->eof_delivered || c->closing) {
		return;
	}
	c->eof_delivered = true;
	c->reading = false;
	c->vt->read_stop(c);
	if (c->eof_cb != NULL) {
		c->eof_cb(c, status);
	}
}

bool conn_peer_closed(const struct conn *c)
{
	if (c->eof_delivered || c->stream_broken) {
		return true;
	}
	uv_os_fd_t fd;
	if (c->handles_closing || uv_fileno(&c->h.handle, &fd) != 0) {
		return false;
	}
	struct pollfd p = {.fd = fd, .events = POLLRDHUP};
	if (poll(&p, 1, 0) != 1) {
		return false;
	}
	return (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

/* Writing. */

static void conn_stream_write_cb(uv_write_t *req, int status)
{
	struct conn_write_req *w = req->data;
	struct conn *c = w->c;
	int rv = 0;
	if (status == UV_ECANCELED) {
		rv = TM_CANCELED;
	} else if (status < 0) {
		rv = conn_uv_error(c, status, "write");
		c->stream_broken = true;
	}
	conn_write_cb cb = w->cb;
	void *arg = w->arg;
	tm_free(w->buf);
	tm_free(w);
	if (cb != NULL) {
		cb(c, arg, rv);
	}
}

int conn_stream_write(struct conn *c, char *buf, size_t len, conn_write_cb cb,
		      void *arg)
{
	struct conn_write_req *w = tm_malloc(sizeof *w);
	w->req.data = w;
	w->c = c;
	w->cb = cb;
	w->arg = arg;
	w->buf = buf;
	uv_buf_t b;
	b.base = buf;
	b.len = len;
	int rv = uv_write(&w->req, &c->h.stream, &b, 1, conn_stream_write_cb);
	if (rv != 0) {
		tm_free(buf);
		tm_free(w);
		c->stream_broken = true;
		return conn_uv_error(c, rv, "write");
	}
	return 0;
}

size_t conn_write_queue_size(const struct conn *c)
{
	return c->h.stream.write_queue_size;
}

int conn_write(struct conn *c, const void *buf, size_t len, conn_write_cb cb,
	       void *arg)
{
	PRE(buf != NULL || len == 0);
	if (c->closing) {
		tm_errmsg_printf(c->errmsg, "write: connection is closing");
		return TM_CANCELED;
	}
	return c->vt->write(c, buf, len, cb, arg);
}

/* Closing. */

void conn_handle_closed_cb(uv_handle_t *handle)
{
	struct conn *c = handle->data;
	INVARIANT(c->handles_open > 0);
	c->handles_open--;
	if (c->handles_open > 0) {
		return;
	}
	if (c->limiter != NULL) {
		limiter_release(c->limiter, c->limiter_key);
		limiter_unref(c->limiter);
		c->limiter = NULL;
	}
	if (c->close_cb != NULL) {
		c->close_cb(c);
	}
	c->vt->destroy(c);
}

static void conn_close_handles(struct conn *c)
{
	if (c->handles_closing) {
		return;
	}
	c->handles_closing = true;
	uv_timer_stop(&c->timer);
	c->handles_open = 2 + c->vt->close_handles(c);
	/* Writes still queued complete with UV_ECANCELED in here, before the
	 * handle's close callback. */
	uv_close(&c->h.handle, conn_handle_closed_cb);
	uv_close((uv_handle_t *)&c->timer, conn_handle_closed_cb);
}

static void conn_shutdown_cb(uv_shutdown_t *req, int status)
{
	struct conn *c = req->data;
	(void)status; /* the handle is closed whatever happened */
	conn_close_handles(c);
}

/* While shutting down: give up if the write queue has not shrunk. */
static void conn_linger_cb(uv_timer_t *timer)
{
	struct conn *c = timer->data;
	size_t queued = uv_stream_get_write_queue_size(&c->h.stream);
	if (queued > 0 && queued < c->linger_queue) {
		c->linger_queue = queued;
		return;
	}
	LOGD("net: %s: dropping %zu unsent bytes on close", c->peer_name,
	     queued);
	conn_close_handles(c);
}

void conn_close(struct conn *c, conn_close_cb cb)
{
	if (c->closing) {
		LOGD("net: %s: conn_close called again, ignored", c->peer_name);
		return;
	}
	c->closing = true;
	c->close_cb = cb;
	c->reading = false;
	c->vt->read_stop(c);
	uv_timer_stop(&c->timer);
	if (!c->stream_broken) {
		c->vt->close_begin(c);
	}
	/* uv_shutdown completes once the queued writes are in the kernel. */
	if (!c->stream_broken && uv_is_writable(&c->h.stream) &&
	    uv_shutdown(&c->shutdown, &c->h.stream, conn_shutdown_cb) == 0) {
		c->linger_queue = uv_stream_get_write_queue_size(&c->h.stream);
		uv_timer_start(&c->timer, conn_linger_cb, c->linger_ms,
			       c->linger_ms);
		return;
	}
	conn_close_handles(c);
}

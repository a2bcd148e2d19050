/* The socketpair pump between a conn and raft's stream; see bridge.h.
 *
 * Happy path: socketpair -> raft's end opened as a raft_malloc'd uv_pipe_t
 * and returned, ours opened as b->pipe -> both sides read; each read is
 * written to the other side (to the pipe with uv_try_write first, then a
 * queued copy; to the conn with conn_write, which copies).
 *
 * Ends, each handled once:
 * - raft_gone: our end of the socketpair read EOF or failed, or a write
 *   to it failed: close the pipe; close the conn (conn_close flushes).
 * - peer_gone: the conn reported EOF or failure, or a write to it failed:
 *   close the conn; shut our end of the socketpair down once what is
 *   queued for raft is written, then close it. Whatever raft writes
 *   meanwhile has nowhere to go: the pipe is closed at once then.
 * - bridge_abort: close both now.
 * maybe_release frees the bridge once the pipe's and the conn's close
 * callbacks have both run, and calls the owner's callback last. */
#include "internal/raft/bridge.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <raft.h>

#include "internal/lib/assert.h"
#include "internal/lib/err.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"

/* Bytes read from raft's side at a time. */
#define BRIDGE_READ_SIZE (64 * 1024)

struct bridge {
	uv_loop_t *loop;
	struct conn *conn; /* owned; NULL once closed */
	uv_pipe_t pipe;	   /* our end of the socketpair */
	uv_shutdown_t shutdown;
	size_t limit;
	char *rbuf; /* BRIDGE_READ_SIZE bytes for reads from the pipe */
	bool conn_alive;
	bool pipe_alive;
	bool conn_closing;
	bool pipe_closing;
	bool pipe_shutting_down;
	bool conn_paused; /* conn not read: the pipe's queue is full */
	bool pipe_paused; /* pipe not read: the conn's queue is full */
	struct bridge_stats stats;
	bridge_close_cb cb;
	void *data;
};

struct pipe_write {
	uv_write_t req;
	struct bridge *b;
	char data[];
};

static void maybe_release(struct bridge *b)
{
	if (b->conn_alive || b->pipe_alive) {
		return;
	}
	bridge_close_cb cb = b->cb;
	void *data = b->data;
	struct bridge_stats stats = b->stats;
	tm_free(b->rbuf);
	tm_free(b);
	cb(data, &stats);
}

static void pipe_closed_cb(uv_handle_t *handle)
{
	struct bridge *b = handle->data;
	b->pipe_alive = false;
	maybe_release(b);
}

static void conn_closed_cb(struct conn *c)
{
	struct bridge *b = conn_data(c);
	b->conn = NULL;
	b->conn_alive = false;
	maybe_release(b);
}

static void close_pipe(struct bridge *b)
{
	if (!b->pipe_closing) {
		b->pipe_closing = true;
		uv_close((uv_handle_t *)&b->pipe, pipe_closed_cb);
	}
}

static void close_conn(struct bridge *b)
{
	if (!b->conn_closing) {
		b->conn_closing = true;
		conn_close(b->conn, conn_closed_cb);
	}
}

static void raft_gone(struct bridge *b)
{
	close_pipe(b);
	close_conn(b);
}

static void pipe_shutdown_cb(uv_shutdown_t *req, int status)
{
	struct bridge *b = req->data;
	(void)status; /* closed whatever happened */
	close_pipe(b);
}

static void peer_gone(struct bridge *b)
{
	close_conn(b);
	if (b->pipe_closing || b->pipe_shutting_down) {
		return;
	}
	b->shutdown.data = b;
	if (uv_shutdown(&b->shutdown, (uv_stream_t *)&b->pipe,
			pipe_shutdown_cb) != 0) {
		close_pipe(b);
		return;
	}
	b->pipe_shutting_down = true;
}

/* ---- peer -> raft ---- */

static void pipe_write_cb(uv_write_t *req, int status)
{
	struct pipe_write *w = req->data;
	struct bridge *b = w->b;
	tm_free(w);
	if (status != 0) {
		if (status != UV_ECANCELED) {
			LOGD("raft: bridge: write to raft: %s",
			     uv_strerror(status));
		}
		raft_gone(b);
		return;
	}
	size_t queued = uv_stream_get_write_queue_size((uv_stream_t *)&b->pipe);
	if (b->conn_paused && queued <= b->limit / 4 && !b->conn_closing) {
		b->conn_paused = false;
		if (conn_read_start(b->conn) != 0) {
			peer_gone(b);
		}
	}
}

/* Queue BUF for raft: written at once when the socket takes it, else
 * copied. */
static void pipe_write_bytes(struct bridge *b, const char *buf, size_t len)
{
	uv_stream_t *s = (uv_stream_t *)&b->pipe;
	if (b->pipe_closing || b->pipe_shutting_down || len == 0) {
		return;
	}
	if (uv_stream_get_write_queue_size(s) == 0) {
		uv_buf_t ub = uv_buf_init((char *)buf, (unsigned)len);
		int n = uv_try_write(s, &ub, 1);
		if (n < 0 && n != UV_EAGAIN) {
			LOGD("raft: bridge: write to raft: %s", uv_strerror(n));
			raft_gone(b);
			return;
		}
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
		}
		if (len == 0) {
			return;
		}
	}
	struct pipe_write *w = tm_malloc(sizeof *w + len);
	w->req.data = w;
	w->b = b;
	memcpy(w->data, buf, len);
	uv_buf_t ub = uv_buf_init(w->data, (unsigned)len);
	int rv = uv_write(&w->req, s, &ub, 1, pipe_write_cb);
	if (rv != 0) {
		tm_free(w);
		LOGD("raft: bridge: write to raft: %s", uv_strerror(rv));
		raft_gone(b);
		return;
	}
	if (!b->conn_paused && !b->conn_closing &&
	    uv_stream_get_write_queue_size(s) > b->limit) {
		b->conn_paused = true;
		b->stats.paused_to_raft++;
		conn_read_stop(b->conn);
	}
}

static void bridge_conn_read_cb(struct conn *c, const char *buf, size_t len)
{
	struct bridge *b = conn_data(c);
	b->stats.to_raft += len;
	pipe_write_bytes(b, buf, len);
}

static void bridge_conn_eof_cb(struct conn *c, int status)
{
	struct bridge *b = conn_data(c);
	if (status != 0) {
		LOGD("raft: bridge: %s: %s", conn_peer_name(c), conn_errmsg(c));
	}
	peer_gone(b);
}

/* ---- raft -> peer ---- */

static void pipe_alloc_cb(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	struct bridge *b = handle->data;
	(void)suggested;
	*buf = uv_buf_init(b->rbuf, BRIDGE_READ_SIZE);
}

static void pipe_read_cb(uv_stream_t *stream, ssize_t nread,
			 const uv_buf_t *buf);

static void pipe_read_start(struct bridge *b)
{
	/* Fails only on a closing handle, which is never restarted. */
	int rv =
	    uv_read_start((uv_stream_t *)&b->pipe, pipe_alloc_cb, pipe_read_cb);
	INVARIANT(rv == 0);
}

static void bridge_conn_write_cb(struct conn *c, void *arg, int status)
{
	struct bridge *b = arg;
	if (b->conn_closing) {
		return;
	}
	if (status != 0) {
		LOGD("raft: bridge: write to %s: %s", conn_peer_name(c),
		     conn_errmsg(c));
		peer_gone(b);
		return;
	}
	if (b->pipe_paused && conn_write_queue_size(c) <= b->limit / 4 &&
	    !b->pipe_closing) {
		b->pipe_paused = false;
		pipe_read_start(b);
	}
}

static void pipe_read_cb(uv_stream_t *stream, ssize_t nread,
			 const uv_buf_t *buf)
{
	struct bridge *b = stream->data;
	(void)buf;
	if (nread == 0) {
		return;
	}
	if (nread < 0) {
		if (nread != UV_EOF) {
			LOGD("raft: bridge: read from raft: %s",
			     uv_strerror((int)nread));
		}
		raft_gone(b);
		return;
	}
	if (b->conn_closing) {
		/* The peer is gone: raft learns it from its next write. */
		close_pipe(b);
		return;
	}
	b->stats.to_peer += (uint64_t)nread;
	if (conn_write(b->conn, b->rbuf, (size_t)nread, bridge_conn_write_cb,
		       b) != 0) {
		LOGD("raft: bridge: write to %s: %s", conn_peer_name(b->conn),
		     conn_errmsg(b->conn));
		peer_gone(b);
		return;
	}
	if (conn_write_queue_size(b->conn) > b->limit) {
		b->pipe_paused = true;
		b->stats.paused_to_peer++;
		uv_read_stop(stream);
	}
}

/* ---- start and abort ---- */

static void raft_pipe_closed_cb(uv_handle_t *handle) { raft_free(handle); }

static void failed_bridge_closed_cb(uv_handle_t *handle)
{
	tm_free(handle->data);
}

int bridge_start(uv_loop_t *loop, struct conn *c, const char *pending,
		 size_t len, size_t queue_limit, bridge_close_cb cb, void *data,
		 struct bridge **out, uv_stream_t **stream, char *errmsg)
{
	int fds[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
		tm_errmsg_printf(errmsg, "socketpair: %s", strerror(errno));
		return TM_IO;
	}
	uv_pipe_t *raft_pipe = raft_malloc(sizeof *raft_pipe);
	if (raft_pipe == NULL) {
		tm_panic(__FILE__, __LINE__, "out of memory");
	}
	int rv = uv_pipe_init(loop, raft_pipe, 0);
	INVARIANT(rv == 0);
	struct bridge *b = tm_calloc(1, sizeof *b);
	rv = uv_pipe_init(loop, &b->pipe, 0);
	INVARIANT(rv == 0);
	b->pipe.data = b;
	int rv_raft = uv_pipe_open(raft_pipe, fds[0]);
	int rv_ours = uv_pipe_open(&b->pipe, fds[1]);
	if (rv_raft != 0 || rv_ours != 0) {
		tm_errmsg_printf(errmsg, "open socketpair: %s",
				 uv_strerror(rv_raft != 0 ? rv_raft : rv_ours));
		/* uv_close closes an opened descriptor; the others are ours. */
		if (rv_raft != 0) {
			close(fds[0]);
		}
		if (rv_ours != 0) {
			close(fds[1]);
		}
		uv_close((uv_handle_t *)raft_pipe, raft_pipe_closed_cb);
		uv_close((uv_handle_t *)&b->pipe, failed_bridge_closed_cb);
		return TM_IO;
	}
	b->loop = loop;
	b->conn = c;
	b->limit = queue_limit != 0 ? queue_limit : BRIDGE_QUEUE_LIMIT;
	b->rbuf = tm_malloc(BRIDGE_READ_SIZE);
	b->conn_alive = true;
	b->pipe_alive = true;
	b->cb = cb;
	b->data = data;
	conn_set_data(c, b);
	conn_set_callbacks(c, bridge_conn_read_cb, bridge_conn_eof_cb);
	pipe_read_start(b);
	b->stats.to_raft += len;
	pipe_write_bytes(b, pending, len);
	if (!b->conn_paused && !b->conn_closing && conn_read_start(c) != 0) {
		peer_gone(b);
	}
	*out = b;
	*stream = (uv_stream_t *)raft_pipe;
	return 0;
}

void bridge_abort(struct bridge *b)
{
	close_pipe(b);
	close_conn(b);
}

const struct bridge_stats *bridge_stats(const struct bridge *b)
{
	return &b->stats;
}

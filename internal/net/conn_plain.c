/* A conn in clear on a unix socket: bytes go straight between the owner
 * and libuv. */
#include <string.h>

#include "internal/lib/mem.h"
#include "internal/net/conn_internal.h"

#define PLAIN_READ_SIZE (64 * 1024)

static void plain_alloc_cb(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	(void)handle;
	(void)suggested;
	buf->base = tm_malloc(PLAIN_READ_SIZE);
	buf->len = PLAIN_READ_SIZE;
}

static void plain_read_cb(uv_stream_t *stream, ssize_t nread,
			  const uv_buf_t *buf)
{
	struct conn *c = stream->data;
	if (nread > 0 && c->reading) {
		c->read_cb(c, buf->base, (size_t)nread);
	} else if (nread == UV_EOF) {
		conn_deliver_eof(c, 0);
	} else if (nread < 0) {
		conn_deliver_eof(c, conn_uv_error(c, (int)nread, "read"));
	}
	tm_free(buf->base);
}

static int plain_read_start(struct conn *c)
{
	int rv = uv_read_start(&c->h.stream, plain_alloc_cb, plain_read_cb);
	if (rv != 0) {
		return conn_uv_error(c, rv, "read");
	}
	return 0;
}

static void plain_read_stop(struct conn *c) { uv_read_stop(&c->h.stream); }

static int plain_write(struct conn *c, const void *buf, size_t len,
		       conn_write_cb cb, void *arg)
{
	char *copy = tm_malloc(len > 0 ? len : 1);
	if (len > 0) {
		memcpy(copy, buf, len);
	}
	return conn_stream_write(c, copy, len, cb, arg);
}

static void plain_close_begin(struct conn *c) { (void)c; }

static unsigned plain_close_handles(struct conn *c)
{
	(void)c;
	return 0;
}

static void plain_destroy(struct conn *c) { tm_free(c); }

static const struct conn_vtable plain_vtable = {
    .read_start = plain_read_start,
    .read_stop = plain_read_stop,
    .write = plain_write,
    .close_begin = plain_close_begin,
    .close_handles = plain_close_handles,
    .destroy = plain_destroy,
};

struct conn *conn_plain_new(uv_loop_t *loop)
{
	struct conn *c = tm_calloc(1, sizeof *c);
	conn_init(c, loop, &plain_vtable, false);
	strcpy(c->peer_name, "unix");
	return c;
}

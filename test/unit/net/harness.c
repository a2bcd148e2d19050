#include "test/unit/net/harness.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "internal/lib/fs.h"
#include "internal/lib/mem.h"
#include "internal/net/conn_internal.h"

static void tick_cb(uv_timer_t *timer) { (void)timer; }

static void make_keypair(struct harness *h, char *cert, char *key,
			 const char *name, bool server, char *fp)
{
	snprintf(cert, 128, "%s/%s.crt", h->dir, name);
	snprintf(key, 128, "%s/%s.key", h->dir, name);
	assert_int_equal(tls_ensure_keypair(cert, key, name, server, h->errmsg),
			 0);
	char *pem;
	assert_int_equal(fs_read_all(cert, 1 << 20, &pem, NULL, h->errmsg), 0);
	assert_int_equal(tls_fingerprint_pem(pem, fp, h->errmsg), 0);
	tm_free(pem);
}

int harness_setup(void **state)
{
	struct harness *h = tm_calloc(1, sizeof *h);
	snprintf(h->dir, sizeof h->dir, "/tmp/tm-net-XXXXXX");
	if (mkdtemp(h->dir) == NULL) {
		return -1;
	}
	make_keypair(h, h->server_cert, h->server_key, "server", true,
		     h->server_fp);
	make_keypair(h, h->client_cert, h->client_key, "client", false,
		     h->client_fp);
	assert_int_equal(tls_server_ctx(h->server_cert, h->server_key,
					&h->server_ctx, h->errmsg),
			 0);
	assert_int_equal(tls_client_ctx(h->client_cert, h->client_key,
					&h->client_ctx, h->errmsg),
			 0);
	assert_int_equal(
	    tls_client_ctx(NULL, NULL, &h->anon_client_ctx, h->errmsg), 0);
	assert_int_equal(uv_loop_init(&h->loop), 0);
	assert_int_equal(uv_timer_init(&h->loop, &h->tick), 0);
	assert_int_equal(uv_timer_start(&h->tick, tick_cb, 10, 10), 0);
	h->server.h = h;
	h->client.h = h;
	*state = h;
	return 0;
}

static int remove_cb(const char *path, const struct stat *st, int flag,
		     struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void listener_closed_cb(struct listener *l)
{
	struct harness *h = listener_data(l);
	h->listener_closed = true;
}

static bool cond_all_closed(struct harness *h)
{
	return (h->server.c == NULL || h->server.closed) &&
	       (h->client.c == NULL || h->client.closed) &&
	       (h->listener == NULL || h->listener_closed);
}

int harness_teardown(void **state)
{
	struct harness *h = *state;
	peer_close(&h->server);
	peer_close(&h->client);
	if (h->listener != NULL && !h->listener_closed) {
		listener_close(h->listener, listener_closed_cb);
	}
	assert_true(harness_run_until(h, cond_all_closed));
	uv_close((uv_handle_t *)&h->tick, NULL);
	uv_run(&h->loop, UV_RUN_DEFAULT);
	/* Every handle the module opened is closed by now. */
	assert_int_equal(uv_loop_close(&h->loop), 0);
	SSL_CTX_free(h->server_ctx);
	SSL_CTX_free(h->client_ctx);
	SSL_CTX_free(h->anon_client_ctx);
	nftw(h->dir, remove_cb, 8, FTW_DEPTH | FTW_PHYS);
	tm_free(h->server.in);
	tm_free(h->client.in);
	tm_free(h);
	return 0;
}

bool harness_run_until(struct harness *h, bool (*cond)(struct harness *h))
{
	uint64_t deadline =
	    uv_hrtime() + (uint64_t)HARNESS_DEADLINE_MS * 1000000;
	while (!cond(h)) {
		if (uv_hrtime() > deadline) {
			return false;
		}
		uv_run(&h->loop, UV_RUN_ONCE);
	}
	return true;
}

void harness_spin(struct harness *h, int n)
{
	for (int i = 0; i < n; i++) {
		uv_run(&h->loop, UV_RUN_NOWAIT);
	}
}

/* Peers. */

static void peer_read_cb(struct conn *c, const char *buf, size_t len)
{
	struct peer *p = conn_data(c);
	assert_true(len > 0);
	if (p->in_len + len > p->in_cap) {
		p->in_cap = (p->in_len + len) * 2;
		p->in = tm_realloc(p->in, p->in_cap);
	}
	memcpy(p->in + p->in_len, buf, len);
	p->in_len += len;
	p->reads++;
	if (p->echo) {
		assert_int_equal(conn_write(c, buf, len, NULL, NULL), 0);
	}
	if (p->stop_after_read) {
		conn_read_stop(c);
	}
}

static void peer_eof_cb(struct conn *c, int status)
{
	struct peer *p = conn_data(c);
	assert_false(p->eof);
	p->eof = true;
	p->eof_status = status;
	snprintf(p->eof_errmsg, sizeof p->eof_errmsg, "%s", conn_errmsg(c));
}

static void peer_write_cb(struct conn *c, void *arg, int status)
{
	struct peer *p = conn_data(c);
	assert_true(p->writes_done < HARNESS_MAX_WRITES);
	p->write_args[p->writes_done] = (uintptr_t)arg;
	p->write_status[p->writes_done] = status;
	p->writes_done++;
	p->last_write_event = ++p->h->events;
}

static void peer_close_cb(struct conn *c)
{
	struct peer *p = conn_data(c);
	assert_false(p->closed);
	p->closed = true;
	p->close_event = ++p->h->events;
}

void peer_attach(struct harness *h, struct peer *p, struct conn *c, bool start)
{
	p->h = h;
	p->c = c;
	conn_set_data(c, p);
	conn_set_callbacks(c, peer_read_cb, peer_eof_cb);
	if (start) {
		assert_int_equal(conn_read_start(c), 0);
	}
}

void peer_write(struct peer *p, const void *buf, size_t len, uintptr_t arg)
{
	int rv = conn_write(p->c, buf, len, peer_write_cb, (void *)arg);
	assert_int_equal(rv, 0);
}

void peer_close(struct peer *p)
{
	/* conn_close ignores a second call; the harness relies on that. */
	if (p->c != NULL && !p->closed) {
		conn_close(p->c, peer_close_cb);
	}
}

/* Listener and connect. */

static void harness_conn_cb(struct listener *l, struct conn *c)
{
	struct harness *h = listener_data(l);
	h->accepted++;
	if (h->server.c != NULL) {
		conn_close(c, NULL); /* only the first one is recorded */
		return;
	}
	peer_attach(h, &h->server, c, !h->server.no_autostart);
}

void harness_listen_tls(struct harness *h)
{
	int rv = listener_tcp(&h->loop, "127.0.0.1:0", h->server_ctx,
			      harness_conn_cb, h, &h->listener, h->errmsg);
	assert_int_equal(rv, 0);
}

void harness_listen_unix(struct harness *h, const char *path)
{
	int rv = listener_unix(&h->loop, path, harness_conn_cb, h, &h->listener,
			       h->errmsg);
	assert_int_equal(rv, 0);
}

size_t harness_kernel_pending(struct conn *c)
{
	uv_os_fd_t fd;
	assert_int_equal(uv_fileno(&c->h.handle, &fd), 0);
	int n = 0;
	assert_int_equal(ioctl(fd, FIONREAD, &n), 0);
	return (size_t)n;
}

static void connect_cb(void *arg, struct conn *c, int status,
		       const char *errmsg)
{
	struct harness *h = arg;
	assert_false(h->connected);
	h->connected = true;
	h->connect_status = status;
	snprintf(h->connect_errmsg, sizeof h->connect_errmsg, "%s", errmsg);
	if (status == 0) {
		assert_non_null(c);
		peer_attach(h, &h->client, c, !h->client.no_autostart);
	} else {
		assert_null(c);
	}
}

void harness_connect_to(struct harness *h, const char *address, SSL_CTX *ctx)
{
	int rv = conn_connect(&h->loop, address, ctx, connect_cb, h);
	assert_int_equal(rv, 0);
	assert_false(h->connected); /* never from inside the call */
}

void harness_connect(struct harness *h, SSL_CTX *ctx)
{
	harness_connect_to(h, listener_address(h->listener), ctx);
}

void harness_close_listener(struct harness *h)
{
	assert_false(h->listener_closed);
	listener_close(h->listener, listener_closed_cb);
}

bool cond_accepted(struct harness *h) { return h->accepted > 0; }

bool cond_connected(struct harness *h) { return h->connected; }

static bool cond_pair(struct harness *h)
{
	return h->connected && h->accepted > 0;
}

bool cond_both_closed(struct harness *h)
{
	return h->server.closed && h->client.closed;
}

void harness_connect_pair(struct harness *h, SSL_CTX *ctx)
{
	harness_listen_tls(h);
	harness_connect(h, ctx);
	assert_true(harness_run_until(h, cond_pair));
	assert_int_equal(h->connect_status, 0);
}

void harness_fill_pattern(char *buf, size_t len, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (char)(x & 0xff);
	}
}

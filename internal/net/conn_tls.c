/* A conn over TLS: OpenSSL runs on two memory BIOs and libuv moves the
 * ciphertext.
 *
 *   socket -> uv_read -> BIO_write(rbio) -> SSL_read -> read_cb
 *   conn_write -> SSL_write -> wbio -> one uv_write per conn_write
 *
 * Every piece of ciphertext OpenSSL produces (handshake messages, alerts,
 * close_notify, records) goes out through uv_write in the order it was
 * produced, so writes complete in order.
 *
 * Back-pressure: while the owner has reading stopped, the socket is not
 * read either. Records already received may still sit in rbio or as
 * decrypted plaintext inside OpenSSL; conn_read_start hands them over from
 * a uv_idle callback (never from inside conn_read_start), then reading
 * continues from the socket.
 *
 * End of stream: the peer's close_notify gives eof status 0. A socket
 * closed without close_notify gives TM_IO (a truncation cannot be told
 * from a clean end), a fatal TLS error TM_TLS. */
#include <arpa/inet.h>
#include <string.h>

#include <openssl/err.h>

#include "internal/lib/assert.h"
#include "internal/lib/mem.h"
#include "internal/net/conn_internal.h"

#define TLS_CIPHER_READ_SIZE (64 * 1024)
#define TLS_PLAIN_READ_SIZE (16 * 1024) /* one TLS record */
#define TLS_WRITE_SLICE (256 * 1024)

struct conn_tls {
	struct conn base;
	SSL *ssl;	/* owned; owns rbio and wbio */
	BIO *rbio;	/* ciphertext from the peer */
	BIO *wbio;	/* ciphertext to the peer */
	uv_idle_t pump; /* delivers buffered plaintext after a read start */
	bool socket_reading;
	bool socket_done; /* EOF or error seen on the socket */
	int socket_error; /* TM_* code if the socket failed, 0 on EOF */
	bool handshake_done;
	bool failed; /* fatal TLS error: no close_notify, no more I/O */
	int handshake_status; /* failure to report from the timer */
	conn_handshake_cb handshake_cb;
	void *handshake_arg;
};

static struct conn_tls *tls_of(struct conn *c) { return (struct conn_tls *)c; }

/* Queue what OpenSSL has produced. With CB, a write is queued even when
 * there is nothing (a zero-length conn_write), to keep CB in order. */
static int tls_send(struct conn_tls *t, conn_write_cb cb, void *arg)
{
	size_t pending = BIO_ctrl_pending(t->wbio);
	if (pending == 0 && cb == NULL) {
		return 0;
	}
	char *buf = tm_malloc(pending > 0 ? pending : 1);
	size_t n = 0;
	if (pending > 0 &&
	    (BIO_read_ex(t->wbio, buf, pending, &n) != 1 || n != pending)) {
		IMPOSSIBLE("a memory BIO returns what it holds");
	}
	int rv = conn_stream_write(&t->base, buf, pending, cb, arg);
	if (rv != 0) {
		t->failed = true; /* the TLS stream has a hole now */
	}
	return rv;
}

static void tls_fail(struct conn_tls *t, const char *what)
{
	t->failed = true;
	tls_errmsg_from_queue(t->base.errmsg, what);
}

static void tls_socket_stop(struct conn_tls *t)
{
	if (t->socket_reading) {
		uv_read_stop(&t->base.h.stream);
		t->socket_reading = false;
	}
}

/* The socket is done and OpenSSL wants more: report the end. */
static int tls_socket_end_status(struct conn_tls *t, const char *during)
{
	if (t->socket_error != 0) {
		return t->socket_error;
	}
	tm_errmsg_printf(t->base.errmsg, "connection closed %s", during);
	return TM_IO;
}

/* Hand decrypted records to the owner while it wants them. */
static void tls_pump(struct conn_tls *t)
{
	struct conn *c = &t->base;
	char plain[TLS_PLAIN_READ_SIZE];
	while (c->reading && !c->closing && !c->eof_delivered) {
		if (t->failed) {
			/* A write broke the stream; errmsg says how. */
			conn_deliver_eof(c, TM_TLS);
			return;
		}
		size_t n = 0;
		ERR_clear_error();
		int rv = SSL_read_ex(t->ssl, plain, sizeof plain, &n);
		int err = rv == 1 ? SSL_ERROR_NONE : SSL_get_error(t->ssl, rv);
		if (err != SSL_ERROR_NONE && err != SSL_ERROR_WANT_READ &&
		    err != SSL_ERROR_ZERO_RETURN) {
			tls_fail(t, "TLS read");
		}
		tls_send(t, NULL, NULL); /* key update replies, alerts */
		switch (err) {
		case SSL_ERROR_NONE:
			c->read_cb(c, plain, n);
			break;
		case SSL_ERROR_WANT_READ:
			if (t->socket_done) {
				conn_deliver_eof(
				    c, tls_socket_end_status(
					   t, "without TLS close_notify"));
			}
			return;
		case SSL_ERROR_ZERO_RETURN:
			conn_deliver_eof(c, 0);
			return;
		default:
			conn_deliver_eof(c, TM_TLS);
			return;
		}
	}
}

static void tls_pump_cb(uv_idle_t *idle)
{
	struct conn_tls *t = tls_of(idle->data);
	uv_idle_stop(idle);
	tls_pump(t);
}

static void tls_handshake_finish(struct conn_tls *t, int status)
{
	struct conn *c = &t->base;
	uv_timer_stop(&c->timer);
	tls_socket_stop(t);
	if (status == 0) {
		t->handshake_done = true;
		c->has_fingerprint =
		    tls_peer_fingerprint(t->ssl, c->fingerprint) == 0;
		X509 *cert = SSL_get0_peer_certificate(t->ssl);
		c->peer_key_weak = cert != NULL && tls_check_key_strength(
						       X509_get0_pubkey(cert),
						       c->peer_key_errmsg) != 0;
	}
	conn_handshake_cb cb = t->handshake_cb;
	t->handshake_cb = NULL;
	if (cb != NULL) {
		cb(c, t->handshake_arg, status);
	}
}

static void tls_handshake_step(struct conn_tls *t)
{
	ERR_clear_error();
	int rv = SSL_do_handshake(t->ssl);
	int err = rv == 1 ? SSL_ERROR_NONE : SSL_get_error(t->ssl, rv);
	if (err != SSL_ERROR_NONE && err != SSL_ERROR_WANT_READ) {
		tls_fail(t, "TLS handshake");
	}
	int sent = tls_send(t, NULL, NULL); /* our flight, or the alert */
	if (err != SSL_ERROR_NONE && err != SSL_ERROR_WANT_READ) {
		tls_handshake_finish(t, TM_TLS);
	} else if (sent != 0) {
		tls_handshake_finish(t, sent);
	} else if (err == SSL_ERROR_NONE) {
		tls_handshake_finish(t, 0);
	} else if (t->socket_done) {
		tls_handshake_finish(
		    t, tls_socket_end_status(t, "during TLS handshake"));
	}
}

static void tls_alloc_cb(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	(void)handle;
	(void)suggested;
	buf->base = tm_malloc(TLS_CIPHER_READ_SIZE);
	buf->len = TLS_CIPHER_READ_SIZE;
}

static void tls_read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	struct conn_tls *t = tls_of(stream->data);
	if (nread > 0) {
		size_t n = 0;
		if (BIO_write_ex(t->rbio, buf->base, (size_t)nread, &n) != 1 ||
		    n != (size_t)nread) {
			IMPOSSIBLE("a memory BIO takes all it is given");
		}
	}
	tm_free(buf->base);
	if (nread == 0) {
		return;
	}
	if (nread < 0) {
		t->socket_done = true;
		if (nread != UV_EOF) {
			t->socket_error =
			    conn_uv_error(&t->base, (int)nread, "read");
		}
		tls_socket_stop(t);
	}
	if (t->handshake_cb != NULL) {
		tls_handshake_step(t);
	} else if (t->handshake_done) {
		tls_pump(t);
	}
}

static int tls_socket_start(struct conn_tls *t)
{
	if (t->socket_reading || t->socket_done) {
		return 0;
	}
	int rv = uv_read_start(&t->base.h.stream, tls_alloc_cb, tls_read_cb);
	if (rv != 0) {
		return conn_uv_error(&t->base, rv, "read");
	}
	t->socket_reading = true;
	return 0;
}

static void tls_handshake_timer_cb(uv_timer_t *timer)
{
	struct conn_tls *t = tls_of(timer->data);
	int status = t->handshake_status;
	if (status == 0) {
		tm_errmsg_printf(t->base.errmsg, "TLS handshake timed out");
		status = TM_TIMEOUT;
	}
	tls_handshake_finish(t, status);
}

void conn_tls_handshake(struct conn *c, uint64_t timeout_ms,
			conn_handshake_cb cb, void *arg)
{
	struct conn_tls *t = tls_of(c);
	PRE(c->tls && !t->handshake_done && t->handshake_cb == NULL);
	PRE(cb != NULL);
	t->handshake_cb = cb;
	t->handshake_arg = arg;
	int rv = tls_socket_start(t);
	if (rv == 0 && !SSL_is_server(t->ssl)) {
		/* The client speaks first. */
		ERR_clear_error();
		int hs = SSL_do_handshake(t->ssl);
		int err = SSL_get_error(t->ssl, hs);
		if (hs != 1 && err != SSL_ERROR_WANT_READ) {
			tls_fail(t, "TLS handshake");
			rv = TM_TLS;
		}
		int sent = tls_send(t, NULL, NULL);
		if (rv == 0) {
			rv = sent;
		}
	}
	if (rv != 0) {
		/* Report from the loop, not from inside this call. */
		t->handshake_status = rv;
		uv_timer_start(&c->timer, tls_handshake_timer_cb, 0, 0);
	} else if (timeout_ms > 0) {
		uv_timer_start(&c->timer, tls_handshake_timer_cb, timeout_ms,
			       0);
	}
}

/* vtable */

static int tls_read_start(struct conn *c)
{
	struct conn_tls *t = tls_of(c);
	PRE(t->handshake_done);
	int rv = tls_socket_start(t);
	if (rv != 0) {
		return rv;
	}
	uv_idle_start(&t->pump, tls_pump_cb);
	return 0;
}

static void tls_read_stop(struct conn *c)
{
	struct conn_tls *t = tls_of(c);
	tls_socket_stop(t);
	uv_idle_stop(&t->pump);
}

static int tls_write(struct conn *c, const void *buf, size_t len,
		     conn_write_cb cb, void *arg)
{
	struct conn_tls *t = tls_of(c);
	PRE(t->handshake_done);
	if (t->failed) {
		return TM_TLS; /* errmsg holds the original failure */
	}
	/* Large writes go out in slices so that the ciphertext is never held
	 * twice (in wbio and in the write queue) all at once. Only the last
	 * slice carries the owner's callback. */
	const char *p = buf;
	do {
		size_t slice = len < TLS_WRITE_SLICE ? len : TLS_WRITE_SLICE;
		size_t n = 0;
		ERR_clear_error();
		if (slice > 0 &&
		    (SSL_write_ex(t->ssl, p, slice, &n) != 1 || n != slice)) {
			tls_fail(t, "TLS write");
			tls_send(t, NULL, NULL);
			return TM_TLS;
		}
		p += slice;
		len -= slice;
		int rv = tls_send(t, len == 0 ? cb : NULL, arg);
		if (rv != 0) {
			return rv;
		}
	} while (len > 0);
	return 0;
}

static void tls_close_begin(struct conn *c)
{
	struct conn_tls *t = tls_of(c);
	if (!t->handshake_done || t->failed) {
		return;
	}
	ERR_clear_error();
	SSL_shutdown(t->ssl); /* queues close_notify; we do not wait for
			       * the peer's */
	ERR_clear_error();
	tls_send(t, NULL, NULL);
}

static unsigned tls_close_handles(struct conn *c)
{
	struct conn_tls *t = tls_of(c);
	uv_close((uv_handle_t *)&t->pump, conn_handle_closed_cb);
	return 1;
}

static void tls_destroy(struct conn *c)
{
	struct conn_tls *t = tls_of(c);
	SSL_free(t->ssl);
	tm_free(t);
}

static const struct conn_vtable tls_vtable = {
    .read_start = tls_read_start,
    .read_stop = tls_read_stop,
    .write = tls_write,
    .close_begin = tls_close_begin,
    .close_handles = tls_close_handles,
    .destroy = tls_destroy,
};

static bool tls_is_ip_literal(const char *host)
{
	unsigned char addr[sizeof(struct in6_addr)];
	return inet_pton(AF_INET, host, addr) == 1 ||
	       inet_pton(AF_INET6, host, addr) == 1;
}

static SSL *tls_ssl_new(SSL_CTX *ctx, bool server, const char *server_name,
			BIO **rbio, BIO **wbio, char *errmsg)
{
	ERR_clear_error();
	SSL *ssl = SSL_new(ctx);
	if (ssl == NULL) {
		goto err;
	}
	*rbio = BIO_new(BIO_s_mem());
	*wbio = BIO_new(BIO_s_mem());
	if (*rbio == NULL || *wbio == NULL) {
		BIO_free(*rbio);
		BIO_free(*wbio);
		goto err_after_ssl;
	}
	SSL_set_bio(ssl, *rbio, *wbio);
	if (server) {
		SSL_set_accept_state(ssl);
		return ssl;
	}
	SSL_set_connect_state(ssl);
	if (server_name != NULL && server_name[0] != '\0' &&
	    !tls_is_ip_literal(server_name) &&
	    SSL_set_tlsext_host_name(ssl, server_name) != 1) {
		goto err_after_ssl;
	}
	return ssl;

err_after_ssl:
	SSL_free(ssl);
err:
	tls_errmsg_from_queue(errmsg, "create TLS session");
	return NULL;
}

int conn_tls_new(uv_loop_t *loop, SSL_CTX *ctx, bool server,
		 const char *server_name, struct conn **out, char *errmsg)
{
	PRE(ctx != NULL && out != NULL);
	BIO *rbio;
	BIO *wbio;
	SSL *ssl = tls_ssl_new(ctx, server, server_name, &rbio, &wbio, errmsg);
	if (ssl == NULL) {
		return TM_TLS;
	}
	struct conn_tls *t = tm_calloc(1, sizeof *t);
	conn_init(&t->base, loop, &tls_vtable, true);
	t->base.tls = true;
	t->ssl = ssl;
	t->rbio = rbio;
	t->wbio = wbio;
	int rv = uv_idle_init(loop, &t->pump);
	INVARIANT(rv == 0);
	t->pump.data = &t->base;
	*out = &t->base;
	return 0;
}

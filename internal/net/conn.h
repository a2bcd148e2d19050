/* A byte stream to a peer, plain or TLS, on the daemon's libuv loop.
 *
 * A conn hides whether bytes travel over TLS (OpenSSL with memory BIOs on
 * a uv_tcp_t) or in clear (the local unix socket): the HTTP server and, later,
 * the raft tunnel see plaintext only. All callbacks run on the loop thread
 * and never inside the call that started the operation.
 *
 * Lifetime: a conn is owned by whoever received it from the listener (or
 * conn_connect); it stays valid until its close callback has run. After an
 * error or EOF the owner must call conn_close(). */
#ifndef TM_NET_CONN_H
#define TM_NET_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <openssl/ssl.h>
#include <uv.h>

struct conn;

/* Plaintext arrived. BUF is borrowed, valid only during the callback. */
typedef void (*conn_read_cb)(struct conn *c, const char *buf, size_t len);
/* The peer closed the stream (status 0) or it failed (TM_* code, detail in
 * conn_errmsg). No more reads will be delivered. */
typedef void (*conn_eof_cb)(struct conn *c, int status);
/* A write queued with conn_write has been handed to the kernel (status 0)
 * or failed. */
typedef void (*conn_write_cb)(struct conn *c, void *arg, int status);
typedef void (*conn_close_cb)(struct conn *c);

/* User data slot, free for the owner. */
void *conn_data(struct conn *c);
void conn_set_data(struct conn *c, void *data);

/* Set or replace the read/eof callbacks (e.g. when an HTTP connection is
 * upgraded to a raft tunnel). Reading starts with conn_read_start. */
void conn_set_callbacks(struct conn *c, conn_read_cb read_cb,
			conn_eof_cb eof_cb);
/* Start/stop delivering read callbacks (back-pressure). While stopped,
 * the kernel buffers and TCP flow control hold the peer back. */
int conn_read_start(struct conn *c);
void conn_read_stop(struct conn *c);

/* Queue LEN bytes of plaintext. The data is copied; CB (may be NULL) is
 * called with ARG once written. Writes complete in order. */
int conn_write(struct conn *c, const void *buf, size_t len, conn_write_cb cb,
	       void *arg);

/* Close: flushes pending writes if possible (TLS close_notify), then
 * closes the handle. CB runs once everything is released; after it the
 * conn pointer is invalid. Safe to call once, at any time. */
void conn_close(struct conn *c, conn_close_cb cb);

/* Identity of the peer. */
bool conn_is_tls(const struct conn *c);
/* Unix socket: true and *uid set from SO_PEERCRED. */
bool conn_peer_uid(const struct conn *c, uid_t *uid);
/* TLS: fingerprint of the client's certificate (TLS_FINGERPRINT_LEN hex
 * characters, NUL-terminated, borrowed) or NULL if none was presented. */
const char *conn_peer_fingerprint(const struct conn *c);
/* Text form of the peer ("127.0.0.1:53422" or "unix"); borrowed. */
const char *conn_peer_name(const struct conn *c);
/* Detail of the last error. */
const char *conn_errmsg(const struct conn *c);

/* Outgoing TLS connection to ADDRESS ("host:port"); CB is called with
 * status 0 once the handshake is done, or with an error (and the conn
 * already released, c == NULL). Used by member-to-member calls. */
typedef void (*conn_connect_cb)(void *arg, struct conn *c, int status,
				const char *errmsg);
int conn_connect(uv_loop_t *loop, const char *address, SSL_CTX *ctx,
		 conn_connect_cb cb, void *arg);

#endif /* TM_NET_CONN_H */

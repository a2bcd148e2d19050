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
 * conn_errmsg). On TLS, status 0 needs the peer's close_notify; a TCP close
 * without it gives TM_IO (it cannot be told from a truncation). No more
 * reads will be delivered. */
typedef void (*conn_eof_cb)(struct conn *c, int status);
/* A write queued with conn_write has been handed to the kernel (status 0)
 * or failed (TM_IO; TM_CANCELED if the conn was closed before it could be
 * sent). */
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
 * the kernel buffers and TCP flow control hold the peer back; plaintext
 * already decrypted is kept and delivered after the next start (from the
 * loop, never from inside conn_read_start). read_cb and eof_cb must be set.
 * Starting after EOF does nothing; after conn_close it fails. */
int conn_read_start(struct conn *c);
void conn_read_stop(struct conn *c);

/* Queue LEN bytes of plaintext (LEN may be 0). The data is copied; CB (may
 * be NULL) is called with ARG once written. Writes complete in order. On a
 * non-zero return (TM_CANCELED after conn_close, TM_TLS/TM_IO on a failed
 * stream) nothing was queued and CB will not be called. */
int conn_write(struct conn *c, const void *buf, size_t len, conn_write_cb cb,
	       void *arg);

/* Close: stops reading (no read or eof callback runs after this call),
 * sends TLS close_notify, flushes queued writes as long as they make
 * progress, then closes the handle. Writes that could not be flushed
 * complete with TM_CANCELED before CB. CB (may be NULL) runs last; C is
 * still valid during CB (conn_data works) and freed right after it. Safe
 * at any time; a second call is ignored. */
void conn_close(struct conn *c, conn_close_cb cb);

/* Bytes queued with conn_write (after TLS) that the kernel has not taken
 * yet: what a slow or gone peer leaves piling up. */
size_t conn_write_queue_size(const struct conn *c);

/* Has the peer finished sending (EOF) or reset the stream, even though
 * bytes it sent before may still wait to be read? A cheap non-blocking
 * look at the socket (poll for POLLRDHUP), for owners that should not
 * start more work for a peer that is gone (pipelined requests). */
bool conn_peer_closed(const struct conn *c);

/* Identity of the peer. */
bool conn_is_tls(const struct conn *c);
/* Unix socket: true and *uid set from SO_PEERCRED. */
bool conn_peer_uid(const struct conn *c, uid_t *uid);
/* TLS: fingerprint of the peer's certificate (TLS_FINGERPRINT_LEN hex
 * characters, NUL-terminated, borrowed) or NULL if none was presented: the
 * client's on accepted conns, the server's on conn_connect ones (pin it). */
const char *conn_peer_fingerprint(const struct conn *c);
/* TLS: why the peer's certificate may not authenticate it (its key is
 * too weak, see tls_check_key_strength), borrowed; NULL if it may, or if
 * there is no certificate. */
const char *conn_peer_key_weakness(const struct conn *c);
/* Text form of the peer ("127.0.0.1:53422" or "unix"); borrowed. */
const char *conn_peer_name(const struct conn *c);
/* Detail of the last error. */
const char *conn_errmsg(const struct conn *c);

/* Outgoing TLS connection to ADDRESS ("host:port"); CB is called with
 * status 0 once the handshake is done (reading stopped; errmsg ""), or
 * with an error (and the conn already released, c == NULL). Every
 * failure, a malformed address included, is reported through CB with a
 * message, so the return value is always 0. Resolution, connection and
 * handshake together are bounded by 10 s. CTX is borrowed and must
 * outlive the attempt. Used by member-to-member calls. */
typedef void (*conn_connect_cb)(void *arg, struct conn *c, int status,
				const char *errmsg);
int conn_connect(uv_loop_t *loop, const char *address, SSL_CTX *ctx,
		 conn_connect_cb cb, void *arg);

/* An outgoing connection attempt that its owner may cancel. */
struct conn_connect;
/* conn_connect, also setting *ATTEMPT to the attempt: valid until CB
 * runs, for conn_connect_cancel. */
int conn_connect_cancelable(uv_loop_t *loop, const char *address, SSL_CTX *ctx,
			    conn_connect_cb cb, void *arg,
			    struct conn_connect **attempt);
/* End ATTEMPT now: CB still runs exactly once, from the loop, once all
 * the attempt held is released, with TM_CANCELED and no conn, even if the
 * connection had just been made. Call at most until CB has run. */
void conn_connect_cancel(struct conn_connect *attempt);

#endif /* TM_NET_CONN_H */

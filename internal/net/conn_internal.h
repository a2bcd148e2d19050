/* Inside a conn: the part shared by every kind of stream and the small
 * vtable that a kind implements (plain: conn_plain.c, TLS: conn_tls.c).
 * Private to internal/net.
 *
 * The shared part owns the libuv stream handle (a unix pipe or a TCP
 * socket) and a timer, writes owned buffers to the stream in order, and
 * runs the close sequence:
 *
 *   conn_close -> stop reading -> vt->close_begin (TLS: close_notify)
 *   -> uv_shutdown, which waits for queued writes to reach the kernel
 *   -> uv_close of every handle -> user close callback -> vt->destroy.
 *
 * If queued writes make no progress for linger_ms (the peer does not
 * read), the handles are closed anyway and the writes left in the queue
 * complete with TM_CANCELED, before the close callback. */
#ifndef TM_NET_CONN_INTERNAL_H
#define TM_NET_CONN_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "internal/lib/err.h"
#include "internal/net/conn.h"
#include "internal/net/limiter.h"
#include "internal/tls/tls.h"

#define CONN_LINGER_MS 10000
#define CONN_PEER_NAME_SIZE 64

struct conn_vtable {
	/* conn_read_start/stop past the common checks. */
	int (*read_start)(struct conn *c);
	void (*read_stop)(struct conn *c);
	/* conn_write past the common checks: BUF is borrowed. */
	int (*write)(struct conn *c, const void *buf, size_t len,
		     conn_write_cb cb, void *arg);
	/* First step of a close, reading already stopped: last words to the
	 * peer (may call conn_stream_write). */
	void (*close_begin)(struct conn *c);
	/* uv_close the kind's own handles with conn_handle_closed_cb; returns
	 * how many it closed. */
	unsigned (*close_handles)(struct conn *c);
	/* Free the kind's resources and the conn itself. */
	void (*destroy)(struct conn *c);
};

struct conn {
	void *data; /* owner's slot */
	const struct conn_vtable *vt;
	uv_loop_t *loop;
	union {
		uv_handle_t handle;
		uv_stream_t stream;
		uv_tcp_t tcp;
		uv_pipe_t pipe;
	} h;
	uv_timer_t timer; /* TLS handshake timeout, then close linger */
	uv_shutdown_t shutdown;

	conn_read_cb read_cb;
	conn_eof_cb eof_cb;
	conn_close_cb close_cb;

	bool reading;	    /* the owner wants read callbacks */
	bool eof_delivered; /* eof_cb has run: no more reads */
	bool closing;	    /* conn_close was called */
	bool handles_closing;
	bool stream_broken; /* the stream failed: skip the graceful flush */
	unsigned handles_open;
	uint64_t linger_ms;
	size_t linger_queue; /* write queue size at the last linger tick */

	bool tls;
	bool has_uid;
	uid_t uid;
	bool has_fingerprint;
	char fingerprint[TLS_FINGERPRINT_LEN + 1];
	bool peer_key_weak; /* why in peer_key_errmsg */
	char peer_key_errmsg[TM_ERRMSG_SIZE];
	char peer_name[CONN_PEER_NAME_SIZE];
	char errmsg[TM_ERRMSG_SIZE];

	/* Counted against a listener's caps until its handles are closed;
	 * NULL if not counted (unix socket, outgoing). A reference. */
	struct net_limiter *limiter;
	char limiter_key[LIMITER_KEY_SIZE];
};

/* Initialise the shared part of C (allocated by the kind, zeroed): a TCP
 * handle if TCP, else a pipe, plus the timer. */
void conn_init(struct conn *c, uv_loop_t *loop, const struct conn_vtable *vt,
	       bool tcp);

/* Queue BUF (owned; freed when written) on the stream; CB (may be NULL)
 * gets the result. On a synchronous failure BUF is freed, errmsg set and
 * a TM_* code returned; CB is not called. */
int conn_stream_write(struct conn *c, char *buf, size_t len, conn_write_cb cb,
		      void *arg);

/* Deliver end of stream (STATUS 0) or failure to the owner, once. */
void conn_deliver_eof(struct conn *c, int status);

/* Close callback for the kind's own handles (handle->data == conn). */
void conn_handle_closed_cb(uv_handle_t *handle);

/* Fill peer_name from the TCP handle's peer address. */
void conn_set_peer_name_tcp(struct conn *c);

/* Translate a libuv error into TM_IO with "WHAT: <uv message>". */
int conn_uv_error(struct conn *c, int uv_rv, const char *what);

/* TLS kind (conn_tls.c). */

/* A TLS conn with a fresh TCP handle, not yet connected. SSL is created
 * from CTX (borrowed; the SSL holds its own reference). SERVER_NAME (may
 * be NULL) is sent as SNI by a client. */
int conn_tls_new(uv_loop_t *loop, SSL_CTX *ctx, bool server,
		 const char *server_name, struct conn **out, char *errmsg);

/* Run the handshake on a connected conn. CB runs once, from a loop
 * callback, with 0 (the conn is ready, reading stopped) or a TM_* code
 * (detail in conn_errmsg; the caller closes the conn). TIMEOUT_MS 0
 * means no timeout. */
typedef void (*conn_handshake_cb)(struct conn *c, void *arg, int status);
void conn_tls_handshake(struct conn *c, uint64_t timeout_ms,
			conn_handshake_cb cb, void *arg);

/* Plain kind (conn_plain.c): a conn with a fresh, unconnected pipe. */
struct conn *conn_plain_new(uv_loop_t *loop);

/* Format a socket address as "1.2.3.4:5" or "[::1]:5" (IPv4-mapped IPv6
 * addresses as IPv4). */
void net_format_sockaddr(const struct sockaddr *sa, char *out, size_t size);

/* net_split_address, optionally accepting port 0 (ephemeral, listeners). */
int net_split_address_port(const char *address, int default_port,
			   bool allow_zero, char *host, int *port,
			   char *errmsg);

#endif /* TM_NET_CONN_INTERNAL_H */

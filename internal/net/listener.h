/* Accepting connections: a TCP listener with TLS, or a unix socket in
 * clear. Each accepted connection is delivered as a struct conn whose TLS
 * handshake (if any) has completed. */
#ifndef TM_NET_LISTENER_H
#define TM_NET_LISTENER_H

#include <openssl/ssl.h>
#include <uv.h>

#include "internal/net/conn.h"

struct listener;

/* A new connection; the callee owns C. */
typedef void (*listener_conn_cb)(struct listener *l, struct conn *c);
typedef void (*listener_close_cb)(struct listener *l);

/* Listen on ADDRESS ("host:port", "[v6]:port"; port defaults to 8443)
 * with TLS context CTX (borrowed: must outlive the listener).
 * Fails with TM_IO and a message naming the address if the bind fails. */
int listener_tcp(uv_loop_t *loop, const char *address, SSL_CTX *ctx,
		 listener_conn_cb cb, void *data, struct listener **out,
		 char *errmsg);

/* Listen on a unix socket at PATH (an old socket file is replaced), with
 * mode 0660. */
int listener_unix(uv_loop_t *loop, const char *path, listener_conn_cb cb,
		  void *data, struct listener **out, char *errmsg);

void *listener_data(struct listener *l);
/* The address actually bound ("127.0.0.1:8443"), borrowed. */
const char *listener_address(const struct listener *l);

/* Stop accepting; connections already accepted are not affected. CB runs
 * after the handle is closed and the listener freed. */
void listener_close(struct listener *l, listener_close_cb cb);

/* Split "host:port" / "[v6]:port" / "host" (default port) into parts.
 * HOST must hold 256 bytes. Validates the port (1..65535). */
int net_split_address(const char *address, int default_port, char *host,
		      int *port, char *errmsg);

#define NET_DEFAULT_PORT 8443

#endif /* TM_NET_LISTENER_H */

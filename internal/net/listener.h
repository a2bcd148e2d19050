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

/* Listen on ADDRESS ("host:port", "[v6]:port"; port defaults to 8443;
 * an empty host, ":8443", means every address; port 0 picks a free port,
 * see listener_address) with TLS context CTX (borrowed: must outlive the
 * listener). A client has 10 s to finish its handshake.
 * Fails with TM_IO and a message naming the address if the bind fails. */
int listener_tcp(uv_loop_t *loop, const char *address, SSL_CTX *ctx,
		 listener_conn_cb cb, void *data, struct listener **out,
		 char *errmsg);

/* Listen on a unix socket at PATH (an old socket file is replaced), with
 * mode 0660. Fails with TM_BUSY if another process still listens there,
 * TM_EXISTS if PATH is not a socket. Accepted conns carry the peer's uid
 * (SO_PEERCRED). The socket file is removed by listener_close. */
int listener_unix(uv_loop_t *loop, const char *path, listener_conn_cb cb,
		  void *data, struct listener **out, char *errmsg);

/* Caps on the connections of a TCP listener (0: none, the default): in
 * total and per client address. A connection counts from its accept until
 * it is closed, whoever owns it then; connections over a cap are closed at
 * accept, and logged at debug level at most once a second. Applies to new
 * connections. Unix listeners have no caps. */
void listener_set_caps(struct listener *l, unsigned max_connections,
		       unsigned max_per_address);

void *listener_data(struct listener *l);
/* The address actually bound ("127.0.0.1:8443"), borrowed. */
const char *listener_address(const struct listener *l);

/* Stop accepting; connections already accepted are not affected, those
 * still in their TLS handshake are closed. CB (may be NULL) runs once all
 * of that is closed; L is still valid during CB (listener_data works) and
 * freed right after it. */
void listener_close(struct listener *l, listener_close_cb cb);

/* Split "host:port" / "[v6]:port" / "host" (default port) into parts; a
 * bare IPv6 address ("::1") is a host without port, ":port" gives an empty
 * host. HOST must hold 256 bytes. Validates the port (1..65535); the
 * message names the bad value. */
int net_split_address(const char *address, int default_port, char *host,
		      int *port, char *errmsg);

#define NET_DEFAULT_PORT 8443

#endif /* TM_NET_LISTENER_H */

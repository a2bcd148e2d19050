/* Accepting connections.
 *
 * TCP: caps (limiter.h) -> accept -> new TLS conn -> handshake (bounded by
 * the handshake timeout) -> the owner's callback. A connection over the
 * total cap is taken off the backlog and closed before anything is
 * allocated for it; one over its address's cap is closed right after the
 * accept, before any TLS work. Until its handshake ends a conn
 * belongs to the listener, which keeps it in `pending`; a failed handshake
 * is logged and the conn closed; listener_close closes the pending ones.
 * Unix: accept -> plain conn with the peer's uid -> the owner's callback.
 *
 * listener_close: the listening handle and every pending conn close
 * asynchronously; each close callback counts down `closing_parts` and the
 * last one calls the owner's callback, then frees the listener. */
#include "internal/net/listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "internal/lib/assert.h"
#include "internal/lib/err.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"
#include "internal/net/conn_internal.h"
#include "internal/net/tuning.h"

#define LISTENER_BACKLOG 511
#define LISTENER_ADDRESS_SIZE 320
#define LISTENER_KEEPALIVE_S 60

struct listener {
	void *data;
	uv_loop_t *loop;
	union {
		uv_handle_t handle;
		uv_stream_t stream;
		uv_tcp_t tcp;
		uv_pipe_t pipe;
	} h;
	SSL_CTX *ctx; /* borrowed; NULL for a unix listener */
	listener_conn_cb cb;
	listener_close_cb close_cb;
	bool closing;
	unsigned closing_parts;
	uint64_t handshake_timeout_ms;
	struct net_limiter *limiter; /* TCP: connection caps, a reference */
	struct conn **pending;	     /* conns still in their TLS handshake */
	size_t n_pending;
	size_t cap_pending;
	char *path; /* unix socket path, owned */
	char address[LISTENER_ADDRESS_SIZE];
};

static struct listener *listener_new(uv_loop_t *loop, listener_conn_cb cb,
				     void *data)
{
	struct listener *l = tm_calloc(1, sizeof *l);
	l->loop = loop;
	l->cb = cb;
	l->data = data;
	l->handshake_timeout_ms = NET_HANDSHAKE_TIMEOUT_MS;
	return l;
}

static void listener_free(struct listener *l)
{
	INVARIANT(l->n_pending == 0);
	if (l->limiter != NULL) {
		limiter_unref(l->limiter);
	}
	tm_free(l->pending);
	tm_free(l->path);
	tm_free(l);
}

/* A listener whose setup failed: the handle was initialised, so it must
 * be closed before the memory goes. */
static void listener_abort_closed_cb(uv_handle_t *handle)
{
	listener_free(handle->data);
}

static void listener_abort(struct listener *l)
{
	uv_close(&l->h.handle, listener_abort_closed_cb);
}

void *listener_data(struct listener *l) { return l->data; }

const char *listener_address(const struct listener *l) { return l->address; }

void listener_set_handshake_timeout(struct listener *l, uint64_t ms)
{
	l->handshake_timeout_ms = ms;
}

unsigned listener_connections(const struct listener *l, const char *address)
{
	PRE(l->limiter != NULL);
	return address != NULL ? limiter_count(l->limiter, address)
			       : limiter_total(l->limiter);
}

void listener_set_caps(struct listener *l, unsigned max_connections,
		       unsigned max_per_address)
{
	PRE(l->limiter != NULL);
	limiter_set(l->limiter, max_connections, max_per_address);
}

/* TLS: handshakes in progress. */

static void listener_pending_add(struct listener *l, struct conn *c)
{
	if (l->n_pending == l->cap_pending) {
		l->cap_pending = l->cap_pending == 0 ? 8 : 2 * l->cap_pending;
		l->pending =
		    tm_realloc(l->pending, l->cap_pending * sizeof *l->pending);
	}
	l->pending[l->n_pending++] = c;
}

static void listener_pending_remove(struct listener *l, struct conn *c)
{
	for (size_t i = 0; i < l->n_pending; i++) {
		if (l->pending[i] == c) {
			l->pending[i] = l->pending[--l->n_pending];
			return;
		}
	}
	IMPOSSIBLE("conn not pending on its listener");
}

static void listener_handshake_cb(struct conn *c, void *arg, int status)
{
	struct listener *l = arg;
	listener_pending_remove(l, c);
	if (status != 0) {
		LOGD("net: TLS handshake with %s failed: %s", conn_peer_name(c),
		     conn_errmsg(c));
		conn_close(c, NULL);
		return;
	}
	LOGT("net: TLS connection from %s (client certificate %s)",
	     conn_peer_name(c), c->has_fingerprint ? c->fingerprint : "none");
	l->cb(l, c);
}

static void listener_discard_closed_cb(uv_handle_t *handle) { tm_free(handle); }

/* Take a connection off the backlog without serving it: libuv stops
 * accepting until the pending one is taken. */
static void listener_discard(struct listener *l)
{
	uv_tcp_t *tcp = tm_malloc(sizeof *tcp);
	uv_tcp_init(l->loop, tcp);
	uv_accept(&l->h.stream, (uv_stream_t *)tcp);
	uv_close((uv_handle_t *)tcp, listener_discard_closed_cb);
}

/* The client's address without the port, IPv4-mapped IPv6 as IPv4. */
static void listener_peer_key(struct conn *c, char *key)
{
	struct sockaddr_storage ss;
	int len = (int)sizeof ss;
	snprintf(key, LIMITER_KEY_SIZE, "unknown");
	if (uv_tcp_getpeername(&c->h.tcp, (struct sockaddr *)&ss, &len) != 0) {
		return;
	}
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &in->sin_addr, key, LIMITER_KEY_SIZE);
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], key,
				  LIMITER_KEY_SIZE);
		} else {
			inet_ntop(AF_INET6, &in6->sin6_addr, key,
				  LIMITER_KEY_SIZE);
		}
	}
}

/* Count C against the caps; false (and C closed) if over them. */
static bool listener_admit(struct listener *l, struct conn *c)
{
	listener_peer_key(c, c->limiter_key);
	if (!limiter_acquire(l->limiter, c->limiter_key)) {
		limiter_note_refused(l->limiter, uv_now(l->loop), l->address,
				     c->limiter_key);
		c->stream_broken = true; /* nothing to flush: close at once */
		conn_close(c, NULL);
		return false;
	}
	limiter_ref(l->limiter);
	c->limiter = l->limiter;
	return true;
}

static void listener_tcp_connection_cb(uv_stream_t *server, int status)
{
	struct listener *l = server->data;
	char errmsg[TM_ERRMSG_SIZE];
	struct conn *c;
	if (status < 0) {
		LOGW("net: accept on %s: %s", l->address, uv_strerror(status));
		return;
	}
	if (limiter_full(l->limiter)) {
		/* Refused before anything is allocated for it. */
		limiter_note_refused(l->limiter, uv_now(l->loop), l->address,
				     "any address");
		listener_discard(l);
		return;
	}
	int rv = conn_tls_new(l->loop, l->ctx, true, NULL, &c, errmsg);
	if (rv != 0) {
		LOGW("net: accept on %s: %s", l->address, errmsg);
		listener_discard(l);
		return;
	}
	rv = uv_accept(server, &c->h.stream);
	if (rv != 0) {
		LOGW("net: accept on %s: %s", l->address, uv_strerror(rv));
		conn_close(c, NULL);
		return;
	}
	if (!listener_admit(l, c)) {
		return;
	}
	uv_tcp_nodelay(&c->h.tcp, 1);
	uv_tcp_keepalive(&c->h.tcp, 1, LISTENER_KEEPALIVE_S);
	conn_set_peer_name_tcp(c);
	listener_pending_add(l, c);
	conn_tls_handshake(c, l->handshake_timeout_ms, listener_handshake_cb,
			   l);
}

/* HOST:PORT as a socket address. An empty host means every address
 * (IPv6 and, through mapped addresses, IPv4). Names are resolved with a
 * blocking getaddrinfo: listeners are opened at start-up or on a config
 * change, and "localhost" comes from /etc/hosts. */
static int listener_resolve(const char *address, const char *host, int port,
			    struct sockaddr_storage *ss, char *errmsg)
{
	struct addrinfo hints;
	struct addrinfo *res = NULL;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	int rv = getaddrinfo(host[0] != '\0' ? host : NULL, "0", &hints, &res);
	if (rv != 0) {
		tm_errmsg_printf(errmsg, "listen on %s: %s", address,
				 gai_strerror(rv));
		return TM_IO;
	}
	const struct addrinfo *pick = NULL;
	for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
		bool ip = ai->ai_family == AF_INET || ai->ai_family == AF_INET6;
		if (ip && (pick == NULL ||
			   (host[0] == '\0' && ai->ai_family == AF_INET6))) {
			pick = ai;
		}
	}
	if (pick == NULL) {
		freeaddrinfo(res);
		tm_errmsg_printf(errmsg, "listen on %s: no IP address",
				 address);
		return TM_IO;
	}
	memset(ss, 0, sizeof *ss);
	memcpy(ss, pick->ai_addr, pick->ai_addrlen);
	if (ss->ss_family == AF_INET) {
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	} else {
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
	}
	freeaddrinfo(res);
	return 0;
}

int listener_tcp(uv_loop_t *loop, const char *address, SSL_CTX *ctx,
		 listener_conn_cb cb, void *data, struct listener **out,
		 char *errmsg)
{
	PRE(loop != NULL && address != NULL && ctx != NULL && cb != NULL);
	PRE(out != NULL);
	char host[256];
	int port;
	struct sockaddr_storage ss;
	int rv = net_split_address_port(address, NET_DEFAULT_PORT, true, host,
					&port, errmsg);
	if (rv != 0) {
		return rv;
	}
	rv = listener_resolve(address, host, port, &ss, errmsg);
	if (rv != 0) {
		return rv;
	}

	struct listener *l = listener_new(loop, cb, data);
	l->ctx = ctx;
	l->limiter = limiter_new();
	rv = uv_tcp_init(loop, &l->h.tcp);
	INVARIANT(rv == 0);
	l->h.handle.data = l;
	/* libuv reports some bind errors (EADDRINUSE) only at listen. */
	rv = uv_tcp_bind(&l->h.tcp, (struct sockaddr *)&ss, 0);
	if (rv == 0) {
		rv = uv_listen(&l->h.stream, LISTENER_BACKLOG,
			       listener_tcp_connection_cb);
	}
	if (rv != 0) {
		tm_errmsg_printf(errmsg, "listen on %s: %s", address,
				 uv_strerror(rv));
		listener_abort(l);
		return TM_IO;
	}
	int len = (int)sizeof ss;
	if (uv_tcp_getsockname(&l->h.tcp, (struct sockaddr *)&ss, &len) == 0) {
		net_format_sockaddr((struct sockaddr *)&ss, l->address,
				    sizeof l->address);
	} else {
		snprintf(l->address, sizeof l->address, "%s", address);
	}
	*out = l;
	return 0;
}

/* Unix socket. */

static void listener_unix_connection_cb(uv_stream_t *server, int status)
{
	struct listener *l = server->data;
	if (status < 0) {
		LOGW("net: accept on %s: %s", l->path, uv_strerror(status));
		return;
	}
	struct conn *c = conn_plain_new(l->loop);
	int rv = uv_accept(server, &c->h.stream);
	uv_os_fd_t fd;
	struct ucred cred;
	socklen_t len = sizeof cred;
	if (rv == 0) {
		rv = uv_fileno(&c->h.handle, &fd);
	}
	if (rv == 0 &&
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
		rv = uv_translate_sys_error(errno);
	}
	if (rv != 0) {
		LOGW("net: accept on %s: %s", l->path, uv_strerror(rv));
		conn_close(c, NULL);
		return;
	}
	c->has_uid = true;
	c->uid = cred.uid;
	snprintf(c->peer_name, sizeof c->peer_name, "unix");
	l->cb(l, c);
}

/* Make room for our socket at PATH: remove a stale socket file, but not a
 * socket someone still listens on, nor anything that is not a socket. */
static int listener_unix_prepare(const char *path, char *errmsg)
{
	struct sockaddr_un sun;
	struct stat st;
	if (strlen(path) >= sizeof sun.sun_path) {
		tm_errmsg_printf(errmsg, "socket path %s is too long", path);
		return TM_INVALID;
	}
	if (lstat(path, &st) != 0) {
		return 0;
	}
	if (!S_ISSOCK(st.st_mode)) {
		tm_errmsg_printf(errmsg, "%s exists and is not a socket", path);
		return TM_EXISTS;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		memset(&sun, 0, sizeof sun);
		sun.sun_family = AF_UNIX;
		strcpy(sun.sun_path, path);
		int live = connect(fd, (struct sockaddr *)&sun, sizeof sun);
		close(fd);
		if (live == 0) {
			tm_errmsg_printf(
			    errmsg, "another process is listening on %s", path);
			return TM_BUSY;
		}
	}
	if (unlink(path) != 0 && errno != ENOENT) {
		tm_errmsg_printf(errmsg, "remove stale socket %s: %s", path,
				 strerror(errno));
		return TM_IO;
	}
	return 0;
}

int listener_unix(uv_loop_t *loop, const char *path, listener_conn_cb cb,
		  void *data, struct listener **out, char *errmsg)
{
	PRE(loop != NULL && path != NULL && cb != NULL && out != NULL);
	int rv = listener_unix_prepare(path, errmsg);
	if (rv != 0) {
		return rv;
	}
	struct listener *l = listener_new(loop, cb, data);
	rv = uv_pipe_init(loop, &l->h.pipe, 0);
	INVARIANT(rv == 0);
	l->h.handle.data = l;
	const char *what = "bind";
	rv = uv_pipe_bind(&l->h.pipe, path);
	/* The mode is set before listen: nobody can connect in between. */
	if (rv == 0 && chmod(path, 0660) != 0) {
		what = "chmod";
		rv = uv_translate_sys_error(errno);
	}
	if (rv == 0) {
		what = "listen on";
		rv = uv_listen(&l->h.stream, LISTENER_BACKLOG,
			       listener_unix_connection_cb);
	}
	if (rv != 0) {
		tm_errmsg_printf(errmsg, "%s %s: %s", what, path,
				 uv_strerror(rv));
		listener_abort(l);
		return TM_IO;
	}
	l->path = tm_strdup(path);
	snprintf(l->address, sizeof l->address, "%s", path);
	*out = l;
	return 0;
}

/* Closing. */

static void listener_part_closed(struct listener *l)
{
	INVARIANT(l->closing_parts > 0);
	l->closing_parts--;
	if (l->closing_parts > 0) {
		return;
	}
	if (l->close_cb != NULL) {
		l->close_cb(l);
	}
	listener_free(l);
}

static void listener_handle_closed_cb(uv_handle_t *handle)
{
	listener_part_closed(handle->data);
}

static void listener_pending_closed_cb(struct conn *c)
{
	listener_part_closed(conn_data(c));
}

void listener_close(struct listener *l, listener_close_cb cb)
{
	PRE(!l->closing);
	l->closing = true;
	l->close_cb = cb;
	l->closing_parts = 1 + (unsigned)l->n_pending;
	uv_close(&l->h.handle, listener_handle_closed_cb);
	for (size_t i = 0; i < l->n_pending; i++) {
		struct conn *c = l->pending[i];
		conn_set_data(c, l);
		conn_close(c, listener_pending_closed_cb);
	}
	l->n_pending = 0;
	if (l->path != NULL && unlink(l->path) != 0 && errno != ENOENT) {
		LOGW("net: remove socket %s: %s", l->path, strerror(errno));
	}
}

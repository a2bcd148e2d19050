/* Outgoing TLS connections (conn_connect).
 *
 * Happy path: split the address -> uv_getaddrinfo -> uv_tcp_connect to
 * the first address -> TLS client handshake -> the caller's callback with
 * the conn (reading stopped).
 *
 * Failures, each reported through the callback with a message:
 * - a malformed address (TM_INVALID);
 * - resolution fails (TM_IO);
 * - connecting fails: the next resolved address is tried; when none is
 *   left, the last error is reported (TM_IO);
 * - the handshake fails (TM_TLS; other addresses are not tried: they
 *   lead to the same server);
 * - the whole attempt takes longer than NET_CONNECT_TIMEOUT_MS
 *   (TM_TIMEOUT).
 *
 * conn_connect_cancel ends the attempt with TM_CANCELED wherever it is,
 * even after success was decided (the conn is then closed instead of
 * handed over).
 *
 * conn_connect never calls back from inside itself, so even a malformed
 * address is reported from the loop, which lets it carry a message.
 * connect_finish releases everything the attempt holds (timer, resolver
 * request, half-made conns) and calls the caller last, once all of it is
 * gone. */
#include <netdb.h>
#include <stdio.h>
#include <string.h>

#include "internal/lib/assert.h"
#include "internal/lib/err.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"
#include "internal/net/conn_internal.h"
#include "internal/net/listener.h"
#include "internal/net/tuning.h"

struct conn_connect {
	uv_loop_t *loop;
	SSL_CTX *ctx; /* borrowed */
	conn_connect_cb cb;
	void *arg;
	char *address; /* owned, for messages */
	char host[256];
	int port;

	uv_getaddrinfo_t resolve;
	bool resolving;
	struct addrinfo *addrs; /* owned */
	struct addrinfo *next_addr;
	uv_connect_t connect;
	bool tcp_connecting; /* connect is pending on c */
	struct conn *c;	     /* the attempt in progress */
	unsigned conns_closing;
	uv_timer_t timer; /* deadline; also defers early failures */
	bool timer_closed;

	bool done; /* outcome decided, releasing */
	bool canceled;
	int status;
	struct conn *result;
	char errmsg[TM_ERRMSG_SIZE];
};

static void connect_maybe_finish(struct conn_connect *op)
{
	if (!op->timer_closed || op->resolving || op->conns_closing > 0) {
		return;
	}
	conn_connect_cb cb = op->cb;
	void *arg = op->arg;
	struct conn *c = op->result;
	int status = op->status;
	char errmsg[TM_ERRMSG_SIZE];
	memcpy(errmsg, op->errmsg, sizeof errmsg);
	if (op->addrs != NULL) {
		uv_freeaddrinfo(op->addrs);
	}
	tm_free(op->address);
	tm_free(op);
	cb(arg, c, status, errmsg);
}

static void connect_timer_closed_cb(uv_handle_t *handle)
{
	struct conn_connect *op = handle->data;
	op->timer_closed = true;
	connect_maybe_finish(op);
}

static void connect_conn_closed_cb(struct conn *c)
{
	struct conn_connect *op = conn_data(c);
	op->conns_closing--;
	connect_maybe_finish(op);
}

static void connect_drop_conn(struct conn_connect *op)
{
	if (op->c == NULL) {
		return;
	}
	conn_set_data(op->c, op);
	/* A socket still connecting has nothing to flush: a graceful close
	 * would wait for a shutdown that libuv only starts once the
	 * connection is made, or for the linger timeout. */
	if (op->tcp_connecting) {
		op->c->stream_broken = true;
	}
	op->conns_closing++;
	conn_close(op->c, connect_conn_closed_cb);
	op->c = NULL;
}

/* Decide the outcome (STATUS, with op->errmsg set on failure) and start
 * releasing what the attempt holds. */
static void connect_finish(struct conn_connect *op, int status)
{
	if (op->done) {
		return;
	}
	op->done = true;
	op->status = status;
	if (status == 0) {
		op->result = op->c;
		op->c = NULL;
		op->errmsg[0] = '\0';
	} else {
		LOGD("net: connect to %s failed: %s", op->address, op->errmsg);
		connect_drop_conn(op);
	}
	if (op->resolving) {
		/* If the lookup already runs, its callback comes anyway. */
		uv_cancel((uv_req_t *)&op->resolve);
	}
	uv_close((uv_handle_t *)&op->timer, connect_timer_closed_cb);
}

static void connect_timer_cb(uv_timer_t *timer)
{
	struct conn_connect *op = timer->data;
	if (op->status == 0) {
		op->status = TM_TIMEOUT;
		tm_errmsg_printf(op->errmsg,
				 "connect to %s: timed out after "
				 "%d ms",
				 op->address, NET_CONNECT_TIMEOUT_MS);
	}
	connect_finish(op, op->status);
}

static void connect_try_next(struct conn_connect *op);

static void connect_handshake_cb(struct conn *c, void *arg, int status)
{
	struct conn_connect *op = arg;
	INVARIANT(c == op->c);
	if (status != 0) {
		tm_errmsg_printf(op->errmsg, "connect to %s: %s", op->address,
				 conn_errmsg(c));
	}
	connect_finish(op, status);
}

static void connect_connected_cb(uv_connect_t *req, int status)
{
	struct conn_connect *op = req->data;
	op->tcp_connecting = false;
	if (op->done) {
		return; /* canceled by connect_finish closing the conn */
	}
	struct conn *c = op->c;
	if (status < 0) {
		tm_errmsg_printf(op->errmsg, "connect to %s (%s): %s",
				 op->address, c->peer_name,
				 uv_strerror(status));
		c->stream_broken = true; /* never connected: nothing to flush */
		connect_drop_conn(op);
		connect_try_next(op);
		return;
	}
	uv_tcp_nodelay(&c->h.tcp, 1);
	uv_tcp_keepalive(&c->h.tcp, 1, 60);
	conn_tls_handshake(c, 0, connect_handshake_cb, op);
}

static void connect_try_next(struct conn_connect *op)
{
	while (op->next_addr != NULL) {
		struct addrinfo *ai = op->next_addr;
		op->next_addr = ai->ai_next;
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) {
			continue;
		}
		struct conn *c;
		int rv = conn_tls_new(op->loop, op->ctx, false, op->host, &c,
				      op->errmsg);
		if (rv != 0) {
			connect_finish(op, rv);
			return;
		}
		op->c = c;
		net_format_sockaddr(ai->ai_addr, c->peer_name,
				    sizeof c->peer_name);
		rv = uv_tcp_connect(&op->connect, &c->h.tcp, ai->ai_addr,
				    connect_connected_cb);
		if (rv == 0) {
			op->tcp_connecting = true;
			return;
		}
		tm_errmsg_printf(op->errmsg, "connect to %s (%s): %s",
				 op->address, c->peer_name, uv_strerror(rv));
		connect_drop_conn(op);
	}
	if (op->errmsg[0] == '\0') {
		tm_errmsg_printf(op->errmsg, "connect to %s: no IP address",
				 op->address);
	}
	connect_finish(op, TM_IO);
}

static void connect_resolved_cb(uv_getaddrinfo_t *req, int status,
				struct addrinfo *res)
{
	struct conn_connect *op = req->data;
	op->resolving = false;
	op->addrs = res;
	op->next_addr = res;
	if (op->done) {
		connect_maybe_finish(op);
		return;
	}
	if (status != 0) {
		tm_errmsg_printf(op->errmsg, "resolve %s: %s", op->host,
				 uv_strerror(status));
		connect_finish(op, TM_IO);
		return;
	}
	connect_try_next(op);
}

/* Start resolving; 0 or a failure with op->errmsg set. */
static int connect_start(struct conn_connect *op)
{
	int rv = net_split_address(op->address, NET_DEFAULT_PORT, op->host,
				   &op->port, op->errmsg);
	if (rv != 0) {
		return rv;
	}
	if (op->host[0] == '\0') {
		tm_errmsg_printf(op->errmsg, "no host in address \"%s\"",
				 op->address);
		return TM_INVALID;
	}
	char service[8];
	snprintf(service, sizeof service, "%d", op->port);
	struct addrinfo hints;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	rv = uv_getaddrinfo(op->loop, &op->resolve, connect_resolved_cb,
			    op->host, service, &hints);
	if (rv != 0) {
		tm_errmsg_printf(op->errmsg, "resolve %s: %s", op->host,
				 uv_strerror(rv));
		return TM_IO;
	}
	op->resolving = true;
	return 0;
}

int conn_connect_cancelable(uv_loop_t *loop, const char *address, SSL_CTX *ctx,
			    conn_connect_cb cb, void *arg,
			    struct conn_connect **attempt)
{
	PRE(loop != NULL && address != NULL && ctx != NULL && cb != NULL);
	struct conn_connect *op = tm_calloc(1, sizeof *op);
	op->loop = loop;
	op->ctx = ctx;
	op->cb = cb;
	op->arg = arg;
	op->address = tm_strdup(address);
	op->resolve.data = op;
	op->connect.data = op;
	int rv = uv_timer_init(loop, &op->timer);
	INVARIANT(rv == 0);
	op->timer.data = op;
	if (attempt != NULL) {
		*attempt = op;
	}
	rv = connect_start(op);
	if (rv != 0) {
		op->status = rv; /* reported by the timer, from the loop */
		uv_timer_start(&op->timer, connect_timer_cb, 0, 0);
		return 0;
	}
	uv_timer_start(&op->timer, connect_timer_cb, NET_CONNECT_TIMEOUT_MS, 0);
	return 0;
}

int conn_connect(uv_loop_t *loop, const char *address, SSL_CTX *ctx,
		 conn_connect_cb cb, void *arg)
{
	return conn_connect_cancelable(loop, address, ctx, cb, arg, NULL);
}

void conn_connect_cancel(struct conn_connect *op)
{
	if (op->canceled) {
		return;
	}
	op->canceled = true;
	if (!op->done) {
		tm_errmsg_printf(op->errmsg, "connect to %s: canceled",
				 op->address);
		connect_finish(op, TM_CANCELED);
		return;
	}
	/* Decided already, waiting for handles to close: the caller gets
	 * the cancellation, not what was decided. */
	tm_errmsg_printf(op->errmsg, "connect to %s: canceled", op->address);
	op->status = TM_CANCELED;
	if (op->result != NULL) {
		op->c = op->result;
		op->result = NULL;
		connect_drop_conn(op);
	}
}

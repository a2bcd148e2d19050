/* raft's connect: reaching a peer (doc/raft-transport.md).
 *
 * Happy path:
 * - conn_connect_cancelable: TCP and TLS to the peer's address with the
 *   member's client certificate;
 * - the server's certificate must be a member's (transport_judge);
 * - write the upgrade request (handshake_format_request), read the
 *   answer (handshake_response_feed) within DIAL_UPGRADE_TIMEOUT_MS;
 * - on 101: bridge the conn (transport_link; bytes after the answer go
 *   to raft first) and call raft back with the stream.
 *
 * Failures, each completing the request with RAFT_NOCONNECTION and a
 * reason (logged by transport_note_failure, and in the transport's
 * errmsg):
 * - no client certificate configured, or an address that cannot travel
 *   in the handshake (reported from the loop, never from inside connect);
 * - the TCP connection or the TLS handshake fails or times out;
 * - the server's certificate is not a member's (or this member is not
 *   clustered);
 * - the answer is an error status (its envelope's message is the
 *   reason), is not an upgrade to raft, is malformed or too large, or
 *   does not come in time; the connection ends before it;
 * - the bridge cannot be made (no descriptors left).
 * Closing the transport cancels every dial: RAFT_CANCELED.
 *
 * dial_fail decides the outcome once and starts releasing; dial_maybe_finish
 * calls raft back last, once the attempt, the conn and the timer are all
 * gone, then lets the transport's close go on. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal/lib/assert.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"
#include "internal/raft/handshake.h"
#include "internal/raft/transport_internal.h"

/* The longest address a resolve callback may give. */
#define TRANSPORT_ADDRESS_MAX 512

/* After TLS, the peer has this long to answer the upgrade request. */
#define DIAL_UPGRADE_TIMEOUT_MS 10000

struct dial {
	struct transport *t;
	struct raft_uv_connect *req; /* raft's */
	raft_uv_connect_cb cb;
	raft_id id;
	char *address;		      /* owned */
	struct conn_connect *attempt; /* while connecting */
	struct conn *conn;	      /* ours from TLS until bridged */
	bool conn_closing;
	uv_timer_t timer; /* deferred failure, then the answer's deadline */
	bool timer_alive;
	struct handshake_response answer;
	bool done;	     /* outcome decided */
	int status;	     /* 0, RAFT_NOCONNECTION or RAFT_CANCELED */
	uv_stream_t *stream; /* for raft, on success */
	bool stream_closing; /* success canceled by close: closing it */
	char errmsg[TM_ERRMSG_SIZE];
	struct dial *prev;
	struct dial *next;
};

static void dial_unlink(struct dial *d)
{
	struct transport *t = d->t;
	if (d->prev != NULL) {
		d->prev->next = d->next;
	} else {
		t->dials = d->next;
	}
	if (d->next != NULL) {
		d->next->prev = d->prev;
	}
	t->stats.dials_pending--;
}

static void dial_maybe_finish(struct dial *d)
{
	if (!d->done || d->attempt != NULL || d->conn != NULL ||
	    d->timer_alive || d->stream_closing) {
		return;
	}
	struct transport *t = d->t;
	struct raft_uv_connect *req = d->req;
	raft_uv_connect_cb cb = d->cb;
	uv_stream_t *stream = d->stream;
	int status = d->status;
	if (status == 0) {
		t->stats.dials_succeeded++;
		transport_note_success(t, d->id, d->address);
	} else if (status == RAFT_CANCELED) {
		t->stats.dials_canceled++;
		LOGD("raft: connect to member %llu at %s canceled",
		     (unsigned long long)d->id, d->address);
	} else {
		t->stats.dials_failed++;
		transport_note_failure(t, d->id, d->address, d->errmsg);
		snprintf(t->rt->errmsg, sizeof t->rt->errmsg, "%s", d->errmsg);
	}
	dial_unlink(d);
	handshake_response_close(&d->answer);
	tm_free(d->address);
	tm_free(d);
	cb(req, stream, status);
	transport_maybe_fire_close(t);
}

static void dial_timer_closed_cb(uv_handle_t *handle)
{
	struct dial *d = handle->data;
	d->timer_alive = false;
	dial_maybe_finish(d);
}

static void dial_conn_closed_cb(struct conn *c)
{
	struct dial *d = conn_data(c);
	d->conn = NULL;
	dial_maybe_finish(d);
}

/* Decide the outcome and release what the dial holds. On success the
 * conn has gone to the bridge already. */
static void dial_finish(struct dial *d, int status)
{
	if (d->done) {
		return;
	}
	d->done = true;
	d->status = status;
	if (d->attempt != NULL) {
		conn_connect_cancel(d->attempt);
	}
	if (d->conn != NULL && !d->conn_closing) {
		d->conn_closing = true;
		conn_set_data(d->conn, d);
		conn_close(d->conn, dial_conn_closed_cb);
	}
	uv_close((uv_handle_t *)&d->timer, dial_timer_closed_cb);
}

static void dial_fail(struct dial *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void dial_fail(struct dial *d, const char *fmt, ...)
{
	if (d->done) {
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->errmsg, sizeof d->errmsg, fmt, ap);
	va_end(ap);
	dial_finish(d, RAFT_NOCONNECTION);
}

static void dial_timer_cb(uv_timer_t *timer)
{
	struct dial *d = timer->data;
	if (d->errmsg[0] != '\0') { /* a failure deferred to the loop */
		dial_finish(d, RAFT_NOCONNECTION);
		return;
	}
	dial_fail(d, "no answer to the upgrade request within %d ms",
		  DIAL_UPGRADE_TIMEOUT_MS);
}

/* The answer says yes: bridge the conn. BUF + USED is raft's. */
static void dial_upgraded(struct dial *d, const char *rest, size_t len)
{
	struct conn *c = d->conn;
	conn_read_stop(c);
	char errmsg[TM_ERRMSG_SIZE];
	if (transport_link(d->t, c, rest, len, &d->stream, errmsg) != 0) {
		dial_fail(d, "%s", errmsg);
		return;
	}
	d->conn = NULL; /* the bridge's now */
	dial_finish(d, 0);
}

static void dial_answer(struct dial *d, enum handshake_result r,
			const char *rest, size_t len)
{
	switch (r) {
	case HANDSHAKE_MORE:
		return;
	case HANDSHAKE_UPGRADED:
		dial_upgraded(d, rest, len);
		return;
	case HANDSHAKE_REFUSED:
		if (d->answer.status == 403 && d->t->config.refused != NULL) {
			d->t->config.refused(d->t->config.admit_data,
					     d->address, d->answer.message);
		}
		dial_fail(d, "refused (%d): %s", d->answer.status,
			  d->answer.message);
		return;
	case HANDSHAKE_INVALID:
		dial_fail(d, "%s", d->answer.message);
		return;
	}
	IMPOSSIBLE("unknown handshake result");
}

static void dial_read_cb(struct conn *c, const char *buf, size_t len)
{
	struct dial *d = conn_data(c);
	if (d->done) {
		return;
	}
	size_t used;
	enum handshake_result r =
	    handshake_response_feed(&d->answer, buf, len, &used);
	dial_answer(d, r, buf + used, len - used);
}

static void dial_eof_cb(struct conn *c, int status)
{
	struct dial *d = conn_data(c);
	(void)status;
	if (d->done) {
		return;
	}
	dial_answer(d, handshake_response_eof(&d->answer), NULL, 0);
}

/* TLS is up: check who answered, then ask for the upgrade. */
static void dial_connected_cb(void *arg, struct conn *c, int status,
			      const char *errmsg)
{
	struct dial *d = arg;
	d->attempt = NULL;
	if (d->done) { /* canceled: C is NULL */
		dial_maybe_finish(d);
		return;
	}
	if (status != 0) {
		dial_fail(d, "%s", errmsg);
		return;
	}
	d->conn = c;
	conn_set_data(c, d);
	const char *fp = conn_peer_fingerprint(c);
	switch (transport_judge_server(d->t, fp)) {
	case TRANSPORT_MEMBER:
		break;
	case TRANSPORT_NOT_CLUSTERED:
		dial_fail(d, "this member is not part of a cluster");
		return;
	case TRANSPORT_NOT_MEMBER:
		dial_fail(d,
			  "its certificate (%.16s...) is not a cluster "
			  "member's",
			  fp != NULL ? fp : "none");
		return;
	}
	char *request;
	size_t len;
	char why[TM_ERRMSG_SIZE];
	if (handshake_format_request(d->address, d->t->id, d->t->address,
				     &request, &len, why) != 0) {
		dial_fail(d, "%s", why);
		return;
	}
	int rv = conn_write(c, request, len, NULL, NULL);
	tm_free(request);
	conn_set_callbacks(c, dial_read_cb, dial_eof_cb);
	if (rv == 0) {
		rv = conn_read_start(c);
	}
	if (rv != 0) {
		dial_fail(d, "%s", conn_errmsg(c));
		return;
	}
	uv_timer_start(&d->timer, dial_timer_cb, DIAL_UPGRADE_TIMEOUT_MS, 0);
}

/* Checks that need no I/O; their failure is reported from the loop. */
static bool dial_precheck(struct dial *d)
{
	if (d->t->config.client_ctx == NULL) {
		tm_errmsg_printf(d->errmsg, "this member has no client "
					    "certificate for raft");
		return false;
	}
	if (!handshake_address_valid(d->address)) {
		tm_errmsg_printf(d->errmsg,
				 "address is not 1 to %d visible ASCII "
				 "characters",
				 HANDSHAKE_MAX_ADDRESS);
		return false;
	}
	if (d->t->address == NULL || !handshake_address_valid(d->t->address)) {
		tm_errmsg_printf(d->errmsg,
				 "this member's raft address cannot be sent "
				 "in the handshake");
		return false;
	}
	return true;
}

int transport_dial(struct raft_uv_transport *rt, struct raft_uv_connect *req,
		   raft_id id, const char *address, raft_uv_connect_cb cb)
{
	struct transport *t = rt->impl;
	PRE(!t->closing);
	struct dial *d = tm_calloc(1, sizeof *d);
	d->t = t;
	d->req = req;
	d->cb = cb;
	req->cb = cb;
	d->id = id;
	/* The member list's address first; after it failed, raft's once (a
	 * recovery may have moved the peer in raft's configuration before
	 * the member list learns it), and so on in turns. */
	char resolved[TRANSPORT_ADDRESS_MAX];
	if (t->config.resolve != NULL &&
	    t->config.resolve(t->config.admit_data, id, resolved,
			      sizeof resolved) &&
	    strcmp(resolved, address) != 0 &&
	    !transport_failed_at(t, id, resolved)) {
		LOGD("raft: peer %llu is at %s now (raft holds %s)",
		     (unsigned long long)id, resolved, address);
		address = resolved;
	}
	d->address = tm_strdup(address);
	handshake_response_init(&d->answer);
	int rv = uv_timer_init(t->loop, &d->timer);
	INVARIANT(rv == 0);
	d->timer.data = d;
	d->timer_alive = true;
	d->next = t->dials;
	if (t->dials != NULL) {
		t->dials->prev = d;
	}
	t->dials = d;
	t->stats.dials_started++;
	t->stats.dials_pending++;
	if (!dial_precheck(d)) {
		uv_timer_start(&d->timer, dial_timer_cb, 0, 0);
		return 0;
	}
	conn_connect_cancelable(t->loop, d->address, t->config.client_ctx,
				dial_connected_cb, d, &d->attempt);
	return 0;
}

static void dial_stream_closed_cb(uv_handle_t *handle)
{
	struct dial *d = handle->data;
	raft_free(handle);
	d->stream_closing = false;
	dial_maybe_finish(d);
}

void transport_dial_cancel_all(struct transport *t)
{
	/* Neither branch releases a dial from inside itself. */
	for (struct dial *d = t->dials; d != NULL; d = d->next) {
		if (!d->done) {
			dial_finish(d, RAFT_CANCELED);
		} else if (d->status == 0) {
			/* Made, not yet handed over: raft gets the
			 * cancellation, the stream is closed here (its bridge
			 * is aborted by the transport's close). */
			d->status = RAFT_CANCELED;
			d->stream_closing = true;
			d->stream->data = d;
			uv_close((uv_handle_t *)d->stream,
				 dial_stream_closed_cb);
			d->stream = NULL;
		}
	}
}

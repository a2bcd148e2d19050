/* The accepting side: `GET /internal/raft` with `Upgrade: raft`
 * (doc/raft-transport.md).
 *
 * Happy path: raft listens -> the client came over TLS with a
 * certificate that is a member's (transport_judge) -> the handshake
 * headers are well formed and of our version (handshake_check_request) ->
 * rest_respond_upgrade writes the 101 -> (upgraded_cb) the conn is
 * bridged (bytes the client sent after its request go to raft first) ->
 * raft's accept callback gets the dialer's id, address and stream.
 *
 * Refusals, answered with an error envelope and counted: 503 raft not
 * listening or holding its vote after a start (transport_hold); 403 the
 * unix socket, no certificate, a weak key, or not a member's
 * certificate; 404 not clustered; 400 a bad handshake header;
 * 426 another protocol version (with Upgrade and X-Raft-Version headers
 * saying what we speak).
 *
 * An upgrade whose 101 is still being written when the transport closes
 * is orphaned: its callback closes the connection and frees it, without
 * touching the transport. */
#include <stdio.h>
#include <string.h>

#include "internal/lib/log.h"
#include "internal/lib/mem.h"
#include "internal/raft/handshake.h"
#include "internal/raft/transport_internal.h"
#include "internal/rest/rest.h"

struct upgrading {
	struct transport *t; /* NULL once orphaned */
	raft_id id;
	char *address; /* owned */
	struct upgrading *prev;
	struct upgrading *next;
};

static void upgrading_unlink(struct upgrading *u)
{
	struct transport *t = u->t;
	if (t == NULL) {
		return;
	}
	if (u->prev != NULL) {
		u->prev->next = u->next;
	} else {
		t->upgrades = u->next;
	}
	if (u->next != NULL) {
		u->next->prev = u->prev;
	}
	u->t = NULL;
}

static void upgrading_free(struct upgrading *u)
{
	tm_free(u->address);
	tm_free(u);
}

static void upgraded_cb(void *arg, struct conn *c, const char *extra,
			size_t len)
{
	struct upgrading *u = arg;
	struct transport *t = u->t;
	upgrading_unlink(u);
	if (c == NULL) {
		LOGD("raft: member %llu left before its upgrade was answered",
		     (unsigned long long)u->id);
		upgrading_free(u);
		return;
	}
	if (t == NULL || t->accept_cb == NULL) {
		conn_close(c, NULL); /* raft stopped meanwhile */
		upgrading_free(u);
		return;
	}
	uv_stream_t *stream;
	char errmsg[TM_ERRMSG_SIZE];
	if (transport_link(t, c, extra, len, &stream, errmsg) != 0) {
		LOGW("raft: connection from member %llu at %s dropped: %s",
		     (unsigned long long)u->id, u->address, errmsg);
		conn_close(c, NULL);
		upgrading_free(u);
		return;
	}
	t->stats.accepted++;
	LOGD("raft: member %llu at %s connected from %s",
	     (unsigned long long)u->id, u->address, conn_peer_name(c));
	t->accept_cb(t->rt, u->id, u->address, stream);
	upgrading_free(u);
}

/* Who is asking: 0, or the status to refuse with and why. */
static int check_peer(struct transport *t, struct rest_request *req,
		      char *errmsg)
{
	if (rest_auth(req) == REST_AUTH_LOCAL) {
		tm_errmsg_printf(errmsg, "raft connections come over TLS "
					 "with a member certificate");
		return 403;
	}
	const char *fp = rest_peer_fingerprint(req);
	enum transport_verdict verdict = transport_judge(t, fp);
	if (verdict == TRANSPORT_NOT_CLUSTERED) {
		tm_errmsg_printf(errmsg,
				 "this member is not part of a cluster");
		return 404;
	}
	if (fp == NULL) {
		tm_errmsg_printf(errmsg, "not authorized: no client "
					 "certificate presented");
		return 403;
	}
	struct conn *c = rest_conn(req);
	const char *weak = c != NULL ? conn_peer_key_weakness(c) : NULL;
	if (weak != NULL) {
		tm_errmsg_printf(errmsg,
				 "not authorized: client certificate "
				 "refused: %s",
				 weak);
		return 403;
	}
	if (verdict != TRANSPORT_MEMBER) {
		tm_errmsg_printf(errmsg, "not authorized: the client "
					 "certificate is not a cluster "
					 "member's");
		return 403;
	}
	return 0;
}

static void refuse(struct transport *t, struct rest_request *req, int status,
		   const char *errmsg)
{
	struct conn *c = rest_conn(req);
	t->stats.refused++;
	LOGD("raft: refused a connection from %s: %d %s",
	     c != NULL ? conn_peer_name(c) : "a client gone", status, errmsg);
	char extra[128];
	extra[0] = '\0';
	if (status == 426) {
		/* RFC 9110 15.5.22: say what we would upgrade to. */
		snprintf(extra, sizeof extra,
			 "Upgrade: " HANDSHAKE_PROTOCOL
			 "\r\n" HANDSHAKE_HEADER_VERSION ": %d\r\n",
			 HANDSHAKE_VERSION);
	}
	rest_respond_error_headers(req, status, extra, errmsg);
}

void transport_accept(struct raft_uv_transport *rt, struct rest_request *req)
{
	struct transport *t = rt->impl;
	char errmsg[TM_ERRMSG_SIZE];
	if (t->closing || t->accept_cb == NULL) {
		refuse(t, req, 503, "raft is not running on this member");
		return;
	}
	if (t->hold_until_ns != 0 && uv_hrtime() < t->hold_until_ns) {
		uint64_t left = (t->hold_until_ns - uv_hrtime()) / 1000000u;
		tm_errmsg_printf(errmsg,
				 "raft on this member just started: it holds "
				 "its vote for another %llu ms",
				 (unsigned long long)left + 1);
		t->stats.held++;
		refuse(t, req, 503, errmsg);
		return;
	}
	int status = check_peer(t, req, errmsg);
	struct handshake_hello hello;
	if (status == 0) {
		struct handshake_request_headers h = {
		    .connection = rest_header(req, "Connection"),
		    .upgrade = rest_header(req, "Upgrade"),
		    .version = rest_header(req, HANDSHAKE_HEADER_VERSION),
		    .id = rest_header(req, HANDSHAKE_HEADER_ID),
		    .address = rest_header(req, HANDSHAKE_HEADER_ADDRESS),
		};
		status = handshake_check_request(&h, &hello, errmsg);
	}
	if (status != 0) {
		refuse(t, req, status, errmsg);
		return;
	}
	struct upgrading *u = tm_calloc(1, sizeof *u);
	u->t = t;
	u->id = hello.id;
	u->address = tm_strdup(hello.address);
	u->next = t->upgrades;
	if (t->upgrades != NULL) {
		t->upgrades->prev = u;
	}
	t->upgrades = u;
	rest_respond_upgrade(req, HANDSHAKE_PROTOCOL, upgraded_cb, u);
}

void transport_accept_orphan_all(struct transport *t)
{
	while (t->upgrades != NULL) {
		upgrading_unlink(t->upgrades);
	}
}

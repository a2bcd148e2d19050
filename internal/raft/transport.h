/* The raft_uv_transport of a member: raft traffic over the member's one
 * mutual-TLS HTTPS port (doc/raft-transport.md).
 *
 * Dialing (raft's connect): a TLS connection to the peer's address with
 * the member's client certificate; the peer's certificate must be a
 * member's (the admit callback); then `GET /internal/raft` with
 * `Upgrade: raft` (handshake.h); after the 101 the TLS stream is bridged
 * to a uv_stream_t handed to raft (bridge.h). Any failure completes the
 * request with RAFT_NOCONNECTION, from the loop, and is logged (a warning
 * when the reason for that peer changes, debug otherwise); raft retries
 * after its connect retry delay. close() cancels what is pending
 * (RAFT_CANCELED).
 *
 * Accepting: the REST server routes `GET /internal/raft` to
 * transport_accept, which checks the client's certificate and the
 * request, answers 101 and hands raft its end of a new bridge.
 *
 * Closing (raft's close): connects in progress are canceled, every bridge
 * is aborted, upgrades not yet written are dropped; the close callback
 * runs from the loop once all of that is released. */
#ifndef TM_RAFT_TRANSPORT_H
#define TM_RAFT_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>
#include <raft/uv.h>
#include <uv.h>

struct rest_request;

/* Who a certificate belongs to, as far as raft traffic goes. */
enum transport_verdict {
	TRANSPORT_MEMBER,	 /* a member of this member's cluster */
	TRANSPORT_NOT_MEMBER,	 /* anyone else (or no certificate) */
	TRANSPORT_NOT_CLUSTERED, /* this member is not part of a cluster */
};

/* Judge the certificate FINGERPRINT (lowercase hex SHA-256; NULL when the
 * peer presented none): the client's on accepted connections, the
 * server's on dialed ones. Called on the loop. */
typedef enum transport_verdict (*transport_admit_cb)(void *data,
						     const char *fingerprint);

struct transport_config {
	/* Client context presenting the member's certificate (borrowed,
	 * must outlive the transport). NULL: every connect fails. */
	SSL_CTX *client_ctx;
	/* NULL: every peer is refused as TRANSPORT_NOT_CLUSTERED. */
	transport_admit_cb admit;
	/* Judges the server's certificate on connections this member dials
	 * (members serve the cluster certificate); NULL: ADMIT does. */
	transport_admit_cb admit_server;
	void *admit_data;
	/* Called (with ADMIT_DATA) when a peer at ADDRESS refused this
	 * member's certificate (403, MESSAGE): it is no member of theirs.
	 * May be NULL. */
	void (*refused)(void *data, const char *address, const char *message);
	/* The address to dial for peer ID, into BUF (SIZE bytes), with
	 * ADMIT_DATA: true to dial it instead of the address raft holds
	 * in its configuration (members follow address changes that raft's
	 * configuration does not record). May be NULL. */
	bool (*resolve)(void *data, raft_id id, char *buf, size_t size);
	/* Per direction and bridge, bytes queued before the side feeding
	 * them is paused; 0 for the default (bridge.h). */
	size_t queue_limit;
};

/* Fill T (caller-owned) for raft_uv_init. CONFIG is copied. Never fails
 * (returns 0). */
int transport_init(struct raft_uv_transport *t, uv_loop_t *loop,
		   const struct transport_config *config);
/* Release memory: after the close callback, or instead of close when
 * raft never used T (raft_uv_init failed). */
void transport_free(struct raft_uv_transport *t);

/* Handler of `GET /internal/raft` (the REST route is public: this checks
 * the client certificate itself). Answers exactly once: 101 and a new
 * raft connection, or an error envelope:
 *   403 no certificate, a weak key, or a certificate not a member's;
 *   404 this member is not part of a cluster;
 *   400 a missing or malformed handshake header;
 *   426 a protocol version this member does not speak;
 *   503 raft is not listening (starting or closing), or holds its
 *       vote after a start (transport_hold). */
void transport_accept(struct raft_uv_transport *t, struct rest_request *req);

/* Refuse raft connections from other members (503) for the next MS
 * milliseconds: a voter whose raft just started holds its vote for an
 * election timeout, since it no longer knows whom it followed and would
 * otherwise vote at once (raft/lease.h). */
void transport_hold(struct raft_uv_transport *t, unsigned ms);

/* Abort every established raft connection, both directions (raft
 * reconnects as it needs): for when who is a member changed. */
void transport_drop_connections(struct raft_uv_transport *t);

/* Why this member's last attempt to reach peer ID failed, or NULL if it
 * succeeded (or none was made). Borrowed until the next attempt. */
const char *transport_peer_problem(const struct raft_uv_transport *t,
				   raft_id id);

/* Counters since transport_init. */
struct transport_stats {
	unsigned dials_started;
	unsigned dials_succeeded;
	unsigned dials_failed;	 /* RAFT_NOCONNECTION */
	unsigned dials_canceled; /* RAFT_CANCELED */
	unsigned dials_pending;
	unsigned accepted; /* handed to raft */
	unsigned refused;  /* answered with an error status */
	unsigned held;	   /* ... of them, while holding the vote */
	unsigned bridges_open;
	/* Of bridges closed and open. */
	uint64_t to_raft;
	uint64_t to_peer;
	unsigned paused_to_raft;
	unsigned paused_to_peer;
};
void transport_stats(const struct raft_uv_transport *t,
		     struct transport_stats *out);

#endif /* TM_RAFT_TRANSPORT_H */

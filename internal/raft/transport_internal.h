/* Inside the transport: the state shared by transport.c (init, close,
 * bridges, logging), transport_dial.c (connect) and transport_accept.c
 * (the upgrade route). Private to internal/raft. */
#ifndef TM_RAFT_TRANSPORT_INTERNAL_H
#define TM_RAFT_TRANSPORT_INTERNAL_H

#include <stdbool.h>

#include "internal/lib/err.h"
#include "internal/raft/bridge.h"
#include "internal/raft/transport.h"

struct dial;	  /* a connect in progress (transport_dial.c) */
struct upgrading; /* an accepted upgrade not yet written (transport_accept.c) */

/* An established raft connection, either direction. */
struct link {
	struct transport *t;
	struct bridge *bridge;
	struct link *prev;
	struct link *next;
};

/* What was last logged about reaching a peer. */
struct peer_note {
	raft_id id;
	bool failing;
	char reason[TM_ERRMSG_SIZE];
	char failed_at[TM_ERRMSG_SIZE]; /* the address that failed */
	struct peer_note *next;
};

struct transport {
	struct raft_uv_transport *rt;
	uv_loop_t *loop;
	struct transport_config config;
	raft_id id;		     /* ours, from raft's init */
	char *address;		     /* ours, owned */
	raft_uv_accept_cb accept_cb; /* NULL until listen and after close */
	uint64_t hold_until_ns;	     /* transport_hold: refuse until then */

	struct dial *dials;	    /* connects in progress */
	struct upgrading *upgrades; /* 101s being written */
	struct link *links;	    /* established connections */
	struct peer_note *notes;
	struct transport_stats stats;

	bool closing;
	raft_uv_transport_close_cb close_cb;
	bool close_scheduled;
	uv_idle_t close_idle; /* its close callback runs close_cb */
};

/* Close: call when something close waits for has been released. */
void transport_maybe_fire_close(struct transport *t);

/* Bridge C (reading stopped; PENDING bytes already read from it) for raft
 * and record the link. 0 and *STREAM for raft; or TM_IO (ERRMSG set)
 * with C still the caller's. */
int transport_link(struct transport *t, struct conn *c, const char *pending,
		   size_t len, uv_stream_t **stream, char *errmsg);

/* The admit callback's word on FINGERPRINT. */
enum transport_verdict transport_judge(struct transport *t,
				       const char *fingerprint);

/* ... on the certificate of a server this member dialed. */
enum transport_verdict transport_judge_server(struct transport *t,
					      const char *fingerprint);

/* Log the outcome of reaching peer ID at ADDRESS: a failure (REASON) at
 * warning level when it differs from the last one logged for that peer,
 * at debug level otherwise; a success at info level after failures. */
void transport_note_failure(struct transport *t, raft_id id,
			    const char *address, const char *reason);
void transport_note_success(struct transport *t, raft_id id,
			    const char *address);
/* Did the last attempt to reach peer ID fail, at ADDRESS? */
bool transport_failed_at(const struct transport *t, raft_id id,
			 const char *address);

/* transport_dial.c */
int transport_dial(struct raft_uv_transport *rt, struct raft_uv_connect *req,
		   raft_id id, const char *address, raft_uv_connect_cb cb);
void transport_dial_cancel_all(struct transport *t);

/* transport_accept.c: forget the upgrades in flight (their callbacks
 * close the connections). */
void transport_accept_orphan_all(struct transport *t);

#endif /* TM_RAFT_TRANSPORT_INTERNAL_H */

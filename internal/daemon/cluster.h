/* Cluster membership as the daemon runs it (doc/clustering.md).
 *
 * A member is standalone (a cluster of one, raft id 1, its own
 * certificate on the HTTPS port), or part of a cluster: made one by
 * enable, or joined one with a token. A clustered member serves the
 * cluster certificate (DIR/cluster.crt) on its HTTPS port and presents
 * its own (DIR/server.crt) when it calls other members.
 *
 *   standalone --enable--> member
 *   standalone --join--> joining --caught up--> member
 *                           \--failed--> standalone (nothing changed)
 *
 * Who is in the cluster lives in the global database (members and
 * certificates tables); each member mirrors it into its local database
 * (raft_nodes) so that it can find and admit the others before its copy
 * of the global database has caught up.
 *
 * These functions run on the loop; the API handlers call them. */
#ifndef TM_DAEMON_CLUSTER_H
#define TM_DAEMON_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "internal/lib/err.h"

struct daemon;

/* GET /1.0/cluster: enabled, member_name, fingerprint, state
 * (standalone, joining, member), message, applied_index, target_index.
 * Owned by the caller. */
cJSON *cluster_info(struct daemon *d);

/* Turn this standalone member into a cluster of one named NAME. CB runs
 * once, later, with 0 (clustered, serving the cluster certificate) or an
 * error and a message. Errors returned at once (CB not called):
 * TM_EXISTS already clustered, TM_INVALID bad name or no
 * core.https_address, TM_BUSY not ready. */
typedef void (*cluster_done_cb)(void *arg, int status, const char *errmsg);
int cluster_enable(struct daemon *d, const char *name, cluster_done_cb cb,
		   void *arg, char *errmsg);

/* Join the cluster of TOKEN (text) at ADDRESS ("" for
 * core.https_address). Checks what can be checked here and starts: the
 * rest happens in the background and cluster_info() tells how it goes.
 * FORCE discards user tables of this member's global database. */
int cluster_join(struct daemon *d, const char *token, const char *address,
		 bool force, char *errmsg);

/* The outcome of an asynchronous cluster operation: STATUS 0 with META
 * (owned by the callee, may be NULL), or an error with ERRMSG.
 * TM_NOTLEADER means nothing was done: the leader must be asked. */
typedef void (*cluster_result_cb)(void *arg, int status, const char *errmsg,
				  cJSON *meta);

/* Join tokens. EXPIRY in seconds. */
int cluster_token_add(struct daemon *d, const char *name, int64_t expiry,
		      cluster_result_cb cb, void *arg, char *errmsg);
/* NULL with ERRMSG on failure. */
cJSON *cluster_token_list(struct daemon *d, char *errmsg);
int cluster_token_revoke(struct daemon *d, const char *name,
			 cluster_result_cb cb, void *arg, char *errmsg);

/* Members: a list of objects (or of URLs unless RECURSION); one member
 * (TM_NOTFOUND). NULL with ERRMSG on failure. */
cJSON *cluster_member_list(struct daemon *d, bool recursion, char *errmsg);
cJSON *cluster_member_get(struct daemon *d, const char *name, int *status,
			  char *errmsg);

/* The leader's side of a join (POST /internal/cluster/join): BODY (LEN
 * bytes) is the joiner's request (join_request.h), PEER_FP the
 * fingerprint of the certificate it connected with. META answers it. */
int cluster_admit(struct daemon *d, const char *body, size_t len,
		  const char *peer_fp, cluster_result_cb cb, void *arg,
		  char *errmsg);

/* On the leader (TM_NOTLEADER elsewhere): remove NAME (FORCE: without
 * telling it, for a dead member), rename it, set its failure domain or
 * description (NULL: unchanged). */
int cluster_member_remove(struct daemon *d, const char *name, bool force,
			  cluster_result_cb cb, void *arg, char *errmsg);
int cluster_member_rename(struct daemon *d, const char *name,
			  const char *new_name, cluster_result_cb cb, void *arg,
			  char *errmsg);
int cluster_member_patch(struct daemon *d, const char *name,
			 const char *failure_domain, const char *description,
			 cluster_result_cb cb, void *arg, char *errmsg);

/* POST /internal/cluster/reset: another member (PEER_FP) says this one
 * was removed: wipe the cluster state and start again standalone. */
int cluster_leave(struct daemon *d, const char *peer_fp, char *errmsg);

/* On the leader (TM_NOTLEADER elsewhere): the member with certificate
 * PEER_FP is at ADDRESS now (POST /internal/cluster/address). TM_PERM
 * not a member, TM_INVALID not a usable address, TM_EXISTS another
 * member's address. */
int cluster_member_move(struct daemon *d, const char *peer_fp,
			const char *address, cluster_result_cb cb, void *arg,
			char *errmsg);

/* POST /internal/cluster/heartbeat from another member (PEER_FP): BODY
 * (LEN bytes, beat.h) -> *OUT, this member's state (owned). TM_PERM not a
 * member's certificate, TM_NOTFOUND not clustered, TM_BUSY not ready,
 * TM_INVALID a bad body, TM_CONFLICT a deposed leader's; ERRMSG says
 * why. */
int cluster_heartbeat_receive(struct daemon *d, const char *body, size_t len,
			      const char *peer_fp, cJSON **out, char *errmsg);

/* On the leader: the content check's verdict on member NAME: MESSAGE
 * ("diverged ...") marks it DIVERGED in the member list, once, with a
 * member-diverged event; "" clears what a content check set. Elsewhere
 * nothing. */
void cluster_heartbeat_content_verdict(struct daemon *d, const char *name,
				       const char *message);

/* The raft leader's address, or NULL (borrowed until the next loop
 * turn). */
const char *cluster_leader_address(struct daemon *d);
/* Has the leader gone silent (no heartbeat for the offline threshold) as
 * this follower sees it? */
bool cluster_leader_silent(struct daemon *d);
/* Is this member clustered and not the leader (requests that need the
 * leader are forwarded)? */
bool cluster_follows(struct daemon *d);
/* What the member's cluster part is doing or last failed at ("waiting
 * for a leader", "catching up: applied 10 of 42 entries"); "" when
 * nothing. Borrowed until the next loop turn. */
const char *cluster_message(struct daemon *d);
/* The cluster certificate's fingerprint ("" standalone), this member's
 * name. Borrowed. */
const char *cluster_fingerprint(struct daemon *d);
const char *cluster_member_name(struct daemon *d);
/* Each other member as this member's raft connections last found it
 * ("n2 at 10.0.0.2:8443: connected when last tried; n3 at ...:
 * connection refused"), into OUT. The last attempt's outcome, not a
 * probe: a member that has not tried since (a standby, which only
 * answers the leader) may name a member gone since as connected. */
void cluster_reachability(struct daemon *d, char *out, size_t size);
/* Is FP (may be NULL) the certificate of a member of this cluster (from
 * the global database, or this member's local list while it catches
 * up)? */
bool cluster_is_member(struct daemon *d, const char *fp);
/* This member's raft term (0 while raft is not running): what
 * GET /internal/cluster/term answers a leader confirming its leadership
 * (cluster_confirm.c). */
uint64_t cluster_raft_term(struct daemon *d);
/* True on a follower that knows its leader: *LEADER its raft id, *QUIET_MS
 * since raft last heard from it (what the leader's lease counts on,
 * raft/lease.h). */
/* Before this member hands leadership over: no lease for the rest of its
 * term (the voters will vote for the member it picks at once). */
void cluster_lease_drop(struct daemon *d);
/* Leader leases, with the vote hold they need, are on unless
 * TM_LEASE=off is in the daemon's environment (doc/sql-api.md,
 * "Leases"). */
bool cluster_leases_enabled(void);
bool cluster_raft_follows(struct daemon *d, uint64_t *leader,
			  uint64_t *quiet_ms);
/* On the leader: a read index at once for the ask of voter ID that was
 * in TERM when it asked (its term counts as a confirmation, as if it had
 * answered a round; cluster_confirm.c): 0 and *INDEX, or TM_BUSY when a
 * round or a barrier is needed (gdb_read_index). */
int cluster_read_index_now(struct daemon *d, uint64_t term, uint64_t id,
			   uint64_t *index);
/* This member's raft id (0 before raft runs). */
uint64_t cluster_raft_id(struct daemon *d);
/* The raft index this member has applied (0 while raft is not running). */
uint64_t cluster_applied_index(struct daemon *d);

/* A read index for a linearizable read on a follower: an index the
 * leader confirmed as committed while still leading, after this call
 * (GET /internal/cluster/read-index on the leader). Reads that arrive
 * while an ask is in flight share the next one, so a follower sends one
 * ask per round however many reads wait. W is caller-owned and must stay
 * valid until CB, which runs once, later, with 0 and the index, or an
 * error (TM_NOTLEADER: no leader known or it refused; TM_PROTO: a
 * malformed answer; TM_SHUTDOWN) and a message. */
struct cluster_read_index_wait;
typedef void (*cluster_read_index_cb)(struct cluster_read_index_wait *w,
				      int status, uint64_t index,
				      const char *errmsg);
struct cluster_read_index_wait {
	void *data; /* free for the caller */
	cluster_read_index_cb cb;
	struct cluster_read_index_wait *next;
};
void cluster_read_index(struct daemon *d, struct cluster_read_index_wait *w,
			cluster_read_index_cb cb);


/* A follower's SQL write, relayed to the leader together with the others
 * that arrive while a batch is in flight (cluster_relay.c). False, REQ
 * untouched, when no leader is known (or the body is too large to batch):
 * the caller relays it alone. Otherwise REQ is answered later, with the
 * leader's answer, an error, or by FALLBACK(REQ) when the write must go
 * the single way (nothing of it was applied). */
struct rest_request;
typedef void (*cluster_relay_fallback_fn)(struct rest_request *req);
bool cluster_relay_write(struct daemon *d, struct rest_request *req,
			 cluster_relay_fallback_fn fallback);
#endif /* TM_DAEMON_CLUSTER_H */

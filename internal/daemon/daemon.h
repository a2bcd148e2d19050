/* The daemon: one libuv loop running the member's REST API, its local
 * database and (later) the global database.
 *
 * Lifecycle (explicit state machine, each transition logged):
 *
 *   INIT --start--> STARTING --all up--> READY --stop--> STOPPING --> STOPPED
 *                       \--failure------------------------^
 *
 * daemon_stop() may be called in any state from any loop callback (signal,
 * PUT /1.0/shutdown); closing is asynchronous and gathered in one place:
 * each child's close callback clears its flag and calls maybe_stopped(). */
#ifndef TM_DAEMON_H
#define TM_DAEMON_H

#include <stdbool.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "internal/lib/err.h"

struct daemon;
struct pool;
struct raft_uv_transport;
struct hclient;
struct trust_set;

enum daemon_state {
	DAEMON_INIT,
	DAEMON_STARTING,
	DAEMON_READY,
	DAEMON_JOINING,	 /* the global database restarts: enable or join */
	DAEMON_DRAINING, /* answering what is in flight, refusing the rest */
	DAEMON_STOPPING,
	DAEMON_STOPPED,
};

/* DIR is copied. */
int daemon_init(struct daemon **out, uv_loop_t *loop, const char *dir,
		char *errmsg);
/* Prepare the state directory, keys, local database and listeners.
 * On failure returns the error with errmsg set; the caller then runs the
 * loop until the daemon has stopped and frees it. */
int daemon_start(struct daemon *d, char *errmsg);
/* Begin a clean stop; CB (may be NULL) runs once everything is closed. */
void daemon_stop(struct daemon *d);
enum daemon_state daemon_state(const struct daemon *d);
/* Exit status: 0 after a clean stop requested by signal or API. */
int daemon_exit_code(const struct daemon *d);
void daemon_free(struct daemon *d);

/* Accessors for API handlers (borrowed). */
uv_loop_t *daemon_loop(struct daemon *d);
struct nodedb *daemon_nodedb(struct daemon *d);
const char *daemon_dir(const struct daemon *d);
/* raft's transport, for GET /internal/raft; NULL while raft is not
 * running (starting, or closing). */
struct raft_uv_transport *daemon_raft_transport(struct daemon *d);
/* The global database; NULL until it is open. */
struct gdb *daemon_gdb(struct daemon *d);
/* Worker threads for the API's work off the loop (not the global
 * database's, which has its own); NULL unless READY. */
struct pool *daemon_pool(struct daemon *d);
const char *daemon_cert_pem(const struct daemon *d);
const char *daemon_fingerprint(const struct daemon *d);
const char *daemon_server_name(const struct daemon *d);
/* The loop client for calls to other members; NULL once stopping. */
struct hclient *daemon_hclient(struct daemon *d);
/* Current effective configuration (object key -> string, set keys only,
 * sorted): the member's local keys and the cluster-wide keys. */
const cJSON *daemon_config(const struct daemon *d);
/* The addresses the API listens on (JSON array, owned by caller). */
cJSON *daemon_addresses(const struct daemon *d);

/* Replace the member's local keys (CONFIG_SCOPE_LOCAL) with NEW_LOCAL
 * (owned, taken; local keys only): binds a new HTTPS listener first if
 * core.https_address changed (on failure nothing is stored: TM_IO, errmsg
 * says why), stores them in local.db, then applies the new effective
 * configuration. Cluster-wide keys are written to the global database
 * instead (internal/api/config.c) and applied by every member when the
 * write is applied. */
int daemon_config_set_local(struct daemon *d, cJSON *new_local, char *errmsg);

/* The trust store (internal/daemon/trust_set.h): every certificate of the
 * global database's certificates table, as this member last read it.
 * Borrowed: valid until the loop next runs. */
const struct trust_set *daemon_trust_store(struct daemon *d);

/* The loop's lag since start, as a JSON object (owned by the caller):
 * samples, p50_ms, p99_ms, p999_ms, max_ms (internal/lib/looplag.h). */
cJSON *daemon_loop_lag(struct daemon *d);

/* Events (doc/events.md). The member's bus, NULL before start. */
struct events_bus *daemon_events(struct daemon *d);
/* Counters for GET /1.0 (owned). */
cJSON *daemon_events_stats(struct daemon *d);
/* An event of this member: TYPE (enum events_type), LEVEL for logging,
 * METADATA owned (NULL is {}). Returns its sequence number, 0 before
 * start. */
uint64_t daemon_emit(struct daemon *d, unsigned type, int level,
		     cJSON *metadata);
/* A member's state changed as this member's heartbeat sees it (ONLINE,
 * OFFLINE, BLOCKED): a cluster event of this member, action
 * "member-online", "member-offline" or "member-blocked". All borrowed.
 * For cluster_member_state_changed (the heartbeat) to call. */
void daemon_events_member_state(struct daemon *d, const char *name,
				const char *old_state, const char *new_state,
				const char *message);
/* POST /internal/events: a batch relayed by another member. *ANSWER
 * (owned) says which logging this member wants. TM_INVALID with ERRMSG
 * for a malformed batch. */
int daemon_events_receive(struct daemon *d, const cJSON *body,
			  cJSON **answer, char *errmsg);

#endif /* TM_DAEMON_H */

/* Shared by the cluster*.c files of the daemon. */
#ifndef TM_DAEMON_CLUSTER_INTERNAL_H
#define TM_DAEMON_CLUSTER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal/daemon/cluster.h"
#include "internal/db/cluster/gdb.h"
#include "internal/membership/name.h"
#include "internal/membership/token.h"
#include "internal/tls/tls.h"

/* A row of the global members table. */
struct cluster_row {
	uint64_t id;
	char name[MEMBER_NAME_MAX + 1];
	char address[TOKEN_ADDRESS_MAX + 1];
	char role[8];
	char fingerprint[TLS_FINGERPRINT_LEN + 1];
	char failure_domain[MEMBER_NAME_MAX + 1];
	char description[256];
	int schema_version;
	int api_extensions;
};

/* Every member, ordered by id, as this member's copy of the global
 * database has them. *OUT owned (tm_free). */
int cluster_rows(struct daemon *d, struct cluster_row **out, size_t *n,
		 char *errmsg);

/* Lost in a recovery from a lost quorum (cluster_lost.c): ID, whose
 * members-table role is a spare's or not (SPARE), is not in raft's
 * configuration. False while raft is not running. */
bool cluster_is_lost(struct daemon *d, uint64_t id, bool spare);
bool cluster_row_lost(struct daemon *d, const struct cluster_row *row);
/* The member with certificate FP is lost (one read of the members
 * table). */
bool cluster_fingerprint_lost(struct daemon *d, const char *fp);

/* 0 if this member is clustered and ready; otherwise TM_INVALID ("not
 * part of a cluster: ...") or TM_BUSY with ERRMSG. */
int cluster_check_ready(struct daemon *d, char *errmsg);

/* The same, and this member leads: TM_NOTLEADER otherwise (the request
 * is relayed to the leader). */
int cluster_check_leader(struct daemon *d, char *errmsg);

/* Borrowed parameter values. */
void cluster_text(struct gdb_value *v, const char *s);
void cluster_int(struct gdb_value *v, int64_t i);

/* How many API extensions this binary knows. */
int cluster_api_extensions(void);
/* An address other members can reach (set, not a wildcard). */
int cluster_check_address(const char *address, char *errmsg);

/* Call another member's API at ADDRESS (cluster_call.c): METHOD PATH
 * with BODY (JSON text or NULL), on a worker. CB gets the answer's
 * metadata (owned by CB) or an error. TM_SHUTDOWN if the API pool is
 * gone (CB not called). */
int cluster_call(struct daemon *d, const char *address, const char *method,
		 const char *path, const char *body, cluster_result_cb cb,
		 void *arg);

/* The one place a member's state changes (cluster_heartbeat.c): NAME
 * went from OLD_STATE to NEW_STATE ("ONLINE", "OFFLINE", "BLOCKED") with
 * MESSAGE ("" or why). Logged at info level; the cluster event stream
 * emits "member online/offline" from here. All borrowed. */
void cluster_member_state_changed(struct daemon *d, const char *name,
				  const char *old_state, const char *new_state,
				  const char *message);

/* The leader's heartbeat view of member ID: *STATE (static) and MESSAGE;
 * false when this member does not lead or does not track ID. */
bool cluster_heartbeat_view(struct daemon *d, uint64_t id, const char **state,
			    char *message, size_t size);
/* A follower's view of the leader ID from the heartbeats it receives;
 * false if ID is not the leader that sends them. */
bool cluster_heartbeat_leader_view(struct daemon *d, uint64_t id,
				   const char **state, char *message,
				   size_t size);
/* Leader only (false otherwise): OFFLINE for the stability window; ONLINE
 * and steady (liveness.h). */
bool cluster_heartbeat_replaceable(struct daemon *d, uint64_t id);
bool cluster_heartbeat_steady(struct daemon *d, uint64_t id);
/* Leader only: show member ID BLOCKED (held back by the upgrade work) or
 * not. Kept in the leader's memory: a new leader starts with none
 * blocked, and the upgrade work sets it again there. */
void cluster_heartbeat_set_blocked(struct daemon *d, uint64_t id,
				   bool blocked);
/* Add the "heartbeat" object of GET /1.0/cluster to O. */
void cluster_heartbeat_info(struct daemon *d, cJSON *o);
/* Add member ID's last answer (version, applied index, load) to O, on the
 * leader. */
void cluster_heartbeat_answers(struct daemon *d, uint64_t id, cJSON *o);
/* A heartbeat from leader ID (named NAME) was received. */
void cluster_heartbeat_leader_seen(struct daemon *d, uint64_t id,
				   const char *name);

#endif /* TM_DAEMON_CLUSTER_INTERNAL_H */

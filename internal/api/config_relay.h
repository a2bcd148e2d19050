/* The cluster-wide part of a configuration change made on a follower,
 * relayed to the raft leader (internal/api/config_relay.c), private to
 * internal/api. */
#ifndef TM_API_CONFIG_RELAY_H
#define TM_API_CONFIG_RELAY_H

#include <stdint.h>

#include <cjson/cJSON.h>

struct daemon;

/* HTTP_STATUS 200: the leader wrote the change, carried by raft entry
 * INDEX; 0: this member was elected meanwhile and nothing was written:
 * the caller writes CHANGES (the relay's copy, valid during the call)
 * itself; else the status to answer the change with and ERRMSG saying
 * why (the leader's own 4xx/5xx passed on as it is). */
typedef void (*config_relay_cb)(void *arg, int http_status, uint64_t index,
				const cJSON *changes, const char *errmsg);

/* PATCH CHANGES (borrowed; copied: the cluster-wide keys that change,
 * null unsetting one) to the leader's /1.0/config, marked relayed so
 * that the leader writes it without fanning out. Waits up to
 * API_LEADER_WAIT_MS for a leader (none known, the one known
 * unreachable, or saying it does not lead), as relayed writes do. CB
 * runs once, later or inside this call (the daemon stopping). */
void config_relay(struct daemon *d, const cJSON *changes, config_relay_cb cb,
		  void *arg);

#endif /* TM_API_CONFIG_RELAY_H */

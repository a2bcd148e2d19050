/* Shared by the events_*.c files of the daemon: the bus's feeds and the
 * relay between members (doc/events.md). */
#ifndef TM_DAEMON_EVENTS_INTERNAL_H
#define TM_DAEMON_EVENTS_INTERNAL_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "internal/events/events.h"
#include "internal/membership/name.h"
#include "internal/membership/token.h"

struct daemon;

/* A member as the events code last saw it in the members table. */
struct ev_member {
	uint64_t id;
	char name[MEMBER_NAME_MAX + 1];
	char address[TOKEN_ADDRESS_MAX + 1];
	char role[8];
};

/* events_feed.c */
void daemon_events_start(struct daemon *d);
/* DRAINING: end every stream. */
void daemon_events_shutdown(struct daemon *d);
/* STOPPING: close the tap, the leader timer and the relay; each close
 * callback calls daemon_maybe_stopped. */
void daemon_events_close(struct daemon *d);
void daemon_events_free(struct daemon *d);
/* Follow the least logging level asked here or by another member. */
void daemon_events_tap_level(struct daemon *d);

/* events_cluster.c: the members table changed (or was read first, when
 * the global database became ready: no events then). */
void daemon_events_members_changed(struct daemon *d);

/* events_config.c: the effective configuration went from OLD to NOW. */
void daemon_events_config(struct daemon *d, const cJSON *old, const cJSON *now);

/* events_relay.c */
void daemon_events_relay_start(struct daemon *d);
void daemon_events_relay_stop(struct daemon *d);
/* The least logging level another member asked for, or LOG_ERROR + 1. */
int daemon_events_relay_logging_level(struct daemon *d);
/* Tell the other members what this one wants (its logging level). */
void daemon_events_relay_announce(struct daemon *d);
void daemon_events_relay_stats(struct daemon *d, cJSON *into);
/* True while relay handles are open. */
bool daemon_events_relay_alive(struct daemon *d);

#endif /* TM_DAEMON_EVENTS_INTERNAL_H */

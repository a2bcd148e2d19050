/* The event bus: what happened on this member (and, relayed, on the other
 * members), handed to subscribers with bounded queues.
 *
 * An event is one JSON object (doc/events.md):
 *
 *   {"type": "cluster", "timestamp": "2026-12-01T21:52:30.123Z",
 *    "location": "m1", "sequence": 42, "metadata": {...}}
 *
 * LOCATION is the member the event happened on ("none" while standalone);
 * SEQUENCE counts the events of that member from 1. It is kept in memory
 * only: a restarted member counts from 1 again, under a new boot id (a
 * random 64-bit number drawn at start) so that receivers of relayed events
 * tell a restart from a duplicate.
 *
 * Subscribers filter by type (and, for logging, by level). Each has a
 * queue bounded in events and in bytes; the transport behind it pulls from
 * the queue as fast as its client takes the events. An event that would
 * pass either bound ends the subscription instead: the queue is freed, the
 * subscriber's overflow callback runs once and nothing more is queued for
 * it. So a client that does not read costs at most the bound.
 *
 * Relayed events (events_inject) are deduplicated by (location, boot id,
 * sequence): a receiver keeps, per origin, the boot id and the highest
 * sequence it has seen, and drops anything at or below it. Relays deliver
 * each origin's events in order, which makes that enough.
 *
 * Messages are reference counted and shared by the queues that hold them.
 * Everything here runs on the loop thread; nothing does I/O. */
#ifndef TM_EVENTS_H
#define TM_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "internal/lib/log.h"

enum events_type {
	EVENTS_CLUSTER = 1 << 0,
	EVENTS_CONFIG = 1 << 1,
	EVENTS_LOGGING = 1 << 2,
};
#define EVENTS_ALL (EVENTS_CLUSTER | EVENTS_CONFIG | EVENTS_LOGGING)
/* "cluster, config, logging": for messages. */
#define EVENTS_TYPE_NAMES "cluster, config, logging"

/* Name of one type ("cluster"), or NULL. */
const char *events_type_name(unsigned type);
/* One type from its name; 0 if unknown. */
unsigned events_type_parse(const char *name);
/* A comma-separated list ("cluster,config") into a mask; NULL or "" is
 * every type. TM_INVALID with ERRMSG naming the unknown type and the
 * valid ones. */
int events_types_parse(const char *list, unsigned *mask, char *errmsg);
/* A log level name ("debug", "info", "warn" or "warning", "error",
 * "trace") into *LEVEL; TM_INVALID with ERRMSG otherwise. */
int events_level_parse(const char *name, enum log_level *level, char *errmsg);
const char *events_level_name(enum log_level level);

/* One event as text: a JSON object on one line, no newline. */
struct events_msg {
	unsigned refs;
	unsigned type;	      /* one enum events_type */
	enum log_level level; /* logging events; LOG_TRACE otherwise */
	bool local;	      /* happened on this member */
	uint64_t sequence;    /* of its origin */
	char location[64];    /* its origin, truncated */
	size_t len;
	char text[]; /* NUL-terminated */
};
void events_msg_ref(struct events_msg *m);
void events_msg_unref(struct events_msg *m);

struct events_limits {
	size_t max_events; /* queued per subscriber; 0 = 1024 */
	size_t max_bytes;  /* queued per subscriber; 0 = 1 MiB */
};

struct events_bus;
struct events_sub;

/* ORIGIN is copied ("none" if NULL). *OUT is owned: events_bus_free. */
void events_bus_new(const char *origin, const struct events_limits *limits,
		    struct events_bus **out);
/* Ends every subscription first (their shutdown callbacks run). */
void events_bus_free(struct events_bus *b);
/* The member was renamed, joined or left a cluster; copied. Sequence
 * numbers go on. */
void events_bus_set_origin(struct events_bus *b, const char *origin);
const char *events_bus_origin(const struct events_bus *b);
uint64_t events_bus_boot(const struct events_bus *b);

/* An event of this member, of TYPE with METADATA (owned; NULL is {}), for
 * logging of LEVEL. Returns its sequence number. */
uint64_t events_emit(struct events_bus *b, unsigned type, enum log_level level,
		     cJSON *metadata);
/* A relayed event from another member whose boot id is BOOT. EVENT is
 * borrowed and checked (type, location, sequence, timestamp, metadata):
 * TM_INVALID with ERRMSG if it is not an event; TM_EXISTS if it was seen
 * already or comes from this member's own name. */
int events_inject(struct events_bus *b, uint64_t boot, const cJSON *event,
		  char *errmsg);

/* What the subscriber's owner (a transport, the relay) is told. Each may
 * be NULL. They run from inside the bus's calls, on the loop; they may
 * pull (events_sub_pop) but not end the subscription from READY. */
struct events_sub_ops {
	/* The queue became non-empty. */
	void (*ready)(struct events_sub *s);
	/* The queue overflowed: DROPPED events are lost, the queue is
	 * empty and stays so. The owner ends the subscription. */
	void (*overflow)(struct events_sub *s, uint64_t dropped);
	/* The bus is going away (events_bus_shutdown/free): end now. */
	void (*shutdown)(struct events_sub *s);
};

struct events_sub_config {
	unsigned types;	       /* mask of enum events_type */
	enum log_level level;  /* least level of logging events */
	bool local_only;       /* only this member's own events (relay) */
	bool drop_on_overflow; /* drop the event and go on, counting it,
				  instead of overflowing (relay) */
};

/* Borrowed OPS must outlive the subscription; DATA is the owner's. */
struct events_sub *events_subscribe(struct events_bus *b,
				    const struct events_sub_config *cfg,
				    const struct events_sub_ops *ops,
				    void *data);
/* Free S and what it still holds; no callback runs after this. */
void events_unsubscribe(struct events_sub *s);
void *events_sub_data(const struct events_sub *s);
/* The oldest queued event (owned by the caller: events_msg_unref), or
 * NULL when the queue is empty. */
struct events_msg *events_sub_pop(struct events_sub *s);
size_t events_sub_queued(const struct events_sub *s);
/* Events dropped (drop_on_overflow subscribers). */
uint64_t events_sub_dropped(const struct events_sub *s);

/* Every shutdown callback runs; subscriptions stay until their owners
 * end them. Nothing is queued any more. */
void events_bus_shutdown(struct events_bus *b);

/* CB (may be NULL) runs whenever a subscription starts or ends, so that
 * the daemon can follow events_bus_logging_level. */
void events_bus_on_change(struct events_bus *b, void (*cb)(void *data),
			  void *data);

/* The least logging level any subscriber asks for, or LOG_ERROR + 1 when
 * none subscribes to logging; the daemon hooks log lines at that level. */
int events_bus_logging_level(const struct events_bus *b);

struct events_stats {
	uint64_t emitted;    /* events of this member */
	uint64_t injected;   /* relayed events accepted */
	uint64_t duplicates; /* relayed events dropped as seen */
	uint64_t overflowed; /* subscriptions ended for a slow client */
	size_t subscribers;  /* clients (not the relay) */
	size_t queued_bytes; /* over every queue (shared events counted in
				each) */
};
void events_bus_stats(const struct events_bus *b, struct events_stats *out);

/* RFC 3339 UTC with milliseconds, into OUT (at least 25 bytes). */
void events_timestamp(char *out, size_t size);

#endif /* TM_EVENTS_H */

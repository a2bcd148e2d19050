/* The member's event bus (internal/events) and what feeds it from the
 * daemon (doc/events.md):
 *
 * - logging: a tap on the log (log_set_hook). Threads that log push the
 *   line into a bounded buffer and wake the loop (uv_async); the loop
 *   turns the lines into events. The tap is on only while someone, here
 *   or on another member, subscribes to logging, at the least level
 *   asked. Lines logged while the events code itself runs (emitting,
 *   relaying, receiving relayed events) are quiet (log_quiet): they are
 *   printed but not tapped, so the stream never feeds itself.
 * - cluster, leader changed: a timer looks at raft's leader every
 *   LEADER_POLL_MS (a field read); the member that becomes leader says so.
 * - cluster membership (events_cluster.c) and config (config_store.c) call
 *   daemon_emit. */
#include <pthread.h>
#include <string.h>

#include "internal/daemon/daemon_priv.h"
#include "internal/daemon/events_internal.h"
#include "internal/lib/assert.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"
#include "internal/raft/raftnode.h"

#define TAP_MAX 256
#define LEADER_POLL_MS 250

struct tap_line {
	enum log_level level;
	char *message; /* owned */
};

/* Shared with the threads that log; one daemon per process taps. */
static struct {
	pthread_mutex_t mu;
	uv_async_t *async; /* NULL while no daemon listens */
	struct tap_line ring[TAP_MAX];
	size_t head;
	size_t count;
	uint64_t dropped;
} tap = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void tap_hook(void *data, enum log_level level, const char *message)
{
	(void)data;
	pthread_mutex_lock(&tap.mu);
	if (tap.async != NULL) {
		if (tap.count == TAP_MAX) {
			tap.dropped++;
		} else {
			struct tap_line *l =
			    &tap.ring[(tap.head + tap.count) % TAP_MAX];
			l->level = level;
			l->message = tm_strdup(message);
			tap.count++;
		}
		uv_async_send(tap.async);
	}
	pthread_mutex_unlock(&tap.mu);
}

static void tap_async_cb(uv_async_t *a)
{
	struct daemon *d = a->data;
	struct tap_line lines[TAP_MAX];
	pthread_mutex_lock(&tap.mu);
	size_t n = tap.count;
	for (size_t i = 0; i < n; i++) {
		lines[i] = tap.ring[(tap.head + i) % TAP_MAX];
	}
	tap.head = tap.count = 0;
	uint64_t dropped = tap.dropped;
	tap.dropped = 0;
	pthread_mutex_unlock(&tap.mu);
	for (size_t i = 0; i < n; i++) {
		cJSON *meta = cJSON_CreateObject();
		cJSON_AddStringToObject(meta, "level",
					events_level_name(lines[i].level));
		cJSON_AddStringToObject(meta, "message", lines[i].message);
		daemon_emit(d, EVENTS_LOGGING, lines[i].level, meta);
		tm_free(lines[i].message);
	}
	if (dropped > 0) {
		char *msg = tm_asprintf("events: %llu log lines dropped (the "
					"log tap was full)",
					(unsigned long long)dropped);
		cJSON *meta = cJSON_CreateObject();
		cJSON_AddStringToObject(meta, "level", "warn");
		cJSON_AddStringToObject(meta, "message", msg);
		daemon_emit(d, EVENTS_LOGGING, LOG_WARN, meta);
		tm_free(msg);
	}
}

void daemon_events_tap_level(struct daemon *d)
{
	int level = events_bus_logging_level(d->events);
	int remote = daemon_events_relay_logging_level(d);
	log_set_hook_level(remote < level ? remote : level);
}

static void bus_changed_cb(void *data)
{
	struct daemon *d = data;
	daemon_events_tap_level(d);
	daemon_events_relay_announce(d);
}

static const char *leader_name(struct daemon *d, raft_id id)
{
	for (size_t i = 0; i < d->n_ev_members; i++) {
		if (d->ev_members[i].id == id) {
			return d->ev_members[i].name;
		}
	}
	return "";
}

static void leader_poll_cb(uv_timer_t *t)
{
	struct daemon *d = t->data;
	if (d->raftnode == NULL || d->raft_closing) {
		return;
	}
	raft_id id;
	const char *address;
	raft_leader(raftnode_raft(d->raftnode), &id, &address);
	if (id == 0 || id == d->ev_leader) {
		return;
	}
	raft_id previous = d->ev_leader;
	d->ev_leader = id;
	if (id != d->self.id || !d->self.clustered ||
	    d->state != DAEMON_READY) {
		return;
	}
	cJSON *meta = cJSON_CreateObject();
	cJSON_AddStringToObject(meta, "action", "leader-changed");
	cJSON_AddStringToObject(meta, "name", d->self.name);
	cJSON_AddStringToObject(meta, "previous",
				previous != 0 ? leader_name(d, previous) : "");
	daemon_emit(d, EVENTS_CLUSTER, LOG_INFO, meta);
}

void daemon_events_start(struct daemon *d)
{
	events_bus_new(NULL, NULL, &d->events);
	events_bus_on_change(d->events, bus_changed_cb, d);
	int rv = uv_async_init(d->loop, &d->ev_tap, tap_async_cb);
	INVARIANT(rv == 0);
	d->ev_tap.data = d;
	d->ev_tap_alive = true;
	pthread_mutex_lock(&tap.mu);
	tap.async = &d->ev_tap;
	pthread_mutex_unlock(&tap.mu);
	log_set_hook(tap_hook, NULL);
	rv = uv_timer_init(d->loop, &d->ev_leader_timer);
	INVARIANT(rv == 0);
	d->ev_leader_timer.data = d;
	d->ev_leader_alive = true;
	uv_timer_start(&d->ev_leader_timer, leader_poll_cb, LEADER_POLL_MS,
		       LEADER_POLL_MS);
	daemon_events_relay_start(d);
}

void daemon_events_shutdown(struct daemon *d)
{
	if (d->events != NULL) {
		events_bus_shutdown(d->events);
	}
}

static void tap_closed_cb(uv_handle_t *h)
{
	struct daemon *d = h->data;
	d->ev_tap_alive = false;
	daemon_maybe_stopped(d);
}

static void leader_timer_closed_cb(uv_handle_t *h)
{
	struct daemon *d = h->data;
	d->ev_leader_alive = false;
	daemon_maybe_stopped(d);
}

void daemon_events_close(struct daemon *d)
{
	log_set_hook_level(LOG_ERROR + 1);
	daemon_events_relay_stop(d);
	if (d->ev_tap_alive && !uv_is_closing((uv_handle_t *)&d->ev_tap)) {
		pthread_mutex_lock(&tap.mu);
		tap.async = NULL;
		for (size_t i = 0; i < tap.count; i++) {
			tm_free(tap.ring[(tap.head + i) % TAP_MAX].message);
		}
		tap.head = tap.count = 0;
		pthread_mutex_unlock(&tap.mu);
		uv_close((uv_handle_t *)&d->ev_tap, tap_closed_cb);
	}
	if (d->ev_leader_alive &&
	    !uv_is_closing((uv_handle_t *)&d->ev_leader_timer)) {
		uv_close((uv_handle_t *)&d->ev_leader_timer,
			 leader_timer_closed_cb);
	}
}

void daemon_events_free(struct daemon *d)
{
	events_bus_free(d->events);
	d->events = NULL;
	tm_free(d->ev_members);
	d->ev_members = NULL;
	d->n_ev_members = 0;
}

uint64_t daemon_emit(struct daemon *d, unsigned type, int level,
		     cJSON *metadata)
{
	if (d->events == NULL) {
		cJSON_Delete(metadata);
		return 0;
	}
	log_quiet(true);
	events_bus_set_origin(d->events,
			      d->self.clustered ? d->self.name : NULL);
	uint64_t seq =
	    events_emit(d->events, type, (enum log_level)level, metadata);
	log_quiet(false);
	return seq;
}

struct events_bus *daemon_events(struct daemon *d) { return d->events; }

cJSON *daemon_events_stats(struct daemon *d)
{
	cJSON *o = cJSON_CreateObject();
	if (d->events == NULL) {
		return o;
	}
	struct events_stats st;
	events_bus_stats(d->events, &st);
	cJSON_AddNumberToObject(o, "subscribers", (double)st.subscribers);
	cJSON_AddNumberToObject(o, "queued_bytes", (double)st.queued_bytes);
	cJSON_AddNumberToObject(o, "emitted", (double)st.emitted);
	cJSON_AddNumberToObject(o, "relayed_in", (double)st.injected);
	cJSON_AddNumberToObject(o, "duplicates", (double)st.duplicates);
	cJSON_AddNumberToObject(o, "slow_clients_dropped",
				(double)st.overflowed);
	daemon_events_relay_stats(d, o);
	return o;
}

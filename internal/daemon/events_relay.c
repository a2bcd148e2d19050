/* The relay: this member's own events reach the other members, which
 * hand them to their subscribers (doc/events.md).
 *
 * Happy path: a local event is queued on the relay's subscription (own
 * events only: relayed events are never relayed again); a timer gathers
 * what arrives within COALESCE_MS; one batch, at most MAX_BATCH events,
 * is POSTed to /internal/events on every other member at once by the
 * notifier (internal/notify, NOTIFY_TRY_ALL: every member is called and
 * each one's outcome counted; the cluster certificate pinned); when every
 * member has answered or failed, the next batch goes. One batch at a time keeps
 * each origin's events in order on every receiver, which deduplicates by
 * (origin, boot id, sequence).
 *
 * What travels: cluster and config events always; logging events only
 * when another member has asked for logging, from the least level asked.
 * Every batch carries this member's own logging level, and every answer
 * the receiver's, so members learn who wants logging; a member whose
 * logging subscriptions change sends an announce (a batch, even empty).
 *
 * Failure modes: a member that does not answer within TIMEOUT_MS, or
 * refuses, misses that batch (delivery is at most once; nothing is
 * retried); while a batch is in flight the queue (the bus's bound)
 * fills, and events past it are dropped and counted (relay_dropped). */
#include <stdio.h>
#include <string.h>

#include "internal/daemon/daemon_priv.h"
#include "internal/daemon/events_internal.h"
#include "internal/lib/assert.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"
#include "internal/notify/notify.h"

#define COALESCE_MS 5
#define MAX_BATCH 256
#define TIMEOUT_MS 5000
#define MAX_WANTS 64

struct peer_want {
	char name[MEMBER_NAME_MAX + 1];
	int level; /* least logging level it asked for */
};

struct events_relay {
	struct daemon *d;
	struct events_sub *sub;
	uv_timer_t timer;
	bool timer_alive;
	bool armed;
	bool announce;
	bool stopping;
	char *body; /* of the batch in flight, owned */
	struct notify_req call;
	size_t pending; /* 1 while a batch is in flight */
	struct peer_want wants[MAX_WANTS];
	size_t n_wants;
	uint64_t batches;
	uint64_t failures;
};

static void relay_timer_closed_cb(uv_handle_t *h)
{
	struct events_relay *r = h->data;
	struct daemon *d = r->d;
	tm_free(r);
	d->ev_relay = NULL;
	daemon_maybe_stopped(d);
}

/* Stopping, and no call left: close the timer, whose close callback
 * frees the relay (never from inside a client callback). */
static void relay_maybe_free(struct events_relay *r)
{
	if (r->stopping && r->timer_alive && r->pending == 0) {
		r->timer_alive = false;
		uv_close((uv_handle_t *)&r->timer, relay_timer_closed_cb);
	}
}

static void relay_timer_cb(uv_timer_t *t);

static void relay_arm(struct events_relay *r)
{
	if (!r->armed && r->pending == 0 && !r->stopping && r->sub != NULL) {
		r->armed = true;
		uv_timer_start(&r->timer, relay_timer_cb, COALESCE_MS, 0);
	}
}

static int least_wanted(const struct events_relay *r)
{
	int level = LOG_ERROR + 1;
	for (size_t i = 0; i < r->n_wants; i++) {
		if (r->wants[i].level < level) {
			level = r->wants[i].level;
		}
	}
	return level;
}

static void set_want(struct events_relay *r, const char *name, int level)
{
	struct peer_want *w = NULL;
	for (size_t i = 0; i < r->n_wants; i++) {
		if (strcmp(r->wants[i].name, name) == 0) {
			w = &r->wants[i];
		}
	}
	if (w == NULL && level > LOG_ERROR) {
		return;
	}
	if (w == NULL) {
		if (r->n_wants == MAX_WANTS) {
			return;
		}
		w = &r->wants[r->n_wants++];
		snprintf(w->name, sizeof w->name, "%s", name);
	}
	int before = least_wanted(r);
	w->level = level;
	if (least_wanted(r) != before) {
		daemon_events_tap_level(r->d);
	}
}

/* "info", or null when no logging is wanted. */
static const char *level_json(int level)
{
	return level <= LOG_ERROR ? events_level_name((enum log_level)level)
				  : NULL;
}

static cJSON *level_item(int level)
{
	const char *name = level_json(level);
	return name != NULL ? cJSON_CreateString(name) : cJSON_CreateNull();
}

static int level_of(const cJSON *item)
{
	enum log_level level;
	char errmsg[TM_ERRMSG_SIZE];
	if (!cJSON_IsString(item) ||
	    events_level_parse(item->valuestring, &level, errmsg) != 0) {
		return LOG_ERROR + 1;
	}
	return (int)level;
}

static void batch_done(struct events_relay *r)
{
	notify_req_clear(&r->call);
	tm_free(r->body);
	r->body = NULL;
	if (r->stopping) {
		relay_maybe_free(r);
		return;
	}
	if (r->sub != NULL && (events_sub_queued(r->sub) > 0 || r->announce)) {
		relay_arm(r);
	}
}

static void call_cb(struct notify_req *call)
{
	struct events_relay *r = call->data;
	log_quiet(true);
	for (size_t i = 0; i < call->n_results; i++) {
		const struct notify_result *res = &call->results[i];
		if (!res->ok) {
			r->failures++;
			LOGD("events: relay to %s", res->errmsg);
			continue;
		}
		cJSON *answer = cJSON_Parse(res->body);
		cJSON *meta =
		    cJSON_GetObjectItemCaseSensitive(answer, "metadata");
		set_want(r, res->name,
			 level_of(cJSON_GetObjectItemCaseSensitive(meta,
								   "logging")));
		cJSON_Delete(answer);
	}
	r->pending = 0;
	batch_done(r);
	log_quiet(false);
}

/* The batch's body: {"origin", "boot", "logging", "events": [...]}. */
static char *batch_body(struct events_relay *r, size_t *count)
{
	struct daemon *d = r->d;
	int wanted = least_wanted(r);
	cJSON *head = cJSON_CreateObject();
	cJSON_AddStringToObject(head, "origin", d->self.name);
	cJSON_AddNumberToObject(head, "boot",
				(double)events_bus_boot(d->events));
	cJSON_AddItemToObject(head, "logging",
			      level_item(events_bus_logging_level(d->events)));
	char *text = cJSON_PrintUnformatted(head);
	cJSON_Delete(head);
	size_t len = strlen(text) - 1; /* without the closing brace */
	size_t cap = len + 64;
	char *body = tm_malloc(cap);
	memcpy(body, text, len);
	cJSON_free(text);
	len += (size_t)sprintf(body + len, ",\"events\":[");
	*count = 0;
	struct events_msg *m;
	while (*count < MAX_BATCH && (m = events_sub_pop(r->sub)) != NULL) {
		if (m->type == EVENTS_LOGGING && (int)m->level < wanted) {
			events_msg_unref(m);
			continue;
		}
		if (len + m->len + 8 > cap) {
			cap = 2 * (len + m->len + 8);
			body = tm_realloc(body, cap);
		}
		if (*count > 0) {
			body[len++] = ',';
		}
		memcpy(body + len, m->text, m->len);
		len += m->len;
		(*count)++;
		events_msg_unref(m);
	}
	memcpy(body + len, "]}", 3);
	return body;
}

static void relay_send(struct events_relay *r)
{
	struct daemon *d = r->d;
	if (r->stopping || r->sub == NULL || r->pending > 0 ||
	    d->hclient == NULL) {
		return;
	}
	bool ready = d->self.clustered && d->state == DAEMON_READY &&
		     d->cluster_fingerprint[0] != '\0';
	size_t count = 0;
	char *body = batch_body(r, &count);
	if (!ready || (count == 0 && !r->announce)) {
		tm_free(body);
		return;
	}
	r->announce = false;
	struct notify_member *members =
	    tm_calloc(d->n_ev_members + 1, sizeof *members);
	size_t n = 0;
	for (size_t i = 0; i < d->n_ev_members; i++) {
		const struct ev_member *m = &d->ev_members[i];
		if (m->id != d->self.id && m->address[0] != '\0') {
			members[n].name = m->name;
			members[n].address = m->address;
			members[n].pin = d->cluster_fingerprint;
			n++;
		}
	}
	r->body = body;
	memset(&r->call, 0, sizeof r->call);
	r->call.data = r;
	r->call.method = "POST";
	r->call.path = "/internal/events";
	r->call.body = r->body;
	r->call.body_len = strlen(r->body);
	r->call.content_type = "application/json";
	r->call.timeout_ms = TIMEOUT_MS;
	r->call.policy = NOTIFY_TRY_ALL;
	if (notify_call(d->hclient, &r->call, members, n, call_cb) != 0) {
		LOGD("events: relay: %s", r->call.errmsg);
		tm_free(r->body);
		r->body = NULL;
	} else {
		r->pending = 1;
		r->batches++;
	}
	tm_free(members);
}

static void relay_timer_cb(uv_timer_t *t)
{
	struct events_relay *r = t->data;
	r->armed = false;
	log_quiet(true);
	relay_send(r);
	log_quiet(false);
}

static void relay_ready(struct events_sub *s) { relay_arm(events_sub_data(s)); }

static void relay_shutdown(struct events_sub *s)
{
	struct events_relay *r = events_sub_data(s);
	r->sub = NULL;
	events_unsubscribe(s);
}

static const struct events_sub_ops relay_ops = {
    .ready = relay_ready,
    .shutdown = relay_shutdown,
};

void daemon_events_relay_start(struct daemon *d)
{
	struct events_relay *r = tm_calloc(1, sizeof *r);
	r->d = d;
	int rv = uv_timer_init(d->loop, &r->timer);
	INVARIANT(rv == 0);
	r->timer.data = r;
	r->timer_alive = true;
	struct events_sub_config cfg = {.types = EVENTS_ALL,
					.level = LOG_TRACE,
					.local_only = true,
					.drop_on_overflow = true};
	r->sub = events_subscribe(d->events, &cfg, &relay_ops, r);
	d->ev_relay = r;
}

void daemon_events_relay_stop(struct daemon *d)
{
	struct events_relay *r = d->ev_relay;
	if (r == NULL || r->stopping) {
		return;
	}
	r->stopping = true;
	if (r->sub != NULL) {
		events_unsubscribe(r->sub);
		r->sub = NULL;
	}
	uv_timer_stop(&r->timer);
	if (r->pending > 0) {
		notify_cancel(&r->call); /* call_cb then frees the relay */
	}
	relay_maybe_free(r);
}

bool daemon_events_relay_alive(struct daemon *d) { return d->ev_relay != NULL; }

int daemon_events_relay_logging_level(struct daemon *d)
{
	return d->ev_relay != NULL ? least_wanted(d->ev_relay) : LOG_ERROR + 1;
}

void daemon_events_relay_announce(struct daemon *d)
{
	struct events_relay *r = d->ev_relay;
	if (r == NULL || r->stopping) {
		return;
	}
	int level = events_bus_logging_level(d->events);
	if (level == d->ev_announced_level) {
		return;
	}
	d->ev_announced_level = level;
	r->announce = true;
	relay_arm(r);
}

void daemon_events_relay_stats(struct daemon *d, cJSON *into)
{
	struct events_relay *r = d->ev_relay;
	cJSON *o = cJSON_AddObjectToObject(into, "relay");
	if (r == NULL) {
		return;
	}
	cJSON_AddNumberToObject(o, "batches", (double)r->batches);
	cJSON_AddNumberToObject(o, "failures", (double)r->failures);
	cJSON_AddNumberToObject(
	    o, "dropped",
	    r->sub != NULL ? (double)events_sub_dropped(r->sub) : 0.0);
	cJSON *wants = cJSON_AddObjectToObject(o, "logging_wanted_by");
	for (size_t i = 0; i < r->n_wants; i++) {
		cJSON_AddItemToObject(wants, r->wants[i].name,
				      level_item(r->wants[i].level));
	}
}

int daemon_events_receive(struct daemon *d, const cJSON *body, cJSON **answer,
			  char *errmsg)
{
	*answer = NULL;
	const cJSON *origin = cJSON_GetObjectItemCaseSensitive(body, "origin");
	const cJSON *boot = cJSON_GetObjectItemCaseSensitive(body, "boot");
	const cJSON *events = cJSON_GetObjectItemCaseSensitive(body, "events");
	if (!cJSON_IsString(origin) || !cJSON_IsNumber(boot) ||
	    !cJSON_IsArray(events)) {
		tm_errmsg_printf(errmsg, "a relay batch needs origin (string), "
					 "boot (number) and events (array)");
		return TM_INVALID;
	}
	if (d->events == NULL) {
		tm_errmsg_printf(errmsg, "events: not running");
		return TM_SHUTDOWN;
	}
	log_quiet(true);
	events_bus_set_origin(d->events,
			      d->self.clustered ? d->self.name : NULL);
	const cJSON *e;
	int rv = 0;
	cJSON_ArrayForEach(e, events)
	{
		int r = events_inject(d->events, (uint64_t)boot->valuedouble, e,
				      errmsg);
		if (r == TM_INVALID) {
			rv = r;
			break;
		}
	}
	if (d->ev_relay != NULL) {
		set_want(d->ev_relay, origin->valuestring,
			 level_of(cJSON_GetObjectItemCaseSensitive(body,
								   "logging")));
	}
	log_quiet(false);
	if (rv != 0) {
		return rv;
	}
	*answer = cJSON_CreateObject();
	cJSON_AddItemToObject(*answer, "logging",
			      level_item(events_bus_logging_level(d->events)));
	return 0;
}

/* The bus: subscriptions, their bounded queues, sequencing and the
 * deduplication of relayed events (events.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "internal/events/events.h"
#include "internal/lib/assert.h"
#include "internal/lib/err.h"
#include "internal/lib/mem.h"

#define DEFAULT_MAX_EVENTS 1024
#define DEFAULT_MAX_BYTES (1024 * 1024)
/* Origins remembered for deduplication: more than any cluster has
 * members; the least recently heard is forgotten first. */
#define MAX_ORIGINS 64

struct events_sub {
	struct events_bus *bus; /* NULL once the bus is freed */
	struct events_sub_config cfg;
	const struct events_sub_ops *ops;
	void *data;
	struct events_msg **ring;
	size_t cap;
	size_t head;
	size_t count;
	size_t bytes;
	bool overflowed;
	uint64_t dropped;
	struct events_sub *prev, *next;
};

struct origin_seen {
	char name[64];
	uint64_t boot;
	uint64_t last;
	uint64_t heard; /* bus clock of the last event */
};

struct events_bus {
	char origin[64];
	uint64_t boot;
	uint64_t sequence; /* of the last event emitted */
	struct events_limits limits;
	struct events_sub *subs;
	size_t n_subs;
	bool shut;
	struct origin_seen seen[MAX_ORIGINS];
	uint64_t clock;
	struct events_stats stats;
	void (*change_cb)(void *data);
	void *change_data;
};

void events_msg_ref(struct events_msg *m) { m->refs++; }

void events_msg_unref(struct events_msg *m)
{
	PRE(m->refs > 0);
	if (--m->refs == 0) {
		tm_free(m);
	}
}

void events_bus_new(const char *origin, const struct events_limits *limits,
		    struct events_bus **out)
{
	struct events_bus *b = tm_calloc(1, sizeof *b);
	events_bus_set_origin(b, origin);
	if (RAND_bytes((unsigned char *)&b->boot, sizeof b->boot) != 1) {
		b->boot = (uint64_t)time(NULL);
	}
	b->boot &= (UINT64_C(1) << 53) - 1; /* exact as a JSON number */
	if (limits != NULL) {
		b->limits = *limits;
	}
	if (b->limits.max_events == 0) {
		b->limits.max_events = DEFAULT_MAX_EVENTS;
	}
	if (b->limits.max_bytes == 0) {
		b->limits.max_bytes = DEFAULT_MAX_BYTES;
	}
	*out = b;
}

static void sub_clear(struct events_sub *s)
{
	while (s->count > 0) {
		events_msg_unref(s->ring[s->head]);
		s->head = (s->head + 1) % s->cap;
		s->count--;
	}
	s->head = 0;
	s->bytes = 0;
}

void events_bus_shutdown(struct events_bus *b)
{
	b->shut = true;
	struct events_sub *s = b->subs;
	while (s != NULL) {
		struct events_sub *next = s->next;
		sub_clear(s);
		if (s->ops->shutdown != NULL) {
			s->ops->shutdown(s); /* may unsubscribe S */
		}
		s = next;
	}
}

void events_bus_free(struct events_bus *b)
{
	if (b == NULL) {
		return;
	}
	events_bus_shutdown(b);
	for (struct events_sub *s = b->subs; s != NULL; s = s->next) {
		s->bus = NULL;
	}
	tm_free(b);
}

void events_bus_set_origin(struct events_bus *b, const char *origin)
{
	snprintf(b->origin, sizeof b->origin, "%s",
		 origin != NULL && origin[0] != '\0' ? origin : "none");
}

const char *events_bus_origin(const struct events_bus *b) { return b->origin; }

uint64_t events_bus_boot(const struct events_bus *b) { return b->boot; }

void events_bus_on_change(struct events_bus *b, void (*cb)(void *data),
			  void *data)
{
	b->change_cb = cb;
	b->change_data = data;
}

static void changed(struct events_bus *b)
{
	if (b->change_cb != NULL) {
		b->change_cb(b->change_data);
	}
}

struct events_sub *events_subscribe(struct events_bus *b,
				    const struct events_sub_config *cfg,
				    const struct events_sub_ops *ops,
				    void *data)
{
	struct events_sub *s = tm_calloc(1, sizeof *s);
	s->bus = b;
	s->cfg = *cfg;
	s->ops = ops;
	s->data = data;
	s->next = b->subs;
	if (b->subs != NULL) {
		b->subs->prev = s;
	}
	b->subs = s;
	b->n_subs++;
	changed(b);
	return s;
}

void events_unsubscribe(struct events_sub *s)
{
	struct events_bus *b = s->bus;
	sub_clear(s);
	tm_free(s->ring);
	if (b != NULL) {
		if (s->prev != NULL) {
			s->prev->next = s->next;
		} else {
			b->subs = s->next;
		}
		if (s->next != NULL) {
			s->next->prev = s->prev;
		}
		b->n_subs--;
	}
	tm_free(s);
	if (b != NULL) {
		changed(b);
	}
}

void *events_sub_data(const struct events_sub *s) { return s->data; }
size_t events_sub_queued(const struct events_sub *s) { return s->count; }
uint64_t events_sub_dropped(const struct events_sub *s) { return s->dropped; }

struct events_msg *events_sub_pop(struct events_sub *s)
{
	if (s->count == 0) {
		return NULL;
	}
	struct events_msg *m = s->ring[s->head];
	s->head = (s->head + 1) % s->cap;
	s->count--;
	s->bytes -= m->len;
	return m;
}

static bool sub_wants(const struct events_sub *s, const struct events_msg *m)
{
	if ((s->cfg.types & m->type) == 0 || s->overflowed) {
		return false;
	}
	if (s->cfg.local_only && !m->local) {
		return false;
	}
	return m->type != EVENTS_LOGGING || m->level >= s->cfg.level;
}

static void sub_push(struct events_sub *s, struct events_msg *m)
{
	if (s->count == s->cap) {
		/* Grow the ring, unrolled, up to the bound at most. */
		size_t cap = s->cap == 0 ? 16 : s->cap * 2;
		struct events_msg **ring = tm_malloc(cap * sizeof *ring);
		for (size_t i = 0; i < s->count; i++) {
			ring[i] = s->ring[(s->head + i) % s->cap];
		}
		tm_free(s->ring);
		s->ring = ring;
		s->cap = cap;
		s->head = 0;
	}
	events_msg_ref(m);
	s->ring[(s->head + s->count) % s->cap] = m;
	s->count++;
	s->bytes += m->len;
}

/* Queue M for every subscriber that wants it. */
static void publish(struct events_bus *b, struct events_msg *m)
{
	struct events_sub *s = b->subs;
	while (s != NULL) {
		struct events_sub *next = s->next;
		if (!sub_wants(s, m)) {
			s = next;
			continue;
		}
		if (s->count + 1 > b->limits.max_events ||
		    s->bytes + m->len > b->limits.max_bytes) {
			s->dropped++;
			if (!s->cfg.drop_on_overflow) {
				uint64_t dropped = s->dropped + s->count;
				sub_clear(s);
				s->overflowed = true;
				b->stats.overflowed++;
				if (s->ops->overflow != NULL) {
					s->ops->overflow(s, dropped);
				}
			}
			s = next;
			continue;
		}
		bool was_empty = s->count == 0;
		sub_push(s, m);
		if (was_empty && s->ops->ready != NULL) {
			s->ops->ready(s);
		}
		s = next;
	}
}

static struct events_msg *msg_new(const cJSON *event, unsigned type,
				  enum log_level level, bool local,
				  uint64_t sequence, const char *location)
{
	char *text = cJSON_PrintUnformatted(event);
	INVARIANT(text != NULL);
	size_t len = strlen(text);
	struct events_msg *m = tm_malloc(sizeof *m + len + 1);
	m->refs = 1;
	m->type = type;
	m->level = level;
	m->local = local;
	m->sequence = sequence;
	snprintf(m->location, sizeof m->location, "%s", location);
	m->len = len;
	memcpy(m->text, text, len + 1);
	cJSON_free(text);
	return m;
}

uint64_t events_emit(struct events_bus *b, unsigned type, enum log_level level,
		     cJSON *metadata)
{
	PRE(events_type_name(type) != NULL);
	uint64_t seq = ++b->sequence;
	b->stats.emitted++;
	if (metadata == NULL) {
		metadata = cJSON_CreateObject();
	}
	if (b->shut || b->subs == NULL) {
		cJSON_Delete(metadata);
		return seq;
	}
	char stamp[40];
	events_timestamp(stamp, sizeof stamp);
	cJSON *e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "type", events_type_name(type));
	cJSON_AddStringToObject(e, "timestamp", stamp);
	cJSON_AddStringToObject(e, "location", b->origin);
	cJSON_AddNumberToObject(e, "sequence", (double)seq);
	cJSON_AddItemToObject(e, "metadata", metadata);
	struct events_msg *m = msg_new(e, type, level, true, seq, b->origin);
	cJSON_Delete(e);
	publish(b, m);
	events_msg_unref(m);
	return seq;
}

/* Has the event (LOCATION, BOOT, SEQ) been seen? Records it if not. */
static bool seen_before(struct events_bus *b, const char *location,
			uint64_t boot, uint64_t seq)
{
	struct origin_seen *slot = NULL;
	struct origin_seen *oldest = &b->seen[0];
	b->clock++;
	for (size_t i = 0; i < MAX_ORIGINS; i++) {
		struct origin_seen *o = &b->seen[i];
		if (o->heard != 0 && strcmp(o->name, location) == 0) {
			slot = o;
			break;
		}
		if (o->heard < oldest->heard) {
			oldest = o;
		}
	}
	if (slot == NULL) {
		slot = oldest;
		snprintf(slot->name, sizeof slot->name, "%s", location);
		slot->boot = boot;
		slot->last = 0;
	}
	slot->heard = b->clock;
	if (slot->boot != boot) {
		/* The origin restarted: its sequence began again. */
		slot->boot = boot;
		slot->last = 0;
	}
	if (seq <= slot->last) {
		return true;
	}
	slot->last = seq;
	return false;
}

static const char *string_field(const cJSON *o, const char *name, size_t max)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	if (!cJSON_IsString(v) || v->valuestring[0] == '\0' ||
	    strlen(v->valuestring) > max) {
		return NULL;
	}
	return v->valuestring;
}

int events_inject(struct events_bus *b, uint64_t boot, const cJSON *event,
		  char *errmsg)
{
	const char *type_name = string_field(event, "type", 16);
	unsigned type = type_name != NULL ? events_type_parse(type_name) : 0;
	const char *location = string_field(event, "location", 63);
	const char *stamp = string_field(event, "timestamp", 39);
	const cJSON *seq = cJSON_GetObjectItemCaseSensitive(event, "sequence");
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(event, "metadata");
	if (!cJSON_IsObject(event) || type == 0 || location == NULL ||
	    stamp == NULL || !cJSON_IsNumber(seq) || seq->valuedouble < 1 ||
	    seq->valuedouble > 9007199254740992.0 || !cJSON_IsObject(meta)) {
		tm_errmsg_printf(errmsg,
				 "not an event: needs type (" EVENTS_TYPE_NAMES
				 "), timestamp, location, sequence >= 1 and "
				 "metadata object");
		return TM_INVALID;
	}
	uint64_t sequence = (uint64_t)seq->valuedouble;
	if (strcmp(location, b->origin) == 0 ||
	    seen_before(b, location, boot, sequence)) {
		b->stats.duplicates++;
		tm_errmsg_printf(errmsg, "event %s:%llu seen already", location,
				 (unsigned long long)sequence);
		return TM_EXISTS;
	}
	b->stats.injected++;
	enum log_level level = LOG_TRACE;
	if (type == EVENTS_LOGGING) {
		const char *l = string_field(meta, "level", 16);
		char ignored[TM_ERRMSG_SIZE];
		if (l == NULL || events_level_parse(l, &level, ignored) != 0) {
			level = LOG_ERROR; /* unknown: shown to every one */
		}
	}
	if (b->shut || b->subs == NULL) {
		return 0;
	}
	/* Only the fields of an event, in their order. */
	cJSON *e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "type", type_name);
	cJSON_AddStringToObject(e, "timestamp", stamp);
	cJSON_AddStringToObject(e, "location", location);
	cJSON_AddNumberToObject(e, "sequence", (double)sequence);
	cJSON_AddItemToObject(e, "metadata", cJSON_Duplicate(meta, true));
	struct events_msg *m =
	    msg_new(e, type, level, false, sequence, location);
	cJSON_Delete(e);
	publish(b, m);
	events_msg_unref(m);
	return 0;
}

int events_bus_logging_level(const struct events_bus *b)
{
	int level = LOG_ERROR + 1;
	for (const struct events_sub *s = b->subs; s != NULL; s = s->next) {
		if ((s->cfg.types & EVENTS_LOGGING) != 0 &&
		    !s->cfg.local_only && (int)s->cfg.level < level) {
			level = (int)s->cfg.level;
		}
	}
	return level;
}

void events_bus_stats(const struct events_bus *b, struct events_stats *out)
{
	*out = b->stats;
	out->subscribers = 0;
	out->queued_bytes = 0;
	for (const struct events_sub *s = b->subs; s != NULL; s = s->next) {
		out->queued_bytes += s->bytes;
		out->subscribers += s->cfg.local_only ? 0 : 1;
	}
}

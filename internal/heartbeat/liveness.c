/* Liveness of peers as one observer sees them (liveness.h). */
#include "internal/heartbeat/liveness.h"

#include <stdio.h>
#include <string.h>

#include "internal/lib/assert.h"
#include "internal/lib/mem.h"

/* A return within this many stability windows of the previous one is a
 * flap; the hold before a returning peer is steady again grows with the
 * flaps, up to MAX_HOLD windows. */
#define FLAP_MEMORY 10
#define MAX_HOLD 8

struct peer {
	uint64_t id;
	enum liveness_state state; /* ONLINE or OFFLINE, blocked aside */
	bool blocked;
	bool seen;	    /* heard from since tracked */
	uint64_t last_seen; /* mono ms: heard from, or tracked */
	uint64_t since;	    /* mono ms: last change ONLINE <-> OFFLINE */
	uint64_t returned;  /* mono ms of the last return, 0 if none */
	unsigned flaps;	    /* recent returns */
};

struct liveness {
	const struct tm_clock *clock;
	struct liveness_config config;
	liveness_change_cb cb;
	void *cb_data;
	struct peer *peers;
	size_t n;
	uint64_t last_tick; /* 0: no tick yet */
	uint64_t pauses;
};

const char *liveness_state_name(enum liveness_state s)
{
	switch (s) {
	case LIVENESS_ONLINE:
		return "ONLINE";
	case LIVENESS_OFFLINE:
		return "OFFLINE";
	case LIVENESS_BLOCKED:
		return "BLOCKED";
	}
	IMPOSSIBLE("unknown liveness state");
}

static uint64_t now(const struct liveness *l)
{
	return l->clock->mono_ms(l->clock->data);
}

static enum liveness_state shown(const struct peer *p)
{
	return p->blocked ? LIVENESS_BLOCKED : p->state;
}

static struct peer *find(const struct liveness *l, uint64_t id)
{
	for (size_t i = 0; i < l->n; i++) {
		if (l->peers[i].id == id) {
			return &l->peers[i];
		}
	}
	return NULL;
}

static void report(struct liveness *l, const struct peer *p,
		   enum liveness_state old)
{
	if (l->cb != NULL && shown(p) != old) {
		l->cb(l->cb_data, p->id, old, shown(p));
	}
}

struct liveness *liveness_new(const struct tm_clock *clock,
			      const struct liveness_config *config,
			      liveness_change_cb cb, void *cb_data)
{
	PRE(clock != NULL && config != NULL && config->threshold_ms > 0);
	struct liveness *l = tm_calloc(1, sizeof *l);
	l->clock = clock;
	l->config = *config;
	l->cb = cb;
	l->cb_data = cb_data;
	return l;
}

void liveness_free(struct liveness *l)
{
	if (l != NULL) {
		tm_free(l->peers);
		tm_free(l);
	}
}

void liveness_configure(struct liveness *l,
			const struct liveness_config *config)
{
	PRE(config->threshold_ms > 0);
	l->config = *config;
}

void liveness_track(struct liveness *l, const uint64_t *ids, size_t n)
{
	struct peer *peers = tm_calloc(n + 1, sizeof *peers);
	uint64_t t = now(l);
	for (size_t i = 0; i < n; i++) {
		const struct peer *old = find(l, ids[i]);
		if (old != NULL) {
			peers[i] = *old;
		} else {
			peers[i].id = ids[i];
			peers[i].state = LIVENESS_ONLINE;
			peers[i].last_seen = t;
			peers[i].since = t;
		}
	}
	tm_free(l->peers);
	l->peers = peers;
	l->n = n;
}

void liveness_reset(struct liveness *l)
{
	tm_free(l->peers);
	l->peers = NULL;
	l->n = 0;
	l->last_tick = 0;
}

void liveness_seen(struct liveness *l, uint64_t id)
{
	struct peer *p = find(l, id);
	if (p == NULL) {
		return;
	}
	uint64_t t = now(l);
	enum liveness_state old = shown(p);
	p->last_seen = t;
	p->seen = true;
	if (p->state == LIVENESS_OFFLINE) {
		bool recent =
		    p->returned != 0 &&
		    t - p->returned < FLAP_MEMORY * l->config.stability_ms;
		p->flaps = recent ? p->flaps + 1 : 1;
		p->returned = t;
		p->state = LIVENESS_ONLINE;
		p->since = t;
	}
	report(l, p, old);
}

bool liveness_tick(struct liveness *l)
{
	uint64_t t = now(l);
	bool paused =
	    l->last_tick != 0 && t - l->last_tick > l->config.threshold_ms / 2;
	l->last_tick = t;
	if (paused) {
		l->pauses++;
	}
	for (size_t i = 0; i < l->n; i++) {
		struct peer *p = &l->peers[i];
		if (p->state != LIVENESS_ONLINE) {
			continue;
		}
		if (paused) {
			p->last_seen = t;
			continue;
		}
		if (t - p->last_seen > l->config.threshold_ms) {
			enum liveness_state old = shown(p);
			p->state = LIVENESS_OFFLINE;
			p->since = t;
			report(l, p, old);
		}
	}
	return paused;
}

void liveness_set_blocked(struct liveness *l, uint64_t id, bool blocked)
{
	struct peer *p = find(l, id);
	if (p == NULL) {
		return;
	}
	enum liveness_state old = shown(p);
	p->blocked = blocked;
	report(l, p, old);
}

bool liveness_get(const struct liveness *l, uint64_t id,
		  enum liveness_state *out)
{
	const struct peer *p = find(l, id);
	if (p == NULL) {
		return false;
	}
	*out = shown(p);
	return true;
}

void liveness_message(const struct liveness *l, uint64_t id, char *out,
		      size_t size)
{
	const struct peer *p = find(l, id);
	out[0] = '\0';
	if (p == NULL || size == 0) {
		return;
	}
	if (p->blocked) {
		snprintf(out, size, "blocked");
		return;
	}
	if (p->state != LIVENESS_OFFLINE) {
		return;
	}
	uint64_t silent = now(l) - p->last_seen;
	int64_t wall = l->clock->wall_ms(l->clock->data) - (int64_t)silent;
	char iso[TM_CLOCK_ISO_LEN];
	tm_clock_format_iso(wall, iso);
	snprintf(out, size, "no heartbeat for %llu.%llu s, since %s",
		 (unsigned long long)(silent / 1000),
		 (unsigned long long)(silent % 1000 / 100), iso);
}

uint64_t liveness_silence_ms(const struct liveness *l, uint64_t id)
{
	const struct peer *p = find(l, id);
	return p != NULL ? now(l) - p->last_seen : 0;
}

bool liveness_replaceable(const struct liveness *l, uint64_t id)
{
	const struct peer *p = find(l, id);
	return p != NULL && !p->blocked && p->state == LIVENESS_OFFLINE &&
	       now(l) - p->since >= l->config.stability_ms;
}

bool liveness_steady(const struct liveness *l, uint64_t id)
{
	const struct peer *p = find(l, id);
	if (p == NULL || p->blocked || p->state != LIVENESS_ONLINE ||
	    !p->seen) {
		return false;
	}
	if (p->returned == 0) {
		return true;
	}
	unsigned hold = p->flaps < MAX_HOLD ? p->flaps : MAX_HOLD;
	return now(l) - p->since >= hold * l->config.stability_ms;
}

uint64_t liveness_pauses(const struct liveness *l) { return l->pauses; }

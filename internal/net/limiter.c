/* Connection caps; see limiter.h. Addresses with open connections sit in
 * an array searched linearly: at most max_connections entries, touched once
 * per accept and once per close. */
#include "internal/net/limiter.h"

#include <string.h>

#include "internal/lib/assert.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"

#define LIMITER_LOG_INTERVAL_MS 1000

struct limiter_entry {
	char key[LIMITER_KEY_SIZE];
	unsigned count;
};

struct net_limiter {
	unsigned refs;
	unsigned max_total;
	unsigned max_per_address;
	unsigned total;
	struct limiter_entry *entries;
	size_t n_entries;
	size_t cap_entries;
	uint64_t last_log_ms;
	bool logged;
	unsigned refused; /* since the last log line */
};

struct net_limiter *limiter_new(void)
{
	struct net_limiter *lim = tm_calloc(1, sizeof *lim);
	lim->refs = 1;
	return lim;
}

void limiter_ref(struct net_limiter *lim) { lim->refs++; }

void limiter_unref(struct net_limiter *lim)
{
	INVARIANT(lim->refs > 0);
	if (--lim->refs > 0) {
		return;
	}
	INVARIANT(lim->total == 0 && lim->n_entries == 0);
	tm_free(lim->entries);
	tm_free(lim);
}

void limiter_set(struct net_limiter *lim, unsigned max_total,
		 unsigned max_per_address)
{
	lim->max_total = max_total;
	lim->max_per_address = max_per_address;
}

static struct limiter_entry *limiter_find(const struct net_limiter *lim,
					  const char *key)
{
	for (size_t i = 0; i < lim->n_entries; i++) {
		if (strcmp(lim->entries[i].key, key) == 0) {
			return &lim->entries[i];
		}
	}
	return NULL;
}

bool limiter_full(const struct net_limiter *lim)
{
	return lim->max_total > 0 && lim->total >= lim->max_total;
}

bool limiter_acquire(struct net_limiter *lim, const char *key)
{
	struct limiter_entry *e = limiter_find(lim, key);
	if (limiter_full(lim) || (e != NULL && lim->max_per_address > 0 &&
				  e->count >= lim->max_per_address)) {
		return false;
	}
	if (e == NULL) {
		if (lim->n_entries == lim->cap_entries) {
			lim->cap_entries =
			    lim->cap_entries == 0 ? 16 : 2 * lim->cap_entries;
			lim->entries =
			    tm_realloc(lim->entries,
				       lim->cap_entries * sizeof *lim->entries);
		}
		e = &lim->entries[lim->n_entries++];
		memset(e, 0, sizeof *e);
		strncpy(e->key, key, sizeof e->key - 1);
	}
	e->count++;
	lim->total++;
	return true;
}

void limiter_release(struct net_limiter *lim, const char *key)
{
	struct limiter_entry *e = limiter_find(lim, key);
	INVARIANT(e != NULL && e->count > 0 && lim->total > 0);
	e->count--;
	lim->total--;
	if (e->count == 0) {
		*e = lim->entries[--lim->n_entries];
	}
}

void limiter_note_refused(struct net_limiter *lim, uint64_t now_ms,
			  const char *listener, const char *key)
{
	lim->refused++;
	if (lim->logged &&
	    now_ms - lim->last_log_ms < LIMITER_LOG_INTERVAL_MS) {
		return;
	}
	LOGD("net: %s: refused %u connection(s) over the caps (%u open, "
	     "core.max_connections %u, core.max_connections_per_address %u; "
	     "last from %s)",
	     listener, lim->refused, lim->total, lim->max_total,
	     lim->max_per_address, key);
	lim->refused = 0;
	lim->logged = true;
	lim->last_log_ms = now_ms;
}

unsigned limiter_total(const struct net_limiter *lim) { return lim->total; }

unsigned limiter_count(const struct net_limiter *lim, const char *key)
{
	const struct limiter_entry *e = limiter_find(lim, key);
	return e != NULL ? e->count : 0;
}

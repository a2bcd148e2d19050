/* Leader leases: the arithmetic (lease.h). */
#include <stdlib.h>

#include "internal/raft/lease.h"

/* A fifth of the election timeout: monotonic clocks of two machines
 * drift apart by parts per million, and raft's own clock (libuv's cached
 * loop time) lags the real one by at most a loop iteration. */
#define MARGIN_DIVISOR 5

uint64_t lease_bound(uint64_t sent_ns, unsigned election_timeout_ms,
		     uint64_t quiet_ms)
{
	uint64_t timeout = election_timeout_ms;
	uint64_t margin = timeout / MARGIN_DIVISOR;
	if (quiet_ms + margin >= timeout) {
		return 0;
	}
	return sent_ns + (timeout - quiet_ms - margin) * 1000000u;
}

static int later_first(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a;
	uint64_t y = *(const uint64_t *)b;
	return x < y ? 1 : x > y ? -1 : 0;
}

uint64_t lease_end(uint64_t *bounds, unsigned n, unsigned need)
{
	if (need == 0 || n < need) {
		return 0;
	}
	qsort(bounds, n, sizeof *bounds, later_first);
	return bounds[need - 1];
}

bool lease_holds(const struct lease *l, uint64_t now_ns, uint64_t term,
		 uint64_t conf_index, bool steady)
{
	return steady && l->end_ns != 0 && now_ns < l->end_ns &&
	       l->term == term && l->conf_index == conf_index;
}

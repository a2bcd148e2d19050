/* Loop lag: see looplag.h. */
#include "internal/lib/looplag.h"

#include <string.h>

#include "internal/lib/log.h"

#define STEP_NS 100000 /* one bucket: 0.1 ms */

static void tick_cb(uv_timer_t *t)
{
	struct looplag *l = t->data;
	uint64_t now = uv_hrtime();
	uint64_t lag = now > l->due_ns ? now - l->due_ns : 0;
	uint64_t bucket = lag / STEP_NS;
	if (bucket >= LOOPLAG_BUCKETS) {
		bucket = LOOPLAG_BUCKETS - 1;
	}
	l->buckets[bucket]++;
	l->samples++;
	if (lag > l->max_ns) {
		l->max_ns = lag;
	}
	if (l->warn_ms != 0 && lag >= (uint64_t)l->warn_ms * 1000000) {
		LOGW("loop: stalled for %.1f ms (a callback held the loop; "
		     "raft's heartbeats, elections and every request waited)",
		     (double)lag / 1e6);
	}
	l->due_ns = now + (uint64_t)l->period_ms * 1000000;
}

int looplag_start(struct looplag *l, uv_loop_t *loop, unsigned period_ms,
		  unsigned warn_ms)
{
	void *data = l->data;
	memset(l, 0, sizeof *l);
	l->data = data;
	l->period_ms = period_ms;
	l->warn_ms = warn_ms;
	int rv = uv_timer_init(loop, &l->timer);
	if (rv != 0) {
		return rv;
	}
	l->timer.data = l;
	/* Not a reason to keep the loop alive on its own. */
	uv_unref((uv_handle_t *)&l->timer);
	l->due_ns = uv_hrtime() + (uint64_t)period_ms * 1000000;
	return uv_timer_start(&l->timer, tick_cb, period_ms, period_ms);
}

static void closed_cb(uv_handle_t *h)
{
	struct looplag *l = h->data;
	if (l->close_cb != NULL) {
		l->close_cb(l);
	}
}

void looplag_close(struct looplag *l, void (*cb)(struct looplag *l))
{
	l->close_cb = cb;
	uv_close((uv_handle_t *)&l->timer, closed_cb);
}

static double percentile(const struct looplag *l, double q)
{
	uint64_t want = (uint64_t)((double)l->samples * q);
	uint64_t seen = 0;
	if (want >= l->samples) {
		want = l->samples - 1;
	}
	for (size_t b = 0; b < LOOPLAG_BUCKETS; b++) {
		seen += l->buckets[b];
		if (seen > want) {
			return b == LOOPLAG_BUCKETS - 1
				   ? (double)l->max_ns / 1e6
				   : (double)(b + 1) * STEP_NS / 1e6;
		}
	}
	return (double)l->max_ns / 1e6;
}

void looplag_get(const struct looplag *l, struct looplag_stats *out)
{
	memset(out, 0, sizeof *out);
	out->samples = l->samples;
	if (l->samples == 0) {
		return;
	}
	out->p50_ms = percentile(l, 0.5);
	out->p99_ms = percentile(l, 0.99);
	out->p999_ms = percentile(l, 0.999);
	out->max_ms = (double)l->max_ns / 1e6;
}

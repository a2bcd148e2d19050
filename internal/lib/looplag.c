/* Loop lag: see looplag.h. */
#include "internal/lib/looplag.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal/lib/log.h"

#define STEP_NS 100000 /* one bucket: 0.1 ms */

/* The loop thread's run_delay: nanoseconds it spent ready to run, waiting
 * for a CPU, since it started ("RUN RUN_DELAY SLICES"). Where the kernel
 * does not say, the last reading (no wait counted). */
static uint64_t run_delay(const struct looplag *l)
{
	char buf[96];
	uint64_t run, delay;
	ssize_t n = l->schedstat >= 0
			? pread(l->schedstat, buf, sizeof buf - 1, 0)
			: -1;
	if (n <= 0) {
		return l->run_delay_ns;
	}
	buf[n] = '\0';
	if (sscanf(buf, "%" SCNu64 " %" SCNu64, &run, &delay) != 2) {
		return l->run_delay_ns;
	}
	return delay;
}

static void count(uint64_t *buckets, uint64_t *max, uint64_t lag)
{
	uint64_t bucket = lag / STEP_NS;
	if (bucket >= LOOPLAG_BUCKETS) {
		bucket = LOOPLAG_BUCKETS - 1;
	}
	buckets[bucket]++;
	if (lag > *max) {
		*max = lag;
	}
}

static void tick_cb(uv_timer_t *t)
{
	struct looplag *l = t->data;
	uint64_t now = uv_hrtime();
	uint64_t lag = now > l->due_ns ? now - l->due_ns : 0;
	uint64_t delay = run_delay(l);
	uint64_t waited = delay > l->run_delay_ns ? delay - l->run_delay_ns : 0;
	uint64_t held = lag > waited ? lag - waited : 0;
	l->run_delay_ns = delay;
	count(l->buckets, &l->max_ns, lag);
	count(l->held, &l->held_max_ns, held);
	l->samples++;
	if (l->warn_ms != 0 && lag >= (uint64_t)l->warn_ms * 1000000) {
		LOGW("loop: stalled for %.1f ms, %.1f ms of it waiting for a "
		     "CPU (raft's heartbeats, elections and every request "
		     "waited)",
		     (double)lag / 1e6, (double)(lag - held) / 1e6);
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
	l->schedstat = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
	l->run_delay_ns = run_delay(l);
	int rv = uv_timer_init(loop, &l->timer);
	if (rv != 0) {
		if (l->schedstat >= 0) {
			close(l->schedstat);
		}
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
	if (l->schedstat >= 0) {
		close(l->schedstat);
		l->schedstat = -1;
	}
	if (l->close_cb != NULL) {
		l->close_cb(l);
	}
}

void looplag_close(struct looplag *l, void (*cb)(struct looplag *l))
{
	l->close_cb = cb;
	uv_close((uv_handle_t *)&l->timer, closed_cb);
}

static double percentile(const struct looplag *l, const uint64_t *buckets,
			 uint64_t max_ns, double q)
{
	uint64_t want = (uint64_t)((double)l->samples * q);
	uint64_t seen = 0;
	if (want >= l->samples) {
		want = l->samples - 1;
	}
	for (size_t b = 0; b < LOOPLAG_BUCKETS; b++) {
		seen += buckets[b];
		if (seen > want) {
			return b == LOOPLAG_BUCKETS - 1
				   ? (double)max_ns / 1e6
				   : (double)(b + 1) * STEP_NS / 1e6;
		}
	}
	return (double)max_ns / 1e6;
}

void looplag_get(const struct looplag *l, struct looplag_stats *out)
{
	memset(out, 0, sizeof *out);
	out->samples = l->samples;
	if (l->samples == 0) {
		return;
	}
	out->p50_ms = percentile(l, l->buckets, l->max_ns, 0.5);
	out->p99_ms = percentile(l, l->buckets, l->max_ns, 0.99);
	out->p999_ms = percentile(l, l->buckets, l->max_ns, 0.999);
	out->max_ms = (double)l->max_ns / 1e6;
	out->held_p999_ms = percentile(l, l->held, l->held_max_ns, 0.999);
	out->held_max_ms = (double)l->held_max_ns / 1e6;
}

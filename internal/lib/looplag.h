/* Loop lag: how late the daemon's loop runs a timer due every PERIOD
 * milliseconds. A late timer means a callback held the loop, and with it
 * raft's heartbeats and elections, the HTTP server and everything else.
 * Each lag is kept in a histogram (0.1 ms steps up to 100 ms, then one
 * bucket) for percentiles; a lag of WARN milliseconds or more is logged
 * as a stall when it happens.
 *
 * A late tick has two causes: a callback held the loop, or the loop
 * thread was ready to run and waited for a CPU (other processes, or this
 * one's own threads). The kernel counts the second one per thread
 * (/proc/thread-self/schedstat, "run_delay"), so each lag is also kept
 * without it, in a second histogram: the part the daemon itself held.
 * Where the kernel does not say, both histograms are the same. */
#ifndef TM_LOOPLAG_H
#define TM_LOOPLAG_H

#include <stdint.h>

#include <uv.h>

#define LOOPLAG_BUCKETS 1001 /* 0.1 ms each; the last: 100 ms or more */

struct looplag {
	void *data;
	uv_timer_t timer;
	unsigned period_ms;
	unsigned warn_ms;
	uint64_t due_ns; /* uv_hrtime() when the next tick is due */
	int schedstat;	       /* fd of the loop thread's schedstat, or -1 */
	uint64_t run_delay_ns; /* its run_delay at the last tick */
	uint64_t samples;
	uint64_t max_ns;
	uint64_t held_max_ns;
	uint64_t buckets[LOOPLAG_BUCKETS];
	uint64_t held[LOOPLAG_BUCKETS]; /* lag minus the wait for a CPU */
	void (*close_cb)(struct looplag *l);
};

struct looplag_stats {
	uint64_t samples;
	double p50_ms, p99_ms, p999_ms; /* upper bounds, 0.1 ms steps */
	double max_ms;
	double held_p999_ms, held_max_ms; /* without the waits for a CPU */
};

/* Start measuring on LOOP, from LOOP's thread (L is caller-owned until the
 * close callback). */
int looplag_start(struct looplag *l, uv_loop_t *loop, unsigned period_ms,
		  unsigned warn_ms);
void looplag_close(struct looplag *l, void (*cb)(struct looplag *l));
void looplag_get(const struct looplag *l, struct looplag_stats *out);

#endif /* TM_LOOPLAG_H */

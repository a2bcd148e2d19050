/* Who is alive, as one observer sees it: pure logic on a clock
 * (internal/lib/clock.h), no I/O. The leader keeps one for every other
 * member, fed by the answers to its heartbeats; a follower keeps one for
 * the leader, fed by the heartbeats it receives (doc/clustering.md,
 * "Heartbeat and member states").
 *
 * States of a peer:
 *
 *   ONLINE --silent longer than threshold (tick)--> OFFLINE
 *   OFFLINE --heard from (seen)--> ONLINE
 *   any --blocked--> BLOCKED --unblocked--> ONLINE or OFFLINE
 *
 * Every change is reported once, through the change callback, from
 * liveness_seen, liveness_tick or liveness_set_blocked.
 *
 * A paused observer convicts nobody: when two of its own ticks are further
 * apart than half the threshold (the process was stopped, or its loop
 * stalled), the silence of every ONLINE peer restarts from that tick.
 *
 * Failure rebalance (cluster_members.c) asks two questions:
 * - replaceable: OFFLINE for at least the stability window;
 * - steady: ONLINE, heard from since tracked, and, if it came back after
 *   being OFFLINE, online for the stability window times the number of
 *   its recent returns (at most 8): a member that keeps coming and going
 *   waits longer each time, so it is not promoted back and forth. A
 *   return counts as recent when it follows the previous one within ten
 *   stability windows. */
#ifndef TM_HEARTBEAT_LIVENESS_H
#define TM_HEARTBEAT_LIVENESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal/lib/clock.h"

enum liveness_state {
	LIVENESS_ONLINE,
	LIVENESS_OFFLINE,
	LIVENESS_BLOCKED, /* held back by the upgrade work; not a failure */
};

/* "ONLINE", "OFFLINE", "BLOCKED". Static. */
const char *liveness_state_name(enum liveness_state s);

struct liveness_config {
	uint64_t threshold_ms; /* silent longer than this: OFFLINE (> 0) */
	uint64_t stability_ms; /* see "replaceable" and "steady" above */
};

/* Called on every change of a peer's state. */
typedef void (*liveness_change_cb)(void *data, uint64_t id,
				   enum liveness_state old,
				   enum liveness_state now);

struct liveness;

/* CLOCK is borrowed (must outlive L); CONFIG copied; CB may be NULL.
 * Owned: liveness_free. Aborts on out of memory (the process policy). */
struct liveness *liveness_new(const struct tm_clock *clock,
			      const struct liveness_config *config,
			      liveness_change_cb cb, void *cb_data);
void liveness_free(struct liveness *l);
void liveness_configure(struct liveness *l,
			const struct liveness_config *config);

/* The peers are exactly IDS (borrowed): new ones start ONLINE, silent
 * from now and not yet heard from; others are forgotten (no callback). */
void liveness_track(struct liveness *l, const uint64_t *ids, size_t n);

/* Forget every peer and the last tick: for an observer that starts
 * observing again (a member that became leader, or follower). */
void liveness_reset(struct liveness *l);

/* Peer ID was heard from now. Unknown ids are ignored. */
void liveness_seen(struct liveness *l, uint64_t id);

/* The observer's periodic check (every ~100 ms): detects its own pause,
 * then turns peers silent beyond the threshold OFFLINE. True if a pause
 * was detected (the caller may log it). */
bool liveness_tick(struct liveness *l);

void liveness_set_blocked(struct liveness *l, uint64_t id, bool blocked);

/* The state of ID; false if ID is not tracked. */
bool liveness_get(const struct liveness *l, uint64_t id,
		  enum liveness_state *out);

/* Why ID is in its state, into OUT: "" when ONLINE; "no heartbeat for
 * 3.2 s, since 2026-12-01T22:10:03Z" when OFFLINE (the time is when it was
 * last heard from, or tracking began); "blocked" when BLOCKED. */
void liveness_message(const struct liveness *l, uint64_t id, char *out,
		      size_t size);

/* Milliseconds since ID was last heard from (or tracked); 0 if unknown. */
uint64_t liveness_silence_ms(const struct liveness *l, uint64_t id);

bool liveness_replaceable(const struct liveness *l, uint64_t id);
bool liveness_steady(const struct liveness *l, uint64_t id);

/* Pauses of the observer detected so far. */
uint64_t liveness_pauses(const struct liveness *l);

#endif /* TM_HEARTBEAT_LIVENESS_H */

/* A leader's lease: how long it may serve linearizable reads without
 * asking anyone (doc/sql-api.md, "Leases").
 *
 * A follower of libraft that knows its leader refuses every vote and
 * pre-vote (its leader did not ask it to disrupt it) until its election
 * timer fires, at least the election timeout after its last contact from
 * the leader; a voter whose raft starts again holds its vote as long
 * (transport_hold). So when a voter answers, on the leader's request sent
 * at SENT, that it is in the leader's term, follows this leader and last
 * heard from it QUIET ms before, no other leader can be elected with its
 * vote before SENT + election timeout - QUIET. With a majority of such
 * voters, the leader included, no other leader exists until the earliest
 * of their bounds (less a margin for clocks that run at different rates),
 * so the leader's own copy is current for a read until then, as long as
 * its term and configuration stay the same and it hands leadership to no
 * one. Pure functions; the clock is the caller's (monotonic ns). */
#ifndef TM_RAFT_LEASE_H
#define TM_RAFT_LEASE_H

#include <stdbool.h>
#include <stdint.h>

struct lease {
	uint64_t term;
	uint64_t conf_index; /* raft's committed configuration index */
	uint64_t end_ns;     /* 0: none */
};

/* Until when a voter that answered as above refuses to vote for another
 * candidate, on the leader's clock, less the margin; 0 if that is not
 * after SENT_NS. */
uint64_t lease_bound(uint64_t sent_ns, unsigned election_timeout_ms,
		     uint64_t quiet_ms);

/* The end of a lease from BOUNDS (N of them; reordered) when NEED voters
 * besides the leader make a majority: the NEED-th latest bound, or 0 if
 * fewer than NEED. */
uint64_t lease_end(uint64_t *bounds, unsigned n, unsigned need);

/* Does L hold at NOW_NS for a leader in TERM whose committed
 * configuration is CONF_INDEX, with STEADY false while a configuration
 * change or a leadership transfer is under way? */
bool lease_holds(const struct lease *l, uint64_t now_ns, uint64_t term,
		 uint64_t conf_index, bool steady);

#endif

/* Requests that need the global database while this member is still
 * on its way to serving it (internal/api/global_wait.c).
 *
 * daemon_gdb() is NULL until the member is READY: while it starts
 * (raft opening, the log replayed, waiting for a leader, catching up,
 * the global schema checked) and while its global part restarts for
 * enable, join or leave (JOINING). A raft leader may be elected among
 * the voters in that time, this member included, and the other members
 * then relay writes and read-index asks to it. Such a request, like a
 * client's sent to the member directly, waits until the member is READY
 * and is then handled again from the start, as if it had just arrived:
 * nothing of it ran before (no statement prepared, nothing proposed to
 * raft), so running it then applies it once. */
#ifndef TM_API_GLOBAL_WAIT_H
#define TM_API_GLOBAL_WAIT_H

#include <stdbool.h>

#include "internal/rest/rest.h"

/* How often a waiting request looks at the member's state. */
#define API_GLOBAL_WAIT_POLL_MS 20

/* REQ needs the global database and daemon_gdb() is NULL. If the member
 * is STARTING or JOINING, REQ waits (true: REQ is taken): once the member
 * is READY its handler runs again (rest_handle_again); if it is not READY
 * within API_LEADER_WAIT_MS (the wait of a write for a leader), REQ is
 * answered 503 "global database not available yet: this member is still
 * starting after 5 s (what it waits for)"; if the member starts stopping,
 * 503 "shutting down". False in any other state (READY, stopping): the
 * caller answers REQ at once, as without a wait.
 *
 * REQ relayed by another member (X-Thermionic-Forwarded) needs this
 * member to lead: it is answered 503 with X-Thermionic-Not-Leader
 * (forward.h) as soon as this member knows it follows another leader,
 * at arrival or while it waits. */
bool api_global_wait(struct rest_request *req);

/* The same for a request that only a leader serves, whatever its
 * headers (a relayed batch of writes, a read-index ask). */
bool api_global_wait_relay(struct rest_request *req);

#endif /* TM_API_GLOBAL_WAIT_H */

/* Members' endpoints that answer once this member reached a raft index:
 * `?index=N[&wait_ms=M]`, polled on the loop (cluster_applied.c,
 * cluster_check_member.c). */
#ifndef TM_API_INDEX_WAIT_H
#define TM_API_INDEX_WAIT_H

#include <stdbool.h>
#include <stdint.h>

#include "internal/daemon/daemon.h"
#include "internal/rest/rest.h"

/* Answer REQ now if there is nothing to wait for, or if LATE (the wait is
 * over); true if answered. */
typedef bool (*index_wait_fn)(struct rest_request *req, struct daemon *d,
			      uint64_t index, bool late);

/* Read INDEX (1 or more) and WAIT_MS (0 to MAX_WAIT_MS, default 0) from
 * REQ's query (400 naming the bad one), then call FN now and every
 * POLL_MS until it answers, with LATE once WAIT_MS have passed. */
void index_wait(struct rest_request *req, index_wait_fn fn, unsigned poll_ms,
		unsigned max_wait_ms);

#endif

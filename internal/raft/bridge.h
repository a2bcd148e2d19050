/* A bridge between a conn (TLS, after the raft upgrade) and the
 * uv_stream_t that raft reads, writes and frees itself.
 *
 * raft_uv wants a libuv stream; a TLS conn is not one. The bridge makes a
 * unix socketpair: one end becomes a raft_malloc'd uv_pipe_t handed to
 * raft, the bridge pumps bytes between the other end and the conn, both
 * ways:
 *
 *   peer --TLS--> conn --pump--> socketpair --> raft's pipe (raft reads)
 *   raft's pipe (raft writes) --> socketpair --pump--> conn --TLS--> peer
 *
 * Back-pressure: a side stops being read while the other side's write
 * queue holds more than the bridge's limit, and resumes once it has
 * drained below a quarter of it. So a bridge holds at most about the limit
 * (plus one read) per direction, whatever raft or the peer do.
 *
 * Closing: whichever side ends first ends the other.
 * - raft closes its pipe (or the pipe fails): the conn is closed, after
 *   flushing what raft wrote before (TLS close_notify last).
 * - the peer ends the conn (or it fails): what the peer sent before is
 *   flushed to raft, then the bridge's end of the socketpair is closed, so
 *   raft reads EOF, or its next write fails, and it closes its pipe.
 * - bridge_abort closes both at once.
 * The bridge is released, and its callback run, once both are closed. */
#ifndef TM_RAFT_BRIDGE_H
#define TM_RAFT_BRIDGE_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "internal/net/conn.h"

struct bridge;

/* Default limit of a write queue before the side feeding it is paused. */
#define BRIDGE_QUEUE_LIMIT (256 * 1024)

/* Counters, for logs, tests and metrics. */
struct bridge_stats {
	uint64_t to_raft;	 /* bytes from the peer to raft */
	uint64_t to_peer;	 /* bytes from raft to the peer */
	unsigned paused_to_raft; /* times the conn was paused */
	unsigned paused_to_peer; /* times raft's pipe was paused */
};

/* The bridge has been released; STATS are its final counters. */
typedef void (*bridge_close_cb)(void *data, const struct bridge_stats *stats);

/* Bridge C (an upgraded conn, reading stopped) to a new stream for raft.
 * PENDING (LEN bytes, copied) were read from C already and go to raft
 * first. QUEUE_LIMIT 0 means BRIDGE_QUEUE_LIMIT.
 *
 * On success the bridge owns C (it sets C's callbacks and data), *STREAM
 * is raft's end (a raft_malloc'd uv_pipe_t: the receiver uv_closes it and
 * raft_frees it), and CB(DATA, stats) runs once the bridge is released.
 * On failure (TM_IO: no socket could be made; ERRMSG says why) nothing
 * was taken: the caller still owns C. */
int bridge_start(uv_loop_t *loop, struct conn *c, const char *pending,
		 size_t len, size_t queue_limit, bridge_close_cb cb, void *data,
		 struct bridge **out, uv_stream_t **stream, char *errmsg);

/* Close both sides now (what is queued for raft is dropped; the conn
 * still flushes as conn_close does). Safe more than once. */
void bridge_abort(struct bridge *b);

/* Current counters. */
const struct bridge_stats *bridge_stats(const struct bridge *b);

#endif /* TM_RAFT_BRIDGE_H */

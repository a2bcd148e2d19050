/* Every snapshot raft stores is logged: a failure (a full disk, an I/O
 * error) at error level with its index, size and raft_uv's message, a
 * success at debug level with the time it took. raft 0.15 drops a failed
 * snapshot write without a word: the member goes on from its log, which
 * keeps every entry since the last snapshot that was stored, and nothing
 * would tell the operator why it grows.
 *
 * How: raft_io's snapshot_put (taking a snapshot, and installing one sent
 * by the leader) goes through snaplog_put, which hands raft_uv a request
 * of its own and calls raft's callback from its own. */
#ifndef TM_RAFT_SNAPLOG_H
#define TM_RAFT_SNAPLOG_H

#include <raft.h>

typedef int (*snaplog_put_fn)(struct raft_io *io, unsigned trailing,
			      struct raft_io_snapshot_put *req,
			      const struct raft_snapshot *snapshot,
			      raft_io_snapshot_put_cb cb);

/* Call PUT (raft_uv's snapshot_put) with the same arguments, logging the
 * outcome. */
int snaplog_put(snaplog_put_fn put, struct raft_io *io, unsigned trailing,
		struct raft_io_snapshot_put *req,
		const struct raft_snapshot *snapshot,
		raft_io_snapshot_put_cb cb);

#endif /* TM_RAFT_SNAPLOG_H */

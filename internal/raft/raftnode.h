/* The member's raft instance on the daemon's loop: libraft with its libuv
 * I/O in DIR/global/, and the transport that carries raft traffic.
 *
 * A standalone member is a cluster of one: it bootstraps itself as the
 * single voter on first start and elects itself at once; later starts
 * recover from the latest snapshot plus the log. */
#ifndef TM_RAFTNODE_H
#define TM_RAFTNODE_H

#include <stdbool.h>

#include <raft.h>
#include <uv.h>

#include "internal/raft/transport.h"

struct raftnode;

struct raftnode_options {
	raft_id id;
	const char *address;	     /* copied */
	unsigned snapshot_threshold; /* entries between snapshots */
	unsigned snapshot_trailing;  /* entries kept after a snapshot */
	/* How raft reaches other members (copied; NULL: it reaches none
	 * and accepts none, as for a standalone member). */
	const struct transport_config *transport;
	/* A standalone member bootstraps an empty directory as the single
	 * voter; a member that joined a cluster never does (it waits for
	 * the leader to send it the log). */
	bool bootstrap;
	/* Before starting, make the configuration {this member, voter, at
	 * ADDRESS} (raft_recover): a standalone member becoming a cluster of
	 * one records its real address. */
	bool recover;
	/* A voter among others holds its vote for an election timeout
	 * after its start (transport_hold), as leader leases need. */
	bool hold_vote;
};

/* DIR is the raft data directory (created 0700 if missing). FSM is
 * borrowed and must outlive the node. */
int raftnode_init(struct raftnode **out, uv_loop_t *loop, const char *dir,
		  const struct raftnode_options *opts, struct raft_fsm *fsm,
		  char *errmsg);

/* Bootstrap as the only voter if the directory holds no raft state yet
 * and the options allow it, recover if they ask for it, then start raft
 * (which loads snapshot + log and applies them). */
int raftnode_start(struct raftnode *n, char *errmsg);

/* Borrowed; valid until the close callback. */
struct raft *raftnode_raft(struct raftnode *n);
/* The transport, for its REST route (transport_accept); borrowed, valid
 * until the close callback. */
struct raft_uv_transport *raftnode_transport(struct raftnode *n);

void raftnode_set_snapshot(struct raftnode *n, unsigned threshold,
			   unsigned trailing);

/* Close raft, its I/O and its transport; CB runs once all memory is
 * released (N is invalid afterwards). Never call this from inside an FSM
 * apply callback: the daemon closes from its own stop path. */
void raftnode_close(struct raftnode *n, void (*cb)(void *data), void *data);

#endif /* TM_RAFTNODE_H */

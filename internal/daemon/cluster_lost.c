/* Members lost in a recovery from a lost quorum (thermionicd recover,
 * doc/clustering.md): still in the members table with a role (voter or
 * standby), no longer in raft's configuration, which the recovery forced
 * to the survivors. Until removed (therm cluster remove --force NAME):
 * refused like a removed member (raft and member calls), sent no
 * heartbeat, and listed OFFLINE saying so. A member inserted as a spare
 * and not yet added to raft is a join in progress, not lost. */
#include <string.h>

#include "internal/daemon/cluster_internal.h"
#include "internal/daemon/daemon_priv.h"
#include "internal/lib/mem.h"
#include "internal/raft/raftnode.h"

bool cluster_is_lost(struct daemon *d, uint64_t id, bool spare)
{
	if (spare || d->raftnode == NULL || d->raft_closing) {
		return false;
	}
	const struct raft *r = raftnode_raft(d->raftnode);
	if (r->configuration.n == 0) {
		return false; /* not loaded yet */
	}
	for (unsigned i = 0; i < r->configuration.n; i++) {
		if (r->configuration.servers[i].id == id) {
			return false;
		}
	}
	return true;
}

bool cluster_row_lost(struct daemon *d, const struct cluster_row *row)
{
	return cluster_is_lost(d, row->id, strcmp(row->role, "spare") == 0);
}

bool cluster_fingerprint_lost(struct daemon *d, const char *fp)
{
	struct cluster_row *rows;
	size_t n;
	char errmsg[TM_ERRMSG_SIZE];
	if (fp == NULL || d->gdb == NULL ||
	    cluster_rows(d, &rows, &n, errmsg) != 0) {
		return false;
	}
	bool lost = false;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(rows[i].fingerprint, fp) == 0) {
			lost = cluster_row_lost(d, &rows[i]);
		}
	}
	tm_free(rows);
	return lost;
}

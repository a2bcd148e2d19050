/* A leader that stops gracefully hands leadership over first, so that a
 * rolling restart never waits for an election timeout: raft_transfer to
 * the most up-to-date voter, while the member drains. raft calls back
 * once the target leads, or after an election timeout. */
#include "internal/daemon/daemon_priv.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"
#include "internal/raft/raftnode.h"

static void transferred(struct raft_transfer *req)
{
	struct daemon *d = req->data;
	d->handover_busy = false;
	if (d->raftnode != NULL) {
		raft_id id;
		const char *address;
		raft_leader(raftnode_raft(d->raftnode), &id, &address);
		if (id != 0 && id != d->self.id) {
			LOGI("cluster: leadership handed over to %s", address);
		} else {
			LOGW("cluster: leadership hand-over did not complete");
		}
	}
	tm_free(req);
}

void cluster_handover(struct daemon *d)
{
	if (!d->self.clustered || d->raftnode == NULL || d->raft_closing) {
		return;
	}
	struct raft *r = raftnode_raft(d->raftnode);
	if (raft_state(r) != RAFT_LEADER) {
		return;
	}
	struct raft_transfer *req = tm_calloc(1, sizeof *req);
	req->data = d;
	cluster_lease_drop(d);
	int rv = raft_transfer(r, req, 0, transferred);
	if (rv != 0) {
		if (rv != RAFT_NOTFOUND) {
			LOGW("cluster: hand leadership over: %s",
			     raft_strerror(rv));
		}
		tm_free(req);
		return;
	}
	d->handover_busy = true;
	LOGI("cluster: stopping: handing leadership over");
}

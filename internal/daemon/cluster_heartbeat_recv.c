/* A member receiving the leader's heartbeat (POST
 * /internal/cluster/heartbeat; doc/clustering.md):
 *
 * - only another member's certificate may send it (403), only to a
 *   clustered, ready member (404, 503); the body must parse (400);
 * - a heartbeat from an older raft term than this member knows is a
 *   deposed leader's: refused (409), nothing stored;
 * - the member list goes to the local database (raft_nodes) only when it
 *   differs from what is stored, and only if it names this member (a
 *   member that was removed learns it through the reset call, not from
 *   a list that leaves it out);
 * - the answer is this member's state (beat.h), with its hash chain at
 *   its applied index (doc/consistency.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/config/config.h"
#include "internal/daemon/cluster_internal.h"
#include "internal/daemon/daemon_priv.h"
#include "internal/db/cluster/chain.h"
#include "internal/db/cluster/gdb.h"
#include "internal/db/cluster/global_schema.h"
#include "internal/heartbeat/beat.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"
#include "internal/raft/raftnode.h"

static int role_of(const char *text)
{
	if (strcmp(text, "voter") == 0) {
		return RAFT_VOTER;
	}
	return strcmp(text, "standby") == 0 ? RAFT_STANDBY : RAFT_SPARE;
}

static bool same_list(const struct nodedb_raft_node *have, size_t n,
		      const struct beat_request *r)
{
	if (n != r->n_members) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		const struct beat_member *m = &r->members[i];
		if (have[i].id != m->id || have[i].role != role_of(m->role) ||
		    strcmp(have[i].address, m->address) != 0 ||
		    strcmp(have[i].name, m->name) != 0 ||
		    strcmp(have[i].fingerprint, m->fingerprint) != 0) {
			return false;
		}
	}
	return true;
}

static int by_id(const void *a, const void *b)
{
	const struct beat_member *x = a;
	const struct beat_member *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Store the list R if it names this member and differs from the stored
 * one. */
static void store_list(struct daemon *d, struct beat_request *r)
{
	bool names_self = false;
	for (size_t i = 0; i < r->n_members; i++) {
		names_self = names_self || r->members[i].id == d->self.id;
	}
	if (!names_self) {
		return;
	}
	qsort(r->members, r->n_members, sizeof *r->members, by_id);
	struct nodedb_raft_node *have;
	size_t n;
	if (nodedb_raft_nodes_get(d->nodedb, &have, &n) != 0) {
		LOGE("cluster: read members: %s", nodedb_errmsg(d->nodedb));
		return;
	}
	bool same = same_list(have, n, r);
	nodedb_raft_nodes_free(have, n);
	if (same) {
		return;
	}
	struct nodedb_raft_node *nodes = tm_calloc(r->n_members, sizeof *nodes);
	for (size_t i = 0; i < r->n_members; i++) {
		nodes[i].id = r->members[i].id;
		nodes[i].address = r->members[i].address;
		nodes[i].role = role_of(r->members[i].role);
		nodes[i].name = r->members[i].name;
		nodes[i].fingerprint = r->members[i].fingerprint;
	}
	if (nodedb_raft_nodes_replace(d->nodedb, nodes, r->n_members) != 0) {
		LOGE("cluster: store the heartbeat's member list: %s",
		     nodedb_errmsg(d->nodedb));
	} else {
		LOGI("cluster: member list updated from the leader's "
		     "heartbeat (%zu members)",
		     r->n_members);
		cluster_load_fingerprints(d);
	}
	tm_free(nodes);
}

static const char *name_of(const struct beat_request *r, uint64_t id)
{
	for (size_t i = 0; i < r->n_members; i++) {
		if (r->members[i].id == id) {
			return r->members[i].name;
		}
	}
	return "(unknown)";
}

static cJSON *answer(struct daemon *d, struct raft *r)
{
	struct beat_answer a = {.id = d->self.id};
	snprintf(a.name, sizeof a.name, "%s", d->self.name);
	char *address = cluster_raft_address(d);
	snprintf(a.address, sizeof a.address, "%s", address);
	tm_free(address);
	snprintf(a.version, sizeof a.version, "%s", THERMIONIC_VERSION);
	a.schema_version = (int)global_schema()->n_updates;
	a.api_extensions = cluster_api_extensions();
	a.applied_index = raft_last_applied(r);
	a.snapshot_index = r->log.snapshot.last_index;
	uint8_t chain[GDB_CHAIN_SIZE];
	uint64_t at = 0;
	if (d->gdb != NULL &&
	    gdb_chain_now(d->gdb, &at, &a.chain_base, chain)) {
		/* The chain is told where it stands (the apply thread may
		 * be behind raft). */
		a.applied_index = at;
		a.has_chain = true;
		gdb_chain_hex(chain, a.chain);
	}
	struct looplag_stats lag;
	looplag_get(&d->lag, &lag);
	a.loop_lag_p99_ms = lag.p99_ms;
	double load[1];
	a.load_average = getloadavg(load, 1) == 1 ? load[0] : 0;
	return beat_answer_json(&a);
}

int cluster_heartbeat_receive(struct daemon *d, const char *body, size_t len,
			      const char *peer_fp, cJSON **out, char *errmsg)
{
	*out = NULL;
	if (!d->self.clustered) {
		tm_errmsg_printf(errmsg,
				 "this member is not part of a cluster");
		return TM_NOTFOUND;
	}
	if (!cluster_is_member_fingerprint(d, peer_fp) ||
	    strcmp(peer_fp, d->fingerprint) == 0) {
		tm_errmsg_printf(errmsg, "only another member of the cluster "
					 "may send a heartbeat");
		return TM_PERM;
	}
	/* A member that joined answers while it catches up: the leader
	 * makes it a standby (which replicates) only once it answers. So
	 * does a member starting again once its raft runs: its last
	 * snapshot counts in the leader's snapshot floor (trailing.c). */
	bool old_raft = d->phase == CLUSTER_JOINING && d->join_target == 0;
	if ((d->state != DAEMON_READY && d->state != DAEMON_JOINING &&
	     d->state != DAEMON_STARTING) ||
	    d->raftnode == NULL || d->raft_closing || old_raft) {
		tm_errmsg_printf(errmsg, "this member is not ready");
		return TM_BUSY;
	}
	struct beat_request r;
	int rv = beat_request_parse(body, len, &r, errmsg);
	if (rv != 0) {
		tm_errmsg_wrapf(errmsg, "heartbeat");
		return TM_INVALID;
	}
	struct raft *raft = raftnode_raft(d->raftnode);
	if (r.term < raft->current_term) {
		tm_errmsg_printf(errmsg,
				 "heartbeat of raft term %llu, and this member "
				 "is at term %llu: the sender no longer leads",
				 (unsigned long long)r.term,
				 (unsigned long long)raft->current_term);
		beat_request_clear(&r);
		return TM_CONFLICT;
	}
	cluster_heartbeat_leader_seen(d, r.leader_id, name_of(&r, r.leader_id));
	if (r.has_snapshot_floor && d->gdb != NULL) {
		gdb_set_trail_floor(d->gdb, r.snapshot_floor);
	}
	store_list(d, &r);
	beat_request_clear(&r);
	*out = answer(d, raft);
	return 0;
}

/* Who this member is, and whom it admits: identity at start, the cluster
 * certificate, the members' fingerprints mirrored from the global
 * database into the local one. */
#include "internal/daemon/cluster.h"

#include <stdio.h>
#include <string.h>

#include "internal/config/config.h"
#include "internal/daemon/cluster_internal.h"
#include "internal/daemon/daemon_priv.h"
#include "internal/daemon/events_internal.h"
#include "internal/db/cluster/gdb.h"
#include "internal/db/node/nodedb.h"
#include "internal/lib/fs.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"
#include "internal/raft/raftnode.h"
#include "internal/raft/transport.h"
#include "internal/tls/tls.h"

/* A member that has never been part of a cluster is raft id 1. */
#define RAFT_ID_STANDALONE 1

static const char *const phase_names[] = {"standalone", "joining", "member"};

int cluster_use_certificate(struct daemon *d, char *errmsg)
{
	char *cert = tm_asprintf("%s/cluster.crt", d->dir);
	char *key = tm_asprintf("%s/cluster.key", d->dir);
	char *pem = NULL;
	int rv = fs_read_all(cert, 1 << 20, &pem, NULL, errmsg);
	if (rv == 0) {
		rv = tls_fingerprint_pem(pem, d->cluster_fingerprint, errmsg);
	}
	if (rv == 0) {
		rv = tls_ctx_use_keypair(d->tls_ctx, cert, key, errmsg);
	}
	if (rv != 0) {
		tm_errmsg_wrapf(errmsg, "cluster certificate");
		d->cluster_fingerprint[0] = '\0';
	}
	tm_free(pem);
	tm_free(key);
	tm_free(cert);
	return rv;
}

void cluster_load_fingerprints(struct daemon *d)
{
	tm_free(d->member_certs);
	d->member_certs = NULL;
	d->n_member_certs = 0;
	struct nodedb_raft_node *nodes;
	size_t n;
	if (nodedb_raft_nodes_get(d->nodedb, &nodes, &n) != 0) {
		LOGE("cluster: read members: %s", nodedb_errmsg(d->nodedb));
		return;
	}
	d->member_certs = tm_calloc(n + 1, sizeof *d->member_certs);
	for (size_t i = 0; i < n; i++) {
		if (nodes[i].fingerprint[0] != '\0') {
			struct cluster_member_cert *c =
			    &d->member_certs[d->n_member_certs++];
			snprintf(c->fingerprint, sizeof c->fingerprint, "%s",
				 nodes[i].fingerprint);
			c->id = nodes[i].id;
			c->spare = nodes[i].role == RAFT_SPARE;
		}
	}
	cluster_addresses_load(d, nodes, n);
	nodedb_raft_nodes_free(nodes, n);
}

bool cluster_is_member_fingerprint(struct daemon *d, const char *fp)
{
	if (fp == NULL) {
		return false;
	}
	for (size_t i = 0; i < d->n_member_certs; i++) {
		const struct cluster_member_cert *c = &d->member_certs[i];
		if (strcmp(c->fingerprint, fp) == 0) {
			/* Checked against raft's configuration as it is
			 * now: a recovery may have left it out. */
			return !cluster_is_lost(d, c->id, c->spare);
		}
	}
	return false;
}

int cluster_identity_load(struct daemon *d, char *errmsg)
{
	bool found;
	if (nodedb_member_get(d->nodedb, &d->self, &found) != 0) {
		tm_errmsg_printf(errmsg, "refusing to start: %s",
				 nodedb_errmsg(d->nodedb));
		return TM_CORRUPT;
	}
	if (!found) {
		/* Older versions kept their own id first in raft_nodes. */
		struct nodedb_raft_node *nodes;
		size_t n;
		if (nodedb_raft_nodes_get(d->nodedb, &nodes, &n) != 0) {
			tm_errmsg_printf(errmsg, "raft members: %s",
					 nodedb_errmsg(d->nodedb));
			return TM_DB;
		}
		d->self.id = n > 0 ? nodes[0].id : RAFT_ID_STANDALONE;
		nodedb_raft_nodes_free(nodes, n);
		if (nodedb_member_set(d->nodedb, &d->self) != 0) {
			tm_errmsg_printf(errmsg, "store member: %s",
					 nodedb_errmsg(d->nodedb));
			return TM_DB;
		}
	}
	cluster_load_fingerprints(d);
	if (!d->self.clustered) {
		d->phase = CLUSTER_STANDALONE;
		return 0;
	}
	d->phase = CLUSTER_MEMBER;
	int rv = cluster_use_certificate(d, errmsg);
	if (rv != 0) {
		tm_errmsg_wrapf(errmsg, "refusing to start");
		LOGE("cluster: this member is %s of a cluster, and needs "
		     "%s/cluster.crt and %s/cluster.key; put them back from "
		     "another member",
		     d->self.name, d->dir, d->dir);
	}
	return rv;
}

static int role_of(const char *text)
{
	if (strcmp(text, "voter") == 0) {
		return RAFT_VOTER;
	}
	return strcmp(text, "standby") == 0 ? RAFT_STANDBY : RAFT_SPARE;
}

static void rename_self(struct daemon *d, const char *name)
{
	struct nodedb_member self = d->self;
	snprintf(self.name, sizeof self.name, "%s", name);
	if (nodedb_member_set(d->nodedb, &self) != 0) {
		LOGE("cluster: store new name: %s", nodedb_errmsg(d->nodedb));
		return;
	}
	LOGI("cluster: this member is now named %s (was %s)", name,
	     d->self.name);
	d->self = self;
}

/* The members table changed: mirror it into the local database. */
static void members_changed(void *arg, const char *table)
{
	(void)table;
	struct daemon *d = arg;
	if (d->gdb == NULL || !d->self.clustered) {
		return;
	}
	sqlite3 *db = gdb_exec_conn(d->gdb);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db,
			       "SELECT id, address, role, name, fingerprint "
			       "FROM members ORDER BY id",
			       -1, &st, NULL) != SQLITE_OK) {
		return; /* no members table yet (schema not updated) */
	}
	size_t n = 0;
	size_t cap = 8;
	struct nodedb_raft_node *nodes = tm_calloc(cap, sizeof *nodes);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n == cap) {
			cap *= 2;
			nodes = tm_realloc(nodes, cap * sizeof *nodes);
		}
		nodes[n].id = (uint64_t)sqlite3_column_int64(st, 0);
		nodes[n].address =
		    tm_strdup((const char *)sqlite3_column_text(st, 1));
		nodes[n].role =
		    role_of((const char *)sqlite3_column_text(st, 2));
		nodes[n].name =
		    tm_strdup((const char *)sqlite3_column_text(st, 3));
		nodes[n].fingerprint =
		    tm_strdup((const char *)sqlite3_column_text(st, 4));
		if (nodes[n].id == d->self.id &&
		    strcmp(nodes[n].name, d->self.name) != 0 &&
		    strlen(nodes[n].name) <= MEMBER_NAME_MAX) {
			rename_self(d, nodes[n].name);
		}
		n++;
	}
	sqlite3_finalize(st);
	if (n > 0) {
		if (nodedb_raft_nodes_replace(d->nodedb, nodes, n) != 0) {
			LOGE("cluster: store members: %s",
			     nodedb_errmsg(d->nodedb));
		}
		cluster_load_fingerprints(d);
	}
	nodedb_raft_nodes_free(nodes, n);
	daemon_events_members_changed(d);
}

void cluster_watch(struct daemon *d)
{
	gdb_watch(d->gdb, "members", members_changed, d);
}

cJSON *cluster_info(struct daemon *d)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "enabled", d->self.clustered);
	cJSON_AddStringToObject(o, "member_name", d->self.name);
	cJSON_AddStringToObject(o, "fingerprint", d->cluster_fingerprint);
	cJSON_AddStringToObject(o, "state", phase_names[d->phase]);
	cJSON_AddStringToObject(o, "message", d->cluster_message);
	uint64_t applied = 0;
	uint64_t target = d->join_target;
	/* Before the restart a joining member's raft is its old one. */
	bool old_raft = d->phase == CLUSTER_JOINING && d->join_target == 0;
	if (d->raftnode != NULL && !d->raft_closing && !old_raft) {
		struct raft *r = raftnode_raft(d->raftnode);
		applied = d->gdb != NULL ? gdb_applied_index(d->gdb)
					 : raft_last_applied(r);
		if (r->commit_index > target) {
			target = r->commit_index;
		}
	}
	cJSON_AddNumberToObject(o, "applied_index", (double)applied);
	cJSON_AddNumberToObject(o, "target_index", (double)target);
	/* Raft's view, known before the member is ready (the heartbeat's
	 * view, below, starts once the leader is). */
	const char *leader = cluster_leader_address(d);
	cJSON_AddStringToObject(o, "leader_address",
				leader != NULL ? leader : "");
	cJSON_AddNumberToObject(o, "read_index_asks",
				(double)d->read_index.asks);
	cJSON_AddNumberToObject(o, "read_index_answered_now",
				(double)d->read_index.answered_now);
	cJSON_AddNumberToObject(o, "lease_reads", (double)d->lease_reads);
	if (d->gdb != NULL) {
		struct gdb_stats gs;
		gdb_get_stats(d->gdb, &gs);
		cJSON_AddNumberToObject(o, "entries_applied_inline",
					(double)gs.entries_applied_inline);
		cJSON_AddNumberToObject(o, "entries_applied_queued",
					(double)gs.entries_applied_lane);
		cJSON_AddNumberToObject(o, "reads_on_loop",
					(double)gs.reads_on_loop);
		cJSON_AddNumberToObject(o, "reads_offloaded",
					(double)gs.reads_offloaded);
	}
	struct transport_stats ts = {0};
	if (d->raftnode != NULL && !d->raft_closing) {
		transport_stats(raftnode_transport(d->raftnode), &ts);
	}
	cJSON_AddNumberToObject(o, "raft_held_refusals", (double)ts.held);
	cJSON_AddNumberToObject(o, "relayed_writes", (double)d->relay.writes);
	cJSON_AddNumberToObject(o, "relayed_batches",
				(double)d->relay.batches);
	cluster_heartbeat_info(d, o);
	return o;
}

bool cluster_follows(struct daemon *d)
{
	return d->self.clustered && d->raftnode != NULL && !d->raft_closing &&
	       raft_state(raftnode_raft(d->raftnode)) != RAFT_LEADER;
}

const char *cluster_fingerprint(struct daemon *d)
{
	return d->cluster_fingerprint;
}

const char *cluster_member_name(struct daemon *d) { return d->self.name; }

const char *cluster_message(struct daemon *d) { return d->cluster_message; }

uint64_t cluster_applied_index(struct daemon *d)
{
	if (d->raftnode == NULL || d->raft_closing) {
		return 0;
	}
	if (d->gdb != NULL) {
		return gdb_applied_index(d->gdb);
	}
	return raft_last_applied(raftnode_raft(d->raftnode));
}

void cluster_reachability(struct daemon *d, char *out, size_t size)
{
	out[0] = '\0';
	struct nodedb_raft_node *nodes;
	size_t n;
	if (d->raftnode == NULL || d->raft_closing ||
	    nodedb_raft_nodes_get(d->nodedb, &nodes, &n) != 0) {
		return;
	}
	struct raft_uv_transport *t = raftnode_transport(d->raftnode);
	size_t len = 0;
	for (size_t i = 0; i < n && len + 1 < size; i++) {
		if (nodes[i].id == d->self.id) {
			continue;
		}
		const char *problem = transport_peer_problem(t, nodes[i].id);
		int w = snprintf(out + len, size - len, "%s%s at %s: %.120s",
				 len > 0 ? "; " : "", nodes[i].name,
				 nodes[i].address,
				 problem != NULL ? problem
						 : "connected when last tried");
		if (w < 0) {
			break;
		}
		len += (size_t)w < size - len ? (size_t)w : size - len - 1;
	}
	nodedb_raft_nodes_free(nodes, n);
}

bool cluster_is_member(struct daemon *d, const char *fp)
{
	return d->phase != CLUSTER_STANDALONE &&
	       (cluster_is_member_fingerprint(d, fp) ||
		(fp != NULL && daemon_trust_member(d, fp) &&
		 !cluster_fingerprint_lost(d, fp)));
}

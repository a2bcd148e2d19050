/* Members that change address (doc/clustering.md, "Changing a member's
 * address").
 *
 * A member's address is its core.https_address. When it differs from the
 * address the member list holds for it (the member was restarted with a
 * new one, or it was set while running), the member tells the leader:
 * POST /internal/cluster/address {"address": A} straight to the leader
 * (never relayed: the leader must see the member's own certificate),
 * every ANNOUNCE_MS until the member list holds A. The leader checks that
 * the address is a real one and no other member's, and writes it to the
 * members table; every member's local list follows (cluster.c), and the
 * leader's heartbeats carry it to members that were behind.
 *
 * Raft's configuration keeps the addresses of when members joined: the
 * raft transport dials members at the address of the local member list
 * (cluster_member_address), and so do requests relayed to the leader. A
 * member restarted after its peers moved finds them from its local list,
 * provided it held their new addresses before it stopped (it was up, or
 * received a heartbeat, after they moved). */
#include <stdio.h>
#include <string.h>

#include "internal/client/hclient.h"
#include "internal/config/config.h"
#include "internal/daemon/cluster_internal.h"
#include "internal/daemon/daemon_priv.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"
#include "internal/raft/raftnode.h"

#define ANNOUNCE_MS 1000

struct cluster_announce {
	struct hclient_request req;
	struct daemon *d;
	char *body;
	char address[TOKEN_ADDRESS_MAX + 1];
	bool in_flight;
	uint64_t last; /* uv_now of the last attempt */
};

/* ---- the local list's addresses, cached ---- */

void cluster_addresses_load(struct daemon *d,
			    const struct nodedb_raft_node *nodes, size_t n)
{
	tm_free(d->member_addresses);
	d->member_addresses = tm_calloc(n + 1, sizeof *d->member_addresses);
	for (size_t i = 0; i < n; i++) {
		d->member_addresses[i].id = nodes[i].id;
		snprintf(d->member_addresses[i].address,
			 sizeof d->member_addresses[i].address, "%s",
			 nodes[i].address);
	}
	d->n_member_addresses = n;
}

static const char *listed_address(struct daemon *d, uint64_t id)
{
	for (size_t i = 0; i < d->n_member_addresses; i++) {
		if (d->member_addresses[i].id == id) {
			return d->member_addresses[i].address;
		}
	}
	return NULL;
}

bool cluster_member_address(struct daemon *d, uint64_t id, char *buf,
			    size_t size)
{
	const char *a = listed_address(d, id);
	if (a == NULL || strlen(a) >= size) {
		return false;
	}
	memcpy(buf, a, strlen(a) + 1);
	return true;
}

const char *cluster_leader_address(struct daemon *d)
{
	if (d->raftnode == NULL || d->raft_closing) {
		return NULL;
	}
	raft_id id;
	const char *address;
	raft_leader(raftnode_raft(d->raftnode), &id, &address);
	if (id == 0) {
		return NULL;
	}
	const char *listed = listed_address(d, id);
	return listed != NULL ? listed : address;
}

/* The address this member should be known by: a usable
 * core.https_address, else NULL. */
static const char *own_address(struct daemon *d)
{
	const char *https = config_get(d->config, "core.https_address");
	char errmsg[TM_ERRMSG_SIZE];
	return cluster_check_address(https, errmsg) == 0 ? https : NULL;
}

char *cluster_raft_address(struct daemon *d)
{
	const char *own = own_address(d);
	const char *listed = listed_address(d, d->self.id);
	if (d->self.clustered && own != NULL) {
		return tm_strdup(own);
	}
	if (d->self.clustered && listed != NULL) {
		return tm_strdup(listed);
	}
	return tm_strdup(own != NULL ? own : "standalone");
}

/* ---- the member that moved ---- */

static void announced_cb(struct hclient_request *req)
{
	struct cluster_announce *a = req->data;
	a->in_flight = false;
	if (req->status != 0 || req->http_status != 200) {
		LOGD("cluster: telling the leader this member's address %s: "
		     "%s%.200s",
		     a->address, req->errmsg,
		     req->body_out != NULL ? req->body_out : "");
	} else {
		LOGI("cluster: the leader recorded this member's new address "
		     "%s",
		     a->address);
	}
	hclient_request_clear(req);
}

static void self_moved_cb(void *arg, int status, const char *errmsg,
			  cJSON *meta)
{
	struct cluster_announce *a = arg;
	a->in_flight = false;
	cJSON_Delete(meta);
	if (status != 0) {
		LOGW("cluster: record this member's new address: %s", errmsg);
	}
}

/* The leader moved: it records its address itself. */
static void leader_moved(struct daemon *d, struct cluster_announce *a,
			 const char *own)
{
	char errmsg[TM_ERRMSG_SIZE];
	if (cluster_member_move(d, d->fingerprint, own, self_moved_cb, a,
				errmsg) == 0) {
		a->in_flight = true;
	} else {
		LOGW("cluster: record this member's new address: %s", errmsg);
	}
}

void cluster_address_tick(struct daemon *d)
{
	const char *own = own_address(d);
	const char *listed = listed_address(d, d->self.id);
	const char *leader = cluster_leader_address(d);
	if (own == NULL || listed == NULL || strcmp(own, listed) == 0 ||
	    leader == NULL || d->hclient == NULL) {
		return;
	}
	struct cluster_announce *a = d->announce;
	if (a == NULL) {
		a = tm_calloc(1, sizeof *a);
		a->d = d;
		a->req.data = a;
		d->announce = a;
	}
	uint64_t now = uv_now(d->loop);
	if (a->in_flight || (a->last != 0 && now - a->last < ANNOUNCE_MS)) {
		return;
	}
	a->last = now;
	LOGI("cluster: this member's address is %s, the member list says %s: "
	     "telling the leader at %s",
	     own, listed, leader);
	snprintf(a->address, sizeof a->address, "%s", own);
	if (!cluster_follows(d)) {
		leader_moved(d, a, own);
		return;
	}
	cJSON *body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "address", own);
	char *text = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	tm_free(a->body);
	a->body = tm_strdup(text);
	cJSON_free(text);
	a->req.method = "POST";
	a->req.address = leader;
	a->req.path = "/internal/cluster/address";
	a->req.pin = d->cluster_fingerprint;
	a->req.body = a->body;
	a->req.body_len = strlen(a->body);
	a->req.content_type = "application/json";
	a->req.timeout_ms = 5000;
	a->req.max_response = 64 * 1024;
	if (hclient_send(d->hclient, &a->req, announced_cb) == 0) {
		a->in_flight = true;
	}
}

void cluster_address_free(struct daemon *d)
{
	if (d->announce != NULL) {
		tm_free(d->announce->body);
		tm_free(d->announce);
		d->announce = NULL;
	}
	tm_free(d->member_addresses);
	d->member_addresses = NULL;
	d->n_member_addresses = 0;
}

/* ---- the leader's side ---- */

struct move {
	struct daemon *d;
	cluster_result_cb cb;
	void *arg;
	char name[MEMBER_NAME_MAX + 1];
	char address[TOKEN_ADDRESS_MAX + 1];
	struct gdb_request req;
	struct gdb_stmt stmt;
	struct gdb_value params[2];
};

static void moved(struct gdb_request *req, int status)
{
	struct move *m = req->data;
	if (status == 0) {
		LOGI("cluster: member %s is at %s now", m->name, m->address);
		m->cb(m->arg, 0, "", NULL);
	} else {
		m->cb(m->arg, status, req->errmsg, NULL);
	}
	gdb_request_clear(req);
	tm_free(m);
}

/* The row of the member with certificate FP, and whether another member
 * holds ADDRESS (its name into OTHER). */
static int lookup(struct daemon *d, const char *fp, const char *address,
		  struct cluster_row *row, char *other, char *errmsg)
{
	struct cluster_row *rows;
	size_t n;
	int rv = cluster_rows(d, &rows, &n, errmsg);
	if (rv != 0) {
		return rv;
	}
	rv = TM_PERM;
	other[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (fp != NULL && strcmp(rows[i].fingerprint, fp) == 0) {
			*row = rows[i];
			rv = 0;
		} else if (strcmp(rows[i].address, address) == 0) {
			snprintf(other, MEMBER_NAME_MAX + 1, "%s",
				 rows[i].name);
		}
	}
	tm_free(rows);
	if (rv != 0) {
		tm_errmsg_printf(errmsg, "only a member of the cluster may "
					 "change its own address");
	}
	return rv;
}

int cluster_member_move(struct daemon *d, const char *peer_fp,
			const char *address, cluster_result_cb cb, void *arg,
			char *errmsg)
{
	int rv = cluster_check_leader(d, errmsg);
	if (rv != 0) {
		return rv;
	}
	char *normal = NULL;
	char reason[TM_ERRMSG_SIZE];
	if (config_address_normalize(address, &normal, reason) != 0 ||
	    strlen(normal) > TOKEN_ADDRESS_MAX ||
	    cluster_check_address(normal, reason) != 0) {
		tm_errmsg_printf(errmsg, "address \"%.64s\": %s", address,
				 normal != NULL &&
					 strlen(normal) > TOKEN_ADDRESS_MAX
				     ? "too long"
				     : reason);
		tm_free(normal);
		return TM_INVALID;
	}
	struct move *m = tm_calloc(1, sizeof *m);
	snprintf(m->address, sizeof m->address, "%s", normal);
	tm_free(normal);
	struct cluster_row row;
	char other[MEMBER_NAME_MAX + 1];
	rv = lookup(d, peer_fp, m->address, &row, other, errmsg);
	if (rv == 0 && other[0] != '\0') {
		tm_errmsg_printf(errmsg,
				 "address %s is already member \"%s\"'s",
				 m->address, other);
		rv = TM_EXISTS;
	}
	if (rv != 0) {
		tm_free(m);
		return rv;
	}
	m->d = d;
	m->cb = cb;
	m->arg = arg;
	snprintf(m->name, sizeof m->name, "%s", row.name);
	cluster_text(&m->params[0], m->address);
	cluster_int(&m->params[1], (int64_t)row.id);
	m->stmt.sql = (char *)"UPDATE members SET address = ? WHERE id = ?";
	m->stmt.params = m->params;
	m->stmt.n_params = 2;
	m->req.data = m;
	m->req.stmts = &m->stmt;
	m->req.n_stmts = 1;
	gdb_write(d->gdb, &m->req, moved);
	return 0;
}

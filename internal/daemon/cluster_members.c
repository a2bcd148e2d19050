/* The member list (GET /1.0/cluster/members) and the leader's rebalance.
 *
 * Roles come from raft's configuration as this member knows it; the
 * members table keeps a copy (role column) that the leader updates, so
 * that every member's local list (raft_nodes) carries roles too.
 *
 * Rebalance, on the leader, every REBALANCE_MS and right after a join:
 * one change at a time (raft allows one configuration change in flight).
 * Only members the heartbeat shows ONLINE and steady (liveness.h: not
 * back from OFFLINE too recently, so a flapping member is not promoted
 * back and forth) are promoted:
 *   - a voter OFFLINE for the stability window (cluster_heartbeat.c) is
 *     replaced: first a standby, else a spare, is promoted to voter; once
 *     there are more voters than cluster.max_voters, the dead one is
 *     made a spare (it may come back as a standby when one is missing);
 *   - fewer voters than cluster.max_voters: promote a standby, else a
 *     spare, preferring one whose failure domain holds no voter yet;
 *   - else fewer standbys than cluster.max_standby: promote a spare;
 *   - else: copy raft's roles into the members table where they differ.
 * No change leaves fewer ONLINE voters than a quorum of the voters it
 * leaves: it cannot drop the cluster below quorum by itself. */
#include <stdio.h>
#include <string.h>

#include "internal/config/config.h"
#include "internal/daemon/cluster_internal.h"
#include "internal/daemon/daemon_priv.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"
#include "internal/raft/raftnode.h"

#define REBALANCE_MS 1000
#define DEFAULT_MAX_VOTERS 3
#define DEFAULT_MAX_STANDBY 2

static const char *role_name(int role)
{
	switch (role) {
	case RAFT_VOTER:
		return "voter";
	case RAFT_STANDBY:
		return "standby";
	default:
		return "spare";
	}
}

/* The raft role of ID, or -1 if it is not in the configuration. */
static int raft_role(struct raft *r, uint64_t id)
{
	for (unsigned i = 0; i < r->configuration.n; i++) {
		if (r->configuration.servers[i].id == id) {
			return r->configuration.servers[i].role;
		}
	}
	return -1;
}

static int64_t key_or(struct daemon *d, const char *key, int64_t dflt)
{
	return config_lookup(key) != NULL ? config_get_int(d->config, key)
					  : dflt;
}

/* What this member knows of ID's health (MESSAGE: TM_ERRMSG_SIZE). The
 * leader knows every member's from the answers to its heartbeats; a
 * follower knows only the leader's, from the heartbeats it receives (the
 * member list is asked of the leader; this is the answer when the leader
 * cannot be asked). */
static void member_state(struct daemon *d, struct raft *r,
			 const struct cluster_row *row, raft_id leader,
			 const char **state, char *message)
{
	uint64_t id = row->id;
	*state = "ONLINE";
	message[0] = '\0';
	if (id == d->self.id) {
		snprintf(message, TM_ERRMSG_SIZE, "%s", d->cluster_message);
		return;
	}
	if (r == NULL) {
		return;
	}
	if (cluster_row_lost(d, row)) {
		*state = "OFFLINE";
		snprintf(message, TM_ERRMSG_SIZE,
			 "not in the raft configuration: left out by a "
			 "recovery from a lost quorum; remove it with: therm "
			 "cluster remove --force %s",
			 row->name);
		return;
	}
	if (raft_role(r, id) < 0) {
		*state = "PENDING";
		snprintf(message, TM_ERRMSG_SIZE,
			 "not in the raft configuration yet");
		return;
	}
	if (raft_state(r) == RAFT_LEADER) {
		cluster_heartbeat_view(d, id, state, message, TM_ERRMSG_SIZE);
		return;
	}
	if (cluster_heartbeat_leader_view(d, id, state, message,
					  TM_ERRMSG_SIZE)) {
		return;
	}
	*state = "UNKNOWN";
	snprintf(message, TM_ERRMSG_SIZE, "%s",
		 leader == 0 ? "no leader known"
			     : "only the leader knows; ask it");
}

static cJSON *member_json(struct daemon *d, const struct cluster_row *row)
{
	struct raft *r = d->raftnode != NULL && !d->raft_closing
			     ? raftnode_raft(d->raftnode)
			     : NULL;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", row->name);
	cJSON_AddNumberToObject(o, "id", (double)row->id);
	char *url = tm_asprintf("https://%s", row->address);
	cJSON_AddStringToObject(o, "url", url);
	tm_free(url);
	cJSON_AddStringToObject(o, "address", row->address);
	cJSON *roles = cJSON_AddArrayToObject(o, "roles");
	int role = r != NULL ? raft_role(r, row->id) : -1;
	raft_id leader = 0;
	const char *leader_address;
	if (r != NULL) {
		raft_leader(r, &leader, &leader_address);
	}
	const char *state;
	char message[TM_ERRMSG_SIZE];
	member_state(d, r, row, leader, &state, message);
	if (role >= 0) {
		cJSON_AddItemToArray(roles,
				     cJSON_CreateString(role_name(role)));
	}
	if (leader == row->id) {
		cJSON_AddItemToArray(roles, cJSON_CreateString("leader"));
	}
	cJSON_AddStringToObject(o, "failure_domain", row->failure_domain);
	cJSON_AddStringToObject(o, "state", state);
	cJSON_AddStringToObject(o, "message", message);
	cJSON_AddStringToObject(o, "description", row->description);
	cJSON_AddNumberToObject(o, "schema_version", row->schema_version);
	cJSON_AddNumberToObject(o, "api_extensions", row->api_extensions);
	cluster_heartbeat_answers(d, row->id, o);
	return o;
}

cJSON *cluster_member_list(struct daemon *d, bool recursion, char *errmsg)
{
	if (cluster_check_ready(d, errmsg) != 0) {
		return NULL;
	}
	struct cluster_row *rows;
	size_t n;
	if (cluster_rows(d, &rows, &n, errmsg) != 0) {
		return NULL;
	}
	cJSON *list = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++) {
		if (recursion) {
			cJSON_AddItemToArray(list, member_json(d, &rows[i]));
		} else {
			char *url = tm_asprintf("/1.0/cluster/members/%s",
						rows[i].name);
			cJSON_AddItemToArray(list, cJSON_CreateString(url));
			tm_free(url);
		}
	}
	tm_free(rows);
	return list;
}

cJSON *cluster_member_get(struct daemon *d, const char *name, int *status,
			  char *errmsg)
{
	*status = cluster_check_ready(d, errmsg);
	if (*status != 0) {
		return NULL;
	}
	struct cluster_row *rows;
	size_t n;
	*status = cluster_rows(d, &rows, &n, errmsg);
	if (*status != 0) {
		return NULL;
	}
	cJSON *o = NULL;
	for (size_t i = 0; i < n && o == NULL; i++) {
		if (strcmp(rows[i].name, name) == 0) {
			o = member_json(d, &rows[i]);
		}
	}
	tm_free(rows);
	if (o == NULL) {
		tm_errmsg_printf(errmsg, "no member named \"%s\"", name);
		*status = TM_NOTFOUND;
	}
	return o;
}

/* ---- rebalance ---- */

struct rebalance_change {
	struct daemon *d;
	struct raft_change change;
	uint64_t id;
	int role;
};

static void assigned(struct raft_change *change, int status)
{
	struct rebalance_change *c = change->data;
	struct daemon *d = c->d;
	if (status == 0) {
		LOGI("cluster: member %llu is now %s",
		     (unsigned long long)c->id, role_name(c->role));
	} else {
		LOGW("cluster: make member %llu %s: %s",
		     (unsigned long long)c->id, role_name(c->role),
		     raft_strerror(status));
	}
	d->rebalance_busy = false;
	tm_free(c);
	if (status == 0) {
		cluster_rebalance_soon(d);
	}
}

static void role_written(struct gdb_request *req, int status)
{
	struct daemon *d = req->data;
	(void)status;
	d->rebalance_busy = false;
	gdb_request_clear(req);
	struct gdb_stmt *stmt = (struct gdb_stmt *)req->stmts;
	tm_free(stmt->params[0].p);
	tm_free(stmt->params);
	tm_free(stmt);
	tm_free(req);
}

/* Copy raft's role of ROW into the members table. */
static void write_role(struct daemon *d, const struct cluster_row *row,
		       int role)
{
	struct gdb_request *req = tm_calloc(1, sizeof *req);
	struct gdb_stmt *stmt = tm_calloc(1, sizeof *stmt);
	stmt->params = tm_calloc(2, sizeof *stmt->params);
	cluster_text(&stmt->params[0], role_name(role));
	stmt->params[0].p = tm_strdup(role_name(role));
	cluster_int(&stmt->params[1], (int64_t)row->id);
	stmt->n_params = 2;
	stmt->sql = (char *)"UPDATE members SET role = ? WHERE id = ?";
	req->data = d;
	req->stmts = stmt;
	req->n_stmts = 1;
	d->rebalance_busy = true;
	gdb_write(d->gdb, req, role_written);
}

static bool domain_has_voter(struct raft *r, const struct cluster_row *rows,
			     size_t n, const char *domain)
{
	for (size_t i = 0; i < n; i++) {
		if (raft_role(r, rows[i].id) == RAFT_VOTER &&
		    strcmp(rows[i].failure_domain, domain) == 0) {
			return true;
		}
	}
	return false;
}

/* The member to promote to ROLE from FROM, or NULL. */
static const struct cluster_row *candidate(struct daemon *d, struct raft *r,
					   const struct cluster_row *rows,
					   size_t n, int from, bool spread)
{
	const struct cluster_row *best = NULL;
	for (size_t i = 0; i < n; i++) {
		if (raft_role(r, rows[i].id) != from ||
		    !cluster_heartbeat_steady(d, rows[i].id)) {
			continue;
		}
		bool fresh_domain =
		    rows[i].failure_domain[0] != '\0' &&
		    !domain_has_voter(r, rows, n, rows[i].failure_domain);
		if (best == NULL || (spread && fresh_domain)) {
			best = &rows[i];
			if (!spread || fresh_domain) {
				break;
			}
		}
	}
	return best;
}

static void assign(struct daemon *d, struct raft *r, uint64_t id, int role)
{
	struct rebalance_change *c = tm_calloc(1, sizeof *c);
	c->d = d;
	c->id = id;
	c->role = role;
	c->change.data = c;
	d->rebalance_busy = true;
	int rv = raft_assign(r, &c->change, id, role, assigned);
	if (rv != 0) {
		d->rebalance_busy = false;
		LOGD("cluster: assign: %s", raft_strerror(rv));
		tm_free(c);
	}
}

/* Voters the heartbeat shows ONLINE (this member, the leader, is). */
static unsigned online_voters(struct daemon *d, struct raft *r,
			      const struct cluster_row *rows, size_t n)
{
	unsigned online = 0;
	for (size_t i = 0; i < n; i++) {
		const char *state = "ONLINE";
		char message[TM_ERRMSG_SIZE];
		if (raft_role(r, rows[i].id) != RAFT_VOTER) {
			continue;
		}
		if (rows[i].id != d->self.id) {
			cluster_heartbeat_view(d, rows[i].id, &state, message,
					       sizeof message);
		}
		online += strcmp(state, "ONLINE") == 0;
	}
	return online;
}

static const struct cluster_row *dead_voter(struct daemon *d, struct raft *r,
					    const struct cluster_row *rows,
					    size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (raft_role(r, rows[i].id) == RAFT_VOTER &&
		    rows[i].id != d->self.id &&
		    cluster_heartbeat_replaceable(d, rows[i].id)) {
			return &rows[i];
		}
	}
	return NULL;
}

/* Replace a dead voter: one step (true if a change was started). */
static bool replace_dead(struct daemon *d, struct raft *r,
			 const struct cluster_row *rows, size_t n,
			 unsigned voters, int64_t max_voters)
{
	const struct cluster_row *dead = dead_voter(d, r, rows, n);
	if (dead == NULL) {
		return false;
	}
	unsigned online = online_voters(d, r, rows, n);
	if ((int64_t)voters > max_voters) {
		if (online < (voters - 1) / 2 + 1) {
			return false;
		}
		LOGI("cluster: member %s is OFFLINE beyond the stability "
		     "window and replaced: making it a spare",
		     dead->name);
		assign(d, r, dead->id, RAFT_SPARE);
		return true;
	}
	const struct cluster_row *c =
	    candidate(d, r, rows, n, RAFT_STANDBY, true);
	if (c == NULL) {
		c = candidate(d, r, rows, n, RAFT_SPARE, true);
	}
	if (c == NULL || online + 1 < (voters + 1) / 2 + 1) {
		return false;
	}
	LOGI("cluster: voter %s is OFFLINE beyond the stability window: "
	     "promoting %s to voter in its place",
	     dead->name, c->name);
	assign(d, r, c->id, RAFT_VOTER);
	return true;
}

static void rebalance(struct daemon *d)
{
	if (d->state != DAEMON_READY || !d->self.clustered ||
	    d->rebalance_busy || d->raftnode == NULL) {
		return;
	}
	struct raft *r = raftnode_raft(d->raftnode);
	if (raft_state(r) != RAFT_LEADER) {
		return;
	}
	struct cluster_row *rows;
	size_t n;
	char errmsg[TM_ERRMSG_SIZE];
	if (cluster_rows(d, &rows, &n, errmsg) != 0) {
		return;
	}
	unsigned voters = 0;
	unsigned standbys = 0;
	for (size_t i = 0; i < n; i++) {
		int role = raft_role(r, rows[i].id);
		voters += role == RAFT_VOTER;
		standbys += role == RAFT_STANDBY;
	}
	int64_t max_voters =
	    key_or(d, "cluster.max_voters", DEFAULT_MAX_VOTERS);
	int64_t max_standby =
	    key_or(d, "cluster.max_standby", DEFAULT_MAX_STANDBY);
	if (replace_dead(d, r, rows, n, voters, max_voters)) {
		tm_free(rows);
		return;
	}
	const struct cluster_row *c = NULL;
	int role = RAFT_VOTER;
	if ((int64_t)voters < max_voters) {
		c = candidate(d, r, rows, n, RAFT_STANDBY, true);
		if (c == NULL) {
			c = candidate(d, r, rows, n, RAFT_SPARE, true);
		}
	}
	if (c == NULL && (int64_t)standbys < max_standby) {
		role = RAFT_STANDBY;
		c = candidate(d, r, rows, n, RAFT_SPARE, false);
	}
	if (c != NULL) {
		assign(d, r, c->id, role);
	} else {
		for (size_t i = 0; i < n; i++) {
			int have = raft_role(r, rows[i].id);
			if (have >= 0 &&
			    strcmp(rows[i].role, role_name(have)) != 0) {
				write_role(d, &rows[i], have);
				break;
			}
		}
	}
	tm_free(rows);
}

static void rebalance_cb(uv_timer_t *t) { rebalance(t->data); }

void cluster_rebalance_start(struct daemon *d)
{
	if (!d->rebalance_alive) {
		uv_timer_init(d->loop, &d->rebalance);
		d->rebalance.data = d;
		d->rebalance_alive = true;
	}
	uv_timer_start(&d->rebalance, rebalance_cb, REBALANCE_MS, REBALANCE_MS);
}

void cluster_rebalance_soon(struct daemon *d)
{
	if (d->rebalance_alive) {
		uv_timer_start(&d->rebalance, rebalance_cb, 0, REBALANCE_MS);
	}
}

static void rebalance_closed_cb(uv_handle_t *h)
{
	struct daemon *d = h->data;
	d->rebalance_alive = false;
	daemon_maybe_stopped(d);
}

void cluster_rebalance_stop(struct daemon *d)
{
	if (!d->rebalance_alive) {
		return;
	}
	uv_timer_stop(&d->rebalance);
	if (d->state == DAEMON_DRAINING) {
		uv_close((uv_handle_t *)&d->rebalance, rebalance_closed_cb);
	}
}

/* The heartbeat (doc/clustering.md, "Heartbeat and member states").
 *
 * A timer ticks every TICK_MS on every clustered member.
 *
 * On the leader, every cluster.heartbeat_interval, one round: each other
 * member gets POST /internal/cluster/heartbeat with the member list
 * (beat.h) over the loop's HTTPS client (connections kept alive). A
 * member whose previous heartbeat is still in flight (paused, slow) is
 * skipped this round: nothing waits on it, and the others are not held
 * up. Its answer (state: versions, applied index, load) marks it seen in
 * the leader's liveness; the tick turns members silent beyond
 * cluster.offline_threshold OFFLINE. All of this is in memory: a round
 * writes nothing, to the raft log or anywhere.
 *
 * On a follower, the tick watches the leader: a heartbeat received marks
 * it seen; silent beyond the threshold, it is OFFLINE in this member's
 * view (GET /1.0/cluster, and the member list when the leader cannot be
 * asked). A received heartbeat's member list goes to the local database
 * (raft_nodes) only when it differs from what is there.
 *
 * Every change of a member's state goes through one place,
 * cluster_member_state_changed.
 *
 * Consistency (doc/consistency.md): each answer carries the member's hash
 * chain at its applied index; the leader compares it with its own at that
 * index (from its ring) and marks a member whose chain differs DIVERGED in
 * its view (state and message), once, with a member-diverged event. A
 * content check's verdict (api/cluster_check.c) marks it the same way;
 * the leader runs one every cluster.check_interval seconds (0: never).
 *
 * Failure modes: a request that fails or times out (the threshold) counts
 * as nothing heard; an answer that does not parse is logged (debug) and
 * ignored; closing the HTTPS client cancels what is in flight, and the
 * peers are freed with the daemon. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/api/api.h"
#include "internal/client/hclient.h"
#include "internal/config/config.h"
#include "internal/daemon/cluster_internal.h"
#include "internal/daemon/daemon_priv.h"
#include "internal/db/cluster/chain.h"
#include "internal/db/cluster/gdb.h"
#include "internal/db/cluster/global_schema.h"
#include "internal/heartbeat/beat.h"
#include "internal/heartbeat/liveness.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"
#include "internal/raft/raftnode.h"

#define TICK_MS 100
/* A voter OFFLINE this long is replaced (cluster_members.c); a member
 * back online is steady after this long (longer if it flaps). */
#define STABILITY_MS 10000

struct hb_peer {
	struct hclient_request req;
	struct cluster_heartbeat *hb;
	uint64_t id;
	char name[MEMBER_NAME_MAX + 1];
	char address[TOKEN_ADDRESS_MAX + 1];
	char *body; /* owned; borrowed by REQ while in flight */
	bool in_flight;
	bool answered; /* ANSWER holds its last state */
	struct beat_answer answer;
	/* Divergence (doc/consistency.md): from the chain in its answers,
	 * or from a content check; "" when none. */
	char chain_diverged[TM_ERRMSG_SIZE];
	char content_diverged[TM_ERRMSG_SIZE];
	char last_error[TM_ERRMSG_SIZE];
};

struct cluster_heartbeat {
	struct daemon *d;
	uv_timer_t timer;
	struct liveness *members; /* leader: every other member */
	struct liveness *leader;  /* follower: the leader */
	bool leading;
	uint64_t last_round; /* uv_now */
	struct hb_peer **peers;
	size_t n_peers;
	/* Follower: the leader as its last heartbeat named it. */
	uint64_t leader_id;
	char leader_name[MEMBER_NAME_MAX + 1];
	uint64_t leader_term;
	/* Answers whose chain was compared, or not (outside the ring, or
	 * not comparable). */
	uint64_t chains_compared;
	uint64_t chains_skipped;
	uint64_t last_check; /* uv_now of the last periodic content check */
};

/* ---- the one place where states change ---- */

void cluster_member_state_changed(struct daemon *d, const char *name,
				  const char *old_state, const char *new_state,
				  const char *message)
{
	LOGI("cluster: member %s is %s (was %s)%s%s", name, new_state,
	     old_state, message[0] != '\0' ? ": " : "", message);
	daemon_events_member_state(d, name, old_state, new_state, message);
}

static const char *peer_name(struct cluster_heartbeat *hb, uint64_t id)
{
	for (size_t i = 0; i < hb->n_peers; i++) {
		if (hb->peers[i]->id == id) {
			return hb->peers[i]->name;
		}
	}
	return "(unknown)";
}

static void members_changed_cb(void *data, uint64_t id, enum liveness_state old,
			       enum liveness_state now)
{
	struct cluster_heartbeat *hb = data;
	char message[TM_ERRMSG_SIZE];
	liveness_message(hb->members, id, message, sizeof message);
	cluster_member_state_changed(hb->d, peer_name(hb, id),
				     liveness_state_name(old),
				     liveness_state_name(now), message);
}

static void leader_changed_cb(void *data, uint64_t id, enum liveness_state old,
			      enum liveness_state now)
{
	struct cluster_heartbeat *hb = data;
	char message[TM_ERRMSG_SIZE];
	liveness_message(hb->leader, id, message, sizeof message);
	cluster_member_state_changed(hb->d, hb->leader_name,
				     liveness_state_name(old),
				     liveness_state_name(now), message);
}

/* ---- configuration ---- */

static unsigned interval_ms(struct daemon *d)
{
	return (unsigned)config_get_int(d->config,
					"cluster.heartbeat_interval");
}

static unsigned threshold_ms(struct daemon *d)
{
	unsigned t =
	    (unsigned)config_get_int(d->config, "cluster.offline_threshold");
	unsigned least = 2 * interval_ms(d);
	return t > least ? t : least;
}

static void configure(struct cluster_heartbeat *hb)
{
	struct liveness_config cfg = {.threshold_ms = threshold_ms(hb->d),
				      .stability_ms = STABILITY_MS};
	liveness_configure(hb->members, &cfg);
	liveness_configure(hb->leader, &cfg);
}

/* ---- the leader's rounds ---- */

static void peer_free(struct hb_peer *p)
{
	hclient_request_clear(&p->req);
	tm_free(p->body);
	tm_free(p);
}

/* ---- divergence ---- */

static bool is_diverged(const struct hb_peer *p)
{
	return p->chain_diverged[0] != '\0' || p->content_diverged[0] != '\0';
}

/* Set (MESSAGE not "") or clear P's divergence of one kind (*SLOT),
 * telling a change of the member's shown state once. */
static void set_diverged(struct cluster_heartbeat *hb, struct hb_peer *p,
			 char *slot, const char *message)
{
	bool was = is_diverged(p);
	if (strcmp(slot, message) == 0) {
		return;
	}
	bool fresh = slot[0] == '\0';
	snprintf(slot, TM_ERRMSG_SIZE, "%s", message);
	if (message[0] != '\0' && fresh) {
		LOGE("cluster: member %s %s", p->name, message);
	}
	if (!was && is_diverged(p)) {
		cluster_member_state_changed(hb->d, p->name, "ONLINE",
					     "DIVERGED", message);
	} else if (was && !is_diverged(p)) {
		cluster_member_state_changed(
		    hb->d, p->name, "DIVERGED", "ONLINE",
		    "consistent with the leader again");
	}
}

/* The chain P answered with, against this member's at the same index. */
static void compare_chain(struct cluster_heartbeat *hb, struct hb_peer *p)
{
	struct daemon *d = hb->d;
	const struct beat_answer *a = &p->answer;
	uint64_t base = 0;
	uint8_t mine[GDB_CHAIN_SIZE];
	uint8_t theirs[GDB_CHAIN_SIZE];
	struct raft *r = d->raftnode != NULL ? raftnode_raft(d->raftnode)
					     : NULL;
	if (!a->has_chain || d->gdb == NULL || r == NULL ||
	    !gdb_chain_get(d->gdb, a->applied_index, &base, mine) ||
	    base != a->chain_base || !gdb_chain_parse(a->chain, theirs)) {
		hb->chains_skipped++;
		return;
	}
	hb->chains_compared++;
	if (memcmp(mine, theirs, sizeof mine) == 0) {
		set_diverged(hb, p, p->chain_diverged, "");
		return;
	}
	char hex[GDB_CHAIN_HEX];
	char message[TM_ERRMSG_SIZE];
	gdb_chain_hex(mine, hex);
	snprintf(message, sizeof message,
		 "diverged from the leader at index %llu: hash chain %s, "
		 "leader %s",
		 (unsigned long long)a->applied_index, a->chain, hex);
	set_diverged(hb, p, p->chain_diverged, message);
}

void cluster_heartbeat_content_verdict(struct daemon *d, const char *name,
				       const char *message)
{
	struct cluster_heartbeat *hb = d->heartbeat;
	if (hb == NULL || !hb->leading) {
		return;
	}
	for (size_t i = 0; i < hb->n_peers; i++) {
		if (strcmp(hb->peers[i]->name, name) == 0) {
			set_diverged(hb, hb->peers[i],
				     hb->peers[i]->content_diverged, message);
		}
	}
}

static void answered_cb(struct hclient_request *req)
{
	struct hb_peer *p = req->data;
	struct cluster_heartbeat *hb = p->hb;
	p->in_flight = false;
	char errmsg[TM_ERRMSG_SIZE] = "";
	struct beat_answer a;
	if (hb == NULL) {
		peer_free(p); /* no longer a member */
		return;
	}
	if (req->status != 0) {
		snprintf(errmsg, sizeof errmsg, "%s", req->errmsg);
	} else if (req->http_status != 200) {
		snprintf(errmsg, sizeof errmsg, "answered %ld: %.200s",
			 req->http_status,
			 req->body_out != NULL ? req->body_out : "");
	} else if (beat_answer_parse(req->body_out, req->body_out_len, &a,
				     errmsg) == 0 &&
		   a.id != p->id) {
		snprintf(errmsg, sizeof errmsg,
			 "answered as member %llu, not %llu",
			 (unsigned long long)a.id, (unsigned long long)p->id);
	} else if (errmsg[0] == '\0' && hb->leading) {
		bool first = !p->answered;
		p->answer = a;
		p->answered = true;
		liveness_seen(hb->members, p->id);
		compare_chain(hb, p);
		if (first) {
			/* A member heard from for the first time (one just
			 * joined) may take a role now, not at the next
			 * rebalance tick. */
			cluster_rebalance_soon(hb->d);
		}
	}
	if (errmsg[0] != '\0' && strcmp(errmsg, p->last_error) != 0) {
		LOGD("cluster: heartbeat to %s at %s: %s", p->name, p->address,
		     errmsg);
	}
	snprintf(p->last_error, sizeof p->last_error, "%s", errmsg);
	hclient_request_clear(req);
}

static struct hb_peer *peer_get(struct cluster_heartbeat *hb,
				const struct cluster_row *row)
{
	for (size_t i = 0; i < hb->n_peers; i++) {
		if (hb->peers[i]->id == row->id) {
			return hb->peers[i];
		}
	}
	struct hb_peer *p = tm_calloc(1, sizeof *p);
	p->hb = hb;
	p->id = row->id;
	p->req.data = p;
	hb->peers =
	    tm_realloc(hb->peers, (hb->n_peers + 1) * sizeof *hb->peers);
	hb->peers[hb->n_peers++] = p;
	return p;
}

/* Forget peers that are no longer members (one in flight is freed by its
 * callback). */
static void peers_prune(struct cluster_heartbeat *hb,
			const struct cluster_row *rows, size_t n)
{
	size_t kept = 0;
	for (size_t i = 0; i < hb->n_peers; i++) {
		struct hb_peer *p = hb->peers[i];
		bool member = false;
		for (size_t j = 0; j < n && !member; j++) {
			member = rows[j].id == p->id;
		}
		if (member) {
			hb->peers[kept++] = p;
		} else if (p->in_flight) {
			p->hb = NULL;
			hclient_cancel(&p->req);
		} else {
			peer_free(p);
		}
	}
	hb->n_peers = kept;
}

/* The oldest last snapshot among this member and the others that raft
 * replicates to (voters and standbys, not spares) heard from lately
 * (ONLINE): no member drops log entries past it (gdb_set_trail_floor says
 * why). A member that did not say counts as having none. */
static uint64_t snapshot_floor(struct daemon *d, struct raft *r,
			       const struct cluster_row *rows, size_t n)
{
	struct cluster_heartbeat *hb = d->heartbeat;
	uint64_t floor = r->log.snapshot.last_index;
	for (size_t i = 0; i < hb->n_peers; i++) {
		const struct hb_peer *p = hb->peers[i];
		enum liveness_state state;
		bool replicated = false;
		for (size_t j = 0; j < n; j++) {
			replicated = replicated ||
				     (rows[j].id == p->id &&
				      strcmp(rows[j].role, "spare") != 0);
		}
		if (replicated && p->answered &&
		    liveness_get(hb->members, p->id, &state) &&
		    state == LIVENESS_ONLINE &&
		    p->answer.snapshot_index < floor) {
			floor = p->answer.snapshot_index;
		}
	}
	return floor;
}

static char *round_body(struct daemon *d, struct raft *r,
			const struct cluster_row *rows, size_t n)
{
	struct beat_member *m = tm_calloc(n, sizeof *m);
	for (size_t i = 0; i < n; i++) {
		m[i].id = rows[i].id;
		snprintf(m[i].name, sizeof m[i].name, "%s", rows[i].name);
		snprintf(m[i].address, sizeof m[i].address, "%s",
			 rows[i].address);
		snprintf(m[i].role, sizeof m[i].role, "%s", rows[i].role);
		snprintf(m[i].failure_domain, sizeof m[i].failure_domain, "%s",
			 rows[i].failure_domain);
		snprintf(m[i].fingerprint, sizeof m[i].fingerprint, "%s",
			 rows[i].fingerprint);
	}
	struct beat_request req = {.leader_id = d->self.id,
				   .term = r->current_term,
				   .index = r->commit_index,
				   .members = m,
				   .n_members = n,
				   .has_snapshot_floor = true,
				   .snapshot_floor = snapshot_floor(d, r, rows, n)};
	if (d->gdb != NULL) {
		gdb_set_trail_floor(d->gdb, req.snapshot_floor);
	}
	char *body = beat_request_format(&req);
	tm_free(m);
	return body;
}

static void send_to(struct cluster_heartbeat *hb, struct hb_peer *p,
		    const struct cluster_row *row, const char *body)
{
	struct daemon *d = hb->d;
	snprintf(p->name, sizeof p->name, "%s", row->name);
	snprintf(p->address, sizeof p->address, "%s", row->address);
	tm_free(p->body);
	p->body = tm_strdup(body);
	p->req.method = "POST";
	p->req.address = p->address;
	p->req.path = "/internal/cluster/heartbeat";
	p->req.pin = d->cluster_fingerprint;
	p->req.body = p->body;
	p->req.body_len = strlen(p->body);
	p->req.content_type = "application/json";
	p->req.timeout_ms = threshold_ms(d);
	p->req.max_response = 64 * 1024;
	if (hclient_send(d->hclient, &p->req, answered_cb) == 0) {
		p->in_flight = true;
	}
}

static void round_run(struct cluster_heartbeat *hb, struct raft *r)
{
	struct daemon *d = hb->d;
	struct cluster_row *rows;
	size_t n;
	char errmsg[TM_ERRMSG_SIZE];
	if (d->hclient == NULL || cluster_rows(d, &rows, &n, errmsg) != 0) {
		return;
	}
	uint64_t *ids = tm_calloc(n + 1, sizeof *ids);
	size_t n_ids = 0;
	/* Lost members (cluster_lost.c) are told nothing: they are not
	 * in the cluster. */
	for (size_t i = 0; i < n; i++) {
		if (rows[i].id != d->self.id && !cluster_row_lost(d, &rows[i])) {
			ids[n_ids++] = rows[i].id;
		}
	}
	liveness_track(hb->members, ids, n_ids);
	tm_free(ids);
	peers_prune(hb, rows, n);
	char *body = round_body(d, r, rows, n);
	for (size_t i = 0; i < n; i++) {
		if (rows[i].id == d->self.id || cluster_row_lost(d, &rows[i])) {
			continue;
		}
		struct hb_peer *p = peer_get(hb, &rows[i]);
		if (!p->in_flight) {
			send_to(hb, p, &rows[i], body);
		}
	}
	tm_free(body);
	tm_free(rows);
}

/* ---- the tick ---- */

/* ---- the periodic content check (cluster.check_interval) ---- */

static void periodic_check_cb(void *arg, int status, const char *errmsg,
			      cJSON *list)
{
	struct daemon *d = arg;
	d->check_running = false;
	if (list == NULL) {
		LOGW("cluster: periodic content check: %d %s", status, errmsg);
		return;
	}
	size_t bad = 0;
	const cJSON *m;
	cJSON_ArrayForEach(m, list)
	{
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, "verdict");
		bad += cJSON_IsString(v) && strcmp(v->valuestring, "ok") != 0;
	}
	if (bad > 0) {
		LOGW("cluster: periodic content check: %zu of %d members not "
		     "ok (therm cluster check tells which)",
		     bad, cJSON_GetArraySize(list));
	} else {
		LOGD("cluster: periodic content check: every member ok");
	}
	cJSON_Delete(list);
}

/* On the leader: a content check every cluster.check_interval seconds,
 * counted from when it became leader; one at a time. */
static void maybe_check(struct cluster_heartbeat *hb, uint64_t now)
{
	struct daemon *d = hb->d;
	uint64_t every =
	    (uint64_t)config_get_int(d->config, "cluster.check_interval") *
	    1000;
	if (every == 0 || hb->last_check == 0) {
		hb->last_check = now;
		return;
	}
	if (d->check_running || now - hb->last_check < every) {
		return;
	}
	hb->last_check = now;
	d->check_running = true;
	api_cluster_check_start(d, periodic_check_cb, d);
}

static void tick_cb(uv_timer_t *t)
{
	struct cluster_heartbeat *hb = t->data;
	struct daemon *d = hb->d;
	if (d->state != DAEMON_READY || !d->self.clustered ||
	    d->raftnode == NULL || d->raft_closing) {
		return;
	}
	configure(hb);
	struct raft *r = raftnode_raft(d->raftnode);
	bool leading = raft_state(r) == RAFT_LEADER;
	if (leading && !hb->leading) {
		/* Everyone starts ONLINE, silent from now. */
		liveness_reset(hb->members);
		hb->last_round = 0;
		hb->last_check = 0;
	} else if (!leading && hb->leading) {
		liveness_reset(hb->leader);
		hb->leader_id = 0;
	}
	hb->leading = leading;
	struct liveness *l = leading ? hb->members : hb->leader;
	if (liveness_tick(l)) {
		LOGW("cluster: this member did not run for a while (paused "
		     "or stalled): silence is counted again from now");
	}
	cluster_address_tick(d);
	uint64_t now = uv_now(d->loop);
	if (leading && now - hb->last_round >= interval_ms(d)) {
		hb->last_round = now;
		round_run(hb, r);
	}
	if (leading) {
		maybe_check(hb, now);
	} else {
		hb->last_check = 0;
	}
}

void cluster_heartbeat_start(struct daemon *d)
{
	struct cluster_heartbeat *hb = d->heartbeat;
	if (hb == NULL) {
		hb = tm_calloc(1, sizeof *hb);
		hb->d = d;
		struct liveness_config cfg = {.threshold_ms = threshold_ms(d),
					      .stability_ms = STABILITY_MS};
		hb->members = liveness_new(tm_clock_system(), &cfg,
					   members_changed_cb, hb);
		hb->leader = liveness_new(tm_clock_system(), &cfg,
					  leader_changed_cb, hb);
		uv_timer_init(d->loop, &hb->timer);
		hb->timer.data = hb;
		d->heartbeat = hb;
		d->heartbeat_alive = true;
	}
	uv_timer_start(&hb->timer, tick_cb, TICK_MS, TICK_MS);
}

static void timer_closed_cb(uv_handle_t *h)
{
	struct cluster_heartbeat *hb = h->data;
	hb->d->heartbeat_alive = false;
	daemon_maybe_stopped(hb->d);
}

void cluster_heartbeat_stop(struct daemon *d)
{
	struct cluster_heartbeat *hb = d->heartbeat;
	if (hb == NULL || !d->heartbeat_alive) {
		return;
	}
	uv_timer_stop(&hb->timer);
	hb->leading = false;
	liveness_reset(hb->members);
	liveness_reset(hb->leader);
	hb->leader_id = 0;
	if (d->state == DAEMON_DRAINING) {
		uv_close((uv_handle_t *)&hb->timer, timer_closed_cb);
	}
}

void cluster_heartbeat_free(struct daemon *d)
{
	struct cluster_heartbeat *hb = d->heartbeat;
	if (hb == NULL) {
		return;
	}
	for (size_t i = 0; i < hb->n_peers; i++) {
		peer_free(hb->peers[i]);
	}
	tm_free(hb->peers);
	liveness_free(hb->members);
	liveness_free(hb->leader);
	tm_free(hb);
	d->heartbeat = NULL;
}

/* ---- what the others read ---- */

bool cluster_heartbeat_view(struct daemon *d, uint64_t id, const char **state,
			    char *message, size_t size)
{
	struct cluster_heartbeat *hb = d->heartbeat;
	enum liveness_state s;
	if (hb == NULL || !hb->leading || !liveness_get(hb->members, id, &s)) {
		return false;
	}
	*state = liveness_state_name(s);
	liveness_message(hb->members, id, message, size);
	for (size_t i = 0; i < hb->n_peers; i++) {
		const struct hb_peer *p = hb->peers[i];
		if (p->id == id && s == LIVENESS_ONLINE && is_diverged(p)) {
			*state = "DIVERGED";
			snprintf(message, size, "%s",
				 p->chain_diverged[0] != '\0'
				     ? p->chain_diverged
				     : p->content_diverged);
		}
	}
	return true;
}

bool cluster_heartbeat_leader_view(struct daemon *d, uint64_t id,
				   const char **state, char *message,
				   size_t size)
{
	struct cluster_heartbeat *hb = d->heartbeat;
	enum liveness_state s;
	if (hb == NULL || hb->leading || id != hb->leader_id ||
	    !liveness_get(hb->leader, id, &s)) {
		return false;
	}
	*state = liveness_state_name(s);
	liveness_message(hb->leader, id, message, size);
	return true;
}

bool cluster_heartbeat_replaceable(struct daemon *d, uint64_t id)
{
	struct cluster_heartbeat *hb = d->heartbeat;
	return hb != NULL && hb->leading &&
	       liveness_replaceable(hb->members, id);
}

bool cluster_heartbeat_steady(struct daemon *d, uint64_t id)
{
	struct cluster_heartbeat *hb = d->heartbeat;
	return hb != NULL && hb->leading && liveness_steady(hb->members, id);
}

void cluster_heartbeat_info(struct daemon *d, cJSON *o)
{
	struct cluster_heartbeat *hb = d->heartbeat;
	cJSON *h = cJSON_AddObjectToObject(o, "heartbeat");
	if (hb == NULL || !d->self.clustered) {
		return;
	}
	cJSON_AddNumberToObject(h, "interval_ms", interval_ms(d));
	cJSON_AddNumberToObject(h, "offline_threshold_ms", threshold_ms(d));
	cJSON_AddNumberToObject(h, "chains_compared",
				(double)hb->chains_compared);
	cJSON_AddNumberToObject(h, "chains_skipped",
				(double)hb->chains_skipped);
	if (hb->leading) {
		cJSON_AddStringToObject(h, "leader", d->self.name);
		cJSON_AddStringToObject(h, "leader_state", "ONLINE");
		cJSON_AddStringToObject(h, "message", "this member leads");
		return;
	}
	enum liveness_state s;
	if (hb->leader_id == 0 ||
	    !liveness_get(hb->leader, hb->leader_id, &s)) {
		cJSON_AddStringToObject(h, "leader", "");
		cJSON_AddStringToObject(h, "leader_state", "UNKNOWN");
		cJSON_AddStringToObject(h, "message",
					"no heartbeat received yet");
		return;
	}
	char message[TM_ERRMSG_SIZE];
	liveness_message(hb->leader, hb->leader_id, message, sizeof message);
	cJSON_AddStringToObject(h, "leader", hb->leader_name);
	cJSON_AddStringToObject(h, "leader_state", liveness_state_name(s));
	cJSON_AddNumberToObject(
	    h, "last_heartbeat_ms",
	    (double)liveness_silence_ms(hb->leader, hb->leader_id));
	cJSON_AddStringToObject(h, "message", message);
}

void cluster_heartbeat_answers(struct daemon *d, uint64_t id, cJSON *o)
{
	struct cluster_heartbeat *hb = d->heartbeat;
	if (hb == NULL || !hb->leading) {
		return;
	}
	for (size_t i = 0; i < hb->n_peers; i++) {
		struct hb_peer *p = hb->peers[i];
		if (p->id == id && p->answered) {
			cJSON_AddStringToObject(o, "version",
						p->answer.version);
			cJSON_AddNumberToObject(
			    o, "applied_index",
			    (double)p->answer.applied_index);
			cJSON_AddNumberToObject(o, "loop_lag_p99_ms",
						p->answer.loop_lag_p99_ms);
			cJSON_AddNumberToObject(o, "load_average",
						p->answer.load_average);
		}
	}
}

void cluster_heartbeat_leader_seen(struct daemon *d, uint64_t id,
				   const char *name)
{
	struct cluster_heartbeat *hb = d->heartbeat;
	if (hb == NULL) {
		return;
	}
	if (id != hb->leader_id) {
		hb->leader_id = id;
		liveness_track(hb->leader, &id, 1);
	}
	snprintf(hb->leader_name, sizeof hb->leader_name, "%s", name);
	liveness_seen(hb->leader, id);
}

bool cluster_leader_silent(struct daemon *d)
{
	struct cluster_heartbeat *hb = d->heartbeat;
	enum liveness_state s;
	return hb != NULL && !hb->leading && hb->leader_id != 0 &&
	       liveness_get(hb->leader, hb->leader_id, &s) &&
	       s == LIVENESS_OFFLINE;
}

void cluster_heartbeat_set_blocked(struct daemon *d, uint64_t id, bool blocked)
{
	struct cluster_heartbeat *hb = d->heartbeat;
	if (hb != NULL && hb->leading) {
		liveness_set_blocked(hb->members, id, blocked);
	}
}

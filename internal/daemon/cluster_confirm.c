/* Confirming this member's leadership without a log entry (gdb.h:
 * gdb_set_confirm): ask the other voters for their raft term
 * (GET /internal/cluster/term) and count those that answer with ours.
 *
 * A round needs a majority of the voters, this member included, so
 * quorum - 1 answers, and it asks only that many at first: the voters
 * that answered first last time come first. Another voter is asked when
 * an ask fails or answers another term, and when no answer came within
 * HEDGE_MS (a paused or slow voter does not hold every round up). It ends
 * as soon as it has its answers (DONE with 0), or when every voter was
 * asked and answered without them (DONE with TM_NOTLEADER: gdb then uses
 * a barrier, which settles it). The requests still running when it ended
 * are let run; the round is freed with the last of them. Each ask is
 * bounded by ASK_TIMEOUT_MS, far below an election; hclient_close
 * completes them (canceled) when the member stops.
 *
 * A round also gives the leader a lease (raft/lease.h): the voters that
 * answered with its term also say whether they follow it and how long ago
 * they last heard from it. While the lease holds, a read is confirmed at
 * once, with no ask at all, and a round runs in the background when half
 * of it is left, so a steady stream of reads never waits for one.
 *
 * TM_CONFIRM in the environment, for comparison: "barrier" turns rounds
 * off (every linearizable read takes a barrier); "round" turns leases off;
 * "all" also asks every voter at once. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "internal/daemon/cluster_internal.h"
#include "internal/daemon/daemon_priv.h"
#include "internal/lib/mem.h"
#include "internal/raft/lease.h"
#include "internal/raft/raftnode.h"

#define ASK_TIMEOUT_MS 500
#define HEDGE_MS 20

struct ask {
	struct hclient_request h;
	struct round *round;
	uint64_t id;
	char *address; /* owned */
};

struct round {
	struct daemon *d;
	gdb_confirm_done done;
	void *done_arg;
	uint64_t term;
	uint64_t conf_index; /* raft's committed configuration at the start */
	uint64_t sent_ns;    /* when the first asks left */
	uint64_t *bounds;    /* lease_bound of each voter following us */
	unsigned n_bounds;
	unsigned quorum; /* answers with TERM a majority needs */
	unsigned need;	  /* answers with TERM still needed */
	unsigned running; /* asks sent, not answered yet */
	unsigned next;	  /* asks[next..] not sent yet */
	bool ended;	  /* DONE was called */
	bool answered;	  /* a voter answered with TERM */
	struct ask *asks;
	unsigned n_asks;
	uv_timer_t hedge;
};

static bool ask_all;
static bool no_lease;

static void end(struct round *r, int status)
{
	if (!r->ended) {
		r->ended = true;
		r->done(r->done_arg, status);
	}
}

static bool json_u64(const cJSON *o, const char *name, uint64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	if (!cJSON_IsNumber(v) || v->valuedouble < 0) {
		return false;
	}
	*out = (uint64_t)v->valuedouble;
	return true;
}

/* The voter's term; *LEADER its leader (0 if it named none) and *QUIET_MS
 * since it heard from it. */
static bool answer_term(const struct hclient_request *h, uint64_t *term,
			uint64_t *leader, uint64_t *quiet_ms)
{
	if (h->status != 0 || h->http_status != 200) {
		return false;
	}
	cJSON *root = cJSON_ParseWithLength(h->body_out, h->body_out_len);
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(root, "metadata");
	bool ok = json_u64(meta, "term", term);
	if (!json_u64(meta, "leader", leader) ||
	    !json_u64(meta, "quiet_ms", quiet_ms)) {
		*leader = 0;
	}
	cJSON_Delete(root);
	return ok;
}

/* Nothing changes who could lead: no configuration change under way, no
 * leadership transfer. */
static bool steady(const struct raft *raft)
{
	return raft->configuration_uncommitted_index == 0 &&
	       raft->transfer == NULL;
}

static bool lease_ok(struct daemon *d, const struct raft *raft)
{
	return !no_lease && raft_state((struct raft *)raft) == RAFT_LEADER &&
	       lease_holds(&d->lease, uv_hrtime(), raft->current_term,
			   raft->configuration_index, steady(raft));
}

/* The round had its answers: the lease they give, if it is still ours. */
static void grant_lease(struct round *r)
{
	struct daemon *d = r->d;
	if (no_lease || d->raftnode == NULL || d->raft_closing) {
		return;
	}
	struct raft *raft = raftnode_raft(d->raftnode);
	if (raft_state(raft) != RAFT_LEADER || raft->current_term != r->term ||
	    raft->configuration_index != r->conf_index || !steady(raft) ||
	    r->term == d->lease_dropped_term) {
		return;
	}
	uint64_t end = lease_end(r->bounds, r->n_bounds, r->quorum);
	if (end > d->lease.end_ns || d->lease.term != r->term ||
	    d->lease.conf_index != r->conf_index) {
		d->lease = (struct lease){
		    .term = r->term, .conf_index = r->conf_index, .end_ns = end};
	}
}

static void round_closed(uv_handle_t *handle)
{
	struct round *r = handle->data;
	for (unsigned i = 0; i < r->n_asks; i++) {
		hclient_request_clear(&r->asks[i].h);
		tm_free(r->asks[i].address);
	}
	tm_free(r->asks);
	tm_free(r->bounds);
	tm_free(r);
}

static void round_free(struct round *r)
{
	uv_close((uv_handle_t *)&r->hedge, round_closed);
}

/* Voters in CONF; *HAS_ID (if not NULL): whether ID is one of them. */
static unsigned count_voters(const struct raft_configuration *conf, uint64_t id,
			     bool *has_id)
{
	unsigned voters = 0;
	bool found = false;
	for (unsigned i = 0; i < conf->n; i++) {
		if (conf->servers[i].role == RAFT_VOTER) {
			voters++;
			found |= conf->servers[i].id == id;
		}
	}
	if (has_id != NULL) {
		*has_id = found;
	}
	return voters;
}

static void asked(struct hclient_request *h);

/* Send the next ask not sent yet; false if none is left. hclient_send
 * refuses only once the client is closing: such an ask is skipped. */
static bool send_next(struct round *r)
{
	struct hclient *c = daemon_hclient(r->d);
	while (c != NULL && r->next < r->n_asks) {
		struct ask *a = &r->asks[r->next++];
		if (hclient_send(c, &a->h, asked) == 0) {
			r->running++;
			return true;
		}
	}
	return false;
}

/* The round has its answers, or cannot get them; freed with its last
 * ask. */
static void settle(struct round *r)
{
	if (r->need == 0 && !r->ended) {
		grant_lease(r);
		end(r, 0);
	} else if (r->need == 0) {
		/* ended already */
	} else if (r->running == 0 && !send_next(r)) {
		end(r, TM_NOTLEADER);
	}
	if (r->ended) {
		uv_timer_stop(&r->hedge);
		if (r->running == 0) {
			round_free(r);
		}
	}
}

static void asked(struct hclient_request *h)
{
	struct ask *a = h->data;
	struct round *r = a->round;
	uint64_t term = 0;
	uint64_t leader = 0;
	uint64_t quiet_ms = 0;
	r->running--;
	if (answer_term(h, &term, &leader, &quiet_ms) && term == r->term) {
		struct daemon *d = r->d;
		if (r->need > 0) {
			r->need--;
		}
		if (leader != 0 && d->raftnode != NULL && !d->raft_closing &&
		    leader == raftnode_raft(d->raftnode)->id) {
			unsigned timeout =
			    raftnode_raft(d->raftnode)->election_timeout;
			uint64_t bound =
			    lease_bound(r->sent_ns, timeout, quiet_ms);
			if (bound != 0) {
				r->bounds[r->n_bounds++] = bound;
			}
		}
		if (!r->answered) {
			r->answered = true;
			r->d->confirm_first = a->id;
		}
	} else if (!r->ended) {
		send_next(r); /* one more voter instead */
	}
	settle(r);
}

static void hedge_cb(uv_timer_t *t)
{
	struct round *r = t->data;
	if (!r->ended && send_next(r)) {
		uv_timer_start(&r->hedge, hedge_cb, HEDGE_MS, 0);
	}
}

/* Ask the voters; 0 (DONE follows), or -1 if no ask could be sent. */
static int start_round(struct daemon *d, struct raft *raft, unsigned voters,
		       unsigned need, gdb_confirm_done done, void *done_arg)
{
	const struct raft_configuration *conf = &raft->configuration;
	struct round *r = tm_calloc(1, sizeof *r);
	r->d = d;
	r->done = done;
	r->done_arg = done_arg;
	r->term = raft->current_term;
	r->conf_index = raft->configuration_index;
	r->sent_ns = uv_hrtime();
	r->quorum = need;
	r->need = need;
	r->asks = tm_calloc(voters, sizeof *r->asks);
	r->bounds = tm_calloc(voters, sizeof *r->bounds);
	for (unsigned i = 0; i < conf->n; i++) {
		const struct raft_server *s = &conf->servers[i];
		if (s->role != RAFT_VOTER || s->id == raft->id) {
			continue;
		}
		struct ask *a = &r->asks[r->n_asks++];
		a->round = r;
		a->id = s->id;
		/* The member list's address: raft's is the one it joined
		 * with (cluster_address.c). */
		char listed[TOKEN_ADDRESS_MAX + 1];
		a->address = tm_strdup(
		    cluster_member_address(d, s->id, listed, sizeof listed)
			? listed
			: s->address);
		a->h = (struct hclient_request){
		    .data = a,
		    .method = "GET",
		    .address = a->address,
		    .path = "/internal/cluster/term",
		    .pin = cluster_fingerprint(d),
		    .timeout_ms = ASK_TIMEOUT_MS,
		};
		if (s->id == d->confirm_first && r->n_asks > 1) {
			/* The voter that answered first last time goes
			 * first. */
			struct ask first = *a;
			memmove(&r->asks[1], &r->asks[0],
				(r->n_asks - 1) * sizeof *r->asks);
			r->asks[0] = first;
		}
	}
	for (unsigned i = 0; i < r->n_asks; i++) {
		r->asks[i].h.data = &r->asks[i];
	}
	uv_timer_init(d->loop, &r->hedge);
	r->hedge.data = r;
	if (r->n_asks < need) {
		/* Fewer other voters than a majority needs: cannot be. */
		round_free(r);
		return -1;
	}
	unsigned first = ask_all ? r->n_asks : need;
	for (unsigned i = 0; i < first; i++) {
		send_next(r);
	}
	if (r->running == 0) {
		round_free(r);
		return -1;
	}
	if (r->next < r->n_asks) {
		uv_timer_start(&r->hedge, hedge_cb, HEDGE_MS, 0);
	}
	return 0;
}

static void renewed(void *arg, int status)
{
	struct daemon *d = arg;
	(void)status;
	d->lease_renewing = false;
}

static int confirm(void *arg, gdb_confirm_done done, void *done_arg)
{
	struct daemon *d = arg;
	if (d->raftnode == NULL || d->raft_closing || daemon_hclient(d) == NULL) {
		return -1;
	}
	struct raft *raft = raftnode_raft(d->raftnode);
	unsigned voters = count_voters(&raft->configuration, raft->id, NULL);
	unsigned need = voters / 2; /* a majority, less this member */
	if (need == 0) {
		return 1;
	}
	if (lease_ok(d, raft)) {
		/* Renew in the background once half of it is gone. */
		uint64_t half = (uint64_t)raft->election_timeout * 500000u;
		if (!d->lease_renewing && d->lease.end_ns - uv_hrtime() < half &&
		    start_round(d, raft, voters, need, renewed, d) == 0) {
			d->lease_renewing = true;
		}
		d->lease_reads++;
		return 1;
	}
	return start_round(d, raft, voters, need, done, done_arg);
}

int cluster_read_index_now(struct daemon *d, uint64_t term, uint64_t id,
			   uint64_t *index)
{
	if (d->gdb == NULL || d->raftnode == NULL || d->raft_closing) {
		return TM_BUSY;
	}
	struct raft *raft = raftnode_raft(d->raftnode);
	const struct raft_configuration *conf = &raft->configuration;
	bool asker_votes;
	unsigned voters = count_voters(conf, id, &asker_votes);
	if (lease_ok(d, raft)) {
		int rv = gdb_read_index_now(d->gdb, voters / 2, voters / 2, index);
		if (rv == 0) {
			d->read_index.answered_now++;
		}
		return rv;
	}
	if (!asker_votes || id == raft->id || term != raft->current_term) {
		return TM_BUSY;
	}
	int rv = gdb_read_index_now(d->gdb, voters / 2, 1, index);
	if (rv == 0) {
		d->read_index.answered_now++;
	}
	return rv;
}

void cluster_confirm_attach(struct daemon *d)
{
	const char *mode = getenv("TM_CONFIRM");
	ask_all = mode != NULL && strcmp(mode, "all") == 0;
	no_lease = !cluster_leases_enabled() ||
		   (mode != NULL && (strcmp(mode, "round") == 0 || ask_all));
	if (d->gdb != NULL && (mode == NULL || strcmp(mode, "barrier") != 0)) {
		gdb_set_confirm(d->gdb, confirm, d);
	}
}

uint64_t cluster_raft_term(struct daemon *d)
{
	if (d->raftnode == NULL || d->raft_closing) {
		return 0;
	}
	return raftnode_raft(d->raftnode)->current_term;
}

bool cluster_leases_enabled(void)
{
	const char *lease = getenv("TM_LEASE");
	return lease == NULL || strcmp(lease, "off") != 0;
}

void cluster_lease_drop(struct daemon *d)
{
	d->lease = (struct lease){0};
	if (d->raftnode != NULL && !d->raft_closing) {
		d->lease_dropped_term = raftnode_raft(d->raftnode)->current_term;
	}
}

bool cluster_raft_follows(struct daemon *d, uint64_t *leader,
			  uint64_t *quiet_ms)
{
	if (d->raftnode == NULL || d->raft_closing) {
		return false;
	}
	struct raft *raft = raftnode_raft(d->raftnode);
	if (raft_state(raft) != RAFT_FOLLOWER ||
	    raft->follower_state.current_leader.id == 0) {
		return false;
	}
	*leader = raft->follower_state.current_leader.id;
	/* raft's clock is libuv's loop time (CLOCK_MONOTONIC, coarse, in
	 * ms), cached when the loop iteration began: a callback that held
	 * the loop before this one would make it read short. The precise
	 * clock, on the same origin, counts every millisecond. */
	uint64_t now = uv_hrtime() / 1000000u;
	*quiet_ms = now > raft->election_timer_start
			? now - raft->election_timer_start
			: 0;
	return true;
}

uint64_t cluster_raft_id(struct daemon *d)
{
	if (d->raftnode == NULL || d->raft_closing) {
		return 0;
	}
	return raftnode_raft(d->raftnode)->id;
}

/* Confirming this member's leadership without a log entry (gdb.h:
 * gdb_set_confirm): ask the other voters for their raft term
 * (GET /internal/cluster/term) and count those that answer with ours.
 *
 * A round needs a majority of the voters, this member included, so
 * quorum - 1 answers; it ends as soon as it has them (DONE with 0), or
 * when every answer is in without them (DONE with TM_NOTLEADER: gdb then
 * uses a barrier, which settles it). The requests still running when it
 * ended are let run; the round is freed with the last of them. Each ask
 * is bounded by ASK_TIMEOUT_MS, far below an election; hclient_close
 * completes them (canceled) when the member stops.
 *
 * TM_CONFIRM=barrier in the environment turns rounds off: every
 * linearizable read takes a barrier, as before (for comparison). */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "internal/daemon/cluster_internal.h"
#include "internal/daemon/daemon_priv.h"
#include "internal/lib/mem.h"
#include "internal/raft/raftnode.h"

#define ASK_TIMEOUT_MS 500

struct ask {
	struct hclient_request h;
	struct round *round;
	char *address; /* owned */
};

struct round {
	gdb_confirm_done done;
	void *done_arg;
	uint64_t term;
	unsigned need;	  /* answers with TERM still needed */
	unsigned running; /* asks not answered yet */
	bool ended;	  /* DONE was called */
	struct ask *asks;
	unsigned n_asks;
};

static void end(struct round *r, int status)
{
	if (!r->ended) {
		r->ended = true;
		r->done(r->done_arg, status);
	}
}

static bool answer_term(const struct hclient_request *h, uint64_t *term)
{
	if (h->status != 0 || h->http_status != 200) {
		return false;
	}
	cJSON *root = cJSON_ParseWithLength(h->body_out, h->body_out_len);
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(root, "metadata");
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(meta, "term");
	bool ok = cJSON_IsNumber(t) && t->valuedouble >= 0;
	if (ok) {
		*term = (uint64_t)t->valuedouble;
	}
	cJSON_Delete(root);
	return ok;
}

static void round_free(struct round *r)
{
	for (unsigned i = 0; i < r->n_asks; i++) {
		hclient_request_clear(&r->asks[i].h);
		tm_free(r->asks[i].address);
	}
	tm_free(r->asks);
	tm_free(r);
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

static void asked(struct hclient_request *h)
{
	struct ask *a = h->data;
	struct round *r = a->round;
	uint64_t term = 0;
	if (answer_term(h, &term) && term == r->term && r->need > 0) {
		r->need--;
	}
	r->running--;
	if (r->need == 0) {
		end(r, 0);
	} else if (r->running == 0) {
		end(r, TM_NOTLEADER);
	}
	if (r->running == 0) {
		round_free(r);
	}
}

static int confirm(void *arg, gdb_confirm_done done, void *done_arg)
{
	struct daemon *d = arg;
	struct hclient *c = daemon_hclient(d);
	if (d->raftnode == NULL || d->raft_closing || c == NULL) {
		return -1;
	}
	struct raft *raft = raftnode_raft(d->raftnode);
	const struct raft_configuration *conf = &raft->configuration;
	unsigned voters = count_voters(conf, raft->id, NULL);
	unsigned need = voters / 2; /* a majority, less this member */
	if (need == 0) {
		return 1;
	}
	struct round *r = tm_calloc(1, sizeof *r);
	r->done = done;
	r->done_arg = done_arg;
	r->term = raft->current_term;
	r->need = need;
	r->asks = tm_calloc(voters, sizeof *r->asks);
	for (unsigned i = 0; i < conf->n; i++) {
		const struct raft_server *s = &conf->servers[i];
		if (s->role != RAFT_VOTER || s->id == raft->id) {
			continue;
		}
		struct ask *a = &r->asks[r->n_asks++];
		a->round = r;
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
	}
	if (r->n_asks < need) {
		/* Fewer other voters than a majority needs: cannot be. */
		round_free(r);
		return -1;
	}
	/* hclient_send refuses only once the client is closing: such an
	 * ask is not counted, and a round with none sent is not started. */
	unsigned sent = 0;
	for (unsigned i = 0; i < r->n_asks; i++) {
		if (hclient_send(c, &r->asks[i].h, asked) == 0) {
			sent++;
		}
	}
	if (sent == 0) {
		round_free(r);
		return -1;
	}
	r->running = sent;
	return 0;
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

uint64_t cluster_raft_id(struct daemon *d)
{
	if (d->raftnode == NULL || d->raft_closing) {
		return 0;
	}
	return raftnode_raft(d->raftnode)->id;
}

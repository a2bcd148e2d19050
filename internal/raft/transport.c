/* The transport's own life: init, raft's init/listen/close, the links
 * (bridged connections) it keeps, and what it logs about peers.
 *
 * Close: stop accepting (accept_cb cleared), cancel every dial, orphan
 * every upgrade in flight, abort every link. transport_maybe_fire_close
 * fires raft's callback once no dial and no link is left; it goes through
 * an idle handle's close callback, so it never runs inside close()
 * itself (raft_uv's close goes on touching its state after calling
 * close). Upgrades in flight are not waited for: the REST server owns
 * their connections until it calls back, and the callback no longer
 * refers to the transport. */
#include "internal/raft/transport_internal.h"

#include <stdio.h>
#include <string.h>

#include "internal/lib/assert.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"

/* ---- raft's interface ---- */

static int transport_init_cb(struct raft_uv_transport *rt, raft_id id,
			     const char *address)
{
	struct transport *t = rt->impl;
	t->id = id;
	tm_free(t->address);
	t->address = tm_strdup(address);
	return 0;
}

static int transport_listen(struct raft_uv_transport *rt, raft_uv_accept_cb cb)
{
	struct transport *t = rt->impl;
	PRE(!t->closing);
	t->accept_cb = cb;
	return 0;
}

static void close_idle_closed_cb(uv_handle_t *handle)
{
	struct transport *t = handle->data;
	raft_uv_transport_close_cb cb = t->close_cb;
	t->close_cb = NULL;
	cb(t->rt);
}

void transport_maybe_fire_close(struct transport *t)
{
	if (!t->closing || t->close_scheduled || t->dials != NULL ||
	    t->links != NULL) {
		return;
	}
	t->close_scheduled = true;
	int rv = uv_idle_init(t->loop, &t->close_idle);
	INVARIANT(rv == 0);
	t->close_idle.data = t;
	uv_close((uv_handle_t *)&t->close_idle, close_idle_closed_cb);
}

static void transport_close(struct raft_uv_transport *rt,
			    raft_uv_transport_close_cb cb)
{
	struct transport *t = rt->impl;
	PRE(!t->closing);
	t->closing = true;
	t->close_cb = cb;
	t->accept_cb = NULL;
	transport_dial_cancel_all(t);
	transport_accept_orphan_all(t);
	transport_drop_connections(rt);
	transport_maybe_fire_close(t);
}

/* ---- links ---- */

static void link_closed_cb(void *data, const struct bridge_stats *stats)
{
	struct link *l = data;
	struct transport *t = l->t;
	if (l->prev != NULL) {
		l->prev->next = l->next;
	} else {
		t->links = l->next;
	}
	if (l->next != NULL) {
		l->next->prev = l->prev;
	}
	t->stats.bridges_open--;
	t->stats.to_raft += stats->to_raft;
	t->stats.to_peer += stats->to_peer;
	t->stats.paused_to_raft += stats->paused_to_raft;
	t->stats.paused_to_peer += stats->paused_to_peer;
	LOGD("raft: connection closed after %llu bytes in, %llu out",
	     (unsigned long long)stats->to_raft,
	     (unsigned long long)stats->to_peer);
	tm_free(l);
	transport_maybe_fire_close(t);
}

int transport_link(struct transport *t, struct conn *c, const char *pending,
		   size_t len, uv_stream_t **stream, char *errmsg)
{
	struct link *l = tm_calloc(1, sizeof *l);
	l->t = t;
	int rv = bridge_start(t->loop, c, pending, len, t->config.queue_limit,
			      link_closed_cb, l, &l->bridge, stream, errmsg);
	if (rv != 0) {
		tm_free(l);
		return rv;
	}
	l->next = t->links;
	if (t->links != NULL) {
		t->links->prev = l;
	}
	t->links = l;
	t->stats.bridges_open++;
	return 0;
}

void transport_hold(struct raft_uv_transport *rt, unsigned ms)
{
	struct transport *t = rt->impl;
	t->hold_until_ns = uv_hrtime() + (uint64_t)ms * 1000000u;
}

void transport_drop_connections(struct raft_uv_transport *rt)
{
	struct transport *t = rt->impl;
	/* Aborting never releases a link from inside bridge_abort: the
	 * handles' close callbacks come later. */
	for (struct link *l = t->links; l != NULL; l = l->next) {
		bridge_abort(l->bridge);
	}
}

/* ---- admission and logging ---- */

enum transport_verdict transport_judge(struct transport *t,
				       const char *fingerprint)
{
	if (t->config.admit == NULL) {
		return TRANSPORT_NOT_CLUSTERED;
	}
	return t->config.admit(t->config.admit_data, fingerprint);
}

enum transport_verdict transport_judge_server(struct transport *t,
					      const char *fingerprint)
{
	if (t->config.admit_server == NULL) {
		return transport_judge(t, fingerprint);
	}
	return t->config.admit_server(t->config.admit_data, fingerprint);
}

static struct peer_note *note_of(struct transport *t, raft_id id)
{
	for (struct peer_note *n = t->notes; n != NULL; n = n->next) {
		if (n->id == id) {
			return n;
		}
	}
	struct peer_note *n = tm_calloc(1, sizeof *n);
	n->id = id;
	n->next = t->notes;
	t->notes = n;
	return n;
}

void transport_note_failure(struct transport *t, raft_id id,
			    const char *address, const char *reason)
{
	struct peer_note *n = note_of(t, id);
	if (n->failing && strcmp(n->reason, reason) == 0 &&
	    strcmp(n->failed_at, address) == 0) {
		LOGD("raft: cannot reach member %llu at %s: %s",
		     (unsigned long long)id, address, reason);
		return;
	}
	n->failing = true;
	snprintf(n->reason, sizeof n->reason, "%s", reason);
	snprintf(n->failed_at, sizeof n->failed_at, "%s", address);
	LOGW("raft: cannot reach member %llu at %s: %s (raft retries)",
	     (unsigned long long)id, address, reason);
}

void transport_note_success(struct transport *t, raft_id id,
			    const char *address)
{
	struct peer_note *n = note_of(t, id);
	if (n->failing) {
		LOGI("raft: reached member %llu at %s again",
		     (unsigned long long)id, address);
	} else {
		LOGD("raft: connected to member %llu at %s",
		     (unsigned long long)id, address);
	}
	n->failing = false;
	n->reason[0] = '\0';
}

/* ---- init, free, stats ---- */

int transport_init(struct raft_uv_transport *rt, uv_loop_t *loop,
		   const struct transport_config *config)
{
	struct transport *t = tm_calloc(1, sizeof *t);
	t->rt = rt;
	t->loop = loop;
	if (config != NULL) {
		t->config = *config;
	}
	memset(rt, 0, sizeof *rt);
	rt->impl = t;
	rt->init = transport_init_cb;
	rt->listen = transport_listen;
	rt->connect = transport_dial;
	rt->close = transport_close;
	return 0;
}

void transport_free(struct raft_uv_transport *rt)
{
	struct transport *t = rt->impl;
	if (t == NULL) {
		return;
	}
	PRE(t->dials == NULL && t->links == NULL && t->close_cb == NULL);
	while (t->notes != NULL) {
		struct peer_note *n = t->notes;
		t->notes = n->next;
		tm_free(n);
	}
	transport_accept_orphan_all(t);
	tm_free(t->address);
	tm_free(t);
	rt->impl = NULL;
}

void transport_stats(const struct raft_uv_transport *rt,
		     struct transport_stats *out)
{
	const struct transport *t = rt->impl;
	*out = t->stats;
	for (const struct link *l = t->links; l != NULL; l = l->next) {
		const struct bridge_stats *s = bridge_stats(l->bridge);
		out->to_raft += s->to_raft;
		out->to_peer += s->to_peer;
		out->paused_to_raft += s->paused_to_raft;
		out->paused_to_peer += s->paused_to_peer;
	}
}

bool transport_failed_at(const struct transport *t, raft_id id,
			 const char *address)
{
	for (const struct peer_note *n = t->notes; n != NULL; n = n->next) {
		if (n->id == id) {
			return n->failing && strcmp(n->failed_at, address) == 0;
		}
	}
	return false;
}

const char *transport_peer_problem(const struct raft_uv_transport *rt,
				   raft_id id)
{
	const struct transport *t = rt->impl;
	for (const struct peer_note *n = t->notes; n != NULL; n = n->next) {
		if (n->id == id) {
			return n->failing ? n->reason : NULL;
		}
	}
	return NULL;
}

/* Transport for a member without peers yet.
 *
 * connect: a connect request fails on the next loop turn with
 * RAFT_NOCONNECTION (raft retries later); pending requests are failed with
 * RAFT_CANCELED by close. close: fires its callback on the next loop turn
 * once no connect request is pending. */
#include "internal/raft/transport.h"

#include <stdbool.h>
#include <string.h>

#include "internal/lib/mem.h"

struct pending_connect {
	uv_timer_t timer;
	struct raft_uv_connect *req;
	raft_uv_connect_cb cb;
	struct transport *t;
	struct pending_connect *next;
};

struct transport {
	uv_loop_t *loop;
	raft_id id;
	char *address;
	raft_uv_accept_cb accept_cb;
	struct pending_connect *pending;
	int closing_timers;
	bool closing;
	uv_idle_t close_idle;
	raft_uv_transport_close_cb close_cb;
	struct raft_uv_transport *owner;
};

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
	t->accept_cb = cb;
	return 0;
}

static void unlink_pending(struct transport *t, struct pending_connect *p)
{
	for (struct pending_connect **pp = &t->pending; *pp != NULL;
	     pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			return;
		}
	}
}

static void maybe_closed(struct transport *t);

static void pending_closed_cb(uv_handle_t *h)
{
	struct pending_connect *p = h->data;
	struct transport *t = p->t;
	int status = t->closing ? RAFT_CANCELED : RAFT_NOCONNECTION;
	p->cb(p->req, NULL, status);
	tm_free(p);
	t->closing_timers--;
	maybe_closed(t);
}

static void connect_fail_cb(uv_timer_t *timer)
{
	struct pending_connect *p = timer->data;
	unlink_pending(p->t, p);
	p->t->closing_timers++;
	uv_close((uv_handle_t *)&p->timer, pending_closed_cb);
}

static int transport_connect(struct raft_uv_transport *rt,
			     struct raft_uv_connect *req, raft_id id,
			     const char *address, raft_uv_connect_cb cb)
{
	(void)id;
	(void)address;
	struct transport *t = rt->impl;
	struct pending_connect *p = tm_calloc(1, sizeof *p);
	p->req = req;
	p->cb = cb;
	p->t = t;
	uv_timer_init(t->loop, &p->timer);
	p->timer.data = p;
	uv_timer_start(&p->timer, connect_fail_cb, 0, 0);
	p->next = t->pending;
	t->pending = p;
	return 0;
}

static void close_idle_closed_cb(uv_handle_t *h)
{
	struct transport *t = h->data;
	t->close_cb(t->owner);
}

static void close_idle_cb(uv_idle_t *idle)
{
	uv_idle_stop(idle);
	uv_close((uv_handle_t *)idle, close_idle_closed_cb);
}

static void maybe_closed(struct transport *t)
{
	if (!t->closing || t->pending != NULL || t->closing_timers > 0) {
		return;
	}
	uv_idle_init(t->loop, &t->close_idle);
	t->close_idle.data = t;
	uv_idle_start(&t->close_idle, close_idle_cb);
}

static void transport_close(struct raft_uv_transport *rt,
			    raft_uv_transport_close_cb cb)
{
	struct transport *t = rt->impl;
	t->closing = true;
	t->close_cb = cb;
	t->accept_cb = NULL;
	while (t->pending != NULL) {
		struct pending_connect *p = t->pending;
		t->pending = p->next;
		uv_timer_stop(&p->timer);
		t->closing_timers++;
		uv_close((uv_handle_t *)&p->timer, pending_closed_cb);
	}
	maybe_closed(t);
}

int transport_init(struct raft_uv_transport *rt, uv_loop_t *loop)
{
	struct transport *t = tm_calloc(1, sizeof *t);
	t->loop = loop;
	t->owner = rt;
	memset(rt, 0, sizeof *rt);
	rt->impl = t;
	rt->init = transport_init_cb;
	rt->listen = transport_listen;
	rt->connect = transport_connect;
	rt->close = transport_close;
	return 0;
}

void transport_free(struct raft_uv_transport *rt)
{
	struct transport *t = rt->impl;
	if (t == NULL) {
		return;
	}
	tm_free(t->address);
	tm_free(t);
	rt->impl = NULL;
}

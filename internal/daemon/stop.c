/* Stopping, in two steps.
 *
 * Draining (READY -> DRAINING): the listeners and signal handles close, so
 * no new connection comes in; requests that complete on open connections
 * are answered 503 "shutting down" (rest_server_drain); the global
 * database refuses writes it has not proposed yet (gdb_drain), while the
 * entry already proposed to raft is committed and applied and its
 * requests answered with their real outcome; SQL reads are interrupted
 * and answered 503 (sql_call.c). A timer checks every
 * DRAIN_POLL_MS whether any request is still in its handler, for at most
 * DRAIN_MS.
 *
 * Closing (DRAINING -> STOPPING): every child closes asynchronously; each
 * close callback decrements its counter and calls daemon_maybe_stopped(), which
 * finishes once nothing is left. Memory is released in daemon_free() after
 * the loop has run dry. */
#include <unistd.h>

#include "internal/client/hclient.h"
#include "internal/daemon/events_internal.h"
#include "internal/daemon/daemon_priv.h"
#include "internal/db/cluster/gdb.h"
#include "internal/db/node/nodedb.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"
#include "internal/lib/pool.h"
#include "internal/net/listener.h"
#include "internal/raft/raftnode.h"
#include "internal/rest/rest.h"

/* How long the requests in flight at a stop may take to finish. */
#define DRAIN_MS 5000
#define DRAIN_POLL_MS 10

static void gdb_closed_cb(void *arg)
{
	struct daemon *d = arg;
	d->gdb_closing = false;
	daemon_maybe_stopped(d);
}

static void hclient_closed_cb(void *arg)
{
	struct daemon *d = arg;
	d->hclient_closing = false;
	daemon_maybe_stopped(d);
}

static void pool_closed_cb(void *arg)
{
	struct daemon *d = arg;
	d->pools_closing--;
	daemon_maybe_stopped(d);
}

static void close_pool(struct daemon *d, struct pool **p)
{
	if (*p != NULL) {
		d->pools_closing++;
		pool_close(*p, pool_closed_cb, d);
		*p = NULL;
	}
}

static void raft_closed_cb(void *data)
{
	struct daemon *d = data;
	d->raftnode = NULL;
	/* raft is closed: the state machine can go. */
	struct gdb *g = d->gdb;
	d->gdb = NULL;
	d->gdb_closing = true;
	gdb_close(g, gdb_closed_cb, d);
}

/* Close the global database once nothing can send it requests. */
static void close_global(struct daemon *d)
{
	if (d->raftnode != NULL) {
		if (!d->raft_closing) {
			/* First: a snapshot raft waits for at close may wait
			 * for the apply thread, which may wait for disk. */
			if (d->gdb != NULL) {
				gdb_lane_stop(d->gdb);
			}
			d->raft_closing = true;
			raftnode_close(d->raftnode, raft_closed_cb, d);
		}
	} else if (d->gdb != NULL) {
		struct gdb *g = d->gdb;
		d->gdb = NULL;
		d->gdb_closing = true;
		gdb_close(g, gdb_closed_cb, d);
	}
}

void daemon_maybe_stopped(struct daemon *d)
{
	if (d->state != DAEMON_STOPPING || d->rest != NULL ||
	    d->listeners_closing > 0 || d->signals_closing > 0 ||
	    d->drain_alive || d->lag_alive || d->rebalance_alive ||
	    d->ev_tap_alive || d->ev_leader_alive || d->ev_relay != NULL ||
	    d->heartbeat_alive) {
		return;
	}
	if (d->hclient != NULL) {
		/* Forwarded requests are answered: no one uses it now. */
		struct hclient *c = d->hclient;
		d->hclient = NULL;
		d->hclient_closing = true;
		hclient_close(c, hclient_closed_cb, d);
		return;
	}
	if (d->hclient_closing) {
		return;
	}
	if (cluster_reopen_busy(d)) {
		return; /* the reopen calls back once raft is closed */
	}
	if (d->raftnode != NULL || d->gdb != NULL || d->gdb_closing) {
		close_global(d);
		return;
	}
	/* Neither the global database nor the API submits work any more. */
	close_pool(d, &d->pool);
	close_pool(d, &d->api_pool);
	if (d->pools_closing > 0) {
		return;
	}
	if (d->nodedb != NULL) {
		nodedb_close(d->nodedb);
		d->nodedb = NULL;
	}
	daemon_set_state(d, DAEMON_STOPPED);
}

static void listener_closed_cb(struct listener *l)
{
	struct daemon *d = listener_data(l);
	d->listeners_closing--;
	daemon_maybe_stopped(d);
}

static void rest_closed_cb(void *data)
{
	struct daemon *d = data;
	d->rest = NULL;
	daemon_maybe_stopped(d);
}

static void signal_closed_cb(uv_handle_t *handle)
{
	struct daemon *d = handle->data;
	d->signals_closing--;
	daemon_maybe_stopped(d);
}

static void close_listener(struct daemon *d, struct listener **l)
{
	if (*l == NULL) {
		return;
	}
	d->listeners_closing++;
	listener_close(*l, listener_closed_cb);
	*l = NULL;
}

static void drain_closed_cb(uv_handle_t *handle)
{
	struct daemon *d = handle->data;
	d->drain_alive = false;
	daemon_maybe_stopped(d);
}

static void lag_closed_cb(struct looplag *l)
{
	struct daemon *d = l->data;
	d->lag_alive = false;
	daemon_maybe_stopped(d);
}

static void close_lag(struct daemon *d)
{
	if (d->lag_alive) {
		struct looplag_stats st;
		looplag_get(&d->lag, &st);
		LOGI("loop: lag over %llu ticks: p50 %.1f ms, p99 %.1f ms, "
		     "p99.9 %.1f ms, max %.1f ms; without the waits for a CPU: "
		     "p99.9 %.1f ms, max %.1f ms",
		     (unsigned long long)st.samples, st.p50_ms, st.p99_ms,
		     st.p999_ms, st.max_ms, st.held_p999_ms, st.held_max_ms);
		looplag_close(&d->lag, lag_closed_cb);
	}
}

/* Drained, or out of time: close everything. */
static void close_all(struct daemon *d)
{
	daemon_set_state(d, DAEMON_STOPPING);
	close_lag(d);
	daemon_events_close(d);
	if (d->drain_alive) {
		uv_close((uv_handle_t *)&d->drain_timer, drain_closed_cb);
	}
	if (d->rest != NULL) {
		size_t left = rest_server_pending(d->rest);
		if (left > 0) {
			LOGE("daemon: %zu request(s) still running after %d s "
			     "of draining are dropped: their clients get no "
			     "answer, and a write among them may or may not "
			     "have been applied",
			     left, DRAIN_MS / 1000);
		}
		rest_server_close(d->rest, rest_closed_cb, d);
	}
	daemon_maybe_stopped(d);
}

static void drain_tick_cb(uv_timer_t *t)
{
	struct daemon *d = t->data;
	if ((rest_server_pending(d->rest) == 0 && !d->handover_busy) ||
	    uv_now(d->loop) >= d->drain_deadline) {
		uv_timer_stop(t);
		close_all(d);
	}
}

static void close_signals(struct daemon *d)
{
	if (!d->signals_alive) {
		return;
	}
	d->signals_alive = false;
	for (int i = 0; i < 2; i++) {
		d->signals_closing++;
		uv_close((uv_handle_t *)&d->signals[i], signal_closed_cb);
	}
}

void daemon_stop(struct daemon *d)
{
	if (d->state == DAEMON_DRAINING || d->state == DAEMON_STOPPING ||
	    d->state == DAEMON_STOPPED) {
		return;
	}
	daemon_set_state(d, DAEMON_DRAINING);
	daemon_ready_waiter_fail(d, "the member is stopping");
	daemon_global_schema_cancel(d);
	cluster_rebalance_stop(d);
	cluster_heartbeat_stop(d);
	close_listener(d, &d->https_listener);
	close_listener(d, &d->unix_listener);
	close_signals(d);
	if (d->rest == NULL) {
		close_all(d);
		return;
	}
	rest_server_drain(d->rest);
	daemon_events_shutdown(d);
	if (d->gdb != NULL) {
		gdb_drain(d->gdb);
	}
	cluster_handover(d);
	uv_timer_init(d->loop, &d->drain_timer);
	d->drain_timer.data = d;
	d->drain_alive = true;
	d->drain_deadline = uv_now(d->loop) + DRAIN_MS;
	uv_timer_start(&d->drain_timer, drain_tick_cb, 0, DRAIN_POLL_MS);
}

enum daemon_state daemon_state(const struct daemon *d) { return d->state; }

int daemon_exit_code(const struct daemon *d) { return d->exit_code; }

void daemon_free(struct daemon *d)
{
	cluster_heartbeat_free(d);
	cluster_address_free(d);
	if (d->nodedb != NULL) {
		nodedb_close(d->nodedb);
	}
	if (d->tls_ctx != NULL) {
		SSL_CTX_free(d->tls_ctx);
	}
	if (d->tls_client_ctx != NULL) {
		SSL_CTX_free(d->tls_client_ctx);
	}
	tm_free(d->member_certs);
	if (d->lock_fd >= 0) {
		close(d->lock_fd);
	}
	daemon_events_free(d);
	cJSON_Delete(d->config);
	cJSON_Delete(d->local_config);
	cJSON_Delete(d->global_config);
	cJSON_Delete(d->legacy_global);
	trust_set_clear(&d->trust);
	tm_free(d->cert_pem);
	tm_free(d->server_name);
	tm_free(d->dir);
	tm_free(d);
}

/* Stopping: every child closes asynchronously; each close callback
 * decrements its counter and calls maybe_stopped(), which finishes once
 * nothing is left. Memory is released in daemon_free() after the loop has
 * run dry. */
#include <unistd.h>

#include "internal/daemon/daemon_priv.h"
#include "internal/db/cluster/gdb.h"
#include "internal/db/node/nodedb.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"
#include "internal/lib/pool.h"
#include "internal/net/listener.h"
#include "internal/raft/raftnode.h"
#include "internal/rest/rest.h"

static void maybe_stopped(struct daemon *d);

static void gdb_closed_cb(void *arg)
{
	struct daemon *d = arg;
	d->gdb_closing = false;
	maybe_stopped(d);
}

static void pool_closed_cb(void *arg)
{
	struct daemon *d = arg;
	d->pools_closing--;
	maybe_stopped(d);
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

static void maybe_stopped(struct daemon *d)
{
	if (d->state != DAEMON_STOPPING || d->rest != NULL ||
	    d->listeners_closing > 0 || d->signals_closing > 0) {
		return;
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
	maybe_stopped(d);
}

static void rest_closed_cb(void *data)
{
	struct daemon *d = data;
	d->rest = NULL;
	maybe_stopped(d);
}

static void signal_closed_cb(uv_handle_t *handle)
{
	struct daemon *d = handle->data;
	d->signals_closing--;
	maybe_stopped(d);
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

void daemon_stop(struct daemon *d)
{
	if (d->state == DAEMON_STOPPING || d->state == DAEMON_STOPPED) {
		return;
	}
	daemon_set_state(d, DAEMON_STOPPING);
	daemon_global_schema_cancel(d);
	close_listener(d, &d->https_listener);
	close_listener(d, &d->unix_listener);
	if (d->signals_alive) {
		d->signals_alive = false;
		for (int i = 0; i < 2; i++) {
			d->signals_closing++;
			uv_close((uv_handle_t *)&d->signals[i],
				 signal_closed_cb);
		}
	}
	if (d->rest != NULL) {
		rest_server_close(d->rest, rest_closed_cb, d);
	}
	maybe_stopped(d);
}

enum daemon_state daemon_state(const struct daemon *d) { return d->state; }

int daemon_exit_code(const struct daemon *d) { return d->exit_code; }

void daemon_free(struct daemon *d)
{
	if (d->nodedb != NULL) {
		nodedb_close(d->nodedb);
	}
	if (d->tls_ctx != NULL) {
		SSL_CTX_free(d->tls_ctx);
	}
	if (d->lock_fd >= 0) {
		close(d->lock_fd);
	}
	cJSON_Delete(d->config);
	tm_free(d->cert_pem);
	tm_free(d->server_name);
	tm_free(d->dir);
	tm_free(d);
}

/* The daemon's lifecycle: start-up in order, stop gathered in one place.
 *
 * Start: state directory (0700) and lock -> leftovers of killed backups
 * removed -> member key pair -> local database (checked against the raft
 * state, startcheck.c) and its config -> REST server -> unix socket ->
 * global database (raft) -> HTTPS listener (if core.https_address is set)
 * -> signals -> READY.
 *
 * Stop (stop.c): drain (listeners and signal handles closed, new requests
 * answered 503, what was proposed to raft finishes, bounded), then the
 * REST server (all connections); each close callback clears its flag and
 * calls maybe_stopped(), which releases the rest once nothing is left
 * open. */
#include "internal/daemon/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <unistd.h>

#include "internal/api/api.h"
#include "internal/client/hclient.h"
#include "internal/daemon/events_internal.h"
#include "internal/config/config.h"
#include "internal/daemon/daemon_priv.h"
#include "internal/db/cluster/gdb.h"
#include "internal/db/node/nodedb.h"
#include "internal/lib/assert.h"
#include "internal/lib/fs.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"
#include "internal/net/listener.h"
#include "internal/raft/raftnode.h"
#include "internal/rest/rest.h"
#include "internal/tls/tls.h"

static const char *state_names[] = {
    "init", "starting", "ready", "joining", "draining", "stopping", "stopped",
};

#define BIT(s) (1u << (s))

/* The transitions each state allows. */
static const unsigned allowed[] = {
    [DAEMON_INIT] = BIT(DAEMON_STARTING),
    [DAEMON_STARTING] = BIT(DAEMON_READY) | BIT(DAEMON_DRAINING),
    [DAEMON_READY] = BIT(DAEMON_JOINING) | BIT(DAEMON_DRAINING),
    [DAEMON_JOINING] = BIT(DAEMON_READY) | BIT(DAEMON_DRAINING),
    [DAEMON_DRAINING] = BIT(DAEMON_STOPPING),
    [DAEMON_STOPPING] = BIT(DAEMON_STOPPED),
    [DAEMON_STOPPED] = 0,
};

void daemon_set_state(struct daemon *d, enum daemon_state next)
{
	PRE((allowed[d->state] & BIT(next)) != 0);
	LOGI("daemon: %s -> %s", state_names[d->state], state_names[next]);
	d->state = next;
}

int daemon_init(struct daemon **out, uv_loop_t *loop, const char *dir,
		char *errmsg)
{
	(void)errmsg;
	struct daemon *d = tm_calloc(1, sizeof *d);
	d->loop = loop;
	d->dir = tm_strdup(dir);
	d->lock_fd = -1;
	d->state = DAEMON_INIT;
	trust_set_init(&d->trust);
	*out = d;
	return 0;
}

static int take_lock(struct daemon *d, char *errmsg)
{
	char *path = tm_asprintf("%s/daemon.lock", d->dir);
	d->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	tm_free(path);
	if (d->lock_fd < 0) {
		tm_errmsg_printf(errmsg, "open lock file in %s: %s", d->dir,
				 strerror(errno));
		return TM_IO;
	}
	if (flock(d->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		tm_errmsg_printf(errmsg,
				 "another thermionicd is already running "
				 "with state directory %s",
				 d->dir);
		return TM_BUSY;
	}
	return 0;
}

static int load_identity(struct daemon *d, char *errmsg)
{
	char host[256];
	if (gethostname(host, sizeof host) != 0) {
		snprintf(host, sizeof host, "localhost");
	}
	host[sizeof host - 1] = '\0';
	d->server_name = tm_strdup(host);

	char *cert = tm_asprintf("%s/server.crt", d->dir);
	char *key = tm_asprintf("%s/server.key", d->dir);
	int rv = tls_ensure_keypair(cert, key, host, true, errmsg);
	if (rv == 0) {
		rv = fs_read_all(cert, 1 << 20, &d->cert_pem, NULL, errmsg);
	}
	if (rv == 0) {
		rv = tls_fingerprint_pem(d->cert_pem, d->fingerprint, errmsg);
	}
	if (rv == 0) {
		rv = tls_server_ctx(cert, key, &d->tls_ctx, errmsg);
	}
	if (rv == 0) {
		rv = tls_client_ctx(cert, key, &d->tls_client_ctx, errmsg);
	}
	tm_free(cert);
	tm_free(key);
	return rv;
}

static int open_local_db(struct daemon *d, char *errmsg)
{
	int rv = daemon_check_local_db(d, errmsg);
	if (rv != 0) {
		return rv;
	}
	rv = nodedb_open(d->dir, &d->nodedb, errmsg);
	if (rv != 0) {
		daemon_local_db_failed(d, errmsg);
		return rv;
	}
	cJSON *all;
	rv = nodedb_config_load(d->nodedb, &all);
	if (rv != 0) {
		tm_errmsg_printf(errmsg, "load config: %s",
				 nodedb_errmsg(d->nodedb));
		daemon_local_db_failed(d, errmsg);
		return rv;
	}
	daemon_config_init(d, all);
	return daemon_check_raft_member(d, errmsg);
}

/* Connections need file descriptors: keep the HTTPS caps under the
 * open-files limit, so that the unix socket (never capped) and the
 * databases always find one. */
#define DAEMON_RESERVED_FDS 128

static unsigned fd_budget(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 ||
	    rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur > 2 * DAEMON_RESERVED_FDS + 1000000) {
		return 1000000;
	}
	if (rl.rlim_cur < 2 * DAEMON_RESERVED_FDS) {
		return (unsigned)rl.rlim_cur / 2;
	}
	return (unsigned)(rl.rlim_cur - DAEMON_RESERVED_FDS);
}

static void apply_caps(struct daemon *d)
{
	if (d->https_listener == NULL) {
		return;
	}
	unsigned total =
	    (unsigned)config_get_int(d->config, "core.max_connections");
	unsigned per_address = (unsigned)config_get_int(
	    d->config, "core.max_connections_per_address");
	unsigned budget = fd_budget();
	if (total > budget) {
		LOGI("daemon: core.max_connections %u is more than the "
		     "open-files limit allows; using %u (raise the limit, "
		     "e.g. LimitNOFILE= in the service unit)",
		     total, budget);
		total = budget;
	}
	listener_set_caps(d->https_listener, total, per_address);
}

static void apply_limits(struct daemon *d)
{
	if (d->rest == NULL) {
		return;
	}
	struct rest_limits limits = {
	    .max_header_bytes = 16 * 1024,
	    .max_body_bytes =
		(size_t)config_get_int(d->config, "core.max_request_size"),
	    .read_timeout_ms =
		(unsigned)config_get_int(d->config, "core.request_timeout") *
		1000,
	    .idle_timeout_ms = 60 * 1000,
	};
	rest_server_set_limits(d->rest, &limits);
	apply_caps(d);
}

static void conn_cb(struct listener *l, struct conn *c)
{
	struct daemon *d = listener_data(l);
	if (d->state == DAEMON_DRAINING || d->state == DAEMON_STOPPING ||
	    d->rest == NULL) {
		conn_close(c, NULL);
		return;
	}
	rest_server_add_conn(d->rest, c);
}

static int start_rest(struct daemon *d, char *errmsg)
{
	size_t n;
	const struct rest_route *routes = api_routes(&n);
	int rv =
	    rest_server_init(d->loop, routes, n, daemon_trust_cb, d, &d->rest);
	if (rv != 0) {
		tm_errmsg_printf(errmsg, "start REST server: %s",
				 tm_strerror(rv));
		return rv;
	}
	apply_limits(d);
	char *path = tm_asprintf("%s/unix.socket", d->dir);
	rv =
	    listener_unix(d->loop, path, conn_cb, d, &d->unix_listener, errmsg);
	if (rv == 0) {
		LOGI("daemon: local API on %s", path);
	}
	tm_free(path);
	return rv;
}

/* Bind ADDRESS; on success the new listener replaces the old one. */
static int listen_https(struct daemon *d, const char *address, char *errmsg)
{
	struct listener *l = NULL;
	if (address[0] != '\0') {
		int rv = listener_tcp(d->loop, address, d->tls_ctx, conn_cb, d,
				      &l, errmsg);
		if (rv != 0) {
			return rv;
		}
		LOGI("daemon: HTTPS API on %s", listener_address(l));
	}
	if (d->https_listener != NULL) {
		LOGI("daemon: stop listening on %s",
		     listener_address(d->https_listener));
		listener_close(d->https_listener, NULL);
	}
	d->https_listener = l;
	apply_caps(d);
	return 0;
}

/* The loop client for calls to other members (request forwarding). */
static int start_client(struct daemon *d, char *errmsg)
{
	char *cert = tm_asprintf("%s/server.crt", d->dir);
	char *key = tm_asprintf("%s/server.key", d->dir);
	struct hclient_config cfg = {.cert_path = cert, .key_path = key};
	int rv = hclient_init(&d->hclient, d->loop, &cfg, errmsg);
	tm_free(key);
	tm_free(cert);
	return rv;
}

static void signal_cb(uv_signal_t *handle, int signum)
{
	struct daemon *d = handle->data;
	LOGI("daemon: received signal %d, stopping", signum);
	daemon_stop(d);
}

static void start_signals(struct daemon *d)
{
	int signums[2] = {SIGTERM, SIGINT};
	for (int i = 0; i < 2; i++) {
		uv_signal_init(d->loop, &d->signals[i]);
		d->signals[i].data = d;
		uv_signal_start(&d->signals[i], signal_cb, signums[i]);
		uv_unref((uv_handle_t *)&d->signals[i]);
	}
	d->signals_alive = true;
}

/* Loop lag: a tick every LAG_PERIOD_MS; a tick LAG_WARN_MS late is logged
 * as a stall (raft's heartbeat timeout is 100 ms by default).
 * TM_LAG_WARN_MS in the environment logs shorter ones (finding what holds
 * the loop: doc/benchmarks.md). */
#define LAG_PERIOD_MS 10
#define LAG_WARN_MS 50

static void start_lag(struct daemon *d)
{
	unsigned warn_ms = LAG_WARN_MS;
	const char *env = getenv("TM_LAG_WARN_MS");
	if (env != NULL && atoi(env) > 0) {
		warn_ms = (unsigned)atoi(env);
	}
	d->lag.data = d;
	if (looplag_start(&d->lag, d->loop, LAG_PERIOD_MS, warn_ms) == 0) {
		d->lag_alive = true;
	}
}

int daemon_start(struct daemon *d, char *errmsg)
{
	PRE(d->state == DAEMON_INIT);
	daemon_set_state(d, DAEMON_STARTING);
	int rv = fs_ensure_dir(d->dir, 0700, errmsg);
	if (rv == 0) {
		rv = take_lock(d, errmsg);
	}
	if (rv == 0) {
		daemon_remove_backup_leftovers(d);
	}
	if (rv == 0) {
		rv = load_identity(d, errmsg);
	}
	if (rv == 0) {
		rv = open_local_db(d, errmsg);
	}
	if (rv == 0) {
		rv = cluster_identity_load(d, errmsg);
	}
	if (rv == 0) {
		rv = start_client(d, errmsg);
	}
	if (rv == 0) {
		d->ev_announced_level = LOG_ERROR + 1;
		daemon_events_start(d);
	}
	if (rv == 0) {
		rv = start_rest(d, errmsg);
	}
	if (rv == 0) {
		rv = daemon_global_open(d, errmsg);
	}
	if (rv != 0) {
		d->exit_code = 1;
		daemon_stop(d);
		return rv;
	}
	start_signals(d);
	start_lag(d);
	const char *address = config_get(d->config, "core.https_address");
	char lerr[TM_ERRMSG_SIZE];
	if (listen_https(d, address, lerr) != 0) {
		/* Keep serving on the unix socket so the address can be fixed.
		 */
		LOGE("daemon: %s (fix with: therm config set "
		     "core.https_address ADDRESS)",
		     lerr);
	}
	LOGI("daemon: member %s, certificate %s", d->server_name,
	     d->fingerprint);
	daemon_global_schema(d);
	return 0;
}

/* Tell the daemon_when_ready waiter, if any. */
static void ready_waiter(struct daemon *d, int status, const char *errmsg)
{
	daemon_ready_cb cb = d->ready_cb;
	d->ready_cb = NULL;
	if (cb != NULL) {
		cb(d, d->ready_arg, status, errmsg);
	}
}

void daemon_ready_waiter_fail(struct daemon *d, const char *errmsg)
{
	ready_waiter(d, TM_SHUTDOWN, errmsg);
}

void daemon_global_ready(struct daemon *d)
{
	daemon_events_members_changed(d);
	daemon_config_reload_global(d);
	daemon_trust_reload(d);
	daemon_migrate(d);
}

void daemon_global_migrated(struct daemon *d)
{
	if (d->state == DAEMON_STARTING || d->state == DAEMON_JOINING) {
		if (d->phase == CLUSTER_JOINING) {
			d->phase = CLUSTER_MEMBER;
			LOGI("cluster: joined as %s (raft id %llu)",
			     d->self.name, (unsigned long long)d->self.id);
		}
		d->cluster_message[0] = '\0';
		daemon_set_state(d, DAEMON_READY);
		if (d->rest != NULL) {
			/* Members let in by the local list while starting
			 * (daemon_trust_cb): the trust store decides now. */
			(void)rest_server_revalidate(d->rest);
		}
		cluster_rebalance_start(d);
		cluster_heartbeat_start(d);
		ready_waiter(d, 0, "");
	}
}

void daemon_when_ready(struct daemon *d, daemon_ready_cb cb, void *arg)
{
	PRE(d->ready_cb == NULL);
	d->ready_cb = cb;
	d->ready_arg = arg;
}

void daemon_config_apply(struct daemon *d)
{
	apply_limits(d);
	daemon_global_limits(d);
	if (d->raftnode != NULL) {
		unsigned threshold = (unsigned)config_get_int(
		    d->config, "raft.snapshot_threshold");
		raftnode_set_snapshot(d->raftnode, threshold,
				      (unsigned)config_get_int(
					  d->config, "raft.snapshot_trailing"));
		/* The least interval; gdb lengthens it as the database
		 * grows. */
		gdb_set_snapshot_threshold(d->gdb, threshold);
		/* The most entries kept; gdb keeps fewer when they are
		 * large. */
		gdb_set_snapshot_trailing(
		    d->gdb, (unsigned)config_get_int(d->config,
						     "raft.snapshot_trailing"));
	}
}

/* Undo a rebind: close FRESH (if any), put OLD back. */
static void unbind(struct daemon *d, struct listener *old)
{
	struct listener *fresh = d->https_listener;
	d->https_listener = old;
	if (fresh != NULL) {
		listener_close(fresh, NULL);
	}
}

int daemon_config_set_local(struct daemon *d, cJSON *new_local, char *errmsg)
{
	const char *old_addr = config_get(d->config, "core.https_address");
	const char *new_addr = config_get(new_local, "core.https_address");
	bool rebind = strcmp(old_addr, new_addr) != 0;
	struct listener *old = d->https_listener;
	int rv;

	if (rebind) {
		/* Bind first: a wrong address must not be stored. */
		d->https_listener = NULL;
		rv = listen_https(d, new_addr, errmsg);
		if (rv != 0) {
			d->https_listener = old;
			tm_errmsg_wrapf(errmsg, "core.https_address");
			cJSON_Delete(new_local);
			return TM_IO;
		}
	}
	cJSON *prev = d->local_config;
	d->local_config = new_local;
	cJSON *rows = daemon_config_local_rows(d);
	rv = nodedb_config_replace(d->nodedb, rows);
	cJSON_Delete(rows);
	if (rv != 0) {
		tm_errmsg_printf(errmsg, "store config: %s",
				 nodedb_errmsg(d->nodedb));
		d->local_config = prev;
		cJSON_Delete(new_local);
		if (rebind) {
			unbind(d, old);
		}
		return TM_DB;
	}
	cJSON_Delete(prev);
	if (rebind && old != NULL) {
		LOGI("daemon: stop listening on %s", listener_address(old));
		listener_close(old, NULL);
	}
	daemon_config_refresh(d);
	return 0;
}

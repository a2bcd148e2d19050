/* The global database on this member: raft (DIR/global/) plus the state
 * machine (DIR/global.db, rebuilt from snapshot + log at every start).
 *
 * open:  gdb_init -> raftnode_init(fsm) -> gdb_set_raft -> raftnode_start
 *        -> once raft has applied what the log holds, bring the global
 *        schema up to date through a replicated write -> READY.
 * close: raftnode_close -> gdb_close -> maybe_stopped (see stop.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/config/config.h"
#include "internal/daemon/daemon_priv.h"
#include "internal/db/cluster/gdb.h"
#include "internal/db/cluster/global_schema.h"
#include "internal/db/node/nodedb.h"
#include "internal/db/schema/schema.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"
#include "internal/lib/pool.h"
#include "internal/raft/raftnode.h"

/* The transport's admission of a certificate: members' only, once
 * clustered (a standalone member accepts no raft traffic). */
static enum transport_verdict raft_admit(void *data, const char *fingerprint)
{
	struct daemon *d = data;
	if (d->phase == CLUSTER_STANDALONE) {
		return TRANSPORT_NOT_CLUSTERED;
	}
	return cluster_is_member_fingerprint(d, fingerprint)
		   ? TRANSPORT_MEMBER
		   : TRANSPORT_NOT_MEMBER;
}

/* Members serve the cluster certificate. */
static enum transport_verdict raft_admit_server(void *data,
						const char *fingerprint)
{
	struct daemon *d = data;
	if (d->phase == CLUSTER_STANDALONE) {
		return TRANSPORT_NOT_CLUSTERED;
	}
	return fingerprint != NULL &&
		       strcmp(fingerprint, d->cluster_fingerprint) == 0
		   ? TRANSPORT_MEMBER
		   : TRANSPORT_NOT_MEMBER;
}

/* Another member refused this one: it was removed from the cluster. */
static void raft_refused(void *data, const char *address, const char *message)
{
	struct daemon *d = data;
	tm_errmsg_printf(d->cluster_message,
			 "refused by the member at %s (%s): this member was "
			 "removed from the cluster; to serve again, wipe its "
			 "state directory and join with a new token",
			 address, message);
}

/* Dial members at the address of the local member list, which follows
 * address changes (cluster_address.c) that raft's configuration does
 * not record. */
static bool raft_resolve(void *data, raft_id id, char *buf, size_t size)
{
	return cluster_member_address(data, id, buf, size);
}

/* Worker threads for SQL: one per concurrent read, plus one that stays
 * free for the leader's write batches (gdb_set_pool). */
#define GLOBAL_SQL_THREADS 5

/* Worker threads for the API's own work (queries on the local database,
 * backups): a pool of their own, so that they can never take the global
 * database's threads. */
#define API_THREADS 2

/* TM_APPLY=loop in the environment applies every committed entry on the
 * loop, as before the apply thread (for comparison; doc/architecture.md). */
static bool apply_on_loop(void)
{
	const char *mode = getenv("TM_APPLY");
	return mode != NULL && strcmp(mode, "loop") == 0;
}

int daemon_global_open(struct daemon *d, char *errmsg)
{
	char *db_path = tm_asprintf("%s/global.db", d->dir);
	char *raft_dir = tm_asprintf("%s/global", d->dir);
	char *address = cluster_raft_address(d);
	raft_id id = d->self.id;
	int rv = gdb_init(&d->gdb, d->loop, db_path, errmsg);
	if (rv != 0) {
		goto out;
	}
	/* Before raft starts: replaying the log at start fires them too. */
	gdb_watch(d->gdb, "config", daemon_config_watch_cb, d);
	gdb_watch(d->gdb, "certificates", daemon_trust_watch_cb, d);
	cluster_watch(d);
	daemon_global_limits(d);
	/* A reopen (cluster_reopen.c) keeps the pools. */
	rv = 0;
	if (d->pool == NULL) {
		rv = pool_init(&d->pool, d->loop, GLOBAL_SQL_THREADS);
	}
	if (rv == 0 && d->api_pool == NULL) {
		rv = pool_init(&d->api_pool, d->loop, API_THREADS);
	}
	if (rv != 0) {
		tm_errmsg_printf(errmsg, "cannot start the SQL worker threads");
		goto out;
	}
	rv = gdb_set_pool(d->gdb, d->pool, errmsg);
	if (rv != 0) {
		goto out;
	}
	struct transport_config transport = {
	    .client_ctx = d->tls_client_ctx,
	    .admit = raft_admit,
	    .admit_server = raft_admit_server,
	    .refused = raft_refused,
	    .resolve = raft_resolve,
	    .admit_data = d,
	};
	struct raftnode_options opts = {
	    .id = id,
	    .address = address,
	    .snapshot_threshold =
		(unsigned)config_get_int(d->config, "raft.snapshot_threshold"),
	    .snapshot_trailing =
		(unsigned)config_get_int(d->config, "raft.snapshot_trailing"),
	    .transport = &transport,
	    .bootstrap = !d->self.clustered,
	    .recover = d->recover_at_open,
	    .hold_vote = cluster_leases_enabled(),
	};
	d->recover_at_open = false;
	rv = raftnode_init(&d->raftnode, d->loop, raft_dir, &opts,
			   gdb_fsm(d->gdb), errmsg);
	if (rv != 0) {
		goto out;
	}
	gdb_set_raft(d->gdb, raftnode_raft(d->raftnode));
	cluster_confirm_attach(d);
	gdb_set_snapshot_threshold(d->gdb, opts.snapshot_threshold);
	gdb_set_snapshot_trailing(d->gdb, opts.snapshot_trailing);
	rv = raftnode_start(d->raftnode, errmsg);
	if (rv == 0 && !apply_on_loop()) {
		rv = gdb_lane_start(d->gdb, errmsg);
	}
	if (rv == 0) {
		LOGI("daemon: global database raft id %llu at %s",
		     (unsigned long long)id, address);
	}
out:
	tm_free(address);
	tm_free(raft_dir);
	tm_free(db_path);
	return rv;
}

void daemon_global_limits(struct daemon *d)
{
	if (d->gdb == NULL) {
		return;
	}
	struct gdb_limits limits = {
	    .timeout_ms =
		(unsigned)config_get_int(d->config, "core.query_timeout") *
		1000,
	    .max_result_bytes =
		(uint64_t)config_get_int(d->config, "core.max_response_size"),
	    .max_write_bytes =
		(uint64_t)config_get_int(d->config, "core.max_write_size"),
	};
	gdb_set_limits(d->gdb, &limits);
	/* Writes are refused below this much free disk space (by default
	 * room for raft to open its next two 32 MiB segments), so that a
	 * committed entry never meets a full disk when it is applied. */
	gdb_set_min_free_space(
	    d->gdb, (uint64_t)config_get_int(d->config, "core.min_free_space"));
}

/* ---- schema of the global database ----
 *
 * check: a linearizable read (a raft barrier) makes sure every entry in
 *        the log is applied, so the version read next is the cluster's;
 *        while no leader is known yet it is retried every 100 ms.
 * update: the missing updates' statements and version rows go out as one
 *        transaction write, replicated like any other. */

struct schema_upgrade {
	struct daemon *d;
	struct gdb_request req;
	struct gdb_stmt *stmts;
	size_t n;
	int from;
	uv_timer_t retry;
};

static struct gdb_stmt barrier_stmt = {.sql = "SELECT 1"};

static void upgrade_closed_cb(uv_handle_t *h)
{
	struct schema_upgrade *u = h->data;
	gdb_request_clear(&u->req);
	for (size_t i = 0; i < u->n; i++) {
		tm_free(u->stmts[i].sql);
	}
	tm_free(u->stmts);
	tm_free(u);
}

static void upgrade_finish(struct schema_upgrade *u, int status,
			   const char *errmsg)
{
	struct daemon *d = u->d;
	d->schema_upgrade = NULL;
	uv_close((uv_handle_t *)&u->retry, upgrade_closed_cb);
	if (status != 0) {
		LOGE("daemon: global database schema: %s", errmsg);
		d->exit_code = 1;
		daemon_stop(d);
		return;
	}
	daemon_global_ready(d);
}

static void write_cb(struct gdb_request *req, int status)
{
	struct schema_upgrade *u = req->data;
	if (status == 0) {
		LOGI("daemon: global schema updated from version %d to %zu",
		     u->from, global_schema()->n_updates);
	}
	char errmsg[TM_ERRMSG_SIZE];
	tm_errmsg_printf(errmsg, "update from version %d: %s", u->from,
			 req->errmsg);
	upgrade_finish(u, status, errmsg);
}

static int submit_updates(struct schema_upgrade *u, char *errmsg)
{
	const struct schema *s = global_schema();
	int version;
	int rv = schema_version(gdb_exec_conn(u->d->gdb), &version, errmsg);
	if (rv != 0) {
		return rv;
	}
	if (version == (int)s->n_updates) {
		return TM_EXISTS; /* up to date */
	}
	char **sql;
	rv = schema_statements(s, version, &sql, &u->n, errmsg);
	if (rv != 0) {
		return rv; /* TM_NEWER says "upgrade thermionicd" */
	}
	u->from = version;
	u->stmts = tm_calloc(u->n, sizeof *u->stmts);
	for (size_t i = 0; i < u->n; i++) {
		u->stmts[i].sql = tm_strdup(sql[i]);
	}
	schema_statements_free(sql);
	gdb_request_clear(&u->req);
	memset(&u->req, 0, sizeof u->req);
	u->req.data = u;
	u->req.stmts = u->stmts;
	u->req.n_stmts = u->n;
	u->req.transaction = true;
	gdb_write(u->d->gdb, &u->req, write_cb);
	return 0;
}

static void check(struct schema_upgrade *u);
static void follower_check(struct schema_upgrade *u);

static void retry_cb(uv_timer_t *t) { check(t->data); }

static void check_cb(struct gdb_request *req, int status)
{
	struct schema_upgrade *u = req->data;
	char errmsg[TM_ERRMSG_SIZE] = "";
	if (u->d->state != DAEMON_STARTING && u->d->state != DAEMON_JOINING) {
		upgrade_finish(u, TM_SHUTDOWN, "stopped while starting");
		return;
	}
	if (status == TM_NOTLEADER && u->d->self.clustered) {
		follower_check(u);
		return;
	}
	if (status == TM_NOTLEADER) {
		LOGD("daemon: waiting for a raft leader: %s", req->errmsg);
		uv_timer_start(&u->retry, retry_cb, 100, 0);
		return;
	}
	if (status != 0) {
		upgrade_finish(u, status, req->errmsg);
		return;
	}
	int rv = submit_updates(u, errmsg);
	if (rv == TM_EXISTS) {
		upgrade_finish(u, 0, NULL);
	} else if (rv != 0) {
		upgrade_finish(u, rv, errmsg);
	}
}

/* A follower neither updates the schema nor serves linearizable reads:
 * it is ready once it knows a leader and has applied what the leader
 * said was committed (and what it had to reach when it joined), with the
 * schema its binary knows. An older schema is the leader's to update:
 * wait for it. */
static void follower_check(struct schema_upgrade *u)
{
	struct daemon *d = u->d;
	struct raft *r = raftnode_raft(d->raftnode);
	raft_id leader_id;
	const char *leader_address;
	raft_leader(r, &leader_id, &leader_address);
	raft_index applied = gdb_applied_index(d->gdb);
	raft_index target = r->commit_index;
	if (d->join_target > target) {
		target = d->join_target;
	}
	if (leader_id == 0 || target == 0 || applied < target) {
		if (leader_id == 0) {
			tm_errmsg_printf(d->cluster_message,
					 "waiting for a leader");
		} else {
			tm_errmsg_printf(d->cluster_message,
					 "catching up: applied %llu of %llu "
					 "entries",
					 (unsigned long long)applied,
					 (unsigned long long)target);
		}
		uv_timer_start(&u->retry, retry_cb, 50, 0);
		return;
	}
	char errmsg[TM_ERRMSG_SIZE];
	int version;
	int rv = schema_version(gdb_exec_conn(d->gdb), &version, errmsg);
	if (rv != 0) {
		upgrade_finish(u, rv, errmsg);
		return;
	}
	int known = (int)global_schema()->n_updates;
	if (version > known) {
		tm_errmsg_printf(errmsg,
				 "the cluster's global schema is version %d, "
				 "newer than this thermionicd knows (%d): "
				 "upgrade thermionicd",
				 version, known);
		upgrade_finish(u, TM_NEWER, errmsg);
		return;
	}
	if (version < known) {
		tm_errmsg_printf(d->cluster_message,
				 "waiting for the leader to update the global "
				 "schema from version %d to %d",
				 version, known);
		uv_timer_start(&u->retry, retry_cb, 100, 0);
		return;
	}
	upgrade_finish(u, 0, NULL);
}

static void check(struct schema_upgrade *u)
{
	if (u->d->self.clustered &&
	    raft_state(raftnode_raft(u->d->raftnode)) != RAFT_LEADER) {
		follower_check(u);
		return;
	}
	gdb_request_clear(&u->req);
	memset(&u->req, 0, sizeof u->req);
	u->req.data = u;
	u->req.stmts = &barrier_stmt;
	u->req.n_stmts = 1;
	u->req.level = GDB_READ_LINEARIZABLE;
	gdb_read(u->d->gdb, &u->req, check_cb);
}

/* Test-only: TM_TEST_START_DELAY_MS=N in the environment holds a
 * member that starts in STARTING N ms longer (its first schema check
 * waits that long), so that system tests can reach a member that is
 * elected before it is ready (test_cluster.sh). Off when unset. */
static uint64_t start_delay_ms(void)
{
	const char *v = getenv("TM_TEST_START_DELAY_MS");
	return v != NULL ? strtoull(v, NULL, 10) : 0;
}

void daemon_global_schema(struct daemon *d)
{
	struct schema_upgrade *u = tm_calloc(1, sizeof *u);
	u->d = d;
	uv_timer_init(d->loop, &u->retry);
	u->retry.data = u;
	d->schema_upgrade = u;
	uint64_t delay = d->state == DAEMON_STARTING ? start_delay_ms() : 0;
	if (delay > 0) {
		LOGI("daemon: TM_TEST_START_DELAY_MS: ready %llu ms later",
		     (unsigned long long)delay);
		uv_timer_start(&u->retry, retry_cb, delay, 0);
		return;
	}
	check(u);
}

void daemon_global_schema_cancel(struct daemon *d)
{
	struct schema_upgrade *u = d->schema_upgrade;
	if (u != NULL && uv_is_active((uv_handle_t *)&u->retry)) {
		uv_timer_stop(&u->retry);
		upgrade_finish(u, TM_SHUTDOWN, "stopped while starting");
	}
}

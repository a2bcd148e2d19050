/* Setting up and closing the global database: its connections, the
 * worker pool, limits, and the asynchronous close that waits for running
 * jobs. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal/db/cluster/gdb_private.h"
#include "internal/lib/assert.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"

#define STR_(x) #x
#define STR(x) STR_(x)
#define PAGE_SIZE_SQL "PRAGMA page_size = " STR(GDB_PAGE_SIZE)

/* Setup. */

static int remove_file(const char *path, const char *suffix, char *errmsg)
{
	char *name = tm_asprintf("%s%s", path, suffix);
	int rv = 0;
	if (unlink(name) != 0 && errno != ENOENT) {
		tm_errmsg_printf(errmsg, "remove %s: %s", name,
				 strerror(errno));
		rv = TM_IO;
	}
	tm_free(name);
	return rv;
}

/* The apply connection: the only one that commits. Triggers and foreign
 * keys are off (the changesets hold their effects), and so are CHECK
 * constraints: the leader validated every row it committed. Not DEFENSIVE,
 * which would make the shadow tables of virtual tables (FTS5) read-only for
 * changeset apply. */
static int open_apply(struct gdb *g, char *errmsg)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
		    SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
	char *err = NULL;
	int rc = sqlite3_open_v2(g->path, &g->apply, flags, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(g->apply, GDB_BUSY_TIMEOUT_MS);
		rc = sqlite3_exec(g->apply,
				  PAGE_SIZE_SQL
				  "; PRAGMA journal_mode = WAL; "
				  "PRAGMA synchronous = OFF; "
				  "PRAGMA foreign_keys = OFF; "
				  "PRAGMA ignore_check_constraints = ON",
				  NULL, NULL, &err);
	}
	if (rc != SQLITE_OK) {
		tm_errmsg_printf(errmsg, "open %s: %s", g->path,
				 err != NULL ? err : sqlite3_errmsg(g->apply));
		sqlite3_free(err);
		sqlite3_close(g->apply);
		g->apply = NULL;
		return rc == SQLITE_CANTOPEN ? TM_IO : TM_DB;
	}
	sqlite3_db_config(g->apply, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, NULL);
	return gdb_sql_prepare_all(g->apply, g->apply_sql, errmsg);
}

/* Every commit on the exec connection becomes a rollback. */
static int refuse_commit(void *arg)
{
	(void)arg;
	LOGE("gdb: refused a commit on the exec connection");
	return 1;
}

#define READER_FLAGS SQLITE_OPEN_READONLY
#define READER_SETUP "PRAGMA query_only = ON; PRAGMA foreign_keys = ON"

static int open_readers(struct gdb *g, unsigned n, char *errmsg)
{
	g->readers = tm_calloc(n, sizeof *g->readers);
	g->n_readers = n;
	for (unsigned i = 0; i < n; i++) {
		struct gdb_conn *c = &g->readers[i];
		int rv = gdb_conn_open(c, g->path, READER_FLAGS, READER_SETUP,
				       errmsg);
		if (rv != 0) {
			return rv;
		}
		c->g = g;
		c->length_key = "core.max_response_size";
		c->next = g->free_readers;
		g->free_readers = c;
	}
	return 0;
}

static void close_readers(struct gdb *g)
{
	for (unsigned i = 0; i < g->n_readers; i++) {
		gdb_conn_close(&g->readers[i]);
	}
	tm_free(g->readers);
	g->readers = NULL;
	g->n_readers = 0;
	g->free_readers = NULL;
}

static void close_databases(struct gdb *g)
{
	close_readers(g);
	gdb_snap_close(g);
	gdb_check_close(g);
	gdb_conn_close(&g->route);
	gdb_conn_close(&g->exec);
	gdb_shapes_clear(&g->shapes);
	gdb_sql_finalize_all(g->apply_sql);
	sqlite3_close(g->apply);
	g->apply = NULL;
}

static int open_databases(struct gdb *g, char *errmsg)
{
	int rv = open_apply(g, errmsg);
	if (rv == 0) {
		rv = gdb_conn_open(&g->exec, g->path, SQLITE_OPEN_READWRITE,
				   "PRAGMA synchronous = OFF; "
				   "PRAGMA foreign_keys = ON",
				   errmsg);
	}
	if (rv == 0) {
		g->exec.g = g;
		g->exec.length_key = "core.max_write_size";
		sqlite3_commit_hook(g->exec.db, refuse_commit, NULL);
		gdb_record_install(&g->exec);
		rv = gdb_conn_open(&g->route, g->path, READER_FLAGS,
				   READER_SETUP, errmsg);
		g->route.g = g;
	}
	if (rv == 0) {
		rv = gdb_snap_open(g, errmsg);
	}
	if (rv == 0) {
		rv = gdb_check_open(g, errmsg);
	}
	if (rv == 0) {
		/* Without a pool, reads run on the loop: one reader. */
		rv = open_readers(g, 1, errmsg);
	}
	if (rv != 0) {
		close_databases(g);
	}
	return rv;
}

int gdb_init(struct gdb **out, uv_loop_t *loop, const char *db_path,
	     char *errmsg)
{
	struct gdb *g = tm_calloc(1, sizeof *g);
	int rv;

	g->loop = loop;
	g->path = tm_strdup(db_path);
	g->dir = tm_strdup(db_path);
	char *slash = strrchr(g->dir, '/');
	if (slash == NULL) {
		strcpy(g->dir, ".");
	} else {
		slash[slash == g->dir ? 1 : 0] = '\0';
	}
	rv = remove_file(db_path, "", errmsg);
	if (rv == 0) {
		rv = remove_file(db_path, "-wal", errmsg);
	}
	if (rv == 0) {
		rv = remove_file(db_path, "-shm", errmsg);
	}
	if (rv == 0) {
		rv = open_databases(g, errmsg);
	}
	if (rv != 0) {
		tm_free(g->dir);
		tm_free(g->path);
		tm_free(g);
		return rv;
	}
	g->shapes.db = g->apply;
	gdb_chain_init(&g->chain);
	pthread_mutex_init(&g->exec_mutex, NULL);
	pthread_cond_init(&g->exec_cond, NULL);
	uv_idle_init(loop, &g->idle);
	g->idle.data = g;
	uv_timer_init(loop, &g->reserve_timer);
	g->reserve_timer.data = g;
	gdb_lane_init(g);
	g->fsm.version = 3;
	g->fsm.data = g;
	g->fsm.apply = gdb_fsm_apply;
	g->fsm.snapshot = gdb_fsm_snapshot;
	g->fsm.snapshot_finalize = gdb_fsm_snapshot_finalize;
	g->fsm.restore = gdb_fsm_restore;
	g->fsm.snapshot_async = gdb_fsm_snapshot_async;
	*out = g;
	return 0;
}

int gdb_set_pool(struct gdb *g, struct pool *pool, char *errmsg)
{
	PRE(g->pool == NULL && pool != NULL);
	PRE(g->readers_busy == 0 && !g->batch_running);
	close_readers(g);
	int rv = open_readers(g, pool_threads(pool), errmsg);
	if (rv != 0) {
		close_readers(g);
		return open_readers(g, 1, errmsg) == 0 ? rv : TM_DB;
	}
	g->pool = pool;
	return 0;
}

void gdb_set_limits(struct gdb *g, const struct gdb_limits *limits)
{
	/* Connection limits are set when a connection is next handed to a
	 * job (submit_exec, start_read), never under a running worker. */
	g->limits = *limits;
}

struct raft_fsm *gdb_fsm(struct gdb *g) { return &g->fsm; }

void gdb_set_raft(struct gdb *g, struct raft *raft)
{
	PRE(g->raft == NULL && raft != NULL);
	g->raft = raft;
}

sqlite3 *gdb_exec_conn(struct gdb *g) { return g->route.db; }

sqlite3 *gdb_batch_conn(struct gdb *g) { return g->exec.db; }

const char *gdb_path(struct gdb *g) { return g->path; }

void gdb_get_stats(struct gdb *g, struct gdb_stats *out)
{
	*out = g->stats;
	gdb_lane_published(g, out);
}

void gdb_set_min_free_space(struct gdb *g, uint64_t bytes)
{
	g->min_free_bytes = bytes;
}

/* Close. */

/* Every handle closed (the idle, the reserve's timer, the lane's async):
 * the last frees. */
static void idle_close_cb(uv_handle_t *handle)
{
	struct gdb *g = handle->data;
	if (--g->handles_closing > 0) {
		return;
	}
	gdb_close_cb cb = g->close_cb;
	void *arg = g->close_arg;

	gdb_deliver(g);
	close_databases(g);
	pthread_cond_destroy(&g->exec_cond);
	pthread_mutex_destroy(&g->exec_mutex);
	gdb_watch_release(g);
	gdb_lane_free(g);
	gdb_chain_free(&g->chain);
	tm_free(g->dir);
	tm_free(g->path);
	tm_free(g);
	if (cb != NULL) {
		cb(arg);
	}
}

void gdb_maybe_closed(struct gdb *g)
{
	if (!g->closing || g->batch_running || g->readers_busy > 0 ||
	    g->check.running ||
	    uv_is_closing((uv_handle_t *)&g->idle)) {
		return;
	}
	uv_idle_stop(&g->idle);
	g->handles_closing = 3;
	gdb_lane_close(g, idle_close_cb);
	uv_close((uv_handle_t *)&g->reserve_timer, idle_close_cb);
	uv_close((uv_handle_t *)&g->idle, idle_close_cb);
}

void gdb_close(struct gdb *g, gdb_close_cb cb, void *arg)
{
	PRE(!g->closing);
	/* Entries raft applied are in the database before anything else. */
	gdb_lane_stop(g);
	/* raft must be closed first: it fails what it still holds. */
	PRE(!g->apply_inflight && !g->catchup_inflight &&
	    !g->read_barrier_inflight);
	g->closing = true;
	g->close_cb = cb;
	g->close_arg = arg;
	gdb_fail_queue(g, &g->writes, TM_SHUTDOWN,
		       "shutting down; the write was not proposed");
	gdb_fail_reads(g, TM_SHUTDOWN, "shutting down");
	/* Running jobs stop at their next progress check. */
	atomic_store(&g->exec.stop, GDB_STOP_SHUTDOWN);
	atomic_store(&g->check.stop, true);
	for (unsigned i = 0; i < g->n_readers; i++) {
		atomic_store(&g->readers[i].stop, GDB_STOP_SHUTDOWN);
	}
	gdb_maybe_closed(g);
}

/* Connections that run user statements, and the bounds of what runs on
 * them.
 *
 * Every user statement runs under a progress handler that SQLite calls every
 * GDB_PROGRESS_OPS virtual machine instructions. It interrupts the statement
 * (SQLITE_INTERRUPT) when:
 * - the loop asked the connection to stop (conn->stop: the module closes,
 *   or an apply needs the write lock that a batch holds);
 * - the running request was canceled (its client went away);
 * - the statement's deadline passed (the request's timeout);
 * - the row changes a write statement recorded grew past max_write_bytes;
 * - a batch tried on the loop passed its budget (gdb.c runs it again on a
 *   worker).
 * Unlike sqlite3_interrupt(), these conditions stay true between
 * statements, so nothing that starts after them runs long either.
 * conn->why says which one fired; gdb_conn_stop_message() turns it into the
 * statement's error. */
#include <string.h>
#include <time.h>

#include "internal/db/cluster/gdb_private.h"
#include "internal/lib/mem.h"

#define GDB_PROGRESS_OPS 1000

uint64_t gdb_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int progress_cb(void *arg)
{
	struct gdb_conn *c = arg;
	if (c->quiet) {
		return 0;
	}
	int stop = atomic_load_explicit(&c->stop, memory_order_relaxed);
	if (stop != GDB_STOP_NONE) {
		c->why = (enum gdb_stop)stop;
		return 1;
	}
	if (c->budget_ns != 0 && gdb_now_ns() > c->budget_ns) {
		c->why = GDB_STOP_BUDGET;
		c->budget_hit = true;
		return 1;
	}
	if (c->req != NULL &&
	    atomic_load_explicit(&c->req->canceled, memory_order_relaxed)) {
		c->why = GDB_STOP_CANCELED;
		return 1;
	}
	if (c->deadline_ns != 0 && gdb_now_ns() > c->deadline_ns) {
		c->why = GDB_STOP_TIMEOUT;
		return 1;
	}
	if (c->max_write_bytes != 0 &&
	    (uint64_t)gdb_record_size(c) > c->max_write_bytes) {
		c->why = GDB_STOP_TOOBIG;
		return 1;
	}
	return 0;
}

int gdb_conn_open(struct gdb_conn *c, const char *path, int flags,
		  const char *setup, char *errmsg)
{
	char *err = NULL;
	memset(c, 0, sizeof *c);
	int rc = sqlite3_open_v2(
	    path, &c->db, flags | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
	    NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(c->db, GDB_BUSY_TIMEOUT_MS);
		sqlite3_db_config(c->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
		sqlite3_limit(c->db, SQLITE_LIMIT_ATTACHED, 0);
		rc = sqlite3_exec(c->db, setup, NULL, NULL, &err);
	}
	if (rc == SQLITE_OK) {
		gdb_auth_install(c);
		sqlite3_progress_handler(c->db, GDB_PROGRESS_OPS, progress_cb,
					 c);
		rc = gdb_sql_prepare_all(c->db, c->sql, errmsg);
		if (rc != 0) {
			sqlite3_close(c->db);
			c->db = NULL;
			return rc;
		}
	}
	if (rc != SQLITE_OK) {
		tm_errmsg_printf(errmsg, "open %s: %s", path,
				 err != NULL ? err : sqlite3_errmsg(c->db));
		sqlite3_free(err);
		sqlite3_close(c->db);
		c->db = NULL;
		return rc == SQLITE_CANTOPEN ? TM_IO : TM_DB;
	}
	c->shapes.db = c->db;
	return 0;
}

void gdb_conn_close(struct gdb_conn *c)
{
	if (c->db == NULL) {
		return;
	}
	gdb_cache_flush(c);
	gdb_shapes_clear(&c->shapes);
	gdb_record_release(c);
	gdb_sql_finalize_all(c->sql);
	sqlite3_close(c->db);
	c->db = NULL;
}

void gdb_conn_sync_schema(struct gdb *g, struct gdb_conn *c)
{
	uint64_t gen = atomic_load(&g->schema_gen);
	if (c->schema_gen != gen) {
		gdb_cache_flush(c);
		gdb_shapes_clear(&c->shapes);
		c->schema_gen = gen;
	}
}

void gdb_conn_collect_stats(struct gdb *g, struct gdb_conn *c)
{
	g->stats.stmt_cache_hits += c->cache_hits;
	g->stats.stmt_cache_misses += c->cache_misses;
	c->cache_hits = 0;
	c->cache_misses = 0;
}

void gdb_conn_bound(struct gdb_conn *c, struct gdb_request *req,
		    unsigned default_timeout_ms)
{
	unsigned ms = req != NULL && req->timeout_ms != 0 ? req->timeout_ms
							  : default_timeout_ms;
	c->req = req;
	c->timeout_ms = ms;
	c->deadline_ns = ms != 0 ? gdb_now_ns() + (uint64_t)ms * 1000000u : 0;
	c->why = GDB_STOP_NONE;
}

void gdb_conn_unbound(struct gdb_conn *c)
{
	c->req = NULL;
	c->deadline_ns = 0;
}

int gdb_conn_run_quiet(struct gdb_conn *c, int which)
{
	c->quiet = true;
	int rc = gdb_sql_run(c->sql, which);
	c->quiet = false;
	return rc;
}

bool gdb_conn_interrupted(const struct gdb_conn *c, int rc)
{
	return (rc & 0xff) == SQLITE_INTERRUPT && c->why != GDB_STOP_NONE;
}

int gdb_conn_stop_message(const struct gdb_conn *c, char *buf, size_t size)
{
	switch (c->why) {
	case GDB_STOP_TIMEOUT:
		snprintf(buf, size,
			 "interrupted: the statement ran longer than its "
			 "timeout of %u ms (core.query_timeout; a request may "
			 "ask for another with \"timeout\", up to "
			 "core.max_query_timeout)",
			 c->timeout_ms);
		return TM_TIMEOUT;
	case GDB_STOP_CANCELED:
		snprintf(buf, size,
			 "interrupted: the client went away; nothing was "
			 "applied");
		return TM_CANCELED;
	case GDB_STOP_TOOBIG:
		snprintf(buf, size,
			 "the write's changes grew past core.max_write_size "
			 "(%llu bytes); split it into smaller requests",
			 (unsigned long long)c->max_write_bytes);
		return TM_TOOBIG;
	case GDB_STOP_BUDGET:
		snprintf(buf, size,
			 "interrupted on the loop, to run again on a worker");
		return TM_BUSY;
	case GDB_STOP_SHUTDOWN:
	default:
		snprintf(buf, size,
			 "interrupted: the member is shutting down or lost "
			 "leadership; nothing was applied");
		return TM_SHUTDOWN;
	}
}

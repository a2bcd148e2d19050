/* The statement cache: user statements prepared once on the exec connection
 * and reused by their SQL text.
 *
 * Parsing and code generation (sqlite3_prepare) was the largest single cost
 * of a small write: the API prepared each statement to decide between
 * gdb_read and gdb_write, and the batch prepared it again to run it. Both
 * now go through gdb_exec_prepare() (exec.c), which looks here first.
 *
 * What is cached: statements that prepared cleanly under the authorizer
 * and are not schema statements. The authorizer records nothing about such
 * a statement at prepare time (it only classifies schema statements and
 * refuses others), so a cached statement needs no per-prepare state. The
 * authorizer stays installed on the connection (auth.c), so what SQLite
 * asks it while a cached statement runs still reaches the current context.
 * Schema statements are never cached: what the authorizer collects while
 * preparing them drives the batch, and they are rare.
 *
 * Schema changes: a statement prepared with sqlite3_prepare_v3() is
 * re-prepared by SQLite when it is next stepped after the schema changed
 * (and the authorizer is asked again then). On top of that, the cache is
 * emptied whenever a committed entry changes the schema (SQL item, restore,
 * snapshot): entries do not outlive the tables they name. A connection's
 * cache is emptied on the loop while the connection is idle, before its
 * next job (gdb_conn_sync_schema), never under a running worker.
 *
 * Lifetime: an entry is "in use" from gdb_exec_prepare() to
 * gdb_exec_release(), which resets it and clears its bindings. An entry in
 * use is never evicted; asking for the same SQL while its entry is in use
 * gets a private statement instead. Least recently used entries are evicted
 * when the cache is full. gdb_cache_flush() finalizes every entry; it runs
 * before the connection closes. */
#include <string.h>

#include "internal/db/cluster/gdb_private.h"
#include "internal/lib/assert.h"
#include "internal/lib/mem.h"

/* FNV-1a: cheap, and only used to skip most string comparisons. */
static uint64_t hash_sql(const char *sql, size_t len)
{
	uint64_t h = 14695981039346656037ULL;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)sql[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static struct gdb_cached *find(struct gdb_cache *c, const char *sql, size_t len,
			       uint64_t hash)
{
	for (size_t i = 0; i < c->n; i++) {
		struct gdb_cached *e = &c->v[i];
		if (e->hash == hash && e->len == len &&
		    memcmp(e->sql, sql, len) == 0) {
			return e;
		}
	}
	return NULL;
}

static void drop(struct gdb_cached *e)
{
	PRE(!e->in_use);
	sqlite3_finalize(e->st);
	tm_free(e->sql);
	memset(e, 0, sizeof *e);
}

sqlite3_stmt *gdb_cache_get(struct gdb_conn *conn, const char *sql)
{
	struct gdb_cache *c = &conn->cache;
	size_t len = strlen(sql);
	struct gdb_cached *e = find(c, sql, len, hash_sql(sql, len));
	if (e == NULL || e->in_use) {
		conn->cache_misses++;
		return NULL;
	}
	e->in_use = true;
	e->used = ++c->clock;
	conn->cache_hits++;
	return e->st;
}

/* A free slot, or the least recently used entry not in use, emptied. */
static struct gdb_cached *make_room(struct gdb_cache *c)
{
	if (c->n < GDB_CACHE_SIZE) {
		return &c->v[c->n++];
	}
	struct gdb_cached *victim = NULL;
	for (size_t i = 0; i < c->n; i++) {
		struct gdb_cached *e = &c->v[i];
		if (!e->in_use && (victim == NULL || e->used < victim->used)) {
			victim = e;
		}
	}
	if (victim != NULL) {
		drop(victim);
	}
	return victim;
}

bool gdb_cache_put(struct gdb_conn *conn, const char *sql, sqlite3_stmt *st)
{
	struct gdb_cache *c = &conn->cache;
	size_t len = strlen(sql);
	uint64_t hash = hash_sql(sql, len);
	if (find(c, sql, len, hash) != NULL) {
		return false; /* the entry is in use: ST stays private */
	}
	struct gdb_cached *e = make_room(c);
	if (e == NULL) {
		return false;
	}
	e->sql = tm_strndup(sql, len);
	e->len = len;
	e->hash = hash;
	e->st = st;
	e->used = ++c->clock;
	e->in_use = true;
	return true;
}

static struct gdb_cached *find_stmt(struct gdb_cache *c, sqlite3_stmt *st)
{
	for (size_t i = 0; i < c->n; i++) {
		if (c->v[i].st == st) {
			return &c->v[i];
		}
	}
	return NULL;
}

void gdb_exec_release(struct gdb_conn *conn, sqlite3_stmt *st)
{
	if (st == NULL) {
		return;
	}
	struct gdb_cached *e = find_stmt(&conn->cache, st);
	if (e == NULL) {
		sqlite3_finalize(st);
		return;
	}
	PRE(e->in_use);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	e->in_use = false;
}

void gdb_cache_flush(struct gdb_conn *conn)
{
	struct gdb_cache *c = &conn->cache;
	for (size_t i = 0; i < c->n; i++) {
		drop(&c->v[i]);
	}
	c->n = 0;
}

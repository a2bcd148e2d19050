/* Applying committed entries: the raft_fsm apply method.
 *
 * Every member, the leader included, applies each committed entry on the
 * apply connection in one transaction: SQL items with sqlite3_step, ROWS
 * items change by change (apply_rows.c), and the changesets of entries
 * written before format version 3 with sqlite3changeset_apply_v2. The leader
 * computed every item against exactly the state that precedes it here, so
 * nothing can conflict. Nothing the leader validated is evaluated again:
 * triggers, foreign keys and CHECK constraints are off on the apply connection
 * (gdb.c), so a CHECK that calls random() keeps the rows the leader accepted.
 * Any conflict, a table missing or shaped differently than the changeset
 * says, an undecodable entry, or any failure to apply, means this member's
 * database no longer matches the log: the process stops loudly (tm_panic,
 * SIGABRT) naming the entry and the table, and never skips the change. A
 * restart rebuilds the database from the snapshot and the log. A COMMIT
 * that finds the disk full is not divergence: the entry is applied again
 * in the space of the apply reserve (reserve.c), and a member still out of
 * space stops saying the disk is full.
 *
 * A RESTORE entry replaces the whole database with its image, exactly as a
 * snapshot is installed (snapshot.c); the leader checked and normalised the
 * image before proposing it, so failing to load it is divergence too.
 *
 * An old changeset holding a single change is
 * applied with statements prepared once per table (apply_one.c), which has
 * the same effect and the same checks as sqlite3changeset_apply_v2() at a
 * tenth of the cost; anything it does not apply, it leaves to
 * sqlite3changeset_apply_v2(), conflicts included.
 *
 * Before a changeset is applied, every table it names is checked against
 * the shape cached by shapes.c.
 *
 * A CHECK entry changes nothing: it starts this member's content hash at
 * that index (check.c). Every entry, whatever its type, extends the hash
 * chain (chain.h) on the loop, in raft's order, before it is applied; the
 * apply itself runs on the loop or on the apply thread (lane.c), one entry
 * at a time in the log's order either way. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdnoreturn.h>
#include <string.h>

#include "internal/db/cluster/gdb_private.h"
#include "internal/lib/assert.h"
#include "internal/lib/log.h"

struct apply_ctx {
	struct gdb *g;
	unsigned long long index; /* raft index of the entry */
	size_t request;		  /* position in the entry, for messages */
	size_t item;
	bool restore; /* a RESTORE entry: no requests nor items */
};

static noreturn void diverged(const struct apply_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Did the last statement on DB fail for lack of disk space? */
static bool disk_full(sqlite3 *db)
{
	return (sqlite3_extended_errcode(db) & 0xff) == SQLITE_FULL ||
	       sqlite3_system_errno(db) == ENOSPC;
}

static noreturn void diverged(const struct apply_ctx *ctx, const char *fmt, ...)
{
	char what[1024];
	char where[64];
	char line[1400];
	va_list args;
	va_start(args, fmt);
	vsnprintf(what, sizeof what, fmt, args);
	va_end(args);
	if (ctx->restore) {
		snprintf(where, sizeof where, "restore of the database");
	} else {
		snprintf(where, sizeof where, "request %zu, item %zu",
			 ctx->request + 1, ctx->item + 1);
	}
	if (disk_full(ctx->g->apply)) {
		/* Not divergence: nothing of the entry was kept, and the
		 * log still holds it. */
		snprintf(line, sizeof line,
			 "disk full in %s: entry %llu (%s) cannot be applied: "
			 "%s; stopping this member: free disk space, then "
			 "start it again (its database is rebuilt from the "
			 "log)",
			 ctx->g->dir, ctx->index, where, what);
	} else {
		snprintf(line, sizeof line,
			 "global database diverged: entry %llu (%s): %s; "
			 "stopping this member, its database must be rebuilt "
			 "from the cluster",
			 ctx->index, where, what);
	}
	LOGE("gdb: %s", line);
	tm_panic(__FILE__, __LINE__, line);
}

static const char *conflict_name(int type)
{
	switch (type) {
	case SQLITE_CHANGESET_DATA:
		return "DATA (the row's current values differ)";
	case SQLITE_CHANGESET_NOTFOUND:
		return "NOTFOUND (the row does not exist)";
	case SQLITE_CHANGESET_CONFLICT:
		return "CONFLICT (the row already exists)";
	case SQLITE_CHANGESET_CONSTRAINT:
		return "CONSTRAINT (a constraint failed)";
	case SQLITE_CHANGESET_FOREIGN_KEY:
		return "FOREIGN_KEY";
	default:
		return "unknown";
	}
}

static const char *op_name(int op)
{
	return op == SQLITE_INSERT   ? "INSERT"
	       : op == SQLITE_UPDATE ? "UPDATE"
				     : "DELETE";
}

/* Text of the first primary key column of the conflicting change. */
static void describe_key(sqlite3_changeset_iter *it, int op, char *out,
			 size_t size)
{
	unsigned char *pk = NULL;
	int n_cols = 0;
	snprintf(out, size, "?");
	if (sqlite3changeset_pk(it, &pk, &n_cols) != SQLITE_OK) {
		return;
	}
	for (int c = 0; c < n_cols; c++) {
		sqlite3_value *v = NULL;
		if (!pk[c]) {
			continue;
		}
		int rc = op == SQLITE_INSERT ? sqlite3changeset_new(it, c, &v)
					     : sqlite3changeset_old(it, c, &v);
		if (rc == SQLITE_OK && v != NULL) {
			const unsigned char *text = sqlite3_value_text(v);
			snprintf(out, size, "%.64s",
				 text != NULL ? (const char *)text : "NULL");
		}
		return;
	}
}

static int conflict_cb(void *arg, int type, sqlite3_changeset_iter *it)
{
	const struct apply_ctx *ctx = arg;
	const char *table = "?";
	int n_cols = 0;
	int op = 0;
	int indirect = 0;
	char key[80];
	sqlite3changeset_op(it, &table, &n_cols, &op, &indirect);
	describe_key(it, op, key, sizeof key);
	diverged(ctx,
		 "%s of the row with key %s in table \"%s\" met a %s "
		 "conflict",
		 op_name(op), key, table, conflict_name(type));
}

/* Does TABLE exist on the apply connection with the changeset's shape?
 * sqlite3changeset_apply would silently skip its changes otherwise. */
static void check_table(const struct apply_ctx *ctx, const char *table,
			int n_cols, const unsigned char *pk)
{
	struct gdb_shape *shape = NULL;
	int rc = gdb_shapes_get(&ctx->g->shapes, table, &shape);
	if (rc != SQLITE_OK) {
		diverged(ctx, "checking table \"%s\": %s", table,
			 sqlite3_errstr(rc));
	}
	if (shape == NULL) {
		diverged(ctx,
			 "changeset for table \"%s\", which does not "
			 "exist here",
			 table);
	}
	bool same_pk = shape->n_cols == n_cols;
	for (int c = 0; same_pk && c < n_cols; c++) {
		same_pk = (shape->pk[c] != 0) == (pk[c] != 0);
	}
	if (!same_pk) {
		diverged(ctx,
			 "changeset for table \"%s\" has %d columns and "
			 "another primary key than the table here (%d "
			 "columns)",
			 table, n_cols, shape->n_cols);
	}
}

/* Check every table the changeset names; returns its number of changes. */
static size_t check_changeset_tables(const struct apply_ctx *ctx,
				     const struct gdb_item *item)
{
	sqlite3_changeset_iter *it;
	char last[256] = "";
	size_t n_changes = 0;
	int rc =
	    sqlite3changeset_start(&it, (int)item->len, (void *)item->data);
	if (rc != SQLITE_OK) {
		diverged(ctx, "cannot read changeset: %s", sqlite3_errstr(rc));
	}
	while ((rc = sqlite3changeset_next(it)) == SQLITE_ROW) {
		const char *table;
		int n_cols;
		int op;
		int indirect;
		unsigned char *pk;
		n_changes++;
		sqlite3changeset_op(it, &table, &n_cols, &op, &indirect);
		if (strcmp(table, last) == 0) {
			continue;
		}
		snprintf(last, sizeof last, "%s", table);
		sqlite3changeset_pk(it, &pk, &n_cols);
		check_table(ctx, table, n_cols, pk);
		gdb_watch_touch(ctx->g, table);
	}
	int rc2 = sqlite3changeset_finalize(it);
	if (rc != SQLITE_DONE || rc2 != SQLITE_OK) {
		diverged(ctx, "corrupt changeset: %s",
			 sqlite3_errstr(rc != SQLITE_DONE ? rc : rc2));
	}
	return n_changes;
}

static void apply_changeset_bytes(struct apply_ctx *ctx, const void *data,
				  size_t len)
{
	int rc = sqlite3changeset_apply_v2(
	    ctx->g->apply, (int)len, (void *)data, NULL, conflict_cb, ctx, NULL,
	    NULL, SQLITE_CHANGESETAPPLY_NOSAVEPOINT);
	if (rc != SQLITE_OK) {
		diverged(ctx, "applying changeset: %s (%s)", sqlite3_errstr(rc),
			 sqlite3_errmsg(ctx->g->apply));
	}
}

/* A changeset of one change: try the table's prepared statements first. */
static void apply_single(struct apply_ctx *ctx, const struct gdb_item *item)
{
	sqlite3_changeset_iter *it;
	int rc =
	    sqlite3changeset_start(&it, (int)item->len, (void *)item->data);
	if (rc != SQLITE_OK) {
		diverged(ctx, "cannot read changeset: %s", sqlite3_errstr(rc));
	}
	enum gdb_apply_one outcome = GDB_APPLY_ONE_FALLBACK;
	if (sqlite3changeset_next(it) == SQLITE_ROW) {
		outcome = gdb_apply_one(ctx->g, it, &rc);
	}
	sqlite3changeset_finalize(it);
	switch (outcome) {
	case GDB_APPLY_ONE_APPLIED:
		ctx->g->astats.changesets_direct++;
		return;
	case GDB_APPLY_ONE_ERROR:
		diverged(ctx, "applying changeset: %s (%s)", sqlite3_errstr(rc),
			 sqlite3_errmsg(ctx->g->apply));
	case GDB_APPLY_ONE_FALLBACK:
	default:
		apply_changeset_bytes(ctx, item->data, item->len);
	}
}

static void apply_rows(struct apply_ctx *ctx, const struct gdb_item *item)
{
	char errmsg[TM_ERRMSG_SIZE];
	if (gdb_apply_rows(ctx->g, item->data, item->len, errmsg) != 0) {
		diverged(ctx, "%s", errmsg);
	}
}

static void apply_sql(struct apply_ctx *ctx, const struct gdb_item *item)
{
	sqlite3 *db = ctx->g->apply;
	sqlite3_stmt *st = NULL;
	const char *tail = NULL;
	const char *sql = (const char *)item->data;
	int rc = sqlite3_prepare_v2(db, sql, (int)item->len, &st, &tail);
	if (rc != SQLITE_OK || st == NULL) {
		diverged(ctx, "schema statement \"%.*s\" does not prepare: %s",
			 (int)(item->len > 200 ? 200 : item->len), sql,
			 sqlite3_errmsg(db));
	}
	for (const char *p = tail; p < sql + item->len; p++) {
		if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r' &&
		    *p != ';') {
			sqlite3_finalize(st);
			diverged(ctx, "SQL item holds more than one statement");
		}
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
	}
	sqlite3_finalize(st);
	gdb_watch_touch_all(ctx->g);
	if (rc != SQLITE_DONE) {
		diverged(ctx, "schema statement \"%.*s\" failed: %s",
			 (int)(item->len > 200 ? 200 : item->len), sql,
			 sqlite3_errmsg(db));
	}
	gdb_schema_changed(ctx->g);
}

static void apply_restore(struct apply_ctx *ctx, const struct gdb_entry *e)
{
	char errmsg[TM_ERRMSG_SIZE];
	int rv = gdb_snapshot_load(ctx->g, e->image, e->image_len, errmsg);
	if (rv != 0) {
		diverged(ctx, "loading the image of %zu bytes: %s",
			 e->image_len, errmsg);
	}
	ctx->g->astats.restores_applied++;
	gdb_watch_touch_all(ctx->g);
	LOGI("gdb: entry %llu restored the database from an image of %zu "
	     "bytes",
	     ctx->index, e->image_len);
}

/* The entry's items in one transaction; the COMMIT's result. */
static int apply_items(struct apply_ctx *ctx, const struct gdb_entry *e)
{
	struct gdb *g = ctx->g;
	int rc = gdb_sql_run(g->apply_sql, GDB_SQL_BEGIN_WRITE);
	if (rc != SQLITE_OK) {
		diverged(ctx, "BEGIN: %s", sqlite3_errmsg(g->apply));
	}
	for (size_t r = 0; r < e->n_requests; r++) {
		const struct gdb_entry_request *req = &e->requests[r];
		ctx->request = r;
		for (size_t i = 0; i < req->n_items; i++) {
			const struct gdb_item *item = &req->items[i];
			ctx->item = i;
			if (item->kind == GDB_ITEM_SQL) {
				apply_sql(ctx, item);
			} else if (item->kind == GDB_ITEM_ROWS) {
				apply_rows(ctx, item);
			} else if (check_changeset_tables(ctx, item) == 1) {
				apply_single(ctx, item);
			} else {
				apply_changeset_bytes(ctx, item->data,
						      item->len);
			}
		}
	}
	return gdb_sql_run(g->apply_sql, GDB_SQL_COMMIT);
}

int gdb_apply_entry(struct gdb *g, const struct gdb_entry *e,
		    unsigned long long index)
{
	struct apply_ctx ctx = {.g = g, .index = index};
	if (e->type == GDB_ENTRY_CHECK) {
		gdb_check_begin(g, index);
		return 0;
	}
	if (e->type == GDB_ENTRY_RESTORE) {
		ctx.restore = true;
		apply_restore(&ctx, e);
		return 0;
	}
	int rc = apply_items(&ctx, e);
	if (rc != SQLITE_OK && disk_full(g->apply) && gdb_reserve_release(g)) {
		LOGE("gdb: disk full in %s while applying entry %llu: the "
		     "%u MiB reserve was released to apply it; free disk "
		     "space before it runs out again",
		     g->dir, index, GDB_RESERVE_BYTES >> 20);
		if (!sqlite3_get_autocommit(g->apply)) {
			rc = gdb_sql_run(g->apply_sql, GDB_SQL_COMMIT);
		} else {
			/* SQLite rolled the transaction back: all again. */
			rc = apply_items(&ctx, e);
		}
	}
	if (rc != SQLITE_OK && disk_full(g->apply) && g->lane.started) {
		/* Nothing of it stays; the apply thread tries again once
		 * there is room (lane.c). */
		if (!sqlite3_get_autocommit(g->apply)) {
			gdb_sql_run(g->apply_sql, GDB_SQL_ROLLBACK);
		}
		return TM_NOSPACE;
	}
	if (rc != SQLITE_OK) {
		diverged(&ctx, "COMMIT: %s", sqlite3_errmsg(g->apply));
	}
	return 0;
}

/* Extend the hash chain with the entry at INDEX (the applier: the only
 * writer of the chain, which the loop reads under the lane's mutex). An
 * index at or below the chain's last one would mean raft applied an index
 * twice; the chain is only a check, so it restarts there, unknown before,
 * rather than stop the member. */
static void chain_entry(struct gdb *g, uint64_t index, const void *buf,
			size_t len)
{
	uint8_t value[GDB_CHAIN_SIZE];
	pthread_mutex_lock(&g->lane.mutex);
	if (!g->chain_unknown && index <= g->chain.last.index) {
		LOGE("gdb: entry %llu applied after entry %llu: the hash chain "
		     "restarts",
		     (unsigned long long)index,
		     (unsigned long long)g->chain.last.index);
		g->chain_unknown = true;
	}
	gdb_chain_settle(g, index - 1);
	pthread_mutex_unlock(&g->lane.mutex);
	gdb_chain_next(&g->chain, index, buf, len, value);
	pthread_mutex_lock(&g->lane.mutex);
	gdb_chain_push(&g->chain, index, value);
	pthread_mutex_unlock(&g->lane.mutex);
}

int gdb_apply_buffer(struct gdb *g, const void *buf, size_t len,
		     uint64_t index)
{
	struct gdb_entry e;
	char errmsg[TM_ERRMSG_SIZE];
	struct apply_ctx ctx = {.g = g, .index = index};
	/* An entry tried again after a full disk is in the chain already. */
	if (index > 0 && (g->chain_unknown || g->chain.last.index != index)) {
		chain_entry(g, index, buf, len);
	}
	int rv = gdb_entry_decode(buf, len, &e, errmsg);
	if (rv != 0) {
		diverged(&ctx, "cannot decode the entry: %s", errmsg);
	}
	rv = gdb_apply_entry(g, &e, index);
	gdb_entry_release(&e);
	if (rv == 0) {
		g->astats.entries_applied++;
	}
	return rv;
}

int gdb_fsm_apply(struct raft_fsm *fsm, const struct raft_buffer *buf,
		  void **result)
{
	struct gdb *g = fsm->data;
	uint64_t index = 0;

	/* raft advances last_applied after this returns. */
	if (g->raft != NULL) {
		index = raft_last_applied(g->raft) + 1;
	}
	gdb_exec_quiesce(g);
	gdb_reserve_keep(g);
	g->applied_bytes += buf->len;
	gdb_trail_note(g, index);
	gdb_interval_bytes(g, index);
	gdb_lane_apply(g, buf, index,
		       gdb_entry_is_check(buf->base, buf->len));
	*result = NULL;
	return 0;
}

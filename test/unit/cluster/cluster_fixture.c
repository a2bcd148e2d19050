#include "test/unit/cluster/cluster_fixture.h"
#include "test/unit/raft_grow.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

void cf_setup(struct cf *c, unsigned n)
{
	char errmsg[TM_ERRMSG_SIZE];
	struct raft_configuration conf;

	memset(c, 0, sizeof *c);
	assert_true(n <= CF_MAX);
	c->n = n;
	assert_int_equal(uv_loop_init(&c->loop), 0);
	snprintf(c->dir, sizeof c->dir, "/tmp/tm-gdb-XXXXXX");
	assert_non_null(mkdtemp(c->dir));
	assert_int_equal(raft_fixture_initialize(&c->raft), 0);
	for (unsigned i = 0; i < n; i++) {
		char path[128];
		snprintf(path, sizeof path, "%s/gdb-%u.db", c->dir, i);
		int rv = gdb_init(&c->gdb[i], &c->loop, path, errmsg);
		if (rv != 0) {
			fail_msg("gdb_init: %s", errmsg);
		}
		assert_int_equal(test_raft_grow(&c->raft, gdb_fsm(c->gdb[i])),
				 0);
	}
	for (unsigned i = 0; i < n; i++) {
		gdb_set_raft(c->gdb[i], raft_fixture_get(&c->raft, i));
	}
	assert_int_equal(raft_fixture_configuration(&c->raft, n, &conf), 0);
	assert_int_equal(raft_fixture_bootstrap(&c->raft, &conf), 0);
	raft_configuration_close(&conf);
	assert_int_equal(raft_fixture_start(&c->raft), 0);
	raft_fixture_elect(&c->raft, 0);
	assert_int_equal(cf_leader(c), 0);
}

static void closed_cb(void *arg)
{
	struct cf *c = arg;
	c->closed++;
}

void cf_close_raft_and_gdbs(struct cf *c)
{
	raft_fixture_close(&c->raft);
	for (unsigned i = 0; i < c->n; i++) {
		gdb_close(c->gdb[i], closed_cb, c);
	}
}

void cf_finish_teardown(struct cf *c)
{
	while (c->closed < c->n) {
		uv_run(&c->loop, UV_RUN_ONCE);
	}
	assert_int_equal(uv_loop_close(&c->loop), 0);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", c->dir);
	assert_int_equal(system(cmd), 0);
}

void cf_teardown(struct cf *c)
{
	cf_close_raft_and_gdbs(c);
	cf_finish_teardown(c);
}

int cf_setup3(void **state)
{
	struct cf *c = malloc(sizeof *c);
	cf_setup(c, 3);
	*state = c;
	return 0;
}

int cf_teardown_state(void **state)
{
	struct cf *c = *state;
	cf_teardown(c);
	free(c);
	return 0;
}

void cf_step(struct cf *c)
{
	raft_fixture_step(&c->raft);
	uv_run(&c->loop, UV_RUN_NOWAIT);
}

bool cf_step_until(struct cf *c, bool (*cond)(struct cf *c, void *arg),
		   void *arg, unsigned max_ms)
{
	raft_time start = raft_fixture_time(&c->raft);
	uv_run(&c->loop, UV_RUN_NOWAIT);
	while (!cond(c, arg)) {
		if (raft_fixture_time(&c->raft) - start > max_ms) {
			return false;
		}
		cf_step(c);
	}
	return true;
}

unsigned cf_leader(struct cf *c) { return raft_fixture_leader_index(&c->raft); }

static bool all_applied(struct cf *c, void *arg)
{
	(void)arg;
	unsigned l = cf_leader(c);
	if (l >= c->n) {
		return false;
	}
	raft_index last = raft_last_index(raft_fixture_get(&c->raft, l));
	for (unsigned i = 0; i < c->n; i++) {
		if (!raft_fixture_alive(&c->raft, i)) {
			continue;
		}
		if (raft_last_applied(raft_fixture_get(&c->raft, i)) < last) {
			return false;
		}
	}
	return true;
}

void cf_wait_applied(struct cf *c)
{
	assert_true(cf_step_until(c, all_applied, NULL, CF_TIMEOUT_MS));
}

void cf_req_init(struct cf_req *r, bool transaction, ...)
{
	va_list args;
	size_t n = 0;
	memset(r, 0, sizeof *r);
	va_start(args, transaction);
	const char *sql;
	while ((sql = va_arg(args, const char *)) != NULL) {
		assert_true(n < CF_MAX_STMTS);
		r->stmts[n++].sql = (char *)sql;
	}
	va_end(args);
	r->req.stmts = r->stmts;
	r->req.n_stmts = n;
	r->req.transaction = transaction;
	r->req.data = r;
}

static void req_cb(struct gdb_request *req, int status)
{
	struct cf_req *r = req->data;
	assert_false(r->done);
	r->done = true;
	r->status = status;
}

void cf_submit_write(struct cf *c, unsigned i, struct cf_req *r)
{
	r->req.data = r;
	r->done = false;
	gdb_write(c->gdb[i], &r->req, req_cb);
	assert_false(r->done); /* never inside the call */
}

void cf_submit_read(struct cf *c, unsigned i, struct cf_req *r,
		    enum gdb_read_level level)
{
	r->req.data = r;
	r->req.level = level;
	r->done = false;
	gdb_read(c->gdb[i], &r->req, req_cb);
	assert_false(r->done);
}

void cf_submit_read_index(struct cf *c, unsigned i, struct cf_req *r)
{
	r->req.data = r;
	r->done = false;
	gdb_read_index(c->gdb[i], &r->req, req_cb);
	assert_false(r->done);
}

void cf_submit_restore(struct cf *c, unsigned i, struct cf_req *r,
		       const void *image, size_t len)
{
	r->req.data = r;
	r->done = false;
	gdb_restore(c->gdb[i], &r->req, image, len, req_cb);
	assert_false(r->done);
}

static bool req_done(struct cf *c, void *arg)
{
	(void)c;
	return ((struct cf_req *)arg)->done;
}

int cf_wait(struct cf *c, struct cf_req *r)
{
	assert_true(cf_step_until(c, req_done, r, CF_TIMEOUT_MS));
	return r->status;
}

int cf_write(struct cf *c, unsigned i, struct cf_req *r)
{
	cf_submit_write(c, i, r);
	return cf_wait(c, r);
}

int cf_restore(struct cf *c, unsigned i, struct cf_req *r, const void *image,
	       size_t len)
{
	cf_submit_restore(c, i, r, image, len);
	return cf_wait(c, r);
}

int cf_read(struct cf *c, unsigned i, struct cf_req *r,
	    enum gdb_read_level level)
{
	cf_submit_read(c, i, r, level);
	return cf_wait(c, r);
}

void cf_exec(struct cf *c, const char *sql)
{
	struct cf_req r;
	cf_req_init(&r, false, sql, NULL);
	int status = cf_write(c, cf_leader(c), &r);
	if (status != 0 || r.req.results[0].status != 0) {
		fail_msg("%s: %d %s %s", sql, status, r.req.errmsg,
			 r.req.results != NULL && r.req.results[0].error
			     ? r.req.results[0].error
			     : "");
	}
	cf_req_clear(&r);
	cf_wait_applied(c);
}

void cf_req_clear(struct cf_req *r) { gdb_request_clear(&r->req); }

/* Growable string. */
struct buf {
	char *p;
	size_t n;
	size_t cap;
};

static void put(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void put(struct buf *b, const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	int need = vsnprintf(NULL, 0, fmt, args);
	va_end(args);
	if (b->n + (size_t)need + 1 > b->cap) {
		b->cap = (b->n + (size_t)need + 1) * 2;
		b->p = realloc(b->p, b->cap);
	}
	va_start(args, fmt);
	vsnprintf(b->p + b->n, b->cap - b->n, fmt, args);
	va_end(args);
	b->n += (size_t)need;
}

static void put_value(struct buf *b, sqlite3_stmt *st, int col)
{
	switch (sqlite3_column_type(st, col)) {
	case SQLITE_INTEGER:
		put(b, "i:%lld", (long long)sqlite3_column_int64(st, col));
		break;
	case SQLITE_FLOAT:
		put(b, "r:%.17g", sqlite3_column_double(st, col));
		break;
	case SQLITE_NULL:
		put(b, "null");
		break;
	default: {
		const unsigned char *p = sqlite3_column_blob(st, col);
		int n = sqlite3_column_bytes(st, col);
		put(b, "%s:",
		    sqlite3_column_type(st, col) == SQLITE_TEXT ? "t" : "b");
		for (int k = 0; k < n; k++) {
			put(b, "%02x", p[k]);
		}
	}
	}
}

/* How SQL names TABLE's rowid (NULL: WITHOUT ROWID, or every alias is
 * a column name). */
static const char *rowid_alias(sqlite3 *db, const char *table)
{
	static const char *const aliases[] = {"rowid", "_rowid_", "oid"};
	sqlite3_stmt *st;
	const char *found = NULL;
	assert_int_equal(
	    sqlite3_prepare_v2(db,
			       "SELECT wr FROM pragma_table_list(?1) "
			       "WHERE schema = 'main'",
			       -1, &st, NULL),
	    0);
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	bool keyed =
	    sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) != 0;
	sqlite3_finalize(st);
	if (keyed) {
		return NULL;
	}
	for (size_t i = 0; found == NULL && i < 3; i++) {
		assert_int_equal(
		    sqlite3_prepare_v2(db,
				       "SELECT 1 FROM pragma_table_xinfo(?1) "
				       "WHERE name = ?2 COLLATE NOCASE",
				       -1, &st, NULL),
		    0);
		sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, aliases[i], -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_ROW) {
			found = aliases[i];
		}
		sqlite3_finalize(st);
	}
	return found;
}

/* Rowid tables: every row with its rowid, in rowid order (the order a
 * SELECT without ORDER BY scans them); WITHOUT ROWID tables: ordered by
 * every column. */
static void dump_table(struct buf *b, sqlite3 *db, const char *table)
{
	char *sql = sqlite3_mprintf("SELECT * FROM \"%w\"", table);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), 0);
	int n_cols = sqlite3_column_count(st);
	sqlite3_finalize(st);
	sqlite3_free(sql);

	const char *rowid = rowid_alias(db, table);
	struct buf q = {0};
	if (rowid != NULL) {
		put(&q, "SELECT \"%s\", * FROM \"%s\" ORDER BY 1", rowid,
		    table);
		n_cols++;
	} else {
		put(&q, "SELECT * FROM \"%s\" ORDER BY ", table);
		for (int i = 1; i <= n_cols; i++) {
			put(&q, "%s%d", i > 1 ? ", " : "", i);
		}
	}
	assert_int_equal(sqlite3_prepare_v2(db, q.p, -1, &st, NULL), 0);
	free(q.p);
	put(b, "table %s\n", table);
	while (sqlite3_step(st) == SQLITE_ROW) {
		put(b, "  ");
		for (int i = 0; i < n_cols; i++) {
			put(b, i > 0 ? " | " : "");
			put_value(b, st, i);
		}
		put(b, "\n");
	}
	sqlite3_finalize(st);
}

char *cf_dump(struct cf *c, unsigned i)
{
	return cf_dump_db(gdb_exec_conn(c->gdb[i]));
}

char *cf_dump_db(sqlite3 *db)
{
	sqlite3_stmt *st;
	struct buf b = {0};
	put(&b, "%s", "");
	assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), 0);
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT type, name, tbl_name, "
					    "coalesce(sql, '') "
					    "FROM sqlite_schema "
					    "ORDER BY type, name",
					    -1, &st, NULL),
			 0);
	while (sqlite3_step(st) == SQLITE_ROW) {
		put(&b, "%s %s on %s: %s\n", sqlite3_column_text(st, 0),
		    sqlite3_column_text(st, 1), sqlite3_column_text(st, 2),
		    sqlite3_column_text(st, 3));
	}
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT name FROM sqlite_schema "
					    "WHERE type = 'table' "
					    "ORDER BY name",
					    -1, &st, NULL),
			 0);
	while (sqlite3_step(st) == SQLITE_ROW) {
		dump_table(&b, db, (const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), 0);
	return b.p;
}

char *cf_assert_identical(struct cf *c)
{
	cf_wait_applied(c);
	unsigned l = cf_leader(c);
	char *expected = cf_dump(c, l);
	for (unsigned i = 0; i < c->n; i++) {
		if (i == l || !raft_fixture_alive(&c->raft, i)) {
			continue;
		}
		char *got = cf_dump(c, i);
		if (strcmp(expected, got) != 0) {
			fail_msg("member %u differs from leader %u:\n"
				 "--- leader\n%s--- member\n%s",
				 i, l, expected, got);
		}
		free(got);
	}
	return expected;
}

long long cf_query_int(struct cf *c, unsigned i, const char *sql)
{
	return cf_query_int_db(gdb_exec_conn(c->gdb[i]), sql);
}

long long cf_query_int_db(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	long long v = -1;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), 0);
	if (sqlite3_step(st) == SQLITE_ROW) {
		v = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	return v;
}

/* The results of POST /1.0/sql as JSON text, written row by row where the
 * rows are produced (a worker thread), so that no row is ever held as
 * gdb_value nor as a cJSON tree, and what is held at once is bounded by
 * the chunk size plus one row.
 *
 * Happy path: init writes {"results":[ -> per statement, columns writes
 * {"columns":[..],"types":[..],"rows":[ -> each row [v,...] (handed over
 * in chunks of CHUNK bytes) -> end writes ]} -> finish writes ]}.
 *
 * Failure modes, each ending its statement only:
 * - a row would take the text past LIMIT: TM_TOOBIG, the row is dropped;
 * - the chunk cannot be handed over (client gone, timeout while it does
 *   not read): FLUSH's status; later rows of any statement fail so too;
 * - the statement fails in SQLite (its RES at end): before its first row
 *   the entry is {"error":...}, after rows "error" follows "rows".
 * The entry of a statement is still in OUT until its first row has been
 * written (a chunk is handed over after rows only), so a failure before
 * that can take the header back. */
#include <stdio.h>
#include <string.h>

#include "internal/api/sql.h"
#include "internal/lib/assert.h"
#include "internal/lib/mem.h"

void sql_enc_init(struct sql_enc *e, uint64_t limit, size_t chunk,
		  sql_enc_flush_fn flush, void *arg)
{
	memset(e, 0, sizeof *e);
	e->limit = limit;
	e->chunk = chunk;
	e->flush = flush;
	e->arg = arg;
	sql_buf_adds(&e->out, "{\"results\":[");
}

static void cstr(struct sql_buf *b, const char *s)
{
	sql_json_text(b, s, strlen(s));
}

static void separator(struct sql_enc *e)
{
	if (e->n_ended > 0) {
		sql_buf_add(&e->out, ",", 1);
	}
}

int sql_enc_columns(struct sql_enc *e, sqlite3_stmt *st, char *errmsg)
{
	(void)errmsg;
	int n = sqlite3_column_count(st);
	e->start = e->out.n;
	separator(e);
	sql_buf_adds(&e->out, "{\"columns\":[");
	for (int c = 0; c < n; c++) {
		const char *name = sqlite3_column_name(st, c);
		if (c > 0) {
			sql_buf_add(&e->out, ",", 1);
		}
		cstr(&e->out, name != NULL ? name : "");
	}
	sql_buf_adds(&e->out, "],\"types\":[");
	for (int c = 0; c < n; c++) {
		const char *decl = sqlite3_column_decltype(st, c);
		if (c > 0) {
			sql_buf_add(&e->out, ",", 1);
		}
		if (decl != NULL && decl[0] != '\0') {
			cstr(&e->out, decl);
		} else {
			sql_buf_adds(&e->out, "null");
		}
	}
	sql_buf_adds(&e->out, "],\"rows\":[");
	e->open = true;
	e->rows = 0;
	return 0;
}

/* Would N more bytes pass the limit? */
static bool over(const struct sql_enc *e, uint64_t n)
{
	return e->limit != 0 && e->total + e->out.n + n > e->limit;
}

/* Drop what OUT holds after AT. */
static void truncate_to(struct sql_enc *e, size_t at)
{
	e->out.n = at;
	if (e->out.p != NULL) {
		e->out.p[at] = '\0';
	}
}

static int too_big(struct sql_enc *e, size_t row_start, char *errmsg)
{
	truncate_to(e, row_start);
	tm_errmsg_printf(errmsg,
			 "the result is larger than core.max_response_size "
			 "(%llu bytes) after %llu rows; fetch it in pages "
			 "(LIMIT and a WHERE on the key)",
			 (unsigned long long)e->limit,
			 (unsigned long long)e->rows);
	return TM_TOOBIG;
}

static int hand_over(struct sql_enc *e, char *errmsg)
{
	size_t len;
	char *t = sql_buf_take(&e->out, &len);
	e->total += len;
	e->n_chunks++;
	int rv = e->flush(e->arg, t, len, errmsg);
	if (rv != 0) {
		e->failed = rv;
		tm_errmsg_printf(e->failed_msg, "%s", errmsg);
	}
	return rv;
}

int sql_enc_row(struct sql_enc *e, sqlite3_stmt *st, char *errmsg)
{
	if (e->failed != 0) {
		tm_errmsg_printf(errmsg, "%s", e->failed_msg);
		return e->failed;
	}
	size_t row_start = e->out.n;
	int n = sqlite3_column_count(st);
	sql_buf_adds(&e->out, e->rows > 0 ? ",[" : "[");
	for (int c = 0; c < n; c++) {
		uint64_t len = sql_json_column_len(st, c);
		if (over(e, len + 2)) {
			return too_big(e, row_start, errmsg);
		}
		if (c > 0) {
			sql_buf_add(&e->out, ",", 1);
		}
		sql_json_column(&e->out, st, c);
	}
	sql_buf_add(&e->out, "]", 1);
	if (over(e, 0)) {
		return too_big(e, row_start, errmsg);
	}
	e->rows++;
	if (e->flush != NULL && e->out.n >= e->chunk) {
		if (e->hold) {
			tm_errmsg_printf(errmsg, "rows would leave on the loop");
			return TM_BUSY;
		}
		return hand_over(e, errmsg);
	}
	return 0;
}

static const char *error_of(const struct gdb_result *res)
{
	return res->error != NULL ? res->error : tm_strerror(res->status);
}

/* The entry of a statement whose rows were never opened. */
static void closed_entry(struct sql_enc *e, const struct gdb_result *res)
{
	char num[64];
	separator(e);
	if (res->status != 0) {
		sql_buf_adds(&e->out, "{\"error\":");
		cstr(&e->out, error_of(res));
		sql_buf_add(&e->out, "}", 1);
		return;
	}
	snprintf(num, sizeof num,
		 "{\"rows_affected\":%lld,\"last_insert_id\":%lld}",
		 (long long)res->rows_affected, (long long)res->last_insert_id);
	sql_buf_adds(&e->out, num);
}

void sql_enc_end(struct sql_enc *e, const struct gdb_result *res)
{
	if (e->open && res->status != 0 && e->rows == 0) {
		/* Still in OUT: take the header back. */
		truncate_to(e, e->start);
		e->open = false;
	}
	if (!e->open) {
		closed_entry(e, res);
	} else if (res->status != 0) {
		sql_buf_adds(&e->out, "],\"error\":");
		cstr(&e->out, error_of(res));
		sql_buf_add(&e->out, "}", 1);
	} else {
		sql_buf_adds(&e->out, "]}");
	}
	e->open = false;
	e->n_ended++;
}

void sql_enc_finish(struct sql_enc *e) { sql_buf_adds(&e->out, "]}"); }

void sql_enc_clear(struct sql_enc *e) { sql_buf_clear(&e->out); }

void sql_enc_reset(struct sql_enc *e)
{
	uint64_t limit = e->limit;
	size_t chunk = e->chunk;
	sql_enc_flush_fn flush = e->flush;
	void *arg = e->arg;
	PRE(e->n_chunks == 0);
	sql_enc_clear(e);
	sql_enc_init(e, limit, chunk, flush, arg);
}

static int sink_columns(struct gdb_sink *s, size_t i, sqlite3_stmt *st,
			char *errmsg)
{
	(void)i;
	return sql_enc_columns(s->data, st, errmsg);
}

static int sink_row(struct gdb_sink *s, size_t i, sqlite3_stmt *st,
		    char *errmsg)
{
	(void)i;
	return sql_enc_row(s->data, st, errmsg);
}

static void sink_end(struct gdb_sink *s, size_t i, const struct gdb_result *res)
{
	(void)i;
	sql_enc_end(s->data, res);
}

void sql_enc_sink(struct sql_enc *e, struct gdb_sink *sink)
{
	*sink = (struct gdb_sink){.data = e,
				  .columns = sink_columns,
				  .row = sink_row,
				  .end = sink_end};
}

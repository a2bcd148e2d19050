/* The streaming encoder (internal/api/sql_stream.c, sql_text.c): JSON
 * text for rows straight from SQLite statements, the response limit, and
 * the chunks it hands over. Statements run on an in-memory database. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include <cjson/cJSON.h>

#include "internal/api/sql.h"
#include "internal/lib/mem.h"

/* What the encoder handed over, and when to refuse. */
struct sent {
	struct sql_buf all;
	size_t n_chunks;
	size_t min_chunk;
	size_t fail_after; /* refuse the chunk after this many; 0: never */
};

static int flush_cb(void *arg, char *t, size_t len, char *errmsg)
{
	struct sent *s = arg;
	if (s->fail_after != 0 && s->n_chunks == s->fail_after) {
		tm_free(t);
		tm_errmsg_printf(errmsg, "interrupted: the client went away");
		return TM_CANCELED;
	}
	sql_buf_add(&s->all, t, len);
	s->n_chunks++;
	if (s->min_chunk == 0 || len < s->min_chunk) {
		s->min_chunk = len;
	}
	tm_free(t);
	return 0;
}

/* Run SQL (N statements) on DB through an encoder, the way gdb's reads
 * drive a sink; return the whole text (owned). */
static char *encode(sqlite3 *db, const char *const *sql, size_t n,
		    uint64_t limit, size_t chunk, struct sent *sent)
{
	struct sql_enc e;
	sql_enc_init(&e, limit, chunk, flush_cb, sent);
	for (size_t i = 0; i < n; i++) {
		struct gdb_result res = {0};
		char errmsg[TM_ERRMSG_SIZE];
		sqlite3_stmt *st = NULL;
		int rc = sqlite3_prepare_v2(db, sql[i], -1, &st, NULL);
		if (rc == SQLITE_OK) {
			rc = sqlite3_step(st);
			res.n_cols = (size_t)sqlite3_column_count(st);
			if (res.n_cols > 0) {
				assert_int_equal(
				    sql_enc_columns(&e, st, errmsg), 0);
			}
			while (rc == SQLITE_ROW) {
				int rv = sql_enc_row(&e, st, errmsg);
				if (rv != 0) {
					res.status = rv;
					res.error = tm_strdup(errmsg);
					break;
				}
				rc = sqlite3_step(st);
			}
		}
		if (res.status == 0 && rc != SQLITE_DONE) {
			res.status = TM_INVALID;
			res.error = tm_strdup(sqlite3_errmsg(db));
		}
		res.n_cols = 0; /* no column names kept */
		sql_enc_end(&e, &res);
		gdb_result_clear(&res);
		sqlite3_finalize(st);
	}
	sql_enc_finish(&e);
	sql_buf_add(&sent->all, e.out.p, e.out.n);
	sql_enc_clear(&e);
	size_t len;
	return sql_buf_take(&sent->all, &len);
}

static sqlite3 *db_open(void)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	return db;
}

static void assert_text(const char *got, const char *want)
{
	if (strcmp(got, want) != 0) {
		fail_msg("\n  got  %s\n  want %s", got, want);
	}
}

static void test_values(void **state)
{
	(void)state;
	sqlite3 *db = db_open();
	assert_int_equal(sqlite3_exec(db,
				      "CREATE TABLE t(i INTEGER, r REAL, x)",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	const char *sql[] = {
	    "SELECT 9223372036854775807 AS a, -9223372036854775808, 1.0, 0.1, "
	    "1e300 * 1e300, NULL",
	    "SELECT 'caf\xc3\xa9', 'a\"b\\c', CAST(x'00410A' AS TEXT), "
	    "CAST(x'ff41c0af' AS TEXT), x'0001ff', x''",
	    "SELECT i, r, x FROM t",
	    "SELECT * FROM nosuch",
	};
	struct sent sent = {0};
	char *text = encode(db, sql, 4, 0, SQL_STREAM_CHUNK, &sent);
	assert_text(
	    text,
	    "{\"results\":["
	    "{\"columns\":[\"a\",\"-9223372036854775808\",\"1.0\",\"0.1\","
	    "\"1e300 * 1e300\",\"NULL\"],\"types\":[null,null,null,null,null,"
	    "null],\"rows\":[[9223372036854775807,-9223372036854775808,1.0,"
	    "0.10000000000000001,null,null]]},"
	    "{\"columns\":[\"'caf\xc3\xa9'\",\"'a\\\"b\\\\c'\",\"CAST(x'00410A'"
	    " "
	    "AS TEXT)\",\"CAST(x'ff41c0af' AS TEXT)\",\"x'0001ff'\",\"x''\"],"
	    "\"types\":[null,null,null,null,null,null],\"rows\":[["
	    "\"caf\xc3\xa9\","
	    "\"a\\\"b\\\\c\",\"\\u0000A\\u000a\",\"\\ufffdA\\ufffd\\ufffd\","
	    "{\"base64\":\"AAH/\"},{\"base64\":\"\"}]]},"
	    "{\"columns\":[\"i\",\"r\",\"x\"],\"types\":[\"INTEGER\",\"REAL\","
	    "null],\"rows\":[]},"
	    "{\"error\":\"no such table: nosuch\"}]}");
	assert_int_equal(sent.n_chunks, 0);
	cJSON *parsed = cJSON_Parse(text);
	assert_non_null(parsed);
	cJSON_Delete(parsed);
	tm_free(text);
	sqlite3_close(db);
}

/* The same values through the cJSON path: one set of rules. */
static void test_text_matches_cjson_path(void **state)
{
	(void)state;
	struct gdb_value v = {.type = GDB_TEXT, .p = "\x01\xff\"x", .n = 4};
	cJSON *item = sql_value_to_json(&v);
	char *printed = cJSON_PrintUnformatted(item);
	assert_string_equal(printed, "\"\\u0001\\ufffd\\\"x\"");
	assert_int_equal(sql_json_text_len(v.p, v.n), strlen(printed));
	cJSON_free(printed);
	cJSON_Delete(item);
	assert_int_equal(sql_json_blob_len(0), strlen("{\"base64\":\"\"}"));
	assert_int_equal(sql_json_blob_len(4),
			 strlen("{\"base64\":\"AAAAAA==\"}"));
}

#define ROWS_SQL(n)                                                            \
	"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "      \
	"WHERE x < " #n ") SELECT x, 'row' FROM c"

/* Rows go out in chunks of at least CHUNK bytes, after whole rows; the
 * chunks and the rest make the same text as without chunks. */
static void test_chunk_boundaries(void **state)
{
	(void)state;
	sqlite3 *db = db_open();
	const char *sql[] = {ROWS_SQL(5000), "SELECT 1 AS one"};
	struct sent whole = {0};
	char *want = encode(db, sql, 2, 0, SIZE_MAX, &whole);
	assert_int_equal(whole.n_chunks, 0);
	struct sent sent = {0};
	char *got = encode(db, sql, 2, 0, 1000, &sent);
	assert_text(got, want);
	assert_true(sent.n_chunks > 50);
	assert_true(sent.min_chunk >= 1000 && sent.min_chunk < 1020);
	cJSON *parsed = cJSON_Parse(got);
	cJSON *rows = cJSON_GetObjectItem(
	    cJSON_GetArrayItem(cJSON_GetObjectItem(parsed, "results"), 0),
	    "rows");
	assert_int_equal(cJSON_GetArraySize(rows), 5000);
	cJSON_Delete(parsed);
	tm_free(got);
	tm_free(want);
	sqlite3_close(db);
}

/* A row that would pass the limit ends its statement: the rows before it
 * stay, "error" follows "rows"; a statement that fails before its first
 * row has only "error". */
static void test_limit(void **state)
{
	(void)state;
	sqlite3 *db = db_open();
	const char *sql[] = {ROWS_SQL(100000), "SELECT randomblob(3000)",
			     "SELECT 1 AS one"};
	struct sent sent = {0};
	char *text = encode(db, sql, 3, 2000, 1000, &sent);
	assert_true(strlen(text) <= 2000 + 400);
	cJSON *parsed = cJSON_Parse(text);
	assert_non_null(parsed);
	cJSON *results = cJSON_GetObjectItem(parsed, "results");
	cJSON *first = cJSON_GetArrayItem(results, 0);
	cJSON *rows = cJSON_GetObjectItem(first, "rows");
	int n = cJSON_GetArraySize(rows);
	assert_true(n > 100 && n < 200);
	char want[256];
	snprintf(want, sizeof want,
		 "the result is larger than core.max_response_size (2000 "
		 "bytes) after %d rows; fetch it in pages (LIMIT and a WHERE "
		 "on the key)",
		 n);
	assert_string_equal(cJSON_GetObjectItem(first, "error")->valuestring,
			    want);
	/* The blob alone passes the limit: refused before it is built. */
	cJSON *second = cJSON_GetArrayItem(results, 1);
	assert_null(cJSON_GetObjectItem(second, "rows"));
	assert_non_null(
	    strstr(cJSON_GetObjectItem(second, "error")->valuestring,
		   "core.max_response_size (2000 bytes) after 0 rows"));
	cJSON_Delete(parsed);
	tm_free(text);
	sqlite3_close(db);
}

/* Once a chunk cannot go out, the statement ends with why, and so does
 * every later one that has rows. */
static void test_flush_failure(void **state)
{
	(void)state;
	sqlite3 *db = db_open();
	const char *sql[] = {ROWS_SQL(5000), ROWS_SQL(10)};
	struct sent sent = {.fail_after = 2};
	char *text = encode(db, sql, 2, 0, 1000, &sent);
	assert_int_equal(sent.n_chunks, 2);
	assert_non_null(strstr(text, "],\"error\":\"interrupted: the client "
				     "went away\"},{\"error\":\"interrupted: "
				     "the client went away\"}]}"));
	tm_free(text);
	sqlite3_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_values),
	    cmocka_unit_test(test_text_matches_cjson_path),
	    cmocka_unit_test(test_chunk_boundaries),
	    cmocka_unit_test(test_limit),
	    cmocka_unit_test(test_flush_failure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

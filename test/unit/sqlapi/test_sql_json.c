/* Unit tests for internal/api/sql_json.c: POST /1.0/sql bodies to
 * gdb_stmt/gdb_value, gdb_result to JSON, and the HTTP answer chosen for
 * each outcome. Pure functions: no loop, no database. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal/api/sql.h"
#include "internal/lib/json.h"
#include "internal/lib/mem.h"

/* --- helpers --- */

static int parse(const char *body, struct sql_request *r, char *errmsg)
{
	return sql_request_parse(body, strlen(body), r, errmsg);
}

#define assert_parse_error(body, message)                                      \
	check_parse_error(body, strlen(body), message)

static void check_parse_error(const char *body, size_t len, const char *message)
{
	struct sql_request r;
	char errmsg[TM_ERRMSG_SIZE] = "";
	int rv = sql_request_parse(body, len, &r, errmsg);
	if (rv != TM_INVALID || strcmp(errmsg, message) != 0) {
		fail_msg("body %s:\n  got %d \"%s\"\n  want \"%s\"", body, rv,
			 errmsg, message);
	}
	assert_null(r.stmts);
	assert_int_equal(r.n_stmts, 0);
}

/* Parse a one-statement body whose params are PARAMS (JSON text). */
static void parse_params(const char *params, struct sql_request *r)
{
	char errmsg[TM_ERRMSG_SIZE] = "";
	char *body = tm_asprintf(
	    "{\"statements\": [{\"sql\": \"SELECT 1\", \"params\": %s}]}",
	    params);
	int rv = parse(body, r, errmsg);
	if (rv != 0) {
		fail_msg("%s: %s", body, errmsg);
	}
	tm_free(body);
	assert_int_equal(r->n_stmts, 1);
}

static void assert_param_error(const char *params, const char *message)
{
	char *body = tm_asprintf(
	    "{\"statements\": [{\"sql\": \"SELECT 1\", \"params\": %s}]}",
	    params);
	assert_parse_error(body, message);
	tm_free(body);
}

/* Unformatted JSON text of ITEM, which is deleted. */
static char *print_and_delete(cJSON *item)
{
	char *text = cJSON_PrintUnformatted(item);
	char *out = tm_strdup(text);
	cJSON_free(text);
	cJSON_Delete(item);
	return out;
}

static void assert_json(cJSON *item, const char *want)
{
	char *got = print_and_delete(item);
	if (strcmp(got, want) != 0) {
		fail_msg("got  %s\nwant %s", got, want);
	}
	tm_free(got);
}

static struct gdb_value text_value(const char *p, size_t n)
{
	struct gdb_value v = {.type = GDB_TEXT, .n = n};
	v.p = tm_malloc(n + 1);
	memcpy(v.p, p, n);
	v.p[n] = '\0';
	return v;
}

/* Bitwise equality: the exact double, and -0.0 is not 0.0. */
static bool same_double(double a, double b)
{
	return memcmp(&a, &b, sizeof a) == 0;
}

/* --- request: shape and options --- */

static void test_minimal_defaults(void **state)
{
	(void)state;
	struct sql_request r;
	char errmsg[TM_ERRMSG_SIZE];
	assert_int_equal(
	    parse("{\"statements\":[{\"sql\":\"SELECT 1\"}]}", &r, errmsg), 0);
	assert_int_equal(r.target, SQL_TARGET_GLOBAL);
	assert_false(r.transaction);
	assert_int_equal(r.level, GDB_READ_NONE);
	assert_int_equal(r.n_stmts, 1);
	assert_string_equal(r.stmts[0].sql, "SELECT 1");
	assert_int_equal(r.stmts[0].n_params, 0);
	assert_null(r.stmts[0].names);
	sql_request_clear(&r);
	assert_null(r.stmts);
	sql_request_clear(&r); /* idempotent */
}

static void test_options(void **state)
{
	(void)state;
	struct sql_request r;
	char errmsg[TM_ERRMSG_SIZE];
	assert_int_equal(parse("{\"target\":\"local\",\"transaction\":true,"
			       "\"consistency\":\"none\",\"statements\":"
			       "[{\"sql\":\"SELECT 1\"},{\"sql\":\"SELECT 2\","
			       "\"params\":null}]}",
			       &r, errmsg),
			 0);
	assert_int_equal(r.target, SQL_TARGET_LOCAL);
	assert_true(r.transaction);
	assert_int_equal(r.n_stmts, 2);
	assert_string_equal(r.stmts[1].sql, "SELECT 2");
	sql_request_clear(&r);

	assert_int_equal(parse("{\"target\":\"global\",\"transaction\":false,"
			       "\"consistency\":\"linearizable\","
			       "\"statements\":[{\"sql\":\"SELECT 1\"}]}",
			       &r, errmsg),
			 0);
	assert_int_equal(r.target, SQL_TARGET_GLOBAL);
	assert_false(r.transaction);
	assert_int_equal(r.level, GDB_READ_LINEARIZABLE);
	sql_request_clear(&r);

	/* JSON null means "absent" for the optional fields. */
	assert_int_equal(parse("{\"target\":null,\"transaction\":null,"
			       "\"consistency\":null,"
			       "\"statements\":[{\"sql\":\"SELECT 1\"}]}",
			       &r, errmsg),
			 0);
	assert_int_equal(r.target, SQL_TARGET_GLOBAL);
	sql_request_clear(&r);
}

static void test_option_errors(void **state)
{
	(void)state;
	assert_parse_error("{\"target\":\"remote\",\"statements\":[]}",
			   "field \"target\" must be \"global\" or \"local\"");
	assert_parse_error("{\"transaction\":1,\"statements\":[]}",
			   "field \"transaction\" must be true or false");
	assert_parse_error("{\"consistency\":\"strong\",\"statements\":[]}",
			   "field \"consistency\" must be \"none\" or "
			   "\"linearizable\"");
	assert_parse_error("{\"target\":\"local\",\"consistency\":"
			   "\"linearizable\",\"statements\":[{\"sql\":\"x\"}]}",
			   "consistency \"linearizable\" applies to the global "
			   "database only, not to target \"local\"");
	const char *bad[] = {"0", "-1", "\"5\"", "true", "[]", "1e400"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char *body = tm_asprintf(
		    "{\"timeout\":%s,\"statements\":[{\"sql\":\"x\"}]}",
		    bad[i]);
		assert_parse_error(body, "field \"timeout\" must be a number "
					 "of seconds greater than 0");
		tm_free(body);
	}
}

/* "timeout": seconds, fractions allowed; absent or null is 0. */
static void test_timeout_field(void **state)
{
	(void)state;
	struct sql_request r;
	char errmsg[TM_ERRMSG_SIZE];
	assert_int_equal(parse("{\"timeout\":0.25,\"statements\":"
			       "[{\"sql\":\"x\"}]}",
			       &r, errmsg),
			 0);
	assert_true(r.timeout > 0.2499 && r.timeout < 0.2501);
	sql_request_clear(&r);
	assert_int_equal(parse("{\"timeout\":null,\"statements\":"
			       "[{\"sql\":\"x\"}]}",
			       &r, errmsg),
			 0);
	assert_true(r.timeout <= 0 && r.timeout >= 0);
	sql_request_clear(&r);
}

static void test_unknown_and_duplicate_fields(void **state)
{
	(void)state;
	assert_parse_error("{\"statements\":[{\"sql\":\"x\"}],\"deadline\":5}",
			   "unknown field \"deadline\"");
	assert_parse_error("{\"statements\":[{\"sql\":\"x\"},"
			   "{\"sql\":\"y\",\"args\":[]}]}",
			   "statement 2: unknown field \"args\"");
	assert_parse_error("{\"target\":\"local\",\"statements\":[{\"sql\":"
			   "\"x\"}],\"target\":\"global\"}",
			   "duplicate field \"target\"");
	assert_parse_error("{\"statements\":[{\"sql\":\"x\",\"sql\":\"y\"}]}",
			   "statement 1: duplicate field \"sql\"");
}

static void test_statements_field(void **state)
{
	(void)state;
	assert_parse_error("{}", "field \"statements\" is required");
	assert_parse_error("{\"statements\":null}",
			   "field \"statements\" is required");
	assert_parse_error("{\"statements\":{\"sql\":\"x\"}}",
			   "field \"statements\" must be an array");
	assert_parse_error("{\"statements\":[]}",
			   "field \"statements\" must hold at least one "
			   "statement");
	assert_parse_error("{\"statements\":[\"SELECT 1\"]}",
			   "statement 1: must be an object {\"sql\": ..., "
			   "\"params\": ...}");
	assert_parse_error("{\"statements\":[{\"sql\":\"x\"},{}]}",
			   "statement 2: field \"sql\" is required");
	assert_parse_error("{\"statements\":[{\"sql\":null}]}",
			   "statement 1: field \"sql\" must be a string");
	assert_parse_error("{\"statements\":[{\"sql\":42}]}",
			   "statement 1: field \"sql\" must be a string");
	assert_parse_error(
	    "{\"statements\":[{\"sql\":\"x\",\"params\":\"a\"}]}",
	    "statement 1: field \"params\" must be an array "
	    "(positional) or an object (named)");
	assert_parse_error("[]", "request body must be a JSON object");
	/* SQL text must be UTF-8, as parameters must: the offset is in the
	 * SQL text (byte 0 is its first byte). */
	assert_parse_error("{\"statements\":[{\"sql\":\"SELECT 1\"},"
			   "{\"sql\":\"SELECT 'a\xff'\"}]}",
			   "statement 2: field \"sql\" is not valid UTF-8 "
			   "(byte 9 of the SQL text, 0xff): send SQL as UTF-8, "
			   "and binary data as a BLOB parameter");
	assert_parse_error("{\"statements\":[{\"sql\":\"SELECT '\xc3\x28'"
			   "\"}]}",
			   "statement 1: field \"sql\" is not valid UTF-8 "
			   "(byte 8 of the SQL text, 0xc3): send SQL as UTF-8, "
			   "and binary data as a BLOB parameter");
	assert_parse_error("{\"statements\":[{\"sql\":\"-- \xed\xa0\x80\"}]}",
			   "statement 1: field \"sql\" is not valid UTF-8 "
			   "(byte 3 of the SQL text, 0xed): send SQL as UTF-8, "
			   "and binary data as a BLOB parameter");
}

static char *statements_body(size_t n)
{
	static const char one[] = "{\"sql\":\"SELECT 1\"},";
	size_t len = strlen("{\"statements\":[") + n * strlen(one) + 3;
	char *body = tm_malloc(len);
	strcpy(body, "{\"statements\":[");
	for (size_t i = 0; i < n; i++) {
		strcat(body, one);
	}
	body[strlen(body) - 1] = ']';
	strcat(body, "}");
	return body;
}

static void test_statement_limit(void **state)
{
	(void)state;
	struct sql_request r;
	char errmsg[TM_ERRMSG_SIZE];
	char *body = statements_body(SQL_MAX_STATEMENTS);
	assert_int_equal(parse(body, &r, errmsg), 0);
	assert_int_equal(r.n_stmts, SQL_MAX_STATEMENTS);
	sql_request_clear(&r);
	tm_free(body);

	body = statements_body(SQL_MAX_STATEMENTS + 1);
	assert_parse_error(body, "too many statements: 1001 (limit 1000)");
	tm_free(body);
}

static void test_malformed_json(void **state)
{
	(void)state;
	assert_parse_error("", "malformed JSON body: empty body");
	/* The offset of a truncated body is where cJSON stopped. */
	struct sql_request r;
	char errmsg[TM_ERRMSG_SIZE];
	assert_int_equal(parse("{\"statements\": [", &r, errmsg), TM_INVALID);
	assert_non_null(strstr(errmsg, "malformed JSON body: unexpected end of "
				       "input at byte "));
	assert_parse_error("{\"statements\":[{\"sql\":\"x\"}]} {}",
			   "malformed JSON body: trailing data after the JSON "
			   "value at byte 29");
	/* Stricter than cJSON, with what was refused. */
	assert_parse_error("{\"statements\":[{\"sql\":\"SELECT ?\","
			   "\"params\":[0123]}]}",
			   "malformed JSON body: leading zero in number "
			   "(write 123, not 0123) at byte 44");
	assert_parse_error("{\"statements\":[{\"sql\":\"SELECT '\x01'\"}]}",
			   "malformed JSON body: raw control character 0x01 in "
			   "string (escape it as \\u0001) at byte 31");
	check_parse_error("{\"statements\":\0[]}", 18,
			  "malformed JSON body: NUL byte at byte 14");
	/* cJSON would cut the string at the NUL: refused instead. */
	assert_parse_error(
	    "{\"statements\":[{\"sql\":\"SELECT 'a\\u0000b'\"}]}",
	    "strings must not contain \\u0000: send binary "
	    "data as a BLOB {\"base64\": \"...\"}");
	/* An escaped backslash followed by "u0000" is plain text. */
	assert_int_equal(
	    parse("{\"statements\":[{\"sql\":\"SELECT '\\\\u0000'\"}]}", &r,
		  errmsg),
	    0);
	assert_string_equal(r.stmts[0].sql, "SELECT '\\u0000'");
	sql_request_clear(&r);
}

/* --- request: values --- */

static void test_int64_exact(void **state)
{
	(void)state;
	struct sql_request r;
	parse_params("[9223372036854775807, -9223372036854775808, 0, -1, "
		     "9007199254740993]",
		     &r);
	const struct gdb_stmt *st = &r.stmts[0];
	assert_int_equal(st->n_params, 5);
	assert_null(st->names);
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(st->params[i].type, GDB_INT);
	}
	assert_true(st->params[0].i == INT64_MAX);
	assert_true(st->params[1].i == INT64_MIN);
	assert_true(st->params[2].i == 0);
	assert_true(st->params[3].i == -1);
	/* 2^53 + 1: a double would round it to 2^53. */
	assert_true(st->params[4].i == 9007199254740993LL);
	sql_request_clear(&r);

	assert_param_error("[1, 9223372036854775808]",
			   "statement 1: parameter 2: integer "
			   "9223372036854775808 is out of the 64-bit range");
	assert_param_error("[-9223372036854775809]",
			   "statement 1: parameter 1: integer "
			   "-9223372036854775809 is out of the 64-bit range");
}

static void test_reals(void **state)
{
	(void)state;
	struct sql_request r;
	parse_params("[1.0, 2.5e-10, -0.0, 1e5, 0.1]", &r);
	const struct gdb_value *p = r.stmts[0].params;
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(p[i].type, GDB_REAL);
	}
	assert_true(same_double(p[0].r, 1.0));
	assert_true(same_double(p[1].r, 2.5e-10));
	assert_true(same_double(p[2].r, -0.0));
	assert_true(same_double(p[3].r, 100000.0));
	assert_true(same_double(p[4].r, 0.1));
	sql_request_clear(&r);

	assert_param_error("[1e400]", "statement 1: parameter 1: number "
				      "1e400 is out of range");
}

static void test_null_text_unicode(void **state)
{
	(void)state;
	struct sql_request r;
	/* Escaped and raw UTF-8, a quote, a control character. */
	parse_params("[null, \"\", \"h\\u00e9llo \\u2603 \\ud83d\\ude00\", "
		     "\"h\xc3\xa9llo \xe2\x98\x83 \xf0\x9f\x98\x80\", "
		     "\"a\\\"b\\n\"]",
		     &r);
	const struct gdb_value *p = r.stmts[0].params;
	assert_int_equal(p[0].type, GDB_NULL);
	assert_int_equal(p[1].type, GDB_TEXT);
	assert_int_equal(p[1].n, 0);
	assert_string_equal(p[1].p, "");
	const char *want = "h\xc3\xa9llo \xe2\x98\x83 \xf0\x9f\x98\x80";
	for (size_t i = 2; i <= 3; i++) {
		assert_int_equal(p[i].type, GDB_TEXT);
		assert_int_equal(p[i].n, strlen(want));
		assert_memory_equal(p[i].p, want, strlen(want));
		assert_int_equal(p[i].p[p[i].n], '\0');
	}
	assert_string_equal(p[4].p, "a\"b\n");
	sql_request_clear(&r);

	assert_param_error("[\"ok\", \"bad \xff\"]",
			   "statement 1: parameter 2: string is not valid "
			   "UTF-8");
	/* Overlong encoding of '/' and a UTF-16 surrogate in UTF-8. */
	assert_param_error("[\"\xc0\xaf\"]", "statement 1: parameter 1: "
					     "string is not valid UTF-8");
	assert_param_error("[\"\xed\xa0\x80\"]", "statement 1: parameter 1: "
						 "string is not valid UTF-8");
}

static void test_blobs(void **state)
{
	(void)state;
	struct sql_request r;
	parse_params("[{\"base64\": \"AAEC/w==\"}, {\"base64\": \"\"}, "
		     "{\"base64\": \"QUJD\"}, {\"base64\": \"QUI=\"}]",
		     &r);
	const struct gdb_value *p = r.stmts[0].params;
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(p[i].type, GDB_BLOB);
	}
	assert_int_equal(p[0].n, 4);
	assert_memory_equal(p[0].p, "\x00\x01\x02\xff", 4);
	assert_int_equal(p[1].n, 0);
	assert_int_equal(p[2].n, 3);
	assert_memory_equal(p[2].p, "ABC", 3);
	assert_int_equal(p[3].n, 2);
	assert_memory_equal(p[3].p, "AB", 2);
	sql_request_clear(&r);

	static const char *const bad[] = {
	    "\"AAE\"",	       "\"A===\"",  "\"AA=A\"",
	    "\"AA*C\"",	       "\" AAEC\"", "\"AAEC\\n\"",
	    "\"QUJD\\nREVG\"", "1",	    "null",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char *params = tm_asprintf("[{\"base64\": %s}]", bad[i]);
		assert_param_error(params, "statement 1: parameter 1: invalid "
					   "base64 in BLOB (standard alphabet "
					   "with '=' padding, no whitespace)");
		tm_free(params);
	}
	static const char *const not_blob[] = {
	    "[{}]",
	    "[{\"base64\": \"AA==\", \"type\": \"blob\"}]",
	    "[{\"b64\": \"AA==\"}]",
	};
	for (size_t i = 0; i < sizeof not_blob / sizeof not_blob[0]; i++) {
		assert_param_error(not_blob[i],
				   "statement 1: parameter 1: unsupported "
				   "parameter type: object (a BLOB is written "
				   "{\"base64\": \"...\"})");
	}
}

static void test_wrong_types(void **state)
{
	(void)state;
	assert_param_error("[true]", "statement 1: parameter 1: unsupported "
				     "parameter type: boolean (use 1 or 0)");
	assert_param_error("[1, false]",
			   "statement 1: parameter 2: unsupported parameter "
			   "type: boolean (use 1 or 0)");
	assert_param_error("[[1]]", "statement 1: parameter 1: unsupported "
				    "parameter type: array");
	assert_param_error("{\":k\": true}",
			   "statement 1: parameter \":k\": unsupported "
			   "parameter type: boolean (use 1 or 0)");
}

static void test_named_vs_positional(void **state)
{
	(void)state;
	struct sql_request r;
	parse_params("{\":a\": 1, \"@b\": \"x\", \"$c\": null, "
		     "\":d\": {\"base64\": \"AA==\"}}",
		     &r);
	const struct gdb_stmt *st = &r.stmts[0];
	assert_int_equal(st->n_params, 4);
	assert_non_null(st->names);
	assert_string_equal(st->names[0], ":a");
	assert_string_equal(st->names[1], "@b");
	assert_string_equal(st->names[2], "$c");
	assert_string_equal(st->names[3], ":d");
	assert_int_equal(st->params[0].type, GDB_INT);
	assert_int_equal(st->params[1].type, GDB_TEXT);
	assert_int_equal(st->params[2].type, GDB_NULL);
	assert_int_equal(st->params[3].type, GDB_BLOB);
	sql_request_clear(&r);

	parse_params("[1, \"x\"]", &r);
	assert_null(r.stmts[0].names);
	assert_int_equal(r.stmts[0].n_params, 2);
	sql_request_clear(&r);

	parse_params("{}", &r);
	assert_int_equal(r.stmts[0].n_params, 0);
	sql_request_clear(&r);

	assert_param_error("{\"k\": 1}", "statement 1: parameter \"k\": a "
					 "name starts with ':', '@' or '$'");
	assert_param_error("{\"\": 1}", "statement 1: parameter \"\": a "
					"name starts with ':', '@' or '$'");
}

/* --- results -> JSON --- */

static void test_values_to_json(void **state)
{
	(void)state;
	struct gdb_value v = {.type = GDB_INT, .i = INT64_MAX};
	assert_json(sql_value_to_json(&v), "9223372036854775807");
	v.i = INT64_MIN;
	assert_json(sql_value_to_json(&v), "-9223372036854775808");
	v = (struct gdb_value){.type = GDB_REAL, .r = 1.0};
	assert_json(sql_value_to_json(&v), "1.0");
	v.r = 0.1;
	assert_json(sql_value_to_json(&v), "0.10000000000000001");
	v.r = 2.5e-10;
	assert_json(sql_value_to_json(&v), "2.5000000000000002e-10");
	v.r = -3.0;
	assert_json(sql_value_to_json(&v), "-3.0");
	v.r = INFINITY; /* SQLite can hold it, JSON cannot */
	assert_json(sql_value_to_json(&v), "null");
	v = (struct gdb_value){.type = GDB_NULL};
	assert_json(sql_value_to_json(&v), "null");

	v = text_value("h\xc3\xa9llo \xf0\x9f\x98\x80", 11);
	assert_json(sql_value_to_json(&v), "\"h\xc3\xa9llo \xf0\x9f\x98\x80\"");
	gdb_value_clear(&v);
	/* Embedded NUL, quote, backslash, control, invalid UTF-8. */
	v = text_value("a\0b\"\\\t\x01\xff\xc3", 9);
	assert_json(sql_value_to_json(&v),
		    "\"a\\u0000b\\\"\\\\\\u0009\\u0001\\ufffd\\ufffd\"");
	gdb_value_clear(&v);

	v = (struct gdb_value){.type = GDB_BLOB, .n = 4};
	v.p = tm_malloc(4);
	memcpy(v.p, "\x00\x01\x02\xff", 4);
	assert_json(sql_value_to_json(&v), "{\"base64\":\"AAEC/w==\"}");
	gdb_value_clear(&v);
	v = (struct gdb_value){.type = GDB_BLOB, .n = 0, .p = tm_malloc(1)};
	assert_json(sql_value_to_json(&v), "{\"base64\":\"\"}");
	gdb_value_clear(&v);
}

/* Every kind of value printed by sql_value_to_json parses back to the same
 * value through sql_value_from_json. */
static void test_values_round_trip(void **state)
{
	(void)state;
	struct gdb_value in[8] = {
	    {.type = GDB_INT, .i = INT64_MAX},
	    {.type = GDB_INT, .i = INT64_MIN},
	    {.type = GDB_REAL, .r = 1.0},
	    {.type = GDB_REAL, .r = 0.1},
	    {.type = GDB_REAL, .r = -1.7976931348623157e308},
	    {.type = GDB_NULL},
	};
	in[6] = text_value("caf\xc3\xa9 \"q\"", 9);
	in[7] = (struct gdb_value){.type = GDB_BLOB, .n = 256};
	in[7].p = tm_malloc(256);
	for (int i = 0; i < 256; i++) {
		in[7].p[i] = (char)i;
	}
	for (size_t i = 0; i < 8; i++) {
		char *text = print_and_delete(sql_value_to_json(&in[i]));
		cJSON *json = json_parse_exact(text, strlen(text), NULL);
		assert_non_null(json);
		struct gdb_value out;
		char errmsg[TM_ERRMSG_SIZE];
		assert_int_equal(sql_value_from_json(json, &out, errmsg), 0);
		assert_int_equal(out.type, in[i].type);
		assert_true(out.i == in[i].i);
		assert_true(same_double(out.r, in[i].r));
		assert_int_equal(out.n, in[i].n);
		if (in[i].n > 0) {
			assert_memory_equal(out.p, in[i].p, out.n);
		}
		gdb_value_clear(&out);
		gdb_value_clear(&in[i]);
		cJSON_Delete(json);
		tm_free(text);
	}
}

static void result_set_columns(struct gdb_result *res, size_t n,
			       const char *const *names,
			       const char *const *types)
{
	res->n_cols = n;
	res->columns = tm_calloc(n, sizeof *res->columns);
	res->decltypes = tm_calloc(n, sizeof *res->decltypes);
	for (size_t c = 0; c < n; c++) {
		res->columns[c] = tm_strdup(names[c]);
		res->decltypes[c] = tm_strdup(types[c]);
	}
}

static void test_result_shapes(void **state)
{
	(void)state;
	/* A write. */
	struct gdb_result res = {.rows_affected = 3,
				 .last_insert_id = INT64_MAX};
	assert_json(sql_result_to_json(&res),
		    "{\"rows_affected\":3,\"last_insert_id\":"
		    "9223372036854775807}");

	/* An error. */
	res = (struct gdb_result){.status = TM_CONFLICT};
	res.error = tm_strdup("UNIQUE constraint failed: kv.k");
	assert_json(sql_result_to_json(&res),
		    "{\"error\":\"UNIQUE constraint failed: kv.k\"}");
	gdb_result_clear(&res);

	/* Rows; a column without a declared type has type null. */
	static const char *const names[] = {"k", "v", "n"};
	static const char *const types[] = {"TEXT", "INTEGER", ""};
	result_set_columns(&res, 3, names, types);
	res.n_rows = 2;
	res.rows = tm_calloc(6, sizeof *res.rows);
	res.rows[0] = text_value("a", 1);
	res.rows[1] = (struct gdb_value){.type = GDB_INT, .i = 1};
	res.rows[2] = (struct gdb_value){.type = GDB_REAL, .r = 2.0};
	res.rows[3] = text_value("b", 1);
	res.rows[4] = (struct gdb_value){.type = GDB_NULL};
	res.rows[5] = (struct gdb_value){.type = GDB_INT, .i = -5};
	assert_json(sql_result_to_json(&res),
		    "{\"columns\":[\"k\",\"v\",\"n\"],\"types\":[\"TEXT\","
		    "\"INTEGER\",null],\"rows\":[[\"a\",1,2.0],"
		    "[\"b\",null,-5]]}");
	gdb_result_clear(&res);

	/* A query without rows still has its columns. */
	static const char *const one[] = {"x"};
	static const char *const none[] = {""};
	result_set_columns(&res, 1, one, none);
	assert_json(sql_result_to_json(&res),
		    "{\"columns\":[\"x\"],\"types\":[null],\"rows\":[]}");

	assert_json(sql_results_to_json(&res, 1),
		    "{\"results\":[{\"columns\":[\"x\"],\"types\":[null],"
		    "\"rows\":[]}]}");
	gdb_result_clear(&res);
}

/* --- answers --- */

static struct gdb_result failed(int status, const char *error)
{
	struct gdb_result res = {.status = status};
	res.error = tm_strdup(error);
	return res;
}

static void results_free(struct gdb_result *res, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		gdb_result_clear(&res[i]);
	}
}

static void assert_error_answer(int status, const char *errmsg,
				const struct gdb_result *res, size_t n,
				bool transaction, int http, const char *message)
{
	struct sql_answer a;
	sql_answer_build(status, errmsg, res, n, transaction, &a);
	assert_null(a.metadata);
	assert_non_null(a.message);
	if (a.http_status != http || strcmp(a.message, message) != 0) {
		fail_msg("got %d \"%s\"\nwant %d \"%s\"", a.http_status,
			 a.message, http, message);
	}
	tm_free(a.message);
}

static void test_answer_success(void **state)
{
	(void)state;
	struct gdb_result res[2] = {{.rows_affected = 1, .last_insert_id = 7},
				    failed(TM_INVALID, "no such table: x")};
	struct sql_answer a;
	/* Without a transaction each statement reports its own error. */
	sql_answer_build(0, "", res, 2, false, &a);
	assert_int_equal(a.http_status, 200);
	assert_null(a.message);
	assert_json(a.metadata, "{\"results\":[{\"rows_affected\":1,"
				"\"last_insert_id\":7},{\"error\":\"no such "
				"table: x\"}]}");
	/* With one, a failure fails the request (reads run that way). */
	assert_error_answer(0, "", res, 2, true, 400,
			    "statement 2: no such table: x (transaction "
			    "rolled back, nothing applied)");
	results_free(res, 2);
}

static void test_answer_transaction_failed(void **state)
{
	(void)state;
	struct gdb_result res[3] = {
	    failed(TM_CANCELED, "rolled back"),
	    failed(TM_CONFLICT, "UNIQUE constraint failed: kv.k"),
	    failed(TM_CANCELED, "not executed"),
	};
	assert_error_answer(TM_CONFLICT, "transaction failed", res, 3, true,
			    409,
			    "statement 2: UNIQUE constraint failed: kv.k "
			    "(transaction rolled back, nothing applied)");
	gdb_result_clear(&res[1]);
	res[1] = failed(TM_INVALID, "near \"SELEC\": syntax error");
	assert_error_answer(TM_INVALID, "", res, 3, true, 400,
			    "statement 2: near \"SELEC\": syntax error "
			    "(transaction rolled back, nothing applied)");
	gdb_result_clear(&res[1]);
	res[1] = failed(TM_IO, "disk I/O error");
	assert_error_answer(TM_IO, "", res, 3, true, 500,
			    "statement 2: disk I/O error (transaction rolled "
			    "back, nothing applied)");
	results_free(res, 3);
}

static void test_answer_request_failed(void **state)
{
	(void)state;
	assert_error_answer(TM_NOTLEADER,
			    "not the leader; the leader is member 2 at "
			    "10.0.0.2:8443",
			    NULL, 1, false, 503,
			    "not the leader; the leader is member 2 at "
			    "10.0.0.2:8443");
	assert_error_answer(TM_CANCELED, "raft: leadership lost", NULL, 1, true,
			    503,
			    "leadership lost before the write was committed; "
			    "it may or may not have been applied");
	assert_error_answer(TM_SHUTDOWN, "gdb closing", NULL, 1, false, 503,
			    "shutting down");
	assert_error_answer(TM_INVALID, "no statements", NULL, 0, false, 400,
			    "no statements");
	assert_error_answer(TM_DB, "BEGIN: disk I/O error", NULL, 1, false, 500,
			    "BEGIN: disk I/O error");
	assert_error_answer(TM_DB, "", NULL, 1, false, 500, "database error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_minimal_defaults),
	    cmocka_unit_test(test_options),
	    cmocka_unit_test(test_option_errors),
	    cmocka_unit_test(test_timeout_field),
	    cmocka_unit_test(test_unknown_and_duplicate_fields),
	    cmocka_unit_test(test_statements_field),
	    cmocka_unit_test(test_statement_limit),
	    cmocka_unit_test(test_malformed_json),
	    cmocka_unit_test(test_int64_exact),
	    cmocka_unit_test(test_reals),
	    cmocka_unit_test(test_null_text_unicode),
	    cmocka_unit_test(test_blobs),
	    cmocka_unit_test(test_wrong_types),
	    cmocka_unit_test(test_named_vs_positional),
	    cmocka_unit_test(test_values_to_json),
	    cmocka_unit_test(test_values_round_trip),
	    cmocka_unit_test(test_result_shapes),
	    cmocka_unit_test(test_answer_success),
	    cmocka_unit_test(test_answer_transaction_failed),
	    cmocka_unit_test(test_answer_request_failed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

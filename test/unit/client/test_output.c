/* therm's output formats: tables, CSV, JSON and YAML. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <yaml.h>

#include "cmd/therm/output.h"
#include "internal/lib/err.h"
#include "internal/lib/mem.h"

/* Capture what F writes into an owned string. */
struct capture {
	char *text;
	size_t len;
	FILE *f;
};

static void capture_open(struct capture *c)
{
	c->text = NULL;
	c->len = 0;
	c->f = open_memstream(&c->text, &c->len);
	assert_non_null(c->f);
}

static const char *capture_text(struct capture *c)
{
	fflush(c->f);
	return c->text;
}

static void capture_close(struct capture *c)
{
	fclose(c->f);
	free(c->text);
}

static struct therm_table *table_new(size_t n_cols, const char *const *headers)
{
	struct therm_table *t = tm_malloc(sizeof *t);
	therm_table_init(t, n_cols, headers);
	return t;
}

static void table_row(struct therm_table *t, const char *a, const char *b,
		      const char *c)
{
	char *cells[3] = {tm_strdup(a), tm_strdup(b), tm_strdup(c)};
	therm_table_add_row(t, cells);
}

static void test_table_alignment(void **state)
{
	static const char *const headers[] = {"NAME", "TYPE", "FINGERPRINT"};
	struct therm_table *t = table_new(3, headers);
	struct capture c;
	(void)state;

	table_row(t, "alice", "client", "ab12");
	table_row(t, "b", "c", "");
	table_row(t, "zoë", "multi\nline", "ff");
	capture_open(&c);
	therm_table_write(c.f, t);
	assert_string_equal(capture_text(&c), "NAME   TYPE        FINGERPRINT\n"
					      "alice  client      ab12\n"
					      "b      c\n"
					      "zoë    multi line  ff\n");
	capture_close(&c);
	therm_table_close(t);
	tm_free(t);
}

static void test_table_empty(void **state)
{
	static const char *const headers[] = {"KEY", "VALUE"};
	struct therm_table t;
	struct capture c;
	(void)state;

	therm_table_init(&t, 2, headers);
	capture_open(&c);
	therm_table_write(c.f, &t);
	therm_csv_write(c.f, &t);
	assert_string_equal(capture_text(&c), "KEY  VALUE\nKEY,VALUE\n");
	capture_close(&c);
	therm_table_close(&t);
}

static void test_csv_quoting(void **state)
{
	static const char *const headers[] = {"A", "B", "C"};
	struct therm_table *t = table_new(3, headers);
	struct capture c;
	(void)state;

	table_row(t, "plain", "with,comma", "say \"hi\"");
	table_row(t, "two\nlines", "cr\rhere", "");
	table_row(t, " padded", "ünïcode", "x");
	capture_open(&c);
	therm_csv_write(c.f, t);
	assert_string_equal(capture_text(&c),
			    "A,B,C\n"
			    "plain,\"with,comma\",\"say \"\"hi\"\"\"\n"
			    "\"two\nlines\",\"cr\rhere\",\n"
			    "\" padded\",ünïcode,x\n");
	capture_close(&c);
	therm_table_close(t);
	tm_free(t);
}

static const char *nested_json =
    "{\"name\":\"n1\",\"port\":8443,\"ratio\":0.25,\"on\":true,"
    "\"none\":null,\"text\":\"31\",\"word\":\"yes\",\"empty\":\"\","
    "\"colon\":\"a: b\",\"list\":[\"x\",{\"k\":\"v\",\"l\":[1,2]}],"
    "\"obj\":{},\"arr\":[],"
    "\"pem\":\"-----BEGIN CERTIFICATE-----\\nAAA\\n-----END "
    "CERTIFICATE-----\\n\"}";

static void test_json_pretty(void **state)
{
	cJSON *v = cJSON_Parse(nested_json);
	struct capture c;
	cJSON *back;
	(void)state;

	capture_open(&c);
	assert_int_equal(therm_json_write(c.f, v), 0);
	assert_non_null(strstr(capture_text(&c),
			       "{\n  \"name\": \"n1\",\n  \"port\": 8443,\n"));
	assert_non_null(strstr(capture_text(&c),
			       "  \"list\": [\n    \"x\",\n    {\n      "
			       "\"k\": \"v\",\n      \"l\": [\n        1,\n"));
	assert_non_null(
	    strstr(capture_text(&c), "\"obj\": {},\n  \"arr\": [],\n"));
	/* It reads back to the same value. */
	back = cJSON_Parse(capture_text(&c));
	assert_true(cJSON_Compare(v, back, true));
	cJSON_Delete(back);
	capture_close(&c);
	cJSON_Delete(v);
}

static void test_yaml_nested(void **state)
{
	cJSON *v = cJSON_Parse(nested_json);
	char errmsg[256];
	struct capture c;
	(void)state;

	capture_open(&c);
	assert_int_equal(therm_yaml_write(c.f, v, errmsg), 0);
	assert_string_equal(capture_text(&c), "name: n1\n"
					      "port: 8443\n"
					      "ratio: 0.25\n"
					      "\"on\": true\n"
					      "none: null\n"
					      "text: \"31\"\n"
					      "word: \"yes\"\n"
					      "empty: \"\"\n"
					      "colon: 'a: b'\n"
					      "list:\n"
					      "- x\n"
					      "- k: v\n"
					      "  l:\n"
					      "  - 1\n"
					      "  - 2\n"
					      "obj: {}\n"
					      "arr: []\n"
					      "pem: |\n"
					      "  -----BEGIN CERTIFICATE-----\n"
					      "  AAA\n"
					      "  -----END CERTIFICATE-----\n");
	capture_close(&c);
	cJSON_Delete(v);
}

/* Parse YAML with libyaml and return the scalar events' values and
 * styles, to check that what we emit reads back as meant. */
static void yaml_scalars(const char *text, char *out, size_t size)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	bool done = false;

	out[0] = '\0';
	assert_true(yaml_parser_initialize(&parser));
	yaml_parser_set_input_string(&parser, (const unsigned char *)text,
				     strlen(text));
	while (!done) {
		assert_true(yaml_parser_parse(&parser, &ev));
		if (ev.type == YAML_SCALAR_EVENT) {
			size_t len = strlen(out);
			snprintf(out + len, size - len, "%s%s|",
				 ev.data.scalar.plain_implicit ? "" : "q:",
				 (char *)ev.data.scalar.value);
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
}

static void test_yaml_reads_back(void **state)
{
	cJSON *v = cJSON_Parse("[\"1\",1,\"true\",\"null\",\"0x1F\","
			       "\"2024-01-01\",\"1e3\",\"-\",\"#c\","
			       "\"a\\nb\",\"plain text\"]");
	char errmsg[256];
	char scalars[512];
	struct capture c;
	(void)state;

	capture_open(&c);
	assert_int_equal(therm_yaml_write(c.f, v, errmsg), 0);
	yaml_scalars(capture_text(&c), scalars, sizeof scalars);
	/* Strings that look like something else are quoted ("q:"), the
	 * number is plain, ordinary strings stay plain. */
	assert_string_equal(scalars, "q:1|1|q:true|q:null|q:0x1F|"
				     "q:2024-01-01|q:1e3|q:-|q:#c|q:a\nb|"
				     "plain text|");
	capture_close(&c);
	cJSON_Delete(v);
}

static void test_print_list_formats(void **state)
{
	static const struct therm_column cols[] = {
	    {"NAME", "name", THERM_CELL_TEXT},
	    {"ADDED", "added_at", THERM_CELL_TIME},
	    {"EXTRA", "extra", THERM_CELL_TEXT},
	};
	cJSON *rows = cJSON_Parse(
	    "[{\"name\":\"a,b\",\"added_at\":0,\"extra\":{\"x\":1}},"
	    "{\"name\":\"c\",\"added_at\":1700000000}]");
	char errmsg[256];
	struct capture c;
	(void)state;

	capture_open(&c);
	assert_int_equal(
	    therm_print_list(c.f, THERM_FORMAT_TABLE, cols, 3, rows, errmsg),
	    0);
	assert_string_equal(capture_text(&c),
			    "NAME  ADDED                 EXTRA\n"
			    "a,b   1970-01-01T00:00:00Z  {\"x\":1}\n"
			    "c     2023-11-14T22:13:20Z\n");
	capture_close(&c);

	capture_open(&c);
	assert_int_equal(
	    therm_print_list(c.f, THERM_FORMAT_CSV, cols, 3, rows, errmsg), 0);
	assert_string_equal(capture_text(&c),
			    "NAME,ADDED,EXTRA\n"
			    "\"a,b\",1970-01-01T00:00:00Z,\"{\"\"x\"\":1}\"\n"
			    "c,2023-11-14T22:13:20Z,\n");
	capture_close(&c);

	capture_open(&c);
	assert_int_equal(
	    therm_print_list(c.f, THERM_FORMAT_YAML, cols, 3, rows, errmsg), 0);
	assert_string_equal(capture_text(&c),
			    "- name: a,b\n  added_at: 0\n  extra:\n    x: 1\n"
			    "- name: c\n  added_at: 1700000000\n");
	capture_close(&c);
	cJSON_Delete(rows);
}

static void test_print_map_sorted(void **state)
{
	cJSON *obj = cJSON_Parse("{\"user.b\":\"2\",\"core.x\":\"\","
				 "\"user.a\":\"one, two\"}");
	char errmsg[256];
	struct capture c;
	(void)state;

	capture_open(&c);
	therm_print_map(c.f, THERM_FORMAT_TABLE, "KEY", "VALUE", obj, errmsg);
	assert_string_equal(capture_text(&c), "KEY     VALUE\n"
					      "core.x\n"
					      "user.a  one, two\n"
					      "user.b  2\n");
	capture_close(&c);

	capture_open(&c);
	therm_print_map(c.f, THERM_FORMAT_CSV, "KEY", "VALUE", obj, errmsg);
	assert_string_equal(capture_text(&c), "KEY,VALUE\n"
					      "core.x,\n"
					      "user.a,\"one, two\"\n"
					      "user.b,2\n");
	capture_close(&c);

	capture_open(&c);
	therm_print_map(c.f, THERM_FORMAT_JSON, "KEY", "VALUE", obj, errmsg);
	assert_string_equal(capture_text(&c),
			    "{\n  \"core.x\": \"\",\n  \"user.a\": \"one, "
			    "two\",\n  \"user.b\": \"2\"\n}\n");
	capture_close(&c);

	capture_open(&c);
	therm_print_map(c.f, THERM_FORMAT_YAML, "KEY", "VALUE", obj, errmsg);
	assert_string_equal(capture_text(&c), "core.x: \"\"\n"
					      "user.a: one, two\n"
					      "user.b: \"2\"\n");
	capture_close(&c);
	cJSON_Delete(obj);
}

static void test_print_object_table(void **state)
{
	cJSON *obj = cJSON_Parse(
	    "{\"api_version\":\"1.0\",\"api_extensions\":[\"a\",\"b\"],"
	    "\"environment\":{\"server_pid\":42,\"addresses\":[],"
	    "\"certificate\":\"L1\\nL2\\n\"},\"config\":{},"
	    "\"empty\":\"\"}");
	char errmsg[256];
	struct capture c;
	(void)state;

	capture_open(&c);
	assert_int_equal(
	    therm_print_object(c.f, THERM_FORMAT_TABLE, obj, errmsg), 0);
	assert_string_equal(capture_text(&c), "api_version: 1.0\n"
					      "api_extensions: a, b\n"
					      "environment.server_pid: 42\n"
					      "environment.addresses: []\n"
					      "environment.certificate: |\n"
					      "  L1\n"
					      "  L2\n"
					      "config: {}\n"
					      "empty:\n");
	capture_close(&c);

	capture_open(&c);
	assert_int_equal(therm_print_object(c.f, THERM_FORMAT_CSV, obj, errmsg),
			 TM_INVALID);
	capture_close(&c);
	cJSON_Delete(obj);
}

static void test_print_value(void **state)
{
	cJSON *s = cJSON_CreateString("x y");
	char errmsg[256];
	struct capture c;
	(void)state;

	capture_open(&c);
	therm_print_value(c.f, THERM_FORMAT_TABLE, s, errmsg);
	therm_print_value(c.f, THERM_FORMAT_TABLE, NULL, errmsg);
	therm_print_value(c.f, THERM_FORMAT_JSON, s, errmsg);
	therm_print_value(c.f, THERM_FORMAT_JSON, NULL, errmsg);
	therm_print_value(c.f, THERM_FORMAT_YAML, s, errmsg);
	assert_string_equal(capture_text(&c), "x y\n\n\"x y\"\nnull\nx y\n");
	capture_close(&c);
	cJSON_Delete(s);
}

static void test_formats_and_numbers(void **state)
{
	enum therm_format f;
	char buf[32];
	(void)state;
	assert_int_equal(therm_format_parse("csv", &f), 0);
	assert_int_equal(f, THERM_FORMAT_CSV);
	assert_int_not_equal(therm_format_parse("xml", &f), 0);
	assert_string_equal(therm_format_name(THERM_FORMAT_YAML), "yaml");
	assert_string_equal(therm_number_text(3, buf), "3");
	assert_string_equal(therm_number_text(-1e15, buf), "-1000000000000000");
	assert_string_equal(therm_number_text(0.1, buf), "0.1");
	assert_string_equal(therm_number_text(1e300, buf), "1e+300");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table_alignment),
	    cmocka_unit_test(test_table_empty),
	    cmocka_unit_test(test_csv_quoting),
	    cmocka_unit_test(test_json_pretty),
	    cmocka_unit_test(test_yaml_nested),
	    cmocka_unit_test(test_yaml_reads_back),
	    cmocka_unit_test(test_print_list_formats),
	    cmocka_unit_test(test_print_map_sorted),
	    cmocka_unit_test(test_print_object_table),
	    cmocka_unit_test(test_print_value),
	    cmocka_unit_test(test_formats_and_numbers),
	};
	return cmocka_run_group_tests_name("client-output", tests, NULL, NULL);
}

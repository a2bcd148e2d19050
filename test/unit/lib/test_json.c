#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "internal/lib/err.h"
#include "internal/lib/json.h"
#include "internal/lib/mem.h"

static cJSON *parse(const char *text)
{
	return json_parse_exact(text, strlen(text), NULL);
}

static void int64_extremes_are_exact(void **state)
{
	(void)state;
	cJSON *v = parse("[9223372036854775807, -9223372036854775808, "
			 "9007199254740993, 0, -1]");
	assert_non_null(v);
	int64_t x;
	assert_true(json_get_int64(cJSON_GetArrayItem(v, 0), &x));
	assert_true(x == INT64_MAX);
	assert_true(json_get_int64(cJSON_GetArrayItem(v, 1), &x));
	assert_true(x == INT64_MIN);
	assert_true(json_get_int64(cJSON_GetArrayItem(v, 2), &x));
	assert_true(x == 9007199254740993LL);
	assert_true(json_get_int64(cJSON_GetArrayItem(v, 4), &x));
	assert_int_equal(x, -1);
	cJSON_Delete(v);
}

static void numbers_inside_strings_and_objects_keep_order(void **state)
{
	(void)state;
	cJSON *v = parse("{\"a\":\"12 \\\" 34\",\"b\":[1.5,{\"c\":7}],"
			 "\"d\":123456789012345678}");
	assert_non_null(v);
	const cJSON *b = cJSON_GetObjectItem(v, "b");
	assert_true(json_is_real_literal(cJSON_GetArrayItem(b, 0)));
	int64_t x;
	assert_false(json_get_int64(cJSON_GetArrayItem(b, 0), &x));
	assert_true(json_get_int64(
		cJSON_GetObjectItem(cJSON_GetArrayItem(b, 1), "c"), &x));
	assert_int_equal(x, 7);
	assert_true(json_get_int64(cJSON_GetObjectItem(v, "d"), &x));
	assert_true(x == 123456789012345678LL);
	cJSON_Delete(v);
}

static void out_of_range_and_exponents_are_not_ints(void **state)
{
	(void)state;
	cJSON *v = parse("[99999999999999999999, 1e3, 1.0]");
	int64_t x;
	assert_false(json_get_int64(cJSON_GetArrayItem(v, 0), &x));
	assert_false(json_get_int64(cJSON_GetArrayItem(v, 1), &x));
	assert_true(json_is_real_literal(cJSON_GetArrayItem(v, 1)));
	assert_true(json_is_real_literal(cJSON_GetArrayItem(v, 2)));
	cJSON_Delete(v);
}

static void invalid_json_reports_position(void **state)
{
	(void)state;
	size_t at = 99;
	const char *text = "{\"a\": [1, 2";
	assert_null(json_parse_exact(text, strlen(text), &at));
	assert_true(at <= strlen(text));
	assert_null(json_parse_exact("[1] x", 5, &at));
}

static void assert_refused(const char *text, size_t len, size_t at,
			   const char *message)
{
	char errmsg[TM_ERRMSG_SIZE];
	size_t error_at = 0;
	assert_int_equal(json_check(text, len, &error_at, errmsg), TM_INVALID);
	assert_string_equal(errmsg, message);
	assert_int_equal(error_at, at);
	assert_null(json_parse_exact(text, len, NULL));
	assert_null(json_parse_strict(text, len, errmsg));
}

static void leading_zeros_are_refused(void **state)
{
	(void)state;
	assert_refused(
	    "0123", 4, 1,
	    "leading zero in number (write 123, not 0123) at byte 1");
	assert_refused(
	    "[-01]", 5, 3,
	    "leading zero in number (write 123, not 0123) at byte 3");
	cJSON *v = parse("[0, -0, 0.5, 10, 0e1]");
	assert_non_null(v);
	cJSON_Delete(v);
}

static void bad_numbers_are_refused(void **state)
{
	(void)state;
	assert_refused("[1.]", 4, 3,
		       "invalid number: digit expected at byte 3");
	assert_refused("-", 1, 1, "invalid number: digit expected at byte 1");
	assert_refused("1e+", 3, 3, "invalid number: digit expected at byte 3");
	assert_refused("+1", 2, 0, "unexpected character '+' at byte 0");
	assert_refused(".5", 2, 0, "unexpected character '.' at byte 0");
}

static void raw_control_characters_are_refused(void **state)
{
	(void)state;
	assert_refused("\"a\nb\"", 5, 2,
		       "raw control character 0x0a in string (escape it as "
		       "\\u000a) at byte 2");
	assert_refused("{\"\x01\":1}", 6, 2,
		       "raw control character 0x01 in string (escape it as "
		       "\\u0001) at byte 2");
	assert_refused("[\"a\0b\"]", 6, 3,
		       "raw control character 0x00 in string (escape it as "
		       "\\u0000) at byte 3");
	assert_refused("\"\\x\"", 4, 2,
		       "invalid escape in string (valid: \\\" \\\\ \\/ \\b "
		       "\\f \\n \\r \\t \\uXXXX) at byte 2");
	assert_refused("\"\\u12g4\"", 8, 5,
		       "invalid \\u escape in string (4 hex digits expected) "
		       "at byte 5");
	cJSON *v = parse("\"tab\\tnl\\n\\u0001 \\/\"");
	assert_non_null(v);
	assert_string_equal(v->valuestring, "tab\tnl\n\x01 /");
	cJSON_Delete(v);
}

static char *nested(size_t depth)
{
	char *s = tm_malloc(2 * depth + 1);
	memset(s, '[', depth);
	memset(s + depth, ']', depth);
	s[2 * depth] = '\0';
	return s;
}

static void deep_nesting_names_the_limit(void **state)
{
	(void)state;
	char *ok = nested(JSON_MAX_DEPTH);
	cJSON *v = parse(ok);
	assert_non_null(v);
	cJSON_Delete(v);
	tm_free(ok);
	char *deep = nested(100000);
	assert_refused(deep, strlen(deep), JSON_MAX_DEPTH,
		       "nested too deep (limit 512) at byte 512");
	tm_free(deep);
}

static void other_errors_say_what(void **state)
{
	(void)state;
	assert_refused("", 0, 0, "unexpected end of input at byte 0");
	assert_refused("  ", 2, 2, "unexpected end of input at byte 2");
	assert_refused("{1:2}", 5, 1,
		       "object key (a string) expected at byte 1");
	assert_refused("[1 2]", 5, 3, "unexpected character '2' at byte 3");
	assert_refused("[1,]", 4, 3, "unexpected character ']' at byte 3");
	assert_refused("tru", 3, 0, "unexpected character 't' at byte 0");
	assert_refused("\"abc", 4, 4, "unterminated string at byte 4");
	assert_refused("{} x", 4, 3,
		       "trailing data after the JSON value at byte 3");
	assert_refused("\xc3", 1, 0, "unexpected byte 0xc3 at byte 0");
	cJSON *v = parse(" {\"a\" : [ true , false , null , \"\" ] } \r\n");
	assert_non_null(v);
	cJSON_Delete(v);
}

static void output_is_exact(void **state)
{
	(void)state;
	cJSON *a = cJSON_CreateArray();
	cJSON_AddItemToArray(a, json_create_int64(INT64_MIN));
	cJSON_AddItemToArray(a, json_create_real(1.0));
	cJSON_AddItemToArray(a, json_create_real(0.1));
	cJSON_AddItemToArray(a, json_create_real(1.0 / 0.0));
	char *s = cJSON_PrintUnformatted(a);
	assert_string_equal(s, "[-9223372036854775808,1.0,"
			       "0.10000000000000001,null]");
	cJSON_free(s);
	cJSON_Delete(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(int64_extremes_are_exact),
	    cmocka_unit_test(numbers_inside_strings_and_objects_keep_order),
	    cmocka_unit_test(out_of_range_and_exponents_are_not_ints),
	    cmocka_unit_test(invalid_json_reports_position),
	    cmocka_unit_test(output_is_exact),
	    cmocka_unit_test(leading_zeros_are_refused),
	    cmocka_unit_test(bad_numbers_are_refused),
	    cmocka_unit_test(raw_control_characters_are_refused),
	    cmocka_unit_test(deep_nesting_names_the_limit),
	    cmocka_unit_test(other_errors_say_what),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

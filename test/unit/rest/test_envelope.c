/* LXD-style envelopes: exact encodings and ETags. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "internal/lib/mem.h"
#include "internal/rest/envelope.h"

static void test_sync_with_metadata(void **state)
{
	(void)state;
	cJSON *meta = cJSON_CreateObject();
	cJSON_AddStringToObject(meta, "name", "node1");
	cJSON_AddNumberToObject(meta, "port", 8443);
	size_t len;
	char *out = envelope_sync(meta, &len);
	const char *want = "{\"type\":\"sync\",\"status\":\"Success\","
			   "\"status_code\":200,\"operation\":\"\","
			   "\"error_code\":0,\"error\":\"\","
			   "\"metadata\":{\"name\":\"node1\",\"port\":8443}}";
	assert_string_equal(out, want);
	assert_int_equal(len, strlen(want));
	/* The metadata is borrowed, still intact and owned by us. */
	assert_string_equal(
		cJSON_GetObjectItem(meta, "name")->valuestring, "node1");
	cJSON_Delete(meta);
	tm_free(out);
}

static void test_sync_array_metadata(void **state)
{
	(void)state;
	cJSON *meta = cJSON_CreateArray();
	cJSON_AddItemToArray(meta, cJSON_CreateString("/1.0/a"));
	char *out = envelope_sync(meta, NULL);
	assert_non_null(strstr(out, "\"metadata\":[\"/1.0/a\"]}"));
	cJSON_Delete(meta);
	tm_free(out);
}

static void test_sync_without_metadata(void **state)
{
	(void)state;
	size_t len;
	char *out = envelope_sync(NULL, &len);
	assert_string_equal(out,
			    "{\"type\":\"sync\",\"status\":\"Success\","
			    "\"status_code\":200,\"operation\":\"\","
			    "\"error_code\":0,\"error\":\"\","
			    "\"metadata\":{}}");
	assert_int_equal(len, strlen(out));
	tm_free(out);
}

static void test_error(void **state)
{
	(void)state;
	size_t len;
	char *out = envelope_error(404, "not found", &len);
	assert_string_equal(out,
			    "{\"type\":\"error\",\"status\":\"Failure\","
			    "\"status_code\":404,\"operation\":\"\","
			    "\"error_code\":404,\"error\":\"not found\","
			    "\"metadata\":null}");
	assert_int_equal(len, strlen(out));
	tm_free(out);
}

static void test_error_escapes_message(void **state)
{
	(void)state;
	char *out = envelope_error(400, "bad \"quote\"\n", NULL);
	cJSON *json = cJSON_Parse(out);
	assert_non_null(json);
	assert_string_equal(cJSON_GetObjectItem(json, "error")->valuestring,
			    "bad \"quote\"\n");
	cJSON_Delete(json);
	tm_free(out);
}

static void test_reason(void **state)
{
	(void)state;
	assert_string_equal(envelope_reason(200), "OK");
	assert_string_equal(envelope_reason(404), "Not Found");
	assert_string_equal(envelope_reason(431),
			    "Request Header Fields Too Large");
	assert_non_null(envelope_reason(799));
}

static void test_etag_known_value(void **state)
{
	(void)state;
	char etag[65];
	cJSON *v = cJSON_Parse("{ \"a\" : 1 }");
	envelope_etag(v, etag);
	/* sha256('{"a":1}'): the unformatted encoding is hashed. */
	assert_string_equal(etag, "015abd7f5cc57a2dd94b7590f04ad808"
				  "4273905ee33ec5cebeae62276a97f862");
	cJSON_Delete(v);
}

static void test_etag_deterministic(void **state)
{
	(void)state;
	char a[65];
	char b[65];
	char c[65];
	cJSON *v1 = cJSON_Parse("{\"config\":{\"k\":\"v\"},\"n\":[1,2]}");
	cJSON *v2 = cJSON_Parse("{\"config\":{\"k\":\"v\"},\"n\":[1,2]}");
	cJSON *v3 = cJSON_Parse("{\"config\":{\"k\":\"w\"},\"n\":[1,2]}");
	envelope_etag(v1, a);
	envelope_etag(v1, b);
	assert_string_equal(a, b);
	envelope_etag(v2, b);
	assert_string_equal(a, b);
	envelope_etag(v3, c);
	assert_string_not_equal(a, c);
	assert_int_equal(strlen(a), 64);
	assert_int_equal(strspn(a, "0123456789abcdef"), 64);
	cJSON_Delete(v1);
	cJSON_Delete(v2);
	cJSON_Delete(v3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sync_with_metadata),
		cmocka_unit_test(test_sync_array_metadata),
		cmocka_unit_test(test_sync_without_metadata),
		cmocka_unit_test(test_error),
		cmocka_unit_test(test_error_escapes_message),
		cmocka_unit_test(test_reason),
		cmocka_unit_test(test_etag_known_value),
		cmocka_unit_test(test_etag_deterministic),
	};
	return cmocka_run_group_tests_name("rest-envelope", tests, NULL, NULL);
}

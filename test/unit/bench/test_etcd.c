/* bench-sql's etcd target: the request bodies decode to the keys and
 * values meant, and only answers that hold what was asked count (the
 * answers below are etcd 3.4's, as its JSON gateway sent them). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "test/bench/bench_etcd.h"

/* The base64 string FIELD of OBJ, decoded into OUT. */
static const char *decoded(const cJSON *obj, const char *field, char *out,
			   size_t cap)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, field);
	assert_true(cJSON_IsString(v));
	size_t len = strlen(v->valuestring);
	assert_true(len / 4 * 3 < cap);
	int n =
	    EVP_DecodeBlock((unsigned char *)out,
			    (const unsigned char *)v->valuestring, (int)len);
	assert_true(n >= 0);
	/* EVP_DecodeBlock counts the bytes the padding stands for. */
	while (len > 0 && v->valuestring[--len] == '=') {
		n--;
	}
	out[n] = '\0';
	return out;
}

static void put_of_a_fresh_key(void **state)
{
	(void)state;
	char body[256];
	char want[64];
	char got[64];
	etcd_put_body(body, sizeof body, 7);
	cJSON *j = cJSON_Parse(body);
	assert_non_null(j);
	snprintf(want, sizeof want, "bench-%ld-7", (long)getpid());
	assert_string_equal(decoded(j, "key", got, sizeof got), want);
	assert_string_equal(decoded(j, "value", got, sizeof got), "value-7");
	cJSON_Delete(j);
}

static void range_linearizable_or_serializable(void **state)
{
	(void)state;
	char body[256];
	char got[64];
	etcd_range_body(body, sizeof body, 42, false);
	cJSON *j = cJSON_Parse(body);
	assert_non_null(j);
	assert_string_equal(decoded(j, "key", got, sizeof got),
			    "bench-read-42");
	assert_null(cJSON_GetObjectItemCaseSensitive(j, "serializable"));
	cJSON_Delete(j);
	etcd_range_body(body, sizeof body, 42, true);
	j = cJSON_Parse(body);
	assert_non_null(j);
	assert_true(
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "serializable")));
	cJSON_Delete(j);
}

static void txn_puts_the_keys_reads_read(void **state)
{
	(void)state;
	static char body[100 * 96];
	char got[64];
	assert_int_equal(etcd_txn_body(body, sizeof body, 901, 100), 0);
	cJSON *j = cJSON_Parse(body);
	assert_non_null(j);
	const cJSON *ops = cJSON_GetObjectItemCaseSensitive(j, "success");
	assert_int_equal(cJSON_GetArraySize(ops), 100);
	const cJSON *first = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetArrayItem(ops, 0), "requestPut");
	const cJSON *last = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetArrayItem(ops, 99), "requestPut");
	assert_string_equal(decoded(first, "key", got, sizeof got),
			    "bench-read-901");
	assert_string_equal(decoded(first, "value", got, sizeof got),
			    "value-901");
	assert_string_equal(decoded(last, "key", got, sizeof got),
			    "bench-read-1000");
	cJSON_Delete(j);
	/* A buffer too small is said, not sent cut. */
	assert_int_equal(etcd_txn_body(body, 200, 1, 100), -1);
}

static const char header[] =
    "{\"header\":{\"cluster_id\":\"3048721435792676329\",\"member_id\":"
    "\"314479676772750025\",\"revision\":\"2\",\"raft_term\":\"2\"}";

static void answers_that_count(void **state)
{
	(void)state;
	char put[512];
	char range[512];
	char missing[512];
	snprintf(put, sizeof put, "%s}", header);
	snprintf(range, sizeof range,
		 "%s,\"kvs\":[{\"key\":\"azE=\",\"create_revision\":\"2\","
		 "\"mod_revision\":\"2\",\"version\":\"1\",\"value\":"
		 "\"djE=\"}],\"count\":\"1\"}",
		 header);
	snprintf(missing, sizeof missing, "%s}", header);
	assert_true(etcd_answer_ok(false, put));
	assert_true(etcd_answer_ok(true, range));
	/* A range of a key nobody wrote is a 200 with no kvs. */
	assert_false(etcd_answer_ok(true, missing));
	assert_false(etcd_answer_ok(
	    false,
	    "{\"error\":\"etcdserver: request timed out\","
	    "\"message\":\"etcdserver: request timed out\",\"code\":14}"));
	assert_false(etcd_answer_ok(false, ""));
	assert_false(etcd_answer_ok(true, ""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(put_of_a_fresh_key),
	    cmocka_unit_test(range_linearizable_or_serializable),
	    cmocka_unit_test(txn_puts_the_keys_reads_read),
	    cmocka_unit_test(answers_that_count),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The heartbeat's messages (internal/heartbeat/beat.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "internal/heartbeat/beat.h"
#include "internal/lib/err.h"
#include "internal/lib/mem.h"

#define FP "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const struct beat_member two[] = {
    {.id = 1,
     .name = "n1",
     .address = "127.0.0.1:8443",
     .role = "voter",
     .failure_domain = "",
     .fingerprint = FP},
    {.id = 9007199254740992ull,
     .name = "n2",
     .address = "[::1]:9000",
     .role = "spare",
     .failure_domain = "rack2",
     .fingerprint = ""},
};

static void request_round_trip(void **state)
{
	(void)state;
	struct beat_request r = {.leader_id = 1,
				 .term = 7,
				 .index = 123456789012345ull,
				 .members = (struct beat_member *)two,
				 .n_members = 2};
	char *text = beat_request_format(&r);
	struct beat_request back;
	char errmsg[TM_ERRMSG_SIZE] = "";
	assert_int_equal(beat_request_parse(text, strlen(text), &back, errmsg),
			 0);
	assert_int_equal(back.leader_id, 1);
	assert_int_equal(back.term, 7);
	assert_int_equal(back.index, 123456789012345ull);
	assert_int_equal(back.n_members, 2);
	assert_memory_equal(&back.members[0], &two[0], sizeof two[0]);
	assert_int_equal(back.members[1].id, 9007199254740992ull);
	assert_string_equal(back.members[1].failure_domain, "rack2");
	assert_false(back.has_snapshot_floor); /* not sent: not said */
	beat_request_clear(&back);
	tm_free(text);
}

/* The members' oldest last snapshot travels with the request, 0 included;
 * a request without it (an older leader) still parses. */
static void request_snapshot_floor(void **state)
{
	(void)state;
	uint64_t floors[] = {0, 4096};
	for (size_t i = 0; i < 2; i++) {
		struct beat_request r = {.leader_id = 1,
					 .term = 7,
					 .index = 9,
					 .members = (struct beat_member *)two,
					 .n_members = 2,
					 .has_snapshot_floor = true,
					 .snapshot_floor = floors[i]};
		char *text = beat_request_format(&r);
		struct beat_request back;
		char errmsg[TM_ERRMSG_SIZE] = "";
		assert_int_equal(
		    beat_request_parse(text, strlen(text), &back, errmsg), 0);
		assert_true(back.has_snapshot_floor);
		assert_int_equal(back.snapshot_floor, floors[i]);
		beat_request_clear(&back);
		tm_free(text);
	}
}

static void answer_round_trip(void **state)
{
	(void)state;
	struct beat_answer a = {.id = 42,
				.name = "n3",
				.address = "127.0.0.3:8443",
				.version = "0.1.0",
				.schema_version = 5,
				.api_extensions = 12,
				.applied_index = 99,
				.snapshot_index = 64,
				.loop_lag_p99_ms = 1.5,
				.load_average = 0.25};
	cJSON *meta = beat_answer_json(&a);
	cJSON *env = cJSON_CreateObject();
	cJSON_AddStringToObject(env, "type", "sync");
	cJSON_AddItemToObject(env, "metadata", meta);
	char *text = cJSON_PrintUnformatted(env);
	struct beat_answer back;
	char errmsg[TM_ERRMSG_SIZE] = "";
	assert_int_equal(beat_answer_parse(text, strlen(text), &back, errmsg),
			 0);
	assert_memory_equal(&back, &a, sizeof a);
	cJSON_free(text);
	cJSON_Delete(env);
}

/* The hash chain travels with the answer; an answer without it (an older
 * build) still parses, as one with a malformed chain does not. */
#define ANSWER_HEAD                                                            \
	"{\"type\":\"sync\",\"metadata\":{\"id\":7,\"name\":\"n2\","           \
	"\"address\":\"127.0.0.2:8443\",\"version\":\"0.1.0\","                 \
	"\"schema_version\":5,\"api_extensions\":12,\"applied_index\":99,"      \
	"\"loop_lag_p99_ms\":1.5,\"load_average\":0.25"

static void answer_chain(void **state)
{
	(void)state;
	struct beat_answer a = {.id = 42,
				.name = "n3",
				.address = "127.0.0.3:8443",
				.version = "0.1.0",
				.applied_index = 99,
				.has_chain = true,
				.chain = "00112233445566778899aabbccddeeff",
				.chain_base = 17};
	cJSON *env = cJSON_CreateObject();
	cJSON_AddItemToObject(env, "metadata", beat_answer_json(&a));
	char *text = cJSON_PrintUnformatted(env);
	struct beat_answer back;
	char errmsg[TM_ERRMSG_SIZE] = "";
	assert_int_equal(beat_answer_parse(text, strlen(text), &back, errmsg),
			 0);
	assert_memory_equal(&back, &a, sizeof a);
	cJSON_free(text);
	cJSON_Delete(env);

	const char *old = ANSWER_HEAD "}}";
	assert_int_equal(beat_answer_parse(old, strlen(old), &back, errmsg), 0);
	assert_false(back.has_chain);
	assert_int_equal(back.snapshot_index, 0);
	const char *bad_snapshot = ANSWER_HEAD ",\"snapshot_index\":-1}}";
	assert_int_equal(beat_answer_parse(bad_snapshot, strlen(bad_snapshot),
					   &back, errmsg),
			 TM_INVALID);
	assert_non_null(strstr(errmsg, "snapshot_index"));

	const char *bad[] = {
	    ANSWER_HEAD ",\"chain\":\"00112233445566778899aabbccddeeff\"}}",
	    ANSWER_HEAD ",\"chain\":\"0011\",\"chain_base\":0}}",
	    ANSWER_HEAD ",\"chain\":\"00112233445566778899AABBCCDDEEFF\","
			"\"chain_base\":0}}",
	    ANSWER_HEAD ",\"chain\":7,\"chain_base\":0}}",
	    ANSWER_HEAD ",\"chain_base\":3}}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		assert_int_equal(
		    beat_answer_parse(bad[i], strlen(bad[i]), &back, errmsg),
		    TM_INVALID);
		assert_non_null(strstr(errmsg, "chain"));
	}
}

static void request_bad(const char *body, int code, const char *message)
{
	struct beat_request r;
	char errmsg[TM_ERRMSG_SIZE] = "";
	assert_int_equal(beat_request_parse(body, strlen(body), &r, errmsg),
			 code);
	assert_string_equal(errmsg, message);
}

#define M1 "{\"id\":1,\"name\":\"n1\",\"address\":\"127.0.0.1:8443\","
#define M1_END                                                                 \
	"\"role\":\"voter\",\"failure_domain\":\"\",\"fingerprint\":\"\"}"

static void request_refusals(void **state)
{
	(void)state;
	request_bad("[]", TM_INVALID, "heartbeat is not a JSON object");
	request_bad("{\"x\":1}", TM_INVALID, "unknown field \"x\"");
	request_bad("{\"leader_id\":1,\"term\":1,\"index\":1,\"members\":[" M1
		    M1_END "],\"snapshot_floor\":\"x\"}",
		    TM_INVALID,
		    "field \"snapshot_floor\" must be an integer from 0 to "
		    "9007199254740992");
	request_bad("{\"leader_id\":-1}", TM_INVALID,
		    "field \"leader_id\" must be an integer from 0 to "
		    "9007199254740992");
	request_bad("{\"leader_id\":1,\"term\":1,\"index\":1,\"members\":[]}",
		    TM_INVALID,
		    "field \"members\" must be an array of 1 to 1000 members");
	request_bad("{\"leader_id\":1,\"term\":1,\"index\":1,\"members\":["
		    "{\"id\":1,\"name\":\"n1\",\"address\":\"127.0.0.1\","
		    "\"role\":\"voter\",\"failure_domain\":\"\","
		    "\"fingerprint\":\"\"}]}",
		    TM_INVALID,
		    "member 0: field \"address\": not in canonical form");
	request_bad("{\"leader_id\":1,\"term\":1,\"index\":1,\"members\":[" M1
		    "\"role\":\"boss\",\"failure_domain\":\"\","
		    "\"fingerprint\":\"\"}]}",
		    TM_INVALID,
		    "member 0: field \"role\" must be voter, standby or spare");
	request_bad("{\"leader_id\":1,\"term\":1,\"index\":1,\"members\":[" M1
		    "\"role\":\"voter\",\"failure_domain\":\"\","
		    "\"fingerprint\":\"XYZ\"}]}",
		    TM_INVALID,
		    "member 0: field \"fingerprint\" must be 64 lowercase hex "
		    "digits");
	request_bad(
	    "{\"leader_id\":1,\"term\":1,\"index\":1,\"members\":[" M1 M1_END
	    "," M1 M1_END "]}",
	    TM_INVALID, "members 0 and 1 share an id, a name or an address");
	request_bad("{\"leader_id\":1,\"term\":1,\"index\":1,\"members\":["
		    "{\"id\":1,\"name\":\"-bad\",\"address\":\"127.0.0.1:1\","
		    "\"role\":\"voter\",\"failure_domain\":\"\","
		    "\"fingerprint\":\"\"}]}",
		    TM_INVALID,
		    "member 0: field \"name\": member name \"-bad\" starts "
		    "with '-'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(request_round_trip),
	    cmocka_unit_test(request_snapshot_floor),
	    cmocka_unit_test(answer_round_trip),
	    cmocka_unit_test(answer_chain),
	    cmocka_unit_test(request_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

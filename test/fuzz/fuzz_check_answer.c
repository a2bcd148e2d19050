/* Fuzz target: a member's answer to a content check
 * (internal/api/check_answer.h), which the leader takes from the network.
 * The parser never crashes or leaks; a refusal has a message; an accepted
 * answer formats to an envelope that parses again to the same answer. */
#include <stdint.h>
#include <string.h>

#include "internal/api/check_answer.h"
#include "internal/lib/assert.h"
#include "internal/lib/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct check_answer a;
	char errmsg[TM_ERRMSG_SIZE] = "";
	int rv = check_answer_parse((const char *)data, size, &a, errmsg);
	if (rv != 0) {
		INVARIANT(rv == TM_INVALID && errmsg[0] != '\0');
		return 0;
	}
	INVARIANT(strlen(a.chain) == 32 && strlen(a.content) == 32);
	cJSON *env = cJSON_CreateObject();
	cJSON_AddItemToObject(env, "metadata", check_answer_json(&a));
	char *text = cJSON_PrintUnformatted(env);
	struct check_answer again;
	INVARIANT(check_answer_parse(text, strlen(text), &again, errmsg) == 0);
	INVARIANT(memcmp(&a, &again, sizeof a) == 0);
	cJSON_free(text);
	cJSON_Delete(env);
	return 0;
}

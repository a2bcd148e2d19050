/* Fuzz target: another member's answer about a configuration change
 * (its applied index, the leader's write index) to config_answer_index:
 * no crash or leak; an accepted index is the envelope's own integer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal/api/config_inforce.h"
#include "internal/lib/assert.h"
#include "internal/lib/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"applied_index", "index"};
	for (size_t i = 0; i < 2; i++) {
		uint64_t v = UINT64_MAX;
		if (!config_answer_index((const char *)data, size, names[i],
					 &v)) {
			INVARIANT(v == UINT64_MAX); /* untouched */
			continue;
		}
		cJSON *root = json_parse_exact((const char *)data, size, NULL);
		const cJSON *meta =
		    cJSON_GetObjectItemCaseSensitive(root, "metadata");
		int64_t want;
		INVARIANT(json_get_int64(
		    cJSON_GetObjectItemCaseSensitive(meta, names[i]), &want));
		INVARIANT(want >= 0 && (uint64_t)want == v);
		cJSON_Delete(root);
	}
	return 0;
}

/* Fuzz target: exact-number JSON parsing never crashes, and every number
 * it accepts as an int64 prints back as the same integer. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/lib/assert.h"
#include "internal/lib/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(const cJSON *item)
{
	for (; item != NULL; item = item->next) {
		int64_t v;
		if (json_get_int64(item, &v)) {
			cJSON *raw = json_create_int64(v);
			char *text = cJSON_PrintUnformatted(raw);
			INVARIANT(strtoll(text, NULL, 10) == v);
			cJSON_free(text);
			cJSON_Delete(raw);
		}
		walk(item->child);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *root = json_parse_exact((const char *)data, size, NULL);
	walk(root);
	cJSON_Delete(root);
	return 0;
}

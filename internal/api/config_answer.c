/* Reading an index out of another member's answer (config_inforce.h). */
#include "internal/api/config_inforce.h"
#include "internal/lib/json.h"

bool config_answer_index(const char *body, size_t len, const char *name,
			 uint64_t *out)
{
	if (body == NULL) {
		return false;
	}
	cJSON *root = json_parse_exact(body, len, NULL);
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(root, "metadata");
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(meta, name);
	int64_t v;
	bool ok = cJSON_IsObject(meta) && json_get_int64(item, &v) && v >= 0;
	if (ok) {
		*out = (uint64_t)v;
	}
	cJSON_Delete(root);
	return ok;
}

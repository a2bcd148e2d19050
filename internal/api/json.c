#include <string.h>

#include "internal/api/api.h"

bool api_check_fields(struct rest_request *req, const cJSON *obj,
		      const char *const *allowed)
{
	if (!cJSON_IsObject(obj)) {
		rest_respond_error(req, 400, "request body must be a JSON object");
		return false;
	}
	const cJSON *item;
	cJSON_ArrayForEach(item, obj)
	{
		bool known = false;
		for (const char *const *a = allowed; *a != NULL; a++) {
			if (strcmp(item->string, *a) == 0) {
				known = true;
				break;
			}
		}
		if (!known) {
			rest_respond_error(req, 400, "unknown field \"%s\"",
					   item->string);
			return false;
		}
	}
	return true;
}

/* Every key with its scope, type, default and value (config.h). */
#include <string.h>

#include "internal/config/config.h"
#include "internal/lib/assert.h"

const char *config_scope_name(enum config_scope scope)
{
	return scope == CONFIG_SCOPE_GLOBAL ? "cluster" : "member";
}

const char *config_type_name(enum config_type type)
{
	switch (type) {
	case CONFIG_STRING:
		return "string";
	case CONFIG_BOOL:
		return "bool";
	case CONFIG_INT:
		return "int";
	case CONFIG_ADDRESS:
		return "address";
	case CONFIG_DURATION:
		return "duration";
	}
	IMPOSSIBLE("unknown config type");
}

static void add_key(cJSON *out, const struct config_key *k, const char *name,
		    const char *value, bool set)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "key", name);
	cJSON_AddStringToObject(o, "scope", config_scope_name(k->scope));
	cJSON_AddStringToObject(o, "type", config_type_name(k->type));
	cJSON_AddStringToObject(o, "default", k->default_value);
	cJSON_AddStringToObject(o, "value", value);
	cJSON_AddBoolToObject(o, "set", set);
	cJSON_AddStringToObject(o, "description", k->description);
	cJSON_AddItemToArray(out, o);
}

/* The "user.<suffix>" keys of CONFIG, sorted by name. */
static void add_user_keys(cJSON *out, const struct config_key *user,
			  const cJSON *config)
{
	cJSON *sorted = config_merge(config, NULL);
	const cJSON *item;
	cJSON_ArrayForEach(item, sorted)
	{
		if (config_lookup(item->string) == user &&
		    cJSON_IsString(item)) {
			add_key(out, user, item->string, item->valuestring,
				true);
		}
	}
	cJSON_Delete(sorted);
}

cJSON *config_describe(const cJSON *config)
{
	size_t n;
	const struct config_key *keys = config_keys(&n);
	cJSON *out = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++) {
		const struct config_key *k = &keys[i];
		if (strcmp(k->name, "user.*") == 0) {
			add_key(out, k, k->name, "", false);
			add_user_keys(out, k, config);
			continue;
		}
		const cJSON *set =
		    cJSON_GetObjectItemCaseSensitive(config, k->name);
		add_key(out, k, k->name, config_get(config, k->name),
			cJSON_IsString(set));
	}
	return out;
}

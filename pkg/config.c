/* Configuration helpers: /1.0/config. */
#include <string.h>

#include "pkg/internal.h"

static int config_bad_shape(struct thermionic_client *c, const char *what)
{
	return tmc_fail(c, THERMIONIC_ERR_PROTO,
			"malformed response from %s: %s", c->target, what);
}

int thermionic_config_get(struct thermionic_client *client, cJSON **config,
			  char **etag)
{
	const cJSON *item;
	int rv;

	if (etag != NULL) {
		*etag = NULL;
	}
	if (config == NULL) {
		return THERMIONIC_ERR_INVALID;
	}
	*config = NULL;
	if (client == NULL) {
		return THERMIONIC_ERR_INVALID;
	}
	rv = tmc_call(client, "GET", "/1.0/config", NULL, NULL, config, etag);
	if (rv != THERMIONIC_OK) {
		return rv;
	}
	if (*config == NULL) {
		/* "metadata": null reads as "nothing set". */
		*config = cJSON_CreateObject();
		if (*config == NULL) {
			rv = tmc_fail(client, THERMIONIC_ERR_NOMEM,
				      "out of memory");
			goto err;
		}
	}
	if (!cJSON_IsObject(*config)) {
		rv = config_bad_shape(client, "config is not an object");
		goto err;
	}
	cJSON_ArrayForEach(item, *config)
	{
		if (!cJSON_IsString(item)) {
			rv = tmc_fail(client, THERMIONIC_ERR_PROTO,
				      "malformed response from %s: config "
				      "key \"%.128s\" is not a string",
				      client->target, item->string);
			goto err;
		}
	}
	return THERMIONIC_OK;
err:
	cJSON_Delete(*config);
	*config = NULL;
	if (etag != NULL) {
		thermionic_free(*etag);
		*etag = NULL;
	}
	return rv;
}

/* Is ITEM's member NAME a string (or, BOOLEAN, a bool)? */
static bool has(const cJSON *item, const char *name, bool boolean)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(item, name);
	return boolean ? cJSON_IsBool(v) : cJSON_IsString(v);
}

int thermionic_config_get_all(struct thermionic_client *client, cJSON **keys)
{
	const cJSON *item;
	int rv;

	if (keys == NULL) {
		return THERMIONIC_ERR_INVALID;
	}
	*keys = NULL;
	if (client == NULL) {
		return THERMIONIC_ERR_INVALID;
	}
	rv = tmc_call(client, "GET", "/1.0/config?all=1", NULL, NULL, keys,
		      NULL);
	if (rv != THERMIONIC_OK) {
		return rv;
	}
	if (!cJSON_IsArray(*keys)) {
		rv = config_bad_shape(client, "the key list is not an array");
		goto err;
	}
	cJSON_ArrayForEach(item, *keys)
	{
		if (!has(item, "key", false) || !has(item, "scope", false) ||
		    !has(item, "type", false) || !has(item, "default", false) ||
		    !has(item, "value", false) || !has(item, "set", true)) {
			rv = config_bad_shape(client, "a key lacks key, scope, "
						      "type, default, value or "
						      "set");
			goto err;
		}
	}
	return THERMIONIC_OK;
err:
	cJSON_Delete(*keys);
	*keys = NULL;
	return rv;
}

int thermionic_config_patch_result(struct thermionic_client *client,
				   const cJSON *changes, const char *if_match,
				   cJSON **result)
{
	if (result != NULL) {
		*result = NULL;
	}
	if (client == NULL) {
		return THERMIONIC_ERR_INVALID;
	}
	if (!cJSON_IsObject(changes)) {
		return tmc_fail(client, THERMIONIC_ERR_INVALID,
				"config changes must be a JSON object");
	}
	return tmc_call(client, "PATCH", "/1.0/config", changes, if_match,
			result, NULL);
}

int thermionic_config_patch(struct thermionic_client *client,
			    const cJSON *changes, const char *if_match)
{
	return thermionic_config_patch_result(client, changes, if_match, NULL);
}

int thermionic_config_replace(struct thermionic_client *client,
			      const cJSON *config, const char *if_match)
{
	if (client == NULL) {
		return THERMIONIC_ERR_INVALID;
	}
	if (!cJSON_IsObject(config)) {
		return tmc_fail(client, THERMIONIC_ERR_INVALID,
				"config must be a JSON object");
	}
	return tmc_call(client, "PUT", "/1.0/config", config, if_match, NULL,
			NULL);
}

/* PATCH {KEY: VALUE}, VALUE NULL meaning JSON null. */
static int config_patch_one(struct thermionic_client *c, const char *key,
			    const char *value, const char *if_match)
{
	cJSON *changes;
	cJSON *item;
	int rv;

	if (key == NULL || key[0] == '\0') {
		return tmc_fail(c, THERMIONIC_ERR_INVALID,
				"config key must not be empty");
	}
	changes = cJSON_CreateObject();
	item = value != NULL ? cJSON_CreateString(value) : cJSON_CreateNull();
	if (changes == NULL || item == NULL ||
	    !cJSON_AddItemToObject(changes, key, item)) {
		cJSON_Delete(changes);
		cJSON_Delete(item);
		return tmc_fail(c, THERMIONIC_ERR_NOMEM, "out of memory");
	}
	rv = thermionic_config_patch(c, changes, if_match);
	cJSON_Delete(changes);
	return rv;
}

int thermionic_config_set(struct thermionic_client *client, const char *key,
			  const char *value, const char *if_match)
{
	if (client == NULL) {
		return THERMIONIC_ERR_INVALID;
	}
	if (value == NULL) {
		return tmc_fail(client, THERMIONIC_ERR_INVALID,
				"config value must not be NULL (use "
				"thermionic_config_unset)");
	}
	return config_patch_one(client, key, value, if_match);
}

int thermionic_config_unset(struct thermionic_client *client, const char *key,
			    const char *if_match)
{
	if (client == NULL) {
		return THERMIONIC_ERR_INVALID;
	}
	return config_patch_one(client, key, NULL, if_match);
}

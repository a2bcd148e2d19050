/* Clustering helpers: /1.0/cluster (this member's clustering state,
 * enable, join) and /1.0/cluster/tokens (join tokens). Members are in
 * cluster_member.c. */
#include <stdio.h>
#include <string.h>

#include "pkg/cluster.h"

int tmc_cluster_path(struct thermionic_client *c, const char *prefix,
		     const char *name, const char *query, char **path)
{
	char *escaped;
	size_t len;

	*path = NULL;
	if (name == NULL || name[0] == '\0') {
		return tmc_fail(c, THERMIONIC_ERR_INVALID, "empty name");
	}
	/* libcurl would fold these path segments away. */
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		return tmc_fail(c, THERMIONIC_ERR_INVALID,
				"invalid name \"%s\"", name);
	}
	escaped = curl_easy_escape(c->curl, name, 0);
	if (escaped == NULL) {
		return tmc_fail(c, THERMIONIC_ERR_NOMEM, "out of memory");
	}
	len = strlen(prefix) + 1 + strlen(escaped) +
	      (query != NULL ? strlen(query) : 0) + 1;
	*path = malloc(len);
	if (*path != NULL) {
		snprintf(*path, len, "%s/%s%s", prefix, escaped,
			 query != NULL ? query : "");
	}
	curl_free(escaped);
	return *path != NULL
		   ? THERMIONIC_OK
		   : tmc_fail(c, THERMIONIC_ERR_NOMEM, "out of memory");
}

int tmc_cluster_check(struct thermionic_client *c, cJSON **value,
		      const char *key, const char *what)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(*value, key);
	if (cJSON_IsObject(*value) && cJSON_IsString(item)) {
		return THERMIONIC_OK;
	}
	cJSON_Delete(*value);
	*value = NULL;
	return tmc_fail(c, THERMIONIC_ERR_PROTO,
			"malformed response from %s: %s without \"%s\"",
			c->target, what, key);
}

int tmc_cluster_check_list(struct thermionic_client *c, cJSON **list,
			   const char *key, const char *what)
{
	const cJSON *entry;

	if (*list == NULL) {
		*list = cJSON_CreateArray();
		if (*list == NULL) {
			return tmc_fail(c, THERMIONIC_ERR_NOMEM,
					"out of memory");
		}
	}
	if (!cJSON_IsArray(*list)) {
		cJSON_Delete(*list);
		*list = NULL;
		return tmc_fail(c, THERMIONIC_ERR_PROTO,
				"malformed response from %s: %s list is not "
				"an array",
				c->target, what);
	}
	cJSON_ArrayForEach(entry, *list)
	{
		const cJSON *item =
		    cJSON_GetObjectItemCaseSensitive(entry, key);
		if (!cJSON_IsObject(entry) || !cJSON_IsString(item)) {
			cJSON_Delete(*list);
			*list = NULL;
			return tmc_fail(c, THERMIONIC_ERR_PROTO,
					"malformed response from %s: %s "
					"without \"%s\"",
					c->target, what, key);
		}
	}
	return THERMIONIC_OK;
}

/* METHOD /1.0/cluster with BODY (may be NULL); *CLUSTER the state. */
static int cluster_call(struct thermionic_client *c, const char *method,
			const cJSON *body, cJSON **cluster)
{
	int rv = tmc_call(c, method, "/1.0/cluster", body, NULL, cluster, NULL);
	if (rv != THERMIONIC_OK) {
		return rv;
	}
	return tmc_cluster_check(c, cluster, "state", "cluster state");
}

int thermionic_cluster_get(struct thermionic_client *client, cJSON **cluster)
{
	if (cluster == NULL) {
		return THERMIONIC_ERR_INVALID;
	}
	*cluster = NULL;
	if (client == NULL) {
		return THERMIONIC_ERR_INVALID;
	}
	return cluster_call(client, "GET", NULL, cluster);
}

/* PUT /1.0/cluster with BODY (owned: deleted here). */
static int cluster_put(struct thermionic_client *c, cJSON *body, bool body_ok,
		       cJSON **cluster)
{
	cJSON *state = NULL;
	int rv;

	if (body == NULL || !body_ok) {
		cJSON_Delete(body);
		return tmc_fail(c, THERMIONIC_ERR_NOMEM, "out of memory");
	}
	rv = cluster_call(c, "PUT", body, &state);
	cJSON_Delete(body);
	if (cluster != NULL) {
		*cluster = state;
	} else {
		cJSON_Delete(state);
	}
	return rv;
}

int thermionic_cluster_enable(struct thermionic_client *client,
			      const char *member_name, cJSON **cluster)
{
	cJSON *body;
	bool ok;

	if (cluster != NULL) {
		*cluster = NULL;
	}
	if (client == NULL) {
		return THERMIONIC_ERR_INVALID;
	}
	if (member_name == NULL || member_name[0] == '\0') {
		return tmc_fail(client, THERMIONIC_ERR_INVALID,
				"no member name given");
	}
	body = cJSON_CreateObject();
	ok = cJSON_AddTrueToObject(body, "enabled") != NULL &&
	     cJSON_AddStringToObject(body, "member_name", member_name) != NULL;
	return cluster_put(client, body, ok, cluster);
}

int thermionic_cluster_join(struct thermionic_client *client, const char *token,
			    const char *address, bool force, cJSON **cluster)
{
	cJSON *body;
	bool ok;

	if (cluster != NULL) {
		*cluster = NULL;
	}
	if (client == NULL) {
		return THERMIONIC_ERR_INVALID;
	}
	if (token == NULL || token[0] == '\0') {
		return tmc_fail(client, THERMIONIC_ERR_INVALID,
				"no join token given");
	}
	body = cJSON_CreateObject();
	ok = cJSON_AddTrueToObject(body, "enabled") != NULL &&
	     cJSON_AddStringToObject(body, "token", token) != NULL &&
	     (address == NULL ||
	      cJSON_AddStringToObject(body, "address", address) != NULL) &&
	     cJSON_AddBoolToObject(body, "force", force) != NULL;
	return cluster_put(client, body, ok, cluster);
}

int thermionic_cluster_token_create(struct thermionic_client *client,
				    const char *name, const char *expiry,
				    cJSON **token)
{
	cJSON *body;
	int rv;

	if (token == NULL) {
		return THERMIONIC_ERR_INVALID;
	}
	*token = NULL;
	if (client == NULL) {
		return THERMIONIC_ERR_INVALID;
	}
	if (name == NULL || name[0] == '\0') {
		return tmc_fail(client, THERMIONIC_ERR_INVALID,
				"no member name given");
	}
	body = cJSON_CreateObject();
	if (cJSON_AddStringToObject(body, "name", name) == NULL ||
	    (expiry != NULL &&
	     cJSON_AddStringToObject(body, "expiry", expiry) == NULL)) {
		cJSON_Delete(body);
		return tmc_fail(client, THERMIONIC_ERR_NOMEM, "out of memory");
	}
	rv = tmc_call(client, "POST", "/1.0/cluster/members", body, NULL, token,
		      NULL);
	cJSON_Delete(body);
	if (rv != THERMIONIC_OK) {
		return rv;
	}
	return tmc_cluster_check(client, token, "token", "join token");
}

int thermionic_cluster_token_list(struct thermionic_client *client,
				  cJSON **list)
{
	int rv;

	if (list == NULL) {
		return THERMIONIC_ERR_INVALID;
	}
	*list = NULL;
	if (client == NULL) {
		return THERMIONIC_ERR_INVALID;
	}
	rv = tmc_call(client, "GET", "/1.0/cluster/tokens", NULL, NULL, list,
		      NULL);
	if (rv != THERMIONIC_OK) {
		return rv;
	}
	return tmc_cluster_check_list(client, list, "name", "join token");
}

int thermionic_cluster_check(struct thermionic_client *client, cJSON **list)
{
	int rv;

	if (list == NULL) {
		return THERMIONIC_ERR_INVALID;
	}
	*list = NULL;
	if (client == NULL) {
		return THERMIONIC_ERR_INVALID;
	}
	rv = tmc_call(client, "GET", "/1.0/cluster/check", NULL, NULL, list,
		      NULL);
	if (rv != THERMIONIC_OK) {
		return rv;
	}
	return tmc_cluster_check_list(client, list, "verdict",
				      "consistency check");
}

int thermionic_cluster_token_revoke(struct thermionic_client *client,
				    const char *name)
{
	char *path;
	int rv;

	if (client == NULL) {
		return THERMIONIC_ERR_INVALID;
	}
	rv = tmc_cluster_path(client, "/1.0/cluster/tokens", name, NULL, &path);
	if (rv != THERMIONIC_OK) {
		return rv;
	}
	rv = tmc_call(client, "DELETE", path, NULL, NULL, NULL, NULL);
	free(path);
	return rv;
}

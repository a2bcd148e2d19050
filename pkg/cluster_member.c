/* Cluster member helpers: /1.0/cluster/members/{name}. */
#include <string.h>

#include "pkg/cluster.h"

#define MEMBERS "/1.0/cluster/members"

int thermionic_cluster_member_list(struct thermionic_client *client,
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
	rv = tmc_call(client, "GET", MEMBERS "?recursion=1", NULL, NULL, list,
		      NULL);
	if (rv != THERMIONIC_OK) {
		return rv;
	}
	return tmc_cluster_check_list(client, list, "name", "cluster member");
}

int thermionic_cluster_member_get(struct thermionic_client *client,
				  const char *name, cJSON **member)
{
	char *path;
	int rv;

	if (member == NULL) {
		return THERMIONIC_ERR_INVALID;
	}
	*member = NULL;
	if (client == NULL) {
		return THERMIONIC_ERR_INVALID;
	}
	rv = tmc_cluster_path(client, MEMBERS, name, NULL, &path);
	if (rv != THERMIONIC_OK) {
		return rv;
	}
	rv = tmc_call(client, "GET", path, NULL, NULL, member, NULL);
	free(path);
	if (rv != THERMIONIC_OK) {
		return rv;
	}
	return tmc_cluster_check(client, member, "name", "cluster member");
}

/* METHOD MEMBERS/NAME[QUERY] with BODY (borrowed, may be NULL). */
static int member_call(struct thermionic_client *c, const char *method,
		       const char *name, const char *query, const cJSON *body)
{
	char *path;
	int rv;

	rv = tmc_cluster_path(c, MEMBERS, name, query, &path);
	if (rv != THERMIONIC_OK) {
		return rv;
	}
	rv = tmc_call(c, method, path, body, NULL, NULL, NULL);
	free(path);
	return rv;
}

int thermionic_cluster_member_patch(struct thermionic_client *client,
				    const char *name, const cJSON *changes)
{
	if (client == NULL) {
		return THERMIONIC_ERR_INVALID;
	}
	if (!cJSON_IsObject(changes)) {
		return tmc_fail(client, THERMIONIC_ERR_INVALID,
				"member changes must be a JSON object");
	}
	return member_call(client, "PATCH", name, NULL, changes);
}

int thermionic_cluster_member_rename(struct thermionic_client *client,
				     const char *name, const char *new_name)
{
	cJSON *body;
	int rv;

	if (client == NULL) {
		return THERMIONIC_ERR_INVALID;
	}
	if (new_name == NULL || new_name[0] == '\0') {
		return tmc_fail(client, THERMIONIC_ERR_INVALID,
				"no new member name given");
	}
	body = cJSON_CreateObject();
	if (cJSON_AddStringToObject(body, "name", new_name) == NULL) {
		cJSON_Delete(body);
		return tmc_fail(client, THERMIONIC_ERR_NOMEM, "out of memory");
	}
	rv = member_call(client, "POST", name, NULL, body);
	cJSON_Delete(body);
	return rv;
}

int thermionic_cluster_member_remove(struct thermionic_client *client,
				     const char *name, bool force)
{
	if (client == NULL) {
		return THERMIONIC_ERR_INVALID;
	}
	return member_call(client, "DELETE", name, force ? "?force=1" : NULL,
			   NULL);
}

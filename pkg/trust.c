/* Trust store helpers: /1.0/certificates. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "pkg/internal.h"

/* Lowercase a fingerprint or prefix into OUT; false unless it is 1 to 64
 * hex digits (':' separators allowed). */
static bool trust_prefix(const char *in, char *out)
{
	size_t n = 0;
	if (in == NULL) {
		return false;
	}
	for (const char *p = in; *p != '\0'; p++) {
		if (*p == ':') {
			continue;
		}
		if (!isxdigit((unsigned char)*p) ||
		    n == THERMIONIC_FINGERPRINT_LEN) {
			return false;
		}
		out[n++] = (char)tolower((unsigned char)*p);
	}
	out[n] = '\0';
	return n > 0;
}

static int trust_check_entry(struct thermionic_client *c, const cJSON *e)
{
	const cJSON *fp = cJSON_GetObjectItemCaseSensitive(e, "fingerprint");
	if (!cJSON_IsObject(e) || !cJSON_IsString(fp)) {
		return tmc_fail(c, THERMIONIC_ERR_PROTO,
				"malformed response from %s: certificate "
				"entry without a fingerprint",
				c->target);
	}
	return THERMIONIC_OK;
}

int thermionic_trust_list(struct thermionic_client *client, cJSON **list)
{
	const cJSON *entry;
	int rv;

	if (list == NULL) {
		return THERMIONIC_ERR_INVALID;
	}
	*list = NULL;
	if (client == NULL) {
		return THERMIONIC_ERR_INVALID;
	}
	rv = tmc_call(client, "GET", "/1.0/certificates", NULL, NULL, list,
		      NULL);
	if (rv != THERMIONIC_OK) {
		return rv;
	}
	if (*list == NULL) {
		*list = cJSON_CreateArray();
		if (*list == NULL) {
			return tmc_fail(client, THERMIONIC_ERR_NOMEM,
					"out of memory");
		}
	}
	if (!cJSON_IsArray(*list)) {
		rv = tmc_fail(client, THERMIONIC_ERR_PROTO,
			      "malformed response from %s: certificate list "
			      "is not an array",
			      client->target);
		goto err;
	}
	cJSON_ArrayForEach(entry, *list)
	{
		rv = trust_check_entry(client, entry);
		if (rv != THERMIONIC_OK) {
			goto err;
		}
	}
	return THERMIONIC_OK;
err:
	cJSON_Delete(*list);
	*list = NULL;
	return rv;
}

int thermionic_trust_get(struct thermionic_client *client,
			 const char *fingerprint, cJSON **entry)
{
	char prefix[THERMIONIC_FINGERPRINT_LEN + 1];
	char path[64 + THERMIONIC_FINGERPRINT_LEN];
	int rv;

	if (entry == NULL) {
		return THERMIONIC_ERR_INVALID;
	}
	*entry = NULL;
	if (client == NULL) {
		return THERMIONIC_ERR_INVALID;
	}
	if (!trust_prefix(fingerprint, prefix)) {
		return tmc_fail(client, THERMIONIC_ERR_INVALID,
				"invalid fingerprint \"%.80s\": expected up "
				"to 64 hex digits",
				fingerprint == NULL ? "" : fingerprint);
	}
	snprintf(path, sizeof path, "/1.0/certificates/%s", prefix);
	rv = tmc_call(client, "GET", path, NULL, NULL, entry, NULL);
	if (rv == THERMIONIC_OK) {
		rv = trust_check_entry(client, *entry);
		if (rv != THERMIONIC_OK) {
			cJSON_Delete(*entry);
			*entry = NULL;
		}
	}
	return rv;
}

int thermionic_trust_add(struct thermionic_client *client, const char *pem,
			 const char *name, cJSON **entry)
{
	cJSON *body;
	cJSON *stored = NULL;
	int rv;

	if (entry != NULL) {
		*entry = NULL;
	}
	if (client == NULL) {
		return THERMIONIC_ERR_INVALID;
	}
	if (pem == NULL || pem[0] == '\0') {
		return tmc_fail(client, THERMIONIC_ERR_INVALID,
				"no certificate given");
	}
	body = cJSON_CreateObject();
	if (body == NULL ||
	    cJSON_AddStringToObject(body, "certificate", pem) == NULL ||
	    (name != NULL &&
	     cJSON_AddStringToObject(body, "name", name) == NULL)) {
		cJSON_Delete(body);
		return tmc_fail(client, THERMIONIC_ERR_NOMEM, "out of memory");
	}
	rv = tmc_call(client, "POST", "/1.0/certificates", body, NULL, &stored,
		      NULL);
	cJSON_Delete(body);
	if (rv != THERMIONIC_OK) {
		return rv;
	}
	rv = trust_check_entry(client, stored);
	if (rv != THERMIONIC_OK || entry == NULL) {
		cJSON_Delete(stored);
		return rv;
	}
	*entry = stored;
	return THERMIONIC_OK;
}

int thermionic_trust_remove(struct thermionic_client *client,
			    const char *fingerprint)
{
	char fp[THERMIONIC_FINGERPRINT_LEN + 1];
	char path[64 + THERMIONIC_FINGERPRINT_LEN];

	if (client == NULL) {
		return THERMIONIC_ERR_INVALID;
	}
	if (fingerprint == NULL ||
	    thermionic_fingerprint_normalize(fingerprint, fp) != 0) {
		return tmc_fail(client, THERMIONIC_ERR_INVALID,
				"invalid fingerprint \"%.80s\": expected 64 "
				"hex digits",
				fingerprint == NULL ? "" : fingerprint);
	}
	snprintf(path, sizeof path, "/1.0/certificates/%s", fp);
	return tmc_call(client, "DELETE", path, NULL, NULL, NULL, NULL);
}

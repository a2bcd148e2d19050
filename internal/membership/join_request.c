/* Parsing a join request body (join_request.h). */
#include "internal/membership/join_request.h"

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>

#include "internal/config/config.h"
#include "internal/lib/err.h"
#include "internal/lib/mem.h"

static const char *const fields[] = {
    "name",	      "address",	"secret", "certificate",
    "schema_version", "api_extensions", NULL,
};

static int check_fields(const cJSON *root, char *errmsg)
{
	const cJSON *item;
	cJSON_ArrayForEach(item, root)
	{
		bool known = false;
		for (size_t i = 0; fields[i] != NULL; i++) {
			known = known || strcmp(item->string, fields[i]) == 0;
		}
		if (!known) {
			tm_errmsg_printf(errmsg, "unknown field \"%.64s\"",
					 item->string);
			return TM_INVALID;
		}
	}
	return 0;
}

static const char *string(const cJSON *root, const char *name, char *errmsg)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
	if (!cJSON_IsString(v)) {
		tm_errmsg_printf(errmsg, "field \"%s\" (a string) is missing",
				 name);
		return NULL;
	}
	return v->valuestring;
}

static int count(const cJSON *root, const char *name, int *out, char *errmsg)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 ||
	    v->valuedouble > 1000000 ||
	    v->valuedouble - (double)v->valueint > 0) {
		tm_errmsg_printf(errmsg,
				 "field \"%s\" must be an integer from 0 to "
				 "1000000",
				 name);
		return TM_INVALID;
	}
	*out = v->valueint;
	return 0;
}

static int parse_fields(const cJSON *root, struct join_request *out,
			char *errmsg)
{
	const char *name = string(root, "name", errmsg);
	const char *address = name ? string(root, "address", errmsg) : NULL;
	const char *secret = address ? string(root, "secret", errmsg) : NULL;
	const char *cert = secret ? string(root, "certificate", errmsg) : NULL;
	if (cert == NULL) {
		return TM_INVALID;
	}
	int rv = member_name_check(name, errmsg);
	if (rv != 0) {
		tm_errmsg_wrapf(errmsg, "field \"name\"");
		return rv;
	}
	snprintf(out->name, sizeof out->name, "%s", name);
	char *normal = NULL;
	char reason[TM_ERRMSG_SIZE];
	if (config_address_normalize(address, &normal, reason) != 0 ||
	    strlen(normal) > TOKEN_ADDRESS_MAX) {
		tm_errmsg_printf(errmsg, "field \"address\": %s",
				 normal == NULL ? reason : "too long");
		tm_free(normal);
		return TM_INVALID;
	}
	snprintf(out->address, sizeof out->address, "%s", normal);
	tm_free(normal);
	rv = token_secret_parse(secret, out->secret, errmsg);
	if (rv != 0) {
		tm_errmsg_wrapf(errmsg, "field \"secret\"");
		return TM_INVALID;
	}
	char *cn = NULL;
	rv = tls_cert_parse(cert, &out->certificate, out->fingerprint, &cn,
			    errmsg);
	tm_free(cn);
	if (rv != 0) {
		tm_errmsg_wrapf(errmsg, "field \"certificate\"");
		return TM_INVALID;
	}
	rv = count(root, "schema_version", &out->schema_version, errmsg);
	if (rv == 0) {
		rv =
		    count(root, "api_extensions", &out->api_extensions, errmsg);
	}
	return rv;
}

int join_request_parse(const char *body, size_t len, struct join_request *out,
		       char *errmsg)
{
	memset(out, 0, sizeof *out);
	if (len > JOIN_REQUEST_MAX_SIZE) {
		tm_errmsg_printf(errmsg, "join request is longer than %d bytes",
				 JOIN_REQUEST_MAX_SIZE);
		return TM_TOOBIG;
	}
	cJSON *root = cJSON_ParseWithLength(body, len);
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		tm_errmsg_printf(errmsg, "join request is not a JSON object");
		return TM_INVALID;
	}
	int rv = check_fields(root, errmsg);
	if (rv == 0) {
		rv = parse_fields(root, out, errmsg);
	}
	cJSON_Delete(root);
	if (rv != 0) {
		join_request_clear(out);
	}
	return rv;
}

void join_request_clear(struct join_request *r)
{
	tm_free(r->certificate);
	OPENSSL_cleanse(r, sizeof *r);
}

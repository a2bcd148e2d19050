/* Decoding of the daemon's LXD-style envelope:
 *
 *   {"type":"sync"|"async"|"error","status":...,"status_code":N,
 *    "operation":"...","error_code":N,"error":"...","metadata":...}
 *
 * The HTTP status is authoritative: a non-2xx answer is an error whatever
 * the body says, and a 2xx answer whose type is "error" is one too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/internal.h"

static const char *envelope_reason(int status)
{
	switch (status) {
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 412:
		return "Precondition Failed";
	case 413:
		return "Payload Too Large";
	case 500:
		return "Internal Server Error";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	default:
		return "";
	}
}

/* Error for an answer that is not a usable envelope. */
static int envelope_bad(struct thermionic_client *c, const char *what)
{
	if (c->status < 200 || c->status > 299) {
		return tmc_fail(c, THERMIONIC_ERR_HTTP, "HTTP %d %s", c->status,
				envelope_reason(c->status));
	}
	return tmc_fail(c, THERMIONIC_ERR_PROTO,
			"malformed response from %s (HTTP %d): %s", c->target,
			c->status, what);
}

static int envelope_error(struct thermionic_client *c, const cJSON *root)
{
	const cJSON *error = cJSON_GetObjectItemCaseSensitive(root, "error");
	if (cJSON_IsString(error) && error->valuestring[0] != '\0') {
		return tmc_fail(c, THERMIONIC_ERR_HTTP, "%s",
				error->valuestring);
	}
	return tmc_fail(c, THERMIONIC_ERR_HTTP, "HTTP %d %s", c->status,
			envelope_reason(c->status));
}

int tmc_envelope_decode(struct thermionic_client *c,
			struct thermionic_response *out)
{
	const cJSON *type;
	const cJSON *operation;
	cJSON *metadata;
	cJSON *root;
	int rv = THERMIONIC_OK;

	memset(out, 0, sizeof *out);
	if (c->body == NULL || c->body_len == 0) {
		return envelope_bad(c, "empty body");
	}
	rv = tmc_json_parse(c->body, c->body_len, &root);
	if (rv == THERMIONIC_ERR_NOMEM) {
		return tmc_fail(c, rv, "out of memory");
	}
	rv = THERMIONIC_OK;
	if (root == NULL || !cJSON_IsObject(root)) {
		rv = envelope_bad(c, "not a JSON object");
		goto out_root;
	}
	type = cJSON_GetObjectItemCaseSensitive(root, "type");
	if (!cJSON_IsString(type)) {
		rv = envelope_bad(c, "no \"type\"");
		goto out_root;
	}
	if (strcmp(type->valuestring, "error") == 0 || c->status < 200 ||
	    c->status > 299) {
		rv = envelope_error(c, root);
		goto out_root;
	}
	if (strcmp(type->valuestring, "sync") == 0) {
		out->type = THERMIONIC_RESPONSE_SYNC;
	} else if (strcmp(type->valuestring, "async") == 0) {
		out->type = THERMIONIC_RESPONSE_ASYNC;
	} else {
		rv = tmc_fail(
		    c, THERMIONIC_ERR_PROTO,
		    "malformed response from %s: unknown type \"%.64s\"",
		    c->target, type->valuestring);
		goto out_root;
	}
	operation = cJSON_GetObjectItemCaseSensitive(root, "operation");
	out->operation =
	    strdup(cJSON_IsString(operation) ? operation->valuestring : "");
	if (out->operation == NULL) {
		rv = tmc_fail(c, THERMIONIC_ERR_NOMEM, "out of memory");
		goto out_root;
	}
	metadata = cJSON_GetObjectItemCaseSensitive(root, "metadata");
	if (metadata != NULL && !cJSON_IsNull(metadata)) {
		out->metadata = cJSON_DetachItemViaPointer(root, metadata);
	}
	out->status = c->status;
	out->etag = c->etag;
	c->etag = NULL;
out_root:
	cJSON_Delete(root);
	return rv;
}

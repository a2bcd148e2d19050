/* The generic request and the common call behind the typed helpers. */
#include <stdlib.h>
#include <string.h>

#include "pkg/internal.h"

int thermionic_request(struct thermionic_client *client, const char *method,
		       const char *path, const char *body_json,
		       const char *if_match, struct thermionic_response *out)
{
	struct thermionic_response discard;
	struct thermionic_response *resp = out != NULL ? out : &discard;
	int rv;

	memset(resp, 0, sizeof *resp);
	if (client == NULL) {
		return THERMIONIC_ERR_INVALID;
	}
	tmc_clear_error(client);
	rv = tmc_transport_perform(client, method, path, body_json, if_match);
	if (rv == THERMIONIC_OK) {
		rv = tmc_envelope_decode(client, resp);
	}
	/* The raw body is not needed any more; don't keep up to 256 MiB
	 * around until the next call. */
	tmc_transport_reset(client);
	if (out == NULL || rv != THERMIONIC_OK) {
		thermionic_response_clear(resp);
	}
	return rv;
}

void thermionic_response_clear(struct thermionic_response *response)
{
	if (response == NULL) {
		return;
	}
	free(response->operation);
	cJSON_Delete(response->metadata);
	free(response->etag);
	memset(response, 0, sizeof *response);
}

int tmc_call(struct thermionic_client *c, const char *method, const char *path,
	     const cJSON *body, const char *if_match, cJSON **metadata,
	     char **etag)
{
	struct thermionic_response resp;
	char *text = NULL;
	int rv;

	if (metadata != NULL) {
		*metadata = NULL;
	}
	if (etag != NULL) {
		*etag = NULL;
	}
	if (body != NULL) {
		text = cJSON_PrintUnformatted(body);
		if (text == NULL) {
			return tmc_fail(c, THERMIONIC_ERR_NOMEM,
					"out of memory");
		}
	}
	rv = thermionic_request(c, method, path, text, if_match, &resp);
	cJSON_free(text);
	if (rv != THERMIONIC_OK) {
		return rv;
	}
	if (metadata != NULL) {
		*metadata = resp.metadata;
		resp.metadata = NULL;
	}
	if (etag != NULL) {
		*etag = resp.etag;
		resp.etag = NULL;
	}
	thermionic_response_clear(&resp);
	return THERMIONIC_OK;
}

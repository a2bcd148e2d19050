#include "internal/rest/envelope.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "internal/lib/assert.h"
#include "internal/lib/mem.h"

/* Print OBJ unformatted into a tm-owned string. */
static char *print_owned(const cJSON *obj, size_t *len)
{
	char *printed = cJSON_PrintUnformatted(obj);
	INVARIANT(printed != NULL); /* only fails without memory */
	size_t n = strlen(printed);
	char *out = tm_strndup(printed, n);
	cJSON_free(printed);
	if (len != NULL) {
		*len = n;
	}
	return out;
}

static cJSON *envelope_new(const char *type, const char *status,
			   int status_code, int error_code, const char *error)
{
	cJSON *obj = cJSON_CreateObject();
	INVARIANT(obj != NULL);
	cJSON_AddStringToObject(obj, "type", type);
	cJSON_AddStringToObject(obj, "status", status);
	cJSON_AddNumberToObject(obj, "status_code", status_code);
	cJSON_AddStringToObject(obj, "operation", "");
	cJSON_AddNumberToObject(obj, "error_code", error_code);
	cJSON_AddStringToObject(obj, "error", error);
	return obj;
}

char *envelope_sync(const cJSON *metadata, size_t *len)
{
	cJSON *obj = envelope_new("sync", "Success", 200, 0, "");
	if (metadata != NULL) {
		/* A reference: printed, never modified nor freed here. */
		cJSON_AddItemReferenceToObject(obj, "metadata",
					       (cJSON *)metadata);
	} else {
		cJSON_AddItemToObject(obj, "metadata", cJSON_CreateObject());
	}
	char *out = print_owned(obj, len);
	cJSON_Delete(obj);
	return out;
}

char *envelope_error(int http_status, const char *message, size_t *len)
{
	cJSON *obj = envelope_new("error", "Failure", http_status,
				  http_status, message);
	cJSON_AddNullToObject(obj, "metadata");
	char *out = print_owned(obj, len);
	cJSON_Delete(obj);
	return out;
}

static const struct {
	int status;
	const char *reason;
} reasons[] = {
	{100, "Continue"},
	{101, "Switching Protocols"},
	{200, "OK"},
	{201, "Created"},
	{202, "Accepted"},
	{204, "No Content"},
	{301, "Moved Permanently"},
	{302, "Found"},
	{304, "Not Modified"},
	{307, "Temporary Redirect"},
	{308, "Permanent Redirect"},
	{400, "Bad Request"},
	{401, "Unauthorized"},
	{403, "Forbidden"},
	{404, "Not Found"},
	{405, "Method Not Allowed"},
	{406, "Not Acceptable"},
	{408, "Request Timeout"},
	{409, "Conflict"},
	{410, "Gone"},
	{411, "Length Required"},
	{412, "Precondition Failed"},
	{413, "Content Too Large"},
	{414, "URI Too Long"},
	{415, "Unsupported Media Type"},
	{417, "Expectation Failed"},
	{422, "Unprocessable Content"},
	{426, "Upgrade Required"},
	{428, "Precondition Required"},
	{429, "Too Many Requests"},
	{431, "Request Header Fields Too Large"},
	{500, "Internal Server Error"},
	{501, "Not Implemented"},
	{502, "Bad Gateway"},
	{503, "Service Unavailable"},
	{504, "Gateway Timeout"},
	{505, "HTTP Version Not Supported"},
	{507, "Insufficient Storage"},
};

const char *envelope_reason(int http_status)
{
	for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++) {
		if (reasons[i].status == http_status) {
			return reasons[i].reason;
		}
	}
	return "Unknown Status";
}

void envelope_etag(const cJSON *value, char *out)
{
	size_t len;
	char *text = print_owned(value, &len);
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int digest_len = 0;
	int ok = EVP_Digest(text, len, digest, &digest_len, EVP_sha256(),
			    NULL);
	INVARIANT(ok == 1 && digest_len == 32);
	for (unsigned i = 0; i < digest_len; i++) {
		snprintf(out + 2 * i, 3, "%02x", digest[i]);
	}
	out[64] = '\0';
	tm_free(text);
}

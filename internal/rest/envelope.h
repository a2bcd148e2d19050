/* LXD-style JSON envelopes, I/O-free.
 *
 *   sync:  {"type":"sync","status":"Success","status_code":200,
 *           "operation":"","error_code":0,"error":"","metadata":...}
 *   error: {"type":"error","status":"Failure","status_code":<http>,
 *           "operation":"","error_code":<http>,"error":"<msg>",
 *           "metadata":null}
 *
 * Returned strings are owned by the caller (tm_free). */
#ifndef TM_REST_ENVELOPE_H
#define TM_REST_ENVELOPE_H

#include <stddef.h>

#include <cjson/cJSON.h>

char *envelope_sync(const cJSON *metadata, size_t *len);
char *envelope_error(int http_status, const char *message, size_t *len);

/* Reason phrase for an HTTP status ("Not Found"); never NULL. */
const char *envelope_reason(int http_status);

/* ETag of a JSON value: lowercase hex SHA-256 of its unformatted
 * encoding. OUT holds 65 bytes. */
void envelope_etag(const cJSON *value, char *out);

#endif /* TM_REST_ENVELOPE_H */

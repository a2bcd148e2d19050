/* Fuzz target: the WebSocket opening handshake of GET /1.0/events.
 *
 * The first byte picks what the rest is:
 * - even: the values of the request's headers (Upgrade, Connection,
 *   Sec-WebSocket-Version, Sec-WebSocket-Key), separated by newlines,
 *   missing ones absent, checked as the server does
 *   (internal/events/ws_handshake.c): 0 with the key's accept value (28
 *   base64 characters), or TM_INVALID with a printable message and no
 *   accept value.
 * - odd: a response head checked as the client does (pkg/ws_head.c): an
 *   accepted head is a 101; a status is 0 or 100..599. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "internal/events/ws_handshake.h"
#include "internal/lib/assert.h"
#include "internal/lib/err.h"
#include "internal/lib/mem.h"
#include "pkg/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool printable(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f) {
			return false;
		}
	}
	return true;
}

static void server_side(const char *text)
{
	char *copy = tm_strdup(text);
	const char *fields[4] = {NULL, NULL, NULL, NULL};
	char *p = copy;
	for (size_t i = 0; i < 4 && p != NULL; i++) {
		char *nl = strchr(p, '\n');
		if (nl != NULL) {
			*nl = '\0';
		}
		fields[i] = p;
		p = nl != NULL ? nl + 1 : NULL;
	}
	struct ws_handshake_request r = {fields[0], fields[1], fields[2],
					 fields[3]};
	char accept[WS_ACCEPT_LEN + 1];
	char errmsg[TM_ERRMSG_SIZE] = "";
	int rv = ws_handshake_check(&r, accept, errmsg);
	if (rv == 0) {
		INVARIANT(strlen(accept) == WS_ACCEPT_LEN);
		INVARIANT(ws_handshake_asked(&r));
		char again[WS_ACCEPT_LEN + 1];
		ws_accept_for_key(r.key, again);
		INVARIANT(strcmp(again, accept) == 0);
		INVARIANT(strlen(r.key) == 24);
	} else {
		INVARIANT(rv == TM_INVALID);
		INVARIANT(accept[0] == '\0');
		INVARIANT(errmsg[0] != '\0' && printable(errmsg));
	}
	tm_free(copy);
}

static void client_side(const uint8_t *data, size_t size)
{
	int status;
	long long length;
	bool ok =
	    tmc_ws_head_check((const char *)data, size,
			      "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", &status, &length);
	INVARIANT(!ok || status == 101);
	INVARIANT(status == 0 || (status >= 100 && status <= 599));
	INVARIANT(length >= -1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0 || size > 8192) {
		return 0;
	}
	if ((data[0] & 1) == 0) {
		char *text = tm_malloc(size);
		memcpy(text, data + 1, size - 1);
		text[size - 1] = '\0';
		server_side(text);
		tm_free(text);
	} else {
		client_side(data + 1, size - 1);
	}
	return 0;
}

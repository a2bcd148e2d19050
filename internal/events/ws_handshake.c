/* The WebSocket opening handshake, server side (ws_handshake.h). */
#include "internal/events/ws_handshake.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "internal/lib/assert.h"
#include "internal/lib/err.h"

static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

static bool is_ows(char c) { return c == ' ' || c == '\t'; }

bool ws_token_list_has(const char *list, const char *token)
{
	if (list == NULL) {
		return false;
	}
	size_t want = strlen(token);
	const char *p = list;
	for (;;) {
		while (is_ows(*p)) {
			p++;
		}
		size_t n = strcspn(p, ",");
		size_t len = n;
		while (len > 0 && is_ows(p[len - 1])) {
			len--;
		}
		if (len == want && strncasecmp(p, token, want) == 0) {
			return true;
		}
		if (p[n] == '\0') {
			return false;
		}
		p += n + 1;
	}
}

bool ws_handshake_asked(const struct ws_handshake_request *r)
{
	return ws_token_list_has(r->upgrade, "websocket");
}

static bool is_base64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* The base64 of 16 bytes: 22 characters, the last of which carries only
 * two bits (A, Q, g or w), then "==". */
static bool key_valid(const char *key)
{
	if (strlen(key) != 24 || strcmp(key + 22, "==") != 0) {
		return false;
	}
	for (size_t i = 0; i < 22; i++) {
		if (!is_base64_char(key[i])) {
			return false;
		}
	}
	return strchr("AQgw", key[21]) != NULL;
}

void ws_accept_for_key(const char *key, char *accept)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	INVARIANT(ctx != NULL);
	int ok = EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1 &&
		 EVP_DigestUpdate(ctx, key, strlen(key)) == 1 &&
		 EVP_DigestUpdate(ctx, guid, sizeof guid - 1) == 1 &&
		 EVP_DigestFinal_ex(ctx, digest, &len) == 1;
	EVP_MD_CTX_free(ctx);
	INVARIANT(ok && len == 20);
	EVP_EncodeBlock((unsigned char *)accept, digest, (int)len);
	accept[WS_ACCEPT_LEN] = '\0';
}

int ws_handshake_check(const struct ws_handshake_request *r, char *accept,
		       char *errmsg)
{
	accept[0] = '\0';
	if (!ws_handshake_asked(r)) {
		tm_errmsg_printf(errmsg, "not a WebSocket request: the "
					 "Upgrade header must list websocket");
		return TM_INVALID;
	}
	if (!ws_token_list_has(r->connection, "upgrade")) {
		tm_errmsg_printf(errmsg, "WebSocket handshake: the Connection "
					 "header must list Upgrade");
		return TM_INVALID;
	}
	if (r->version == NULL || strcmp(r->version, "13") != 0) {
		tm_errmsg_printf(errmsg, "WebSocket handshake: "
					 "Sec-WebSocket-Version must be 13");
		return TM_INVALID;
	}
	if (r->key == NULL || !key_valid(r->key)) {
		tm_errmsg_printf(errmsg,
				 "WebSocket handshake: Sec-WebSocket-Key must "
				 "be the base64 of 16 bytes");
		return TM_INVALID;
	}
	ws_accept_for_key(r->key, accept);
	return 0;
}

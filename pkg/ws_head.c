/* The answer to a WebSocket opening handshake, client side: bytes from
 * the network, checked by a pure function (internal.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "pkg/internal.h"

static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

void tmc_ws_accept(const char *key, char *out)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	out[0] = '\0';
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (ctx == NULL) {
		return;
	}
	if (EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, key, strlen(key)) == 1 &&
	    EVP_DigestUpdate(ctx, guid, sizeof guid - 1) == 1 &&
	    EVP_DigestFinal_ex(ctx, digest, &len) == 1 && len == 20) {
		EVP_EncodeBlock((unsigned char *)out, digest, (int)len);
	}
	EVP_MD_CTX_free(ctx);
}

/* The value of header NAME in LINE (LINE_LEN bytes, no CRLF), trimmed,
 * into OUT; false if LINE is not that header. */
static bool header_is(const char *line, size_t line_len, const char *name,
		      char *out, size_t size)
{
	size_t n = strlen(name);
	if (line_len <= n || line[n] != ':' ||
	    strncasecmp(line, name, n) != 0) {
		return false;
	}
	const char *v = line + n + 1;
	const char *end = line + line_len;
	while (v < end && (*v == ' ' || *v == '\t')) {
		v++;
	}
	while (end > v && (end[-1] == ' ' || end[-1] == '\t')) {
		end--;
	}
	size_t len = (size_t)(end - v);
	if (len >= size) {
		len = size - 1;
	}
	memcpy(out, v, len);
	out[len] = '\0';
	return true;
}

bool tmc_ws_head_check(const char *head, size_t len, const char *accept,
		       int *status, long long *content_length)
{
	*status = 0;
	*content_length = -1;
	const char *end = head + len;
	const char *eol = memchr(head, '\n', len);
	size_t first = eol != NULL ? (size_t)(eol - head) : len;
	char line[64];
	if (first >= 12 && first < sizeof line) {
		memcpy(line, head, first);
		line[first] = '\0';
		int code = 0;
		char sp = 0;
		if (strncmp(line, "HTTP/1.", 7) == 0 &&
		    sscanf(line + 9, "%3d%c", &code, &sp) >= 1 &&
		    line[8] == ' ' && code >= 100 && code <= 599) {
			*status = code;
		}
	}
	bool upgrade = false;
	bool accepted = false;
	const char *p = eol != NULL ? eol + 1 : end;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		if (n > 0 && p[n - 1] == '\r') {
			n--;
		}
		char value[128];
		if (header_is(p, n, "Upgrade", value, sizeof value)) {
			upgrade = strcasecmp(value, "websocket") == 0;
		} else if (header_is(p, n, "Sec-WebSocket-Accept", value,
				     sizeof value)) {
			accepted = strcmp(value, accept) == 0;
		} else if (header_is(p, n, "Content-Length", value,
				     sizeof value)) {
			char *stop;
			long long v = strtoll(value, &stop, 10);
			*content_length =
			    *stop == '\0' && stop != value && v >= 0 ? v : -1;
		}
		p = nl != NULL ? nl + 1 : end;
	}
	return *status == 101 && upgrade && accepted && accept[0] != '\0';
}

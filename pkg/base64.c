/* Base64 for BLOB values ({"base64": "..."} in doc/sql-api.md), on
 * OpenSSL's block coder. Decoding is strict: OpenSSL alone would accept
 * white space and stray '=', and a lenient decoder hides a broken peer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "pkg/internal.h"

/* Whole 3-byte groups per call keep the pieces concatenable and each
 * length within EVP_EncodeBlock's int. */
#define B64_GROUP ((size_t)3 * 1024 * 1024)

char *tmc_base64_encode(const void *data, size_t n)
{
	const unsigned char *in = data;
	size_t at = 0;
	char *text;

	if (n > SIZE_MAX / 2) {
		return NULL;
	}
	text = malloc((n + 2) / 3 * 4 + 1);
	if (text == NULL) {
		return NULL;
	}
	text[0] = '\0';
	for (size_t done = 0; done < n;) {
		size_t k = n - done < B64_GROUP ? n - done : B64_GROUP;
		at += (size_t)EVP_EncodeBlock((unsigned char *)text + at,
					      in + done, (int)k);
		done += k;
	}
	text[at] = '\0';
	return text;
}

static bool b64_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	       (ch >= '0' && ch <= '9') || ch == '+' || ch == '/';
}

int tmc_base64_decode(const char *text, char **out, size_t *n)
{
	size_t len = strlen(text);
	size_t pad = 0;
	size_t at = 0;
	unsigned char *buf;

	*out = NULL;
	*n = 0;
	if (len % 4 != 0) {
		return THERMIONIC_ERR_PROTO;
	}
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '=') {
			if (i + 2 < len) {
				return THERMIONIC_ERR_PROTO;
			}
			pad++;
		} else if (pad > 0 || !b64_char(text[i])) {
			return THERMIONIC_ERR_PROTO;
		}
	}
	buf = malloc(len / 4 * 3 + 1);
	if (buf == NULL) {
		return THERMIONIC_ERR_NOMEM;
	}
	/* Groups of 4 characters decode independently: feed whole groups
	 * in pieces that fit an int. */
	for (size_t done = 0; done < len;) {
		size_t k = len - done;
		int got;
		if (k > B64_GROUP / 3 * 4) {
			k = B64_GROUP / 3 * 4;
		}
		got = EVP_DecodeBlock(
		    buf + at, (const unsigned char *)text + done, (int)k);
		if (got < 0) {
			free(buf);
			return THERMIONIC_ERR_PROTO;
		}
		at += (size_t)got;
		done += k;
	}
	/* EVP_DecodeBlock counts padding as zero bytes. */
	at -= pad;
	buf[at] = '\0';
	*out = (char *)buf;
	*n = at;
	return THERMIONIC_OK;
}

/* Fuzz target: join token decoding (internal/membership/token.h) never
 * crashes, refuses with a message and an all-zero token, and every token it
 * accepts re-encodes to a token that decodes to the same fields, and
 * encodes again to the same text.
 *
 * An input is the token text, read as a C string (up to its first NUL).
 * An input starting with '{', which cannot start a token, is instead the
 * JSON inside a token: it is base64url-encoded first, so the fuzzer works
 * on the JSON layer directly. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal/lib/assert.h"
#include "internal/lib/err.h"
#include "internal/lib/mem.h"
#include "internal/membership/private.h"
#include "internal/membership/token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool all_zero(const struct token *t)
{
	const unsigned char *p = (const unsigned char *)t;
	for (size_t i = 0; i < sizeof *t; i++) {
		if (p[i] != 0) {
			return false;
		}
	}
	return true;
}

static void check(const char *text)
{
	struct token t;
	struct token again;
	char errmsg[TM_ERRMSG_SIZE] = "";
	int rv = token_decode(text, 0, &t, errmsg);
	if (rv != 0) {
		INVARIANT(rv == TM_INVALID || rv == TM_TOOBIG);
		INVARIANT(errmsg[0] != '\0');
		INVARIANT(all_zero(&t));
		return;
	}
	char *out = NULL;
	INVARIANT(token_encode(&t, &out, errmsg) == 0);
	INVARIANT(strlen(out) <= TOKEN_MAX_SIZE);
	INVARIANT(token_decode(out, 0, &again, errmsg) == 0);
	INVARIANT(memcmp(&t, &again, sizeof t) == 0);
	char *out2 = NULL;
	INVARIANT(token_encode(&again, &out2, errmsg) == 0);
	INVARIANT(strcmp(out, out2) == 0);
	tm_free(out2);
	tm_free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;
	if (size > 0 && data[0] == '{') {
		text = malloc(BASE64URL_LEN(size) + 1);
		base64url_encode(data, size, text);
	} else {
		text = malloc(size + 1);
		memcpy(text, data, size);
		text[size] = '\0';
	}
	check(text);
	free(text);
	return 0;
}

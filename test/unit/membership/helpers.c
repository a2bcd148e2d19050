/* Shared by the join token tests: the worked example of doc/join-token.md
 * and helpers that expect success or an exact refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/lib/err.h"
#include "internal/lib/mem.h"
#include "internal/membership/private.h"
#include "test/unit/membership/helpers.h"

/* --- the worked example -------------------------------------------------- */

const char example_json[] =
    "{\"name\":\"node4\",\"addresses\":[\"10.0.0.1:8443\",\"[fd00::2]:8443\","
    "\"node3.example.com:8443\"],\"fingerprint\":\"33082de0cd66499e8e06e9d9"
    "b45c155c25f75e663912b0cfbe5f4ce03b33945f\",\"secret\":\"000102030405060"
    "708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\",\"expires_at\":"
    "1798761600}";

const char example_text[] =
    "eyJuYW1lIjoibm9kZTQiLCJhZGRyZXNzZXMiOlsiMTAuMC4wLjE6ODQ0MyIsIltmZDAwOj"
    "oyXTo4NDQzIiwibm9kZTMuZXhhbXBsZS5jb206ODQ0MyJdLCJmaW5nZXJwcmludCI6IjMz"
    "MDgyZGUwY2Q2NjQ5OWU4ZTA2ZTlkOWI0NWMxNTVjMjVmNzVlNjYzOTEyYjBjZmJlNWY0Y2"
    "UwM2IzMzk0NWYiLCJzZWNyZXQiOiIwMDAxMDIwMzA0MDUwNjA3MDgwOTBhMGIwYzBkMGUw"
    "ZjEwMTExMjEzMTQxNTE2MTcxODE5MWExYjFjMWQxZTFmIiwiZXhwaXJlc19hdCI6MTc5OD"
    "c2MTYwMH0";

void example_token(struct token *t)
{
	memset(t, 0, sizeof *t);
	strcpy(t->name, "node4");
	t->n_addresses = 3;
	strcpy(t->addresses[0], "10.0.0.1:8443");
	strcpy(t->addresses[1], "[fd00::2]:8443");
	strcpy(t->addresses[2], "node3.example.com:8443");
	strcpy(t->fingerprint, "33082de0cd66499e8e06e9d9b45c155c"
			       "25f75e663912b0cfbe5f4ce03b33945f");
	for (int i = 0; i < TOKEN_SECRET_SIZE; i++) {
		t->secret[i] = (unsigned char)i;
	}
	t->expires_at = EXAMPLE_EXPIRES;
}

/* --- helpers ------------------------------------------------------------- */

/* Token text for the JSON text JSON (owned, tm_free). */
char *wrap(const char *json)
{
	size_t n = strlen(json);
	char *text = tm_malloc(BASE64URL_LEN(n) + 1);
	base64url_encode((const unsigned char *)json, n, text);
	return text;
}

char *encode_ok(const struct token *t)
{
	char errmsg[TM_ERRMSG_SIZE] = "";
	char *text = NULL;
	int rv = token_encode(t, &text, errmsg);
	if (rv != 0) {
		fail_msg("token_encode: %s", errmsg);
	}
	return text;
}

void decode_ok(const char *text, int64_t now, struct token *t)
{
	char errmsg[TM_ERRMSG_SIZE] = "";
	int rv = token_decode(text, now, t, errmsg);
	if (rv != 0) {
		fail_msg("token_decode: %s", errmsg);
	}
}

bool all_zero(const struct token *t)
{
	const unsigned char *p = (const unsigned char *)t;
	for (size_t i = 0; i < sizeof *t; i++) {
		if (p[i] != 0) {
			return false;
		}
	}
	return true;
}

/* Decoding TEXT at NOW fails with RV and exactly MESSAGE, and leaves the
 * output all zeros. */
void decode_bad_at(const char *text, int64_t now, int rv, const char *message)
{
	char errmsg[TM_ERRMSG_SIZE] = "";
	struct token t;
	memset(&t, 0xa5, sizeof t);
	int got = token_decode(text, now, &t, errmsg);
	if (got != rv || strcmp(errmsg, message) != 0) {
		fail_msg("decoding \"%.60s\": expected %d \"%s\", got %d "
			 "\"%s\"",
			 text, rv, message, got, errmsg);
	}
	assert_true(all_zero(&t));
}

void decode_bad(const char *text, const char *message)
{
	decode_bad_at(text, EXAMPLE_EXPIRES - 1, TM_INVALID, message);
}

/* The token made of the JSON text JSON is refused with MESSAGE. */
void json_bad(const char *json, const char *message)
{
	char *text = wrap(json);
	decode_bad(text, message);
	tm_free(text);
}

/* The example JSON with the text FROM (which must occur once) replaced by
 * TO (owned). */
char *edit(const char *from, const char *to)
{
	const char *at = strstr(example_json, from);
	assert_non_null(at);
	assert_null(strstr(at + 1, from));
	return tm_asprintf("%.*s%s%s", (int)(at - example_json), example_json,
			   to, at + strlen(from));
}

/* That edited JSON is refused with MESSAGE. */
void edit_bad(const char *from, const char *to, const char *message)
{
	char *json = edit(from, to);
	json_bad(json, message);
	tm_free(json);
}

/* Encoding T fails with exactly MESSAGE. */
void encode_bad(const struct token *t, const char *message)
{
	char errmsg[TM_ERRMSG_SIZE] = "";
	char *text = NULL;
	assert_int_equal(token_encode(t, &text, errmsg), TM_INVALID);
	assert_null(text);
	assert_string_equal(errmsg, message);
}

/* Join tokens (internal/membership/token.h): the worked example of
 * doc/join-token.md byte for byte (read from the document itself), round
 * trips, expiry boundaries, random damage, secrets. Refusals are in
 * test_token_refuse.c. */
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
#include "internal/membership/token.h"
#include "test/unit/membership/helpers.h"

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fail_msg("cannot open %s", path);
	}
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = tm_malloc((size_t)size + 1);
	assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
	buf[size] = '\0';
	fclose(f);
	return buf;
}

/* The one line of the fenced block that follows MARKER in DOC (owned). */
static char *doc_block(const char *doc, const char *marker)
{
	const char *at = strstr(doc, marker);
	if (at == NULL) {
		fail_msg("%s not found in %s", marker, JOIN_TOKEN_DOC);
	}
	at = strstr(at, "```");
	assert_non_null(at);
	at = strchr(at, '\n');
	assert_non_null(at);
	at++;
	const char *end = strchr(at, '\n');
	assert_non_null(end);
	assert_memory_equal(end, "\n```", 4); /* one line only */
	return tm_strndup(at, (size_t)(end - at));
}

/* --- the worked example -------------------------------------------------- */

static void example_encodes(void **state)
{
	(void)state;
	struct token t;
	example_token(&t);
	char *text = encode_ok(&t);
	assert_string_equal(text, example_text);
	tm_free(text);
	char *wrapped = wrap(example_json);
	assert_string_equal(wrapped, example_text);
	tm_free(wrapped);
}

static void example_decodes(void **state)
{
	(void)state;
	struct token want;
	struct token got;
	example_token(&want);
	decode_ok(example_text, EXAMPLE_EXPIRES - 1, &got);
	assert_memory_equal(&got, &want, sizeof got);
}

/* The document shows exactly this token and this JSON. */
static void example_matches_doc(void **state)
{
	(void)state;
	char *doc = read_file(JOIN_TOKEN_DOC);
	char *text = doc_block(doc, "<!-- example token -->");
	char *json = doc_block(doc, "<!-- example json -->");
	assert_string_equal(text, example_text);
	assert_string_equal(json, example_json);
	struct token want;
	struct token got;
	example_token(&want);
	decode_ok(text, EXAMPLE_EXPIRES - 1, &got);
	assert_memory_equal(&got, &want, sizeof got);
	char *again = encode_ok(&got);
	assert_string_equal(again, text);
	tm_free(again);
	tm_free(json);
	tm_free(text);
	tm_free(doc);
}

/* --- round trips --------------------------------------------------------- */

static void random_name(char *name)
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyz0123456789-";
	size_t len = 1 + (size_t)rand() % MEMBER_NAME_MAX;
	for (size_t i = 0; i < len; i++) {
		name[i] = chars[rand() % (int)(sizeof chars - 1)];
	}
	name[0] = 'a' + (char)(rand() % 26);
	if (name[len - 1] == '-') {
		name[len - 1] = '0';
	}
	name[len] = '\0';
}

static void random_token(struct token *t)
{
	char errmsg[TM_ERRMSG_SIZE];
	memset(t, 0, sizeof *t);
	random_name(t->name);
	t->n_addresses = 1 + (size_t)rand() % TOKEN_MAX_ADDRESSES;
	for (size_t i = 0; i < t->n_addresses; i++) {
		switch (rand() % 3) {
		case 0:
			snprintf(t->addresses[i], TOKEN_ADDRESS_MAX + 1,
				 "10.%zu.%d.%d:%d", i, rand() % 256,
				 rand() % 256, 1 + rand() % 65535);
			break;
		case 1:
			snprintf(t->addresses[i], TOKEN_ADDRESS_MAX + 1,
				 "[fd00::%zx:%x]:%d", i + 1, 1 + rand() % 65535,
				 1 + rand() % 65535);
			break;
		default:
			snprintf(t->addresses[i], TOKEN_ADDRESS_MAX + 1,
				 "m%zu-%d.example:8443", i, rand() % 1000);
		}
	}
	for (int i = 0; i < TOKEN_FINGERPRINT_LEN; i++) {
		t->fingerprint[i] = "0123456789abcdef"[rand() % 16];
	}
	assert_int_equal(token_secret_new(t->secret, errmsg), 0);
	t->expires_at =
	    1 + (int64_t)rand() * (int64_t)rand() % TOKEN_EXPIRES_MAX;
}

static void round_trips(void **state)
{
	(void)state;
	srand(1);
	for (int i = 0; i < 2000; i++) {
		struct token want;
		struct token got;
		random_token(&want);
		char *text = encode_ok(&want);
		assert_true(strlen(text) <= TOKEN_MAX_SIZE);
		decode_ok(text, want.expires_at - 1, &got);
		assert_memory_equal(&got, &want, sizeof got);
		char *again = encode_ok(&got);
		assert_string_equal(again, text);
		tm_free(again);
		tm_free(text);
	}
}

/* The largest valid token: 16 addresses of 259 characters, a 63-character
 * name, the latest expiry. It encodes to 5951 characters, under the bound,
 * so every token that encodes also decodes. */
static void largest_token_fits(void **state)
{
	(void)state;
	struct token want;
	struct token got;
	example_token(&want);
	memset(want.name, 'n', MEMBER_NAME_MAX);
	want.name[MEMBER_NAME_MAX] = '\0';
	want.n_addresses = TOKEN_MAX_ADDRESSES;
	for (int i = 0; i < TOKEN_MAX_ADDRESSES; i++) {
		char *a = want.addresses[i];
		/* 63.63.63.61 = 253 characters, then ":65535". */
		memset(a, 'h', 253);
		a[63] = a[127] = a[191] = '.';
		snprintf(a + 240, 20, "%013d:65535", i);
		a[240] = 'x';
		assert_int_equal(strlen(a), TOKEN_ADDRESS_MAX);
	}
	want.expires_at = TOKEN_EXPIRES_MAX;
	char *text = encode_ok(&want);
	assert_int_equal(strlen(text), 5951);
	decode_ok(text, 0, &got);
	assert_memory_equal(&got, &want, sizeof got);
	tm_free(text);
}

/* Key order and whitespace are free on input; output is always compact in
 * format order. */
static void liberal_json(void **state)
{
	(void)state;
	const char *json =
	    " {\n \"expires_at\" : 1798761600, \"secret\": \"000102030405060708"
	    "090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\",\n"
	    "\"fingerprint\":\"33082de0cd66499e8e06e9d9b45c155c25f75e663912b0cf"
	    "be5f4ce03b33945f\", \"addresses\": [ \"10.0.0.1:8443\", "
	    "\"[fd00::2]:8443\", \"node3.example.com:8443\" ], \"name\":"
	    "\"node\\u0034\" }\n";
	char *text = wrap(json);
	struct token want;
	struct token got;
	example_token(&want);
	decode_ok(text, 0, &got);
	assert_memory_equal(&got, &want, sizeof got);
	char *again = encode_ok(&got);
	assert_string_equal(again, example_text);
	tm_free(again);
	tm_free(text);
}

/* Spaces, tabs and line ends around the token are ignored. */
static void surrounding_whitespace(void **state)
{
	(void)state;
	char *text = tm_asprintf(" \t\r\n%s\r\n \t", example_text);
	struct token want;
	struct token got;
	example_token(&want);
	decode_ok(text, 0, &got);
	assert_memory_equal(&got, &want, sizeof got);
	tm_free(text);
}

static void expiry_boundaries(void **state)
{
	(void)state;
	struct token t;
	decode_ok(example_text, EXAMPLE_EXPIRES - 1, &t);
	decode_ok(example_text, INT64_MIN, &t);
	decode_bad_at(example_text, EXAMPLE_EXPIRES, TM_TIMEOUT,
		      "token expired at 2027-01-01T00:00:00Z (0 s ago)");
	decode_bad_at(example_text, EXAMPLE_EXPIRES + 3600, TM_TIMEOUT,
		      "token expired at 2027-01-01T00:00:00Z (3600 s ago)");
	decode_bad_at(example_text, INT64_MAX, TM_TIMEOUT,
		      "token expired at 2027-01-01T00:00:00Z "
		      "(9223372035056014207 s ago)");
	/* Format errors come before the expiry. */
	char *text = tm_strdup(example_text);
	text[0] = '+';
	decode_bad_at(text, EXAMPLE_EXPIRES + 1, TM_INVALID,
		      "not base64url: '+' at byte 0 (allowed: A-Z a-z 0-9 - "
		      "_)");
	tm_free(text);
	/* The latest expiry prints with a 4-digit year. */
	struct token big;
	example_token(&big);
	big.expires_at = TOKEN_EXPIRES_MAX;
	text = encode_ok(&big);
	decode_bad_at(text, TOKEN_EXPIRES_MAX, TM_TIMEOUT,
		      "token expired at 9999-12-31T23:59:59Z (0 s ago)");
	tm_free(text);
}

/* token_encode refuses what token_decode would refuse, with the same
 * words, and never returns a token it would not read back. */
/* --- random damage ------------------------------------------------------- */

/* Decode TEXT; if accepted, its re-encoding decodes to the same fields. */
static void decode_any(const char *text)
{
	struct token t;
	struct token again;
	char errmsg[TM_ERRMSG_SIZE];
	int rv = token_decode(text, 0, &t, errmsg);
	if (rv != 0) {
		assert_true(rv == TM_INVALID || rv == TM_TOOBIG);
		assert_true(errmsg[0] != '\0');
		assert_true(all_zero(&t));
		return;
	}
	char *out = encode_ok(&t);
	decode_ok(out, 0, &again);
	assert_memory_equal(&again, &t, sizeof t);
	tm_free(out);
}

static void damage(char *s, size_t len, size_t max, const char *alphabet)
{
	size_t n = strlen(alphabet);
	int edits = 1 + rand() % 4;
	for (int e = 0; e < edits && len > 0; e++) {
		size_t at = (size_t)rand() % len;
		switch (rand() % 3) {
		case 0:
			s[at] = alphabet[(size_t)rand() % n];
			break;
		case 1:
			memmove(s + at, s + at + 1, len - at);
			len--;
			break;
		default:
			if (len + 1 < max) {
				memmove(s + at + 1, s + at, len - at + 1);
				s[at] = alphabet[(size_t)rand() % n];
				len++;
			}
		}
	}
}

static void random_damage(void **state)
{
	(void)state;
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqr"
				  "stuvwxyz0123456789-_=+/ \n.";
	static const char json[] = "{}[]\":,\\u0123456789abcdefxyz-.eE "
				   "naesdr_tfl\x01\x7f\xc3";
	char buf[1024];
	srand(2);
	for (int i = 0; i < 30000; i++) {
		/* Damage to the text. */
		strcpy(buf, example_text);
		damage(buf, strlen(buf), sizeof buf, b64);
		decode_any(buf);
		/* Damage to the JSON inside. */
		strcpy(buf, example_json);
		damage(buf, strlen(buf), sizeof buf, json);
		char *text = wrap(buf);
		decode_any(text);
		tm_free(text);
	}
	/* Random bytes. */
	for (int i = 0; i < 5000; i++) {
		size_t len = (size_t)rand() % 600;
		for (size_t j = 0; j < len; j++) {
			buf[j] = (char)(1 + rand() % 255);
		}
		buf[len] = '\0';
		decode_any(buf);
		char *text = wrap(buf);
		decode_any(text);
		tm_free(text);
	}
}

/* --- secrets ------------------------------------------------------------ */

static void secrets(void **state)
{
	(void)state;
	char errmsg[TM_ERRMSG_SIZE];
	unsigned char a[TOKEN_SECRET_SIZE];
	unsigned char b[TOKEN_SECRET_SIZE];
	assert_int_equal(token_secret_new(a, errmsg), 0);
	assert_int_equal(token_secret_new(b, errmsg), 0);
	assert_memory_not_equal(a, b, sizeof a);
	assert_false(token_secret_equal(a, b));
	memcpy(b, a, sizeof a);
	assert_true(token_secret_equal(a, b));
	b[0] ^= 1;
	assert_false(token_secret_equal(a, b));
	b[0] ^= 1;
	b[TOKEN_SECRET_SIZE - 1] ^= 0x80;
	assert_false(token_secret_equal(a, b));

	unsigned char parsed[TOKEN_SECRET_SIZE];
	assert_int_equal(token_secret_parse("000102030405060708090a0b0c0d0e0f"
					    "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
					    parsed, errmsg),
			 0);
	for (int i = 0; i < 16; i++) {
		assert_int_equal(parsed[i], i);
		assert_int_equal(parsed[16 + i], 0xf0 + i);
	}
	assert_int_equal(token_secret_parse("00", parsed, errmsg), TM_INVALID);
	assert_string_equal(errmsg, "expected 64 lowercase hex digits (32 "
				    "bytes), got 2 characters");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(example_encodes),
	    cmocka_unit_test(example_decodes),
	    cmocka_unit_test(example_matches_doc),
	    cmocka_unit_test(round_trips),
	    cmocka_unit_test(largest_token_fits),
	    cmocka_unit_test(liberal_json),
	    cmocka_unit_test(surrounding_whitespace),
	    cmocka_unit_test(expiry_boundaries),
	    cmocka_unit_test(random_damage),
	    cmocka_unit_test(secrets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

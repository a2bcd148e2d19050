/* Join tokens (internal/membership/token.h): every refusal, with its exact
 * message as doc/join-token.md lists it, on decode and on encode. */
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
#include "internal/membership/token.h"
#include "test/unit/membership/helpers.h"

/* --- refusals ------------------------------------------------------------ */

static void refuses_size(void **state)
{
	(void)state;
	char *text = tm_malloc(TOKEN_MAX_SIZE + 2);
	memset(text, 'A', TOKEN_MAX_SIZE + 1);
	text[TOKEN_MAX_SIZE + 1] = '\0';
	decode_bad_at(text, 0, TM_TOOBIG, "token is longer than 8192 bytes");
	/* At the bound, the text is read (and is not JSON). */
	text[TOKEN_MAX_SIZE] = '\0';
	decode_bad(text, "not JSON: unexpected byte 0x00 at byte 0");
	/* Surrounding whitespace counts. */
	size_t n = strlen(example_text);
	memset(text, ' ', TOKEN_MAX_SIZE + 1);
	memcpy(text, example_text, n);
	decode_bad_at(text, 0, TM_TOOBIG, "token is longer than 8192 bytes");
	text[TOKEN_MAX_SIZE] = '\0';
	struct token t;
	decode_ok(text, 0, &t);
	tm_free(text);
}

static void refuses_base64(void **state)
{
	(void)state;
	decode_bad("", "token is empty");
	decode_bad(" \n\t", "token is empty");
	decode_bad("eyJu+YW1l",
		   "not base64url: '+' at byte 4 (allowed: A-Z a-z 0-9 - _)");
	decode_bad("eyJuYW1l/",
		   "not base64url: '/' at byte 8 (allowed: A-Z a-z 0-9 - _)");
	decode_bad("  eyJuYQ==",
		   "not base64url: '=' at byte 8 (a token has no padding)");
	decode_bad("eyJu YW1l", "not base64url: byte 0x20 at byte 4 "
				"(allowed: A-Z a-z 0-9 - _)");
	decode_bad("eyJu\nYW1l", "not base64url: byte 0x0a at byte 4 "
				 "(allowed: A-Z a-z 0-9 - _)");
	decode_bad("eyJu\xc3\xa9", "not base64url: byte 0xc3 at byte 4 "
				   "(allowed: A-Z a-z 0-9 - _)");
	decode_bad("eyJuY", "not base64url: 5 characters cannot encode whole "
			    "bytes (truncated?)");
	/* "e30" is "{}"; "e31" has a stray bit set. */
	decode_bad("e31", "not base64url: the last character '1' (byte 2) "
			  "has non-zero unused bits");
	decode_bad("e3", "not base64url: the last character '3' (byte 1) "
			 "has non-zero unused bits");
}

static void refuses_json(void **state)
{
	(void)state;
	json_bad("hello", "not JSON: unexpected character 'h' at byte 0");
	json_bad("{\"name\":\"node4\",}",
		 "not JSON: object key (a string) expected at byte "
		 "16");
	json_bad("{\"name\":\"node4\"", "not JSON: unexpected end of input "
					"at byte 15");
	json_bad("{} {}", "not JSON: trailing data after the JSON value at "
			  "byte 3");
	json_bad("{\"expires_at\":01}", "not JSON: leading zero in number "
					"(write 123, not 0123) at byte 15");
	json_bad("{\"name\":\"no\\u0000de\"}",
		 "not a token: \\u0000 in a JSON string at byte 11");
	/* An escaped backslash followed by "u0000" is not a NUL. */
	edit_bad(
	    "\"node4\"", "\"no\\\\u0000de\"",
	    "field \"name\": member name \"no\\x5cu0000de\" has '\\x5c' at "
	    "byte 2 (allowed: a-z, 0-9 and '-')");
	json_bad("[1]", "not a JSON object but an array");
	json_bad("\"x\"", "not a JSON object but a string");
	json_bad("17", "not a JSON object but a number");
	json_bad("true", "not a JSON object but a boolean");
	json_bad("null", "not a JSON object but null");
}

static void refuses_fields(void **state)
{
	(void)state;
	edit_bad("{", "{\"cluster\":\"x\",", "unknown field \"cluster\"");
	edit_bad("\"name\"", "\"Name\"", "unknown field \"Name\"");
	edit_bad("{", "{\"\":1,", "unknown field \"\"");
	edit_bad("{", "{\"a\\u0001b\":1,", "unknown field \"a\\x01b\"");
	edit_bad("}", ",\"secret\":\"00\"}", "field \"secret\" appears twice");
	json_bad("{}", "missing field \"name\"");
	edit_bad("\"name\":\"node4\",", "", "missing field \"name\"");
	edit_bad(",\"expires_at\":1798761600", "",
		 "missing field \"expires_at\"");
	/* Unknown fields are reported before missing ones. */
	json_bad("{\"x\":1}", "unknown field \"x\"");
}

static void refuses_types(void **state)
{
	(void)state;
	edit_bad("\"node4\"", "4",
		 "field \"name\" must be a string, not a "
		 "number");
	edit_bad("\"node4\"", "null",
		 "field \"name\" must be a string, not "
		 "null");
	edit_bad("[\"10.0.0.1:8443\",\"[fd00::2]:8443\","
		 "\"node3.example.com:8443\"]",
		 "\"10.0.0.1:8443\"",
		 "field \"addresses\" must be an array, "
		 "not a string");
	edit_bad("\"[fd00::2]:8443\"", "[\"[fd00::2]:8443\"]",
		 "field \"addresses\": address 2 must be a string, not an "
		 "array");
	edit_bad("\"33082de0cd66499e8e06e9d9b45c155c25f75e663912b0cfbe5f4ce0"
		 "3b33945f\"",
		 "{}", "field \"fingerprint\" must be a string, not an object");
	edit_bad("\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1"
		 "c1d1e1f\"",
		 "true", "field \"secret\" must be a string, not a boolean");
	edit_bad("1798761600", "\"1798761600\"",
		 "field \"expires_at\" must be an integer (seconds since "
		 "1970-01-01 UTC), not a string");
	edit_bad("1798761600", "1798761600.0",
		 "field \"expires_at\" must be an integer (seconds since "
		 "1970-01-01 UTC), not a number");
	edit_bad("1798761600", "1.7987616e9",
		 "field \"expires_at\" must be an integer (seconds since "
		 "1970-01-01 UTC), not a number");
}

static void refuses_name(void **state)
{
	(void)state;
	edit_bad("\"node4\"", "\"\"", "field \"name\": member name is empty");
	char *long_name = tm_asprintf("\"%064d\"", 0);
	edit_bad("\"node4\"", long_name,
		 "field \"name\": member name is longer than 63 characters");
	tm_free(long_name);
	edit_bad("\"node4\"", "\"Node4\"",
		 "field \"name\": member name \"Node4\" has 'N' at byte 0 "
		 "(allowed: a-z, 0-9 and '-')");
	edit_bad("\"node4\"", "\"node_4\"",
		 "field \"name\": member name \"node_4\" has '_' at byte 4 "
		 "(allowed: a-z, 0-9 and '-')");
	edit_bad("\"node4\"", "\"node.4\"",
		 "field \"name\": member name \"node.4\" has '.' at byte 4 "
		 "(allowed: a-z, 0-9 and '-')");
	edit_bad("\"node4\"", "\"n\\u00e9\"",
		 "field \"name\": member name \"n\\xc3\\xa9\" has '\\xc3' at "
		 "byte 1 (allowed: a-z, 0-9 and '-')");
	edit_bad("\"node4\"", "\"-node4\"",
		 "field \"name\": member name \"-node4\" starts with '-'");
	edit_bad("\"node4\"", "\"node4-\"",
		 "field \"name\": member name \"node4-\" ends with '-'");
}

static void refuses_addresses(void **state)
{
	(void)state;
	const char *list = "[\"10.0.0.1:8443\",\"[fd00::2]:8443\","
			   "\"node3.example.com:8443\"]";
	edit_bad(list, "[]", "field \"addresses\" is empty");
	char *many = tm_strdup("[\"a0:1\"");
	for (int i = 1; i < TOKEN_MAX_ADDRESSES + 1; i++) {
		char *next = tm_asprintf("%s,\"a%d:1\"", many, i);
		tm_free(many);
		many = next;
	}
	char *closed = tm_asprintf("%s]", many);
	edit_bad(list, closed,
		 "field \"addresses\" holds 17 addresses "
		 "(limit 16)");
	tm_free(closed);
	tm_free(many);
	edit_bad("\"[fd00::2]:8443\"", "\"\"",
		 "field \"addresses\": address 2 is empty");
	edit_bad("\"[fd00::2]:8443\"", "\"node2\"",
		 "field \"addresses\": address 2 \"node2\" has no port "
		 "(host:port expected)");
	edit_bad("\"[fd00::2]:8443\"", "\"[fd00::2]\"",
		 "field \"addresses\": address 2 \"[fd00::2]\" has no port "
		 "(host:port expected)");
	edit_bad("\"[fd00::2]:8443\"", "\"node2:0\"",
		 "field \"addresses\": address 2 \"node2:0\" is invalid: port "
		 "0 out of range (1-65535)");
	edit_bad("\"[fd00::2]:8443\"", "\"node2:65536\"",
		 "field \"addresses\": address 2 \"node2:65536\" is invalid: "
		 "port 65536 out of range (1-65535)");
	edit_bad("\"[fd00::2]:8443\"", "\"node2:http\"",
		 "field \"addresses\": address 2 \"node2:http\" is invalid: "
		 "invalid port \"http\"");
	edit_bad("\"[fd00::2]:8443\"", "\"fd00::2:8443\"",
		 "field \"addresses\": address 2 \"fd00::2:8443\" is invalid: "
		 "IPv6 address needs brackets, as in [::1]:8443");
	edit_bad("\"[fd00::2]:8443\"", "\"node_2:8443\"",
		 "field \"addresses\": address 2 \"node_2:8443\" is invalid: "
		 "invalid host \"node_2\"");
	edit_bad("\"[fd00::2]:8443\"", "\"n\\u00e9:1\"",
		 "field \"addresses\": address 2 \"n\\xc3\\xa9:1\" is invalid: "
		 "invalid host \"n\\xc3\\xa9\"");
	edit_bad("\"[fd00::2]:8443\"", "\"node 2:8443\"",
		 "field \"addresses\": address 2 \"node 2:8443\" is invalid: "
		 "address contains a space or control character");
	edit_bad(
	    "\"[fd00::2]:8443\"", "\"[FD00:0::2]:8443\"",
	    "field \"addresses\": address 2 \"[FD00:0::2]:8443\" is not in "
	    "canonical form (\"[fd00::2]:8443\")");
	edit_bad("\"[fd00::2]:8443\"", "\"Node2:8443\"",
		 "field \"addresses\": address 2 \"Node2:8443\" is not in "
		 "canonical form (\"node2:8443\")");
	edit_bad("\"[fd00::2]:8443\"", "\"node2:08443\"",
		 "field \"addresses\": address 2 \"node2:08443\" is not in "
		 "canonical form (\"node2:8443\")");
	edit_bad("\"[fd00::2]:8443\"", "\"0.0.0.0:8443\"",
		 "field \"addresses\": address 2 \"0.0.0.0:8443\" is a "
		 "wildcard, not a member's address");
	edit_bad("\"[fd00::2]:8443\"", "\"[::]:8443\"",
		 "field \"addresses\": address 2 \"[::]:8443\" is a wildcard, "
		 "not a member's address");
	edit_bad("\"node3.example.com:8443\"", "\"10.0.0.1:8443\"",
		 "field \"addresses\": address 3 \"10.0.0.1:8443\" repeats "
		 "address 1");
	char *long_host = tm_asprintf("\"%0258d:1\"", 0);
	edit_bad("\"[fd00::2]:8443\"", long_host,
		 "field \"addresses\": address 2 is longer than 259 "
		 "characters");
	tm_free(long_host);
	long_host = tm_asprintf("\"a%0253d:1\"", 0);
	char *message = tm_asprintf("field \"addresses\": address 2 \"a%039d"
				    "...\" is invalid: host name longer than "
				    "253 characters",
				    0);
	edit_bad("\"[fd00::2]:8443\"", long_host, message);
	tm_free(message);
	tm_free(long_host);
}

static void refuses_fingerprint_and_secret(void **state)
{
	(void)state;
	const char *fp = "33082de0cd66499e8e06e9d9b45c155c25f75e663912b0cfbe5f"
			 "4ce03b33945f";
	const char *secret = "000102030405060708090a0b0c0d0e0f101112131415161"
			     "718191a1b1c1d1e1f";
	edit_bad(fp, "",
		 "field \"fingerprint\": expected 64 lowercase hex "
		 "digits (a SHA-256), got 0 characters");
	edit_bad(fp, "33082de0",
		 "field \"fingerprint\": expected 64 "
		 "lowercase hex digits (a SHA-256), got 8 characters");
	char *longer = tm_asprintf("%s0", fp);
	edit_bad(fp, longer,
		 "field \"fingerprint\": expected 64 lowercase "
		 "hex digits (a SHA-256), got more than 64 characters");
	tm_free(longer);
	edit_bad("33082de0cd", "33082DE0cd",
		 "field \"fingerprint\": expected "
		 "64 lowercase hex digits (a SHA-256), got 'D' at byte 5");
	edit_bad("33082de0cd", "33082de0c:",
		 "field \"fingerprint\": expected "
		 "64 lowercase hex digits (a SHA-256), got ':' at byte 9");
	edit_bad(secret, "0001",
		 "field \"secret\": expected 64 lowercase hex "
		 "digits (32 bytes), got 4 characters");
	edit_bad("0a0b0c", "0A0b0c",
		 "field \"secret\": expected 64 "
		 "lowercase hex digits (32 bytes), got 'A' at byte 21");
	edit_bad("1c1d1e1f\"", "1c1d1e1fff\"",
		 "field \"secret\": expected 64 "
		 "lowercase hex digits (32 bytes), got more than 64 "
		 "characters");
}

static void refuses_expires_at(void **state)
{
	(void)state;
	const char *range = "field \"expires_at\" is out of range (1 to "
			    "253402300799)";
	edit_bad("1798761600", "0", range);
	edit_bad("1798761600", "-1", range);
	edit_bad("1798761600", "253402300800", range);
	edit_bad("1798761600", "99999999999999999999999", range);
	edit_bad("1798761600", "-99999999999999999999999", range);
	/* The lowest is valid (the highest: largest_token_fits). */
	struct token t;
	char *json = edit("1798761600", "1");
	char *text = wrap(json);
	decode_ok(text, 0, &t);
	assert_int_equal(t.expires_at, 1);
	tm_free(text);
	tm_free(json);
}

/* Valid while now < expires_at; the message says when, in UTC. */
static void encode_refuses(void **state)
{
	(void)state;
	struct token t;
	example_token(&t);
	t.name[0] = '\0';
	encode_bad(&t, "field \"name\": member name is empty");
	example_token(&t);
	memset(t.name, 'a', sizeof t.name); /* no NUL */
	encode_bad(&t, "field \"name\": member name is longer than 63 "
		       "characters");
	example_token(&t);
	t.n_addresses = 0;
	encode_bad(&t, "field \"addresses\" is empty");
	t.n_addresses = TOKEN_MAX_ADDRESSES + 1;
	encode_bad(&t, "field \"addresses\" holds 17 addresses (limit 16)");
	example_token(&t);
	memset(t.addresses[1], 'a', sizeof t.addresses[1]); /* no NUL */
	encode_bad(&t, "field \"addresses\": address 2 is longer than 259 "
		       "characters");
	example_token(&t);
	strcpy(t.addresses[1], "a\"b:1");
	encode_bad(&t, "field \"addresses\": address 2 \"a\\x22b:1\" is "
		       "invalid: invalid host \"a\"b\"");
	example_token(&t);
	strcpy(t.addresses[2], "10.0.0.1:8443");
	encode_bad(&t, "field \"addresses\": address 3 \"10.0.0.1:8443\" "
		       "repeats address 1");
	example_token(&t);
	t.fingerprint[63] = 'G';
	encode_bad(&t, "field \"fingerprint\": expected 64 lowercase hex "
		       "digits (a SHA-256), got 'G' at byte 63");
	example_token(&t);
	memset(t.fingerprint, 'a', sizeof t.fingerprint); /* no NUL */
	encode_bad(&t, "field \"fingerprint\": expected 64 lowercase hex "
		       "digits (a SHA-256), got more than 64 characters");
	example_token(&t);
	t.expires_at = 0;
	encode_bad(&t, "field \"expires_at\" is out of range (1 to "
		       "253402300799)");
	/* An expired token still encodes: expiry is the reader's check. */
	example_token(&t);
	t.expires_at = 1;
	char *text = encode_ok(&t);
	tm_free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(refuses_size),
	    cmocka_unit_test(refuses_base64),
	    cmocka_unit_test(refuses_json),
	    cmocka_unit_test(refuses_fields),
	    cmocka_unit_test(refuses_types),
	    cmocka_unit_test(refuses_name),
	    cmocka_unit_test(refuses_addresses),
	    cmocka_unit_test(refuses_fingerprint_and_secret),
	    cmocka_unit_test(refuses_expires_at),
	    cmocka_unit_test(encode_refuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

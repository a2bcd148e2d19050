/* Join tokens: what `therm cluster add NAME` prints on a member and
 * `therm cluster join TOKEN` takes on the new machine.
 *
 * A token carries the name the new member will take, the addresses of the
 * cluster's members, the fingerprint of the cluster certificate (which the
 * joiner pins), a single-use secret and an expiry. Its text form is the
 * base64url encoding (no padding) of a compact JSON object;
 * doc/join-token.md gives the format byte by byte, every rule and every
 * error message, and a worked example that the tests in
 * test/unit/membership/ check.
 *
 * Encoding and decoding are pure: no I/O and no clock (the caller passes
 * the time), and struct token holds everything inline, so there is nothing
 * to free but the string that token_encode returns. Only token_secret_new
 * reaches outside, to OpenSSL's random generator. */
#ifndef TM_MEMBERSHIP_TOKEN_H
#define TM_MEMBERSHIP_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal/membership/name.h"

/* Longest token text token_decode reads, surrounding whitespace included;
 * the largest valid token (TOKEN_MAX_ADDRESSES addresses of
 * TOKEN_ADDRESS_MAX characters) encodes to 5951. */
#define TOKEN_MAX_SIZE 8192
/* At most this many member addresses in a token (at least one). */
#define TOKEN_MAX_ADDRESSES 16
/* Longest canonical "host:port": a 253-character host name, ':', 5 digits. */
#define TOKEN_ADDRESS_MAX 259
/* Lowercase hex SHA-256 of the cluster certificate (TLS_FINGERPRINT_LEN). */
#define TOKEN_FINGERPRINT_LEN 64
/* Bytes of secret; 64 lowercase hex digits in the token. */
#define TOKEN_SECRET_SIZE 32
/* expires_at is 1 .. TOKEN_EXPIRES_MAX: 9999-12-31T23:59:59Z, the last
 * second RFC 3339 can write. */
#define TOKEN_EXPIRES_MAX INT64_C(253402300799)

struct token {
	/* The name the joining member takes (member_name_check). */
	char name[MEMBER_NAME_MAX + 1];
	/* Addresses of members to join through, canonical "host:port" as
	 * config_address_normalize writes them, no wildcard, no repeats;
	 * the joiner tries them in order. */
	size_t n_addresses;
	char addresses[TOKEN_MAX_ADDRESSES][TOKEN_ADDRESS_MAX + 1];
	/* SHA-256 of the cluster certificate, 64 lowercase hex digits. */
	char fingerprint[TOKEN_FINGERPRINT_LEN + 1];
	/* The single-use secret (token_secret_new). */
	unsigned char secret[TOKEN_SECRET_SIZE];
	/* Valid while now < expires_at; seconds since 1970-01-01 UTC. */
	int64_t expires_at;
};

/* Encode T (borrowed) as token text. T is checked against the same rules
 * as token_decode applies, except the expiry, so a token that encodes
 * decodes; the same T always gives the same text. On success *OUT is owned
 * by the caller (tm_free) and at most TOKEN_MAX_SIZE characters. Otherwise
 * TM_INVALID with ERRMSG (TM_ERRMSG_SIZE bytes) as token_decode words it,
 * e.g. "field \"name\": member name is empty". */
int token_encode(const struct token *t, char **out, char *errmsg);

/* Decode the token TEXT (borrowed, NUL-terminated; leading and trailing
 * spaces, tabs and line ends are ignored) at time NOW (seconds since
 * 1970-01-01 UTC) into *OUT. On failure *OUT is all zeros and ERRMSG
 * (TM_ERRMSG_SIZE bytes) holds one of the messages listed in
 * doc/join-token.md:
 *   TM_TOOBIG   longer than TOKEN_MAX_SIZE (nothing past that is read);
 *   TM_INVALID  not a well-formed token: not base64url, not JSON, not an
 *               object, an unknown, repeated or missing field, a field of
 *               the wrong type or an invalid value;
 *   TM_TIMEOUT  well-formed but expired (NOW >= expires_at), e.g. "token
 *               expired at 2027-01-01T00:00:00Z (3600 s ago)".
 * Problems are reported in that order, fields in the order of the format. */
int token_decode(const char *text, int64_t now, struct token *out,
		 char *errmsg);

/* Fill OUT with TOKEN_SECRET_SIZE bytes from OpenSSL's CSPRNG (RAND_bytes).
 * TM_TLS with ERRMSG set if it has no entropy to give. */
int token_secret_new(unsigned char out[TOKEN_SECRET_SIZE], char *errmsg);

/* Parse a secret written as 64 lowercase hex digits (as in a token or a
 * join request). TM_INVALID with ERRMSG like "expected 64 lowercase hex
 * digits (32 bytes), got 12 characters" otherwise. */
int token_secret_parse(const char *hex, unsigned char out[TOKEN_SECRET_SIZE],
		       char *errmsg);

/* Are two secrets equal? Takes the same time whatever their content
 * (CRYPTO_memcmp), so that the answer to a guess leaks nothing about how
 * close it was. */
bool token_secret_equal(const unsigned char a[TOKEN_SECRET_SIZE],
			const unsigned char b[TOKEN_SECRET_SIZE]);

/* The SHA-256 of a secret as 64 lowercase hex digits: what the cluster
 * stores (join_tokens.secret_hash), so that reading the database does
 * not let one join. */
void token_secret_hash(const unsigned char secret[TOKEN_SECRET_SIZE],
		       char out[2 * TOKEN_SECRET_SIZE + 1]);
/* The secret itself as 64 lowercase hex digits (a join request). */
void token_secret_hex(const unsigned char secret[TOKEN_SECRET_SIZE],
		      char out[2 * TOKEN_SECRET_SIZE + 1]);
/* T (seconds since 1970, UTC) as RFC 3339, "2027-01-01T00:00:00Z". */
void token_time_text(int64_t t, char out[32]);

#endif /* TM_MEMBERSHIP_TOKEN_H */

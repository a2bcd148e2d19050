/* Internals shared by the files of internal/membership. */
#ifndef TM_MEMBERSHIP_PRIVATE_H
#define TM_MEMBERSHIP_PRIVATE_H

#include <stddef.h>

/* Characters of the base64url encoding (RFC 4648 section 5, no padding) of
 * N bytes. */
#define BASE64URL_LEN(n) (((n) / 3) * 4 + ((n) % 3 == 0 ? 0 : (n) % 3 + 1))

/* Write the base64url encoding of the N bytes of IN to OUT, which must
 * hold BASE64URL_LEN(N) + 1 bytes; OUT is NUL-terminated. */
void base64url_encode(const unsigned char *in, size_t n, char *out);

/* Decode the LEN characters of IN, strict: only the alphabet A-Z a-z 0-9
 * '-' '_', no padding, no whitespace, and the unused bits of the last
 * character zero, so that every byte string has exactly one encoding. OUT
 * must hold LEN * 3 / 4 bytes; *N gets the count written. On failure
 * TM_INVALID and ERRMSG (TM_ERRMSG_SIZE bytes) names the problem, byte
 * offsets counted from IN plus OFFSET. */
int base64url_decode(const char *in, size_t len, size_t offset,
		     unsigned char *out, size_t *n, char *errmsg);

/* Copy S into DST (SIZE bytes) for an error message: at most MAX
 * characters followed by "..." when longer, bytes outside printable ASCII,
 * '"' and '\' as \xNN. */
void membership_printable(char *dst, size_t size, const char *s, size_t max);

/* Copy the message S into DST (SIZE bytes), bytes outside printable ASCII
 * as \xNN (quotes kept as they are), cut to fit. */
void membership_printable_text(char *dst, size_t size, const char *s);

/* 0 if S is exactly LEN lowercase hex digits. Otherwise TM_INVALID and
 * ERRMSG "expected LEN lowercase hex digits (WHAT), got ..." naming the
 * length or the first bad character. */
int membership_hex_check(const char *s, size_t len, const char *what,
			 char *errmsg);

#endif /* TM_MEMBERSHIP_PRIVATE_H */

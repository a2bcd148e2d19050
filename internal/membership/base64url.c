/* base64url (RFC 4648 section 5) without padding, strict on decode.
 *
 * Written here rather than taken from OpenSSL: EVP_EncodeBlock and
 * EVP_DecodeBlock speak the standard alphabet with padding, skip
 * whitespace and accept non-zero trailing bits, so one byte string would
 * have many accepted encodings. */
#include <stdint.h>
#include <stdio.h>

#include "internal/lib/err.h"
#include "internal/membership/private.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void base64url_encode(const unsigned char *in, size_t n, char *out)
{
	size_t o = 0;
	size_t i = 0;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
			     in[i + 2];
		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = alphabet[(v >> 6) & 63];
		out[o++] = alphabet[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 63];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = alphabet[(v >> 6) & 63];
	}
	out[o] = '\0';
}

/* The 6-bit value of CH, or -1. */
static int sextet(char ch)
{
	if (ch >= 'A' && ch <= 'Z') {
		return ch - 'A';
	}
	if (ch >= 'a' && ch <= 'z') {
		return ch - 'a' + 26;
	}
	if (ch >= '0' && ch <= '9') {
		return ch - '0' + 52;
	}
	if (ch == '-') {
		return 62;
	}
	if (ch == '_') {
		return 63;
	}
	return -1;
}

static int bad_char(char ch, size_t at, char *errmsg)
{
	unsigned char u = (unsigned char)ch;
	if (ch == '=') {
		tm_errmsg_printf(errmsg,
				 "not base64url: '=' at byte %zu "
				 "(a token has no padding)",
				 at);
	} else if (u > 0x20 && u < 0x7f) {
		tm_errmsg_printf(errmsg,
				 "not base64url: '%c' at byte %zu "
				 "(allowed: A-Z a-z 0-9 - _)",
				 ch, at);
	} else {
		tm_errmsg_printf(errmsg,
				 "not base64url: byte 0x%02x at byte "
				 "%zu (allowed: A-Z a-z 0-9 - _)",
				 u, at);
	}
	return TM_INVALID;
}

int base64url_decode(const char *in, size_t len, size_t offset,
		     unsigned char *out, size_t *n, char *errmsg)
{
	for (size_t i = 0; i < len; i++) {
		if (sextet(in[i]) < 0) {
			return bad_char(in[i], offset + i, errmsg);
		}
	}
	if (len % 4 == 1) {
		tm_errmsg_printf(errmsg,
				 "not base64url: %zu characters "
				 "cannot encode whole bytes (truncated?)",
				 len);
		return TM_INVALID;
	}
	size_t o = 0;
	uint32_t acc = 0;
	unsigned bits = 0;
	for (size_t i = 0; i < len; i++) {
		acc = (acc << 6) | (uint32_t)sextet(in[i]);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0) {
		tm_errmsg_printf(errmsg,
				 "not base64url: the last character "
				 "'%c' (byte %zu) has non-zero unused bits",
				 in[len - 1], offset + len - 1);
		return TM_INVALID;
	}
	*n = o;
	return 0;
}

/* JSON text for SQL values, written straight into a growable buffer: the
 * encoding rules of doc/sql-api.md in one place, shared by the cJSON path
 * (sql_json.c) and the streaming encoder (sql_stream.c). No I/O.
 *
 * Each encoder has a _len twin that returns the exact number of bytes it
 * would write, so that a caller can refuse a value before building it. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "internal/api/sql.h"
#include "internal/lib/mem.h"

void sql_buf_add(struct sql_buf *b, const void *data, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap == 0 ? 64 : b->cap;
		while (cap < b->n + n + 1) {
			cap *= 2;
		}
		b->p = tm_realloc(b->p, cap);
		b->cap = cap;
	}
	if (n > 0) {
		memcpy(b->p + b->n, data, n);
	}
	b->n += n;
	b->p[b->n] = '\0';
}

void sql_buf_adds(struct sql_buf *b, const char *s)
{
	sql_buf_add(b, s, strlen(s));
}

char *sql_buf_take(struct sql_buf *b, size_t *len)
{
	char *p = b->p;
	*len = b->n;
	memset(b, 0, sizeof *b);
	return p;
}

void sql_buf_clear(struct sql_buf *b)
{
	tm_free(b->p);
	memset(b, 0, sizeof *b);
}

size_t sql_utf8_len(const unsigned char *p, size_t left)
{
	unsigned char c = p[0];
	unsigned char lo = 0x80;
	unsigned char hi = 0xBF;
	size_t n;
	if (c < 0x80) {
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		lo = c == 0xE0 ? 0xA0 : lo;
		hi = c == 0xED ? 0x9F : hi;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		lo = c == 0xF0 ? 0x90 : lo;
		hi = c == 0xF4 ? 0x8F : hi;
	} else {
		return 0;
	}
	if (left < n || p[1] < lo || p[1] > hi) {
		return 0;
	}
	for (size_t i = 2; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80) {
			return 0;
		}
	}
	return n;
}

size_t sql_utf8_invalid_at(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		size_t k = sql_utf8_len(p + i, n - i);
		if (k == 0) {
			return i;
		}
		i += k;
	}
	return n;
}

/* Walk S[0..n) as sql_json_text encodes it; with B, write it. Returns the
 * bytes of the encoding, quotes included. */
static size_t text_walk(struct sql_buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = 2;
	size_t run = 0; /* bytes copied as they are, not yet written */
	if (b != NULL) {
		sql_buf_add(b, "\"", 1);
	}
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		char esc[8];
		size_t k = 0;
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			k = 2;
		} else if (c < 0x20) {
			snprintf(esc, sizeof esc, "\\u%04x", c);
			k = 6;
		} else {
			size_t u = sql_utf8_len(p + i, n - i);
			if (u > 0) {
				run += u;
				i += u;
				continue;
			}
			memcpy(esc, "\\ufffd", 6);
			k = 6;
		}
		if (b != NULL) {
			sql_buf_add(b, p + i - run, run);
			sql_buf_add(b, esc, k);
		}
		len += run + k;
		run = 0;
		i++;
	}
	if (b != NULL) {
		sql_buf_add(b, p + n - run, run);
		sql_buf_add(b, "\"", 1);
	}
	return len + run;
}

size_t sql_json_text_len(const char *s, size_t n)
{
	return text_walk(NULL, s, n);
}

void sql_json_text(struct sql_buf *b, const char *s, size_t n)
{
	text_walk(b, s, n);
}

#define BLOB_HEAD "{\"base64\":\""
#define BLOB_TAIL "\"}"

size_t sql_json_blob_len(size_t n)
{
	return strlen(BLOB_HEAD) + (n + 2) / 3 * 4 + strlen(BLOB_TAIL);
}

void sql_json_blob(struct sql_buf *b, const void *p, size_t n)
{
	/* Whole 3-byte groups per call keep the concatenation valid and the
	 * length within EVP_EncodeBlock's int. */
	enum { GROUP = 3 * 16 * 1024 };
	unsigned char out[GROUP / 3 * 4 + 1];
	const unsigned char *in = p;
	sql_buf_adds(b, BLOB_HEAD);
	for (size_t done = 0; done < n;) {
		size_t k = n - done < GROUP ? n - done : GROUP;
		int got = EVP_EncodeBlock(out, in + done, (int)k);
		sql_buf_add(b, out, (size_t)got);
		done += k;
	}
	sql_buf_adds(b, BLOB_TAIL);
}

void sql_json_int(struct sql_buf *b, int64_t v)
{
	char text[32];
	int n = snprintf(text, sizeof text, "%lld", (long long)v);
	sql_buf_add(b, text, (size_t)n);
}

void sql_json_real(struct sql_buf *b, double v)
{
	char text[40];
	if (!isfinite(v)) {
		sql_buf_adds(b, "null");
		return;
	}
	snprintf(text, sizeof text, "%.17g", v);
	if (strpbrk(text, ".eEn") == NULL) {
		strcat(text, ".0");
	}
	sql_buf_adds(b, text);
}

void sql_json_column(struct sql_buf *b, sqlite3_stmt *st, int col)
{
	switch (sqlite3_column_type(st, col)) {
	case SQLITE_INTEGER:
		sql_json_int(b, sqlite3_column_int64(st, col));
		break;
	case SQLITE_FLOAT:
		sql_json_real(b, sqlite3_column_double(st, col));
		break;
	case SQLITE_TEXT: {
		const char *text = (const char *)sqlite3_column_text(st, col);
		size_t n = (size_t)sqlite3_column_bytes(st, col);
		sql_json_text(b, text != NULL ? text : "",
			      text != NULL ? n : 0);
		break;
	}
	case SQLITE_BLOB: {
		const void *blob = sqlite3_column_blob(st, col);
		size_t n = (size_t)sqlite3_column_bytes(st, col);
		sql_json_blob(b, blob, blob != NULL ? n : 0);
		break;
	}
	default:
		sql_buf_adds(b, "null");
		break;
	}
}

uint64_t sql_json_column_len(sqlite3_stmt *st, int col)
{
	switch (sqlite3_column_type(st, col)) {
	case SQLITE_TEXT: {
		const char *text = (const char *)sqlite3_column_text(st, col);
		size_t n = (size_t)sqlite3_column_bytes(st, col);
		return text != NULL ? sql_json_text_len(text, n) : 2;
	}
	case SQLITE_BLOB:
		return sql_json_blob_len((size_t)sqlite3_column_bytes(st, col));
	default:
		return 24; /* a number or null: at most this */
	}
}

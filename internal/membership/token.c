/* Join tokens: encode and decode, see token.h and doc/join-token.md.
 *
 * token_decode, in order: the size bound, surrounding whitespace, base64url,
 * JSON (strict, and no "\u0000", which cJSON would cut strings at), an
 * object, no unknown or repeated field, no missing field, then each field
 * in format order (its type, then its value), then the expiry. token_encode
 * applies the same field checks to a struct token, so whatever encodes
 * decodes, and writes the fields in format order with no whitespace. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "internal/config/config.h"
#include "internal/lib/assert.h"
#include "internal/lib/err.h"
#include "internal/lib/json.h"
#include "internal/lib/mem.h"
#include "internal/membership/private.h"
#include "internal/membership/token.h"
#include "internal/tls/tls.h"

_Static_assert(TOKEN_FINGERPRINT_LEN == TLS_FINGERPRINT_LEN,
	       "a token pins a certificate fingerprint");

/* The most JSON bytes TOKEN_MAX_SIZE characters of base64url can hold. */
#define TOKEN_JSON_MAX (TOKEN_MAX_SIZE / 4 * 3)

enum field {
	F_NAME,
	F_ADDRESSES,
	F_FINGERPRINT,
	F_SECRET,
	F_EXPIRES_AT,
	F_COUNT
};

/* The fields in format order: the order token_encode writes them in. */
static const char *const field_names[F_COUNT] = {
    "name", "addresses", "fingerprint", "secret", "expires_at",
};

#define SHOWN_SIZE 200 /* a value quoted in a message */

/* --- field checks shared by encode and decode ---------------------------- */

static int check_name(const char *name, char *errmsg)
{
	int rv = member_name_check(name, errmsg);
	if (rv != 0) {
		tm_errmsg_wrapf(errmsg, "field \"name\"");
	}
	return rv;
}

static int check_count(size_t n, char *errmsg)
{
	if (n == 0) {
		tm_errmsg_printf(errmsg, "field \"addresses\" is empty");
		return TM_INVALID;
	}
	if (n > TOKEN_MAX_ADDRESSES) {
		tm_errmsg_printf(errmsg,
				 "field \"addresses\" holds %zu "
				 "addresses (limit %d)",
				 n, TOKEN_MAX_ADDRESSES);
		return TM_INVALID;
	}
	return 0;
}

static int address_fail(size_t i, const char *a, const char *why, char *errmsg)
{
	char shown[SHOWN_SIZE];
	membership_printable(shown, sizeof shown, a, 40);
	tm_errmsg_printf(errmsg, "field \"addresses\": address %zu \"%s\" %s",
			 i + 1, shown, why);
	return TM_INVALID;
}

static bool has_port(const char *a)
{
	if (a[0] == '[') {
		return strstr(a, "]:") != NULL;
	}
	return strchr(a, ':') != NULL;
}

/* Check address I of T (NUL-terminated within its slot) against the rules
 * and the addresses before it. */
static int check_address(const struct token *t, size_t i, char *errmsg)
{
	const char *a = t->addresses[i];
	char reason[TM_ERRMSG_SIZE];
	char why[TM_ERRMSG_SIZE + 64];
	char *canon = NULL;
	if (a[0] == '\0') {
		tm_errmsg_printf(errmsg,
				 "field \"addresses\": address %zu is "
				 "empty",
				 i + 1);
		return TM_INVALID;
	}
	if (config_address_normalize(a, &canon, reason) != 0) {
		char shown[TM_ERRMSG_SIZE];
		membership_printable_text(shown, sizeof shown, reason);
		snprintf(why, sizeof why, "is invalid: %s", shown);
		return address_fail(i, a, why, errmsg);
	}
	int rv = 0;
	if (!has_port(a)) {
		rv = address_fail(i, a, "has no port (host:port expected)",
				  errmsg);
	} else if (strcmp(canon, a) != 0) {
		char shown[SHOWN_SIZE];
		membership_printable(shown, sizeof shown, canon, 40);
		snprintf(why, sizeof why, "is not in canonical form (\"%s\")",
			 shown);
		rv = address_fail(i, a, why, errmsg);
	} else if (strncmp(a, "0.0.0.0:", 8) == 0 ||
		   strncmp(a, "[::]:", 5) == 0) {
		rv = address_fail(i, a,
				  "is a wildcard, not a member's "
				  "address",
				  errmsg);
	}
	for (size_t j = 0; rv == 0 && j < i; j++) {
		if (strcmp(t->addresses[j], a) == 0) {
			snprintf(why, sizeof why, "repeats address %zu", j + 1);
			rv = address_fail(i, a, why, errmsg);
		}
	}
	tm_free(canon);
	return rv;
}

static int address_too_long(size_t i, char *errmsg)
{
	tm_errmsg_printf(errmsg,
			 "field \"addresses\": address %zu is longer "
			 "than %d characters",
			 i + 1, TOKEN_ADDRESS_MAX);
	return TM_INVALID;
}

static int check_fingerprint(const char *fp, char *errmsg)
{
	int rv = membership_hex_check(fp, TOKEN_FINGERPRINT_LEN, "a SHA-256",
				      errmsg);
	if (rv != 0) {
		tm_errmsg_wrapf(errmsg, "field \"fingerprint\"");
	}
	return rv;
}

static int check_expires_at(int64_t expires_at, char *errmsg)
{
	if (expires_at < 1 || expires_at > TOKEN_EXPIRES_MAX) {
		tm_errmsg_printf(errmsg,
				 "field \"expires_at\" is out of range "
				 "(1 to %" PRId64 ")",
				 TOKEN_EXPIRES_MAX);
		return TM_INVALID;
	}
	return 0;
}

/* --- encode -------------------------------------------------------------- */

static int check_token(const struct token *t, char *errmsg)
{
	int rv = check_name(t->name, errmsg);
	if (rv == 0) {
		rv = check_count(t->n_addresses, errmsg);
	}
	for (size_t i = 0; rv == 0 && i < t->n_addresses; i++) {
		if (strnlen(t->addresses[i], TOKEN_ADDRESS_MAX + 1) >
		    TOKEN_ADDRESS_MAX) {
			rv = address_too_long(i, errmsg);
		} else {
			rv = check_address(t, i, errmsg);
		}
	}
	if (rv == 0) {
		rv = check_fingerprint(t->fingerprint, errmsg);
	}
	if (rv == 0) {
		rv = check_expires_at(t->expires_at, errmsg);
	}
	return rv;
}

struct out {
	char buf[TOKEN_JSON_MAX];
	size_t len;
};

static void out_add(struct out *o, const char *s)
{
	size_t n = strlen(s);
	INVARIANT(o->len + n < sizeof o->buf);
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void out_hex(struct out *o, const unsigned char *bytes, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	INVARIANT(o->len + 2 * n < sizeof o->buf);
	for (size_t i = 0; i < n; i++) {
		o->buf[o->len++] = digits[bytes[i] >> 4];
		o->buf[o->len++] = digits[bytes[i] & 15];
	}
}

int token_encode(const struct token *t, char **out, char *errmsg)
{
	int rv = check_token(t, errmsg);
	if (rv != 0) {
		return rv;
	}
	struct out o = {.len = 0};
	char number[32];
	out_add(&o, "{\"name\":\"");
	out_add(&o, t->name);
	out_add(&o, "\",\"addresses\":[");
	for (size_t i = 0; i < t->n_addresses; i++) {
		out_add(&o, i == 0 ? "\"" : ",\"");
		out_add(&o, t->addresses[i]);
		out_add(&o, "\"");
	}
	out_add(&o, "],\"fingerprint\":\"");
	out_add(&o, t->fingerprint);
	out_add(&o, "\",\"secret\":\"");
	out_hex(&o, t->secret, TOKEN_SECRET_SIZE);
	snprintf(number, sizeof number, "\",\"expires_at\":%" PRId64 "}",
		 t->expires_at);
	out_add(&o, number);
	POST(BASE64URL_LEN(o.len) <= TOKEN_MAX_SIZE);
	*out = tm_malloc(BASE64URL_LEN(o.len) + 1);
	base64url_encode((const unsigned char *)o.buf, o.len, *out);
	OPENSSL_cleanse(o.buf, o.len);
	return 0;
}

/* --- decode -------------------------------------------------------------- */

int token_secret_parse(const char *hex, unsigned char out[TOKEN_SECRET_SIZE],
		       char *errmsg)
{
	int rv = membership_hex_check(hex, 2 * TOKEN_SECRET_SIZE, "32 bytes",
				      errmsg);
	if (rv != 0) {
		return rv;
	}
	for (size_t i = 0; i < TOKEN_SECRET_SIZE; i++) {
		unsigned hi =
		    (unsigned)(hex[2 * i] <= '9' ? hex[2 * i] - '0'
						 : hex[2 * i] - 'a' + 10);
		unsigned lo = (unsigned)(hex[2 * i + 1] <= '9'
					     ? hex[2 * i + 1] - '0'
					     : hex[2 * i + 1] - 'a' + 10);
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

static const char *json_type_name(const cJSON *item)
{
	if (cJSON_IsObject(item)) {
		return "an object";
	}
	if (cJSON_IsArray(item)) {
		return "an array";
	}
	if (cJSON_IsString(item)) {
		return "a string";
	}
	if (cJSON_IsNumber(item)) {
		return "a number";
	}
	if (cJSON_IsBool(item)) {
		return "a boolean";
	}
	return "null";
}

/* Refuse "\u0000" in a string of the LEN bytes of JSON (already checked by
 * json_check, so a backslash is always inside a string and starts an
 * escape). */
static int check_no_nul(const char *json, size_t len, char *errmsg)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (json[i] != '\\') {
			continue;
		}
		if (i + 6 <= len && memcmp(json + i + 1, "u0000", 5) == 0) {
			tm_errmsg_printf(errmsg,
					 "not a token: \\u0000 in a "
					 "JSON string at byte %zu",
					 i);
			return TM_INVALID;
		}
		i++; /* skip the escaped character */
	}
	return 0;
}

/* Map the members of ROOT onto FIELDS[], refusing unknown and repeated
 * fields, then missing ones. */
static int find_fields(const cJSON *root, const cJSON *fields[F_COUNT],
		       char *errmsg)
{
	char shown[SHOWN_SIZE];
	for (const cJSON *m = root->child; m != NULL; m = m->next) {
		int f = 0;
		while (f < F_COUNT && strcmp(m->string, field_names[f]) != 0) {
			f++;
		}
		if (f == F_COUNT) {
			membership_printable(shown, sizeof shown, m->string,
					     32);
			tm_errmsg_printf(errmsg, "unknown field \"%s\"", shown);
			return TM_INVALID;
		}
		if (fields[f] != NULL) {
			tm_errmsg_printf(errmsg, "field \"%s\" appears twice",
					 field_names[f]);
			return TM_INVALID;
		}
		fields[f] = m;
	}
	for (int f = 0; f < F_COUNT; f++) {
		if (fields[f] == NULL) {
			tm_errmsg_printf(errmsg, "missing field \"%s\"",
					 field_names[f]);
			return TM_INVALID;
		}
	}
	return 0;
}

static int must_be_string(const cJSON *item, enum field f, char *errmsg)
{
	if (!cJSON_IsString(item)) {
		tm_errmsg_printf(errmsg,
				 "field \"%s\" must be a string, not %s",
				 field_names[f], json_type_name(item));
		return TM_INVALID;
	}
	return 0;
}

/* One reader per field: type, then value, then into *T. */

static int read_name(const cJSON *item, struct token *t, char *errmsg)
{
	int rv = must_be_string(item, F_NAME, errmsg);
	if (rv == 0) {
		rv = check_name(item->valuestring, errmsg);
	}
	if (rv == 0) {
		strcpy(t->name, item->valuestring);
	}
	return rv;
}

static int read_addresses(const cJSON *item, struct token *t, char *errmsg)
{
	if (!cJSON_IsArray(item)) {
		tm_errmsg_printf(errmsg,
				 "field \"addresses\" must be an array, not %s",
				 json_type_name(item));
		return TM_INVALID;
	}
	int rv = check_count((size_t)cJSON_GetArraySize(item), errmsg);
	size_t i = 0;
	for (const cJSON *a = item->child; rv == 0 && a != NULL;
	     a = a->next, i++) {
		if (!cJSON_IsString(a)) {
			tm_errmsg_printf(errmsg,
					 "field \"addresses\": address %zu "
					 "must be a string, not %s",
					 i + 1, json_type_name(a));
			return TM_INVALID;
		}
		if (strlen(a->valuestring) > TOKEN_ADDRESS_MAX) {
			return address_too_long(i, errmsg);
		}
		strcpy(t->addresses[i], a->valuestring);
		t->n_addresses = i + 1;
		rv = check_address(t, i, errmsg);
	}
	return rv;
}

static int read_fingerprint(const cJSON *item, struct token *t, char *errmsg)
{
	int rv = must_be_string(item, F_FINGERPRINT, errmsg);
	if (rv == 0) {
		rv = check_fingerprint(item->valuestring, errmsg);
	}
	if (rv == 0) {
		strcpy(t->fingerprint, item->valuestring);
	}
	return rv;
}

static int read_secret(const cJSON *item, struct token *t, char *errmsg)
{
	int rv = must_be_string(item, F_SECRET, errmsg);
	if (rv != 0) {
		return rv;
	}
	rv = token_secret_parse(item->valuestring, t->secret, errmsg);
	if (rv != 0) {
		tm_errmsg_wrapf(errmsg, "field \"secret\"");
	}
	/* The parsed tree is freed by the caller; the secret goes now. */
	OPENSSL_cleanse(item->valuestring, strlen(item->valuestring));
	return rv;
}

static int read_expires_at(const cJSON *item, struct token *t, char *errmsg)
{
	if (json_get_int64(item, &t->expires_at)) {
		return check_expires_at(t->expires_at, errmsg);
	}
	if (cJSON_IsNumber(item) && item->valuestring != NULL &&
	    strpbrk(item->valuestring, ".eE") == NULL) {
		/* An integer literal too large for int64. */
		return check_expires_at(-1, errmsg);
	}
	tm_errmsg_printf(errmsg,
			 "field \"expires_at\" must be an integer (seconds "
			 "since 1970-01-01 UTC), not %s",
			 json_type_name(item));
	return TM_INVALID;
}

typedef int (*field_read_fn)(const cJSON *item, struct token *t, char *errmsg);

static const field_read_fn readers[F_COUNT] = {
    read_name, read_addresses, read_fingerprint, read_secret, read_expires_at,
};

static int read_fields(const cJSON *root, struct token *t, char *errmsg)
{
	const cJSON *fields[F_COUNT] = {NULL};
	int rv = find_fields(root, fields, errmsg);
	for (int f = 0; rv == 0 && f < F_COUNT; f++) {
		rv = readers[f](fields[f], t, errmsg);
	}
	return rv;
}

/* JSON text of LEN bytes to the fields of *T. */
static int decode_json(const char *json, size_t len, struct token *t,
		       char *errmsg)
{
	char reason[TM_ERRMSG_SIZE];
	if (json_check(json, len, NULL, reason) != 0) {
		tm_errmsg_printf(errmsg, "not JSON: %s", reason);
		return TM_INVALID;
	}
	int rv = check_no_nul(json, len, errmsg);
	if (rv != 0) {
		return rv;
	}
	cJSON *root = json_parse_exact(json, len, NULL);
	if (root == NULL) {
		/* Valid JSON that cJSON cannot hold. */
		tm_errmsg_printf(errmsg, "not JSON: cannot parse");
		return TM_INVALID;
	}
	if (!cJSON_IsObject(root)) {
		tm_errmsg_printf(errmsg, "not a JSON object but %s",
				 json_type_name(root));
		rv = TM_INVALID;
	} else {
		rv = read_fields(root, t, errmsg);
	}
	cJSON_Delete(root);
	return rv;
}

static bool blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

static int check_expiry(int64_t expires_at, int64_t now, char *errmsg)
{
	if (now < expires_at) {
		return 0;
	}
	time_t when = (time_t)expires_at;
	struct tm tm;
	char date[32] = "?";
	if (gmtime_r(&when, &tm) != NULL) {
		strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	tm_errmsg_printf(errmsg, "token expired at %s (%" PRId64 " s ago)",
			 date, now - expires_at);
	return TM_TIMEOUT;
}

int token_decode(const char *text, int64_t now, struct token *out, char *errmsg)
{
	memset(out, 0, sizeof *out);
	size_t len = strnlen(text, TOKEN_MAX_SIZE + 1);
	if (len > TOKEN_MAX_SIZE) {
		tm_errmsg_printf(errmsg, "token is longer than %d bytes",
				 TOKEN_MAX_SIZE);
		return TM_TOOBIG;
	}
	size_t start = 0;
	while (start < len && blank(text[start])) {
		start++;
	}
	while (len > start && blank(text[len - 1])) {
		len--;
	}
	if (len == start) {
		tm_errmsg_printf(errmsg, "token is empty");
		return TM_INVALID;
	}
	unsigned char json[TOKEN_JSON_MAX];
	size_t n;
	int rv = base64url_decode(text + start, len - start, start, json, &n,
				  errmsg);
	if (rv == 0) {
		rv = decode_json((const char *)json, n, out, errmsg);
		OPENSSL_cleanse(json, n);
	}
	if (rv == 0) {
		rv = check_expiry(out->expires_at, now, errmsg);
	}
	if (rv != 0) {
		OPENSSL_cleanse(out, sizeof *out);
	}
	return rv;
}

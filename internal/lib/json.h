/* JSON numbers without loss: cJSON keeps numbers as doubles, which cannot
 * hold every 64-bit integer. json_parse_exact() parses with cJSON and then
 * attaches each number's literal text to its item (in valuestring, freed by
 * cJSON_Delete), so integers can be read back exactly. Output of exact
 * integers and reals goes through raw items. */
#ifndef TM_JSON_H
#define TM_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* Deepest nesting of arrays and objects accepted (cJSON's own limit is
 * 1000 and reported as a bare syntax error). */
#define JSON_MAX_DEPTH 512

/* Is LEN bytes of TEXT exactly one JSON value (RFC 8259), surrounded by
 * whitespace only? Stricter than cJSON: refuses leading zeros ("0123"),
 * raw control characters in strings, invalid escapes and nesting deeper
 * than JSON_MAX_DEPTH. On failure TM_INVALID, *ERROR_AT (may be NULL) the
 * byte offset and ERRMSG (TM_ERRMSG_SIZE) what was refused, e.g. "nested
 * too deep (limit 512) at byte 512". UTF-8 is not checked. */
int json_check(const char *text, size_t len, size_t *error_at, char *errmsg);

/* json_check, then cJSON; NULL with ERRMSG set on failure. Owned by the
 * caller (cJSON_Delete). */
cJSON *json_parse_strict(const char *text, size_t len, char *errmsg);

/* Parse LEN bytes of TEXT (checked by json_check first). Returns NULL on
 * invalid JSON, with *ERROR_AT (may be NULL) set to the byte offset where
 * parsing stopped. Owned by the caller (cJSON_Delete). */
cJSON *json_parse_exact(const char *text, size_t len, size_t *error_at);

/* True if ITEM is a number written as an integer literal (no fraction, no
 * exponent) that fits in int64; the value is stored in *OUT. Items from
 * plain cJSON_Parse fall back to valuedouble when it is integral and within
 * +-2^53. */
bool json_get_int64(const cJSON *item, int64_t *out);

/* True if ITEM is a number whose literal has a fraction or an exponent. */
bool json_is_real_literal(const cJSON *item);

/* Raw number items that print exactly. */
cJSON *json_create_int64(int64_t v);
/* A real always prints with a fraction or exponent ("1.0", not "1");
 * infinities and NaN, which JSON cannot express, become null. */
cJSON *json_create_real(double v);

#endif /* TM_JSON_H */

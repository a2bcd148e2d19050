/* Shared by the join token tests (helpers.c). Failures end the running
 * cmocka test; returned strings are owned (tm_free). */
#ifndef TM_TEST_MEMBERSHIP_HELPERS_H
#define TM_TEST_MEMBERSHIP_HELPERS_H

#include <stdbool.h>
#include <stdint.h>

#include "internal/membership/token.h"

/* The worked example of doc/join-token.md. */
#define EXAMPLE_EXPIRES INT64_C(1798761600) /* 2027-01-01T00:00:00Z */
extern const char example_json[];
extern const char example_text[];
void example_token(struct token *t);

/* Token text for the JSON text JSON. */
char *wrap(const char *json);
/* token_encode, which must succeed. */
char *encode_ok(const struct token *t);
/* token_decode at NOW, which must succeed. */
void decode_ok(const char *text, int64_t now, struct token *t);
bool all_zero(const struct token *t);
/* Decoding TEXT at NOW fails with RV and exactly MESSAGE, and leaves the
 * output all zeros. */
void decode_bad_at(const char *text, int64_t now, int rv, const char *message);
/* decode_bad_at just before the example expires, TM_INVALID. */
void decode_bad(const char *text, const char *message);
/* The token made of the JSON text JSON is refused with MESSAGE. */
void json_bad(const char *json, const char *message);
/* The example JSON with the text FROM (which must occur once) replaced by
 * TO. */
char *edit(const char *from, const char *to);
/* That edited JSON is refused with MESSAGE. */
void edit_bad(const char *from, const char *to, const char *message);
/* Encoding T fails with TM_INVALID and exactly MESSAGE. */
void encode_bad(const struct token *t, const char *message);

#endif /* TM_TEST_MEMBERSHIP_HELPERS_H */

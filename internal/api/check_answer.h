/* A member's answer to GET /internal/cluster/check (doc/consistency.md):
 * the metadata of a sync envelope,
 *
 *   {"member": S, "index": N, "applied_index": N, "chain": 32 hex,
 *    "chain_base": N, "content": 32 hex}
 *
 * Formatting and parsing are pure; the parser takes the bytes as received
 * from the network and refuses anything else (unknown fields included)
 * with a message naming the field. Integers are 0..2^53. */
#ifndef TM_API_CHECK_ANSWER_H
#define TM_API_CHECK_ANSWER_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "internal/membership/name.h"

#define CHECK_ANSWER_MAX_SIZE 4096

struct check_answer {
	char member[MEMBER_NAME_MAX + 1];
	uint64_t index;		/* of the CHECK entry */
	uint64_t applied_index; /* the member's, when it answered */
	char chain[33];		/* hash chain at INDEX, 32 lowercase hex */
	uint64_t chain_base;
	char content[33]; /* content hash at INDEX, 32 lowercase hex */
};

/* The metadata object. Owned (cJSON_Delete). */
cJSON *check_answer_json(const struct check_answer *a);

/* BODY (LEN bytes) is the whole envelope. 0, or TM_INVALID with ERRMSG
 * (TM_ERRMSG_SIZE). */
int check_answer_parse(const char *body, size_t len, struct check_answer *out,
		       char *errmsg);

#endif /* TM_API_CHECK_ANSWER_H */

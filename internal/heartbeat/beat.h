/* The heartbeat's two messages (doc/clustering.md, "Heartbeat"): what the
 * leader sends every member, POST /internal/cluster/heartbeat,
 *
 *   {"leader_id": N, "term": N, "index": N,
 *    "members": [{"id": N, "name": S, "address": "host:port",
 *                 "role": "voter"|"standby"|"spare",
 *                 "failure_domain": S, "fingerprint": 64 hex}, ...]}
 *
 * and the member's answer (the metadata of a sync envelope):
 *
 *   {"id": N, "name": S, "address": "host:port", "version": S,
 *    "schema_version": N, "api_extensions": N, "applied_index": N,
 *    "loop_lag_p99_ms": X, "load_average": X,
 *    "chain": 32 hex, "chain_base": N}
 *
 * where chain is the member's hash chain at applied_index and chain_base
 * where that chain starts (doc/consistency.md); both are absent from the
 * answers of older builds, and of a member whose chain is unknown.
 *
 * Formatting and parsing are pure. Parsers take the bytes as received and
 * refuse anything else than the above (unknown fields included) with a
 * message naming the field. Integers are 0..2^53. */
#ifndef TM_HEARTBEAT_BEAT_H
#define TM_HEARTBEAT_BEAT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "internal/membership/name.h"
#include "internal/membership/token.h"
#include "internal/tls/tls.h"

/* Bodies longer than this are refused; BEAT_MAX_MEMBERS members at most. */
#define BEAT_MAX_SIZE (1024 * 1024)
#define BEAT_MAX_MEMBERS 1000
#define BEAT_VERSION_MAX 63

struct beat_member {
	uint64_t id; /* 1..2^53 */
	char name[MEMBER_NAME_MAX + 1];
	char address[TOKEN_ADDRESS_MAX + 1];	  /* canonical host:port */
	char role[8];				  /* voter, standby, spare */
	char failure_domain[MEMBER_NAME_MAX + 1]; /* may be "" */
	char fingerprint[TLS_FINGERPRINT_LEN + 1];
};

struct beat_request {
	uint64_t leader_id;
	uint64_t term;
	uint64_t index;
	struct beat_member *members; /* owned by a parsed request */
	size_t n_members;
	/* The oldest last snapshot among the members heard from lately
	 * (gdb_set_trail_floor); older leaders do not send it. */
	bool has_snapshot_floor;
	uint64_t snapshot_floor;
};

struct beat_answer {
	uint64_t id;
	char name[MEMBER_NAME_MAX + 1];
	char address[TOKEN_ADDRESS_MAX + 1];
	char version[BEAT_VERSION_MAX + 1];
	int schema_version;
	int api_extensions;
	uint64_t applied_index;
	uint64_t snapshot_index; /* its raft log's last snapshot; 0: unsaid */
	double loop_lag_p99_ms;	 /* >= 0 */
	double load_average;	/* >= 0: one-minute load average */
	bool has_chain;		/* chain and chain_base were given */
	char chain[33];		/* 32 lowercase hex digits */
	uint64_t chain_base;
};

/* JSON text of R (MEMBERS borrowed). Owned (tm_free). */
char *beat_request_format(const struct beat_request *r);
/* 0, or TM_INVALID / TM_TOOBIG with ERRMSG (TM_ERRMSG_SIZE). OUT needs
 * beat_request_clear on success only. */
int beat_request_parse(const char *body, size_t len, struct beat_request *out,
		       char *errmsg);
void beat_request_clear(struct beat_request *r);

/* The answer's metadata object. Owned (cJSON_Delete). */
cJSON *beat_answer_json(const struct beat_answer *a);
/* BODY is the whole answer: a sync envelope whose metadata is the answer
 * (as the REST server sends it). Same errors as beat_request_parse. */
int beat_answer_parse(const char *body, size_t len, struct beat_answer *out,
		      char *errmsg);

#endif /* TM_HEARTBEAT_BEAT_H */

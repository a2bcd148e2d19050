/* The body of a join request (POST /internal/cluster/join), which a
 * member that is not yet trusted sends to the cluster:
 *
 *   {"name": NAME, "address": "host:port", "secret": 64 hex digits,
 *    "certificate": PEM, "schema_version": N, "api_extensions": N}
 *
 * Parsing is pure (no I/O, no clock): the caller then checks the secret
 * against the cluster's tokens and the certificate against the TLS
 * connection (doc/clustering.md). */
#ifndef TM_MEMBERSHIP_JOIN_REQUEST_H
#define TM_MEMBERSHIP_JOIN_REQUEST_H

#include <stddef.h>

#include "internal/membership/name.h"
#include "internal/membership/token.h"
#include "internal/tls/tls.h"

/* Bodies longer than this are refused (a PEM certificate is ~1 KiB). */
#define JOIN_REQUEST_MAX_SIZE (64 * 1024)

struct join_request {
	char name[MEMBER_NAME_MAX + 1];
	char address[TOKEN_ADDRESS_MAX + 1]; /* canonical host:port */
	unsigned char secret[TOKEN_SECRET_SIZE];
	char *certificate;			   /* canonical PEM, owned */
	char fingerprint[TLS_FINGERPRINT_LEN + 1]; /* of the certificate */
	int schema_version;
	int api_extensions;
};

/* Parse LEN bytes of BODY into OUT. 0, or TM_INVALID / TM_TOOBIG with
 * ERRMSG (TM_ERRMSG_SIZE bytes) naming the field, e.g.
 * "field \"address\": invalid port \"x\"". On failure OUT needs no
 * clearing. */
int join_request_parse(const char *body, size_t len, struct join_request *out,
		       char *errmsg);

/* Release what OUT owns (the certificate) and wipe the secret. */
void join_request_clear(struct join_request *r);

#endif /* TM_MEMBERSHIP_JOIN_REQUEST_H */

/* The trust store in memory: the rows of the global database's
 * certificates table, sorted by fingerprint, so that the check made for
 * every TLS request is a binary search and no SQL. Pure: built by
 * internal/daemon/trust.c from the table, read by the API.
 *
 * Fingerprints are 64 lower-case hex digits (SHA-256 of the DER
 * certificate). Not thread-safe; the daemon uses it on its loop. */
#ifndef TM_DAEMON_TRUST_SET_H
#define TM_DAEMON_TRUST_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TRUST_FP_LEN 64

/* One trusted certificate; strings owned by the set. TYPE is "client"
 * (an administrator's client) or "server" (a member's own certificate). */
struct trust_cert {
	char fingerprint[TRUST_FP_LEN + 1];
	char *name;
	char *type;
	char *certificate; /* PEM */
	int64_t added_at;  /* unix seconds */
};

struct trust_set {
	struct trust_cert *v; /* owned, sorted by fingerprint */
	size_t n;
	size_t cap;
	bool sorted;
};

/* An empty set (no allocation). */
void trust_set_init(struct trust_set *s);
/* Release everything and leave S empty. */
void trust_set_clear(struct trust_set *s);

/* Add a copy of the fields (borrowed). FP must be 64 hex digits, any
 * case (stored in lower case); TYPE "client" or "server". Returns false,
 * adding nothing, for a bad fingerprint or type. A duplicate fingerprint
 * keeps the first. Call trust_set_seal() once everything is added. */
bool trust_set_add(struct trust_set *s, const char *fp, const char *name,
		   const char *type, const char *certificate, int64_t added_at);
/* Sort (and drop duplicates); lookups need it. */
void trust_set_seal(struct trust_set *s);

/* The certificate of fingerprint FP (exactly 64 hex digits, any case), of
 * type TYPE when TYPE is not NULL; NULL if none. Borrowed: valid until
 * the set changes. */
const struct trust_cert *trust_set_find(const struct trust_set *s,
					const char *fp, const char *type);

/* The one certificate whose fingerprint starts with PREFIX (1 to 64 hex
 * digits, any case): 0 and *OUT (borrowed), or TM_NOTFOUND, or TM_INVALID
 * for an ambiguous prefix or one that is not hex, with ERRMSG
 * (TM_ERRMSG_SIZE bytes) saying so. */
int trust_set_prefix(const struct trust_set *s, const char *prefix,
		     const struct trust_cert **out, char *errmsg);

/* Lower-case IN (1..64 hex digits; exactly 64 unless PREFIX) into OUT
 * (65 bytes). False if IN is not that. */
bool trust_fp_normalize(const char *in, bool prefix, char *out);

#endif /* TM_DAEMON_TRUST_SET_H */

/* Fuzz target: a join request body (internal/membership/join_request.h),
 * which members accept from machines not yet trusted, never crashes or
 * leaks; a refusal has a message; an accepted request holds a valid name,
 * a canonical address and a parsed certificate whose fingerprint is 64
 * hex digits. An input is the body as it is. */
#include <stdint.h>
#include <string.h>

#include "internal/lib/assert.h"
#include "internal/lib/err.h"
#include "internal/membership/join_request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct join_request r;
	char errmsg[TM_ERRMSG_SIZE] = "";
	int rv = join_request_parse((const char *)data, size, &r, errmsg);
	if (rv != 0) {
		INVARIANT(rv == TM_INVALID || rv == TM_TOOBIG);
		INVARIANT(errmsg[0] != '\0');
		return 0;
	}
	char again[TM_ERRMSG_SIZE];
	INVARIANT(member_name_check(r.name, again) == 0);
	INVARIANT(strchr(r.address, ':') != NULL);
	INVARIANT(r.certificate != NULL);
	INVARIANT(strlen(r.fingerprint) == TLS_FINGERPRINT_LEN);
	join_request_clear(&r);
	return 0;
}

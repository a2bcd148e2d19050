/* Fuzz target: the heartbeat's messages (internal/heartbeat/beat.h), which
 * members take from the network: a heartbeat from the leader and the
 * answer of a member. Neither parser crashes or leaks; a refusal has a
 * message; an accepted heartbeat formats to text that parses again to the
 * same members. An input is fed to both parsers as it is. */
#include <stdint.h>
#include <string.h>

#include "internal/heartbeat/beat.h"
#include "internal/lib/assert.h"
#include "internal/lib/err.h"
#include "internal/lib/mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void request(const uint8_t *data, size_t size)
{
	struct beat_request r;
	char errmsg[TM_ERRMSG_SIZE] = "";
	int rv = beat_request_parse((const char *)data, size, &r, errmsg);
	if (rv != 0) {
		INVARIANT(rv == TM_INVALID || rv == TM_TOOBIG);
		INVARIANT(errmsg[0] != '\0');
		return;
	}
	INVARIANT(r.n_members >= 1 && r.n_members <= BEAT_MAX_MEMBERS);
	char *text = beat_request_format(&r);
	struct beat_request again;
	INVARIANT(beat_request_parse(text, strlen(text), &again, errmsg) == 0);
	INVARIANT(again.n_members == r.n_members);
	INVARIANT(memcmp(again.members, r.members,
			 r.n_members * sizeof *r.members) == 0);
	beat_request_clear(&again);
	tm_free(text);
	beat_request_clear(&r);
}

static void answer(const uint8_t *data, size_t size)
{
	struct beat_answer a;
	char errmsg[TM_ERRMSG_SIZE] = "";
	int rv = beat_answer_parse((const char *)data, size, &a, errmsg);
	if (rv != 0) {
		INVARIANT(rv == TM_INVALID || rv == TM_TOOBIG);
		INVARIANT(errmsg[0] != '\0');
		return;
	}
	INVARIANT(a.loop_lag_p99_ms >= 0 && a.load_average >= 0);
	INVARIANT(strchr(a.address, ':') != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	request(data, size);
	answer(data, size);
	return 0;
}

/* Fuzz target: the raft tunnel handshake (internal/raft/handshake.c).
 *
 * The first byte picks what the rest is:
 * - even: an answer to the upgrade request, fed to the dialer's parser in
 *   two reads split where the second byte says, then the end of the
 *   stream. Every outcome must be consistent: an upgrade is a 101 whose
 *   raft bytes start inside the input, a refusal a 4xx/5xx with a
 *   printable message, anything else INVALID with a message.
 * - odd: the values of the upgrade request's headers (Connection,
 *   Upgrade, X-Raft-Version, X-Raft-Id, X-Raft-Address), separated by
 *   newlines, missing ones absent, checked as the accepting side does: 0
 *   with a valid hello, or 400 / 426 with a message. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "internal/lib/assert.h"
#include "internal/lib/mem.h"
#include "internal/raft/handshake.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool printable(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f) {
			return false;
		}
	}
	return true;
}

static void check_outcome(const struct handshake_response *r,
			  enum handshake_result res)
{
	switch (res) {
	case HANDSHAKE_MORE:
		break;
	case HANDSHAKE_UPGRADED:
		INVARIANT(r->status == 101);
		break;
	case HANDSHAKE_REFUSED:
		INVARIANT(r->status >= 400 && r->status <= 599);
		INVARIANT(r->message[0] != '\0' && printable(r->message));
		break;
	case HANDSHAKE_INVALID:
		INVARIANT(r->message[0] != '\0');
		break;
	}
}

static void answer(const char *buf, size_t len, size_t split)
{
	struct handshake_response r;
	handshake_response_init(&r);
	size_t used = 0;
	enum handshake_result res =
	    handshake_response_feed(&r, buf, split, &used);
	INVARIANT(used <= split);
	if (res == HANDSHAKE_MORE) {
		INVARIANT(used == split);
		res = handshake_response_feed(&r, buf + split, len - split,
					      &used);
		INVARIANT(used <= len - split);
	}
	if (res == HANDSHAKE_MORE) {
		res = handshake_response_eof(&r);
		INVARIANT(res != HANDSHAKE_MORE && res != HANDSHAKE_UPGRADED);
	}
	check_outcome(&r, res);
	handshake_response_close(&r);
}

static void request(const char *buf, size_t len)
{
	char *copy = tm_malloc(len + 1);
	memcpy(copy, buf, len);
	copy[len] = '\0';
	const char *values[5] = {NULL, NULL, NULL, NULL, NULL};
	char *p = copy;
	for (int i = 0; i < 5 && p != NULL; i++) {
		values[i] = p;
		p = strchr(p, '\n');
		if (p != NULL) {
			*p++ = '\0';
		}
	}
	struct handshake_request_headers h = {values[0], values[1], values[2],
					      values[3], values[4]};
	struct handshake_hello hello;
	char errmsg[TM_ERRMSG_SIZE] = "";
	int status = handshake_check_request(&h, &hello, errmsg);
	if (status == 0) {
		INVARIANT(hello.version == HANDSHAKE_VERSION);
		INVARIANT(hello.id != 0);
		INVARIANT(handshake_address_valid(hello.address));
		/* What was accepted can be sent back. */
		char *out;
		size_t out_len;
		INVARIANT(handshake_format_request("x:1", hello.id,
						   hello.address, &out,
						   &out_len, errmsg) == 0);
		tm_free(out);
	} else {
		INVARIANT(status == 400 || status == 426);
		INVARIANT(errmsg[0] != '\0');
	}
	tm_free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2) {
		return 0;
	}
	const char *buf = (const char *)data + 2;
	size_t len = size - 2;
	if ((data[0] & 1) == 0) {
		answer(buf, len, data[1] % (len + 1));
	} else {
		request(buf, len);
	}
	return 0;
}

/* Fuzz target: the HTTP request parser, fed the input in two pieces
 * split at a position taken from the first byte, must end every request
 * with a message or an error status, never crash or leak. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "internal/lib/assert.h"
#include "internal/rest/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Returns false once the stream is in error (no more feeding). */
static bool feed(struct rest_parser *p, const char *buf, size_t len)
{
	while (len > 0) {
		size_t used = 0;
		enum rest_parse_result r = rest_parser_feed(p, buf, len, &used);
		INVARIANT(used <= len);
		if (r == REST_PARSE_ERROR) {
			INVARIANT(rest_parser_error_status(p) >= 400);
			return false;
		}
		if (r == REST_PARSE_DONE) {
			rest_message_free(rest_parser_take(p));
		} else if (used == 0) {
			return true;
		}
		buf += used;
		len -= used;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rest_limits limits = {
		.max_header_bytes = 4096,
		.max_body_bytes = 65536,
		.read_timeout_ms = 1000,
		.idle_timeout_ms = 1000,
	};
	struct rest_parser p;
	rest_parser_init(&p, &limits);
	size_t split = size > 0 ? data[0] % (size + 1) : 0;
	if (feed(&p, (const char *)data, split)) {
		feed(&p, (const char *)data + split, size - split);
	}
	rest_parser_close(&p);
	return 0;
}

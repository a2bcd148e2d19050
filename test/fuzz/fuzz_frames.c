/* Fuzz target: frames (internal/lib/frames.h), in which followers relay
 * writes to the leader and the leader answers, never read past the end:
 * every frame read lies within the input, a read that ends at the end
 * reports it, and writing the frames read again gives the same bytes. An
 * input's first byte says how many numbers precede each length (0-3). */
#include <stdint.h>
#include <string.h>

#include "internal/lib/assert.h"
#include "internal/lib/frames.h"
#include "internal/lib/mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0) {
		return 0;
	}
	unsigned n = data[0] % FRAMES_MAX_NUMBERS;
	const char *buf = (const char *)data + 1;
	size_t len = size - 1;
	size_t pos = 0;
	uint64_t head[FRAMES_MAX_NUMBERS];
	const char *p;
	size_t plen;
	struct frames_buf again = {0};
	int rv;
	while ((rv = frames_next(buf, len, &pos, head, n, &p, &plen)) == 1) {
		INVARIANT(p >= buf && p + plen <= buf + len && pos <= len);
		frames_put(&again, head, n, p, plen);
	}
	if (rv == 0) {
		INVARIANT(pos == len);
		INVARIANT(again.n == len);
		INVARIANT(len == 0 || memcmp(again.p, buf, len) == 0);
	}
	tm_free(again.p);
	return 0;
}

/* Frames (frames.h). */
#include <stdio.h>
#include <string.h>

#include "internal/lib/assert.h"
#include "internal/lib/frames.h"
#include "internal/lib/mem.h"

static void reserve(struct frames_buf *b, size_t more)
{
	if (b->n + more <= b->cap) {
		return;
	}
	size_t cap = b->cap != 0 ? b->cap : 256;
	while (cap < b->n + more) {
		cap *= 2;
	}
	b->p = tm_realloc(b->p, cap);
	b->cap = cap;
}

void frames_put(struct frames_buf *b, const uint64_t *head, unsigned n,
		const void *payload, size_t len)
{
	PRE(n < FRAMES_MAX_NUMBERS);
	char text[FRAMES_MAX_NUMBERS * 21 + 1];
	size_t used = 0;
	for (unsigned i = 0; i < n; i++) {
		used += (size_t)snprintf(text + used, sizeof text - used,
					 "%llu ", (unsigned long long)head[i]);
	}
	used += (size_t)snprintf(text + used, sizeof text - used, "%zu\n", len);
	reserve(b, used + len);
	memcpy(b->p + b->n, text, used);
	if (len > 0) {
		memcpy(b->p + b->n + used, payload, len);
	}
	b->n += used + len;
}

/* A decimal number at BUF[*pos..len) ending at END_CHAR; -1 if none. */
static int number(const char *buf, size_t len, size_t *pos, char end_char,
		  uint64_t *out)
{
	size_t i = *pos;
	uint64_t v = 0;
	size_t digits = 0;
	while (i < len && buf[i] >= '0' && buf[i] <= '9') {
		unsigned d = (unsigned)(buf[i] - '0');
		if (digits == 1 && v == 0) {
			return -1; /* a leading zero */
		}
		if (v > (UINT64_MAX - d) / 10) {
			return -1;
		}
		v = v * 10 + d;
		digits++;
		i++;
	}
	if (digits == 0 || i >= len || buf[i] != end_char) {
		return -1;
	}
	*pos = i + 1;
	*out = v;
	return 0;
}

int frames_next(const char *buf, size_t len, size_t *pos, uint64_t *head,
		unsigned n, const char **payload, size_t *payload_len)
{
	PRE(n < FRAMES_MAX_NUMBERS);
	size_t p = *pos;
	if (p == len) {
		return 0;
	}
	if (p > len) {
		return -1;
	}
	for (unsigned i = 0; i < n; i++) {
		if (number(buf, len, &p, ' ', &head[i]) != 0) {
			return -1;
		}
	}
	uint64_t size;
	if (number(buf, len, &p, '\n', &size) != 0 || size > len - p) {
		return -1;
	}
	*payload = buf + p;
	*payload_len = (size_t)size;
	*pos = p + (size_t)size;
	return 1;
}

/* Frames: several messages in one body, each as a head of decimal numbers
 * separated by single spaces, the last of which is the length of the
 * payload, then '\n', then the payload:
 *
 *     "12\n{\"a\": true}" + "2\n{}"                 (one number: length)
 *     "200 0 14\n{\"results\":[]}"                   (status, flag, length)
 *
 * Used by a follower to carry several SQL writes to the leader in one
 * request, and their answers back (doc/clustering.md). Pure functions;
 * bytes from the network go through frames_next, which never reads past
 * the end and refuses what does not fit. */
#ifndef TM_LIB_FRAMES_H
#define TM_LIB_FRAMES_H

#include <stddef.h>
#include <stdint.h>

/* A head has at most this many numbers, each at most 20 digits. */
#define FRAMES_MAX_NUMBERS 4

struct frames_buf {
	char *p; /* owned (tm_free) */
	size_t n;
	size_t cap;
};

/* Append a frame: the N numbers of HEAD (the length of PAYLOAD is added
 * as the last one), then PAYLOAD[0..len). */
void frames_put(struct frames_buf *b, const uint64_t *head, unsigned n,
		const void *payload, size_t len);

/* Read the frame at *POS in BUF[0..len): exactly N numbers before the
 * length into HEAD, the payload into *PAYLOAD and *PAYLOAD_LEN (borrowed
 * from BUF), *POS past it. Returns 1 for a frame, 0 at the end (*POS ==
 * LEN), -1 for anything malformed (a head with another count of numbers,
 * a number with a leading zero or too large, a length past the end). */
int frames_next(const char *buf, size_t len, size_t *pos, uint64_t *head,
		unsigned n, const char **payload, size_t *payload_len);

#endif /* TM_LIB_FRAMES_H */

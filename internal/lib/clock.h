/* Time behind a small interface, so that code deciding on time can be
 * tested on a fake clock (mocks/clock_fake.h) step by step.
 *
 * MONO_MS is monotonic milliseconds (any origin; it never goes back and
 * does not jump with the wall clock); WALL_MS is the wall clock in
 * milliseconds since the Unix epoch, for showing times to people. */
#ifndef TM_LIB_CLOCK_H
#define TM_LIB_CLOCK_H

#include <stddef.h>
#include <stdint.h>

struct tm_clock {
	void *data;
	uint64_t (*mono_ms)(void *data);
	int64_t (*wall_ms)(void *data);
};

/* The system's clocks (CLOCK_MONOTONIC, CLOCK_REALTIME). Static. */
const struct tm_clock *tm_clock_system(void);

/* WALL_MS as "2026-12-01T22:10:03Z" (UTC, to the second) into OUT. */
#define TM_CLOCK_ISO_LEN 32
void tm_clock_format_iso(int64_t wall_ms, char *out);

#endif /* TM_LIB_CLOCK_H */

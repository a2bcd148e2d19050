/* A fake clock for unit tests (internal/lib/clock.h): time moves only
 * when the test says so. */
#ifndef TM_MOCKS_CLOCK_FAKE_H
#define TM_MOCKS_CLOCK_FAKE_H

#include <stdint.h>

#include "internal/lib/clock.h"

struct clock_fake {
	struct tm_clock clock; /* hand &clock to the code under test */
	uint64_t mono_ms;
	int64_t wall_ms;
};

/* Start at MONO_MS (monotonic) and WALL_MS (epoch milliseconds). */
void clock_fake_init(struct clock_fake *c, uint64_t mono_ms, int64_t wall_ms);
/* Both clocks move forward by MS. */
void clock_fake_advance(struct clock_fake *c, uint64_t ms);

#endif /* TM_MOCKS_CLOCK_FAKE_H */

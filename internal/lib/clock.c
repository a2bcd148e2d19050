/* The system clock behind struct tm_clock (clock.h). */
#include "internal/lib/clock.h"

#include <stdio.h>
#include <time.h>

static uint64_t system_mono_ms(void *data)
{
	(void)data;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int64_t system_wall_ms(void *data)
{
	(void)data;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const struct tm_clock system_clock = {
    .data = NULL,
    .mono_ms = system_mono_ms,
    .wall_ms = system_wall_ms,
};

const struct tm_clock *tm_clock_system(void) { return &system_clock; }

void tm_clock_format_iso(int64_t wall_ms, char *out)
{
	time_t t = (time_t)(wall_ms / 1000);
	struct tm tm;
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, TM_CLOCK_ISO_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		snprintf(out, TM_CLOCK_ISO_LEN, "(unknown time)");
	}
}

/* Names of event types and log levels, as the API spells them. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "internal/events/events.h"
#include "internal/events/stream.h"
#include "internal/lib/err.h"
#include "internal/lib/mem.h"

static const struct {
	unsigned type;
	const char *name;
} types[] = {
    {EVENTS_CLUSTER, "cluster"},
    {EVENTS_CONFIG, "config"},
    {EVENTS_LOGGING, "logging"},
};

static const char *const levels[] = {"trace", "debug", "info", "warn", "error"};

const char *events_type_name(unsigned type)
{
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		if (types[i].type == type) {
			return types[i].name;
		}
	}
	return NULL;
}

unsigned events_type_parse(const char *name)
{
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		if (strcmp(types[i].name, name) == 0) {
			return types[i].type;
		}
	}
	return 0;
}

int events_types_parse(const char *list, unsigned *mask, char *errmsg)
{
	*mask = 0;
	if (list == NULL || list[0] == '\0') {
		*mask = EVENTS_ALL;
		return 0;
	}
	const char *p = list;
	for (;;) {
		size_t n = strcspn(p, ",");
		char name[16];
		unsigned t = 0;
		if (n > 0 && n < sizeof name) {
			memcpy(name, p, n);
			name[n] = '\0';
			t = events_type_parse(name);
		}
		if (t == 0) {
			tm_errmsg_printf(errmsg,
					 "unknown event type \"%.*s\" (valid "
					 "types: " EVENTS_TYPE_NAMES ")",
					 (int)(n < 64 ? n : 64), p);
			*mask = 0;
			return TM_INVALID;
		}
		*mask |= t;
		if (p[n] == '\0') {
			return 0;
		}
		p += n + 1;
	}
}

int events_level_parse(const char *name, enum log_level *level, char *errmsg)
{
	for (int i = LOG_TRACE; i <= LOG_ERROR; i++) {
		if (strcmp(levels[i], name) == 0) {
			*level = (enum log_level)i;
			return 0;
		}
	}
	if (strcmp(name, "warning") == 0) {
		*level = LOG_WARN;
		return 0;
	}
	tm_errmsg_printf(errmsg,
			 "unknown log level \"%.32s\" (valid levels: trace, "
			 "debug, info, warn, error)",
			 name);
	return TM_INVALID;
}

const char *events_level_name(enum log_level level)
{
	return level >= LOG_TRACE && level <= LOG_ERROR ? levels[level] : "?";
}

void events_timestamp(char *out, size_t size)
{
	struct timespec ts;
	struct tm tm;
	char stamp[32];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, size, "%s.%03ldZ", stamp, ts.tv_nsec / 1000000);
}

char *events_slow_message(uint64_t dropped)
{
	char stamp[40];
	events_timestamp(stamp, sizeof stamp);
	return tm_asprintf("{\"type\":\"error\",\"timestamp\":\"%s\","
			   "\"metadata\":{\"message\":\"client too slow: "
			   "%llu events dropped, disconnecting\"}}",
			   stamp, (unsigned long long)dropped);
}

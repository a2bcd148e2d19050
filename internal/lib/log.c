#include "internal/lib/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static enum log_level current = LOG_WARN;
static log_hook_fn hook_fn;
static void *hook_data;
static _Atomic int hook_level = LOG_ERROR + 1;
static _Thread_local int quiet;

void log_set_hook(log_hook_fn hook, void *data)
{
	hook_fn = hook;
	hook_data = data;
}

void log_set_hook_level(int level) { hook_level = level; }

void log_quiet(bool on)
{
	quiet += on ? 1 : -1;
}

static const char *names[] = {"TRACE", "DEBUG", "INFO ", "WARN ", "ERROR"};

void log_set_level(enum log_level level)
{
	current = level;
}

enum log_level log_get_level(void)
{
	return current;
}

void log_init_from_env(void)
{
	const char *trace = getenv("THERMIONIC_TRACE");
	if (trace != NULL && trace[0] != '\0' && strcmp(trace, "0") != 0) {
		current = LOG_TRACE;
	}
}

void log_printf(enum log_level level, const char *fmt, ...)
{
	bool tap = hook_fn != NULL && (int)level >= hook_level && quiet == 0;
	if (level < current && !tap) {
		return;
	}
	struct timespec ts;
	struct tm tm;
	char stamp[32];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);

	char line[2048];
	va_list args;
	va_start(args, fmt);
	vsnprintf(line, sizeof line, fmt, args);
	va_end(args);
	if (tap) {
		hook_fn(hook_data, level, line);
	}
	if (level < current) {
		return;
	}
	fprintf(stderr, "%s.%03ldZ %s %s\n", stamp, ts.tv_nsec / 1000000,
		names[level], line);
}

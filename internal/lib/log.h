/* Levelled logging to stderr.
 *
 * The level is set once at start from --debug/--verbose; the environment
 * variable THERMIONIC_TRACE=1 turns on trace level without a rebuild.
 * Lines look like: "2026-11-22T05:14:02.123Z INFO  rest: listening on ...". */
#ifndef TM_LOG_H
#define TM_LOG_H

#include <stdbool.h>

enum log_level { LOG_TRACE, LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Reads THERMIONIC_TRACE; call once after parsing flags. */
void log_init_from_env(void);

/* A tap on the log: HOOK gets every line at or above the hook level (even
 * one below the printed level), from the thread that logs it, with the
 * message as formatted (no time stamp, no level). It must not block and
 * must not log. Set once, before threads start; the level may change at
 * any time from any thread (> LOG_ERROR: off, the default). Lines logged
 * while the logging thread is quiet (log_quiet) are printed only: the
 * event stream uses that so that its own work does not feed itself. */
typedef void (*log_hook_fn)(void *data, enum log_level level,
			    const char *message);
void log_set_hook(log_hook_fn hook, void *data);
void log_set_hook_level(int level);
/* Nesting, per thread: log_quiet(true) ... log_quiet(false). */
void log_quiet(bool on);

void log_printf(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define LOGT(...) log_printf(LOG_TRACE, __VA_ARGS__)
#define LOGD(...) log_printf(LOG_DEBUG, __VA_ARGS__)
#define LOGI(...) log_printf(LOG_INFO, __VA_ARGS__)
#define LOGW(...) log_printf(LOG_WARN, __VA_ARGS__)
#define LOGE(...) log_printf(LOG_ERROR, __VA_ARGS__)

#endif /* TM_LOG_H */

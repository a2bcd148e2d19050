#include "internal/lib/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *messages[] = {
	"success",
#define TM_ERR_MSG(code, msg) msg,
	TM_ERRORS(TM_ERR_MSG)
#undef TM_ERR_MSG
};

const char *tm_strerror(int code)
{
	if (code < 0 || code >= TM_ERR_MAX) {
		return "unknown error";
	}
	return messages[code];
}

void tm_errmsg_printf(char *errmsg, const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	vsnprintf(errmsg, TM_ERRMSG_SIZE, fmt, args);
	va_end(args);
}

void tm_errmsg_wrapf(char *errmsg, const char *fmt, ...)
{
	char prefix[TM_ERRMSG_SIZE];
	char old[TM_ERRMSG_SIZE];
	va_list args;
	va_start(args, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, args);
	va_end(args);
	memcpy(old, errmsg, TM_ERRMSG_SIZE);
	old[TM_ERRMSG_SIZE - 1] = '\0';
	snprintf(errmsg, TM_ERRMSG_SIZE, "%s: %s", prefix, old);
}

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
	char out[TM_ERRMSG_SIZE];
	va_list args;
	va_start(args, fmt);
	vsnprintf(out, sizeof out, fmt, args);
	va_end(args);
	size_t used = strnlen(out, sizeof out - 1);
	if (used + 3 <= sizeof out) {
		memcpy(out + used, ": ", 2);
		used += 2;
		size_t n = strnlen(errmsg, sizeof out - 1 - used);
		memcpy(out + used, errmsg, n);
		used += n;
	}
	out[used] = '\0';
	memcpy(errmsg, out, used + 1);
}

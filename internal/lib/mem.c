#include "internal/lib/mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/lib/assert.h"

static void *check(void *p)
{
	if (p == NULL) {
		fprintf(stderr, "thermionic: out of memory\n");
		abort();
	}
	return p;
}

void *tm_malloc(size_t size)
{
	return check(malloc(size == 0 ? 1 : size));
}

void *tm_calloc(size_t n, size_t size)
{
	return check(calloc(n == 0 ? 1 : n, size == 0 ? 1 : size));
}

void *tm_realloc(void *ptr, size_t size)
{
	return check(realloc(ptr, size == 0 ? 1 : size));
}

char *tm_strdup(const char *s)
{
	return check(strdup(s));
}

char *tm_strndup(const char *s, size_t n)
{
	return check(strndup(s, n));
}

char *tm_asprintf(const char *fmt, ...)
{
	va_list args;
	char *out = NULL;
	va_start(args, fmt);
	int rv = vasprintf(&out, fmt, args);
	va_end(args);
	if (rv < 0) {
		out = NULL;
	}
	return check(out);
}

void tm_free(void *ptr)
{
	free(ptr);
}

void tm_panic(const char *file, int line, const char *what)
{
	fprintf(stderr, "thermionic: %s:%d: %s\n", file, line, what);
	abort();
}

/* Run therm_run in-process with captured stdout and stderr. */
#ifndef TEST_CLIENT_CLI_RUN_H
#define TEST_CLIENT_CLI_RUN_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/therm/cli.h"

struct cli_result {
	int rc;
	char *out; /* owned */
	char *err; /* owned */
};

static inline struct cli_result cli_run_v(FILE *in, const char *first,
					  va_list args)
{
	struct cli_result r;
	char *argv[64] = {"therm"};
	int argc = 1;
	size_t out_len;
	size_t err_len;
	FILE *out = open_memstream(&r.out, &out_len);
	FILE *err = open_memstream(&r.err, &err_len);

	for (const char *a = first; a != NULL && argc < 63;
	     a = va_arg(args, const char *)) {
		argv[argc++] = (char *)a;
	}
	argv[argc] = NULL;
	r.rc = therm_run_io(argc, argv, in, out, err);
	fclose(out);
	fclose(err);
	return r;
}

/* ARGS: NULL-terminated words after "therm". Input is stdin. */
static inline struct cli_result cli_run(const char *first, ...)
{
	struct cli_result r;
	va_list args;
	va_start(args, first);
	r = cli_run_v(stdin, first, args);
	va_end(args);
	return r;
}

/* The same with INPUT (not empty) as therm's stdin. */
static inline struct cli_result cli_run_input(const char *input,
					      const char *first, ...)
{
	struct cli_result r;
	FILE *in = fmemopen((void *)input, strlen(input), "r");
	va_list args;
	va_start(args, first);
	r = cli_run_v(in, first, args);
	va_end(args);
	fclose(in);
	return r;
}

static inline void cli_result_free(struct cli_result *r)
{
	free(r->out);
	free(r->err);
}

#endif /* TEST_CLIENT_CLI_RUN_H */

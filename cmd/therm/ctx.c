/* What commands use from their context: options, errors. The client
 * itself is set up in connect.c. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/therm/cli.h"
#include "internal/lib/err.h"
#include "internal/lib/mem.h"

static int option_index(const struct therm_ctx *ctx, const char *name)
{
	const struct therm_option *options = ctx->inv->cmd->options;
	if (options == NULL) {
		return -1;
	}
	for (int i = 0; options[i].name != NULL; i++) {
		if (strcmp(options[i].name, name) == 0) {
			return i;
		}
	}
	return -1;
}

const char *therm_opt(const struct therm_ctx *ctx, const char *name)
{
	int i = option_index(ctx, name);
	return i < 0 || !ctx->inv->present[i] ? NULL : ctx->inv->values[i];
}

bool therm_flag(const struct therm_ctx *ctx, const char *name)
{
	int i = option_index(ctx, name);
	return i >= 0 && ctx->inv->present[i];
}

int therm_fail(struct therm_ctx *ctx, const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	vsnprintf(ctx->errmsg, sizeof ctx->errmsg, fmt, args);
	va_end(args);
	return THERM_EXIT_ERROR;
}

int therm_usage_fail(struct therm_ctx *ctx, const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	vsnprintf(ctx->errmsg, sizeof ctx->errmsg, fmt, args);
	va_end(args);
	return THERM_EXIT_USAGE;
}

int therm_client_fail(struct therm_ctx *ctx, int rv)
{
	const char *msg = thermionic_errmsg(ctx->client);
	if (msg == NULL || msg[0] == '\0') {
		msg = thermionic_strerror(rv);
	}
	if (rv != THERMIONIC_ERR_PIN || !ctx->remote.active) {
		return therm_fail(ctx, "%s", msg);
	}
	if (ctx->remote.have_explicit) {
		return therm_fail(ctx,
				  "%s\nThe server at %s does not have the "
				  "certificate given with --fingerprint.",
				  msg, ctx->remote.address);
	}
	return therm_fail(ctx,
			  "%s\nThe server at %s does not present the "
			  "certificate pinned on first contact. If its "
			  "certificate was replaced on purpose, delete %s "
			  "(or pass --fingerprint with the new one) and run "
			  "the command again.",
			  msg, ctx->remote.address, ctx->remote.pin_path);
}

int therm_parse_seconds(const char *text, unsigned *ms)
{
	char *end;
	double seconds = strtod(text, &end);
	if (text[0] == '\0' || *end != '\0' || !isfinite(seconds) ||
	    seconds < 0 || seconds > 86400) {
		return TM_INVALID;
	}
	*ms = (unsigned)llround(seconds * 1000.0);
	return 0;
}

int therm_run_list(struct therm_ctx *ctx,
		   int (*fetch)(struct thermionic_client *client, cJSON **out),
		   const struct therm_column *columns, size_t n_columns)
{
	char errmsg[TM_ERRMSG_SIZE];
	struct thermionic_client *client;
	cJSON *list = NULL;
	if (therm_client(ctx, &client) != 0) {
		return THERM_EXIT_ERROR;
	}
	int rv = fetch(client, &list);
	if (rv != THERMIONIC_OK) {
		return therm_client_fail(ctx, rv);
	}
	rv = therm_print_list(ctx->out, ctx->format, columns, n_columns, list,
			      errmsg);
	cJSON_Delete(list);
	return rv == 0 ? THERM_EXIT_OK : therm_fail(ctx, "%s", errmsg);
}

/* The program: parse, check, dispatch, report. */
#include <string.h>

#include "cmd/therm/cli.h"
#include "internal/lib/err.h"
#include "internal/lib/mem.h"

static int usage_error(FILE *err, const struct therm_invocation *inv,
		       const char *msg)
{
	char *path = therm_command_path(inv);
	fprintf(err, "therm: %s\nRun '%s --help' for usage.\n", msg, path);
	tm_free(path);
	return THERM_EXIT_USAGE;
}

static bool args_count_ok(const struct therm_command *cmd, int argc)
{
	return argc >= cmd->min_args &&
	       (cmd->max_args < 0 || argc <= cmd->max_args);
}

/* Everything the command line can get wrong, before anything runs. */
static int check_invocation(struct therm_ctx *ctx,
			    const struct therm_invocation *inv, char *msg)
{
	const struct therm_command *cmd = inv->cmd;
	char *path;

	if (!args_count_ok(cmd, inv->argc)) {
		path = therm_command_path(inv);
		snprintf(msg, THERM_ERRMSG_SIZE,
			 "wrong number of arguments for \"%s\" (expected: %s)",
			 path,
			 cmd->args != NULL && cmd->args[0] != '\0' ? cmd->args
								   : "none");
		tm_free(path);
		return TM_INVALID;
	}
	if (inv->format != NULL &&
	    therm_format_parse(inv->format, &ctx->format) != 0) {
		snprintf(msg, THERM_ERRMSG_SIZE,
			 "unknown format \"%s\" (expected table, json, yaml, "
			 "csv or pretty)",
			 inv->format);
		return TM_INVALID;
	}
	if ((cmd->formats & (unsigned)ctx->format) == 0) {
		char formats[64];
		therm_formats_text(cmd->formats, formats, sizeof formats);
		path = therm_command_path(inv);
		snprintf(msg, THERM_ERRMSG_SIZE,
			 "format %s is not supported by \"%s\" (it prints %s)",
			 therm_format_name(ctx->format), path, formats);
		tm_free(path);
		return TM_INVALID;
	}
	if (inv->fingerprint != NULL &&
	    thermionic_fingerprint_normalize(inv->fingerprint,
					     ctx->fingerprint_buf) != 0) {
		snprintf(msg, THERM_ERRMSG_SIZE,
			 "invalid fingerprint \"%s\": expected 64 hex digits",
			 inv->fingerprint);
		return TM_INVALID;
	}
	ctx->fingerprint =
	    inv->fingerprint != NULL ? ctx->fingerprint_buf : NULL;
	return 0;
}

/* After the command: save a newly seen server fingerprint, close. */
static int finish(struct therm_ctx *ctx, int rc)
{
	char errmsg[TM_ERRMSG_SIZE];
	if (therm_remote_finish(&ctx->remote, ctx->client, ctx->err, errmsg) !=
	    0) {
		fprintf(ctx->err, "therm: %s\n", errmsg);
		if (rc == THERM_EXIT_OK) {
			rc = THERM_EXIT_ERROR;
		}
	}
	thermionic_close(ctx->client);
	ctx->client = NULL;
	therm_remote_close(&ctx->remote);
	return rc;
}

int therm_run(int argc, char **argv, FILE *out, FILE *err)
{
	return therm_run_io(argc, argv, stdin, out, err);
}

int therm_run_io(int argc, char **argv, FILE *in, FILE *out, FILE *err)
{
	struct therm_invocation inv;
	char msg[THERM_ERRMSG_SIZE];
	struct therm_ctx ctx;
	int rc;

	memset(&ctx, 0, sizeof ctx);
	ctx.in = in;
	ctx.out = out;
	ctx.err = err;
	ctx.format = THERM_FORMAT_TABLE;
	ctx.inv = &inv;
	if (therm_parse(&therm_root, argc, argv, &inv, msg) != 0) {
		rc = usage_error(err, &inv, msg);
		goto out;
	}
	if (inv.version) {
		fprintf(out, "therm %s\n", THERMIONIC_VERSION);
		rc = THERM_EXIT_OK;
		goto out;
	}
	if (inv.help) {
		therm_help(out, &inv);
		rc = THERM_EXIT_OK;
		goto out;
	}
	if (inv.cmd->children != NULL) {
		therm_help(err, &inv);
		rc = THERM_EXIT_USAGE;
		goto out;
	}
	if (check_invocation(&ctx, &inv, msg) != 0) {
		rc = usage_error(err, &inv, msg);
		goto out;
	}
	ctx.format_given = inv.format != NULL;
	ctx.address = inv.address;
	rc = inv.cmd->run(&ctx, inv.argc, inv.argv);
	fflush(out);
	if (rc == THERM_EXIT_USAGE) {
		usage_error(err, &inv, ctx.errmsg);
	} else if (rc != THERM_EXIT_OK && !ctx.error_reported) {
		fprintf(err, "therm: %s\n",
			ctx.errmsg[0] != '\0' ? ctx.errmsg : "failed");
	}
	rc = finish(&ctx, rc);
out:
	therm_invocation_close(&inv);
	return rc;
}

/* therm info */
#include "cmd/therm/cli.h"
#include "internal/lib/err.h"

static int info_run(struct therm_ctx *ctx, int argc, char **argv)
{
	char errmsg[TM_ERRMSG_SIZE];
	struct thermionic_client *client;
	cJSON *info = NULL;
	int rv;

	(void)argc;
	(void)argv;
	if (therm_client(ctx, &client) != 0) {
		return THERM_EXIT_ERROR;
	}
	rv = thermionic_server_info(client, &info);
	if (rv != THERMIONIC_OK) {
		return therm_client_fail(ctx, rv);
	}
	rv = therm_print_object(ctx->out, ctx->format, info, errmsg);
	cJSON_Delete(info);
	return rv == 0 ? THERM_EXIT_OK : therm_fail(ctx, "%s", errmsg);
}

const struct therm_command therm_cmd_info = {
    .name = "info",
    .summary = "Show information about the daemon (GET /1.0).",
    .description =
	"Untrusted clients see only the API version, their authentication "
	"status\nand the server's certificate.",
    .formats = THERM_FORMATS_OBJECT,
    .run = info_run,
};

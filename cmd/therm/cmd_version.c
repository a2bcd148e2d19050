/* therm version */
#include "cmd/therm/cli.h"
#include "internal/lib/err.h"

/* The server's version, or NULL if it cannot be had. Owned by INFO. */
static const char *server_version(struct therm_ctx *ctx, cJSON **info)
{
	struct thermionic_client *client;
	const cJSON *version;

	*info = NULL;
	if (therm_client(ctx, &client) != 0 ||
	    thermionic_server_info(client, info) != THERMIONIC_OK) {
		return NULL;
	}
	version = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(*info, "environment"),
	    "server_version");
	return cJSON_IsString(version) ? version->valuestring : NULL;
}

static int version_run(struct therm_ctx *ctx, int argc, char **argv)
{
	char errmsg[TM_ERRMSG_SIZE];
	const char *server;
	cJSON *info;
	cJSON *out;
	int rv;

	(void)argc;
	(void)argv;
	server = server_version(ctx, &info);
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "client_version", THERMIONIC_VERSION);
	cJSON_AddStringToObject(out, "server_version",
				server != NULL ? server : "unreachable");
	rv = therm_print_object(ctx->out, ctx->format, out, errmsg);
	cJSON_Delete(out);
	cJSON_Delete(info);
	ctx->errmsg[0] = '\0';
	return rv == 0 ? THERM_EXIT_OK : therm_fail(ctx, "%s", errmsg);
}

const struct therm_command therm_cmd_version = {
    .name = "version",
    .summary = "Show the client and server versions.",
    .description = "The server version is \"unreachable\" when the daemon "
		   "cannot be asked.",
    .formats = THERM_FORMATS_OBJECT,
    .run = version_run,
};

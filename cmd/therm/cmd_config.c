/* therm config show|get|set|unset */
#include <string.h>

#include "cmd/therm/cli.h"
#include "internal/config/config.h"
#include "internal/lib/err.h"

static int config_fetch(struct therm_ctx *ctx, cJSON **config, char **etag)
{
	struct thermionic_client *client;
	int rv;
	if (therm_client(ctx, &client) != 0) {
		return THERM_EXIT_ERROR;
	}
	rv = thermionic_config_get(client, config, etag);
	return rv == THERMIONIC_OK ? THERM_EXIT_OK : therm_client_fail(ctx, rv);
}

static int config_show_run(struct therm_ctx *ctx, int argc, char **argv)
{
	char errmsg[TM_ERRMSG_SIZE];
	cJSON *config;
	int rv;

	(void)argc;
	(void)argv;
	rv = config_fetch(ctx, &config, NULL);
	if (rv != THERM_EXIT_OK) {
		return rv;
	}
	rv = therm_print_map(ctx->out, ctx->format, "KEY", "VALUE", config,
			     errmsg);
	cJSON_Delete(config);
	return rv == 0 ? THERM_EXIT_OK : therm_fail(ctx, "%s", errmsg);
}

static int config_get_run(struct therm_ctx *ctx, int argc, char **argv)
{
	char errmsg[TM_ERRMSG_SIZE];
	cJSON *config;
	int rv;

	(void)argc;
	rv = config_fetch(ctx, &config, NULL);
	if (rv != THERM_EXIT_OK) {
		return rv;
	}
	/* The daemon sends the keys that are set: a key it did not send is
	 * either unset or unknown, which set and unset refuse too. */
	const cJSON *value = cJSON_GetObjectItemCaseSensitive(config, argv[0]);
	if (value == NULL && config_lookup(argv[0]) == NULL) {
		cJSON_Delete(config);
		return therm_fail(ctx, "unknown configuration key \"%.64s\"",
				  argv[0]);
	}
	rv = therm_print_value(ctx->out, ctx->format, value, errmsg);
	cJSON_Delete(config);
	return rv == 0 ? THERM_EXIT_OK : therm_fail(ctx, "%s", errmsg);
}

/* PATCH CHANGES with If-Match from a fresh GET, so that a concurrent
 * change made between the two is reported (412) rather than merged. */
static int config_patch(struct therm_ctx *ctx, cJSON *changes)
{
	struct thermionic_client *client;
	char *etag = NULL;
	cJSON *config;
	int rv;

	rv = config_fetch(ctx, &config, &etag);
	if (rv != THERM_EXIT_OK) {
		return rv;
	}
	cJSON_Delete(config);
	therm_client(ctx, &client);
	rv = thermionic_config_patch(client, changes, etag);
	thermionic_free(etag);
	if (rv == THERMIONIC_ERR_HTTP && thermionic_status(client) == 412) {
		return therm_fail(ctx,
				  "%s: the configuration changed while this "
				  "command ran; run it again",
				  thermionic_errmsg(client));
	}
	return rv == THERMIONIC_OK ? THERM_EXIT_OK : therm_client_fail(ctx, rv);
}

/* Add or replace KEY in CHANGES (the last of repeated keys wins). */
static void changes_put(cJSON *changes, const char *key, cJSON *value)
{
	if (cJSON_GetObjectItemCaseSensitive(changes, key) != NULL) {
		cJSON_ReplaceItemInObjectCaseSensitive(changes, key, value);
	} else {
		cJSON_AddItemToObject(changes, key, value);
	}
}

static int config_set_run(struct therm_ctx *ctx, int argc, char **argv)
{
	cJSON *changes;
	int rv;

	if (argc % 2 != 0) {
		return therm_usage_fail(ctx,
					"\"%s\" has no value: give KEY "
					"VALUE pairs",
					argv[argc - 1]);
	}
	changes = cJSON_CreateObject();
	for (int i = 0; i < argc; i += 2) {
		if (argv[i][0] == '\0') {
			cJSON_Delete(changes);
			return therm_usage_fail(ctx, "empty key");
		}
		changes_put(changes, argv[i], cJSON_CreateString(argv[i + 1]));
	}
	rv = config_patch(ctx, changes);
	cJSON_Delete(changes);
	return rv;
}

static int config_unset_run(struct therm_ctx *ctx, int argc, char **argv)
{
	cJSON *changes = cJSON_CreateObject();
	int rv;

	for (int i = 0; i < argc; i++) {
		if (argv[i][0] == '\0') {
			cJSON_Delete(changes);
			return therm_usage_fail(ctx, "empty key");
		}
		changes_put(changes, argv[i], cJSON_CreateNull());
	}
	rv = config_patch(ctx, changes);
	cJSON_Delete(changes);
	return rv;
}

static const struct therm_command config_show = {
    .name = "show",
    .summary = "Show the configuration keys that are set.",
    .description = "Keys at their default value are not listed.",
    .formats = THERM_FORMATS_LIST,
    .run = config_show_run,
};

/* Not "config_get": internal/config/config.h has a function of that name. */
static const struct therm_command config_get_cmd = {
    .name = "get",
    .summary = "Print the value of one configuration key.",
    .args = "KEY",
    .description = "Prints an empty line (JSON/YAML: null) if the key is "
		   "not set,\nand fails with \"unknown configuration key\" "
		   "for a key that does\nnot exist (as set and unset do).",
    .min_args = 1,
    .max_args = 1,
    .formats = THERM_FORMATS_OBJECT,
    .run = config_get_run,
};

static const struct therm_command config_set = {
    .name = "set",
    .summary = "Set one or more configuration keys.",
    .args = "KEY VALUE [KEY VALUE...]",
    .description =
	"All pairs are applied in one request, or none is. Keys: "
	"core.https_address\n(HOST:PORT, \"\" turns HTTPS off), "
	"core.request_timeout (seconds),\ncore.max_request_size (bytes), "
	"raft.snapshot_threshold,\nraft.snapshot_trailing, user.* (free "
	"text). Put \"--\" before a value that\nstarts with '-'.",
    .min_args = 2,
    .max_args = -1,
    .formats = THERM_FORMATS_LIST,
    .run = config_set_run,
};

static const struct therm_command config_unset = {
    .name = "unset",
    .summary = "Return configuration keys to their defaults.",
    .args = "KEY [KEY...]",
    .min_args = 1,
    .max_args = -1,
    .formats = THERM_FORMATS_LIST,
    .run = config_unset_run,
};

static const struct therm_command *const config_children[] = {
    &config_show, &config_get_cmd, &config_set, &config_unset, NULL,
};

const struct therm_command therm_cmd_config = {
    .name = "config",
    .summary = "Show and change the daemon's configuration.",
    .children = config_children,
};

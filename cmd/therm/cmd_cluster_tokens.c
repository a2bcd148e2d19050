/* therm cluster add|list-tokens|revoke-token: join tokens. */
#include "cmd/therm/cluster.h"
#include "internal/lib/err.h"

static int cluster_add_run(struct therm_ctx *ctx, int argc, char **argv)
{
	struct thermionic_client *client;
	const cJSON *secret;
	cJSON *token = NULL;
	int rv;

	(void)argc;
	if (therm_client(ctx, &client) != 0) {
		return THERM_EXIT_ERROR;
	}
	rv = thermionic_cluster_token_create(client, argv[0],
					     therm_opt(ctx, "expiry"), &token);
	if (rv != THERMIONIC_OK) {
		return therm_client_fail(ctx, rv);
	}
	/* The token alone, so that TOKEN=$(therm cluster add n2) works. */
	secret = cJSON_GetObjectItemCaseSensitive(token, "token");
	rv = therm_cluster_print_result(ctx, token, secret->valuestring);
	cJSON_Delete(token);
	return rv;
}

static const struct therm_column token_columns[] = {
    {"NAME", "name", THERM_CELL_TEXT},
    {"ADDRESSES", "addresses", THERM_CELL_LIST},
    {"CREATED", "created_at", THERM_CELL_TEXT},
    {"EXPIRES", "expires_at", THERM_CELL_TEXT},
};

static int cluster_list_tokens_run(struct therm_ctx *ctx, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return therm_run_list(ctx, thermionic_cluster_token_list, token_columns,
			      sizeof token_columns / sizeof *token_columns);
}

static int cluster_revoke_token_run(struct therm_ctx *ctx, int argc,
				    char **argv)
{
	struct thermionic_client *client;
	int rv;

	(void)argc;
	if (therm_client(ctx, &client) != 0) {
		return THERM_EXIT_ERROR;
	}
	rv = thermionic_cluster_token_revoke(client, argv[0]);
	return rv == THERMIONIC_OK ? THERM_EXIT_OK : therm_client_fail(ctx, rv);
}

static const struct therm_option cluster_add_options[] = {
    {"expiry", 0, "DURATION",
     "how long the token stays valid: 90s, 30m, 3h, 2d (default: the "
     "cluster's cluster.join_token_expiry)"},
    {NULL, 0, NULL, NULL},
};

const struct therm_command therm_cmd_cluster_add = {
    .name = "add",
    .summary = "Make a join token for a new member.",
    .args = "NAME",
    .description =
	"NAME is the name the new member will have. Prints the token alone "
	"(table\nand CSV), so that TOKEN=$(therm cluster add n2) works; JSON "
	"and YAML print\nthe whole answer: name, token, expires_at, addresses "
	"and fingerprint.\nThe token is a secret until it is used or "
	"expires: hand it over privately.",
    .options = cluster_add_options,
    .min_args = 1,
    .max_args = 1,
    .formats = THERM_FORMATS_LIST,
    .run = cluster_add_run,
};

const struct therm_command therm_cmd_cluster_list_tokens = {
    .name = "list-tokens",
    .summary = "List the join tokens not used yet.",
    .description = "The tokens' secrets are not shown: they are only "
		   "printed by 'add'.",
    .formats = THERM_FORMATS_LIST,
    .run = cluster_list_tokens_run,
};

const struct therm_command therm_cmd_cluster_revoke_token = {
    .name = "revoke-token",
    .summary = "Revoke the join token of a member not joined yet.",
    .args = "NAME",
    .min_args = 1,
    .max_args = 1,
    .formats = THERM_FORMATS_LIST,
    .run = cluster_revoke_token_run,
};

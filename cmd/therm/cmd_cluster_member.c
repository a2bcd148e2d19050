/* therm cluster list|show|set|rename|remove: the members. */
#include <string.h>

#include "cmd/therm/cluster.h"
#include "internal/lib/err.h"

static const struct therm_column member_columns[] = {
    {"NAME", "name", THERM_CELL_TEXT},
    {"URL", "url", THERM_CELL_TEXT},
    {"ROLES", "roles", THERM_CELL_LIST},
    {"FAILURE-DOMAIN", "failure_domain", THERM_CELL_TEXT},
    {"STATE", "state", THERM_CELL_TEXT},
    {"MESSAGE", "message", THERM_CELL_TEXT},
};

static int cluster_list_run(struct therm_ctx *ctx, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return therm_run_list(ctx, thermionic_cluster_member_list,
			      member_columns,
			      sizeof member_columns / sizeof *member_columns);
}

static int cluster_show_run(struct therm_ctx *ctx, int argc, char **argv)
{
	char errmsg[TM_ERRMSG_SIZE];
	struct thermionic_client *client;
	cJSON *member = NULL;
	int rv;

	(void)argc;
	if (therm_client(ctx, &client) != 0) {
		return THERM_EXIT_ERROR;
	}
	rv = thermionic_cluster_member_get(client, argv[0], &member);
	if (rv != THERMIONIC_OK) {
		return therm_client_fail(ctx, rv);
	}
	rv = therm_print_object(ctx->out, ctx->format, member, errmsg);
	cJSON_Delete(member);
	return rv == 0 ? THERM_EXIT_OK : therm_fail(ctx, "%s", errmsg);
}

/* The keys "set" accepts: the member fields an operator may change. */
static const char *const member_keys[] = {"failure_domain", "description"};

static int cluster_set_run(struct therm_ctx *ctx, int argc, char **argv)
{
	struct thermionic_client *client;
	cJSON *changes;
	size_t i;
	int rv;

	(void)argc;
	for (i = 0; i < sizeof member_keys / sizeof *member_keys; i++) {
		if (strcmp(argv[1], member_keys[i]) == 0) {
			break;
		}
	}
	if (i == sizeof member_keys / sizeof *member_keys) {
		return therm_usage_fail(ctx,
					"unknown member key \"%.64s\" "
					"(expected failure_domain or "
					"description)",
					argv[1]);
	}
	if (therm_client(ctx, &client) != 0) {
		return THERM_EXIT_ERROR;
	}
	changes = cJSON_CreateObject();
	cJSON_AddStringToObject(changes, argv[1], argv[2]);
	rv = thermionic_cluster_member_patch(client, argv[0], changes);
	cJSON_Delete(changes);
	return rv == THERMIONIC_OK ? THERM_EXIT_OK : therm_client_fail(ctx, rv);
}

static int cluster_rename_run(struct therm_ctx *ctx, int argc, char **argv)
{
	struct thermionic_client *client;
	int rv;

	(void)argc;
	if (therm_client(ctx, &client) != 0) {
		return THERM_EXIT_ERROR;
	}
	rv = thermionic_cluster_member_rename(client, argv[0], argv[1]);
	return rv == THERMIONIC_OK ? THERM_EXIT_OK : therm_client_fail(ctx, rv);
}

static int cluster_remove_run(struct therm_ctx *ctx, int argc, char **argv)
{
	struct thermionic_client *client;
	int rv;

	(void)argc;
	if (therm_client(ctx, &client) != 0) {
		return THERM_EXIT_ERROR;
	}
	rv = thermionic_cluster_member_remove(client, argv[0],
					      therm_flag(ctx, "force"));
	return rv == THERMIONIC_OK ? THERM_EXIT_OK : therm_client_fail(ctx, rv);
}

const struct therm_command therm_cmd_cluster_list = {
    .name = "list",
    .summary = "List the cluster's members.",
    .description =
	"Table and CSV show NAME, URL, ROLES (joined with ','), "
	"FAILURE-DOMAIN, STATE\nand MESSAGE; JSON and YAML show every field "
	"of each member.\n\nThe list is the leader's view, from its "
	"heartbeats. STATE is ONLINE; OFFLINE\n(no heartbeat answered for "
	"cluster.offline_threshold; MESSAGE says for how\nlong and since "
	"when); BLOCKED (held back by an upgrade); PENDING (not in\nraft's "
	"configuration yet); or UNKNOWN (the leader could not be asked: this\n"
	"member's own view, which knows only the leader's state).",
    .formats = THERM_FORMATS_LIST,
    .run = cluster_list_run,
};

const struct therm_command therm_cmd_cluster_show = {
    .name = "show",
    .summary = "Show one member.",
    .args = "NAME",
    .min_args = 1,
    .max_args = 1,
    .formats = THERM_FORMATS_OBJECT,
    .run = cluster_show_run,
};

const struct therm_command therm_cmd_cluster_set = {
    .name = "set",
    .summary = "Change a member's failure domain or description.",
    .args = "NAME KEY VALUE",
    .description = "KEY is failure_domain or description. Put \"--\" before "
		   "a value that starts\nwith '-'.",
    .min_args = 3,
    .max_args = 3,
    .formats = THERM_FORMATS_LIST,
    .run = cluster_set_run,
};

const struct therm_command therm_cmd_cluster_rename = {
    .name = "rename",
    .summary = "Rename a member.",
    .args = "OLD NEW",
    .min_args = 2,
    .max_args = 2,
    .formats = THERM_FORMATS_LIST,
    .run = cluster_rename_run,
};

static const struct therm_option cluster_remove_options[] = {
    {"force", 0, NULL,
     "remove the member even if it cannot be reached to leave cleanly"},
    {NULL, 0, NULL, NULL},
};

const struct therm_command therm_cmd_cluster_remove = {
    .name = "remove",
    .summary = "Remove a member from the cluster.",
    .args = "NAME",
    .options = cluster_remove_options,
    .min_args = 1,
    .max_args = 1,
    .formats = THERM_FORMATS_LIST,
    .run = cluster_remove_run,
};

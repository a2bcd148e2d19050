/* therm cluster: the group, and enable|status (this member's clustering). */
#include "cmd/therm/cluster.h"
#include "internal/lib/err.h"

int therm_cluster_print_result(struct therm_ctx *ctx, const cJSON *state,
			       const char *text)
{
	char errmsg[TM_ERRMSG_SIZE];

	if (ctx->format == THERM_FORMAT_JSON ||
	    ctx->format == THERM_FORMAT_YAML) {
		if (therm_print_object(ctx->out, ctx->format, state, errmsg) !=
		    0) {
			return therm_fail(ctx, "%s", errmsg);
		}
	} else if (text != NULL) {
		fprintf(ctx->out, "%s\n", text);
	}
	return THERM_EXIT_OK;
}

static int cluster_enable_run(struct therm_ctx *ctx, int argc, char **argv)
{
	struct thermionic_client *client;
	cJSON *state = NULL;
	char text[256];
	int rv;

	(void)argc;
	if (therm_client(ctx, &client) != 0) {
		return THERM_EXIT_ERROR;
	}
	rv = thermionic_cluster_enable(client, argv[0], &state);
	if (rv != THERMIONIC_OK) {
		return therm_client_fail(ctx, rv);
	}
	snprintf(text, sizeof text, "Clustering enabled: this daemon is %.64s",
		 argv[0]);
	rv = therm_cluster_print_result(ctx, state, text);
	cJSON_Delete(state);
	return rv;
}

static int cluster_status_run(struct therm_ctx *ctx, int argc, char **argv)
{
	char errmsg[TM_ERRMSG_SIZE];
	struct thermionic_client *client;
	cJSON *state = NULL;
	int rv;

	(void)argc;
	(void)argv;
	if (therm_client(ctx, &client) != 0) {
		return THERM_EXIT_ERROR;
	}
	rv = thermionic_cluster_get(client, &state);
	if (rv != THERMIONIC_OK) {
		return therm_client_fail(ctx, rv);
	}
	rv = therm_print_object(ctx->out, ctx->format, state, errmsg);
	cJSON_Delete(state);
	return rv == 0 ? THERM_EXIT_OK : therm_fail(ctx, "%s", errmsg);
}

static const struct therm_command cluster_enable = {
    .name = "enable",
    .summary = "Make this daemon the first member of a new cluster.",
    .args = "NAME",
    .description =
	"NAME is this member's name in the cluster. The daemon must be "
	"standalone and\nhave core.https_address set (therm config set "
	"core.https_address HOST:PORT).\nPrints a confirmation; JSON and "
	"YAML print the new cluster state.",
    .min_args = 1,
    .max_args = 1,
    .formats = THERM_FORMATS_LIST,
    .run = cluster_enable_run,
};

static const struct therm_command cluster_status = {
    .name = "status",
    .summary = "Show this daemon's clustering state.",
    .description =
	"Fields: enabled, member_name, fingerprint (of the cluster "
	"certificate), state\n(standalone, joining or member), message, "
	"applied_index, target_index,\nleader_address (the raft leader's "
	"address as this member knows it, \"\" when\nnone), and heartbeat: "
	"the leader as this member sees it from its heartbeats\n(leader, "
	"leader_state ONLINE or OFFLINE, last_heartbeat_ms, message,\n"
	"interval_ms, offline_threshold_ms).",
    .formats = THERM_FORMATS_OBJECT,
    .run = cluster_status_run,
};

static const struct therm_command *const cluster_children[] = {
    &cluster_enable,
    &therm_cmd_cluster_add,
    &therm_cmd_cluster_join,
    &cluster_status,
    &therm_cmd_cluster_list,
    &therm_cmd_cluster_show,
    &therm_cmd_cluster_check,
    &therm_cmd_cluster_set,
    &therm_cmd_cluster_rename,
    &therm_cmd_cluster_remove,
    &therm_cmd_cluster_list_tokens,
    &therm_cmd_cluster_revoke_token,
    NULL,
};

const struct therm_command therm_cmd_cluster = {
    .name = "cluster",
    .summary = "Create a cluster, add and manage its members.",
    .description =
	"To form a cluster: 'therm cluster enable n1' on the first member; "
	"for each\nnew member, 'therm cluster add n2' on a member prints a "
	"join token, and\n'therm cluster join TOKEN' on the new daemon "
	"joins with it.",
    .children = cluster_children,
};

/* therm cluster check: compare every member's database at one applied
 * index (GET /1.0/cluster/check; doc/consistency.md). */
#include <string.h>

#include "cmd/therm/cluster.h"
#include "internal/lib/err.h"

static const struct therm_column check_columns[] = {
    {"NAME", "name", THERM_CELL_TEXT},
    {"VERDICT", "verdict", THERM_CELL_TEXT},
    {"INDEX", "index", THERM_CELL_TEXT},
    {"CHAIN", "chain", THERM_CELL_TEXT},
    {"CONTENT", "content", THERM_CELL_TEXT},
    {"MESSAGE", "message", THERM_CELL_TEXT},
};

/* "n2 diverged, n3 unreachable" into OUT; the number of members not ok. */
static size_t not_ok(const cJSON *list, char *out, size_t size)
{
	size_t n = 0;
	size_t used = 0;
	const cJSON *m;
	out[0] = '\0';
	cJSON_ArrayForEach(m, list)
	{
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(m, "name");
		const cJSON *verdict =
		    cJSON_GetObjectItemCaseSensitive(m, "verdict");
		if (strcmp(verdict->valuestring, "ok") == 0) {
			continue;
		}
		int w = snprintf(out + used, size - used, "%s%s %s",
				 n > 0 ? ", " : "",
				 cJSON_IsString(name) ? name->valuestring : "?",
				 verdict->valuestring);
		if (w > 0 && (size_t)w < size - used) {
			used += (size_t)w;
		}
		n++;
	}
	return n;
}

static int cluster_check_run(struct therm_ctx *ctx, int argc, char **argv)
{
	char errmsg[TM_ERRMSG_SIZE];
	struct thermionic_client *client;
	cJSON *list = NULL;
	(void)argc;
	(void)argv;
	if (therm_client(ctx, &client) != 0) {
		return THERM_EXIT_ERROR;
	}
	int rv = thermionic_cluster_check(client, &list);
	if (rv != THERMIONIC_OK) {
		return therm_client_fail(ctx, rv);
	}
	rv = therm_print_list(ctx->out, ctx->format, check_columns,
			      sizeof check_columns / sizeof *check_columns,
			      list, errmsg);
	if (rv != 0) {
		cJSON_Delete(list);
		return therm_fail(ctx, "%s", errmsg);
	}
	char which[TM_ERRMSG_SIZE];
	size_t bad = not_ok(list, which, sizeof which);
	size_t total = (size_t)cJSON_GetArraySize(list);
	cJSON_Delete(list);
	if (bad > 0) {
		return therm_fail(ctx, "%zu of %zu members not ok: %s", bad,
				  total, which);
	}
	return THERM_EXIT_OK;
}

const struct therm_command therm_cmd_cluster_check = {
    .name = "check",
    .summary = "Check that every member holds the same database.",
    .description =
	"The leader adds a check entry to the cluster's log; every member, "
	"applying it,\nhashes its database content as it stands at that "
	"entry; the leader then\ncompares each member's content hash and "
	"hash chain (a hash over every entry\napplied) with its own at the "
	"same index. Each member's verdict: ok,\ndiverged (the message "
	"says which hash differs), behind (not at that index\nwithin 10 "
	"s), or unreachable. A member diverged by content is also shown\n"
	"DIVERGED by 'therm cluster list'. The leader also runs this check on "
	"its own\nevery cluster.check_interval seconds (0, the default: "
	"never).\nExit status 1 when any member is not ok.\nFields: name, "
	"address, verdict, index, applied_index, "
	"chain, chain_base,\ncontent, message.",
    .formats = THERM_FORMATS_LIST,
    .run = cluster_check_run,
};

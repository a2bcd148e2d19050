/* therm config show|get|set|unset */
#include <string.h>

#include "internal/lib/mem.h"

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

static const struct therm_column all_columns[] = {
    {"KEY", "key", THERM_CELL_TEXT},
    {"SCOPE", "scope", THERM_CELL_TEXT},
    {"TYPE", "type", THERM_CELL_TEXT},
    {"DEFAULT", "default", THERM_CELL_TEXT},
    {"VALUE", "value", THERM_CELL_TEXT},
};

static int config_show_run(struct therm_ctx *ctx, int argc, char **argv)
{
	char errmsg[TM_ERRMSG_SIZE];
	cJSON *config;
	int rv;

	(void)argc;
	(void)argv;
	if (therm_flag(ctx, "all")) {
		return therm_run_list(ctx, thermionic_config_get_all,
				      all_columns,
				      sizeof all_columns / sizeof *all_columns);
	}
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

/* "node1, node2" of the members of IN_FORCE whose in_force is WANT, with
 * their message when not in force; NULL if none. Owned. */
static char *member_names(const cJSON *in_force, bool want)
{
	char *out = NULL;
	const cJSON *m;
	cJSON_ArrayForEach(m, in_force)
	{
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(m, "name");
		const cJSON *ok =
		    cJSON_GetObjectItemCaseSensitive(m, "in_force");
		const cJSON *msg =
		    cJSON_GetObjectItemCaseSensitive(m, "message");
		if (!cJSON_IsString(name) || cJSON_IsTrue(ok) != want) {
			continue;
		}
		char *part =
		    want || !cJSON_IsString(msg) || msg->valuestring[0] == '\0'
			? tm_strdup(name->valuestring)
			: tm_asprintf("%s (%s)", name->valuestring,
				      msg->valuestring);
		char *joined =
		    out == NULL ? part : tm_asprintf("%s, %s", out, part);
		if (out != NULL) {
			tm_free(out);
			tm_free(part);
		}
		out = joined;
	}
	return out;
}

/* One line for a change: which scope it changed, where it is in force. */
static void print_change(FILE *out, const cJSON *change, const char *member,
			 const cJSON *in_force)
{
	const cJSON *key = cJSON_GetObjectItemCaseSensitive(change, "key");
	const cJSON *scope = cJSON_GetObjectItemCaseSensitive(change, "scope");
	bool set =
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(change, "set"));
	bool changed =
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(change, "changed"));
	if (!cJSON_IsString(key) || !cJSON_IsString(scope)) {
		return;
	}
	bool cluster = strcmp(scope->valuestring, "cluster") == 0;
	if (!changed) {
		fprintf(out, "%s unchanged (%s)\n", key->valuestring,
			cluster ? "cluster key" : "member key");
		return;
	}
	const char *verb = set ? "set" : "unset";
	if (!cluster && member == NULL) {
		fprintf(out, "%s %s on this member (member key)\n",
			key->valuestring, verb);
		return;
	}
	if (!cluster) {
		fprintf(out,
			"%s %s on member %s (member key: this member only)\n",
			key->valuestring, verb, member);
		return;
	}
	if (member == NULL) {
		fprintf(out,
			"%s %s (cluster key; this member is not clustered: it "
			"is in force here)\n",
			key->valuestring, verb);
		return;
	}
	char *ok = member_names(in_force, true);
	char *missed = member_names(in_force, false);
	fprintf(out, "%s %s for the whole cluster (in force on %s%s%s)\n",
		key->valuestring, verb, ok != NULL ? ok : "no member yet",
		missed != NULL ? "; not reached: " : "",
		missed != NULL ? missed : "");
	tm_free(ok);
	tm_free(missed);
}

static const struct therm_column change_columns[] = {
    {"KEY", "key", THERM_CELL_TEXT},
    {"SCOPE", "scope", THERM_CELL_TEXT},
    {"VALUE", "value", THERM_CELL_TEXT},
    {"CHANGED", "changed", THERM_CELL_TEXT},
};

/* The daemon's answer to a change: a line per key (table), the changes
 * (CSV), or the whole answer (JSON, YAML). */
static int print_result(struct therm_ctx *ctx, const cJSON *result)
{
	char errmsg[TM_ERRMSG_SIZE];
	const cJSON *changes =
	    cJSON_GetObjectItemCaseSensitive(result, "changes");
	int rv = 0;
	if (ctx->format == THERM_FORMAT_JSON ||
	    ctx->format == THERM_FORMAT_YAML) {
		rv = therm_print_object(ctx->out, ctx->format, result, errmsg);
	} else if (ctx->format == THERM_FORMAT_CSV) {
		cJSON *empty = cJSON_CreateArray();
		rv = therm_print_list(
		    ctx->out, ctx->format, change_columns,
		    sizeof change_columns / sizeof *change_columns,
		    cJSON_IsArray(changes) ? changes : empty, errmsg);
		cJSON_Delete(empty);
	} else {
		const cJSON *m =
		    cJSON_GetObjectItemCaseSensitive(result, "member");
		/* NULL: a standalone member, which has no name. */
		const char *member =
		    cJSON_IsString(m) && m->valuestring[0] != '\0'
			? m->valuestring
			: NULL;
		const cJSON *in_force =
		    cJSON_GetObjectItemCaseSensitive(result, "in_force");
		const cJSON *change;
		cJSON_ArrayForEach(change, changes)
		{
			print_change(ctx->out, change, member, in_force);
		}
	}
	return rv == 0 ? THERM_EXIT_OK : therm_fail(ctx, "%s", errmsg);
}

/* PATCH CHANGES with If-Match from a fresh GET, so that a concurrent
 * change made between the two is reported (412) rather than merged. */
static int config_patch(struct therm_ctx *ctx, cJSON *changes)
{
	struct thermionic_client *client;
	char *etag = NULL;
	cJSON *config;
	cJSON *result = NULL;
	int rv;

	rv = config_fetch(ctx, &config, &etag);
	if (rv != THERM_EXIT_OK) {
		return rv;
	}
	cJSON_Delete(config);
	therm_client(ctx, &client);
	rv = thermionic_config_patch_result(client, changes, etag, &result);
	thermionic_free(etag);
	if (rv == THERMIONIC_ERR_HTTP && thermionic_status(client) == 412) {
		return therm_fail(ctx,
				  "%s: the configuration changed while this "
				  "command ran; run it again",
				  thermionic_errmsg(client));
	}
	if (rv != THERMIONIC_OK) {
		return therm_client_fail(ctx, rv);
	}
	rv = result != NULL ? print_result(ctx, result) : THERM_EXIT_OK;
	cJSON_Delete(result);
	return rv;
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

static const struct therm_option config_show_options[] = {
    {"all", 'a', NULL,
     "every key: its scope, type, default and the value in force here"},
    {NULL, 0, NULL, NULL},
};

static const struct therm_command config_show = {
    .name = "show",
    .summary = "Show the configuration keys that are set.",
    .description =
	"Keys at their default value are not listed, unless --all is "
	"given:\nthen every key is, with its scope (member: this member "
	"only; cluster:\nthe same on every member), type, default and the "
	"value in force on\nthe member asked.",
    .options = config_show_options,
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
	"raft.snapshot_threshold,\nraft.snapshot_trailing, cluster.*, user.* "
	"(free text); \"therm config show\n--all\" lists them all. Prints "
	"which scope each key changed: a member\nkey on the member asked "
	"only, a cluster key on every member, once\nthe members confirmed "
	"they apply it (a member that is down is named,\nit does not fail "
	"the change); --format json or yaml prints the\ndaemon's "
	"whole answer. Put \"--\" before a value that starts with '-'.",
    .min_args = 2,
    .max_args = -1,
    .formats = THERM_FORMATS_LIST,
    .run = config_set_run,
};

static const struct therm_command config_unset = {
    .name = "unset",
    .summary = "Return configuration keys to their defaults.",
    .args = "KEY [KEY...]",
    .description = "Prints which scope each key changed, as set does.",
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

/* therm init --preseed FILE: set up a new daemon from a file (preseed.h):
 * configuration first (one PATCH /1.0/config), then start a cluster or
 * join one, waiting for the join as 'cluster join' does. */
#include <errno.h>
#include <string.h>

#include "cmd/therm/cluster.h"
#include "cmd/therm/preseed.h"
#include "internal/lib/err.h"
#include "internal/lib/fs.h"
#include "internal/lib/mem.h"

#define PRESEED_MAX (1024 * 1024)

/* PATH ("-": the command's input) into an owned buffer. */
static int init_read(struct therm_ctx *ctx, const char *path, char **out,
		     size_t *len)
{
	char errmsg[TM_ERRMSG_SIZE];
	char *buf;
	size_t n = 0;

	*out = NULL;
	if (strcmp(path, "-") != 0) {
		if (fs_read_all(path, PRESEED_MAX, out, len, errmsg) != 0) {
			return therm_fail(ctx, "%s", errmsg);
		}
		return THERM_EXIT_OK;
	}
	buf = tm_malloc(PRESEED_MAX + 1);
	for (size_t got = 1; got > 0 && n <= PRESEED_MAX;) {
		got = fread(buf + n, 1, PRESEED_MAX + 1 - n, ctx->in);
		n += got;
	}
	if (ferror(ctx->in) || n > PRESEED_MAX) {
		tm_free(buf);
		return therm_fail(ctx, "standard input: %s",
				  n > PRESEED_MAX ? "larger than 1 MiB"
						  : strerror(errno));
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return THERM_EXIT_OK;
}

/* Apply P; *STATE (owned) the cluster state if P has a cluster part. */
static int init_apply(struct therm_ctx *ctx, const struct therm_preseed *p,
		      unsigned timeout_ms, cJSON **state)
{
	struct thermionic_client *client;
	int rv;

	*state = NULL;
	if (therm_client(ctx, &client) != 0) {
		return THERM_EXIT_ERROR;
	}
	if (p->config != NULL && p->config->child != NULL) {
		rv = thermionic_config_patch(client, p->config, NULL);
		if (rv != THERMIONIC_OK) {
			char msg[THERM_ERRMSG_SIZE];
			therm_client_fail(ctx, rv);
			snprintf(msg, sizeof msg, "%s", ctx->errmsg);
			return therm_fail(ctx, "config: %.1000s", msg);
		}
	}
	if (p->enable) {
		rv = thermionic_cluster_enable(client, p->member_name, state);
		return rv == THERMIONIC_OK ? THERM_EXIT_OK
					   : therm_client_fail(ctx, rv);
	}
	if (p->join) {
		return therm_cluster_join_wait(ctx, p->token, p->address,
					       p->force, timeout_ms, state);
	}
	return THERM_EXIT_OK;
}

static int init_print(struct therm_ctx *ctx, const struct therm_preseed *p,
		      cJSON *state)
{
	cJSON *out;
	char line[256];
	int rv;

	if (p->enable) {
		snprintf(line, sizeof line,
			 "Clustering enabled: this daemon is %.64s",
			 p->member_name);
	} else {
		therm_cluster_joined_text(state, line, sizeof line);
	}
	out = cJSON_CreateObject();
	cJSON_AddItemToObject(out, "config",
			      p->config != NULL
				  ? cJSON_Duplicate(p->config, true)
				  : cJSON_CreateObject());
	cJSON_AddItemToObject(out, "cluster",
			      state != NULL ? state : cJSON_CreateNull());
	rv = therm_cluster_print_result(ctx, out,
					p->enable || p->join ? line : NULL);
	cJSON_Delete(out);
	return rv;
}

static int init_run(struct therm_ctx *ctx, int argc, char **argv)
{
	char errmsg[THERM_ERRMSG_SIZE];
	const char *path = therm_opt(ctx, "preseed");
	const char *text = therm_opt(ctx, "timeout");
	unsigned ms = THERM_JOIN_TIMEOUT_MS;
	struct therm_preseed p;
	cJSON *state = NULL;
	size_t len = 0;
	char *buf;
	int rv;

	(void)argc;
	(void)argv;
	if (path == NULL) {
		return therm_usage_fail(ctx, "\"therm init\" needs --preseed "
					     "FILE");
	}
	if (text != NULL && therm_parse_seconds(text, &ms) != 0) {
		return therm_usage_fail(ctx,
					"invalid --timeout \"%s\": expected "
					"seconds (0 to 86400)",
					text);
	}
	rv = init_read(ctx, path, &buf, &len);
	if (rv != THERM_EXIT_OK) {
		return rv;
	}
	rv = therm_preseed_parse(buf, len, &p, errmsg);
	tm_free(buf);
	if (rv != 0) {
		return therm_fail(
		    ctx, "preseed %s: %s",
		    strcmp(path, "-") == 0 ? "standard input" : path, errmsg);
	}
	rv = init_apply(ctx, &p, ms, &state);
	if (rv == THERM_EXIT_OK) {
		rv = init_print(ctx, &p, state); /* takes STATE */
	} else {
		cJSON_Delete(state);
	}
	therm_preseed_close(&p);
	return rv;
}

static const struct therm_option init_options[] = {
    {"preseed", 0, "FILE", "the set-up to apply (JSON or YAML; - for stdin)"},
    {"timeout", 0, "SECONDS", "how long to wait for a join (default 300)"},
    {NULL, 0, NULL, NULL},
};

const struct therm_command therm_cmd_init = {
    .name = "init",
    .summary = "Set up a new daemon from a preseed file.",
    .description =
	"The file (JSON, or YAML when it does not start with '{'):\n"
	"\n"
	"  config:                       # optional: configuration keys\n"
	"    core.https_address: 10.0.0.1:8443\n"
	"  cluster:                      # optional: start a cluster ...\n"
	"    enabled: true\n"
	"    member_name: n1\n"
	"  # ... or join one with a token from 'therm cluster add':\n"
	"  # cluster: {token: TOKEN, address: HOST:PORT, force: false}\n"
	"\n"
	"The configuration is applied first, in one request; then the "
	"daemon starts\nthe cluster or joins it, waiting for the join as "
	"'therm cluster join' does.\nUnknown fields are refused before "
	"anything is sent. JSON and YAML print\n{\"config\": ..., "
	"\"cluster\": the cluster state or null}.",
    .options = init_options,
    .formats = THERM_FORMATS_LIST,
    .run = init_run,
};

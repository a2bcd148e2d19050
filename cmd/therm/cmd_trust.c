/* therm trust add|list|remove */
#include <errno.h>
#include <string.h>

#include "cmd/therm/cli.h"
#include "internal/lib/err.h"
#include "internal/lib/fs.h"
#include "internal/lib/mem.h"

#define TRUST_PEM_MAX (1024 * 1024)

/* Read PATH ("-" for stdin) into an owned string. */
static int trust_read(struct therm_ctx *ctx, const char *path, char **out)
{
	char errmsg[TM_ERRMSG_SIZE];
	size_t len = 0;
	char *buf;

	*out = NULL;
	if (strcmp(path, "-") != 0) {
		if (fs_read_all(path, TRUST_PEM_MAX, out, &len, errmsg) != 0) {
			return therm_fail(ctx, "%s", errmsg);
		}
		return THERM_EXIT_OK;
	}
	buf = tm_malloc(TRUST_PEM_MAX + 1);
	for (;;) {
		size_t n = fread(buf + len, 1, TRUST_PEM_MAX + 1 - len, stdin);
		len += n;
		if (n == 0 || len > TRUST_PEM_MAX) {
			break;
		}
	}
	if (ferror(stdin) || len > TRUST_PEM_MAX) {
		tm_free(buf);
		return therm_fail(ctx, "standard input: %s",
				  len > TRUST_PEM_MAX ? "larger than 1 MiB"
						      : strerror(errno));
	}
	buf[len] = '\0';
	*out = buf;
	return THERM_EXIT_OK;
}

static int trust_add_run(struct therm_ctx *ctx, int argc, char **argv)
{
	char errmsg[TM_ERRMSG_SIZE];
	struct thermionic_client *client;
	const cJSON *fp;
	cJSON *entry = NULL;
	char *pem;
	int rv;

	(void)argc;
	rv = trust_read(ctx, argv[0], &pem);
	if (rv != THERM_EXIT_OK) {
		return rv;
	}
	if (strstr(pem, "-----BEGIN CERTIFICATE-----") == NULL) {
		tm_free(pem);
		return therm_fail(ctx, "%s: no PEM certificate found",
				  strcmp(argv[0], "-") == 0 ? "standard input"
							    : argv[0]);
	}
	if (therm_client(ctx, &client) != 0) {
		tm_free(pem);
		return THERM_EXIT_ERROR;
	}
	rv = thermionic_trust_add(client, pem, therm_opt(ctx, "name"), &entry);
	tm_free(pem);
	if (rv != THERMIONIC_OK) {
		return therm_client_fail(ctx, rv);
	}
	if (ctx->format == THERM_FORMAT_JSON ||
	    ctx->format == THERM_FORMAT_YAML) {
		rv = therm_print_object(ctx->out, ctx->format, entry, errmsg);
	} else {
		fp = cJSON_GetObjectItemCaseSensitive(entry, "fingerprint");
		fprintf(ctx->out, "Certificate %s added\n", fp->valuestring);
	}
	cJSON_Delete(entry);
	return rv == 0 ? THERM_EXIT_OK : therm_fail(ctx, "%s", errmsg);
}

static const struct therm_column trust_columns[] = {
    {"NAME", "name", THERM_CELL_TEXT},
    {"TYPE", "type", THERM_CELL_TEXT},
    {"FINGERPRINT", "fingerprint", THERM_CELL_TEXT},
    {"ADDED", "added_at", THERM_CELL_TIME},
};

static int trust_list_run(struct therm_ctx *ctx, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return therm_run_list(ctx, thermionic_trust_list, trust_columns,
			      sizeof trust_columns / sizeof *trust_columns);
}

static int trust_remove_run(struct therm_ctx *ctx, int argc, char **argv)
{
	char fp[THERMIONIC_FINGERPRINT_LEN + 1];
	struct thermionic_client *client;
	const cJSON *full;
	cJSON *entry = NULL;
	int rv;

	(void)argc;
	if (therm_client(ctx, &client) != 0) {
		return THERM_EXIT_ERROR;
	}
	if (thermionic_fingerprint_normalize(argv[0], fp) != 0) {
		/* A prefix: let the server resolve it (it refuses an
		 * ambiguous one), then delete by the full fingerprint. */
		rv = thermionic_trust_get(client, argv[0], &entry);
		if (rv != THERMIONIC_OK) {
			return therm_client_fail(ctx, rv);
		}
		full = cJSON_GetObjectItemCaseSensitive(entry, "fingerprint");
		snprintf(fp, sizeof fp, "%s", full->valuestring);
		cJSON_Delete(entry);
	}
	rv = thermionic_trust_remove(client, fp);
	return rv == THERMIONIC_OK ? THERM_EXIT_OK : therm_client_fail(ctx, rv);
}

static const struct therm_option trust_add_options[] = {
    {"name", 0, "NAME", "name of the entry (default: chosen by the server)"},
    {NULL, 0, NULL, NULL},
};

static const struct therm_command trust_add = {
    .name = "add",
    .summary = "Trust a client certificate.",
    .args = "FILE|-",
    .description = "Reads one PEM certificate from FILE, or from standard "
		   "input for \"-\".",
    .options = trust_add_options,
    .min_args = 1,
    .max_args = 1,
    .formats = THERM_FORMATS_LIST,
    .run = trust_add_run,
};

static const struct therm_command trust_list = {
    .name = "list",
    .summary = "List the trusted client certificates.",
    .formats = THERM_FORMATS_LIST,
    .run = trust_list_run,
};

static const struct therm_command trust_remove = {
    .name = "remove",
    .summary = "Stop trusting a client certificate.",
    .args = "FINGERPRINT",
    .description = "FINGERPRINT may be a unique prefix.",
    .min_args = 1,
    .max_args = 1,
    .formats = THERM_FORMATS_LIST,
    .run = trust_remove_run,
};

static const struct therm_command *const trust_children[] = {
    &trust_add,
    &trust_list,
    &trust_remove,
    NULL,
};

const struct therm_command therm_cmd_trust = {
    .name = "trust",
    .summary = "Manage the client certificates the daemon trusts.",
    .children = trust_children,
};

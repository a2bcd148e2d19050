/* therm backup FILE, therm restore FILE */
#include "cmd/therm/cli.h"

static int backup_run(struct therm_ctx *ctx, int argc, char **argv)
{
	struct thermionic_client *client;
	bool force = therm_flag(ctx, "force");
	uint64_t bytes = 0;
	int rv;

	(void)argc;
	if (therm_client(ctx, &client) != 0) {
		return THERM_EXIT_ERROR;
	}
	rv = thermionic_backup(client, argv[0], force, &bytes);
	if (rv == THERMIONIC_ERR_EXISTS) {
		return therm_fail(
		    ctx, "%s exists; give --force to overwrite it", argv[0]);
	}
	if (rv != THERMIONIC_OK) {
		return therm_client_fail(ctx, rv);
	}
	fprintf(ctx->out, "Backed up global database to %s (%llu bytes)\n",
		argv[0], (unsigned long long)bytes);
	return THERM_EXIT_OK;
}

static int restore_run(struct therm_ctx *ctx, int argc, char **argv)
{
	struct thermionic_client *client;
	uint64_t bytes = 0;
	int rv;

	(void)argc;
	if (therm_client(ctx, &client) != 0) {
		return THERM_EXIT_ERROR;
	}
	rv = thermionic_restore(client, argv[0], &bytes);
	if (rv != THERMIONIC_OK) {
		return therm_client_fail(ctx, rv);
	}
	fprintf(ctx->out, "Restored global database from %s (%llu bytes)\n",
		argv[0], (unsigned long long)bytes);
	return THERM_EXIT_OK;
}

static const struct therm_option backup_options[] = {
    {"force", 'f', NULL, "overwrite FILE if it exists"},
    {NULL, 0, NULL, NULL},
};

const struct therm_command therm_cmd_backup = {
    .name = "backup",
    .summary = "Save a copy of the global database to a file.",
    .args = "FILE",
    .description =
	"Downloads a consistent copy of the global database, a SQLite "
	"database file\nthat sqlite3 can open, into FILE (mode 0600: it holds "
	"the whole cluster\nstate). The file is written under a temporary "
	"name and renamed when\ncomplete, so FILE is never left half written. "
	"An existing FILE is kept\nunless --force is given.",
    .options = backup_options,
    .min_args = 1,
    .max_args = 1,
    .formats = THERM_FORMAT_TABLE,
    .run = backup_run,
};

const struct therm_command therm_cmd_restore = {
    .name = "restore",
    .summary = "Replace the global database with a backup file.",
    .args = "FILE",
    .description =
	"Sends FILE, a SQLite database file such as \"therm backup\" writes, "
	"to the\ndaemon, which replaces the whole global database with it on "
	"every member.\nEverything written since the backup is lost; nothing "
	"asks for\nconfirmation. FILE is checked first: it must be a SQLite "
	"database.",
    .min_args = 1,
    .max_args = 1,
    .formats = THERM_FORMAT_TABLE,
    .run = restore_run,
};

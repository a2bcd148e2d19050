/* therm daemon waitready|shutdown */
#include "cmd/therm/cli.h"

#define DAEMON_DEFAULT_TIMEOUT_MS 30000u

static int daemon_timeout(struct therm_ctx *ctx, unsigned *ms)
{
	const char *text = therm_opt(ctx, "timeout");
	*ms = DAEMON_DEFAULT_TIMEOUT_MS;
	if (text != NULL && therm_parse_seconds(text, ms) != 0) {
		return therm_usage_fail(ctx,
					"invalid --timeout \"%s\": expected "
					"seconds (0 to 86400)",
					text);
	}
	return THERM_EXIT_OK;
}

static int daemon_waitready_run(struct therm_ctx *ctx, int argc, char **argv)
{
	struct thermionic_client *client;
	unsigned ms;
	int rv;

	(void)argc;
	(void)argv;
	rv = daemon_timeout(ctx, &ms);
	if (rv != THERM_EXIT_OK) {
		return rv;
	}
	if (therm_client(ctx, &client) != 0) {
		return THERM_EXIT_ERROR;
	}
	rv = thermionic_wait_ready(client, ms);
	return rv == THERMIONIC_OK ? THERM_EXIT_OK : therm_client_fail(ctx, rv);
}

static int daemon_shutdown_run(struct therm_ctx *ctx, int argc, char **argv)
{
	struct thermionic_client *client;
	unsigned ms;
	int rv;

	(void)argc;
	(void)argv;
	rv = daemon_timeout(ctx, &ms);
	if (rv != THERM_EXIT_OK) {
		return rv;
	}
	if (therm_client(ctx, &client) != 0) {
		return THERM_EXIT_ERROR;
	}
	rv = thermionic_shutdown(client);
	if (rv == THERMIONIC_OK) {
		rv = thermionic_wait_stopped(client, ms);
	}
	return rv == THERMIONIC_OK ? THERM_EXIT_OK : therm_client_fail(ctx, rv);
}

static const struct therm_option daemon_timeout_option[] = {
    {"timeout", 0, "SECONDS", "how long to wait (default 30; 0: check once)"},
    {NULL, 0, NULL, NULL},
};

static const struct therm_command daemon_waitready = {
    .name = "waitready",
    .summary = "Wait until the daemon is ready to serve requests.",
    .description = "Polls GET /1.0/ready every 100 ms; a daemon that is not "
		   "running yet is waited\nfor too.",
    .options = daemon_timeout_option,
    .formats = THERM_FORMATS_LIST,
    .run = daemon_waitready_run,
};

static const struct therm_command daemon_shutdown = {
    .name = "shutdown",
    .summary = "Stop the daemon and wait until it is gone.",
    .options = daemon_timeout_option,
    .formats = THERM_FORMATS_LIST,
    .run = daemon_shutdown_run,
};

static const struct therm_command *const daemon_children[] = {
    &daemon_waitready,
    &daemon_shutdown,
    NULL,
};

const struct therm_command therm_cmd_daemon = {
    .name = "daemon",
    .summary = "Control the daemon's lifecycle.",
    .children = daemon_children,
};

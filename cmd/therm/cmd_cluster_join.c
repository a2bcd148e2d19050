/* therm cluster join, and the wait for a join to finish.
 *
 * Happy path: PUT /1.0/cluster with the token; the daemon answers at once
 * with state "joining"; GET /1.0/cluster every 200 ms shows the catch-up
 * (applied_index of target_index) until the state is "member".
 *
 * Failure modes:
 * - the PUT is refused (bad or expired token, already clustered): its
 *   error, at once;
 * - the daemon gives up: state "standalone", "message" says why;
 * - a poll cannot reach the daemon (it may be restarting its listener):
 *   retried until the deadline;
 * - any other poll error (403, pin mismatch): at once;
 * - the deadline passes: the last progress is reported; the daemon may
 *   still finish on its own. */
#include <string.h>
#include <time.h>

#include "cmd/therm/cluster.h"
#include "internal/lib/err.h"

static unsigned long long join_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000u +
	       (unsigned long long)ts.tv_nsec / 1000000u;
}

static void join_sleep_ms(unsigned ms)
{
	struct timespec ts = {(time_t)(ms / 1000u),
			      (long)(ms % 1000u) * 1000000L};
	while (nanosleep(&ts, &ts) != 0) {
	}
}

static const char *state_text(const cJSON *state, const char *key)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(state, key);
	return cJSON_IsString(item) ? item->valuestring : "";
}

static double state_number(const cJSON *state, const char *key)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(state, key);
	return cJSON_IsNumber(item) ? item->valuedouble : 0;
}

/* The progress line of a "joining" STATE into LINE (SIZE bytes). */
static void join_progress(const cJSON *state, char *line, size_t size)
{
	double target = state_number(state, "target_index");
	const char *message = state_text(state, "message");

	if (target > 0) {
		snprintf(line, size, "joining: applied %.0f of %.0f entries",
			 state_number(state, "applied_index"), target);
	} else if (message[0] != '\0') {
		snprintf(line, size, "joining: %s", message);
	} else {
		snprintf(line, size, "joining");
	}
}

/* Poll until STATE (owned, replaced as polls answer) is final or the
 * DEADLINE passes. */
static int join_poll(struct therm_ctx *ctx, struct thermionic_client *client,
		     unsigned long long deadline, unsigned timeout_ms,
		     cJSON **state)
{
	char printed[256] = "";
	char line[256];
	int rv;

	for (;;) {
		const char *s = state_text(*state, "state");
		unsigned long long now;
		cJSON *next = NULL;

		if (strcmp(s, "member") == 0) {
			return THERM_EXIT_OK;
		}
		if (strcmp(s, "joining") != 0) {
			const char *why = state_text(*state, "message");
			return therm_fail(ctx, "join failed: %s",
					  why[0] != '\0' ? why
							 : "no reason given");
		}
		join_progress(*state, line, sizeof line);
		if (strcmp(line, printed) != 0) {
			fprintf(ctx->err, "%s\n", line);
			fflush(ctx->err);
			snprintf(printed, sizeof printed, "%s", line);
		}
		now = join_now_ms();
		if (now >= deadline) {
			return therm_fail(ctx,
					  "still joining after %g s (%s); the "
					  "daemon may yet finish: 'therm "
					  "cluster status' tells",
					  timeout_ms / 1000.0, printed);
		}
		join_sleep_ms((unsigned)(deadline - now < THERM_JOIN_POLL_MS
					     ? deadline - now
					     : THERM_JOIN_POLL_MS));
		now = join_now_ms();
		thermionic_set_timeout(
		    client, deadline > now && deadline - now <
						  THERMIONIC_DEFAULT_TIMEOUT_MS
				? (unsigned)(deadline - now)
				: THERMIONIC_DEFAULT_TIMEOUT_MS);
		rv = thermionic_cluster_get(client, &next);
		thermionic_set_timeout(client, THERMIONIC_DEFAULT_TIMEOUT_MS);
		if (rv == THERMIONIC_ERR_CONNECT ||
		    rv == THERMIONIC_ERR_TIMEOUT) {
			continue; /* keep the last state; try again */
		}
		if (rv != THERMIONIC_OK) {
			return therm_client_fail(ctx, rv);
		}
		cJSON_Delete(*state);
		*state = next;
	}
}

int therm_cluster_join_wait(struct therm_ctx *ctx, const char *token,
			    const char *address, bool force,
			    unsigned timeout_ms, cJSON **out)
{
	unsigned long long deadline = join_now_ms() + timeout_ms;
	struct thermionic_client *client;
	cJSON *state = NULL;
	int rv;

	if (out != NULL) {
		*out = NULL;
	}
	if (therm_client(ctx, &client) != 0) {
		return THERM_EXIT_ERROR;
	}
	rv = thermionic_cluster_join(client, token, address, force, &state);
	if (rv != THERMIONIC_OK) {
		return therm_client_fail(ctx, rv);
	}
	rv = join_poll(ctx, client, deadline, timeout_ms, &state);
	if (rv == THERM_EXIT_OK && out != NULL) {
		*out = state;
		state = NULL;
	}
	cJSON_Delete(state);
	return rv;
}

void therm_cluster_joined_text(const cJSON *state, char *line, size_t size)
{
	const char *name = state_text(state, "member_name");
	snprintf(line, size, "Joined the cluster%s%.64s",
		 name[0] != '\0' ? " as " : "", name);
}

static int cluster_join_run(struct therm_ctx *ctx, int argc, char **argv)
{
	const char *text = therm_opt(ctx, "timeout");
	unsigned ms = THERM_JOIN_TIMEOUT_MS;
	cJSON *state = NULL;
	char line[256];
	int rv;

	(void)argc;
	if (text != NULL && therm_parse_seconds(text, &ms) != 0) {
		return therm_usage_fail(ctx,
					"invalid --timeout \"%s\": expected "
					"seconds (0 to 86400)",
					text);
	}
	rv = therm_cluster_join_wait(ctx, argv[0], therm_opt(ctx, "address"),
				     therm_flag(ctx, "force"), ms, &state);
	if (rv != THERM_EXIT_OK) {
		return rv;
	}
	therm_cluster_joined_text(state, line, sizeof line);
	rv = therm_cluster_print_result(ctx, state, line);
	cJSON_Delete(state);
	return rv;
}

static const struct therm_option cluster_join_options[] = {
    {"address", 0, "HOST:PORT",
     "where the other members reach this one (default: its "
     "core.https_address)"},
    {"force", 0, NULL,
     "send \"force\": true, asking the daemon to join where it would "
     "otherwise refuse"},
    {"timeout", 0, "SECONDS", "how long to wait for the join (default 300)"},
    {NULL, 0, NULL, NULL},
};

const struct therm_command therm_cmd_cluster_join = {
    .name = "join",
    .summary = "Join an existing cluster with a join token.",
    .args = "TOKEN",
    .description =
	"Run against the daemon that is to join; TOKEN comes from 'therm "
	"cluster add'\non a member. Waits until the daemon has caught up "
	"with the cluster, printing\nprogress on standard error, then "
	"prints a confirmation (JSON and YAML: the\ncluster state). Exits "
	"1 with the daemon's reason if the join fails, or if\nit has not "
	"finished after --timeout (the daemon may still finish then).\n"
	"\nAfter 'join', --address is this command's option (the member's "
	"own address);\nto choose which daemon therm talks to, put the "
	"global --address before\n'cluster'.",
    .options = cluster_join_options,
    .min_args = 1,
    .max_args = 1,
    .formats = THERM_FORMATS_LIST,
    .run = cluster_join_run,
};

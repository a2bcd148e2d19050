/* therm cluster: each command's request and output in each format, and
 * the join's polling, against a scripted daemon on a unix socket. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test/unit/client/cli_run.h"
#include "test/unit/client/fake_server.h"

#define RUN(...) cli_run(__VA_ARGS__, (const char *)NULL)

struct fixture {
	struct fake_server server;
	char address[160];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	fake_server_start_unix(&f->server);
	snprintf(f->address, sizeof f->address, "unix:%s",
		 f->server.socket_path);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	fake_server_stop(&f->server);
	free(f);
	return 0;
}

static void assert_contains(const char *text, const char *part)
{
	if (strstr(text, part) == NULL) {
		fail_msg("\"%s\" not found in:\n%s", part, text);
	}
}

static void assert_request(struct fake_server *s, size_t i, const char *line,
			   const char *body)
{
	char *got = fake_server_request_line(s, i);
	assert_non_null(got);
	assert_string_equal(got, line);
	free(got);
	if (body != NULL) {
		got = fake_server_request_body(s, i);
		assert_string_equal(got, body);
		free(got);
	}
}

/* The JSON output parses back to EXPECTED (a JSON text). */
static void assert_json_out(const char *out, const char *expected)
{
	cJSON *back = cJSON_Parse(out);
	cJSON *want = cJSON_Parse(expected);
	assert_non_null(back);
	assert_true(cJSON_Compare(back, want, true));
	cJSON_Delete(back);
	cJSON_Delete(want);
}

static const char *member_state =
    "{\"enabled\":true,\"member_name\":\"n1\",\"fingerprint\":\"ab12\","
    "\"state\":\"member\",\"message\":\"\",\"applied_index\":3,"
    "\"target_index\":0}";

static void test_enable(void **state)
{
	struct fixture *f = *state;
	struct cli_result r;

	fake_server_sync(&f->server, member_state, NULL);
	r = RUN("--address", f->address, "cluster", "enable", "n1");
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "Clustering enabled: this daemon is n1\n");
	assert_string_equal(r.err, "");
	cli_result_free(&r);
	assert_request(&f->server, 0, "PUT /1.0/cluster",
		       "{\"enabled\":true,\"member_name\":\"n1\"}");

	fake_server_sync(&f->server, member_state, NULL);
	r = RUN("--address", f->address, "cluster", "enable", "n1", "--format",
		"json");
	assert_int_equal(r.rc, 0);
	assert_json_out(r.out, member_state);
	cli_result_free(&r);

	fake_server_sync(&f->server, member_state, NULL);
	r = RUN("--address", f->address, "cluster", "enable", "n1", "--format",
		"yaml");
	assert_int_equal(r.rc, 0);
	assert_contains(r.out, "member_name: n1\n");
	assert_contains(r.out, "state: member\n");
	cli_result_free(&r);

	fake_server_error(&f->server, 400,
			  "core.https_address is not set: set it first");
	r = RUN("--address", f->address, "cluster", "enable", "n1");
	assert_int_equal(r.rc, 1);
	assert_string_equal(r.out, "");
	assert_string_equal(
	    r.err, "therm: core.https_address is not set: set it first\n");
	cli_result_free(&r);

	fake_server_error(&f->server, 409, "already clustered");
	r = RUN("--address", f->address, "cluster", "enable", "n1");
	assert_int_equal(r.rc, 1);
	assert_string_equal(r.err, "therm: already clustered\n");
	cli_result_free(&r);
}

static void test_status(void **state)
{
	struct fixture *f = *state;
	struct cli_result r;

	fake_server_sync(&f->server, member_state, NULL);
	r = RUN("--address", f->address, "cluster", "status");
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "enabled: true\n"
				   "member_name: n1\n"
				   "fingerprint: ab12\n"
				   "state: member\n"
				   "message:\n"
				   "applied_index: 3\n"
				   "target_index: 0\n");
	cli_result_free(&r);
	assert_request(&f->server, 0, "GET /1.0/cluster", NULL);

	r = RUN("--address", f->address, "cluster", "status", "--format",
		"csv");
	assert_int_equal(r.rc, 2);
	cli_result_free(&r);
}

static const char *token_json =
    "{\"name\":\"n2\",\"token\":\"eyJzZWNyZXQi\",\"expires_at\":"
    "\"2026-12-01T21:00:00Z\",\"addresses\":[\"10.0.0.1:8443\"],"
    "\"fingerprint\":\"ab12\"}";

static void test_add(void **state)
{
	struct fixture *f = *state;
	struct cli_result r;

	fake_server_sync(&f->server, token_json, NULL);
	r = RUN("--address", f->address, "cluster", "add", "n2");
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "eyJzZWNyZXQi\n");
	assert_string_equal(r.err, "");
	cli_result_free(&r);
	assert_request(&f->server, 0, "POST /1.0/cluster/members",
		       "{\"name\":\"n2\"}");

	fake_server_sync(&f->server, token_json, NULL);
	r = RUN("--address", f->address, "cluster", "add", "n2", "--expiry",
		"3h", "--format", "csv");
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "eyJzZWNyZXQi\n");
	cli_result_free(&r);
	assert_request(&f->server, 1, "POST /1.0/cluster/members",
		       "{\"name\":\"n2\",\"expiry\":\"3h\"}");

	fake_server_sync(&f->server, token_json, NULL);
	r = RUN("--address", f->address, "--format=json", "cluster", "add",
		"n2");
	assert_int_equal(r.rc, 0);
	assert_json_out(r.out, token_json);
	cli_result_free(&r);

	fake_server_sync(&f->server, token_json, NULL);
	r = RUN("--address", f->address, "cluster", "add", "n2", "--format",
		"yaml");
	assert_int_equal(r.rc, 0);
	assert_contains(r.out, "token: eyJzZWNyZXQi\n");
	assert_contains(r.out, "addresses:\n- \"10.0.0.1:8443\"\n");
	cli_result_free(&r);

	fake_server_error(&f->server, 400, "invalid expiry \\\"3x\\\"");
	r = RUN("--address", f->address, "cluster", "add", "n2", "--expiry",
		"3x");
	assert_int_equal(r.rc, 1);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "therm: invalid expiry \"3x\"\n");
	cli_result_free(&r);

	/* An answer without the token is the daemon's fault, said so. */
	fake_server_sync(&f->server, "{\"name\":\"n2\"}", NULL);
	r = RUN("--address", f->address, "cluster", "add", "n2");
	assert_int_equal(r.rc, 1);
	assert_contains(r.err, "malformed response from");
	assert_contains(r.err, "join token without \"token\"");
	cli_result_free(&r);
}

static const char *tokens_json =
    "[{\"name\":\"n2\",\"addresses\":[\"10.0.0.1:8443\",\"10.0.0.2:8443\"],"
    "\"fingerprint\":\"ab12\",\"created_at\":\"2026-12-01T18:00:00Z\","
    "\"expires_at\":\"2026-12-01T21:00:00Z\"}]";

static void test_tokens(void **state)
{
	struct fixture *f = *state;
	struct cli_result r;

	fake_server_sync(&f->server, tokens_json, NULL);
	r = RUN("--address", f->address, "cluster", "list-tokens");
	assert_int_equal(r.rc, 0);
	assert_string_equal(
	    r.out, "NAME  ADDRESSES                    CREATED               "
		   "EXPIRES\n"
		   "n2    10.0.0.1:8443,10.0.0.2:8443  2026-12-01T18:00:00Z  "
		   "2026-12-01T21:00:00Z\n");
	cli_result_free(&r);
	assert_request(&f->server, 0, "GET /1.0/cluster/tokens", NULL);

	fake_server_sync(&f->server, tokens_json, NULL);
	r = RUN("--address", f->address, "cluster", "list-tokens", "--format",
		"csv");
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out,
			    "NAME,ADDRESSES,CREATED,EXPIRES\n"
			    "n2,\"10.0.0.1:8443,10.0.0.2:8443\","
			    "2026-12-01T18:00:00Z,2026-12-01T21:00:00Z\n");
	cli_result_free(&r);

	fake_server_sync(&f->server, tokens_json, NULL);
	r = RUN("--address", f->address, "cluster", "list-tokens", "--format",
		"json");
	assert_int_equal(r.rc, 0);
	assert_json_out(r.out, tokens_json);
	cli_result_free(&r);

	fake_server_sync(&f->server, tokens_json, NULL);
	r = RUN("--address", f->address, "cluster", "list-tokens", "--format",
		"yaml");
	assert_int_equal(r.rc, 0);
	assert_contains(r.out, "- name: n2\n");
	assert_contains(r.out, "  expires_at: ");
	cli_result_free(&r);

	/* Nothing pending: null reads as an empty list. */
	fake_server_sync(&f->server, "null", NULL);
	r = RUN("--address", f->address, "cluster", "list-tokens");
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "NAME  ADDRESSES  CREATED  EXPIRES\n");
	cli_result_free(&r);

	fake_server_sync(&f->server, "{}", NULL);
	r = RUN("--address", f->address, "cluster", "revoke-token", "n2");
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "");
	cli_result_free(&r);
	assert_request(&f->server, 5, "DELETE /1.0/cluster/tokens/n2", NULL);

	fake_server_error(&f->server, 404, "no join token for \\\"n9\\\"");
	r = RUN("--address", f->address, "cluster", "revoke-token", "n9");
	assert_int_equal(r.rc, 1);
	assert_string_equal(r.err, "therm: no join token for \"n9\"\n");
	cli_result_free(&r);
}

static const char *members_json =
    "[{\"name\":\"n1\",\"id\":1,\"url\":\"https://10.0.0.1:8443\","
    "\"address\":\"10.0.0.1:8443\",\"roles\":[\"voter\",\"leader\"],"
    "\"failure_domain\":\"rack1\",\"state\":\"ONLINE\",\"message\":"
    "\"fully operational\",\"description\":\"\",\"schema_version\":1,"
    "\"api_extensions\":0},"
    "{\"name\":\"n2\",\"id\":2,\"url\":\"https://10.0.0.2:8443\","
    "\"address\":\"10.0.0.2:8443\",\"roles\":[],"
    "\"failure_domain\":\"default\",\"state\":\"OFFLINE\",\"message\":"
    "\"no heartbeat, 30s\",\"description\":\"spare\",\"schema_version\":1,"
    "\"api_extensions\":0}]";

static void test_list(void **state)
{
	struct fixture *f = *state;
	struct cli_result r;

	fake_server_sync(&f->server, members_json, NULL);
	r = RUN("--address", f->address, "cluster", "list");
	assert_int_equal(r.rc, 0);
	assert_string_equal(
	    r.out, "NAME  URL                    ROLES         FAILURE-DOMAIN  "
		   "STATE    MESSAGE\n"
		   "n1    https://10.0.0.1:8443  voter,leader  rack1           "
		   "ONLINE   fully operational\n"
		   "n2    https://10.0.0.2:8443                default         "
		   "OFFLINE  no heartbeat, 30s\n");
	assert_string_equal(r.err, "");
	cli_result_free(&r);
	assert_request(&f->server, 0, "GET /1.0/cluster/members?recursion=1",
		       NULL);

	fake_server_sync(&f->server, members_json, NULL);
	r = RUN("--address", f->address, "cluster", "list", "--format", "csv");
	assert_int_equal(r.rc, 0);
	assert_string_equal(
	    r.out, "NAME,URL,ROLES,FAILURE-DOMAIN,STATE,MESSAGE\n"
		   "n1,https://10.0.0.1:8443,\"voter,leader\",rack1,ONLINE,"
		   "fully operational\n"
		   "n2,https://10.0.0.2:8443,,default,OFFLINE,\"no heartbeat, "
		   "30s\"\n");
	cli_result_free(&r);

	fake_server_sync(&f->server, members_json, NULL);
	r = RUN("--address", f->address, "cluster", "list", "--format", "json");
	assert_int_equal(r.rc, 0);
	assert_json_out(r.out, members_json);
	cli_result_free(&r);

	fake_server_sync(&f->server, members_json, NULL);
	r = RUN("--address", f->address, "cluster", "list", "--format", "yaml");
	assert_int_equal(r.rc, 0);
	assert_contains(r.out, "- name: n1\n");
	assert_contains(r.out, "  roles:\n  - voter\n  - leader\n");
	assert_contains(r.out, "  description: spare\n");
	cli_result_free(&r);

	fake_server_sync(&f->server, "[{\"id\":1}]", NULL);
	r = RUN("--address", f->address, "cluster", "list");
	assert_int_equal(r.rc, 1);
	assert_contains(r.err, "cluster member without \"name\"");
	cli_result_free(&r);

	fake_server_error(&f->server, 400, "clustering is not enabled");
	r = RUN("--address", f->address, "cluster", "list");
	assert_int_equal(r.rc, 1);
	assert_string_equal(r.err, "therm: clustering is not enabled\n");
	cli_result_free(&r);
}

static const char *member_json =
    "{\"name\":\"n 1\",\"id\":1,\"url\":\"https://10.0.0.1:8443\","
    "\"roles\":[\"voter\",\"leader\"],\"failure_domain\":\"rack1\","
    "\"state\":\"ONLINE\",\"message\":\"fully operational\"}";

static void test_show(void **state)
{
	struct fixture *f = *state;
	struct cli_result r;

	fake_server_sync(&f->server, member_json, NULL);
	r = RUN("--address", f->address, "cluster", "show", "n 1");
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "name: n 1\n"
				   "id: 1\n"
				   "url: https://10.0.0.1:8443\n"
				   "roles: voter, leader\n"
				   "failure_domain: rack1\n"
				   "state: ONLINE\n"
				   "message: fully operational\n");
	cli_result_free(&r);
	/* The name is percent-encoded into the path. */
	assert_request(&f->server, 0, "GET /1.0/cluster/members/n%201", NULL);

	fake_server_sync(&f->server, member_json, NULL);
	r = RUN("--address", f->address, "cluster", "show", "n 1", "--format",
		"json");
	assert_int_equal(r.rc, 0);
	assert_json_out(r.out, member_json);
	cli_result_free(&r);

	fake_server_sync(&f->server, member_json, NULL);
	r = RUN("--address", f->address, "cluster", "show", "n 1", "--format",
		"yaml");
	assert_int_equal(r.rc, 0);
	assert_contains(r.out, "name: n 1\n");
	cli_result_free(&r);

	r = RUN("--address", f->address, "cluster", "show", "n1", "--format",
		"csv");
	assert_int_equal(r.rc, 2);
	assert_contains(r.err, "it prints table, json or yaml");
	cli_result_free(&r);

	fake_server_error(&f->server, 404, "member not found");
	r = RUN("--address", f->address, "cluster", "show", "n9");
	assert_int_equal(r.rc, 1);
	assert_string_equal(r.err, "therm: member not found\n");
	cli_result_free(&r);
}

static void test_set_rename_remove(void **state)
{
	struct fixture *f = *state;
	struct cli_result r;

	fake_server_sync(&f->server, "{}", NULL);
	r = RUN("--address", f->address, "cluster", "set", "n1",
		"failure_domain", "rack2");
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "");
	cli_result_free(&r);
	assert_request(&f->server, 0, "PATCH /1.0/cluster/members/n1",
		       "{\"failure_domain\":\"rack2\"}");

	fake_server_sync(&f->server, "{}", NULL);
	r = RUN("--address", f->address, "cluster", "set", "n1", "description",
		"--", "-spare-");
	assert_int_equal(r.rc, 0);
	cli_result_free(&r);
	assert_request(&f->server, 1, "PATCH /1.0/cluster/members/n1",
		       "{\"description\":\"-spare-\"}");

	r = RUN("--address", f->address, "cluster", "set", "n1", "roles", "x");
	assert_int_equal(r.rc, 2);
	assert_contains(r.err, "unknown member key \"roles\" (expected "
			       "failure_domain or description)");
	cli_result_free(&r);

	fake_server_sync(&f->server, "{}", NULL);
	r = RUN("--address", f->address, "cluster", "rename", "n1", "alpha");
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "");
	cli_result_free(&r);
	assert_request(&f->server, 2, "POST /1.0/cluster/members/n1",
		       "{\"name\":\"alpha\"}");

	fake_server_sync(&f->server, "{}", NULL);
	r = RUN("--address", f->address, "cluster", "remove", "n2");
	assert_int_equal(r.rc, 0);
	cli_result_free(&r);
	assert_request(&f->server, 3, "DELETE /1.0/cluster/members/n2", "");

	fake_server_sync(&f->server, "{}", NULL);
	r = RUN("--address", f->address, "cluster", "remove", "n2", "--force");
	assert_int_equal(r.rc, 0);
	cli_result_free(&r);
	assert_request(&f->server, 4, "DELETE /1.0/cluster/members/n2?force=1",
		       "");

	fake_server_error(&f->server, 409,
			  "member n2 is the last voter: add voters first");
	r = RUN("--address", f->address, "cluster", "remove", "n2");
	assert_int_equal(r.rc, 1);
	assert_string_equal(
	    r.err, "therm: member n2 is the last voter: add voters first\n");
	cli_result_free(&r);
	assert_int_equal(fake_server_n_requests(&f->server), 6);
}

static const char *joining_json =
    "{\"enabled\":true,\"member_name\":\"n2\",\"state\":\"joining\","
    "\"message\":\"contacting 10.0.0.1:8443\",\"applied_index\":0,"
    "\"target_index\":0}";

static void script_progress(struct fake_server *s, int applied, int target)
{
	char json[256];
	snprintf(json, sizeof json,
		 "{\"enabled\":true,\"member_name\":\"n2\",\"state\":"
		 "\"joining\",\"message\":\"catching up\",\"applied_index\":%d,"
		 "\"target_index\":%d}",
		 applied, target);
	fake_server_sync(s, json, NULL);
}

static void test_join_until_member(void **state)
{
	struct fixture *f = *state;
	const char *joined = "{\"enabled\":true,\"member_name\":\"n2\","
			     "\"state\":\"member\",\"message\":\"\","
			     "\"applied_index\":5000,\"target_index\":5000}";
	struct cli_result r;

	fake_server_sync(&f->server, joining_json, NULL);
	fake_server_sync(&f->server, joining_json, NULL);
	script_progress(&f->server, 1234, 5000);
	script_progress(&f->server, 1234, 5000);
	script_progress(&f->server, 4900, 5000);
	fake_server_sync(&f->server, joined, NULL);
	r = RUN("--address", f->address, "cluster", "join", "TOKEN1",
		"--address", "10.0.0.2:8443", "--force");
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "Joined the cluster as n2\n");
	/* Each progress line once, as it changes. */
	assert_string_equal(r.err, "joining: contacting 10.0.0.1:8443\n"
				   "joining: applied 1234 of 5000 entries\n"
				   "joining: applied 4900 of 5000 entries\n");
	cli_result_free(&r);
	assert_request(&f->server, 0, "PUT /1.0/cluster",
		       "{\"enabled\":true,\"token\":\"TOKEN1\",\"address\":"
		       "\"10.0.0.2:8443\",\"force\":true}");
	for (size_t i = 1; i < 6; i++) {
		assert_request(&f->server, i, "GET /1.0/cluster", NULL);
	}
	assert_int_equal(fake_server_n_requests(&f->server), 6);

	/* Without --address and --force; JSON prints the final state. */
	fake_server_sync(&f->server, joined, NULL);
	r = RUN("--address", f->address, "cluster", "join", "TOKEN1",
		"--format", "json");
	assert_int_equal(r.rc, 0);
	assert_json_out(r.out, joined);
	assert_string_equal(r.err, "");
	cli_result_free(&r);
	assert_request(&f->server, 6, "PUT /1.0/cluster",
		       "{\"enabled\":true,\"token\":\"TOKEN1\",\"force\":"
		       "false}");
}

static void test_join_fails(void **state)
{
	struct fixture *f = *state;
	struct cli_result r;

	/* The daemon gives up: its message, exit 1. */
	fake_server_sync(&f->server, joining_json, NULL);
	script_progress(&f->server, 10, 5000);
	fake_server_sync(&f->server,
			 "{\"enabled\":false,\"member_name\":\"\",\"state\":"
			 "\"standalone\",\"message\":\"join token expired\"}",
			 NULL);
	r = RUN("--address", f->address, "cluster", "join", "TOKEN1");
	assert_int_equal(r.rc, 1);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "joining: contacting 10.0.0.1:8443\n"
				   "joining: applied 10 of 5000 entries\n"
				   "therm: join failed: join token expired\n");
	cli_result_free(&r);

	/* A poll whose connection breaks is retried. */
	{
		struct fake_reply broken = {
		    .status = 200,
		    .body = "{\"type\":\"sync\",\"metadata\":{",
		    .fake_length = 1000,
		};
		fake_server_sync(&f->server, joining_json, NULL);
		fake_server_script(&f->server, &broken, 1);
		fake_server_sync(&f->server,
				 "{\"member_name\":\"n2\",\"state\":"
				 "\"member\"}",
				 NULL);
		r = RUN("--address", f->address, "cluster", "join", "TOKEN1");
		assert_int_equal(r.rc, 0);
		assert_string_equal(r.out, "Joined the cluster as n2\n");
		cli_result_free(&r);
	}

	/* Refused at once. */
	fake_server_error(&f->server, 409, "already a cluster member");
	r = RUN("--address", f->address, "cluster", "join", "TOKEN1");
	assert_int_equal(r.rc, 1);
	assert_string_equal(r.err, "therm: already a cluster member\n");
	cli_result_free(&r);

	/* A poll that fails otherwise than by connection ends the wait. */
	fake_server_sync(&f->server, joining_json, NULL);
	fake_server_error(&f->server, 403, "not authorized");
	r = RUN("--address", f->address, "cluster", "join", "TOKEN1");
	assert_int_equal(r.rc, 1);
	assert_contains(r.err, "therm: not authorized\n");
	cli_result_free(&r);
	assert_int_equal(fake_server_n_requests(&f->server), 9);

	r = RUN("--address", f->address, "cluster", "join", "T", "--timeout",
		"soon");
	assert_int_equal(r.rc, 2);
	assert_contains(r.err, "invalid --timeout \"soon\"");
	cli_result_free(&r);
}

static void test_join_times_out(void **state)
{
	struct fixture *f = *state;
	struct cli_result r;

	fake_server_sync(&f->server, joining_json, NULL);
	for (int i = 0; i < 8; i++) {
		script_progress(&f->server, 7, 9);
	}
	r = RUN("--address", f->address, "cluster", "join", "TOKEN1",
		"--timeout", "0.5");
	assert_int_equal(r.rc, 1);
	assert_contains(r.err, "joining: applied 7 of 9 entries\n");
	assert_contains(r.err, "therm: still joining after 0.5 s (joining: "
			       "applied 7 of 9 entries); the daemon may yet "
			       "finish");
	cli_result_free(&r);
	/* The PUT, then a poll every 200 ms: two or three in 0.5 s. */
	assert_in_range(fake_server_n_requests(&f->server), 3, 4);
}

static void test_help_and_usage(void **state)
{
	static const struct {
		const char *cmd;
		const char *formats;
	} cases[] = {
	    {"enable", "table, json, yaml or csv"},
	    {"add", "table, json, yaml or csv"},
	    {"join", "table, json, yaml or csv"},
	    {"status", "table, json or yaml"},
	    {"list", "table, json, yaml or csv"},
	    {"show", "table, json or yaml"},
	    {"set", "table, json, yaml or csv"},
	    {"rename", "table, json, yaml or csv"},
	    {"remove", "table, json, yaml or csv"},
	    {"list-tokens", "table, json, yaml or csv"},
	    {"revoke-token", "table, json, yaml or csv"},
	};
	struct cli_result r;
	(void)state;

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char line[128];
		snprintf(line, sizeof line, "output format: %s\n",
			 cases[i].formats);
		r = RUN("cluster", cases[i].cmd, "--help");
		assert_int_equal(r.rc, 0);
		assert_contains(r.out, line);
		assert_contains(r.out, "Usage: therm cluster ");
		cli_result_free(&r);
	}
	r = RUN("cluster");
	assert_int_equal(r.rc, 2);
	assert_contains(r.err, "  list-tokens ");
	cli_result_free(&r);
	r = RUN("cluster", "add", "--help");
	assert_contains(r.out, "--expiry DURATION");
	cli_result_free(&r);
	r = RUN("cluster", "join", "--help");
	assert_contains(r.out, "--timeout SECONDS");
	assert_contains(r.out, "--force");
	cli_result_free(&r);
	r = RUN("--help");
	assert_contains(r.out, "  cluster ");
	assert_contains(r.out, "comma separated");
	cli_result_free(&r);

	r = RUN("cluster", "rename", "n1");
	assert_int_equal(r.rc, 2);
	assert_contains(r.err, "wrong number of arguments for \"therm cluster "
			       "rename\" (expected: OLD NEW)");
	cli_result_free(&r);
	r = RUN("cluster", "enable");
	assert_int_equal(r.rc, 2);
	cli_result_free(&r);
	r = RUN("cluster", "remove", "n1", "--forse");
	assert_int_equal(r.rc, 2);
	assert_contains(r.err, "unknown option \"--forse\"");
	cli_result_free(&r);
}

/* --address with several entries: a refused one is skipped, one that
 * answers is used even with an HTTP error, and when none answers the
 * message names each. */
static void test_address_failover(void **state)
{
	struct fixture *f = *state;
	struct fake_server other;
	char list[400];
	struct cli_result r;

	snprintf(list, sizeof list, "unix:/nonexistent/a.sock,%s", f->address);
	fake_server_sync(&f->server, "{\"api_version\":\"1.0\"}", NULL);
	fake_server_sync(&f->server, member_state, NULL);
	r = RUN("--address", list, "cluster", "status", "--format", "json");
	assert_int_equal(r.rc, 0);
	assert_json_out(r.out, member_state);
	assert_string_equal(r.err, "");
	cli_result_free(&r);
	assert_request(&f->server, 0, "GET /1.0", NULL);
	assert_request(&f->server, 1, "GET /1.0/cluster", NULL);

	/* The first answers, with an error: no failover. */
	fake_server_start_unix(&other);
	snprintf(list, sizeof list, "%s,unix:%s", f->address,
		 other.socket_path);
	fake_server_error(&f->server, 503, "database not ready");
	fake_server_error(&f->server, 503, "database not ready");
	r = RUN("--address", list, "cluster", "list");
	assert_int_equal(r.rc, 1);
	assert_string_equal(r.err, "therm: database not ready\n");
	cli_result_free(&r);
	assert_int_equal(fake_server_n_requests(&other), 0);
	assert_int_equal(fake_server_n_requests(&f->server), 4);
	fake_server_stop(&other);

	r = RUN("--address", "unix:/nonexistent/a.sock,unix:/nonexistent/b",
		"cluster", "list");
	assert_int_equal(r.rc, 1);
	assert_contains(r.err, "therm: no daemon of --address answered:\n  ");
	assert_contains(r.err, "/nonexistent/a.sock");
	assert_contains(r.err, "/nonexistent/b");
	cli_result_free(&r);

	r = RUN("--address", "unix:/nonexistent/a.sock,", "cluster", "list");
	assert_int_equal(r.rc, 1);
	assert_contains(r.err, "empty entry in the list");
	cli_result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_enable, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_status, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_add, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_show, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_set_rename_remove, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_join_until_member, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_join_fails, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_join_times_out, setup,
					    teardown),
	    cmocka_unit_test(test_help_and_usage),
	    cmocka_unit_test_setup_teardown(test_address_failover, setup,
					    teardown),
	};
	return cmocka_run_group_tests_name("client-cluster-cli", tests, NULL,
					   NULL);
}

/* therm init --preseed: the file's checks, and the requests it makes,
 * against a scripted daemon on a unix socket. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cmd/therm/preseed.h"
#include "test/unit/client/cli_run.h"
#include "test/unit/client/fake_server.h"

#define RUN(...) cli_run(__VA_ARGS__, (const char *)NULL)

struct fixture {
	struct fake_server server;
	char address[160];
	char file[160];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	fake_server_start_unix(&f->server);
	snprintf(f->address, sizeof f->address, "unix:%s",
		 f->server.socket_path);
	snprintf(f->file, sizeof f->file, "%s/preseed", f->server.dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	unlink(f->file);
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

static void write_preseed(struct fixture *f, const char *text)
{
	FILE *file = fopen(f->file, "w");
	assert_non_null(file);
	fputs(text, file);
	fclose(file);
}

static void assert_request(struct fake_server *s, size_t i, const char *line,
			   const char *body)
{
	char *got = fake_server_request_line(s, i);
	assert_non_null(got);
	assert_string_equal(got, line);
	free(got);
	got = fake_server_request_body(s, i);
	assert_string_equal(got, body);
	free(got);
}

static void test_yaml_enable(void **state)
{
	struct fixture *f = *state;
	struct cli_result r;

	write_preseed(f, "# first member\n"
			 "config:\n"
			 "  core.https_address: 10.0.0.1:8443\n"
			 "  core.request_timeout: 30\n"
			 "  user.flag: true\n"
			 "  user.gone: null\n"
			 "cluster:\n"
			 "  enabled: true\n"
			 "  member_name: n1\n");
	fake_server_sync(&f->server, "{}", NULL);
	fake_server_sync(&f->server,
			 "{\"enabled\":true,\"member_name\":\"n1\",\"state\":"
			 "\"member\"}",
			 NULL);
	r = RUN("--address", f->address, "init", "--preseed", f->file);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "Clustering enabled: this daemon is n1\n");
	assert_string_equal(r.err, "");
	cli_result_free(&r);
	/* Unquoted YAML values go as the text written. */
	assert_request(&f->server, 0, "PATCH /1.0/config",
		       "{\"core.https_address\":\"10.0.0.1:8443\","
		       "\"core.request_timeout\":\"30\",\"user.flag\":"
		       "\"true\",\"user.gone\":null}");
	assert_request(&f->server, 1, "PUT /1.0/cluster",
		       "{\"enabled\":true,\"member_name\":\"n1\"}");
}

static void test_json_join_from_stdin(void **state)
{
	struct fixture *f = *state;
	const char *member = "{\"member_name\":\"n2\",\"state\":\"member\"}";
	struct cli_result r;
	cJSON *out;

	fake_server_sync(&f->server,
			 "{\"state\":\"joining\",\"applied_index\":1,"
			 "\"target_index\":4}",
			 NULL);
	fake_server_sync(&f->server, member, NULL);
	r = cli_run_input("{\"cluster\": {\"token\": \"T1\", \"address\": "
			  "\"10.0.0.2:8443\", \"force\": true}}\n",
			  "--address", f->address, "init", "--preseed", "-",
			  "--format", "json", (const char *)NULL);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.err, "joining: applied 1 of 4 entries\n");
	out = cJSON_Parse(r.out);
	assert_non_null(out);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(out, "config")),
			 0);
	assert_string_equal(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(out, "cluster"), "state")
		->valuestring,
	    "member");
	cJSON_Delete(out);
	cli_result_free(&r);
	/* No configuration: no PATCH. */
	assert_request(&f->server, 0, "PUT /1.0/cluster",
		       "{\"enabled\":true,\"token\":\"T1\",\"address\":"
		       "\"10.0.0.2:8443\",\"force\":true}");
	assert_int_equal(fake_server_n_requests(&f->server), 2);

	/* Configuration alone. */
	fake_server_sync(&f->server, "{}", NULL);
	r = cli_run_input("config: {user.a: b}\n", "--address", f->address,
			  "init", "--preseed", "-", (const char *)NULL);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "");
	cli_result_free(&r);
	assert_request(&f->server, 2, "PATCH /1.0/config",
		       "{\"user.a\":\"b\"}");
}

static void test_bad_files(void **state)
{
	static const struct {
		const char *text;
		const char *message;
	} cases[] = {
	    {"clustr: {}\n",
	     "unknown field \"clustr\" (expected config, cluster)"},
	    {"cluster:\n  token: T\n  forse: true\n",
	     "unknown field \"cluster.forse\" (expected enabled, member_name, "
	     "token, address, force)"},
	    {"cluster: {token: T, member_name: n1}\n",
	     "needs either member_name (to start a cluster) or token (to join "
	     "one), not both"},
	    {"cluster: {enabled: true}\n", "not neither"},
	    {"cluster: {enabled: false, member_name: n1}\n",
	     "\"cluster.enabled\" can only be true"},
	    {"cluster: {member_name: n1, force: true}\n",
	     "go with a token only"},
	    {"cluster: {token: T, force: yes}\n",
	     "\"cluster.force\" must be true or false"},
	    {"cluster: {token: [T]}\n",
	     "\"cluster.token\" must be a non-empty string"},
	    {"{\"config\": {\"core.request_timeout\": 30}}",
	     "config key \"core.request_timeout\" must be a string, not a "
	     "number"},
	    {"config: [a, b]\n", "\"config\" must be a mapping"},
	    {"config:\n  user.a: 1\n  user.a: 2\n", "line 3: \"user.a\" given "
						    "twice"},
	    {"config:\n  user.a: [1\n", "line 3: "},
	    {"{\"config\": {\n\"user.a\": }}", "line 2: invalid JSON"},
	    {"- a\n- b\n", "expected a mapping with \"config\" and/or "
			   "\"cluster\", not a list"},
	    {"", "not null"},
	};
	struct fixture *f = *state;
	(void)state;

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct cli_result r;
		write_preseed(f, cases[i].text);
		r = RUN("--address", f->address, "init", "--preseed", f->file);
		if (r.rc != 1) {
			fail_msg("case %zu: rc %d, stderr: %s", i, r.rc, r.err);
		}
		assert_contains(r.err, "therm: preseed ");
		assert_contains(r.err, cases[i].message);
		cli_result_free(&r);
	}
	assert_int_equal(fake_server_n_requests(&f->server), 0);
}

static void test_daemon_refuses(void **state)
{
	struct fixture *f = *state;
	struct cli_result r;

	write_preseed(f, "config: {nope: 1}\ncluster: {member_name: n1}\n");
	fake_server_error(&f->server, 400, "unknown key \\\"nope\\\"");
	r = RUN("--address", f->address, "init", "--preseed", f->file);
	assert_int_equal(r.rc, 1);
	assert_string_equal(r.err, "therm: config: unknown key \"nope\"\n");
	cli_result_free(&r);
	/* The cluster part is not attempted after a failed config. */
	assert_int_equal(fake_server_n_requests(&f->server), 1);

	write_preseed(f, "cluster: {token: T}\n");
	fake_server_sync(&f->server,
			 "{\"state\":\"standalone\",\"message\":\"token "
			 "already used\"}",
			 NULL);
	r = RUN("--address", f->address, "init", "--preseed", f->file);
	assert_int_equal(r.rc, 1);
	assert_string_equal(r.err, "therm: join failed: token already used\n");
	cli_result_free(&r);

	r = RUN("--address", f->address, "init");
	assert_int_equal(r.rc, 2);
	assert_contains(r.err, "\"therm init\" needs --preseed FILE");
	cli_result_free(&r);

	r = RUN("--address", f->address, "init", "--preseed",
		"/nonexistent/p.yaml");
	assert_int_equal(r.rc, 1);
	assert_contains(r.err, "/nonexistent/p.yaml");
	cli_result_free(&r);
}

static void test_yaml_to_json(void **state)
{
	char errmsg[THERM_ERRMSG_SIZE];
	const char *text = "a: [1, 'true', true, ~]\nb: {c: \"\"}\nd:\n";
	cJSON *out;
	char *json;
	(void)state;

	assert_int_equal(therm_yaml_to_json(text, strlen(text), &out, errmsg),
			 0);
	json = cJSON_PrintUnformatted(out);
	assert_string_equal(json,
			    "{\"a\":[\"1\",\"true\",true,null],\"b\":{\"c\":"
			    "\"\"},\"d\":null}");
	cJSON_free(json);
	cJSON_Delete(out);

	/* Aliases are expanded, within a bound. */
	text = "a: &x [1, 2]\nb: *x\n";
	assert_int_equal(therm_yaml_to_json(text, strlen(text), &out, errmsg),
			 0);
	cJSON_Delete(out);
	text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	       "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
	       "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
	       "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
	       "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n";
	assert_int_not_equal(
	    therm_yaml_to_json(text, strlen(text), &out, errmsg), 0);
	assert_null(out);
	assert_non_null(strstr(errmsg, "too large"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_yaml_enable, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_json_join_from_stdin, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_daemon_refuses, setup,
					    teardown),
	    cmocka_unit_test(test_yaml_to_json),
	};
	return cmocka_run_group_tests_name("client-init-cli", tests, NULL,
					   NULL);
}

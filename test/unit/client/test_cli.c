/* therm: argument parsing, help, exit codes, and the commands against a
 * scripted daemon on a unix socket. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "test/unit/client/cli_run.h"
#include "test/unit/client/fake_server.h"

#define RUN(...) cli_run(__VA_ARGS__, (const char *)NULL)

static void assert_contains(const char *text, const char *part)
{
	if (strstr(text, part) == NULL) {
		fail_msg("\"%s\" not found in:\n%s", part, text);
	}
}

static void test_no_arguments(void **state)
{
	struct cli_result r = cli_run(NULL);
	(void)state;
	assert_int_equal(r.rc, 2);
	assert_string_equal(r.out, "");
	assert_contains(r.err, "Usage: therm COMMAND [options]");
	cli_result_free(&r);
}

static void test_help_exits_zero(void **state)
{
	struct cli_result r = RUN("--help");
	(void)state;
	assert_int_equal(r.rc, 0);
	assert_contains(r.out, "Commands:\n  version");
	assert_contains(r.out, "  trust ");
	assert_string_equal(r.err, "");
	cli_result_free(&r);

	r = RUN("config", "-h");
	assert_int_equal(r.rc, 0);
	assert_contains(r.out, "Usage: therm config COMMAND [options]");
	assert_contains(r.out, "  set ");
	cli_result_free(&r);

	r = RUN("--help", "config", "get");
	assert_int_equal(r.rc, 0);
	assert_contains(r.out, "Usage: therm config get [options] KEY");
	assert_contains(r.out, "Global options:");
	cli_result_free(&r);

	r = RUN("daemon", "waitready", "--help");
	assert_int_equal(r.rc, 0);
	assert_contains(r.out, "--timeout SECONDS");
	cli_result_free(&r);
}

/* Each command's help names the formats it accepts, and the refusal of
 * another one names them too; the global help says it depends. */
static void test_help_tells_formats(void **state)
{
	static const struct {
		const char *args[3];
		const char *formats;
	} cases[] = {
	    {{"info"}, "table, json or yaml"},
	    {{"version"}, "table, json or yaml"},
	    {{"config", "get"}, "table, json or yaml"},
	    {{"config", "show"}, "table, json, yaml or csv"},
	    {{"sql"}, "table, json, yaml or csv"},
	    {{"backup"}, "table"},
	};
	(void)state;
	struct cli_result r = RUN("--help");
	assert_contains(r.out, "--format FORMAT      output format: "
			       "table|json|yaml|csv, see COMMAND --help\n");
	cli_result_free(&r);
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char line[128];
		snprintf(line, sizeof line, "output format: %s\n",
			 cases[i].formats);
		r = cli_run(cases[i].args[0],
			    cases[i].args[1] != NULL ? cases[i].args[1]
						     : "--help",
			    cases[i].args[1] != NULL ? "--help" : NULL,
			    (const char *)NULL);
		assert_int_equal(r.rc, 0);
		assert_contains(r.out, line);
		cli_result_free(&r);
	}
	/* A format the help does not name is refused (usage). */
	r = RUN("version", "--format=csv");
	assert_int_equal(r.rc, 2);
	assert_contains(r.err, "format csv is not supported by \"therm "
			       "version\" (it prints table, json or yaml)");
	cli_result_free(&r);
}

static void test_group_without_subcommand(void **state)
{
	const char *groups[] = {"config", "trust", "daemon"};
	(void)state;
	for (size_t i = 0; i < 3; i++) {
		struct cli_result r = RUN(groups[i]);
		assert_int_equal(r.rc, 2);
		assert_string_equal(r.out, "");
		assert_contains(r.err, "Usage: therm ");
		assert_contains(r.err, "Commands:");
		cli_result_free(&r);
	}
}

static void test_usage_errors(void **state)
{
	static const struct {
		const char *args[5];
		const char *message;
	} cases[] = {
	    {{"nosuch"}, "unknown command \"nosuch\" for \"therm\""},
	    {{"config", "nosuch"},
	     "unknown command \"nosuch\" for \"therm config\""},
	    {{"trust", "list", "--bogus"},
	     "unknown option \"--bogus\" for \"therm trust list\""},
	    {{"trust", "--name", "x", "add"},
	     "unknown option \"--name\" for \"therm trust\""},
	    {{"--format"}, "option --format needs a value"},
	    {{"trust", "add", "f", "--name"}, "option --name needs a value"},
	    {{"--help=yes"}, "option --help takes no value"},
	    {{"config", "get"}, "wrong number of arguments"},
	    {{"config", "get", "a", "b"}, "wrong number of arguments"},
	    {{"config", "set", "a"}, "wrong number of arguments"},
	    {{"config", "set", "a", "1", "b"},
	     "\"b\" has no value: give KEY VALUE pairs"},
	    {{"info", "extra"}, "wrong number of arguments"},
	    {{"--format", "xml", "info"}, "unknown format \"xml\""},
	    {{"info", "--format=csv"},
	     "format csv is not supported by \"therm info\" (it prints "
	     "table, json or yaml)"},
	    {{"--fingerprint", "abc", "info"}, "invalid fingerprint \"abc\""},
	    {{"daemon", "waitready", "--timeout", "soon"},
	     "invalid --timeout \"soon\""},
	    {{"daemon", "shutdown", "--timeout=-1"}, "invalid --timeout"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct cli_result r = cli_run(
		    cases[i].args[0], cases[i].args[1], cases[i].args[2],
		    cases[i].args[3], cases[i].args[4], (const char *)NULL);
		if (r.rc != 2) {
			fail_msg("case %zu: rc %d, stderr: %s", i, r.rc, r.err);
		}
		assert_contains(r.err, cases[i].message);
		assert_contains(r.err, "therm: ");
		assert_contains(r.err, "--help' for usage.");
		cli_result_free(&r);
	}
}

static void test_version_flag(void **state)
{
	struct cli_result r = RUN("--version");
	(void)state;
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "therm " THERMIONIC_VERSION "\n");
	cli_result_free(&r);
}

static void test_parse_details(void **state)
{
	char *argv[] = {"therm", "--format=json", "config", "set", "--",
			"-k",	 "--v",		  NULL};
	struct therm_invocation inv;
	char errmsg[THERM_ERRMSG_SIZE];
	char *path;
	(void)state;

	assert_int_equal(therm_parse(&therm_root, 7, argv, &inv, errmsg), 0);
	path = therm_command_path(&inv);
	assert_string_equal(path, "therm config set");
	free(path);
	assert_string_equal(inv.format, "json");
	assert_int_equal(inv.argc, 2);
	assert_string_equal(inv.argv[0], "-k");
	assert_string_equal(inv.argv[1], "--v");
	therm_invocation_close(&inv);

	{
		char *argv2[] = {"therm",  "trust", "add", "-",
				 "--name", "n",	    NULL};
		assert_int_equal(
		    therm_parse(&therm_root, 6, argv2, &inv, errmsg), 0);
		assert_int_equal(inv.argc, 1);
		assert_string_equal(inv.argv[0], "-");
		assert_true(inv.present[0]);
		assert_string_equal(inv.values[0], "n");
		therm_invocation_close(&inv);
	}
}

static void test_seconds(void **state)
{
	unsigned ms = 0;
	(void)state;
	assert_int_equal(therm_parse_seconds("30", &ms), 0);
	assert_int_equal(ms, 30000);
	assert_int_equal(therm_parse_seconds("0.25", &ms), 0);
	assert_int_equal(ms, 250);
	assert_int_equal(therm_parse_seconds("0", &ms), 0);
	assert_int_equal(ms, 0);
	assert_int_not_equal(therm_parse_seconds("", &ms), 0);
	assert_int_not_equal(therm_parse_seconds("1s", &ms), 0);
	assert_int_not_equal(therm_parse_seconds("nan", &ms), 0);
	assert_int_not_equal(therm_parse_seconds("1e9", &ms), 0);
}

/* Commands against a scripted daemon. */

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

static void assert_request(struct fake_server *s, size_t i, const char *line)
{
	char *got = fake_server_request_line(s, i);
	assert_non_null(got);
	assert_string_equal(got, line);
	free(got);
}

static const char *config_json =
    "{\"user.b\":\"two words\",\"core.https_address\":\"127.0.0.1:8443\"}";

static void test_config_show(void **state)
{
	struct fixture *f = *state;
	struct cli_result r;

	fake_server_sync(&f->server, config_json, "ETag: \"e1\"\r\n");
	r = RUN("--address", f->address, "config", "show");
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "KEY                 VALUE\n"
				   "core.https_address  127.0.0.1:8443\n"
				   "user.b              two words\n");
	assert_string_equal(r.err, "");
	cli_result_free(&r);
	assert_request(&f->server, 0, "GET /1.0/config");

	fake_server_sync(&f->server, config_json, NULL);
	r = RUN("--address", f->address, "config", "show", "--format", "csv");
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "KEY,VALUE\n"
				   "core.https_address,127.0.0.1:8443\n"
				   "user.b,two words\n");
	cli_result_free(&r);

	fake_server_sync(&f->server, config_json, NULL);
	r = RUN("config", "show", "--format=json", "--address", f->address);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out,
			    "{\n"
			    "  \"core.https_address\": \"127.0.0.1:8443\",\n"
			    "  \"user.b\": \"two words\"\n"
			    "}\n");
	cli_result_free(&r);
}

static void test_config_get(void **state)
{
	struct fixture *f = *state;
	struct cli_result r;

	fake_server_sync(&f->server, config_json, NULL);
	r = RUN("--address", f->address, "config", "get", "user.b");
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "two words\n");
	cli_result_free(&r);

	fake_server_sync(&f->server, config_json, NULL);
	r = RUN("--address", f->address, "config", "get", "user.unset");
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "\n");
	cli_result_free(&r);

	/* A key that does not exist is refused, as set and unset do. */
	fake_server_sync(&f->server, config_json, NULL);
	r = RUN("--address", f->address, "config", "get", "no.such.key");
	assert_int_equal(r.rc, 1);
	assert_string_equal(r.out, "");
	assert_string_equal(
	    r.err, "therm: unknown configuration key \"no.such.key\"\n");
	cli_result_free(&r);
}

static void test_config_set_uses_if_match(void **state)
{
	struct fixture *f = *state;
	struct cli_result r;
	char *value;

	fake_server_sync(&f->server, config_json, "ETag: \"e42\"\r\n");
	fake_server_sync(&f->server, "{}", NULL);
	r = RUN("--address", f->address, "config", "set", "user.a", "1",
		"core.request_timeout", "30", "user.a", "2");
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "");
	cli_result_free(&r);
	assert_request(&f->server, 0, "GET /1.0/config");
	assert_request(&f->server, 1, "PATCH /1.0/config");
	value = fake_server_request_header(&f->server, 1, "If-Match");
	assert_string_equal(value, "\"e42\"");
	free(value);
	value = fake_server_request_body(&f->server, 1);
	assert_string_equal(
	    value, "{\"user.a\":\"2\",\"core.request_timeout\":\"30\"}");
	free(value);
}

static void test_config_set_conflict_and_bad_key(void **state)
{
	struct fixture *f = *state;
	struct cli_result r;

	fake_server_sync(&f->server, "{}", "ETag: \"e1\"\r\n");
	fake_server_error(&f->server, 412, "ETag does not match");
	r = RUN("--address", f->address, "config", "set", "user.a", "1");
	assert_int_equal(r.rc, 1);
	assert_contains(r.err, "therm: ETag does not match: the configuration "
			       "changed while this command ran");
	cli_result_free(&r);

	fake_server_sync(&f->server, "{}", "ETag: \"e1\"\r\n");
	fake_server_error(&f->server, 400, "unknown key \\\"nope\\\"");
	r = RUN("--address", f->address, "config", "set", "nope", "1");
	assert_int_equal(r.rc, 1);
	assert_string_equal(r.err, "therm: unknown key \"nope\"\n");
	cli_result_free(&r);
}

static const char *all_json =
    "[{\"key\":\"cluster.max_voters\",\"scope\":\"cluster\",\"type\":\"int\","
    "\"default\":\"3\",\"value\":\"5\",\"set\":true,\"description\":\"v\"},"
    "{\"key\":\"core.https_address\",\"scope\":\"member\",\"type\":"
    "\"address\",\"default\":\"\",\"value\":\"\",\"set\":false,"
    "\"description\":\"a, b\"}]";

static void test_config_show_all(void **state)
{
	struct fixture *f = *state;
	struct cli_result r;

	fake_server_sync(&f->server, all_json, NULL);
	r = RUN("--address", f->address, "config", "show", "--all");
	assert_int_equal(r.rc, 0);
	assert_string_equal(
	    r.out, "KEY                 SCOPE    TYPE     DEFAULT  VALUE\n"
		   "cluster.max_voters  cluster  int      3        5\n"
		   "core.https_address  member   address\n");
	assert_string_equal(r.err, "");
	cli_result_free(&r);
	assert_request(&f->server, 0, "GET /1.0/config?all=1");

	fake_server_sync(&f->server, all_json, NULL);
	r = RUN("--address", f->address, "config", "show", "-a", "--format",
		"csv");
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "KEY,SCOPE,TYPE,DEFAULT,VALUE\n"
				   "cluster.max_voters,cluster,int,3,5\n"
				   "core.https_address,member,address,,\n");
	cli_result_free(&r);

	fake_server_sync(&f->server, all_json, NULL);
	r = RUN("--address", f->address, "config", "show", "--all", "--format",
		"yaml");
	assert_int_equal(r.rc, 0);
	assert_non_null(strstr(r.out, "- key: cluster.max_voters\n"
				      "  scope: cluster\n"
				      "  type: int\n"
				      "  default: \"3\"\n"
				      "  value: \"5\"\n"
				      "  set: true\n"));
	cli_result_free(&r);

	fake_server_sync(&f->server, all_json, NULL);
	r = RUN("--address", f->address, "config", "show", "--all", "--format",
		"json");
	assert_int_equal(r.rc, 0);
	assert_non_null(strstr(r.out, "\"scope\": \"member\""));
	cli_result_free(&r);

	/* A listing without a scope is refused, not shown half. */
	fake_server_sync(&f->server, "[{\"key\":\"x\"}]", NULL);
	r = RUN("--address", f->address, "config", "show", "--all");
	assert_int_equal(r.rc, 1);
	assert_non_null(strstr(r.err, "malformed response"));
	cli_result_free(&r);
}

static const char *set_answer =
    "{\"member\":\"n3\",\"index\":42,\"changes\":["
    "{\"key\":\"cluster.max_voters\",\"scope\":\"cluster\",\"value\":\"5\","
    "\"set\":true,\"changed\":true},"
    "{\"key\":\"core.https_address\",\"scope\":\"member\",\"value\":\"\","
    "\"set\":false,\"changed\":true},"
    "{\"key\":\"user.a\",\"scope\":\"cluster\",\"value\":\"1\","
    "\"set\":true,\"changed\":false}],"
    "\"in_force\":["
    "{\"name\":\"n1\",\"address\":\"a1\",\"in_force\":true,\"message\":\"\"},"
    "{\"name\":\"n2\",\"address\":\"a2\",\"in_force\":false,"
    "\"message\":\"connection refused\"},"
    "{\"name\":\"n3\",\"address\":\"a3\",\"in_force\":true,\"message\":\"\"}"
    "],\"config\":{}}";

/* A standalone member has no name: its answer's "member" is "". */
static const char *standalone_answer =
    "{\"member\":\"\",\"index\":7,\"changes\":["
    "{\"key\":\"core.https_address\",\"scope\":\"member\","
    "\"value\":\"127.0.0.1:8443\",\"set\":true,\"changed\":true},"
    "{\"key\":\"user.a\",\"scope\":\"cluster\",\"value\":\"1\","
    "\"set\":true,\"changed\":true}],"
    "\"in_force\":[],\"config\":{}}";

static void test_config_set_says_scope(void **state)
{
	struct fixture *f = *state;
	struct cli_result r;

	fake_server_sync(&f->server, config_json, NULL);
	fake_server_sync(&f->server, standalone_answer, NULL);
	r = RUN("--address", f->address, "config", "set", "core.https_address",
		"127.0.0.1:8443", "user.a", "1");
	assert_int_equal(r.rc, 0);
	assert_string_equal(
	    r.out, "core.https_address set on this member (member key)\n"
		   "user.a set (cluster key; this member is not clustered: "
		   "it is in force here)\n");
	cli_result_free(&r);

	fake_server_sync(&f->server, config_json, NULL);
	fake_server_sync(&f->server, set_answer, NULL);
	r = RUN("--address", f->address, "config", "set", "cluster.max_voters",
		"5", "core.https_address", "", "user.a", "1");
	assert_int_equal(r.rc, 0);
	assert_string_equal(
	    r.out, "cluster.max_voters set for the whole cluster (in force "
		   "on n1, n3; not reached: n2 (connection refused))\n"
		   "core.https_address unset on member n3 (member key: this "
		   "member only)\n"
		   "user.a unchanged (cluster key)\n");
	assert_string_equal(r.err, "");
	cli_result_free(&r);

	fake_server_sync(&f->server, config_json, NULL);
	fake_server_sync(&f->server, set_answer, NULL);
	r = RUN("--address", f->address, "--format", "csv", "config", "unset",
		"cluster.max_voters");
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "KEY,SCOPE,VALUE,CHANGED\n"
				   "cluster.max_voters,cluster,5,true\n"
				   "core.https_address,member,,true\n"
				   "user.a,cluster,1,false\n");
	cli_result_free(&r);

	fake_server_sync(&f->server, config_json, NULL);
	fake_server_sync(&f->server, set_answer, NULL);
	r = RUN("--address", f->address, "--format", "json", "config", "set",
		"user.a", "1");
	assert_int_equal(r.rc, 0);
	assert_non_null(strstr(r.out, "\"index\": 42"));
	assert_non_null(strstr(r.out, "\"in_force\": false"));
	cli_result_free(&r);
}

static void test_config_unset(void **state)
{
	struct fixture *f = *state;
	struct cli_result r;
	char *body;

	fake_server_sync(&f->server, config_json, "ETag: \"e2\"\r\n");
	fake_server_sync(&f->server, "{}", NULL);
	r = RUN("--address", f->address, "config", "unset", "user.b",
		"core.https_address");
	assert_int_equal(r.rc, 0);
	cli_result_free(&r);
	body = fake_server_request_body(&f->server, 1);
	assert_string_equal(body,
			    "{\"user.b\":null,\"core.https_address\":null}");
	free(body);
}

static const char *trust_json =
    "[{\"fingerprint\":\"aaaa0000\",\"name\":\"laptop\",\"type\":\"client\","
    "\"certificate\":\"-----BEGIN CERTIFICATE-----\\nX\\n-----END "
    "CERTIFICATE-----\\n\",\"added_at\":1700000000},"
    "{\"fingerprint\":\"bbbb1111\",\"name\":\"ci, bot\",\"type\":\"client\","
    "\"certificate\":\"\",\"added_at\":0}]";

static void test_trust_list_formats(void **state)
{
	struct fixture *f = *state;
	struct cli_result r;

	fake_server_sync(&f->server, trust_json, NULL);
	r = RUN("--address", f->address, "trust", "list");
	assert_int_equal(r.rc, 0);
	assert_string_equal(
	    r.out, "NAME     TYPE    FINGERPRINT  ADDED\n"
		   "laptop   client  aaaa0000     2023-11-14T22:13:20Z\n"
		   "ci, bot  client  bbbb1111     1970-01-01T00:00:00Z\n");
	cli_result_free(&r);

	fake_server_sync(&f->server, trust_json, NULL);
	r = RUN("--address", f->address, "trust", "list", "--format", "csv");
	assert_int_equal(r.rc, 0);
	assert_string_equal(
	    r.out, "NAME,TYPE,FINGERPRINT,ADDED\n"
		   "laptop,client,aaaa0000,2023-11-14T22:13:20Z\n"
		   "\"ci, bot\",client,bbbb1111,1970-01-01T00:00:00Z\n");
	cli_result_free(&r);

	fake_server_sync(&f->server, trust_json, NULL);
	r = RUN("--address", f->address, "trust", "list", "--format", "yaml");
	assert_int_equal(r.rc, 0);
	assert_contains(r.out, "- fingerprint: aaaa0000\n  name: laptop\n");
	assert_contains(r.out, "  certificate: |\n    -----BEGIN CERTIFICATE"
			       "-----\n    X\n");
	assert_contains(r.out, "  name: ci, bot\n");
	cli_result_free(&r);

	fake_server_sync(&f->server, trust_json, NULL);
	r = RUN("--address", f->address, "trust", "list", "--format", "json");
	assert_int_equal(r.rc, 0);
	{
		cJSON *back = cJSON_Parse(r.out);
		cJSON *orig = cJSON_Parse(trust_json);
		assert_true(cJSON_Compare(back, orig, true));
		cJSON_Delete(back);
		cJSON_Delete(orig);
	}
	cli_result_free(&r);
}

static void test_trust_add_and_remove(void **state)
{
	struct fixture *f = *state;
	const char *full = "abcdef0123456789abcdef0123456789abcdef0123456789"
			   "abcdef0123456789";
	char pem_path[160];
	char entry[256];
	struct cli_result r;
	char *body;
	FILE *pem;

	snprintf(pem_path, sizeof pem_path, "%s/c.pem", f->server.dir);
	pem = fopen(pem_path, "w");
	fputs("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
	      pem);
	fclose(pem);
	snprintf(entry, sizeof entry,
		 "{\"fingerprint\":\"%s\",\"name\":\"ci\",\"type\":\"client\"}",
		 full);
	fake_server_sync(&f->server, entry, NULL);
	r = RUN("--address", f->address, "trust", "add", pem_path, "--name",
		"ci");
	assert_int_equal(r.rc, 0);
	assert_contains(r.out, full);
	cli_result_free(&r);
	assert_request(&f->server, 0, "POST /1.0/certificates");
	body = fake_server_request_body(&f->server, 0);
	assert_string_equal(body, "{\"certificate\":\"-----BEGIN CERTIFICATE"
				  "-----\\nMIIB\\n-----END CERTIFICATE-----\\n"
				  "\",\"name\":\"ci\"}");
	free(body);

	/* A prefix is resolved by the server, then deleted in full. */
	fake_server_sync(&f->server, entry, NULL);
	fake_server_sync(&f->server, "{}", NULL);
	r = RUN("--address", f->address, "trust", "remove", "ABCDEF01");
	assert_int_equal(r.rc, 0);
	cli_result_free(&r);
	assert_request(&f->server, 1, "GET /1.0/certificates/abcdef01");
	{
		char line[128];
		snprintf(line, sizeof line, "DELETE /1.0/certificates/%s",
			 full);
		assert_request(&f->server, 2, line);
	}

	fake_server_error(&f->server, 404, "certificate not found");
	r = RUN("--address", f->address, "trust", "remove", full);
	assert_int_equal(r.rc, 1);
	assert_string_equal(r.err, "therm: certificate not found\n");
	cli_result_free(&r);

	unlink(pem_path);
	r = RUN("--address", f->address, "trust", "add", pem_path);
	assert_int_equal(r.rc, 1);
	assert_contains(r.err, pem_path);
	cli_result_free(&r);
	assert_int_equal(fake_server_n_requests(&f->server), 4);
}

static void test_info_and_version(void **state)
{
	struct fixture *f = *state;
	const char *info =
	    "{\"api_version\":\"1.0\",\"auth\":\"trusted\",\"environment\":"
	    "{\"server_version\":\"0.1.0\",\"addresses\":[\"127.0.0.1:8443\"]}"
	    ",\"config\":{\"user.x\":\"1\"}}";
	struct cli_result r;

	fake_server_sync(&f->server, info, NULL);
	r = RUN("--address", f->address, "info");
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "api_version: 1.0\n"
				   "auth: trusted\n"
				   "environment.server_version: 0.1.0\n"
				   "environment.addresses: 127.0.0.1:8443\n"
				   "config.user.x: 1\n");
	cli_result_free(&r);

	fake_server_sync(&f->server, info, NULL);
	r = RUN("--address", f->address, "version", "--format", "yaml");
	assert_int_equal(r.rc, 0);
	/* YAML 1.1 floats may hold several dots: quoted to stay strings. */
	assert_string_equal(r.out, "client_version: \"0.1.0\"\n"
				   "server_version: \"0.1.0\"\n");
	cli_result_free(&r);

	r = RUN("--address", "unix:/nonexistent/sock", "version");
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "client_version: 0.1.0\n"
				   "server_version: unreachable\n");
	assert_string_equal(r.err, "");
	cli_result_free(&r);

	fake_server_error(&f->server, 403, "not authorized");
	r = RUN("--address", f->address, "info");
	assert_int_equal(r.rc, 1);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "therm: not authorized\n");
	cli_result_free(&r);
}

static void test_default_socket_from_env(void **state)
{
	struct fixture *f = *state;
	struct cli_result r;

	setenv("THERMIONIC_DIR", f->server.dir, 1);
	fake_server_sync(&f->server, "{}", NULL);
	r = RUN("config", "show");
	unsetenv("THERMIONIC_DIR");
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "KEY  VALUE\n");
	cli_result_free(&r);
	assert_int_equal(fake_server_n_requests(&f->server), 1);
}

static void test_daemon_commands(void **state)
{
	struct fixture *f = *state;
	struct fake_reply bye = {
	    .status = 200,
	    .body = "{\"type\":\"sync\",\"metadata\":{}}",
	    .close = true,
	};
	struct cli_result r;

	fake_server_error(&f->server, 503, "daemon not ready");
	fake_server_sync(&f->server, "{\"ready\":true}", NULL);
	r = RUN("--address", f->address, "daemon", "waitready", "--timeout",
		"10");
	assert_int_equal(r.rc, 0);
	cli_result_free(&r);
	assert_int_equal(fake_server_n_requests(&f->server), 2);

	r = RUN("--address", "unix:/nonexistent/sock", "daemon", "waitready",
		"--timeout", "0.3");
	assert_int_equal(r.rc, 1);
	assert_contains(r.err, "not ready after 300 ms");
	cli_result_free(&r);

	/* Shutdown answers, then the daemon keeps answering: time-out. */
	fake_server_script(&f->server, &bye, 1);
	for (int i = 0; i < 6; i++) {
		fake_server_sync(&f->server, "{}", NULL);
	}
	r = RUN("--address", f->address, "daemon", "shutdown", "--timeout",
		"0.2");
	assert_int_equal(r.rc, 1);
	assert_contains(r.err, "still answering");
	cli_result_free(&r);
	assert_request(&f->server, 2, "PUT /1.0/shutdown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_no_arguments),
	    cmocka_unit_test(test_help_exits_zero),
	    cmocka_unit_test(test_help_tells_formats),
	    cmocka_unit_test(test_group_without_subcommand),
	    cmocka_unit_test(test_usage_errors),
	    cmocka_unit_test(test_version_flag),
	    cmocka_unit_test(test_parse_details),
	    cmocka_unit_test(test_seconds),
	    cmocka_unit_test_setup_teardown(test_config_show, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config_get, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config_set_uses_if_match,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_config_set_conflict_and_bad_key, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config_unset, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config_show_all, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_config_set_says_scope, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_trust_list_formats, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_trust_add_and_remove, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_info_and_version, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_default_socket_from_env, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_daemon_commands, setup,
					    teardown),
	};
	return cmocka_run_group_tests_name("client-cli", tests, NULL, NULL);
}

/* therm sql, backup and restore against a scripted daemon: output, exit
 * codes, stdin, flags, and the shell driven by a scripted line source
 * (no terminal involved). */
#include <stdint.h>

#include "cmd/therm/sql.h"
#include "test/unit/client/cli_run.h"
#include "test/unit/client/fake_server.h"
#include "test/unit/client/sql_fixture.h"

#define RUN(...) cli_run(__VA_ARGS__, (const char *)NULL)
#define RUN_INPUT(input, ...)                                                  \
	cli_run_input(input, __VA_ARGS__, (const char *)NULL)

struct fixture {
	struct fake_server server;
	char address[160];
	char dir[64];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	fake_server_start_unix(&f->server);
	snprintf(f->address, sizeof f->address, "unix:%s",
		 f->server.socket_path);
	scratch_make(f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	fake_server_stop(&f->server);
	scratch_remove(f->dir);
	free(f);
	return 0;
}

static void assert_body(struct fake_server *s, size_t i, const char *body)
{
	char *got = fake_server_request_body(s, i);
	assert_non_null(got);
	assert_string_equal(got, body);
	free(got);
}

static void test_sql_prints_each_result(void **state)
{
	struct fixture *f = *state;
	struct cli_result r;

	fake_server_sync(
	    &f->server,
	    "{\"results\":[{\"rows_affected\":0,\"last_insert_id\":"
	    "0},{\"rows_affected\":1,\"last_insert_id\":1},"
	    "{\"columns\":[\"a\",\"b\"],\"types\":[null,null],"
	    "\"rows\":[[1,\"x;y\"],[null,{\"base64\":\"AP8=\"}]]}]}",
	    NULL);
	r = RUN("--address", f->address, "sql",
		"CREATE TABLE t(a); INSERT INTO t VALUES(1);\n"
		"SELECT a, 'x;y' AS b FROM t;");
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out,
			    "=> statement 1: CREATE TABLE t(a)\n"
			    "Rows affected: 0\n"
			    "\n"
			    "=> statement 2: INSERT INTO t VALUES(1)\n"
			    "Rows affected: 1\n"
			    "Last insert id: 1\n"
			    "\n"
			    "=> statement 3: SELECT a, 'x;y' AS b FROM t\n"
			    "a     b\n"
			    "1     x;y\n"
			    "NULL  x'00ff'\n");
	assert_string_equal(r.err, "");
	cli_result_free(&r);
	assert_body(&f->server, 0,
		    "{\"target\":\"global\",\"transaction\":false,"
		    "\"consistency\":\"none\",\"statements\":["
		    "{\"sql\":\"CREATE TABLE t(a)\"},"
		    "{\"sql\":\"INSERT INTO t VALUES(1)\"},"
		    "{\"sql\":\"SELECT a, 'x;y' AS b FROM t\"}]}");
}

static void test_sql_statement_error_exits_1(void **state)
{
	struct fixture *f = *state;
	struct cli_result r;

	fake_server_sync(
	    &f->server,
	    "{\"results\":[{\"rows_affected\":1,\"last_insert_id\":"
	    "5},{\"error\":\"UNIQUE constraint failed: t.a\"},"
	    "{\"columns\":[\"n\"],\"types\":[null],\"rows\":[[2]]}]}",
	    NULL);
	r = RUN("--address", f->address, "sql",
		"INSERT INTO t VALUES(5); INSERT INTO t VALUES(5); "
		"SELECT count(*) AS n FROM t");
	assert_int_equal(r.rc, 1);
	assert_string_equal(r.out,
			    "=> statement 1: INSERT INTO t VALUES(5)\n"
			    "Rows affected: 1\n"
			    "Last insert id: 5\n"
			    "\n"
			    "=> statement 3: SELECT count(*) AS n FROM t\n"
			    "n\n"
			    "2\n");
	/* Only the statement's error: nothing added by therm_run. */
	assert_string_equal(r.err,
			    "therm: statement 2: UNIQUE constraint failed: "
			    "t.a\n");
	cli_result_free(&r);
}

static void test_sql_request_error(void **state)
{
	struct fixture *f = *state;
	struct cli_result r;

	fake_server_error(&f->server, 409,
			  "statement 2: UNIQUE constraint failed: t.a "
			  "(transaction rolled back, nothing applied)");
	r = RUN("--address", f->address, "sql", "--transaction",
		"INSERT INTO t VALUES(5); INSERT INTO t VALUES(5)");
	assert_int_equal(r.rc, 1);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err,
			    "therm: statement 2: UNIQUE constraint failed: "
			    "t.a (transaction rolled back, nothing "
			    "applied)\n");
	cli_result_free(&r);
	assert_body(&f->server, 0,
		    "{\"target\":\"global\",\"transaction\":true,"
		    "\"consistency\":\"none\",\"statements\":["
		    "{\"sql\":\"INSERT INTO t VALUES(5)\"},"
		    "{\"sql\":\"INSERT INTO t VALUES(5)\"}]}");
}

static void test_sql_json_is_exact(void **state)
{
	struct fixture *f = *state;
	struct cli_result r;

	fake_server_sync(&f->server,
			 "{\"results\":[{\"columns\":[\"big\",\"r\"],"
			 "\"types\":[null,null],"
			 "\"rows\":[[-9223372036854775808,0.1]]}]}",
			 NULL);
	r = RUN("--address", f->address, "--format", "json", "sql",
		"SELECT -9223372036854775808 AS big, 0.1 AS r");
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "[\n"
				   "  {\n"
				   "    \"columns\": [\n"
				   "      \"big\",\n"
				   "      \"r\"\n"
				   "    ],\n"
				   "    \"types\": [\n"
				   "      null,\n"
				   "      null\n"
				   "    ],\n"
				   "    \"rows\": [\n"
				   "      [\n"
				   "        -9223372036854775808,\n"
				   "        0.1\n"
				   "      ]\n"
				   "    ]\n"
				   "  }\n"
				   "]\n");
	cli_result_free(&r);
}

static void test_sql_from_stdin(void **state)
{
	struct fixture *f = *state;
	static const char *two =
	    "{\"results\":[{\"rows_affected\":0,\"last_insert_id\":0},"
	    "{\"rows_affected\":0,\"last_insert_id\":0}]}";
	static const char *body =
	    "{\"target\":\"local\",\"transaction\":false,\"consistency\":"
	    "\"none\",\"statements\":[{\"sql\":\"SELECT 1\"},{\"sql\":"
	    "\"CREATE TRIGGER tr AFTER INSERT ON t BEGIN\\n  SELECT 1;\\n"
	    "END\"}]}";
	const char *input =
	    "SELECT 1;\nCREATE TRIGGER tr AFTER INSERT ON t BEGIN\n"
	    "  SELECT 1;\nEND;\n-- the end\n";
	struct cli_result r;

	fake_server_sync(&f->server, two, NULL);
	r = RUN_INPUT(input, "--address", f->address, "sql", "--local", "-");
	assert_int_equal(r.rc, 0);
	assert_contains(r.out, "=> statement 2: CREATE TRIGGER tr");
	cli_result_free(&r);
	assert_body(&f->server, 0, body);

	/* No argument and stdin not a terminal: the same. */
	fake_server_sync(&f->server, two, NULL);
	r = RUN_INPUT(input, "--address", f->address, "sql", "--local");
	assert_int_equal(r.rc, 0);
	cli_result_free(&r);
	assert_body(&f->server, 1, body);

	/* Nothing to run, on stdin or as the argument: a usage error, as the
	 * API refuses an empty request; nothing is sent. */
	static const char *const empty[] = {"", " ;\n-- nothing\n", "  ;  "};
	for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++) {
		r = RUN_INPUT(empty[i], "--address", f->address, "sql");
		assert_int_equal(r.rc, 2);
		assert_string_equal(r.out, "");
		assert_contains(r.err, "therm: no SQL statement to run: the "
				       "SQL given holds only whitespace, "
				       "comments or ';'\n");
		cli_result_free(&r);
		r = RUN("--address", f->address, "sql", empty[i]);
		assert_int_equal(r.rc, 2);
		assert_contains(r.err, "no SQL statement to run");
		cli_result_free(&r);
	}
	assert_int_equal(fake_server_n_requests(&f->server), 2);
}

static void test_sql_flags_and_usage(void **state)
{
	struct fixture *f = *state;
	struct cli_result r;

	fake_server_sync(&f->server,
			 "{\"results\":[{\"columns\":[\"x\"],\"types\":[null],"
			 "\"rows\":[]}]}",
			 NULL);
	r = RUN("--address", f->address, "sql", "--linearizable",
		"SELECT x FROM t");
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.out, "x\n");
	cli_result_free(&r);
	assert_body(&f->server, 0,
		    "{\"target\":\"global\",\"transaction\":false,"
		    "\"consistency\":\"linearizable\",\"statements\":[{\"sql\":"
		    "\"SELECT x FROM t\"}]}");

	r = RUN("--address", f->address, "sql", "--local", "--linearizable",
		"SELECT 1");
	assert_int_equal(r.rc, 2);
	assert_contains(r.err, "--linearizable applies to the global database");
	cli_result_free(&r);

	r = RUN("--address", f->address, "sql", "SELECT 1", "SELECT 2");
	assert_int_equal(r.rc, 2);
	assert_contains(r.err, "wrong number of arguments");
	cli_result_free(&r);
	assert_int_equal(fake_server_n_requests(&f->server), 1);

	r = RUN("sql", "--help");
	assert_int_equal(r.rc, 0);
	assert_contains(r.out, "Usage: therm sql [options] [SQL | -]");
	assert_contains(r.out, "--transaction");
	assert_contains(r.out, "--linearizable");
	assert_contains(r.out, ".schema [TABLE]");
	assert_contains(r.out, ".dump");
	assert_contains(r.out, "thermionic/sql_history");
	cli_result_free(&r);
}

/*
 * The shell, on a scripted line source
 */

struct script {
	struct therm_line_source base;
	const char *const *lines; /* NULL-terminated */
	size_t next;
	char prompts[64]; /* 'P' main prompt, 'M' continuation */
	char remembered[1024];
};

static char *script_read(struct therm_line_source *src, const char *prompt)
{
	struct script *s = (struct script *)src;
	strcat(s->prompts, strcmp(prompt, THERM_SQL_PROMPT) == 0 ? "P" : "M");
	if (s->lines[s->next] == NULL) {
		return NULL;
	}
	return strdup(s->lines[s->next++]);
}

static void script_remember(struct therm_line_source *src, const char *entry)
{
	struct script *s = (struct script *)src;
	strcat(s->remembered, entry);
	strcat(s->remembered, "|");
}

struct shell_run {
	char *out;
	char *err;
	struct script script;
};

static struct shell_run shell(struct fixture *f, const char *const *lines)
{
	struct shell_run run;
	struct therm_ctx ctx;
	struct therm_sql_session s;
	size_t len;
	FILE *out = open_memstream(&run.out, &len);
	FILE *err = open_memstream(&run.err, &len);

	memset(&run.script, 0, sizeof run.script);
	run.script.base.read = script_read;
	run.script.base.remember = script_remember;
	run.script.lines = lines;
	memset(&ctx, 0, sizeof ctx);
	ctx.in = stdin;
	ctx.out = out;
	ctx.err = err;
	ctx.address = f->address;
	ctx.format = THERM_FORMAT_TABLE;
	s = (struct therm_sql_session){.ctx = &ctx,
				       .target = THERMIONIC_SQL_GLOBAL,
				       .format = THERM_FORMAT_TABLE};
	assert_int_equal(therm_sql_shell(&s, &run.script.base), 0);
	thermionic_close(ctx.client);
	fclose(out);
	fclose(err);
	return run;
}

static void test_shell_session(void **state)
{
	struct fixture *f = *state;
	static const char *const lines[] = {
	    "SELECT",	 "  1 AS one;",
	    ".mode csv", "SELECT 2 AS two; SELECT 'x' AS s;",
	    ".local",	 ".tables",
	    ".bogus",	 "SELECT nope;",
	    ".global",	 ".schema k%",
	    "SELECT 3",	 NULL,
	};
	struct shell_run run;

	fake_server_sync(
	    &f->server,
	    "{\"results\":[{\"columns\":[\"one\"],\"types\":[null],"
	    "\"rows\":[[1]]}]}",
	    NULL);
	fake_server_sync(
	    &f->server,
	    "{\"results\":[{\"columns\":[\"two\"],\"types\":[null],"
	    "\"rows\":[[2]]},{\"columns\":[\"s\"],\"types\":[null],"
	    "\"rows\":[[\"x\"]]}]}",
	    NULL);
	fake_server_sync(&f->server,
			 "{\"results\":[{\"columns\":[\"name\"],\"types\":"
			 "[null],\"rows\":[[\"a\"],[\"b\"]]}]}",
			 NULL);
	fake_server_sync(&f->server,
			 "{\"results\":[{\"error\":\"no such column: nope\"}]}",
			 NULL);
	fake_server_sync(&f->server,
			 "{\"results\":[{\"columns\":[\"sql\"],\"types\":"
			 "[null],\"rows\":[[\"CREATE TABLE kv(k)\"]]}]}",
			 NULL);
	fake_server_error(&f->server, 503, "no leader");

	run = shell(f, lines);
	assert_string_equal(run.out, "one\n1\n"
				     "two\n2\n\ns\nx\n"
				     "a\nb\n"
				     "CREATE TABLE kv(k);\n");
	assert_string_equal(run.err,
			    "therm: unknown command or wrong arguments: "
			    "\".bogus\" (enter .help for the list)\n"
			    "therm: statement 1: no such column: nope\n"
			    "therm: no leader\n");
	assert_string_equal(run.script.prompts, "PMPPPPPPPPPM");
	assert_string_equal(run.script.remembered,
			    "SELECT\n  1 AS one;|.mode csv|"
			    "SELECT 2 AS two; SELECT 'x' AS s;|.local|.tables|"
			    ".bogus|SELECT nope;|.global|.schema k%|SELECT 3|");
	assert_body(&f->server, 0,
		    "{\"target\":\"global\",\"transaction\":false,"
		    "\"consistency\":\"none\",\"statements\":[{\"sql\":"
		    "\"SELECT\\n  1 AS one\"}]}");
	assert_body(&f->server, 2,
		    "{\"target\":\"local\",\"transaction\":false,"
		    "\"consistency\":\"none\",\"statements\":[{\"sql\":"
		    "\"SELECT name FROM sqlite_schema WHERE type IN ('table', "
		    "'view') AND name NOT LIKE 'sqlite\\\\_%' ESCAPE '\\\\' "
		    "ORDER BY name\"}]}");
	assert_body(&f->server, 3,
		    "{\"target\":\"local\",\"transaction\":false,"
		    "\"consistency\":\"none\",\"statements\":[{\"sql\":"
		    "\"SELECT nope\"}]}");
	assert_body(&f->server, 4,
		    "{\"target\":\"global\",\"transaction\":false,"
		    "\"consistency\":\"none\",\"statements\":[{\"sql\":"
		    "\"SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL AND "
		    "tbl_name LIKE 'k%' ORDER BY rowid\"}]}");
	assert_body(&f->server, 5,
		    "{\"target\":\"global\",\"transaction\":false,"
		    "\"consistency\":\"none\",\"statements\":[{\"sql\":"
		    "\"SELECT 3\"}]}");
	free(run.out);
	free(run.err);
}

static void test_shell_help_and_quit(void **state)
{
	struct fixture *f = *state;
	static const char *const lines[] = {
	    ".help", ".mode", ".mode xml", ".quit", "SELECT never;", NULL};
	struct shell_run run = shell(f, lines);

	assert_contains(run.out, ".dump ");
	assert_contains(run.out, ".schema [TABLE]");
	assert_contains(run.out, "table\n"); /* .mode without argument */
	assert_string_equal(run.err, "therm: unknown mode \"xml\" (expected "
				     "table, csv, json or yaml)\n");
	assert_string_equal(run.script.prompts, "PPPP");
	assert_int_equal(fake_server_n_requests(&f->server), 0);
	free(run.out);
	free(run.err);
}

static void test_shell_dump(void **state)
{
	struct fixture *f = *state;
	static const char *const lines[] = {".dump", NULL};
	struct shell_run run;

	fake_server_sync(
	    &f->server,
	    "{\"results\":[{\"columns\":[\"type\",\"name\",\"sql\"],"
	    "\"types\":[null,null,null],\"rows\":["
	    "[\"table\",\"kv\",\"CREATE TABLE kv(k, v)\"],"
	    "[\"index\",\"kv_v\",\"CREATE INDEX kv_v ON kv(v)\"]]}"
	    "]}",
	    NULL);
	fake_server_sync(&f->server,
			 "{\"results\":[{\"columns\":[\"k\",\"v\"],\"types\":"
			 "[null,null],\"rows\":[[\"a\",9223372036854775807],"
			 "[\"b\",{\"base64\":\"AP8=\"}],[\"c\",1e-7]]}]}",
			 NULL);
	run = shell(f, lines);
	assert_string_equal(run.err, "");
	assert_string_equal(
	    run.out, "-- thermionic: dump of the global database\n"
		     "-- Load it with: therm sql --transaction - < FILE\n"
		     "CREATE TABLE kv(k, v);\n"
		     "INSERT INTO \"kv\" VALUES('a',9223372036854775807);\n"
		     "INSERT INTO \"kv\" VALUES('b',X'00ff');\n"
		     "INSERT INTO \"kv\" VALUES('c',1e-07);\n"
		     "CREATE INDEX kv_v ON kv(v);\n");
	assert_body(&f->server, 1,
		    "{\"target\":\"global\",\"transaction\":true,"
		    "\"consistency\":\"none\",\"statements\":[{\"sql\":"
		    "\"SELECT * FROM \\\"kv\\\"\"}]}");
	free(run.out);
	free(run.err);
}

static void test_history_path(void **state)
{
	char errmsg[256];
	char *path;
	(void)state;
	setenv("XDG_CONFIG_HOME", "/somewhere/config", 1);
	path = therm_sql_history_path(errmsg);
	assert_string_equal(path, "/somewhere/config/thermionic/sql_history");
	free(path);
	unsetenv("XDG_CONFIG_HOME");
	setenv("HOME", "/home/u", 1);
	path = therm_sql_history_path(errmsg);
	assert_string_equal(path, "/home/u/.config/thermionic/sql_history");
	free(path);
}

/*
 * backup and restore
 */

static void test_backup_and_restore_commands(void **state)
{
	struct fixture *f = *state;
	struct fake_reply reply = {.status = 200,
				   .content_type = "application/vnd.sqlite3"};
	char db[300];
	char text[300];
	char expect[512];
	struct cli_result r;
	char *data;
	size_t len;

	snprintf(db, sizeof db, "%s/backup.db", f->dir);
	snprintf(text, sizeof text, "%s/notes.txt", f->dir);
	sqlite_file_make(db);
	data = file_read(db, &len);
	unlink(db);
	reply.body = data;
	reply.body_len = len;
	fake_server_script(&f->server, &reply, 1);
	r = RUN("--address", f->address, "backup", db);
	assert_int_equal(r.rc, 0);
	snprintf(expect, sizeof expect,
		 "Backed up global database to %s (%zu bytes)\n", db, len);
	assert_string_equal(r.out, expect);
	cli_result_free(&r);

	r = RUN("--address", f->address, "backup", db);
	assert_int_equal(r.rc, 1);
	assert_contains(r.err, "backup.db exists; give --force to overwrite");
	cli_result_free(&r);
	fake_server_script(&f->server, &reply, 1);
	r = RUN("--address", f->address, "backup", "--force", db);
	assert_int_equal(r.rc, 0);
	cli_result_free(&r);

	file_write(text, "hello\n", 6);
	r = RUN("--address", f->address, "restore", text);
	assert_int_equal(r.rc, 1);
	assert_contains(r.err, "notes.txt is not a SQLite database");
	cli_result_free(&r);
	assert_int_equal(fake_server_n_requests(&f->server), 2);

	fake_server_sync(&f->server, "{}", NULL);
	r = RUN("--address", f->address, "restore", db);
	assert_int_equal(r.rc, 0);
	snprintf(expect, sizeof expect,
		 "Restored global database from %s (%zu bytes)\n", db, len);
	assert_string_equal(r.out, expect);
	cli_result_free(&r);
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_sql_prints_each_result, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_sql_statement_error_exits_1,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sql_request_error, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_sql_json_is_exact, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_sql_from_stdin, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_sql_flags_and_usage, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_shell_session, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_shell_help_and_quit, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_shell_dump, setup, teardown),
	    cmocka_unit_test(test_history_path),
	    cmocka_unit_test_setup_teardown(test_backup_and_restore_commands,
					    setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

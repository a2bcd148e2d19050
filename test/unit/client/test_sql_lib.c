/* libthermionic's SQL, backup and restore against a scripted server:
 * request encoding, exact decoding, error mapping, atomic backup files and
 * the local checks of restore. */
#include <math.h>
#include <stdint.h>

#include "pkg/thermionic.h"
#include "test/unit/client/fake_server.h"
#include "test/unit/client/sql_fixture.h"

struct fixture {
	struct fake_server server;
	struct thermionic_client *client;
	char dir[64];
	char path[256]; /* DIR/db.sqlite */
	/* Reply bodies, freed after the server has stopped: its thread may
	 * still be inside write() (where ASan checks the buffer) when the
	 * client already has every byte. */
	char *bodies[4];
	size_t n_bodies;
};

static char *keep_body(struct fixture *f, char *body)
{
	assert_true(f->n_bodies < 4);
	f->bodies[f->n_bodies++] = body;
	return body;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	fake_server_start_unix(&f->server);
	assert_int_equal(
	    thermionic_connect_unix(f->server.socket_path, &f->client),
	    THERMIONIC_OK);
	scratch_make(f->dir);
	snprintf(f->path, sizeof f->path, "%s/db.sqlite", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	thermionic_close(f->client);
	fake_server_stop(&f->server);
	for (size_t i = 0; i < f->n_bodies; i++) {
		free(f->bodies[i]);
	}
	scratch_remove(f->dir);
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

static void assert_header(struct fake_server *s, size_t i, const char *name,
			  const char *value)
{
	char *got = fake_server_request_header(s, i, name);
	assert_non_null(got);
	assert_string_equal(got, value);
	free(got);
}

static void assert_body(struct fake_server *s, size_t i, const char *body)
{
	char *got = fake_server_request_body(s, i);
	assert_non_null(got);
	assert_string_equal(got, body);
	free(got);
}

/* A sync answer for N statements that each changed nothing. */
static void reply_counts(struct fake_server *s, size_t n)
{
	char meta[1024] = "{\"results\":[";
	for (size_t i = 0; i < n; i++) {
		strcat(meta, i > 0 ? "," : "");
		strcat(meta, "{\"rows_affected\":0,\"last_insert_id\":0}");
	}
	strcat(meta, "]}");
	fake_server_sync(s, meta, NULL);
}

static void test_request_encoding(void **state)
{
	struct fixture *f = *state;
	static const unsigned char blob[] = {0x00, 0x01, 0x02, 0xff};
	const struct thermionic_value positional[] = {
	    thermionic_value_int(INT64_MIN),
	    thermionic_value_int(INT64_MAX),
	    thermionic_value_real(0.1),
	    thermionic_value_real(1.0),
	    thermionic_value_real(1e300),
	    thermionic_value_real(-2.5e-10),
	    thermionic_value_text("tab\t\"q\" \xc3\xa9"),
	    thermionic_value_null(),
	    thermionic_value_blob(blob, sizeof blob),
	};
	const struct thermionic_value named[] = {
	    thermionic_value_int(42),
	    thermionic_value_blob(NULL, 0),
	    thermionic_value_text(""),
	};
	const char *const names[] = {":k", "@b", "$t"};
	const struct thermionic_sql_statement stmts[] = {
	    {.sql = "INSERT INTO t VALUES (?,?,?,?,?,?,?,?,?)",
	     .params = positional,
	     .n_params = 9},
	    {.sql = "SELECT :k, @b, $t",
	     .params = named,
	     .names = names,
	     .n_params = 3},
	    {.sql = "SELECT 1"},
	};
	struct thermionic_sql_request req = {
	    .statements = stmts,
	    .n_statements = 3,
	    .transaction = true,
	    .consistency = THERMIONIC_SQL_LINEARIZABLE,
	};
	struct thermionic_sql_result *results;
	size_t n;

	reply_counts(&f->server, 3);
	assert_int_equal(thermionic_sql(f->client, &req, &results, &n),
			 THERMIONIC_OK);
	assert_int_equal(n, 3);
	thermionic_sql_results_free(results, n);
	assert_request(&f->server, 0, "POST /1.0/sql");
	assert_header(&f->server, 0, "Content-Type", "application/json");
	assert_body(
	    &f->server, 0,
	    "{\"target\":\"global\",\"transaction\":true,\"consistency\":"
	    "\"linearizable\",\"statements\":["
	    "{\"sql\":\"INSERT INTO t VALUES (?,?,?,?,?,?,?,?,?)\",\"params\":"
	    "[-9223372036854775808,9223372036854775807,0.1,1.0,1e+300,"
	    "-2.5e-10,\"tab\\t\\\"q\\\" \xc3\xa9\",null,"
	    "{\"base64\":\"AAEC/w==\"}]},"
	    "{\"sql\":\"SELECT :k, @b, $t\",\"params\":{\":k\":42,"
	    "\"@b\":{\"base64\":\"\"},\"$t\":\"\"}},"
	    "{\"sql\":\"SELECT 1\"}]}");

	/* A zeroed request is a plain global one. */
	req.n_statements = 1;
	req.statements = &stmts[2];
	req.transaction = false;
	req.consistency = THERMIONIC_SQL_CONSISTENCY_NONE;
	req.target = THERMIONIC_SQL_LOCAL;
	reply_counts(&f->server, 1);
	assert_int_equal(thermionic_sql(f->client, &req, &results, &n),
			 THERMIONIC_OK);
	thermionic_sql_results_free(results, n);
	assert_body(&f->server, 1,
		    "{\"target\":\"local\",\"transaction\":false,"
		    "\"consistency\":\"none\",\"statements\":[{\"sql\":"
		    "\"SELECT 1\"}]}");
}

static void test_response_decoding(void **state)
{
	struct fixture *f = *state;
	const struct thermionic_sql_statement stmts[] = {
	    {.sql = "INSERT"}, {.sql = "SELECT"}, {.sql = "SELECT nope"}};
	const struct thermionic_sql_request req = {.statements = stmts,
						   .n_statements = 3};
	const struct thermionic_value *v;
	struct thermionic_sql_result *results;
	size_t n;

	fake_server_sync(
	    &f->server,
	    "{\"results\":["
	    "{\"rows_affected\":3,\"last_insert_id\":9223372036854775807},"
	    "{\"columns\":[\"i\",\"r\",\"t\",\"b\",\"n\"],"
	    "\"types\":[\"INTEGER\",\"REAL\",null,\"BLOB\",null],"
	    "\"rows\":[[-9223372036854775808,1.0,\"x\\\"y\\u00e9\","
	    "{\"base64\":\"AP8=\"},null],"
	    "[9007199254740993,2.5e-10,\"\",{\"base64\":\"\"},1E2]]},"
	    "{\"error\":\"no such column: nope\"}]}",
	    NULL);
	assert_int_equal(thermionic_sql(f->client, &req, &results, &n),
			 THERMIONIC_OK);
	assert_int_equal(n, 3);

	assert_null(results[0].error);
	assert_int_equal(results[0].n_columns, 0);
	assert_int_equal(results[0].rows_affected, 3);
	assert_true(results[0].last_insert_id == INT64_MAX);

	assert_null(results[1].error);
	assert_int_equal(results[1].n_columns, 5);
	assert_int_equal(results[1].n_rows, 2);
	assert_string_equal(results[1].columns[2], "t");
	assert_string_equal(results[1].types[0], "INTEGER");
	assert_null(results[1].types[2]);
	v = thermionic_sql_cell(&results[1], 0, 0);
	assert_int_equal(v->type, THERMIONIC_INTEGER);
	assert_true(v->integer == INT64_MIN);
	v = thermionic_sql_cell(&results[1], 0, 1);
	/* 1.0 is a REAL, not the INTEGER 1. */
	assert_int_equal(v->type, THERMIONIC_REAL);
	assert_real(v->real, 1.0);
	v = thermionic_sql_cell(&results[1], 0, 2);
	assert_int_equal(v->type, THERMIONIC_TEXT);
	assert_string_equal(v->bytes, "x\"y\xc3\xa9");
	assert_int_equal(v->len, 5);
	v = thermionic_sql_cell(&results[1], 0, 3);
	assert_int_equal(v->type, THERMIONIC_BLOB);
	assert_int_equal(v->len, 2);
	assert_memory_equal(v->bytes, "\x00\xff", 2);
	assert_int_equal(thermionic_sql_cell(&results[1], 0, 4)->type,
			 THERMIONIC_NULL);
	v = thermionic_sql_cell(&results[1], 1, 0);
	/* 2^53 + 1: a double would round it to 2^53. */
	assert_int_equal(v->type, THERMIONIC_INTEGER);
	assert_true(v->integer == 9007199254740993LL);
	assert_real(thermionic_sql_cell(&results[1], 1, 1)->real, 2.5e-10);
	v = thermionic_sql_cell(&results[1], 1, 3);
	assert_int_equal(v->type, THERMIONIC_BLOB);
	assert_int_equal(v->len, 0);
	assert_non_null(v->bytes);
	v = thermionic_sql_cell(&results[1], 1, 4);
	assert_int_equal(v->type, THERMIONIC_REAL);
	assert_real(v->real, 100.0);

	assert_string_equal(results[2].error, "no such column: nope");
	thermionic_sql_results_free(results, n);
}

static void test_malformed_responses(void **state)
{
	struct fixture *f = *state;
	const struct thermionic_sql_statement stmt = {.sql = "SELECT 1"};
	const struct thermionic_sql_request req = {.statements = &stmt,
						   .n_statements = 1};
	static const struct {
		const char *metadata;
		const char *message;
	} cases[] = {
	    {"{}", "no \"results\" array"},
	    {"{\"results\":[]}", "0 results for 1 statements"},
	    {"{\"results\":[{\"columns\":[\"a\"],\"types\":[null],"
	     "\"rows\":[[1,2]]}]}",
	     "a row does not have one value per column"},
	    {"{\"results\":[{\"columns\":[\"a\"],\"types\":[null],"
	     "\"rows\":[[9223372036854775808]]}]}",
	     "integer out of the 64-bit range"},
	    {"{\"results\":[{\"columns\":[\"a\"],\"types\":[null],"
	     "\"rows\":[[{\"base64\":\"AP8\"}]]}]}",
	     "invalid base64"},
	    {"{\"results\":[{\"columns\":[\"a\"],\"types\":[null],"
	     "\"rows\":[[true]]}]}",
	     "neither null, a number, a string nor a BLOB"},
	    {"{\"results\":[{\"columns\":[\"a\"],\"types\":[],\"rows\":[]}]}",
	     "\"types\" does not match"},
	    {"{\"results\":[{\"rows_affected\":1.5}]}",
	     "integer \"rows_affected\""},
	    {"{\"results\":[7]}", "not an object"},
	};
	struct thermionic_sql_result *results;
	size_t n;

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		fake_server_sync(&f->server, cases[i].metadata, NULL);
		assert_int_equal(thermionic_sql(f->client, &req, &results, &n),
				 THERMIONIC_ERR_PROTO);
		assert_null(results);
		assert_int_equal(n, 0);
		assert_contains(thermionic_errmsg(f->client), cases[i].message);
	}
}

static void test_request_refused_as_a_whole(void **state)
{
	struct fixture *f = *state;
	const struct thermionic_sql_statement stmts[] = {{.sql = "INSERT 1"},
							 {.sql = "INSERT 2"}};
	const struct thermionic_sql_request req = {
	    .statements = stmts, .n_statements = 2, .transaction = true};
	struct thermionic_sql_result *results;
	size_t n;

	fake_server_error(&f->server, 409,
			  "statement 2: UNIQUE constraint failed: t.k "
			  "(transaction rolled back, nothing applied)");
	assert_int_equal(thermionic_sql(f->client, &req, &results, &n),
			 THERMIONIC_ERR_HTTP);
	assert_null(results);
	assert_int_equal(n, 0);
	assert_int_equal(thermionic_status(f->client), 409);
	assert_string_equal(thermionic_errmsg(f->client),
			    "statement 2: UNIQUE constraint failed: t.k "
			    "(transaction rolled back, nothing applied)");
}

static void expect_invalid(struct fixture *f,
			   const struct thermionic_sql_request *req,
			   const char *message)
{
	struct thermionic_sql_result *results = (void *)1;
	size_t n = 7;
	assert_int_equal(thermionic_sql(f->client, req, &results, &n),
			 THERMIONIC_ERR_INVALID);
	assert_null(results);
	assert_int_equal(n, 0);
	assert_contains(thermionic_errmsg(f->client), message);
}

static void test_invalid_requests_send_nothing(void **state)
{
	struct fixture *f = *state;
	const struct thermionic_value bad_real[] = {
	    thermionic_value_int(1), thermionic_value_real(INFINITY)};
	const struct thermionic_value nul_text[] = {
	    {.type = THERMIONIC_TEXT, .bytes = "a\0b", .len = 3}};
	const struct thermionic_value two[] = {thermionic_value_int(1),
					       thermionic_value_int(2)};
	const char *const no_prefix[] = {"k", ":j"};
	const char *const twice[] = {":k", ":k"};
	struct thermionic_sql_statement st = {
	    .sql = "SELECT ?, ?", .params = bad_real, .n_params = 2};
	struct thermionic_sql_request req = {.statements = &st,
					     .n_statements = 1};

	expect_invalid(f, &req,
		       "statement 1: parameter 2: a REAL must be "
		       "finite");
	st.params = nul_text;
	st.n_params = 1;
	expect_invalid(f, &req, "parameter 1: TEXT holds a NUL byte");
	st.params = two;
	st.n_params = 2;
	st.names = no_prefix;
	expect_invalid(f, &req, "parameter \"k\": a name starts with");
	st.names = twice;
	expect_invalid(f, &req, "parameter \":k\": named twice");
	st.names = NULL;
	st.sql = NULL;
	expect_invalid(f, &req, "statement 1: no SQL");
	st.sql = "SELECT 1";
	req.target = THERMIONIC_SQL_LOCAL;
	req.consistency = THERMIONIC_SQL_LINEARIZABLE;
	expect_invalid(f, &req, "global database only");
	req.consistency = THERMIONIC_SQL_CONSISTENCY_NONE;
	req.n_statements = 0;
	expect_invalid(f, &req, "at least one statement");
	assert_int_equal(fake_server_n_requests(&f->server), 0);
}

static void test_metadata_numbers_keep_their_literal(void **state)
{
	struct fixture *f = *state;
	struct thermionic_response resp;
	const cJSON *item;

	fake_server_sync(&f->server,
			 "{\"big\":9007199254740993,\"list\":[\"1\",-0.5e3]}",
			 NULL);
	assert_int_equal(
	    thermionic_request(f->client, "GET", "/1.0", NULL, NULL, &resp),
	    THERMIONIC_OK);
	item = cJSON_GetObjectItem(resp.metadata, "big");
	assert_string_equal(item->valuestring, "9007199254740993");
	item =
	    cJSON_GetArrayItem(cJSON_GetObjectItem(resp.metadata, "list"), 1);
	assert_string_equal(item->valuestring, "-0.5e3");
	assert_real(item->valuedouble, -500.0);
	thermionic_response_clear(&resp);
}

/*
 * Backup
 */

/* Script one backup answer with the bytes of a real database; its bytes
 * are returned (owned). */
static char *reply_database(struct fixture *f, const char *src, size_t *len,
			    bool cut)
{
	char *data;
	struct fake_reply r = {.status = 200,
			       .content_type = "application/vnd.sqlite3"};
	sqlite_file_make(src);
	data = keep_body(f, file_read(src, len));
	unlink(src);
	r.body = data;
	r.body_len = *len;
	if (cut) {
		/* Announce the whole file, send a third of it, close. */
		r.fake_length = *len;
		r.body_len = *len / 3;
	}
	fake_server_script(&f->server, &r, 1);
	return data;
}

static void test_backup_writes_the_file(void **state)
{
	struct fixture *f = *state;
	char src[300];
	char *data;
	char *got;
	size_t len;
	size_t got_len;
	uint64_t bytes = 0;
	struct stat st;

	snprintf(src, sizeof src, "%s/source.db", f->dir);
	data = reply_database(f, src, &len, false);
	assert_int_equal(thermionic_backup(f->client, f->path, false, &bytes),
			 THERMIONIC_OK);
	assert_int_equal(bytes, len);
	got = file_read(f->path, &got_len);
	assert_int_equal(got_len, len);
	assert_memory_equal(got, data, len);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* Only the backup itself: no temporary file left. */
	assert_int_equal(scratch_count(f->dir), 1);
	assert_request(&f->server, 0, "GET /1.0/sql/backup");
	assert_header(&f->server, 0, "Accept",
		      "application/vnd.sqlite3, application/json");
	free(got);
}

static void test_backup_keeps_an_existing_file(void **state)
{
	struct fixture *f = *state;
	char src[300];
	char *data;
	char *got;
	size_t len;
	size_t got_len;

	file_write(f->path, "precious", 8);
	assert_int_equal(thermionic_backup(f->client, f->path, false, NULL),
			 THERMIONIC_ERR_EXISTS);
	assert_contains(thermionic_errmsg(f->client), "db.sqlite exists");
	assert_int_equal(fake_server_n_requests(&f->server), 0);
	got = file_read(f->path, &got_len);
	assert_memory_equal(got, "precious", 8);
	free(got);

	snprintf(src, sizeof src, "%s/source.db", f->dir);
	data = reply_database(f, src, &len, false);
	assert_int_equal(thermionic_backup(f->client, f->path, true, NULL),
			 THERMIONIC_OK);
	got = file_read(f->path, &got_len);
	assert_int_equal(got_len, len);
	assert_memory_equal(got, data, len);
	assert_int_equal(scratch_count(f->dir), 1);
	free(got);
}

static void test_backup_cut_mid_body_leaves_no_file(void **state)
{
	struct fixture *f = *state;
	char src[300];
	size_t len;

	snprintf(src, sizeof src, "%s/source.db", f->dir);
	reply_database(f, src, &len, true);
	assert_int_equal(thermionic_backup(f->client, f->path, false, NULL),
			 THERMIONIC_ERR_CONNECT);
	assert_int_equal(access(f->path, F_OK), -1);
	assert_int_equal(scratch_count(f->dir), 0);
}

static void test_backup_refused_or_not_a_database(void **state)
{
	struct fixture *f = *state;
	struct fake_reply text = {.status = 200,
				  .body = "SQLite format 2 is not it, and this "
					  "is long enough to be checked "
					  "against the header, surely, yes, "
					  "long enough.",
				  .content_type = "application/octet-stream"};

	fake_server_error(&f->server, 503, "no leader");
	assert_int_equal(thermionic_backup(f->client, f->path, false, NULL),
			 THERMIONIC_ERR_HTTP);
	assert_string_equal(thermionic_errmsg(f->client), "no leader");
	assert_int_equal(thermionic_status(f->client), 503);

	fake_server_script(&f->server, &text, 1);
	assert_int_equal(thermionic_backup(f->client, f->path, false, NULL),
			 THERMIONIC_ERR_PROTO);
	assert_contains(thermionic_errmsg(f->client),
			"is not a SQLite database");

	fake_server_sync(&f->server, "{}", NULL);
	assert_int_equal(thermionic_backup(f->client, f->path, false, NULL),
			 THERMIONIC_ERR_PROTO);
	assert_contains(thermionic_errmsg(f->client), "a JSON answer");
	assert_int_equal(scratch_count(f->dir), 0);
}

/* A daemon that ends a chunked body early after a read error sends a
 * complete HTTP answer with a short file: whole pages, but fewer than its
 * header counts. */
static void test_backup_short_database_refused(void **state)
{
	struct fixture *f = *state;
	struct fake_reply r = {.status = 200,
			       .content_type = "application/vnd.sqlite3"};
	char *data;
	size_t len;

	sqlite_file_make(f->path);
	data = keep_body(f, file_read(f->path, &len));
	unlink(f->path);
	assert_true(len >= 2 * 4096);
	r.body = data;
	r.body_len = 4096;
	fake_server_script(&f->server, &r, 1);
	assert_int_equal(thermionic_backup(f->client, f->path, false, NULL),
			 THERMIONIC_ERR_PROTO);
	assert_contains(thermionic_errmsg(f->client),
			"does not match the page count");
	assert_int_equal(scratch_count(f->dir), 0);
}

static void test_backup_to_fd(void **state)
{
	struct fixture *f = *state;
	char src[300];
	char *data;
	char *got;
	size_t len;
	size_t got_len;
	uint64_t bytes;
	FILE *out;

	snprintf(src, sizeof src, "%s/source.db", f->dir);
	data = reply_database(f, src, &len, false);
	out = fopen(f->path, "wb");
	assert_int_equal(thermionic_backup_fd(f->client, fileno(out), &bytes),
			 THERMIONIC_OK);
	fclose(out);
	assert_int_equal(bytes, len);
	got = file_read(f->path, &got_len);
	assert_int_equal(got_len, len);
	assert_memory_equal(got, data, len);
	free(got);
}

/*
 * Restore
 */

static void test_restore_sends_the_file(void **state)
{
	struct fixture *f = *state;
	uint64_t bytes = 0;
	char *data;
	char *sent;
	size_t len;
	size_t sent_len;

	sqlite_file_make(f->path);
	data = file_read(f->path, &len);
	fake_server_sync(&f->server, "{}", NULL);
	assert_int_equal(thermionic_restore(f->client, f->path, &bytes),
			 THERMIONIC_OK);
	assert_int_equal(bytes, len);
	assert_request(&f->server, 0, "POST /1.0/sql/restore");
	assert_header(&f->server, 0, "Content-Type", "application/vnd.sqlite3");
	sent = fake_server_request_bytes(&f->server, 0, &sent_len);
	assert_int_equal(sent_len, len);
	assert_memory_equal(sent, data, len);
	free(sent);

	fake_server_error(&f->server, 400, "not a thermionic database");
	assert_int_equal(thermionic_restore(f->client, f->path, &bytes),
			 THERMIONIC_ERR_HTTP);
	assert_string_equal(thermionic_errmsg(f->client),
			    "not a thermionic database");
	assert_int_equal(bytes, 0);
	free(data);
}

static void test_restore_checks_the_file_first(void **state)
{
	struct fixture *f = *state;
	char other[300];
	char *data;
	size_t len;
	sqlite3 *db;

	file_write(f->path, "CREATE TABLE t(a);\n", 19);
	assert_int_equal(thermionic_restore(f->client, f->path, NULL),
			 THERMIONIC_ERR_INVALID);
	assert_contains(thermionic_errmsg(f->client),
			"db.sqlite is not a SQLite database");

	assert_int_equal(thermionic_restore(f->client, f->dir, NULL),
			 THERMIONIC_ERR_INVALID);
	assert_contains(thermionic_errmsg(f->client), "not a regular file");

	snprintf(other, sizeof other, "%s/missing", f->dir);
	assert_int_equal(thermionic_restore(f->client, other, NULL),
			 THERMIONIC_ERR_IO);
	assert_contains(thermionic_errmsg(f->client), "No such file");

	/* A real database cut short. */
	unlink(f->path);
	sqlite_file_make(f->path);
	data = file_read(f->path, &len);
	file_write(f->path, data, len - 100);
	assert_int_equal(thermionic_restore(f->client, f->path, NULL),
			 THERMIONIC_ERR_INVALID);
	assert_contains(thermionic_errmsg(f->client),
			"not a multiple of its page size");
	file_write(f->path, data, len - 4096);
	assert_int_equal(thermionic_restore(f->client, f->path, NULL),
			 THERMIONIC_ERR_INVALID);
	assert_contains(thermionic_errmsg(f->client),
			"does not match the page count");
	free(data);

	/* A WAL database whose last changes are still in its -wal. */
	unlink(f->path);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	sql_exec_or_fail(db, "PRAGMA journal_mode=WAL;"
			     "CREATE TABLE t(a); INSERT INTO t VALUES(1);");
	assert_int_equal(thermionic_restore(f->client, f->path, NULL),
			 THERMIONIC_ERR_INVALID);
	assert_contains(thermionic_errmsg(f->client), "-wal holds changes");
	sqlite3_close(db); /* checkpoints and removes the -wal */
	fake_server_sync(&f->server, "{}", NULL);
	assert_int_equal(thermionic_restore(f->client, f->path, NULL),
			 THERMIONIC_OK);

	assert_int_equal(fake_server_n_requests(&f->server), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_request_encoding, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_response_decoding, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_malformed_responses, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_request_refused_as_a_whole,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_invalid_requests_send_nothing,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_metadata_numbers_keep_their_literal, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_backup_writes_the_file, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_backup_keeps_an_existing_file,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_backup_cut_mid_body_leaves_no_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_backup_refused_or_not_a_database, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_backup_short_database_refused,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_backup_to_fd, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_restore_sends_the_file, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_restore_checks_the_file_first,
					    setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

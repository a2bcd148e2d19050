/* therm sql as pure functions: statement splitting, the shell's line
 * assembly, SQL literals and .dump (checked by loading the text back into
 * a real SQLite), and the rendering of results. */
#include <float.h>
#include <math.h>
#include <stdint.h>

#include "cmd/therm/sql.h"
#include "internal/lib/mem.h"
#include "test/unit/client/sql_fixture.h"

/*
 * Splitting
 */

static void assert_split(const char *text, size_t n, const char *const *want)
{
	char **stmts;
	size_t got;
	therm_sql_split(text, &stmts, &got);
	if (got != n) {
		fail_msg("split of \"%s\": %zu statements, want %zu", text, got,
			 n);
	}
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(stmts[i], want[i]);
	}
	therm_sql_split_free(stmts, got);
}

static void test_split_plain(void **state)
{
	(void)state;
	assert_split("SELECT 1; SELECT 2", 2,
		     (const char *const[]){"SELECT 1", "SELECT 2"});
	assert_split("  SELECT 1 ;\n\n", 1, (const char *const[]){"SELECT 1"});
	assert_split("", 0, NULL);
	assert_split(" ;; \n ; -- only a comment\n/* and; another */", 0, NULL);
}

static void test_split_strings_and_names(void **state)
{
	(void)state;
	assert_split("INSERT INTO t VALUES('a;b', 'it''s;'); "
		     "SELECT \"x;y\", [z;w], `q;` FROM t;",
		     2,
		     (const char *const[]){
			 "INSERT INTO t VALUES('a;b', 'it''s;')",
			 "SELECT \"x;y\", [z;w], `q;` FROM t",
		     });
	/* An open string keeps its ';': SQLite reports the error. */
	assert_split("SELECT 1; SELECT 'open;", 2,
		     (const char *const[]){"SELECT 1", "SELECT 'open;"});
}

static void test_split_comments(void **state)
{
	(void)state;
	assert_split("-- first; still a comment\nSELECT 1; /* c; */ SELECT 2;"
		     "\n-- trailing; comment",
		     2,
		     (const char *const[]){
			 "-- first; still a comment\nSELECT 1",
			 "/* c; */ SELECT 2",
		     });
	assert_split("SELECT 1 -- no end\n;", 1,
		     (const char *const[]){"SELECT 1 -- no end"});
}

static void test_split_triggers(void **state)
{
	(void)state;
	assert_split(
	    "CREATE TABLE t(a); CREATE TRIGGER tr AFTER INSERT ON t BEGIN "
	    "INSERT INTO u VALUES(new.a); UPDATE u SET b = ';'; END; "
	    "INSERT INTO t VALUES(1)",
	    3,
	    (const char *const[]){
		"CREATE TABLE t(a)",
		"CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO u "
		"VALUES(new.a); UPDATE u SET b = ';'; END",
		"INSERT INTO t VALUES(1)",
	    });
	/* A last trigger without its ';'. */
	assert_split("CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END",
		     1,
		     (const char *const[]){"CREATE TRIGGER tr AFTER INSERT ON "
					   "t BEGIN SELECT 1; END"});
}

static void test_summary(void **state)
{
	char *s;
	(void)state;
	s = therm_sql_summary("  -- why\n /* how */ INSERT   INTO t\n\tVALUES "
			      "(1)  ",
			      60);
	assert_string_equal(s, "INSERT INTO t VALUES (1)");
	tm_free(s);
	s = therm_sql_summary("SELECT 'abcdefghij'", 10);
	assert_string_equal(s, "SELECT 'ab...");
	tm_free(s);
	/* Cut before a 2-byte character rather than inside it. */
	s = therm_sql_summary("SELECT '\xc3\xa9\xc3\xa9'", 10);
	assert_string_equal(s, "SELECT '\xc3\xa9...");
	tm_free(s);
}

/*
 * Line assembly
 */

struct feed_case {
	const char *line;
	enum therm_sql_line kind;
	const char *out; /* for _SQL and _DOT */
};

static void feed_all(const struct feed_case *cases, size_t n)
{
	struct therm_sql_lines l;
	therm_sql_lines_init(&l);
	for (size_t i = 0; i < n; i++) {
		char *out = (char *)1;
		enum therm_sql_line kind =
		    therm_sql_lines_feed(&l, cases[i].line, &out);
		if (kind != cases[i].kind) {
			fail_msg("line %zu \"%s\": kind %d, want %d", i,
				 cases[i].line, kind, cases[i].kind);
		}
		if (cases[i].out == NULL) {
			assert_null(out);
		} else {
			assert_non_null(out);
			assert_string_equal(out, cases[i].out);
		}
		assert_int_equal(therm_sql_lines_pending(&l),
				 kind == THERM_SQL_LINE_MORE);
		tm_free(out);
	}
	therm_sql_lines_close(&l);
}

static void test_lines(void **state)
{
	static const struct feed_case cases[] = {
	    {"SELECT 1;", THERM_SQL_LINE_SQL, "SELECT 1;"},
	    {"SELECT", THERM_SQL_LINE_MORE, NULL},
	    {"  1;", THERM_SQL_LINE_SQL, "SELECT\n  1;"},
	    {".tables", THERM_SQL_LINE_DOT, ".tables"},
	    {"  .mode csv  ", THERM_SQL_LINE_DOT, ".mode csv"},
	    {"", THERM_SQL_LINE_EMPTY, NULL},
	    {"   ", THERM_SQL_LINE_EMPTY, NULL},
	    {"-- a comment; with a semicolon", THERM_SQL_LINE_EMPTY, NULL},
	    {"/* an open", THERM_SQL_LINE_MORE, NULL},
	    {"comment */", THERM_SQL_LINE_EMPTY, NULL},
	    {"SELECT 'a", THERM_SQL_LINE_MORE, NULL},
	    /* Inside pending text a leading '.' is just text. */
	    {".not a command;", THERM_SQL_LINE_MORE, NULL},
	    {"';", THERM_SQL_LINE_SQL, "SELECT 'a\n.not a command;\n';"},
	    {"CREATE TRIGGER tr AFTER INSERT ON t BEGIN", THERM_SQL_LINE_MORE,
	     NULL},
	    {"  INSERT INTO u VALUES(1);", THERM_SQL_LINE_MORE, NULL},
	    {"END;", THERM_SQL_LINE_SQL,
	     "CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n  INSERT INTO u "
	     "VALUES(1);\nEND;"},
	    {"SELECT 1; SELECT 2;", THERM_SQL_LINE_SQL, "SELECT 1; SELECT 2;"},
	    {"SELECT 1; -- done", THERM_SQL_LINE_SQL, "SELECT 1; -- done"},
	};
	(void)state;
	feed_all(cases, sizeof cases / sizeof *cases);
}

static void test_lines_pending_at_end(void **state)
{
	struct therm_sql_lines l;
	char *out;
	(void)state;
	therm_sql_lines_init(&l);
	assert_null(therm_sql_lines_take(&l));
	assert_int_equal(therm_sql_lines_feed(&l, "SELECT 1; SELECT 2", &out),
			 THERM_SQL_LINE_MORE);
	out = therm_sql_lines_take(&l);
	assert_string_equal(out, "SELECT 1; SELECT 2");
	assert_false(therm_sql_lines_pending(&l));
	tm_free(out);
	therm_sql_lines_close(&l);
}

/*
 * Literals and .dump
 */

static char *literal(struct thermionic_value v)
{
	return therm_sql_literal(&v);
}

static void assert_literal(struct thermionic_value v, const char *want)
{
	char *got = literal(v);
	assert_string_equal(got, want);
	tm_free(got);
}

static void test_literals(void **state)
{
	static const unsigned char blob[] = {0x00, 0xab, 0xff};
	char *s;
	(void)state;
	assert_literal(thermionic_value_null(), "NULL");
	assert_literal(thermionic_value_int(INT64_MIN), "-9223372036854775808");
	assert_literal(thermionic_value_int(INT64_MAX), "9223372036854775807");
	assert_literal(thermionic_value_real(0.1), "0.1");
	assert_literal(thermionic_value_real(1.0), "1.0");
	assert_literal(thermionic_value_real(1e16), "1e+16");
	assert_literal(thermionic_value_real(1.0 / 3.0), "0.3333333333333333");
	assert_literal(thermionic_value_real(INFINITY), "1e999");
	assert_literal(thermionic_value_real(-INFINITY), "-1e999");
	assert_literal(thermionic_value_real(NAN), "NULL");
	assert_literal(thermionic_value_text("it's \"x\"\nline"),
		       "'it''s \"x\"\nline'");
	assert_literal(thermionic_value_blob(blob, 3), "X'00abff'");
	assert_literal(thermionic_value_blob(NULL, 0), "X''");
	s = therm_sql_ident("we\"ird name");
	assert_string_equal(s, "\"we\"\"ird name\"");
	tm_free(s);
}

/* Each literal, read back by SQLite, is the very same value. */
static void test_literals_read_back_exactly(void **state)
{
	static const double reals[] = {
	    0.1,  1.0 / 3.0, 1e-300,  5e-324,  DBL_MAX, -DBL_MIN,
	    1e16, -0.0,	     2.5e-10, 123.456, 1e300,	9007199254740993.0,
	};
	static const int64_t ints[] = {INT64_MIN, INT64_MAX, 0, -1,
				       9007199254740993LL};
	static const unsigned char blob[] = {0x00, 0x27, 0xff, 0x0a};
	sqlite3 *db;
	sqlite3_stmt *st;
	(void)state;

	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	for (size_t i = 0; i < sizeof reals / sizeof *reals; i++) {
		char *lit = literal(thermionic_value_real(reals[i]));
		char *sql = tm_asprintf("SELECT %s", lit);
		assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
				 SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_int_equal(sqlite3_column_type(st, 0), SQLITE_FLOAT);
		if (memcmp(&(double){sqlite3_column_double(st, 0)}, &reals[i],
			   sizeof(double)) != 0) {
			fail_msg("%s read back as %.17g", lit,
				 sqlite3_column_double(st, 0));
		}
		sqlite3_finalize(st);
		tm_free(sql);
		tm_free(lit);
	}
	for (size_t i = 0; i < sizeof ints / sizeof *ints; i++) {
		char *lit = literal(thermionic_value_int(ints[i]));
		char *sql = tm_asprintf("SELECT %s", lit);
		assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
				 SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_int_equal(sqlite3_column_type(st, 0), SQLITE_INTEGER);
		assert_true(sqlite3_column_int64(st, 0) == ints[i]);
		sqlite3_finalize(st);
		tm_free(sql);
		tm_free(lit);
	}
	{
		char *lit = literal(thermionic_value_blob(blob, sizeof blob));
		char *sql = tm_asprintf("SELECT %s", lit);
		assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
				 SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_int_equal(sqlite3_column_type(st, 0), SQLITE_BLOB);
		assert_int_equal(sqlite3_column_bytes(st, 0), sizeof blob);
		assert_memory_equal(sqlite3_column_blob(st, 0), blob,
				    sizeof blob);
		sqlite3_finalize(st);
		tm_free(sql);
		tm_free(lit);
	}
	sqlite3_close(db);
}

/* Results built by hand, as the library would hand them out. */
static void result_rows(struct thermionic_sql_result *r, size_t n_cols,
			const char *const *cols, size_t n_rows,
			const struct thermionic_value *values)
{
	memset(r, 0, sizeof *r);
	r->n_columns = n_cols;
	r->columns = calloc(n_cols, sizeof *r->columns);
	r->types = calloc(n_cols, sizeof *r->types);
	for (size_t c = 0; c < n_cols; c++) {
		r->columns[c] = strdup(cols[c]);
	}
	r->n_rows = n_rows;
	r->values = calloc(n_rows * n_cols + 1, sizeof *r->values);
	for (size_t i = 0; i < n_rows * n_cols; i++) {
		r->values[i] = values[i];
		if (values[i].bytes != NULL) {
			char *copy = malloc(values[i].len + 1);
			memcpy(copy, values[i].bytes, values[i].len);
			copy[values[i].len] = '\0';
			r->values[i].bytes = copy;
		}
	}
}

#define T(s) thermionic_value_text(s)
#define I(i) thermionic_value_int(i)

static void test_dump(void **state)
{
	static const char *const schema_cols[] = {"type", "name", "sql"};
	static const unsigned char blob[] = {0x00, 0x27, 0xff};
	const struct thermionic_value schema_values[] = {
	    T("table"),
	    T("kv"),
	    T("CREATE TABLE kv(k TEXT PRIMARY KEY, v)"),
	    T("index"),
	    T("kv_v"),
	    T("CREATE INDEX kv_v ON kv(v)"),
	    T("table"),
	    T("odd \"name\""),
	    T("CREATE TABLE \"odd \"\"name\"\"\"(id INTEGER PRIMARY KEY)"),
	    T("trigger"),
	    T("kv_log"),
	    T("CREATE TRIGGER kv_log AFTER INSERT ON kv BEGIN "
	      "INSERT INTO \"odd \"\"name\"\"\" VALUES(NULL); END"),
	    T("view"),
	    T("kv_view"),
	    T("CREATE VIEW kv_view AS SELECT k FROM kv"),
	};
	const struct thermionic_value kv_values[] = {
	    T("it's"),
	    I(INT64_MIN),
	    T("real"),
	    thermionic_value_real(0.1),
	    T("blob"),
	    thermionic_value_blob(blob, sizeof blob),
	    T("null"),
	    thermionic_value_null(),
	    T("line\nbreak;--x"),
	    I(INT64_MAX),
	};
	const struct thermionic_value odd_values[] = {I(7)};
	struct thermionic_sql_result *schema = calloc(1, sizeof *schema);
	struct thermionic_sql_result *data = calloc(2, sizeof *data);
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	sqlite3 *db;
	sqlite3_stmt *st;
	(void)state;

	result_rows(schema, 3, schema_cols, 5, schema_values);
	result_rows(&data[0], 2, (const char *const[]){"k", "v"}, 5, kv_values);
	result_rows(&data[1], 1, (const char *const[]){"id"}, 1, odd_values);
	assert_true(therm_sql_dump_has_rows(schema, 0));
	assert_false(therm_sql_dump_has_rows(schema, 1));
	therm_sql_dump_write(out, "global", schema, data);
	fclose(out);
	assert_string_equal(
	    text, "-- thermionic: dump of the global database\n"
		  "-- Load it with: therm sql --transaction - < FILE\n"
		  "CREATE TABLE kv(k TEXT PRIMARY KEY, v);\n"
		  "INSERT INTO \"kv\" VALUES('it''s',-9223372036854775808);\n"
		  "INSERT INTO \"kv\" VALUES('real',0.1);\n"
		  "INSERT INTO \"kv\" VALUES('blob',X'0027ff');\n"
		  "INSERT INTO \"kv\" VALUES('null',NULL);\n"
		  "INSERT INTO \"kv\" VALUES('line\nbreak;--x',"
		  "9223372036854775807);\n"
		  "CREATE TABLE \"odd \"\"name\"\"\"(id INTEGER PRIMARY KEY);\n"
		  "INSERT INTO \"odd \"\"name\"\"\" VALUES(7);\n"
		  "CREATE INDEX kv_v ON kv(v);\n"
		  "CREATE TRIGGER kv_log AFTER INSERT ON kv BEGIN INSERT INTO "
		  "\"odd \"\"name\"\"\" VALUES(NULL); END;\n"
		  "CREATE VIEW kv_view AS SELECT k FROM kv;\n");

	/* It loads, and the trigger did not fire on the loaded rows. */
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	sql_exec_or_fail(db, text);
	assert_int_equal(
	    sqlite3_prepare_v2(
		db,
		"SELECT (SELECT count(*) FROM \"odd \"\"name\"\"\"),"
		" v FROM kv WHERE k = 'blob'",
		-1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 1);
	assert_int_equal(sqlite3_column_bytes(st, 1), 3);
	assert_memory_equal(sqlite3_column_blob(st, 1), blob, 3);
	sqlite3_finalize(st);
	sqlite3_close(db);

	free(text);
	thermionic_sql_results_free(data, 2);
	thermionic_sql_results_free(schema, 1);
}

/*
 * Rendering
 */

struct printed {
	char *out;
	char *err;
	size_t failed;
};

static struct printed print(enum therm_format format, char *const *sqls,
			    const struct thermionic_sql_result *results,
			    size_t n)
{
	struct printed p;
	size_t out_len;
	size_t err_len;
	FILE *out = open_memstream(&p.out, &out_len);
	FILE *err = open_memstream(&p.err, &err_len);
	p.failed = therm_sql_print(out, err, format, sqls, results, n);
	fclose(out);
	fclose(err);
	return p;
}

static void printed_free(struct printed *p)
{
	free(p->out);
	free(p->err);
}

/* Four statements: a write, a query with every type, a failure, an
 * UPDATE after which SQLite still reports the last INSERT's rowid. */
static struct thermionic_sql_result *sample_results(void)
{
	static const unsigned char blob[] = {0xde, 0xad};
	const struct thermionic_value values[] = {
	    I(INT64_MAX),
	    thermionic_value_real(2.5),
	    T("a, \"b\""),
	    thermionic_value_blob(blob, 2),
	    thermionic_value_null(),
	    I(-1),
	    thermionic_value_real(1.0),
	    T(""),
	    thermionic_value_blob(NULL, 0),
	    T("x"),
	};
	struct thermionic_sql_result *r = calloc(4, sizeof *r);
	r[0].rows_affected = 2;
	r[0].last_insert_id = 9;
	result_rows(&r[1], 5, (const char *const[]){"i", "r", "t", "b", "n"}, 2,
		    values);
	r[1].types[0] = strdup("INTEGER");
	r[2].error = strdup("no such table: nope");
	r[3].rows_affected = 1;
	r[3].last_insert_id = 9;
	return r;
}

static char *const sample_sqls[] = {
    "INSERT INTO t VALUES (1), (2)",
    "SELECT i, r, t, b, n\n  FROM t",
    "SELECT * FROM nope",
    "UPDATE t SET a = 1",
};

static void test_render_table(void **state)
{
	struct thermionic_sql_result *r = sample_results();
	struct printed p = print(THERM_FORMAT_TABLE, sample_sqls, r, 4);
	(void)state;
	assert_int_equal(p.failed, 1);
	assert_string_equal(
	    p.out, "=> statement 1: INSERT INTO t VALUES (1), (2)\n"
		   "Rows affected: 2\n"
		   "Last insert id: 9\n"
		   "\n"
		   "=> statement 2: SELECT i, r, t, b, n FROM t\n"
		   "i                    r    t       b        n\n"
		   "9223372036854775807  2.5  a, \"b\"  x'dead'  NULL\n"
		   "-1                   1.0          x''      x\n"
		   "\n"
		   "=> statement 4: UPDATE t SET a = 1\n"
		   "Rows affected: 1\n");
	assert_string_equal(p.err, "therm: statement 3: no such table: nope\n");
	printed_free(&p);

	/* One statement: no header. */
	p = print(THERM_FORMAT_TABLE, sample_sqls, r, 1);
	assert_int_equal(p.failed, 0);
	assert_string_equal(p.out, "Rows affected: 2\nLast insert id: 9\n");
	assert_string_equal(p.err, "");
	printed_free(&p);
	thermionic_sql_results_free(r, 4);
}

static void test_render_csv(void **state)
{
	struct thermionic_sql_result *r = sample_results();
	struct printed p = print(THERM_FORMAT_CSV, sample_sqls, r, 4);
	(void)state;
	assert_int_equal(p.failed, 1);
	assert_string_equal(p.out, "i,r,t,b,n\n"
				   "9223372036854775807,2.5,\"a, \"\"b\"\"\","
				   "x'dead',\n"
				   "-1,1.0,,x'',x\n");
	assert_string_equal(p.err, "therm: statement 3: no such table: nope\n");
	printed_free(&p);
	thermionic_sql_results_free(r, 4);
}

static void test_render_json_and_yaml(void **state)
{
	struct thermionic_sql_result *r = sample_results();
	struct printed p = print(THERM_FORMAT_JSON, sample_sqls, r, 4);
	(void)state;
	assert_int_equal(p.failed, 1);
	assert_string_equal(p.out,
			    "[\n"
			    "  {\n"
			    "    \"rows_affected\": 2,\n"
			    "    \"last_insert_id\": 9\n"
			    "  },\n"
			    "  {\n"
			    "    \"columns\": [\n"
			    "      \"i\",\n      \"r\",\n      \"t\",\n"
			    "      \"b\",\n      \"n\"\n"
			    "    ],\n"
			    "    \"types\": [\n"
			    "      \"INTEGER\",\n      null,\n      null,\n"
			    "      null,\n      null\n"
			    "    ],\n"
			    "    \"rows\": [\n"
			    "      [\n"
			    "        9223372036854775807,\n"
			    "        2.5,\n"
			    "        \"a, \\\"b\\\"\",\n"
			    "        {\n"
			    "          \"base64\": \"3q0=\"\n"
			    "        },\n"
			    "        null\n"
			    "      ],\n"
			    "      [\n"
			    "        -1,\n"
			    "        1.0,\n"
			    "        \"\",\n"
			    "        {\n"
			    "          \"base64\": \"\"\n"
			    "        },\n"
			    "        \"x\"\n"
			    "      ]\n"
			    "    ]\n"
			    "  },\n"
			    "  {\n"
			    "    \"error\": \"no such table: nope\"\n"
			    "  },\n"
			    "  {\n"
			    "    \"rows_affected\": 1,\n"
			    "    \"last_insert_id\": 9\n"
			    "  }\n"
			    "]\n");
	printed_free(&p);

	p = print(THERM_FORMAT_YAML, sample_sqls, r, 2);
	assert_int_equal(p.failed, 0);
	assert_contains(p.out, "- rows_affected: 2\n  last_insert_id: 9\n");
	assert_contains(p.out, "  - - 9223372036854775807\n    - 2.5\n");
	assert_contains(p.out, "    - base64: 3q0=\n");
	printed_free(&p);
	thermionic_sql_results_free(r, 4);
}

static void test_real_text(void **state)
{
	char buf[32];
	(void)state;
	assert_string_equal(therm_sql_real_text(0.1, buf), "0.1");
	assert_string_equal(therm_sql_real_text(-3.0, buf), "-3.0");
	assert_string_equal(therm_sql_real_text(1e100, buf), "1e+100");
	assert_string_equal(therm_sql_real_text(INFINITY, buf), "Inf");
	assert_string_equal(therm_sql_real_text(NAN, buf), "NaN");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_split_plain),
	    cmocka_unit_test(test_split_strings_and_names),
	    cmocka_unit_test(test_split_comments),
	    cmocka_unit_test(test_split_triggers),
	    cmocka_unit_test(test_summary),
	    cmocka_unit_test(test_lines),
	    cmocka_unit_test(test_lines_pending_at_end),
	    cmocka_unit_test(test_literals),
	    cmocka_unit_test(test_literals_read_back_exactly),
	    cmocka_unit_test(test_dump),
	    cmocka_unit_test(test_render_table),
	    cmocka_unit_test(test_render_csv),
	    cmocka_unit_test(test_render_json_and_yaml),
	    cmocka_unit_test(test_real_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

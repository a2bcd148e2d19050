/* Unit tests for internal/db/node: the member's local database. Each test
 * gets its own temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal/db/node/nodedb.h"
#include "internal/lib/err.h"
#include "internal/lib/mem.h"

#define FP_A                                                          \
	"aa11000000000000000000000000000000000000000000000000000000000001"
#define FP_B                                                          \
	"ab22000000000000000000000000000000000000000000000000000000000002"
#define FP_C                                                          \
	"ab33000000000000000000000000000000000000000000000000000000000003"

struct fixture {
	char dir[64];
	char *path; /* dir/local.db */
	struct nodedb *db;
};

static void remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	if (d == NULL) {
		return;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 ||
		    strcmp(e->d_name, "..") == 0) {
			continue;
		}
		char *p = tm_asprintf("%s/%s", dir, e->d_name);
		unlink(p);
		tm_free(p);
	}
	closedir(d);
	rmdir(dir);
}

/* Set up a directory without opening the database. */
static int setup_dir(void **state)
{
	struct fixture *f = tm_calloc(1, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/tm-nodedb-XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		return -1;
	}
	f->path = tm_asprintf("%s/local.db", f->dir);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	if (setup_dir(state) != 0) {
		return -1;
	}
	struct fixture *f = *state;
	char errmsg[TM_ERRMSG_SIZE];
	if (nodedb_open(f->dir, &f->db, errmsg) != 0) {
		fprintf(stderr, "nodedb_open: %s\n", errmsg);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	nodedb_close(f->db);
	remove_tree(f->dir);
	tm_free(f->path);
	tm_free(f);
	return 0;
}

static void reopen(struct fixture *f)
{
	char errmsg[TM_ERRMSG_SIZE];
	nodedb_close(f->db);
	f->db = NULL;
	assert_int_equal(nodedb_open(f->dir, &f->db, errmsg), 0);
}

static void exec_ok(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fail_msg("%s: %s", sql, msg);
	}
}

static int64_t query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *stmt;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return v;
}

static char *query_text(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *stmt;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	const char *text = (const char *)sqlite3_column_text(stmt, 0);
	char *copy = tm_strdup(text != NULL ? text : "");
	sqlite3_finalize(stmt);
	return copy;
}

static int version_of(sqlite3 *db)
{
	char errmsg[TM_ERRMSG_SIZE];
	int version = -1;
	assert_int_equal(schema_version(db, &version, errmsg), 0);
	return version;
}

static mode_t mode_of(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

/* --- open ---------------------------------------------------------------- */

static void open_creates_database(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(chmod(f->dir, 0751), 0);
	char errmsg[TM_ERRMSG_SIZE];
	assert_int_equal(nodedb_open(f->dir, &f->db, errmsg), 0);
	assert_int_equal(mode_of(f->dir), 0751);
	assert_int_equal(mode_of(f->path), 0600);
	sqlite3 *sql = nodedb_sqlite(f->db);
	assert_int_equal(version_of(sql), 3);
	assert_int_equal((int)nodedb_schema()->n_updates, 3);
	char *mode = query_text(sql, "PRAGMA journal_mode");
	assert_string_equal(mode, "wal");
	tm_free(mode);
	assert_int_equal(query_int(sql, "PRAGMA synchronous"), 2);
	assert_int_equal(query_int(sql, "PRAGMA foreign_keys"), 1);
	assert_int_equal(query_int(sql, "PRAGMA busy_timeout"),
			 NODEDB_BUSY_TIMEOUT_MS);
	/* WAL side files are private too */
	char *wal = tm_asprintf("%s-wal", f->path);
	assert_int_equal(mode_of(wal), 0600);
	tm_free(wal);
	/* no backup for a fresh database */
	char *bak = tm_asprintf("%s/local.db.bak", f->dir);
	assert_int_equal(access(bak, F_OK), -1);
	tm_free(bak);
}

static void open_missing_dir(void **state)
{
	struct fixture *f = *state;
	char *missing = tm_asprintf("%s/nope", f->dir);
	char errmsg[TM_ERRMSG_SIZE];
	struct nodedb *db = NULL;
	assert_int_equal(nodedb_open(missing, &db, errmsg), TM_NOTFOUND);
	assert_null(db);
	assert_non_null(strstr(errmsg, missing));
	assert_int_equal(access(missing, F_OK), -1);
	tm_free(missing);
}

static void reopen_keeps_data(void **state)
{
	struct fixture *f = *state;
	cJSON *values = cJSON_Parse("{\"core.https_address\":\"[::]:8443\"}");
	assert_int_equal(nodedb_config_replace(f->db, values), 0);
	cJSON_Delete(values);
	struct nodedb_cert cert = {.fingerprint = FP_A,
				   .name = "admin",
				   .certificate = "PEM A"};
	assert_int_equal(nodedb_cert_add(f->db, &cert), 0);
	struct nodedb_raft_node node = {.id = 1, .address = "10.0.0.1:8443"};
	assert_int_equal(nodedb_raft_nodes_replace(f->db, &node, 1), 0);

	reopen(f);

	cJSON *config;
	assert_int_equal(nodedb_config_load(f->db, &config), 0);
	char *text = cJSON_PrintUnformatted(config);
	assert_string_equal(text, "{\"core.https_address\":\"[::]:8443\"}");
	cJSON_free(text);
	cJSON_Delete(config);
	assert_true(nodedb_cert_trusted(f->db, FP_A));
	struct nodedb_raft_node *nodes;
	size_t n;
	assert_int_equal(nodedb_raft_nodes_get(f->db, &nodes, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(nodes[0].address, "10.0.0.1:8443");
	nodedb_raft_nodes_free(nodes, n);
	char *bak = tm_asprintf("%s/local.db.bak", f->dir);
	assert_int_equal(access(bak, F_OK), -1);
	tm_free(bak);
}

/* A local.db written by the first release: schema version 1. */
static void write_v1_file(const char *path)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	exec_ok(db, "CREATE TABLE schema (version INTEGER PRIMARY KEY, "
		    "updated_at INTEGER NOT NULL);"
		    "INSERT INTO schema VALUES (1, 1700000000);"
		    "CREATE TABLE config (key TEXT PRIMARY KEY, "
		    "value TEXT NOT NULL);"
		    "CREATE TABLE raft_nodes (id INTEGER PRIMARY KEY, "
		    "address TEXT NOT NULL UNIQUE, "
		    "role INTEGER NOT NULL DEFAULT 0);"
		    "INSERT INTO config VALUES ('core.https_address', "
		    "'10.0.0.5:8443');"
		    "INSERT INTO raft_nodes VALUES (1, '10.0.0.5:8443', 0);");
	sqlite3_close(db);
}

static void old_version_upgraded_with_backup(void **state)
{
	struct fixture *f = *state;
	write_v1_file(f->path);
	char errmsg[TM_ERRMSG_SIZE];
	assert_int_equal(nodedb_open(f->dir, &f->db, errmsg), 0);
	sqlite3 *sql = nodedb_sqlite(f->db);
	assert_int_equal(version_of(sql), 3);
	char *versions = query_text(sql, "SELECT group_concat(version) FROM "
					 "(SELECT version FROM schema "
					 "ORDER BY version)");
	assert_string_equal(versions, "1,2,3");
	tm_free(versions);
	cJSON *config;
	assert_int_equal(nodedb_config_load(f->db, &config), 0);
	assert_string_equal(
		cJSON_GetObjectItem(config, "core.https_address")->valuestring,
		"10.0.0.5:8443");
	cJSON_Delete(config);
	struct nodedb_cert cert = {.fingerprint = FP_A,
				   .name = "admin",
				   .certificate = "PEM A"};
	assert_int_equal(nodedb_cert_add(f->db, &cert), 0);

	char *bak_path = tm_asprintf("%s/local.db.bak", f->dir);
	assert_int_equal(mode_of(bak_path), 0600);
	sqlite3 *bak;
	assert_int_equal(sqlite3_open_v2(bak_path, &bak, SQLITE_OPEN_READONLY,
					 NULL),
			 SQLITE_OK);
	assert_int_equal(version_of(bak), 1);
	assert_int_equal(query_int(bak, "SELECT count(*) FROM config"), 1);
	assert_int_equal(query_int(bak, "SELECT count(*) FROM sqlite_master "
					"WHERE name = 'certificates'"),
			 0);
	sqlite3_close(bak);
	tm_free(bak_path);
}

static void newer_file_refused(void **state)
{
	struct fixture *f = *state;
	write_v1_file(f->path);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	exec_ok(db, "INSERT INTO schema VALUES (2, 0), (3, 0), (4, 0)");
	sqlite3_close(db);
	char errmsg[TM_ERRMSG_SIZE];
	assert_int_equal(nodedb_open(f->dir, &f->db, errmsg), TM_NEWER);
	assert_null(f->db);
	char *expected = tm_asprintf("%s: database schema 4 is newer than "
				     "this thermionicd (3); upgrade "
				     "thermionicd",
				     f->path);
	assert_string_equal(errmsg, expected);
	tm_free(expected);
}

/* fresh() must build what the update chain builds. */
static void fresh_matches_update_chain(void **state)
{
	struct fixture *f = *state;
	struct schema chain = *nodedb_schema();
	chain.fresh = NULL;
	char *a_path = tm_asprintf("%s/chain.db", f->dir);
	char *b_path = tm_asprintf("%s/fresh.db", f->dir);
	sqlite3 *a;
	sqlite3 *b;
	assert_int_equal(sqlite3_open(a_path, &a), SQLITE_OK);
	assert_int_equal(sqlite3_open(b_path, &b), SQLITE_OK);
	char errmsg[TM_ERRMSG_SIZE];
	assert_int_equal(schema_ensure(a, &chain, NULL, NULL, NULL, errmsg),
			 0);
	assert_int_equal(
		schema_ensure(b, nodedb_schema(), NULL, NULL, NULL, errmsg), 0);
	static const char *dump =
		"SELECT group_concat(type || ' ' || name || ': ' || "
		"coalesce(sql, ''), char(10)) FROM (SELECT * FROM "
		"sqlite_master ORDER BY name)";
	char *sa = query_text(a, dump);
	char *sb = query_text(b, dump);
	assert_string_equal(sa, sb);
	assert_non_null(strstr(sa, "certificates"));
	tm_free(sa);
	tm_free(sb);
	sqlite3_close(a);
	sqlite3_close(b);
	tm_free(a_path);
	tm_free(b_path);
}

/* --- config -------------------------------------------------------------- */

static char *load_config_text(struct nodedb *db)
{
	cJSON *config;
	assert_int_equal(nodedb_config_load(db, &config), 0);
	char *json = cJSON_PrintUnformatted(config);
	char *text = tm_strdup(json);
	cJSON_free(json);
	cJSON_Delete(config);
	return text;
}

static void config_replace_and_load(void **state)
{
	struct fixture *f = *state;
	char *text = load_config_text(f->db);
	assert_string_equal(text, "{}");
	tm_free(text);

	cJSON *values = cJSON_Parse("{\"user.b\":\"2\",\"user.a\":\"1\"}");
	assert_int_equal(nodedb_config_replace(f->db, values), 0);
	cJSON_Delete(values);
	text = load_config_text(f->db);
	assert_string_equal(text, "{\"user.a\":\"1\",\"user.b\":\"2\"}");
	tm_free(text);

	/* the whole table is replaced */
	values = cJSON_Parse("{\"user.c\":\"3\"}");
	assert_int_equal(nodedb_config_replace(f->db, values), 0);
	cJSON_Delete(values);
	text = load_config_text(f->db);
	assert_string_equal(text, "{\"user.c\":\"3\"}");
	tm_free(text);

	values = cJSON_CreateObject();
	assert_int_equal(nodedb_config_replace(f->db, values), 0);
	cJSON_Delete(values);
	text = load_config_text(f->db);
	assert_string_equal(text, "{}");
	tm_free(text);
}

static void config_replace_invalid(void **state)
{
	struct fixture *f = *state;
	cJSON *values = cJSON_Parse("{\"user.a\":\"1\"}");
	assert_int_equal(nodedb_config_replace(f->db, values), 0);
	cJSON_Delete(values);

	values = cJSON_Parse("{\"user.b\":\"2\",\"user.c\":3}");
	assert_int_equal(nodedb_config_replace(f->db, values), TM_INVALID);
	assert_non_null(strstr(nodedb_errmsg(f->db), "user.c"));
	cJSON_Delete(values);

	values = cJSON_Parse("[\"user.b\"]");
	assert_int_equal(nodedb_config_replace(f->db, values), TM_INVALID);
	cJSON_Delete(values);

	/* a duplicate key fails inside the transaction: rolled back */
	values = cJSON_Parse("{\"user.b\":\"2\",\"user.b\":\"3\"}");
	assert_int_equal(nodedb_config_replace(f->db, values), TM_INVALID);
	assert_non_null(strstr(nodedb_errmsg(f->db), "duplicate"));
	cJSON_Delete(values);
	assert_true(sqlite3_get_autocommit(nodedb_sqlite(f->db)));

	char *text = load_config_text(f->db);
	assert_string_equal(text, "{\"user.a\":\"1\"}");
	tm_free(text);
}

/* --- certificates -------------------------------------------------------- */

static void add_cert(struct nodedb *db, const char *fp, const char *name)
{
	struct nodedb_cert cert = {.name = (char *)name,
				   .certificate = "-----BEGIN CERTIFICATE-----",
				   .added_at = 1700000000};
	snprintf(cert.fingerprint, sizeof cert.fingerprint, "%s", fp);
	assert_int_equal(nodedb_cert_add(db, &cert), 0);
}

static void cert_add_and_duplicate(void **state)
{
	struct fixture *f = *state;
	struct nodedb_cert cert = {.name = "admin", .certificate = "PEM"};
	/* upper case input, stored in lower case */
	for (int i = 0; FP_A[i] != '\0'; i++) {
		cert.fingerprint[i] = (char)(FP_A[i] >= 'a' ? FP_A[i] - 32
							     : FP_A[i]);
	}
	time_t before = time(NULL);
	assert_int_equal(nodedb_cert_add(f->db, &cert), 0);
	struct nodedb_cert got;
	assert_int_equal(nodedb_cert_get(f->db, FP_A, &got), 0);
	assert_string_equal(got.fingerprint, FP_A);
	assert_string_equal(got.name, "admin");
	assert_string_equal(got.type, "client");
	assert_string_equal(got.certificate, "PEM");
	assert_true(got.added_at >= before && got.added_at <= time(NULL));
	nodedb_cert_clear(&got);
	assert_null(got.name);

	assert_int_equal(nodedb_cert_add(f->db, &cert), TM_EXISTS);
	assert_non_null(strstr(nodedb_errmsg(f->db), "already trusted"));
	snprintf(cert.fingerprint, sizeof cert.fingerprint, "%s", FP_A);
	assert_int_equal(nodedb_cert_add(f->db, &cert), TM_EXISTS);
}

static void cert_add_invalid(void **state)
{
	struct fixture *f = *state;
	struct nodedb_cert cert = {.fingerprint = "abcd",
				   .name = "x",
				   .certificate = "PEM"};
	assert_int_equal(nodedb_cert_add(f->db, &cert), TM_INVALID);
	snprintf(cert.fingerprint, sizeof cert.fingerprint, "%s", FP_A);
	cert.fingerprint[10] = 'z';
	assert_int_equal(nodedb_cert_add(f->db, &cert), TM_INVALID);
	snprintf(cert.fingerprint, sizeof cert.fingerprint, "%s", FP_A);
	cert.type = "root";
	assert_int_equal(nodedb_cert_add(f->db, &cert), TM_INVALID);
	assert_non_null(strstr(nodedb_errmsg(f->db), "root"));
	cert.type = "server";
	cert.name = "";
	assert_int_equal(nodedb_cert_add(f->db, &cert), TM_INVALID);
	cert.name = "x";
	cert.certificate = NULL;
	assert_int_equal(nodedb_cert_add(f->db, &cert), TM_INVALID);
	cert.certificate = "PEM";
	assert_int_equal(nodedb_cert_add(f->db, &cert), 0);
	struct nodedb_cert got;
	assert_int_equal(nodedb_cert_get(f->db, "aa", &got), 0);
	assert_string_equal(got.type, "server");
	nodedb_cert_clear(&got);
}

static void cert_list(void **state)
{
	struct fixture *f = *state;
	struct nodedb_cert *certs;
	size_t n = 99;
	assert_int_equal(nodedb_cert_list(f->db, &certs, &n), 0);
	assert_int_equal(n, 0);
	assert_null(certs);

	add_cert(f->db, FP_C, "carol");
	add_cert(f->db, FP_A, "bob");
	add_cert(f->db, FP_B, "alice");
	assert_int_equal(nodedb_cert_list(f->db, &certs, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(certs[0].name, "alice");
	assert_string_equal(certs[0].fingerprint, FP_B);
	assert_string_equal(certs[1].name, "bob");
	assert_string_equal(certs[2].name, "carol");
	assert_int_equal(certs[2].added_at, 1700000000);
	nodedb_cert_list_free(certs, n);
}

static void cert_get_by_prefix(void **state)
{
	struct fixture *f = *state;
	add_cert(f->db, FP_A, "a");
	add_cert(f->db, FP_B, "b");
	add_cert(f->db, FP_C, "c");
	struct nodedb_cert got;
	assert_int_equal(nodedb_cert_get(f->db, "a", &got), TM_INVALID);
	assert_non_null(
		strstr(nodedb_errmsg(f->db), "ambiguous fingerprint prefix"));
	assert_int_equal(nodedb_cert_get(f->db, "AB", &got), TM_INVALID);
	assert_non_null(
		strstr(nodedb_errmsg(f->db), "ambiguous fingerprint prefix"));

	assert_int_equal(nodedb_cert_get(f->db, "aa", &got), 0);
	assert_string_equal(got.name, "a");
	nodedb_cert_clear(&got);
	assert_int_equal(nodedb_cert_get(f->db, "AB3", &got), 0);
	assert_string_equal(got.name, "c");
	nodedb_cert_clear(&got);
	assert_int_equal(nodedb_cert_get(f->db, FP_B, &got), 0);
	assert_string_equal(got.name, "b");
	nodedb_cert_clear(&got);

	assert_int_equal(nodedb_cert_get(f->db, "ac", &got), TM_NOTFOUND);
	assert_int_equal(nodedb_cert_get(f->db, "f", &got), TM_NOTFOUND);
	assert_int_equal(nodedb_cert_get(f->db, "0", &got), TM_NOTFOUND);
	assert_int_equal(nodedb_cert_get(f->db, "", &got), TM_INVALID);
	assert_int_equal(nodedb_cert_get(f->db, "ag", &got), TM_INVALID);
	assert_int_equal(nodedb_cert_get(f->db, "a%", &got), TM_INVALID);
	assert_true(sqlite3_get_autocommit(nodedb_sqlite(f->db)));
}

static void cert_remove_and_trusted(void **state)
{
	struct fixture *f = *state;
	add_cert(f->db, FP_A, "a");
	add_cert(f->db, FP_B, "b");
	assert_true(nodedb_cert_trusted(f->db, FP_A));
	assert_true(nodedb_cert_trusted(f->db, FP_B));
	assert_false(nodedb_cert_trusted(f->db, FP_C));
	assert_false(nodedb_cert_trusted(f->db, "aa11"));
	assert_false(nodedb_cert_trusted(f->db, ""));
	assert_false(nodedb_cert_trusted(f->db, NULL));

	/* removal needs the exact fingerprint */
	assert_int_equal(nodedb_cert_remove(f->db, "aa11"), TM_INVALID);
	assert_int_equal(nodedb_cert_remove(f->db, FP_C), TM_NOTFOUND);
	assert_int_equal(nodedb_cert_remove(f->db, FP_A), 0);
	assert_false(nodedb_cert_trusted(f->db, FP_A));
	assert_true(nodedb_cert_trusted(f->db, FP_B));
	assert_int_equal(nodedb_cert_remove(f->db, FP_A), TM_NOTFOUND);
	struct nodedb_cert got;
	assert_int_equal(nodedb_cert_get(f->db, "a", &got), 0);
	assert_string_equal(got.name, "b");
	nodedb_cert_clear(&got);
	/* no statement is left holding a read snapshot */
	assert_true(sqlite3_get_autocommit(nodedb_sqlite(f->db)));
	assert_int_equal(sqlite3_next_stmt(nodedb_sqlite(f->db), NULL) != NULL,
			 1);
	for (sqlite3_stmt *s = sqlite3_next_stmt(nodedb_sqlite(f->db), NULL);
	     s != NULL; s = sqlite3_next_stmt(nodedb_sqlite(f->db), s)) {
		assert_false(sqlite3_stmt_busy(s));
	}
}

/* Trusted lookups see writes made through the borrowed connection. */
static void trusted_follows_sql_api(void **state)
{
	struct fixture *f = *state;
	sqlite3 *sql = nodedb_sqlite(f->db);
	exec_ok(sql, "INSERT INTO certificates VALUES ('" FP_C
		     "', 'sql', 'client', 'PEM', 0)");
	assert_true(nodedb_cert_trusted(f->db, FP_C));
	exec_ok(sql, "DELETE FROM certificates");
	assert_false(nodedb_cert_trusted(f->db, FP_C));
}

/* --- raft nodes ---------------------------------------------------------- */

static void raft_nodes_replace_and_get(void **state)
{
	struct fixture *f = *state;
	struct nodedb_raft_node *nodes;
	size_t n = 99;
	assert_int_equal(nodedb_raft_nodes_get(f->db, &nodes, &n), 0);
	assert_int_equal(n, 0);
	assert_null(nodes);

	struct nodedb_raft_node three[] = {
		{.id = 3, .address = "10.0.0.3:8443", .role = 1},
		{.id = 1, .address = "10.0.0.1:8443", .role = 0},
		{.id = 2, .address = "[fd00::2]:8443", .role = 2},
	};
	assert_int_equal(nodedb_raft_nodes_replace(f->db, three, 3), 0);
	assert_int_equal(nodedb_raft_nodes_get(f->db, &nodes, &n), 0);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(nodes[i].id, i + 1);
	}
	assert_string_equal(nodes[1].address, "[fd00::2]:8443");
	assert_int_equal(nodes[1].role, 2);
	assert_int_equal(nodes[2].role, 1);
	nodedb_raft_nodes_free(nodes, n);

	struct nodedb_raft_node one = {.id = 7, .address = "10.0.0.7:8443"};
	assert_int_equal(nodedb_raft_nodes_replace(f->db, &one, 1), 0);
	assert_int_equal(nodedb_raft_nodes_get(f->db, &nodes, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(nodes[0].id, 7);
	nodedb_raft_nodes_free(nodes, n);

	assert_int_equal(nodedb_raft_nodes_replace(f->db, NULL, 0), 0);
	assert_int_equal(nodedb_raft_nodes_get(f->db, &nodes, &n), 0);
	assert_int_equal(n, 0);
}

static void raft_nodes_replace_invalid(void **state)
{
	struct fixture *f = *state;
	struct nodedb_raft_node good = {.id = 1, .address = "a:1"};
	assert_int_equal(nodedb_raft_nodes_replace(f->db, &good, 1), 0);

	struct nodedb_raft_node dup_address[] = {
		{.id = 1, .address = "b:1"},
		{.id = 2, .address = "b:1"},
	};
	assert_int_equal(nodedb_raft_nodes_replace(f->db, dup_address, 2),
			 TM_INVALID);
	assert_non_null(strstr(nodedb_errmsg(f->db), "duplicate"));
	struct nodedb_raft_node dup_id[] = {
		{.id = 2, .address = "b:1"},
		{.id = 2, .address = "c:1"},
	};
	assert_int_equal(nodedb_raft_nodes_replace(f->db, dup_id, 2),
			 TM_INVALID);
	struct nodedb_raft_node zero = {.id = 0, .address = "b:1"};
	assert_int_equal(nodedb_raft_nodes_replace(f->db, &zero, 1),
			 TM_INVALID);
	struct nodedb_raft_node huge = {.id = UINT64_MAX, .address = "b:1"};
	assert_int_equal(nodedb_raft_nodes_replace(f->db, &huge, 1),
			 TM_INVALID);
	struct nodedb_raft_node empty = {.id = 3, .address = ""};
	assert_int_equal(nodedb_raft_nodes_replace(f->db, &empty, 1),
			 TM_INVALID);
	assert_true(sqlite3_get_autocommit(nodedb_sqlite(f->db)));

	struct nodedb_raft_node *nodes;
	size_t n;
	assert_int_equal(nodedb_raft_nodes_get(f->db, &nodes, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(nodes[0].address, "a:1");
	nodedb_raft_nodes_free(nodes, n);
}

#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
#define TEST_DIR(f) cmocka_unit_test_setup_teardown(f, setup_dir, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST_DIR(open_creates_database),
		TEST_DIR(open_missing_dir),
		TEST(reopen_keeps_data),
		TEST_DIR(old_version_upgraded_with_backup),
		TEST_DIR(newer_file_refused),
		TEST_DIR(fresh_matches_update_chain),
		TEST(config_replace_and_load),
		TEST(config_replace_invalid),
		TEST(cert_add_and_duplicate),
		TEST(cert_add_invalid),
		TEST(cert_list),
		TEST(cert_get_by_prefix),
		TEST(cert_remove_and_trusted),
		TEST(trusted_follows_sql_api),
		TEST(raft_nodes_replace_and_get),
		TEST(raft_nodes_replace_invalid),
	};
	return cmocka_run_group_tests_name("node", tests, NULL, NULL);
}

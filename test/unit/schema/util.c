/* Helpers shared by the schema tests; see util.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "internal/lib/mem.h"
#include "test/unit/schema/util.h"

sqlite3 *util_open(void)
{
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	util_exec(db, "PRAGMA foreign_keys = ON");
	return db;
}

void util_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fail_msg("%s: %s", sql, msg);
	}
}

int util_exec_fails(sqlite3 *db, const char *sql)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	if (rc == SQLITE_OK) {
		fail_msg("%s: succeeded", sql);
	}
	return sqlite3_extended_errcode(db);
}

static sqlite3_stmt *query_row(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *stmt = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	}
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	return stmt;
}

int64_t util_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *stmt = query_row(db, sql);
	int64_t v = sqlite3_column_type(stmt, 0) == SQLITE_NULL
			? -1
			: sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return v;
}

char *util_text(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *stmt = query_row(db, sql);
	const char *text = (const char *)sqlite3_column_text(stmt, 0);
	char *out = tm_strdup(text != NULL ? text : "");
	sqlite3_finalize(stmt);
	return out;
}

char *util_dump_schema(sqlite3 *db)
{
	return util_text(db, "SELECT group_concat(line, char(10)) FROM ("
			     "SELECT type || '|' || name || '|' || tbl_name "
			     "|| '|' || rootpage || '|' || coalesce(sql, '') "
			     "AS line FROM sqlite_schema "
			     "ORDER BY type, name)");
}

char *util_versions(sqlite3 *db)
{
	assert_int_equal(util_int(db, "SELECT count(*) FROM schema WHERE "
				      "typeof(updated_at) <> 'integer' OR "
				      "updated_at < 1600000000"),
			 0);
	return util_text(db, "SELECT group_concat(version) FROM (SELECT "
			     "version FROM schema ORDER BY version)");
}

void util_apply_all(sqlite3 *db, char *const *stmts)
{
	util_exec(db, "BEGIN");
	for (size_t i = 0; stmts[i] != NULL; i++) {
		util_exec(db, stmts[i]);
	}
	util_exec(db, "COMMIT");
}

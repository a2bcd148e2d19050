/* Helpers shared by the schema tests that work on in-memory databases.
 * Every helper fails the running cmocka test on an unexpected error. */
#ifndef TM_TEST_UNIT_SCHEMA_UTIL_H
#define TM_TEST_UNIT_SCHEMA_UTIL_H

#include <stdint.h>

#include <sqlite3.h>

/* A new empty in-memory database, foreign keys on (as the global database's
 * exec connection runs). Close with sqlite3_close(). */
sqlite3 *util_open(void);

/* Run SQL, which must succeed. */
void util_exec(sqlite3 *db, const char *sql);

/* Run SQL, which must fail; returns SQLite's extended result code. */
int util_exec_fails(sqlite3 *db, const char *sql);

/* The single integer SQL returns (NULL as -1). */
int64_t util_int(sqlite3 *db, const char *sql);

/* The single text value SQL returns, "" for NULL; owned (tm_free). */
char *util_text(sqlite3 *db, const char *sql);

/* Every row of sqlite_schema (type, name, tbl_name, rootpage, sql) in a
 * fixed order, one per line; owned (tm_free). Two databases built by the
 * same statements print the same. */
char *util_dump_schema(sqlite3 *db);

/* The recorded versions as "1,2,3" (owned), checking every updated_at is a
 * plausible integer time. */
char *util_versions(sqlite3 *db);

/* Run STMTS (NULL-terminated) with sqlite3_exec() inside BEGIN/COMMIT, as a
 * replicated database's leader would submit them in one request. */
void util_apply_all(sqlite3 *db, char *const *stmts);

#endif /* TM_TEST_UNIT_SCHEMA_UTIL_H */

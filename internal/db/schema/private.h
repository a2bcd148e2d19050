/* Internals shared by the files of internal/db/schema. Not for other
 * modules. */
#ifndef TM_DB_SCHEMA_PRIVATE_H
#define TM_DB_SCHEMA_PRIVATE_H

#include <sqlite3.h>

/* The version table's CREATE TABLE. schema_ensure() runs it on a fresh
 * database and schema_statements() hands it out as its first statement: one
 * text, so both paths build the very same table (sqlite_schema keeps it). */
extern const char schema_table_sql[];

/* Fill ERRMSG with the refusal of a database at VERSION by a binary that
 * knows KNOWN (< VERSION) and return TM_NEWER. */
int schema_fail_newer(int version, int known, char *errmsg);

/* Run STMTS (NULL-terminated, one statement per string) in order on DB.
 * Returns 0; TM_INVALID for a string holding no statement or more than one;
 * TM_BUSY or TM_DB for SQLite errors. ERRMSG names the statement: "statement
 * 2: no such table: x". Rows a statement returns are ignored. */
int schema_run_statements(sqlite3 *db, const char *const *stmts, char *errmsg);

#endif /* TM_DB_SCHEMA_PRIVATE_H */

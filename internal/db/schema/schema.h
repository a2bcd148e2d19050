/* Versioned schema manager for thermionic's SQLite databases.
 *
 * A schema is an ordered list of updates: updates[i] takes the database
 * from version i to version i + 1, so the version this binary knows is
 * n_updates. The version lives in a bookkeeping table
 *
 *   schema(version INTEGER PRIMARY KEY, updated_at INTEGER NOT NULL)
 *
 * with one row per version recorded (updated_at in unix seconds). The rows
 * must be contiguous; the highest is the database's version. A fresh install
 * records a single row (the final version); each later update adds its row.
 *
 * Everything schema_ensure() does happens in one transaction: either the
 * file reaches the latest version or it stays exactly as it was. The version
 * check and the backup share one read snapshot, upgraded to a write
 * transaction by the first update; if another connection committed in
 * between, the call fails with TM_BUSY and changes nothing. Updates
 * therefore cannot toggle PRAGMA foreign_keys (a no-op inside a
 * transaction); foreign key checks are deferred to COMMIT, so an update may
 * rebuild a table as long as the result is consistent.
 *
 * Used by the local database (internal/db/node, updates as C functions run
 * by schema_ensure()) and the global database (internal/db/cluster/
 * global_schema.h, updates as SQL statements that the raft leader submits as
 * one write request: see schema_statements()). */
#ifndef TM_DB_SCHEMA_H
#define TM_DB_SCHEMA_H

#include <stddef.h>

#include <sqlite3.h>

/* One step, given either as a C function or as SQL statements.
 *
 * APPLY runs inside schema_ensure()'s transaction and returns 0 or a TM_*
 * code with ERRMSG (TM_ERRMSG_SIZE bytes) set; if it leaves ERRMSG empty,
 * sqlite3_errmsg() of DB is used.
 *
 * STATEMENTS is a NULL-terminated list of SQL texts, exactly one statement
 * per string (a trailing ';' is fine), with no parameters and no transaction
 * statements. schema_ensure() runs them in order when APPLY is NULL, failing
 * with TM_DB on the first error (or TM_INVALID for a string that holds no
 * statement or more than one). An empty list ({NULL}) is a valid update that
 * only records its version. Databases whose updates must travel as SQL text
 * (the raft-replicated global database, see schema_statements()) give
 * STATEMENTS only. If both are given, schema_ensure() runs APPLY and
 * schema_statements() uses STATEMENTS: they must have the same effect.
 *
 * DESCRIPTION names the step in error messages ("add trust store").
 * Everything is borrowed, static in practice. */
struct schema_update {
	const char *description;
	int (*apply)(sqlite3 *db, char *errmsg);
	const char *const *statements;
};

struct schema {
	const char *name;                    /* "local", "global": logs */
	const struct schema_update *updates; /* updates[i]: version i -> i+1 */
	size_t n_updates;                    /* the version this binary knows */
	/* Optional: creates the latest schema directly on an empty database
	 * (same contract as apply). When NULL, a fresh database replays every
	 * update. Must produce the same tables as the update chain. */
	int (*fresh)(sqlite3 *db, char *errmsg);
};

/* Bring DB to the latest version of S, in one transaction. DB must not be
 * inside a transaction.
 *
 * - Version 0 (no schema table): runs S->fresh if given, else every update,
 *   and records the final version. No backup is made.
 * - Older version: if BACKUP_PATH is not NULL, first writes a consistent copy
 *   of the database to BACKUP_PATH (SQLite backup API into BACKUP_PATH.tmp,
 *   fsync'd, renamed into place, directory fsync'd, mode 0600). An existing
 *   file at BACKUP_PATH holding the same version is replaced; one holding a
 *   different version (or unreadable) is kept, renamed to
 *   "BACKUP_PATH.<its version>" (or "BACKUP_PATH.old"), with a warning in the
 *   log. Then the missing updates are applied in order, each one recorded.
 * - Same version: nothing is written.
 * - Newer version: TM_NEWER, "database schema 7 is newer than this
 *   thermionicd (5); upgrade thermionicd".
 * - Gaps or an unreadable schema table: TM_CORRUPT.
 * - A failing update rolls everything back and returns its code, with
 *   "schema update 3 (add trust store): <reason>" (3 = the version the
 *   update leads to). A failing backup returns TM_IO before any update.
 *
 * *FROM receives the version found, *TO the version on disk when the call
 * returns (unchanged on failure); either may be NULL. ERRMSG is
 * TM_ERRMSG_SIZE bytes. */
int schema_ensure(sqlite3 *db, const struct schema *s, const char *backup_path,
		  int *from, int *to, char *errmsg);

/* The statements that take a database from version FROM to the latest: each
 * update's statements followed by "INSERT INTO schema(version, updated_at)
 * VALUES (<v>, strftime('%s','now'))". For a fresh database (FROM == 0) the
 * list starts with the CREATE TABLE of the version table itself (the very
 * text schema_ensure() uses), replays every update (S->fresh, a C function,
 * is not used) and, like schema_ensure(), records only the final version.
 * FROM == latest gives an empty list.
 *
 * Meant for a database whose schema changes must be submitted as SQL (the
 * global database: the raft leader runs them as one write request, in one
 * transaction). Running the list in one transaction on a database at version
 * FROM leaves it exactly as schema_ensure() would, apart from updated_at.
 * Run on a database that is no longer at FROM (another member upgraded it
 * first), the transaction fails and changes nothing: the version row it
 * inserts already exists (or, from 0, the version table does).
 *
 * Fails with TM_NEWER and the usual message if FROM > latest, TM_INVALID if
 * an update in the range has no statements (STATEMENTS == NULL): "schema
 * update 2 (add tokens): no SQL statements". On success *OUT is a
 * NULL-terminated array of owned strings (free with schema_statements_free)
 * and *N (if N is not NULL) its length without the NULL; on failure *OUT is
 * NULL and *N 0. ERRMSG is TM_ERRMSG_SIZE bytes. FROM must be >= 0. */
int schema_statements(const struct schema *s, int from, char ***out, size_t *n,
		      char *errmsg);

/* Free an array returned by schema_statements(), and its strings. NULL is
 * accepted. */
void schema_statements_free(char **stmts);

/* Current version of DB: 0 if there is no schema table. TM_CORRUPT if the
 * table is unreadable, empty or has gaps; TM_DB on other SQLite errors. */
int schema_version(sqlite3 *db, int *version, char *errmsg);

/* Run SQL (one or more statements) with sqlite3_exec(): 0, or TM_DB with
 * ERRMSG set to SQLite's message. A convenience for update functions. */
int schema_exec(sqlite3 *db, const char *sql, char *errmsg);

/* Write a consistent copy of DB's main database to PATH: SQLite backup API
 * into PATH.tmp (mode 0600, rollback-journal mode so the copy is a single
 * self-contained file), fsync, rename over PATH, fsync the directory. An
 * existing PATH is replaced. DB may be inside a read transaction (the copy
 * then shows its snapshot) but not a write transaction (SQLite's backup API
 * refuses it: TM_BUSY). Returns 0 or TM_IO / TM_DB / TM_BUSY with ERRMSG
 * set; on failure PATH is untouched and PATH.tmp removed. */
int schema_backup(sqlite3 *db, const char *path, char *errmsg);

#endif /* TM_DB_SCHEMA_H */

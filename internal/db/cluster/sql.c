/* Transaction-control statements prepared once per connection, and the
 * translation of SQLite result codes into TM_* codes. */
#include "internal/db/cluster/gdb_private.h"

#include "internal/lib/assert.h"

static const char *const texts[GDB_SQL_N] = {
    [GDB_SQL_BEGIN_WRITE] = "BEGIN IMMEDIATE",
    [GDB_SQL_BEGIN_READ] = "BEGIN",
    [GDB_SQL_COMMIT] = "COMMIT",
    [GDB_SQL_ROLLBACK] = "ROLLBACK",
    [GDB_SQL_SP_REQUEST] = "SAVEPOINT gdb_request",
    [GDB_SQL_RB_REQUEST] = "ROLLBACK TO gdb_request",
    [GDB_SQL_RL_REQUEST] = "RELEASE gdb_request",
    [GDB_SQL_SP_STMT] = "SAVEPOINT gdb_statement",
    [GDB_SQL_RB_STMT] = "ROLLBACK TO gdb_statement",
    [GDB_SQL_RL_STMT] = "RELEASE gdb_statement",
    [GDB_SQL_SP_FLUSH] = "SAVEPOINT gdb_flush",
    [GDB_SQL_RL_FLUSH] = "RELEASE gdb_flush",
};

int gdb_sql_prepare_all(sqlite3 *db, sqlite3_stmt **stmts, char *errmsg)
{
	for (int i = 0; i < GDB_SQL_N; i++) {
		int rc = sqlite3_prepare_v2(db, texts[i], -1, &stmts[i], NULL);
		if (rc != SQLITE_OK) {
			tm_errmsg_printf(errmsg, "prepare %s: %s", texts[i],
					 sqlite3_errmsg(db));
			gdb_sql_finalize_all(stmts);
			return TM_DB;
		}
	}
	return 0;
}

void gdb_sql_finalize_all(sqlite3_stmt **stmts)
{
	for (int i = 0; i < GDB_SQL_N; i++) {
		sqlite3_finalize(stmts[i]);
		stmts[i] = NULL;
	}
}

int gdb_sql_run(sqlite3_stmt **stmts, enum gdb_sql which)
{
	sqlite3_stmt *st = stmts[which];
	PRE(st != NULL);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int gdb_sqlite_status(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_CONSTRAINT:
		return TM_CONFLICT;
	case SQLITE_NOMEM:
		return TM_NOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return TM_BUSY;
	case SQLITE_TOOBIG:
		return TM_TOOBIG;
	case SQLITE_IOERR:
	case SQLITE_FULL:
	case SQLITE_CANTOPEN:
		return TM_IO;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return TM_CORRUPT;
	case SQLITE_PERM:
	case SQLITE_AUTH:
	case SQLITE_READONLY:
		return TM_PERM;
	case SQLITE_INTERRUPT:
	case SQLITE_ABORT:
		return TM_CANCELED;
	default: /* SQLITE_ERROR, MISMATCH, RANGE, SCHEMA: the SQL is wrong */
		return TM_INVALID;
	}
}

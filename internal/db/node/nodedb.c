/* Opening and closing the local database, and the helpers the other files
 * share.
 *
 * Open: check DIR, create local.db with mode 0600 if missing (SQLite would
 * use 0644 and its -wal/-shm files copy the database's mode), open it, set
 * WAL + synchronous=FULL + foreign keys + busy timeout, PRAGMA quick_check
 * (TM_CORRUPT if the file is damaged), apply the local
 * schema (backup to local.db.bak before an update), prepare the statements.
 * Any failure closes what was opened and returns the reason. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal/db/node/private.h"
#include "internal/db/schema/schema.h"
#include "internal/lib/assert.h"
#include "internal/lib/err.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"

static const char *stmt_sql[NODEDB_STMT_COUNT] = {
#define NODEDB_STMT_SQL(name, sql) sql,
	NODEDB_STMTS(NODEDB_STMT_SQL)
#undef NODEDB_STMT_SQL
};

int nodedb_sqlite_error(struct nodedb *db, int rc, const char *what)
{
	tm_errmsg_printf(db->errmsg, "%s: %s", what, sqlite3_errmsg(db->sql));
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return TM_BUSY;
	case SQLITE_CONSTRAINT:
		return TM_EXISTS;
	case SQLITE_NOMEM:
		return TM_NOMEM;
	default:
		return TM_DB;
	}
}

sqlite3_stmt *nodedb_stmt(struct nodedb *db, enum nodedb_stmt which)
{
	PRE(which < NODEDB_STMT_COUNT);
	sqlite3_stmt *stmt = db->stmts[which];
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	return stmt;
}

int nodedb_step_done(struct nodedb *db, sqlite3_stmt *stmt, const char *what)
{
	int rc = sqlite3_step(stmt);
	int rv = 0;
	if (rc != SQLITE_DONE) {
		rv = nodedb_sqlite_error(db, rc, what);
	}
	sqlite3_reset(stmt);
	return rv;
}

static int exec(struct nodedb *db, const char *sql, const char *what)
{
	int rc = sqlite3_exec(db->sql, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		return nodedb_sqlite_error(db, rc, what);
	}
	return 0;
}

int nodedb_tx_begin(struct nodedb *db)
{
	return exec(db, "BEGIN IMMEDIATE", "begin transaction");
}

int nodedb_tx_commit(struct nodedb *db)
{
	int rv = exec(db, "COMMIT", "commit");
	if (rv != 0) {
		nodedb_tx_rollback(db);
	}
	return rv;
}

void nodedb_tx_rollback(struct nodedb *db)
{
	if (!sqlite3_get_autocommit(db->sql)) {
		sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
	}
}

static int check_dir(const char *dir, char *errmsg)
{
	struct stat st;
	if (stat(dir, &st) != 0) {
		tm_errmsg_printf(errmsg, "database directory %s: %s", dir,
				 strerror(errno));
		return errno == ENOENT ? TM_NOTFOUND : TM_IO;
	}
	if (!S_ISDIR(st.st_mode)) {
		tm_errmsg_printf(errmsg, "database directory %s: not a "
				 "directory", dir);
		return TM_INVALID;
	}
	return 0;
}

/* Create PATH with mode 0600 unless it exists; an existing file keeps its
 * mode. */
static int create_file(const char *path, char *errmsg)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		tm_errmsg_printf(errmsg, "%s: %s", path, strerror(errno));
		return TM_IO;
	}
	close(fd);
	return 0;
}

static int set_pragmas(struct nodedb *db)
{
	sqlite3_stmt *stmt = NULL;
	int rc = sqlite3_prepare_v2(db->sql, "PRAGMA journal_mode=WAL", -1,
				    &stmt, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(stmt);
	}
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(stmt);
		return nodedb_sqlite_error(db, rc, "set WAL mode");
	}
	const char *mode = (const char *)sqlite3_column_text(stmt, 0);
	bool wal = mode != NULL && strcmp(mode, "wal") == 0;
	sqlite3_finalize(stmt);
	if (!wal) {
		tm_errmsg_printf(db->errmsg, "set WAL mode: not supported");
		return TM_DB;
	}
	return exec(db,
		    "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
		    "set pragmas");
}

/* The file is small: read all of it once, so that damage anywhere stops
 * the open instead of a later request. */
static int quick_check(struct nodedb *db)
{
	sqlite3_stmt *stmt = NULL;
	int rc = sqlite3_prepare_v2(db->sql, "PRAGMA quick_check(1)", -1,
				    &stmt, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(stmt);
	}
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(stmt);
		return nodedb_sqlite_error(db, rc, "quick_check");
	}
	const char *result = (const char *)sqlite3_column_text(stmt, 0);
	int rv = 0;
	if (result == NULL || strcmp(result, "ok") != 0) {
		tm_errmsg_printf(db->errmsg,
				 "quick_check: database disk image is "
				 "malformed: %s",
				 result != NULL ? result : "(no result)");
		for (char *p = db->errmsg; *p != '\0'; p++) {
			*p = *p == '\n' ? ' ' : *p;
		}
		rv = TM_CORRUPT;
	}
	sqlite3_finalize(stmt);
	return rv;
}

static int prepare_all(struct nodedb *db)
{
	for (int i = 0; i < NODEDB_STMT_COUNT; i++) {
		int rc = sqlite3_prepare_v3(db->sql, stmt_sql[i], -1,
					    SQLITE_PREPARE_PERSISTENT,
					    &db->stmts[i], NULL);
		if (rc != SQLITE_OK) {
			return nodedb_sqlite_error(db, rc, stmt_sql[i]);
		}
	}
	return 0;
}

/* Open the connection and bring it to the latest schema. */
static int setup(struct nodedb *db, const char *dir)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW;
	int rc = sqlite3_open_v2(db->path, &db->sql, flags, NULL);
	if (rc != SQLITE_OK) {
		if (db->sql == NULL) {
			tm_errmsg_printf(db->errmsg, "open: out of memory");
			return TM_NOMEM;
		}
		return nodedb_sqlite_error(db, rc, "open");
	}
	sqlite3_extended_result_codes(db->sql, 1);
	sqlite3_busy_timeout(db->sql, NODEDB_BUSY_TIMEOUT_MS);
	int rv = set_pragmas(db);
	if (rv == 0) {
		rv = quick_check(db);
	}
	if (rv != 0) {
		return rv;
	}
	char *backup = tm_asprintf("%s/%s", dir, NODEDB_BACKUP_FILE);
	/* schema_ensure() logs the update it makes */
	rv = schema_ensure(db->sql, nodedb_schema(), backup, NULL, NULL,
			   db->errmsg);
	tm_free(backup);
	if (rv != 0) {
		return rv;
	}
	return prepare_all(db);
}

int nodedb_open(const char *dir, struct nodedb **out, char *errmsg)
{
	PRE(dir != NULL && out != NULL && errmsg != NULL);
	int rv = check_dir(dir, errmsg);
	if (rv != 0) {
		return rv;
	}
	struct nodedb *db = tm_calloc(1, sizeof *db);
	db->path = tm_asprintf("%s/%s", dir, NODEDB_FILE);
	rv = create_file(db->path, errmsg);
	if (rv != 0) {
		goto err_after_alloc;
	}
	rv = setup(db, dir);
	if (rv != 0) {
		tm_errmsg_printf(errmsg, "%s: %s", db->path, db->errmsg);
		goto err_after_alloc;
	}
	*out = db;
	return 0;

err_after_alloc:
	nodedb_close(db);
	return rv;
}

void nodedb_close(struct nodedb *db)
{
	if (db == NULL) {
		return;
	}
	for (int i = 0; i < NODEDB_STMT_COUNT; i++) {
		sqlite3_finalize(db->stmts[i]);
	}
	if (db->sql != NULL && sqlite3_close(db->sql) != SQLITE_OK) {
		/* A statement prepared through nodedb_sqlite() is still open:
		 * the connection closes once the caller finalizes it. */
		LOGW("local database %s: close: %s", db->path,
		     sqlite3_errmsg(db->sql));
		sqlite3_close_v2(db->sql);
	}
	tm_free(db->path);
	tm_free(db);
}

sqlite3 *nodedb_sqlite(struct nodedb *db)
{
	PRE(db != NULL);
	return db->sql;
}

const char *nodedb_errmsg(struct nodedb *db)
{
	PRE(db != NULL);
	return db->errmsg;
}

/* schema_ensure(): one transaction that takes a database to the latest
 * version.
 *
 *   BEGIN                      (deferred)
 *   read the version           (starts the read snapshot)
 *                              (corrupt table -> TM_CORRUPT)
 *   newer -> TM_NEWER, same -> done
 *   0     -> fresh() or every update, record the final version
 *   k     -> backup, then updates[k..n-1], recording each version
 *   COMMIT
 *
 * The transaction is deferred because SQLite's backup API refuses a source
 * connection that holds a write transaction. The version and the backup come
 * from one read snapshot; the first write of the first update upgrades it to
 * a write transaction, which SQLite only grants if nobody else committed in
 * between (otherwise TM_BUSY and nothing is changed). So the backup is
 * exactly the state the updates start from.
 *
 * Any failure rolls the transaction back, so the file keeps its old version
 * and content. An update is its apply function or, when that is NULL, its
 * SQL statements (statements.c). */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "internal/db/schema/private.h"
#include "internal/db/schema/schema.h"
#include "internal/lib/assert.h"
#include "internal/lib/err.h"
#include "internal/lib/fs.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"

const char schema_table_sql[] = "CREATE TABLE schema (version INTEGER PRIMARY "
				"KEY, updated_at INTEGER NOT NULL)";

int schema_fail_newer(int version, int known, char *errmsg)
{
	tm_errmsg_printf(errmsg,
			 "database schema %d is newer than this thermionicd "
			 "(%d); upgrade thermionicd",
			 version, known);
	return TM_NEWER;
}

int schema_exec(sqlite3 *db, const char *sql, char *errmsg)
{
	PRE(db != NULL && sql != NULL && errmsg != NULL);
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		tm_errmsg_printf(errmsg, "%s",
				 msg != NULL ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return (rc & 0xff) == SQLITE_BUSY ? TM_BUSY : TM_DB;
	}
	return 0;
}

static int table_exists(sqlite3 *db, const char *name, bool *exists,
			char *errmsg)
{
	static const char *sql = "SELECT 1 FROM sqlite_master "
				 "WHERE type = 'table' AND name = ?";
	sqlite3_stmt *stmt = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		tm_errmsg_printf(errmsg, "read schema: %s", sqlite3_errmsg(db));
		return TM_DB;
	}
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(stmt);
	*exists = rc == SQLITE_ROW;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		tm_errmsg_printf(errmsg, "read schema: %s", sqlite3_errmsg(db));
		sqlite3_finalize(stmt);
		return rc == SQLITE_BUSY ? TM_BUSY : TM_DB;
	}
	sqlite3_finalize(stmt);
	return 0;
}

/* Check the rows of the version table: N integer versions, contiguous. */
static int check_versions(sqlite3_stmt *stmt, int *version, char *errmsg)
{
	sqlite3_int64 count = sqlite3_column_int64(stmt, 0);
	sqlite3_int64 min = sqlite3_column_int64(stmt, 1);
	sqlite3_int64 max = sqlite3_column_int64(stmt, 2);
	sqlite3_int64 not_int = sqlite3_column_int64(stmt, 3);
	if (count == 0) {
		tm_errmsg_printf(errmsg, "schema table is empty");
		return TM_CORRUPT;
	}
	if (not_int != 0) {
		tm_errmsg_printf(errmsg, "schema table holds %lld non-integer "
				 "versions", (long long)not_int);
		return TM_CORRUPT;
	}
	if (min < 1 || max > INT_MAX) {
		tm_errmsg_printf(errmsg, "schema table holds invalid version "
				 "%lld", (long long)(min < 1 ? min : max));
		return TM_CORRUPT;
	}
	if (count != max - min + 1) {
		tm_errmsg_printf(errmsg, "schema table has gaps: %lld versions "
				 "recorded between %lld and %lld",
				 (long long)count, (long long)min,
				 (long long)max);
		return TM_CORRUPT;
	}
	*version = (int)max;
	return 0;
}

int schema_version(sqlite3 *db, int *version, char *errmsg)
{
	PRE(db != NULL && version != NULL && errmsg != NULL);
	static const char *sql =
		"SELECT count(*), min(version), max(version), "
		"coalesce(sum(typeof(version) <> 'integer'), 0) FROM schema";
	bool exists;
	int rv = table_exists(db, "schema", &exists, errmsg);
	if (rv != 0) {
		return rv;
	}
	if (!exists) {
		*version = 0;
		return 0;
	}
	sqlite3_stmt *stmt = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		tm_errmsg_printf(errmsg, "schema table unreadable: %s",
				 sqlite3_errmsg(db));
		return TM_CORRUPT;
	}
	int rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW) {
		tm_errmsg_printf(errmsg, "read schema table: %s",
				 sqlite3_errmsg(db));
		sqlite3_finalize(stmt);
		return rc == SQLITE_BUSY ? TM_BUSY : TM_DB;
	}
	rv = check_versions(stmt, version, errmsg);
	sqlite3_finalize(stmt);
	return rv;
}

static int record_version(sqlite3 *db, int version, char *errmsg)
{
	static const char *sql =
		"INSERT INTO schema(version, updated_at) VALUES(?, ?)";
	sqlite3_stmt *stmt = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		tm_errmsg_printf(errmsg, "record schema %d: %s", version,
				 sqlite3_errmsg(db));
		return TM_DB;
	}
	sqlite3_bind_int(stmt, 1, version);
	sqlite3_bind_int64(stmt, 2, (sqlite3_int64)time(NULL));
	int rc = sqlite3_step(stmt);
	if (rc != SQLITE_DONE) {
		tm_errmsg_printf(errmsg, "record schema %d: %s", version,
				 sqlite3_errmsg(db));
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : TM_DB;
}

static int apply_update(sqlite3 *db, const struct schema_update *u,
			char *errmsg)
{
	if (u->apply != NULL) {
		return u->apply(db, errmsg);
	}
	if (u->statements != NULL) {
		return schema_run_statements(db, u->statements, errmsg);
	}
	tm_errmsg_printf(errmsg, "neither an apply function nor statements");
	return TM_INVALID;
}

/* Run one step, S->fresh if INDEX is -1 and S->updates[INDEX] otherwise,
 * and describe its failure as "schema update 3 (add tags): <reason>". */
static int run_step(sqlite3 *db, const struct schema *s, int index,
		    char *errmsg)
{
	char reason[TM_ERRMSG_SIZE] = "";
	char what[TM_ERRMSG_SIZE];
	int rv;
	if (index < 0) {
		snprintf(what, sizeof what, "fresh schema %zu", s->n_updates);
		rv = s->fresh(db, reason);
	} else {
		snprintf(what, sizeof what, "schema update %d (%s)", index + 1,
			 s->updates[index].description);
		rv = apply_update(db, &s->updates[index], reason);
	}
	if (rv == 0 && sqlite3_get_autocommit(db)) {
		tm_errmsg_printf(reason, "the update ended the transaction");
		rv = TM_DB;
	}
	if (rv == 0) {
		return 0;
	}
	if (reason[0] == '\0') {
		tm_errmsg_printf(reason, "%s", sqlite3_errmsg(db));
	}
	if (rv < 0 || rv >= TM_ERR_MAX) {
		rv = TM_DB;
	}
	tm_errmsg_printf(errmsg, "%s: %s", what, reason);
	return rv;
}

static int install_fresh(sqlite3 *db, const struct schema *s, char *errmsg)
{
	int n = (int)s->n_updates;
	int rv = schema_exec(db, schema_table_sql, errmsg);
	if (rv != 0) {
		tm_errmsg_wrapf(errmsg, "create schema table");
		return rv;
	}
	if (s->fresh != NULL) {
		rv = run_step(db, s, -1, errmsg);
	}
	for (int i = 0; s->fresh == NULL && rv == 0 && i < n; i++) {
		rv = run_step(db, s, i, errmsg);
	}
	if (rv != 0) {
		return rv;
	}
	return record_version(db, n, errmsg);
}

/* Keep a backup of a version other than CURRENT by renaming it aside. */
static int keep_previous_backup(const char *path, int current,
				const char *name, char *errmsg)
{
	if (!fs_exists(path)) {
		return 0;
	}
	sqlite3 *old = NULL;
	int version = -1;
	char ignored[TM_ERRMSG_SIZE];
	if (sqlite3_open_v2(path, &old, SQLITE_OPEN_READONLY, NULL) ==
		    SQLITE_OK &&
	    schema_version(old, &version, ignored) != 0) {
		version = -1;
	}
	sqlite3_close_v2(old);
	if (version == current) {
		return 0; /* an earlier attempt at this same upgrade */
	}
	char *aside = version >= 0 ? tm_asprintf("%s.%d", path, version)
				   : tm_asprintf("%s.old", path);
	int rv = 0;
	if (rename(path, aside) != 0) {
		tm_errmsg_printf(errmsg, "rename %s: %s", path,
				 strerror(errno));
		rv = TM_IO;
	} else {
		LOGW("%s database: keeping the previous backup %s as %s",
		     name, path, aside);
	}
	tm_free(aside);
	return rv;
}

static int upgrade(sqlite3 *db, const struct schema *s, int version,
		   const char *backup_path, char *errmsg)
{
	int rv;
	if (backup_path != NULL) {
		rv = keep_previous_backup(backup_path, version, s->name,
					  errmsg);
		if (rv == 0) {
			rv = schema_backup(db, backup_path, errmsg);
		}
		if (rv != 0) {
			tm_errmsg_wrapf(errmsg, "backup before schema update");
			return rv;
		}
		LOGI("%s database: schema %d backed up to %s", s->name,
		     version, backup_path);
	}
	for (int i = version; i < (int)s->n_updates; i++) {
		rv = run_step(db, s, i, errmsg);
		if (rv == 0) {
			rv = record_version(db, i + 1, errmsg);
		}
		if (rv != 0) {
			return rv;
		}
	}
	return 0;
}

static void rollback(sqlite3 *db)
{
	/* SQLite may already have rolled back on its own (SQLITE_FULL,
	 * SQLITE_IOERR...); then there is nothing left to undo. */
	if (!sqlite3_get_autocommit(db)) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	}
}

/* Everything between BEGIN and COMMIT; *VERSION gets the version found. */
static int ensure_in_tx(sqlite3 *db, const struct schema *s,
			const char *backup_path, int *version, char *errmsg)
{
	int rv = schema_exec(db, "PRAGMA defer_foreign_keys = ON", errmsg);
	if (rv == 0) {
		rv = schema_version(db, version, errmsg);
	}
	if (rv != 0) {
		return rv;
	}
	int known = (int)s->n_updates;
	if (*version > known) {
		return schema_fail_newer(*version, known, errmsg);
	}
	if (*version == known) {
		return 0;
	}
	if (*version == 0) {
		return install_fresh(db, s, errmsg);
	}
	return upgrade(db, s, *version, backup_path, errmsg);
}

int schema_ensure(sqlite3 *db, const struct schema *s, const char *backup_path,
		  int *from, int *to, char *errmsg)
{
	PRE(db != NULL && s != NULL && s->name != NULL && errmsg != NULL);
	PRE(s->n_updates > 0 && s->n_updates <= INT_MAX);
	PRE(sqlite3_get_autocommit(db));
	errmsg[0] = '\0';
	int version = 0;
	int rv = schema_exec(db, "BEGIN", errmsg);
	if (rv != 0) {
		tm_errmsg_wrapf(errmsg, "begin schema transaction");
		return rv;
	}
	rv = ensure_in_tx(db, s, backup_path, &version, errmsg);
	if (rv == 0 && version != (int)s->n_updates) {
		rv = schema_exec(db, "COMMIT", errmsg);
		if (rv != 0) {
			tm_errmsg_wrapf(errmsg, "commit schema update");
		}
	}
	if (rv != 0 || version == (int)s->n_updates) {
		rollback(db);
	}
	if (from != NULL) {
		*from = version;
	}
	if (to != NULL) {
		*to = rv == 0 ? (int)s->n_updates : version;
	}
	if (rv == 0 && version != (int)s->n_updates) {
		LOGI("%s database: schema updated from %d to %zu", s->name,
		     version, s->n_updates);
	}
	return rv;
}

/* Consistent, durable copies of a database file.
 *
 * Happy path: remove leftovers of an earlier attempt (PATH.tmp and its
 * journal files), create PATH.tmp with mode 0600, copy every page with the
 * SQLite backup API, switch the copy to rollback-journal mode (a copy of a
 * WAL database would otherwise need -wal/-shm files next to it), close it,
 * fsync it, rename it over PATH and fsync the directory.
 *
 * Failure modes: PATH.tmp cannot be created (TM_IO), the copy or the journal
 * switch fails (TM_DB), fsync/rename fail (TM_IO). In every case PATH.tmp is
 * removed and PATH is left as it was. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal/db/schema/schema.h"
#include "internal/lib/assert.h"
#include "internal/lib/err.h"
#include "internal/lib/fs.h"
#include "internal/lib/mem.h"

/* Remove PATH's SQLite side files and PATH itself; missing ones are fine. */
static void remove_with_journals(const char *path)
{
	static const char *suffixes[] = {"-journal", "-wal", "-shm"};
	for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
		char *side = tm_asprintf("%s%s", path, suffixes[i]);
		unlink(side);
		tm_free(side);
	}
	unlink(path);
}

static int create_private_file(const char *path, char *errmsg)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		tm_errmsg_printf(errmsg, "create %s: %s", path,
				 strerror(errno));
		return TM_IO;
	}
	close(fd);
	return 0;
}

/* Copy SRC's main database into the empty database DST, leaving DST in
 * rollback-journal mode. */
static int copy_pages(sqlite3 *src, sqlite3 *dst, char *errmsg)
{
	int rv = schema_exec(dst, "PRAGMA synchronous=FULL", errmsg);
	if (rv != 0) {
		return rv;
	}
	sqlite3_backup *backup = sqlite3_backup_init(dst, "main", src, "main");
	if (backup == NULL) {
		tm_errmsg_printf(errmsg, "backup: %s", sqlite3_errmsg(dst));
		return TM_DB;
	}
	int step = sqlite3_backup_step(backup, -1);
	int finish = sqlite3_backup_finish(backup);
	if (step != SQLITE_DONE || finish != SQLITE_OK) {
		int code = finish != SQLITE_OK ? finish : step;
		tm_errmsg_printf(errmsg, "backup: %s", sqlite3_errstr(code));
		return TM_DB;
	}
	return schema_exec(dst, "PRAGMA journal_mode=DELETE", errmsg);
}

static int write_tmp(sqlite3 *db, const char *tmp, char *errmsg)
{
	int rv = create_private_file(tmp, errmsg);
	if (rv != 0) {
		return rv;
	}
	sqlite3 *dst = NULL;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW;
	if (sqlite3_open_v2(tmp, &dst, flags, NULL) != SQLITE_OK) {
		tm_errmsg_printf(errmsg, "open %s: %s", tmp,
				 dst != NULL ? sqlite3_errmsg(dst)
					     : "out of memory");
		sqlite3_close(dst);
		return TM_DB;
	}
	rv = copy_pages(db, dst, errmsg);
	/* No statement is left open on DST, so this closes it now. */
	sqlite3_close_v2(dst);
	if (rv != 0) {
		tm_errmsg_wrapf(errmsg, "%s", tmp);
		return rv;
	}
	return fs_sync(tmp, errmsg);
}

int schema_backup(sqlite3 *db, const char *path, char *errmsg)
{
	PRE(db != NULL && path != NULL && errmsg != NULL);
	if (sqlite3_txn_state(db, "main") == SQLITE_TXN_WRITE) {
		tm_errmsg_printf(errmsg, "cannot back up %s inside a write "
				 "transaction", path);
		return TM_BUSY;
	}
	char *tmp = tm_asprintf("%s.tmp", path);
	remove_with_journals(tmp);
	int rv = write_tmp(db, tmp, errmsg);
	if (rv != 0) {
		goto err_remove_tmp;
	}
	if (rename(tmp, path) != 0) {
		tm_errmsg_printf(errmsg, "rename %s: %s", tmp,
				 strerror(errno));
		rv = TM_IO;
		goto err_remove_tmp;
	}
	rv = fs_sync_parent(path, errmsg);
	tm_free(tmp);
	return rv;

err_remove_tmp:
	remove_with_journals(tmp);
	tm_free(tmp);
	return rv;
}

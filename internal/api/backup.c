/* GET /1.0/sql/backup: a consistent copy of the global database, streamed.
 *
 * Happy path:
 *   1. on the loop: queue a job on the daemon's worker pool; the loop is
 *      free at once;
 *   2. on a worker: open the database file read-only (a WAL reader: it
 *      neither blocks nor waits for the apply connection), create
 *      DIR/backup-XXXXXX (mode 0600), BEGIN a read transaction on the
 *      source and copy it with sqlite3_backup_step in steps of
 *      SQL_BACKUP_STEP_PAGES pages. The source's read transaction stays
 *      open between steps, so every step reads the same state (the one
 *      after one applied entry) and the backup never restarts. Then
 *      PRAGMA journal_mode=DELETE so that the file alone is the database
 *      (no -wal to go with it), close;
 *   3. back on the loop: open the file for reading and unlink it at once
 *      (the descriptor keeps it readable; nothing is left behind whatever
 *      happens next) -> rest_stream_* in SQL_BACKUP_CHUNK pieces, each read
 *      and written only after the previous write's callback, so memory
 *      stays bounded whatever the database size. Reading 64 KiB of a file
 *      just written comes from the page cache.
 *
 * Failure modes:
 * - no worker pool yet: 503;
 * - the copy fails (disk full, I/O error): 500, the temporary file is
 *   removed;
 * - the client goes away: during the copy, the copy finishes and the
 *   answer goes nowhere (the request stays valid until it); while
 *   streaming, the pending write's callback reports an error (or
 *   rest_stream_write refuses): stop and close the descriptor;
 * - a read error mid-stream (not expected from a file we just wrote):
 *   logged, and the response ends early. The REST server has no way to
 *   abort a started chunked response, so the client could see a short file;
 *   a short file fails SQLite's integrity check.
 *
 * While the copy runs, the source's read transaction holds back WAL
 * checkpoints: the -wal file grows by what is written meanwhile. A daemon
 * that stops waits for a running copy (the pool drains its queue). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal/api/sql.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"
#include "internal/lib/pool.h"

static int copy_file(sqlite3 *src, const char *dir, char **path, char *errmsg);

static void remove_files(const char *path)
{
	char *journal = tm_asprintf("%s-journal", path);
	unlink(path);
	unlink(journal);
	tm_free(journal);
}

static int copy_into(sqlite3 *src, sqlite3 *dst, char *errmsg)
{
	/* A temporary file needs no fsync. */
	int rc = sqlite3_exec(dst, "PRAGMA synchronous=OFF", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		tm_errmsg_printf(errmsg, "PRAGMA synchronous: %s",
				 sqlite3_errmsg(dst));
		return TM_DB;
	}
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
	if (b == NULL) {
		tm_errmsg_printf(errmsg, "sqlite3_backup_init: %s",
				 sqlite3_errmsg(dst));
		return TM_DB;
	}
	do {
		rc = sqlite3_backup_step(b, SQL_BACKUP_STEP_PAGES);
	} while (rc == SQLITE_OK);
	int finish_rc = sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE || finish_rc != SQLITE_OK) {
		tm_errmsg_printf(
		    errmsg, "sqlite3_backup_step: %s",
		    sqlite3_errstr(rc != SQLITE_DONE ? rc : finish_rc));
		return (rc & 0xff) == SQLITE_FULL || (rc & 0xff) == SQLITE_IOERR
			   ? TM_IO
			   : TM_DB;
	}
	rc = sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		tm_errmsg_printf(errmsg, "PRAGMA journal_mode: %s",
				 sqlite3_errmsg(dst));
		return TM_DB;
	}
	return 0;
}

/* The source's read transaction, held across every step. */
static int pin_source(sqlite3 *src, bool *began, char *errmsg)
{
	*began = false;
	if (!sqlite3_get_autocommit(src)) {
		return 0; /* the caller's transaction holds it already */
	}
	int rc = sqlite3_exec(src, "BEGIN; SELECT 1 FROM sqlite_schema LIMIT 1",
			      NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		tm_errmsg_printf(errmsg, "begin reading the database: %s",
				 sqlite3_errmsg(src));
		if (!sqlite3_get_autocommit(src)) {
			sqlite3_exec(src, "ROLLBACK", NULL, NULL, NULL);
		}
		return TM_DB;
	}
	*began = true;
	return 0;
}

int sql_backup_copy(sqlite3 *src, const char *dir, char **path, char *errmsg)
{
	bool began;
	int rv = pin_source(src, &began, errmsg);
	if (rv != 0) {
		return rv;
	}
	rv = copy_file(src, dir, path, errmsg);
	if (began) {
		sqlite3_exec(src, "COMMIT", NULL, NULL, NULL);
	}
	return rv;
}

int sql_backup_copy_file(const char *src_path, const char *dir, char **path,
			 char *errmsg)
{
	sqlite3 *src = NULL;
	int rc = sqlite3_open_v2(
	    src_path, &src, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(src, 1000);
	} else {
		tm_errmsg_printf(errmsg, "open %s: %s", src_path,
				 src != NULL ? sqlite3_errmsg(src)
					     : sqlite3_errstr(rc));
		sqlite3_close(src);
		return TM_IO;
	}
	int rv = sql_backup_copy(src, dir, path, errmsg);
	sqlite3_close(src);
	return rv;
}

static int copy_file(sqlite3 *src, const char *dir, char **path, char *errmsg)
{
	sqlite3 *dst = NULL;
	char *tmp = tm_asprintf("%s/backup-XXXXXX", dir);
	int rv;

	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		tm_errmsg_printf(errmsg, "create %s: %s", tmp, strerror(errno));
		tm_free(tmp);
		return TM_IO;
	}
	close(fd);
	int rc = sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE, NULL);
	if (rc != SQLITE_OK) {
		tm_errmsg_printf(errmsg, "open %s: %s", tmp,
				 dst != NULL ? sqlite3_errmsg(dst)
					     : sqlite3_errstr(rc));
		rv = TM_IO;
		goto err_after_open;
	}
	rv = copy_into(src, dst, errmsg);
	if (rv != 0) {
		goto err_after_open;
	}
	rc = sqlite3_close(dst);
	dst = NULL;
	if (rc != SQLITE_OK) {
		tm_errmsg_printf(errmsg, "close %s: %s", tmp,
				 sqlite3_errstr(rc));
		rv = TM_IO;
		goto err_after_open;
	}
	*path = tmp;
	return 0;

err_after_open:
	sqlite3_close(dst);
	remove_files(tmp);
	tm_free(tmp);
	return rv;
}

/* One streamed backup; freed by stream_finish. */
struct backup_stream {
	int fd;	       /* the unlinked copy */
	uint64_t sent; /* bytes handed to rest so far */
	char chunk[SQL_BACKUP_CHUNK];
};

static void stream_finish(struct rest_request *req, struct backup_stream *s)
{
	close(s->fd);
	tm_free(s);
	rest_stream_end(req);
}

static void stream_next(struct rest_request *req, struct backup_stream *s);

static void chunk_written_cb(struct rest_request *req, void *arg, int status)
{
	struct backup_stream *s = arg;
	if (status != 0) {
		LOGD("sql: backup: client gone after %llu bytes: %s",
		     (unsigned long long)s->sent, tm_strerror(status));
		stream_finish(req, s);
		return;
	}
	stream_next(req, s);
}

static void stream_next(struct rest_request *req, struct backup_stream *s)
{
	ssize_t n;
	do {
		n = read(s->fd, s->chunk, sizeof s->chunk);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		LOGE("sql: backup: read after %llu bytes: %s",
		     (unsigned long long)s->sent, strerror(errno));
		stream_finish(req, s);
		return;
	}
	if (n == 0) {
		LOGD("sql: backup: sent %llu bytes",
		     (unsigned long long)s->sent);
		stream_finish(req, s);
		return;
	}
	if (rest_stream_write(req, s->chunk, (size_t)n, chunk_written_cb, s) !=
	    0) {
		LOGD("sql: backup: client gone after %llu bytes",
		     (unsigned long long)s->sent);
		stream_finish(req, s);
		return;
	}
	s->sent += (uint64_t)n;
}

/* Step 3, on the loop: stream the copy at PATH (owned, freed here). */
static void send_copy(struct rest_request *req, char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int open_errno = errno;
	remove_files(path);
	if (fd < 0) {
		rest_respond_error(req, 500, "backup: open %s: %s", path,
				   strerror(open_errno));
		tm_free(path);
		return;
	}
	tm_free(path);
	struct backup_stream *s = tm_malloc(sizeof *s);
	s->fd = fd;
	s->sent = 0;
	if (rest_stream_begin(req, 200, SQL_BACKUP_CONTENT_TYPE,
			      "Content-Disposition: attachment; "
			      "filename=\"global.db\"\r\n") != 0) {
		stream_finish(req, s);
		return;
	}
	stream_next(req, s);
}

/* One copy on a worker; freed by copy_done. */
struct backup_job {
	struct pool_work work;
	struct rest_request *req;
	char *src_path; /* owned */
	char *dir;	/* owned */
	char *path;	/* the copy, owned; NULL on failure */
	int rv;
	char errmsg[TM_ERRMSG_SIZE];
};

static void copy_work(struct pool_work *w)
{
	struct backup_job *job = w->data;
	job->rv = sql_backup_copy_file(job->src_path, job->dir, &job->path,
				       job->errmsg);
}

static void copy_done(struct pool_work *w)
{
	struct backup_job *job = w->data;
	if (job->rv != 0) {
		LOGE("sql: backup: %s", job->errmsg);
		rest_respond_error(job->req, 500, "backup: %s", job->errmsg);
	} else {
		send_copy(job->req, job->path);
	}
	tm_free(job->src_path);
	tm_free(job->dir);
	tm_free(job);
}

void sql_backup_send(struct rest_request *req, struct pool *pool,
		     const char *src_path, const char *dir)
{
	struct backup_job *job = tm_calloc(1, sizeof *job);
	job->req = req;
	job->src_path = tm_strdup(src_path);
	job->dir = tm_strdup(dir);
	job->work.data = job;
	pool_submit(pool, &job->work, copy_work, copy_done);
}

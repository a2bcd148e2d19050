/* Backup and restore of the global database.
 *
 * Backup, happy path: check PATH does not exist (unless overwriting) ->
 * mkostemp DIR/.NAME.XXXXXX -> GET /1.0/sql/backup streamed into it ->
 * check it starts with the SQLite header -> fsync -> close -> rename to
 * PATH (RENAME_NOREPLACE unless overwriting) -> fsync DIR.
 * Failure modes: the temporary file cannot be created or written (disk
 * full), the connection breaks mid-body (curl sees fewer bytes than
 * announced, or a chunked body without its end), the daemon answers with
 * an error envelope, the body is not a whole SQLite file (a daemon that
 * ends a chunked body early after a read error sends a short file whose
 * size no longer matches the page count in its header), fsync or rename
 * fails, PATH appeared meanwhile. In each case the temporary file is
 * removed and PATH is untouched.
 *
 * Restore: check the file locally (regular, no pending WAL, SQLite
 * header, size matching the page size and count) -> POST /1.0/sql/restore
 * with the file streamed as the body -> decode the sync envelope. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkg/internal.h"

#define BACKUP_PATH "/1.0/sql/backup"
#define RESTORE_PATH "/1.0/sql/restore"
#define SQLITE_TYPE "application/vnd.sqlite3"
#define SQLITE_HEADER_SIZE TMC_SQLITE_HEADER_SIZE

/* The 16 bytes of the header, NUL included. */
static const char sqlite_magic[16] = THERMIONIC_SQLITE_HEADER;

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* Page size from the header (bytes 16-17, big-endian; 1 means 65536), or
 * 0 if it is not a power of two in 512..65536. */
static unsigned sqlite_page_size(const unsigned char *h)
{
	unsigned size = (unsigned)h[16] << 8 | h[17];
	if (size == 1) {
		size = 65536;
	}
	if (size < 512 || size > 65536 || (size & (size - 1)) != 0) {
		return 0;
	}
	return size;
}

/* Why a database image of SIZE bytes starting with the header H (at
 * least SQLITE_HEADER_SIZE bytes of it when SIZE allows) is not a whole
 * SQLite database, or NULL if nothing is wrong with it:
 * - it does not start with the magic string;
 * - its size is not a multiple of its page size;
 * - its header counts the pages (bytes 28-31, valid when the
 *   version-valid-for number at 92 equals the change counter at 24, as
 *   every SQLite since 3.7.0 writes it) and SIZE holds fewer or more. */
static const char *sqlite_image_check(const unsigned char *h, uint64_t size)
{
	unsigned page;
	uint32_t pages;

	if (size < SQLITE_HEADER_SIZE || memcmp(h, sqlite_magic, 16) != 0) {
		return "is not a SQLite database (it does not start with the "
		       "header \"" THERMIONIC_SQLITE_HEADER "\")";
	}
	page = sqlite_page_size(h);
	if (page == 0 || size % page != 0) {
		return "is truncated or damaged: its size is not a multiple "
		       "of its page size";
	}
	pages = be32(h + 28);
	if (pages != 0 && be32(h + 92) == be32(h + 24) &&
	    size != (uint64_t)pages * page) {
		return "is truncated or damaged: its size does not match the "
		       "page count in its header";
	}
	return NULL;
}

static int backup_download(struct thermionic_client *c, int fd, uint64_t *bytes)
{
	struct thermionic_response resp;
	struct tmc_exchange ex;
	int rv;

	tmc_exchange_init(&ex);
	ex.method = "GET";
	ex.path = BACKUP_PATH;
	ex.download_fd = fd;
	ex.accept = SQLITE_TYPE ", application/json";
	ex.stall_timeout = true;
	rv = tmc_transport_exchange(c, &ex);
	if (rv == THERMIONIC_OK && !c->download_active) {
		/* An envelope: the daemon's error, or a JSON success that
		 * is not a database. */
		rv = tmc_envelope_decode(c, &resp);
		if (rv == THERMIONIC_OK) {
			thermionic_response_clear(&resp);
			rv = tmc_fail(c, THERMIONIC_ERR_PROTO,
				      "malformed response from %s: a JSON "
				      "answer instead of a SQLite database",
				      c->target);
		}
	} else if (rv == THERMIONIC_OK) {
		const char *why =
		    sqlite_image_check(c->download_head, c->download_bytes);
		if (why != NULL) {
			rv = tmc_fail(c, THERMIONIC_ERR_PROTO,
				      "malformed response from %s: the backup "
				      "(%llu bytes) %s",
				      c->target,
				      (unsigned long long)c->download_bytes,
				      why);
		}
	}
	if (rv == THERMIONIC_OK && bytes != NULL) {
		*bytes = c->download_bytes;
	}
	tmc_transport_reset(c);
	return rv;
}

int thermionic_backup_fd(struct thermionic_client *client, int fd,
			 uint64_t *bytes)
{
	if (bytes != NULL) {
		*bytes = 0;
	}
	if (client == NULL) {
		return THERMIONIC_ERR_INVALID;
	}
	tmc_clear_error(client);
	if (fd < 0) {
		return tmc_fail(client, THERMIONIC_ERR_INVALID,
				"invalid file descriptor %d", fd);
	}
	return backup_download(client, fd, bytes);
}

/* Split PATH into its directory (owned) and the temporary file pattern
 * DIR/.NAME.XXXXXX (owned). False on out of memory. */
static bool backup_names(const char *path, char **dir, char **tmp)
{
	const char *slash = strrchr(path, '/');
	const char *name = slash != NULL ? slash + 1 : path;
	size_t dir_len = slash == NULL ? 1 : (size_t)(slash - path);
	size_t tmp_len;

	if (slash == path) {
		dir_len = 1; /* "/name": the root directory */
	}
	*dir = malloc(dir_len + 1);
	tmp_len = dir_len + strlen(name) + 10;
	*tmp = malloc(tmp_len);
	if (*dir == NULL || *tmp == NULL) {
		free(*dir);
		free(*tmp);
		return false;
	}
	memcpy(*dir, slash == NULL ? "." : path, dir_len);
	(*dir)[dir_len] = '\0';
	snprintf(*tmp, tmp_len, "%s/.%s.XXXXXX", *dir, name);
	return true;
}

/* Put TMP in place as PATH. Without OVERWRITE, an existing PATH is kept:
 * renameat2(RENAME_NOREPLACE), or link()+unlink() on file systems that do
 * not support that flag. */
static int backup_place(struct thermionic_client *c, const char *tmp,
			const char *path, bool overwrite)
{
	int rc;

	if (overwrite) {
		rc = rename(tmp, path);
	} else {
		rc = renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE);
		if (rc != 0 && (errno == EINVAL || errno == ENOSYS)) {
			rc = link(tmp, path);
			if (rc == 0) {
				unlink(tmp);
			}
		}
	}
	if (rc == 0) {
		return THERMIONIC_OK;
	}
	if (errno == EEXIST) {
		return tmc_fail(c, THERMIONIC_ERR_EXISTS, "%s exists", path);
	}
	return tmc_fail(c, THERMIONIC_ERR_IO, "cannot rename %s to %s: %s", tmp,
			path, strerror(errno));
}

static int backup_sync_dir(struct thermionic_client *c, const char *dir,
			   const char *path)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int err;
	if (fd < 0) {
		err = errno;
	} else {
		err = fsync(fd) == 0 ? 0 : errno;
		close(fd);
	}
	if (err != 0) {
		return tmc_fail(c, THERMIONIC_ERR_IO,
				"%s was written but its directory could not "
				"be synced: %s",
				path, strerror(err));
	}
	return THERMIONIC_OK;
}

/* Download into the open temporary file FD, make it durable, close it. */
static int backup_fill(struct thermionic_client *c, int fd, const char *tmp,
		       uint64_t *bytes)
{
	int rv = backup_download(c, fd, bytes);
	if (rv == THERMIONIC_OK && fsync(fd) != 0) {
		rv = tmc_fail(c, THERMIONIC_ERR_IO, "cannot sync %s: %s", tmp,
			      strerror(errno));
	}
	if (close(fd) != 0 && rv == THERMIONIC_OK) {
		rv = tmc_fail(c, THERMIONIC_ERR_IO, "cannot close %s: %s", tmp,
			      strerror(errno));
	}
	return rv;
}

int thermionic_backup(struct thermionic_client *client, const char *path,
		      bool overwrite, uint64_t *bytes)
{
	struct stat st;
	char *dir = NULL;
	char *tmp = NULL;
	uint64_t n = 0;
	int fd;
	int rv;

	if (bytes != NULL) {
		*bytes = 0;
	}
	if (client == NULL) {
		return THERMIONIC_ERR_INVALID;
	}
	tmc_clear_error(client);
	if (path == NULL || path[0] == '\0' || path[strlen(path) - 1] == '/') {
		return tmc_fail(client, THERMIONIC_ERR_INVALID,
				"invalid backup file name \"%s\"",
				path == NULL ? "(null)" : path);
	}
	if (!overwrite && lstat(path, &st) == 0) {
		return tmc_fail(client, THERMIONIC_ERR_EXISTS, "%s exists",
				path);
	}
	if (!backup_names(path, &dir, &tmp)) {
		return tmc_fail(client, THERMIONIC_ERR_NOMEM, "out of memory");
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		rv = tmc_fail(client, THERMIONIC_ERR_IO,
			      "cannot create a file in %s: %s", dir,
			      strerror(errno));
		goto out_names;
	}
	rv = backup_fill(client, fd, tmp, &n);
	if (rv == THERMIONIC_OK) {
		rv = backup_place(client, tmp, path, overwrite);
	}
	if (rv != THERMIONIC_OK) {
		unlink(tmp);
		goto out_names;
	}
	rv = backup_sync_dir(client, dir, path);
	if (bytes != NULL) {
		*bytes = n;
	}
out_names:
	free(dir);
	free(tmp);
	return rv;
}

/* A WAL database (header bytes 18-19 are 2) whose PATH-wal is not empty
 * holds changes the main file alone does not have. */
static bool restore_wal_pending(const char *path, const unsigned char *h)
{
	struct stat st;
	size_t len = strlen(path) + 5;
	char *wal;
	bool pending;

	if (h[18] != 2 && h[19] != 2) {
		return false;
	}
	wal = malloc(len);
	if (wal == NULL) {
		return false; /* the daemon checks the file anyway */
	}
	snprintf(wal, len, "%s-wal", path);
	pending = stat(wal, &st) == 0 && st.st_size > 0;
	free(wal);
	return pending;
}

/* Everything that can be checked before sending. */
static int restore_check(struct thermionic_client *c, int fd, const char *path,
			 uint64_t *size)
{
	unsigned char h[SQLITE_HEADER_SIZE];
	const char *why;
	struct stat st;
	ssize_t got;

	if (fstat(fd, &st) != 0) {
		return tmc_fail(c, THERMIONIC_ERR_IO, "cannot stat %s: %s",
				path, strerror(errno));
	}
	if (!S_ISREG(st.st_mode)) {
		return tmc_fail(c, THERMIONIC_ERR_INVALID,
				"%s is not a regular file", path);
	}
	do {
		got = pread(fd, h, sizeof h, 0);
	} while (got < 0 && errno == EINTR);
	if (got < 0) {
		return tmc_fail(c, THERMIONIC_ERR_IO, "cannot read %s: %s",
				path, strerror(errno));
	}
	/* A pending WAL first: it makes the file look damaged too. */
	if ((size_t)got == sizeof h && memcmp(h, sqlite_magic, 16) == 0 &&
	    restore_wal_pending(path, h)) {
		return tmc_fail(
		    c, THERMIONIC_ERR_INVALID,
		    "%s is in WAL mode and %s-wal holds changes "
		    "it does not have yet: checkpoint it first "
		    "(sqlite3 %s 'PRAGMA wal_checkpoint(TRUNCATE)')",
		    path, path, path);
	}
	why = sqlite_image_check(
	    h, (size_t)got < sizeof h ? (uint64_t)got : (uint64_t)st.st_size);
	if (why != NULL) {
		return tmc_fail(c, THERMIONIC_ERR_INVALID, "%s %s", path, why);
	}
	*size = (uint64_t)st.st_size;
	return THERMIONIC_OK;
}

int thermionic_restore(struct thermionic_client *client, const char *path,
		       uint64_t *bytes)
{
	struct thermionic_response resp;
	struct tmc_exchange ex;
	uint64_t size = 0;
	int fd;
	int rv;

	if (bytes != NULL) {
		*bytes = 0;
	}
	if (client == NULL) {
		return THERMIONIC_ERR_INVALID;
	}
	tmc_clear_error(client);
	if (path == NULL || path[0] == '\0') {
		return tmc_fail(client, THERMIONIC_ERR_INVALID,
				"no file to restore");
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return tmc_fail(client, THERMIONIC_ERR_IO, "cannot open %s: %s",
				path, strerror(errno));
	}
	rv = restore_check(client, fd, path, &size);
	if (rv != THERMIONIC_OK) {
		goto out_fd;
	}
	tmc_exchange_init(&ex);
	ex.method = "POST";
	ex.path = RESTORE_PATH;
	ex.upload_fd = fd;
	ex.upload_size = size;
	ex.upload_type = SQLITE_TYPE;
	ex.stall_timeout = true;
	rv = tmc_transport_exchange(client, &ex);
	if (rv == THERMIONIC_OK) {
		rv = tmc_envelope_decode(client, &resp);
		thermionic_response_clear(&resp);
	}
	tmc_transport_reset(client);
	if (rv == THERMIONIC_OK && bytes != NULL) {
		*bytes = size;
	}
out_fd:
	close(fd);
	return rv;
}

/* A snapshot's image on disk, mapped into memory: what raft is given to
 * store, instead of a copy of the database on the heap.
 *
 * gdb_snapfile_make(), on a worker: copy the state SRC's read transaction
 * sees into DIR/snapshot-copy-XXXXXX with SQLite's backup API (page by
 * page, bounded memory, no fsync: raft writes and syncs its own file from
 * this one), set header bytes 18 and 19 to 1 (the rollback-journal format:
 * the image opens without a -wal file and can be deserialized), map the
 * file read-only and unlink it, so that nothing is left behind whatever
 * happens next. Then the trailer (gdb_snap_trailer: the hash chain at the
 * snapshot and a checksum) is computed over the mapped image.
 *
 * The mapping is backed by the page cache, not by the process's heap: the
 * kernel drops its pages under pressure and reads them back from the file.
 * A leftover file (the process died between mkstemp and unlink) is removed
 * at the next start with the backup leftovers (internal/daemon). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal/db/cluster/gdb_private.h"
#include "internal/lib/hash64.h"
#include "internal/lib/mem.h"

#define COPY_PAGES 1024 /* per backup step: 4 MiB */

static int copy_into(sqlite3 *src, const char *path, char *errmsg)
{
	sqlite3 *dst = NULL;
	int rc = sqlite3_open_v2(
	    path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_exec(dst,
				  "PRAGMA journal_mode = OFF; "
				  "PRAGMA synchronous = OFF",
				  NULL, NULL, NULL);
	}
	sqlite3_backup *b = NULL;
	if (rc == SQLITE_OK) {
		b = sqlite3_backup_init(dst, "main", src, "main");
		rc = b != NULL ? SQLITE_OK : sqlite3_errcode(dst);
	}
	if (b != NULL) {
		do {
			rc = sqlite3_backup_step(b, COPY_PAGES);
		} while (rc == SQLITE_OK);
		int rc2 = sqlite3_backup_finish(b);
		rc = rc == SQLITE_DONE ? rc2 : rc;
	}
	if (rc != SQLITE_OK) {
		tm_errmsg_printf(errmsg, "copying the database into %s: %s",
				 path, sqlite3_errstr(rc));
	}
	sqlite3_close(dst);
	return rc == SQLITE_OK ? 0 : TM_IO;
}

static int io_error(char *errmsg, const char *what, const char *path)
{
	tm_errmsg_printf(errmsg, "%s %s: %s", what, path, strerror(errno));
	return errno == ENOSPC ? TM_NOSPACE : TM_IO;
}

int gdb_snapfile_make(sqlite3 *src, const char *dir,
		      const struct gdb_snap_chain *chain,
		      struct gdb_snapfile *out, char *errmsg)
{
	char *path = tm_asprintf("%s/%sXXXXXX", dir, GDB_SNAPFILE_PREFIX);
	int rv = 0;
	memset(out, 0, sizeof *out);
	int fd = mkstemp(path);
	if (fd < 0) {
		rv = io_error(errmsg, "creating", path);
		tm_free(path);
		return rv;
	}
	rv = copy_into(src, path, errmsg);
	struct stat st;
	if (rv == 0 && pwrite(fd, "\1\1", 2, 18) != 2) {
		rv = io_error(errmsg, "writing", path);
	}
	if (rv == 0 && fstat(fd, &st) != 0) {
		rv = io_error(errmsg, "reading", path);
	}
	if (rv == 0 && st.st_size < 100) {
		tm_errmsg_printf(errmsg, "%s: a copy of %lld bytes", path,
				 (long long)st.st_size);
		rv = TM_IO;
	}
	if (rv == 0) {
		void *map = mmap(NULL, (size_t)st.st_size, PROT_READ,
				 MAP_SHARED, fd, 0);
		if (map == MAP_FAILED) {
			rv = io_error(errmsg, "mapping", path);
		} else {
			out->map = map;
			out->len = (size_t)st.st_size;
		}
	}
	close(fd);
	unlink(path);
	tm_free(path);
	if (rv == 0) {
		gdb_snap_trailer(out->map, out->len, chain, out->trailer);
	}
	return rv;
}

void gdb_snapfile_release(struct gdb_snapfile *f)
{
	if (f->map != NULL) {
		munmap(f->map, f->len);
	}
	memset(f, 0, sizeof *f);
}

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		p[i] = (uint8_t)(v >> (8 * i));
	}
}

void gdb_snap_trailer(const void *image, size_t len,
		      const struct gdb_snap_chain *chain,
		      uint8_t trailer[GDB_SNAP_TRAILER_SIZE])
{
	memcpy(trailer, GDB_SNAP_TRAILER_MAGIC, 8);
	put_u64(trailer + 16, chain->base);
	put_u64(trailer + 24, chain->index);
	memcpy(trailer + 32, chain->value, GDB_CHAIN_SIZE);
	put_u64(trailer + 8, hash64(image, len) ^ hash64(trailer + 16, 32));
}

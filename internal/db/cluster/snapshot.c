/* Snapshots: the raft_fsm snapshot, snapshot_finalize and restore methods.
 *
 * A snapshot is one buffer holding a consistent image of the database file,
 * taken with sqlite3_serialize() on the apply connection (raft calls
 * snapshot right after an apply, so it matches raft's last applied index).
 * Bytes 18 and 19 of the image (file format write/read versions) are set to 1,
 * the rollback-journal format, so the image is a standalone SQLite database
 * file: it opens without a -wal file, and it can be deserialized into memory
 * (SQLite refuses to deserialize a WAL-format image).
 *
 * Restore deserializes the image into a read-only in-memory database and
 * copies it over the file with the backup API (one transaction on the apply
 * connection; the exec connection sees the new content and schema at its next
 * transaction). Both connections must be idle, which they always are between
 * loop turns. The page size is fixed at 4096 (GDB_PAGE_SIZE) on every
 * member, so the backup into the WAL database never meets a page-size
 * mismatch. The same load replaces the database when a RESTORE entry is
 * applied (apply.c): the leader normalised that image as a snapshot is. */
#include <string.h>

#include "internal/db/cluster/gdb_private.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"

#define SQLITE_HEADER "SQLite format 3"
#define SQLITE_HEADER_SIZE 100

int gdb_fsm_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[],
		     unsigned *n_bufs)
{
	struct gdb *g = fsm->data;
	sqlite3_int64 size = 0;
	unsigned char *image = sqlite3_serialize(g->apply, "main", &size, 0);
	if (image == NULL || size < SQLITE_HEADER_SIZE) {
		LOGE("gdb: snapshot: sqlite3_serialize failed: %s",
		     sqlite3_errmsg(g->apply));
		sqlite3_free(image);
		return RAFT_IOERR;
	}
	image[18] = 1;
	image[19] = 1;
	*bufs = tm_malloc(sizeof **bufs);
	(*bufs)[0].base = image;
	(*bufs)[0].len = (size_t)size;
	*n_bufs = 1;
	g->stats.snapshots_taken++;
	LOGD("gdb: snapshot of %lld bytes", (long long)size);
	return 0;
}

int gdb_fsm_snapshot_finalize(struct raft_fsm *fsm, struct raft_buffer *bufs[],
			      unsigned *n_bufs)
{
	(void)fsm;
	if (*bufs != NULL) {
		for (unsigned i = 0; i < *n_bufs; i++) {
			sqlite3_free((*bufs)[i].base);
		}
		tm_free(*bufs);
	}
	*bufs = NULL;
	*n_bufs = 0;
	return 0;
}

/* Copy the database held by MEM over the file. */
static int copy_over(struct gdb *g, sqlite3 *mem, char *errmsg)
{
	sqlite3_backup *backup =
	    sqlite3_backup_init(g->apply, "main", mem, "main");
	if (backup == NULL) {
		tm_errmsg_printf(errmsg, "backup_init: %s",
				 sqlite3_errmsg(g->apply));
		return TM_DB;
	}
	int rc = sqlite3_backup_step(backup, -1);
	int rc2 = sqlite3_backup_finish(backup);
	if (rc != SQLITE_DONE || rc2 != SQLITE_OK) {
		tm_errmsg_printf(errmsg, "backup: %s",
				 sqlite3_errstr(rc != SQLITE_DONE ? rc : rc2));
		return TM_IO;
	}
	return 0;
}

static unsigned page_size(const unsigned char *image)
{
	unsigned size = (unsigned)image[16] << 8 | image[17];
	return size == 1 ? 65536 : size;
}

int gdb_snapshot_load(struct gdb *g, const unsigned char *image, size_t len,
		      char *errmsg)
{
	sqlite3 *mem = NULL;
	int rv;

	if (len < SQLITE_HEADER_SIZE ||
	    memcmp(image, SQLITE_HEADER, sizeof SQLITE_HEADER) != 0) {
		tm_errmsg_printf(errmsg,
				 "the image (%zu bytes) is not a SQLite "
				 "database",
				 len);
		return TM_CORRUPT;
	}
	if (image[18] != 1 || image[19] != 1) {
		tm_errmsg_printf(errmsg,
				 "the image is in WAL format (file format "
				 "versions %u/%u, 1/1 expected)",
				 image[18], image[19]);
		return TM_CORRUPT;
	}
	if (page_size(image) != GDB_PAGE_SIZE) {
		tm_errmsg_printf(errmsg,
				 "the image's page size is %u, the database's "
				 "is %d",
				 page_size(image), GDB_PAGE_SIZE);
		return TM_CORRUPT;
	}
	if (sqlite3_open(":memory:", &mem) != SQLITE_OK) {
		tm_errmsg_printf(errmsg, "open: %s", sqlite3_errmsg(mem));
		rv = TM_NOMEM;
		goto out;
	}
	/* Read-only: SQLite never writes to IMAGE, nor frees it. */
	int rc = sqlite3_deserialize(mem, "main", (unsigned char *)image,
				     (sqlite3_int64)len, (sqlite3_int64)len,
				     SQLITE_DESERIALIZE_READONLY);
	if (rc == SQLITE_OK) {
		rc = sqlite3_exec(mem, "SELECT count(*) FROM sqlite_schema",
				  NULL, NULL, NULL);
	}
	if (rc != SQLITE_OK) {
		tm_errmsg_printf(errmsg, "the image does not open: %s",
				 sqlite3_errmsg(mem));
		rv = TM_CORRUPT;
		goto out;
	}
	rv = copy_over(g, mem, errmsg);
	/* A new database, maybe a new schema. */
	gdb_schema_changed(g);
out:
	sqlite3_close(mem);
	return rv;
}

int gdb_fsm_restore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
	struct gdb *g = fsm->data;
	unsigned char *image = buf->base;
	char errmsg[TM_ERRMSG_SIZE];

	/* The buffer is ours to change; older snapshots may still say WAL. */
	if (buf->len >= SQLITE_HEADER_SIZE &&
	    memcmp(image, SQLITE_HEADER, sizeof SQLITE_HEADER) == 0) {
		image[18] = 1;
		image[19] = 1;
	}
	gdb_exec_quiesce(g);
	int rv = gdb_snapshot_load(g, image, buf->len, errmsg);
	if (rv != 0) {
		LOGE("gdb: restore: snapshot of %zu bytes: %s", buf->len,
		     errmsg);
		return rv == TM_CORRUPT ? RAFT_CORRUPT
		       : rv == TM_NOMEM ? RAFT_NOMEM
					: RAFT_IOERR;
	}
	/* On success the buffer is ours (raft's contract). */
	raft_free(buf->base);
	g->stats.snapshots_restored++;
	LOGI("gdb: restored a snapshot of %zu bytes", buf->len);
	return 0;
}

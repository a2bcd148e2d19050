/* The leader's side of a restore: check the database image a client sent and
 * turn it into a RESTORE entry (see gdb_restore() in gdb.h).
 *
 * Happy path, on a private in-memory connection (the gdb's connections are
 * not touched):
 *   1. read the 100-byte SQLite header of the caller's bytes: magic, page
 *      size, file format versions, size, text encoding;
 *   2. copy the image into a buffer SQLite owns and mark the copy as a
 *      rollback-journal file (bytes 18-19 = 1), as snapshot.c does with
 *      snapshots: SQLite refuses to deserialize a WAL-format image;
 *   3. deserialize it (read-only); it must open, PRAGMA integrity_check must
 *      say "ok" (CHECK constraints are not evaluated), and every table must
 *      pass the checks CREATE TABLE passes on the leader (schema.c);
 *   4. encode the copy as a RESTORE entry.
 *
 * Failure modes: any check fails -> TM_INVALID, errmsg "invalid image: ...";
 * SQLite cannot allocate or run -> TM_NOMEM/TM_DB.
 *
 * The page size must be GDB_PAGE_SIZE: every member loads the image with the
 * backup API into its WAL database, which refuses another page size, and
 * SQLite cannot change the page size of an in-memory database (VACUUM keeps
 * it), so an image with other pages is refused with the way to convert it. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal/db/cluster/gdb_private.h"
#include "internal/lib/assert.h"
#include "internal/lib/log.h"

#define MAGIC_SIZE ((size_t)sizeof GDB_ENTRY_SQLITE_MAGIC) /* with NUL */
#define INTEGRITY_SQL "PRAGMA integrity_check(5)"

static int invalid(char *errmsg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int invalid(char *errmsg, const char *fmt, ...)
{
	char why[TM_ERRMSG_SIZE];
	va_list args;
	va_start(args, fmt);
	vsnprintf(why, sizeof why, fmt, args);
	va_end(args);
	tm_errmsg_printf(errmsg, "invalid image: %s", why);
	return TM_INVALID;
}

static uint32_t get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* The header's page count, when SQLite itself would trust it: non-zero and
 * written by the same change as the file change counter. 0 otherwise. */
static uint32_t header_pages(const unsigned char *p)
{
	if (get_be32(p + 24) != get_be32(p + 92)) {
		return 0;
	}
	return get_be32(p + 28);
}

static int check_size(const unsigned char *p, size_t len, unsigned page_size,
		      char *errmsg)
{
	if (page_size != GDB_PAGE_SIZE) {
		return invalid(errmsg,
			       "page size %u; the global database uses %d "
			       "(convert the file with \"PRAGMA journal_mode "
			       "= DELETE; PRAGMA page_size = %d; VACUUM\")",
			       page_size, GDB_PAGE_SIZE, GDB_PAGE_SIZE);
	}
	if (len % page_size != 0) {
		return invalid(errmsg,
			       "truncated: %zu bytes is not a whole number of "
			       "%u-byte pages",
			       len, page_size);
	}
	uint32_t pages = header_pages(p);
	if (pages != 0 && (unsigned long long)pages * page_size != len) {
		return invalid(errmsg,
			       "%s: the header counts %u pages of %u bytes "
			       "(%llu bytes), the image holds %zu bytes",
			       (unsigned long long)pages * page_size > len
				   ? "truncated"
				   : "unexpected trailing pages",
			       pages, page_size,
			       (unsigned long long)pages * page_size, len);
	}
	return 0;
}

/* Step 1: what the header alone tells. */
static int check_header(const unsigned char *p, size_t len, char *errmsg)
{
	if (len < MAGIC_SIZE ||
	    memcmp(p, GDB_ENTRY_SQLITE_MAGIC, MAGIC_SIZE) != 0) {
		return invalid(errmsg,
			       "not a SQLite database: the %zu bytes do not "
			       "start with the SQLite header \"%s\"",
			       len, GDB_ENTRY_SQLITE_MAGIC);
	}
	if (len < GDB_ENTRY_SQLITE_HEADER) {
		return invalid(errmsg,
			       "truncated: %zu bytes, shorter than the %d-byte "
			       "SQLite header",
			       len, GDB_ENTRY_SQLITE_HEADER);
	}
	if (p[18] < 1 || p[18] > 2 || p[19] < 1 || p[19] > 2) {
		return invalid(errmsg,
			       "file format versions %u/%u are not supported "
			       "(1 = rollback journal, 2 = WAL)",
			       p[18], p[19]);
	}
	unsigned page_size = (unsigned)p[16] << 8 | p[17];
	page_size = page_size == 1 ? 65536 : page_size;
	if (page_size < 512 || (page_size & (page_size - 1)) != 0) {
		return invalid(errmsg,
			       "page size %u in the header is not valid",
			       page_size);
	}
	int rv = check_size(p, len, page_size, errmsg);
	if (rv != 0) {
		return rv;
	}
	uint32_t encoding = get_be32(p + 56);
	if (encoding > 1) {
		return invalid(errmsg,
			       "text encoding %s; the global database is UTF-8",
			       encoding == 2   ? "UTF-16le"
			       : encoding == 3 ? "UTF-16be"
					       : "unknown");
	}
	return 0;
}

/* Step 2: a copy SQLite owns once deserialized, marked rollback-journal. */
static int open_copy(const void *image, size_t len, sqlite3 **out, char *errmsg)
{
	unsigned char *copy = sqlite3_malloc64(len);
	if (copy == NULL) {
		tm_errmsg_printf(errmsg, "no memory for a %zu-byte image", len);
		return TM_NOMEM;
	}
	memcpy(copy, image, len);
	copy[18] = 1;
	copy[19] = 1;
	int rc = sqlite3_open(":memory:", out);
	if (rc != SQLITE_OK) {
		tm_errmsg_printf(errmsg, "open: %s", sqlite3_errstr(rc));
		sqlite3_free(copy);
		return gdb_sqlite_status(rc);
	}
	/* On failure too, FREEONCLOSE makes SQLite free COPY. */
	rc = sqlite3_deserialize(
	    *out, "main", copy, (sqlite3_int64)len, (sqlite3_int64)len,
	    SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_READONLY);
	if (rc != SQLITE_OK) {
		tm_errmsg_printf(errmsg, "sqlite3_deserialize: %s",
				 sqlite3_errmsg(*out));
		return gdb_sqlite_status(rc);
	}
	rc = sqlite3_exec(*out, "SELECT count(*) FROM sqlite_schema", NULL,
			  NULL, NULL);
	if (rc != SQLITE_OK) {
		return invalid(errmsg, "it does not open: %s",
			       sqlite3_errmsg(*out));
	}
	return 0;
}

/* Step 3a: "ok", or the first problems SQLite found. CHECK constraints are
 * not evaluated: the rows are taken as they are, as a snapshot's are, and a
 * CHECK that calls random() would fail the check at random. */
static int check_integrity(sqlite3 *db, char *errmsg)
{
	sqlite3_stmt *st;
	char found[TM_ERRMSG_SIZE] = "";
	int rc = sqlite3_exec(db, "PRAGMA ignore_check_constraints = ON", NULL,
			      NULL, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_prepare_v2(db, INTEGRITY_SQL, -1, &st, NULL);
	}
	if (rc != SQLITE_OK) {
		return invalid(errmsg, "integrity check: %s",
			       sqlite3_errmsg(db));
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *line = (const char *)sqlite3_column_text(st, 0);
		size_t used = strlen(found);
		snprintf(found + used, sizeof found - used, "%s%s",
			 used > 0 ? "; " : "", line != NULL ? line : "");
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		return invalid(errmsg, "integrity check failed: %s",
			       sqlite3_errstr(rc));
	}
	if (strcmp(found, "ok") != 0) {
		return invalid(errmsg, "integrity check failed: %s", found);
	}
	return 0;
}

/* The tables whose rows replicate: not the virtual tables themselves (their
 * shadow tables are ordinary tables, checked like the others) nor SQLite's
 * internal ones (sqlite_sequence, sqlite_stat*). */
static int list_tables(sqlite3 *db, struct gdb_names *out)
{
	sqlite3_stmt *st;
	int rc =
	    sqlite3_prepare_v2(db,
			       "SELECT name FROM main.sqlite_schema "
			       "WHERE type = 'table' AND rootpage <> 0 "
			       "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
			       "ORDER BY name",
			       -1, &st, NULL);
	if (rc != SQLITE_OK) {
		return rc;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		gdb_names_add(out, (const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Step 3b: the replication rules, exactly as for CREATE TABLE. */
static int check_tables(sqlite3 *db, char *errmsg)
{
	struct gdb_names tables = {NULL, 0};
	int rv = 0;
	int rc = list_tables(db, &tables);
	if (rc != SQLITE_OK) {
		rv = invalid(errmsg, "listing its tables: %s",
			     sqlite3_errmsg(db));
		goto out;
	}
	for (size_t i = 0; i < tables.n && rv == 0; i++) {
		struct gdb_result res;
		memset(&res, 0, sizeof res);
		rv = gdb_schema_check_table(db, tables.v[i], &res);
		if (rv != 0) {
			rv = invalid(errmsg, "%s", res.error);
		}
		gdb_result_clear(&res);
	}
out:
	gdb_names_clear(&tables);
	return rv;
}

/* Step 4. The image SQLite holds is the normalised copy. */
static int encode(sqlite3 *db, struct raft_buffer *buf, char *errmsg)
{
	sqlite3_int64 size = 0;
	unsigned char *image =
	    sqlite3_serialize(db, "main", &size, SQLITE_SERIALIZE_NOCOPY);
	if (image == NULL || size < GDB_ENTRY_SQLITE_HEADER) {
		tm_errmsg_printf(errmsg, "sqlite3_serialize: %s",
				 sqlite3_errmsg(db));
		return TM_DB;
	}
	struct gdb_entry e = {.type = GDB_ENTRY_RESTORE,
			      .image = image,
			      .image_len = (size_t)size};
	buf->len = gdb_entry_size(&e);
	buf->base = raft_malloc(buf->len);
	INVARIANT(buf->base != NULL);
	gdb_entry_encode(&e, buf->base);
	return 0;
}

int gdb_restore_prepare(const void *image, size_t len, struct raft_buffer *buf,
			char *errmsg)
{
	sqlite3 *db = NULL;
	int rv = check_header(image, len, errmsg);
	if (rv != 0) {
		return rv;
	}
	rv = open_copy(image, len, &db, errmsg);
	if (rv == 0) {
		rv = check_integrity(db, errmsg);
	}
	if (rv == 0) {
		rv = check_tables(db, errmsg);
	}
	if (rv == 0) {
		rv = encode(db, buf, errmsg);
	}
	sqlite3_close(db);
	if (rv != 0) {
		LOGD("gdb: restore refused: %s", errmsg);
	}
	return rv;
}

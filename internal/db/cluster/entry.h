/* Encoding of the global database's raft log entries (RAFT_COMMAND payloads).
 *
 * Pure functions on memory: no I/O, no SQLite, no raft, so that the decoder
 * can be fuzzed on its own. The byte layout is documented in
 * doc/log-entry-format.md; keep the two in step.
 *
 * Two entry types:
 * - WRITE: the write requests of one batch, in order; each request holds its
 *   items in order; an item is the row changes of one statement (ROWS,
 *   rows.h), the text of one schema statement (SQL), or, in entries written
 *   before version 3, a SQLite changeset. Applying it means applying every
 *   item of every request in that order, in one transaction.
 * - RESTORE: one SQLite database image that replaces the whole database.
 * - CHECK: nothing to apply; every member hashes its database content as it
 *   stands at that entry (doc/consistency.md).
 *
 * Each entry carries the lowest format version that defines what it holds:
 * WRITE entries with only SQL items are written as version 1, with ROWS
 * items as version 3, RESTORE entries as version 2, CHECK entries as
 * version 4; so a member running an
 * older build stops with "newer than supported" (not "corrupt"). */
#ifndef TM_DB_CLUSTER_ENTRY_H
#define TM_DB_CLUSTER_ENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GDB_ENTRY_MAGIC "TMDB"	    /* 4 bytes, no NUL */
#define GDB_ENTRY_VERSION 4	    /* the newest format this build reads */
#define GDB_ENTRY_VERSION_WRITE 1   /* WRITE entries without ROWS items */
#define GDB_ENTRY_VERSION_RESTORE 2 /* RESTORE entries */
#define GDB_ENTRY_VERSION_ROWS 3    /* WRITE entries holding ROWS items */
#define GDB_ENTRY_VERSION_CHECK 4   /* CHECK entries */

#define GDB_ENTRY_HEADER_SIZE 12 /* magic, version, type, request count */
#define GDB_ENTRY_RESTORE_HEADER_SIZE 20 /* header, image length */
#define GDB_ENTRY_ITEM_HEADER 5		 /* kind, length */
#define GDB_ENTRY_ALIGN 8 /* entries are zero-padded to a multiple */

/* What a RESTORE entry's image starts with (16 bytes with the NUL), and the
 * size of the SQLite header, the smallest possible image. */
#define GDB_ENTRY_SQLITE_MAGIC "SQLite format 3"
#define GDB_ENTRY_SQLITE_HEADER 100

enum gdb_entry_type {
	GDB_ENTRY_WRITE = 1,   /* a batch of write requests */
	GDB_ENTRY_RESTORE = 2, /* a database image replacing the database */
	GDB_ENTRY_CHECK = 3,   /* a content check: hash the database here */
};

enum gdb_item_kind {
	GDB_ITEM_CHANGESET = 1, /* sqlite3session changeset (read only) */
	GDB_ITEM_SQL = 2,	/* UTF-8 text of one statement, no NUL */
	GDB_ITEM_ROWS = 3,	/* row changes by rowid or key (rows.h) */
};

/* One item. DATA is borrowed: from the caller's buffers when encoding, from
 * the decoded buffer when decoding (valid as long as that buffer is). */
struct gdb_item {
	enum gdb_item_kind kind;
	const uint8_t *data;
	size_t len; /* 1 .. UINT32_MAX */
};

struct gdb_entry_request {
	size_t n_items; /* at least 1 */
	struct gdb_item *items;
};

/* WRITE uses n_requests/requests (image NULL, image_len 0); RESTORE uses
 * image/image_len (n_requests 0, requests NULL); CHECK uses nothing (the
 * header alone, padded to 16 bytes). IMAGE is borrowed like an item's
 * data. */
struct gdb_entry {
	enum gdb_entry_type type;
	size_t n_requests; /* WRITE: at least 1 */
	struct gdb_entry_request *requests;
	const uint8_t *image; /* RESTORE: a SQLite database file */
	size_t image_len;     /* at least GDB_ENTRY_SQLITE_HEADER */
};

/* Exact number of bytes gdb_entry_encode() writes for E, including the
 * zero padding up to a multiple of GDB_ENTRY_ALIGN. */
size_t gdb_entry_size(const struct gdb_entry *e);

/* Write E into BUF, which must hold gdb_entry_size(e) bytes. E must be valid
 * (WRITE: counts and lengths in range, at least one request and one item
 * each; RESTORE: an image that starts with the SQLite header). */
void gdb_entry_encode(const struct gdb_entry *e, uint8_t *buf);

/* Parse BUF[0..len) into *OUT. On success OUT's arrays are owned by the
 * caller (gdb_entry_release) and its items (or image) point into BUF. Every
 * count and length is checked against the bytes that remain before anything
 * is allocated; trailing bytes other than the zero padding are refused.
 * Returns 0, TM_CORRUPT, or TM_NEWER for a format version newer than
 * GDB_ENTRY_VERSION; errmsg (of TM_ERRMSG_SIZE bytes) says where the input
 * went wrong. A RESTORE entry's image is checked only for its length and
 * the SQLite header's first 16 bytes, not opened. */
int gdb_entry_decode(const uint8_t *buf, size_t len, struct gdb_entry *out,
		     char *errmsg);

/* Whether BUF holds a CHECK entry (its header only). */
bool gdb_entry_is_check(const uint8_t *buf, size_t len);
/* Free what gdb_entry_decode() allocated (idempotent on a zeroed entry). */
void gdb_entry_release(struct gdb_entry *e);

#endif /* TM_DB_CLUSTER_ENTRY_H */

/* Encoding of the global database's raft log entries (RAFT_COMMAND payloads).
 *
 * Pure functions on memory: no I/O, no SQLite, no raft, so that the decoder
 * can be fuzzed on its own. The byte layout is documented in
 * doc/log-entry-format.md; keep the two in step.
 *
 * An entry holds the write requests of one batch, in order; each request
 * holds its items in order; an item is a SQLite changeset or the text of one
 * schema statement. Applying an entry means applying every item of every
 * request in that order, in one transaction. */
#ifndef TM_DB_CLUSTER_ENTRY_H
#define TM_DB_CLUSTER_ENTRY_H

#include <stddef.h>
#include <stdint.h>

#define GDB_ENTRY_MAGIC "TMDB"	 /* 4 bytes, no NUL */
#define GDB_ENTRY_VERSION 1	 /* the newest format this build writes */
#define GDB_ENTRY_HEADER_SIZE 12 /* magic, version, type, request count */
#define GDB_ENTRY_ITEM_HEADER 5	 /* kind, length */
#define GDB_ENTRY_ALIGN 8	 /* entries are zero-padded to a multiple */

enum gdb_entry_type {
	GDB_ENTRY_WRITE = 1, /* a batch of write requests */
};

enum gdb_item_kind {
	GDB_ITEM_CHANGESET = 1, /* sqlite3session changeset bytes */
	GDB_ITEM_SQL = 2,	/* UTF-8 text of one statement, no NUL */
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

struct gdb_entry {
	enum gdb_entry_type type;
	size_t n_requests; /* at least 1 */
	struct gdb_entry_request *requests;
};

/* Exact number of bytes gdb_entry_encode() writes for E, including the
 * zero padding up to a multiple of GDB_ENTRY_ALIGN. */
size_t gdb_entry_size(const struct gdb_entry *e);

/* Write E into BUF, which must hold gdb_entry_size(e) bytes. E must be valid
 * (counts and lengths in range, at least one request and one item each). */
void gdb_entry_encode(const struct gdb_entry *e, uint8_t *buf);

/* Parse BUF[0..len) into *OUT. On success OUT's arrays are owned by the
 * caller (gdb_entry_release) and its items point into BUF. Every count and
 * length is checked against the bytes that remain before anything is
 * allocated; trailing bytes other than the zero padding are refused. Returns 0, TM_CORRUPT, or
 * TM_NEWER for a format version newer than GDB_ENTRY_VERSION; errmsg (of
 * TM_ERRMSG_SIZE bytes) says where the input went wrong. */
int gdb_entry_decode(const uint8_t *buf, size_t len, struct gdb_entry *out,
		     char *errmsg);

/* Free what gdb_entry_decode() allocated (idempotent on a zeroed entry). */
void gdb_entry_release(struct gdb_entry *e);

#endif /* TM_DB_CLUSTER_ENTRY_H */

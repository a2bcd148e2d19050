/* A hash of a global database's content (doc/consistency.md, "Content
 * check"), to compare members at the same applied index.
 *
 * What is hashed, in this order, all through one SHA-256 (truncated to 16
 * bytes): every row of sqlite_schema but the statistics tables' (type,
 * name, tbl_name, sql; not rootpage) in name order; then every ordinary
 * table in name order (virtual tables are skipped: their shadow tables are
 * ordinary tables; so are sqlite_stat*, which ANALYZE writes per member):
 * its name, its column count, then each row in rowid order (rowid tables:
 * the rowid first) or primary key order (WITHOUT ROWID), each value with
 * its type: INTEGER as 8 bytes, REAL as its 8 bytes of IEEE 754, TEXT and
 * BLOB as a 4-byte length and the bytes, NULL as its type alone. Integers
 * are little-endian; each part starts with a tag byte, so that no two
 * contents give the same byte stream.
 *
 * Runs on a worker thread, on a connection the caller owns, inside the
 * read transaction the caller began: the hash is of exactly the state that
 * transaction sees. */
#ifndef TM_DB_CLUSTER_CONTENT_H
#define TM_DB_CLUSTER_CONTENT_H

#include <stdatomic.h>
#include <stdint.h>

#include <sqlite3.h>

#include "internal/db/cluster/chain.h"

/* Hash DB's content into OUT. STOP (may be NULL) is read every few rows:
 * once true, TM_CANCELED. Else 0, or TM_DB with ERRMSG (TM_ERRMSG_SIZE). */
int gdb_content_hash(sqlite3 *db, const atomic_bool *stop,
		     uint8_t out[GDB_CHAIN_SIZE], char *errmsg);

#endif /* TM_DB_CLUSTER_CONTENT_H */

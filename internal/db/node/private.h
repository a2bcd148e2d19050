/* Internals shared by the files of internal/db/node. Not for other modules. */
#ifndef TM_DB_NODE_PRIVATE_H
#define TM_DB_NODE_PRIVATE_H

#include <sqlite3.h>

#include "internal/db/node/nodedb.h"
#include "internal/lib/err.h"

/* Prepared once at open, reset after every use so that no statement keeps a
 * read transaction open between calls. */
#define NODEDB_STMTS(X)                                                       \
	X(CONFIG_LOAD, "SELECT key, value FROM config ORDER BY key")          \
	X(CONFIG_CLEAR, "DELETE FROM config")                                 \
	X(CONFIG_INSERT, "INSERT INTO config(key, value) VALUES(?, ?)")       \
	X(CERT_ADD, "INSERT INTO certificates(fingerprint, name, type, "      \
		    "certificate, added_at) VALUES(?, ?, ?, ?, ?)")           \
	X(CERT_LIST, "SELECT fingerprint, name, type, certificate, added_at " \
		     "FROM certificates ORDER BY name, fingerprint")          \
	/* Hex digits sort below 'g': [p, p || 'g') is exactly the set of    \
	 * fingerprints starting with p, and it is an index range. */         \
	X(CERT_PREFIX, "SELECT fingerprint, name, type, certificate, "        \
		       "added_at FROM certificates WHERE fingerprint >= ?1 "  \
		       "AND fingerprint < ?1 || 'g' ORDER BY fingerprint "    \
		       "LIMIT 2")                                             \
	X(CERT_REMOVE, "DELETE FROM certificates WHERE fingerprint = ?")      \
	X(CERT_TRUSTED, "SELECT 1 FROM certificates WHERE fingerprint = ?")   \
	X(RAFT_GET, "SELECT id, address, role, name, fingerprint "            \
		    "FROM raft_nodes ORDER BY id")                            \
	X(RAFT_CLEAR, "DELETE FROM raft_nodes")                               \
	X(RAFT_INSERT, "INSERT INTO raft_nodes(id, address, role, name, "     \
		       "fingerprint) VALUES(?, ?, ?, ?, ?)")                  \
	X(MEMBER_GET, "SELECT id, name, clustered FROM member")               \
	X(MEMBER_SET, "INSERT OR REPLACE INTO member(single, id, name, "      \
		      "clustered) VALUES(1, ?, ?, ?)")

enum nodedb_stmt {
#define NODEDB_STMT_ENUM(name, sql) NODEDB_STMT_##name,
	NODEDB_STMTS(NODEDB_STMT_ENUM)
#undef NODEDB_STMT_ENUM
	NODEDB_STMT_COUNT
};

struct nodedb {
	sqlite3 *sql;
	char *path; /* DIR/local.db, owned */
	sqlite3_stmt *stmts[NODEDB_STMT_COUNT];
	char errmsg[TM_ERRMSG_SIZE];
};

/* The statement, reset and with its bindings cleared. */
sqlite3_stmt *nodedb_stmt(struct nodedb *db, enum nodedb_stmt which);

/* Set db->errmsg to "<what>: <sqlite message>" and translate RC (an SQLite
 * result code) to TM_BUSY, TM_EXISTS (constraint) or TM_DB. */
int nodedb_sqlite_error(struct nodedb *db, int rc, const char *what);

/* Step STMT to completion (it must return no rows), then reset it. */
int nodedb_step_done(struct nodedb *db, sqlite3_stmt *stmt, const char *what);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK on the connection. Rollback is a no-op
 * outside a transaction and never fails. */
int nodedb_tx_begin(struct nodedb *db);
int nodedb_tx_commit(struct nodedb *db);
void nodedb_tx_rollback(struct nodedb *db);

#endif /* TM_DB_NODE_PRIVATE_H */

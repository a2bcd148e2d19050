/* The member's local database: DIR/local.db.
 *
 * A plain SQLite file (not replicated) holding what this member must know
 * before it can reach the cluster: its own (local) configuration keys and
 * the last known Raft members. Its certificates table and global config
 * keys are what older versions kept here: read once at start and moved to
 * the global database (internal/daemon/migrate.c). It runs in WAL mode with synchronous=FULL, foreign keys on and
 * a busy timeout of NODEDB_BUSY_TIMEOUT_MS.
 *
 * Opening applies the local schema (internal/db/schema); before updating an
 * existing file to a newer version, a copy is written to DIR/local.db.bak.
 *
 * One struct nodedb is used from one thread (the daemon's loop). Functions
 * return 0 or a TM_* code; the detail goes into the nodedb's errmsg
 * (nodedb_errmsg()). */
#ifndef TM_DB_NODE_NODEDB_H
#define TM_DB_NODE_NODEDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "internal/db/schema/schema.h"
#include "internal/membership/name.h"

#define NODEDB_FILE "local.db"
#define NODEDB_BACKUP_FILE "local.db.bak"
#define NODEDB_BUSY_TIMEOUT_MS 5000

struct nodedb;

/* The local schema (version = its n_updates). Static. */
const struct schema *nodedb_schema(void);

/* Open (creating if needed, mode 0600) DIR/local.db and bring it to the
 * latest schema. DIR must exist; its mode is not touched. On success *OUT is
 * owned by the caller (nodedb_close). On failure returns TM_NOTFOUND (no
 * DIR), TM_NEWER/TM_CORRUPT (see schema_ensure; TM_CORRUPT also when PRAGMA
 * quick_check finds the file damaged), TM_IO or TM_DB with ERRMSG
 * (TM_ERRMSG_SIZE bytes) set as "<path>: <reason>". */
int nodedb_open(const char *dir, struct nodedb **out, char *errmsg);

/* Finalize statements, close the file, free DB. NULL is fine. */
void nodedb_close(struct nodedb *db);

/* The connection, borrowed (valid until nodedb_close), for the SQL API.
 * Leave it outside any transaction between calls. */
sqlite3 *nodedb_sqlite(struct nodedb *db);

/* Message of the last failure; borrowed, valid until the next call. */
const char *nodedb_errmsg(struct nodedb *db);

/* --- config: key -> string value --------------------------------------- */

/* *OUT: a new cJSON object of key -> string, owned by the caller. */
int nodedb_config_load(struct nodedb *db, cJSON **out);

/* Replace the whole config table with VALUES (an object of strings,
 * borrowed) in one transaction. TM_INVALID for a non-object, a non-string
 * value or an empty/duplicate key; nothing is changed then. */
int nodedb_config_replace(struct nodedb *db, const cJSON *values);

/* --- trust store of older versions (moved to the global database) ------- */

/* FINGERPRINT: lowercase hex SHA-256 of the certificate's DER encoding
 * (computed by the caller, not checked against CERTIFICATE here). NAME, TYPE
 * ("client" or "server") and CERTIFICATE (PEM) are owned by the struct when
 * filled by this module: free them with nodedb_cert_clear(). ADDED_AT is unix
 * seconds. */
struct nodedb_cert {
	char fingerprint[65];
	char *name;
	char *type;
	char *certificate;
	int64_t added_at;
};

/* Add CERT (borrowed; copied). FINGERPRINT may be in upper case (stored in
 * lower case); TYPE NULL means "client"; ADDED_AT 0 means now. TM_EXISTS if
 * the fingerprint is already trusted, TM_INVALID for a bad field. */
int nodedb_cert_add(struct nodedb *db, const struct nodedb_cert *cert);

/* All certificates ordered by name then fingerprint. *OUT is owned by the
 * caller (nodedb_cert_list_free); NULL when *N is 0. */
int nodedb_cert_list(struct nodedb *db, struct nodedb_cert **out, size_t *n);

/* The one certificate whose fingerprint starts with FP (1 to 64 hex digits,
 * any case). TM_NOTFOUND if none, TM_INVALID "ambiguous fingerprint prefix"
 * if several, TM_INVALID for a non-hex FP. *OUT is filled (clear it with
 * nodedb_cert_clear) only on success. */
int nodedb_cert_get(struct nodedb *db, const char *fp, struct nodedb_cert *out);

/* Remove by exact fingerprint (64 hex digits, any case); TM_NOTFOUND. */
int nodedb_cert_remove(struct nodedb *db, const char *fp);

/* Whether FINGERPRINT (exactly 64 hex digits, any case) is trusted. One
 * indexed lookup on a prepared statement; runs on every request. Any error
 * (logged) answers false. */
bool nodedb_cert_trusted(struct nodedb *db, const char *fingerprint);

/* Free CERT's strings and zero it; the struct itself is the caller's. */
void nodedb_cert_clear(struct nodedb_cert *cert);
void nodedb_cert_list_free(struct nodedb_cert *certs, size_t n);

/* --- raft nodes: the last known Raft configuration ----------------------- */

/* ID is the raft server id (1 .. INT64_MAX), ADDRESS "host:port", ROLE a
 * raft role (RAFT_VOTER...), NAME the member's name and FINGERPRINT its own
 * certificate's ("" when unknown; NULL is stored as ""). Strings are owned
 * when filled by this module. */
struct nodedb_raft_node {
	uint64_t id;
	char *address;
	int role;
	char *name;
	char *fingerprint;
};

/* All nodes ordered by id. *OUT owned by the caller (nodedb_raft_nodes_free);
 * NULL when *N is 0. */
int nodedb_raft_nodes_get(struct nodedb *db, struct nodedb_raft_node **out,
			  size_t *n);

/* Replace the table with NODES (borrowed, copied) in one transaction.
 * TM_INVALID for an id out of range, an empty address or a duplicate id or
 * address; nothing is changed then. */
int nodedb_raft_nodes_replace(struct nodedb *db,
			      const struct nodedb_raft_node *nodes, size_t n);

void nodedb_raft_nodes_free(struct nodedb_raft_node *nodes, size_t n);

/* --- member: who this member is -------------------------------------------
 *
 * ID is its raft server id; NAME its member name ("" while standalone);
 * CLUSTERED whether it was made a cluster (enable) or joined one. Raft
 * bootstraps a fresh directory only for a member that is not clustered:
 * a member that joined never bootstraps (REVIEW: bootstrap is a
 * decision). */
struct nodedb_member {
	uint64_t id;
	char name[MEMBER_NAME_MAX + 1];
	bool clustered;
};

/* *FOUND is false (and OUT zeroed) when no member row was stored yet. */
int nodedb_member_get(struct nodedb *db, struct nodedb_member *out,
		      bool *found);
int nodedb_member_set(struct nodedb *db, const struct nodedb_member *m);

#endif /* TM_DB_NODE_NODEDB_H */

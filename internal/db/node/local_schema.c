/* The local database's schema.
 *
 *   1  base tables: config, raft_nodes
 *   2  trust store: certificates
 *   3  cluster identity: member (this member's raft id, name and whether
 *      it belongs to a cluster), and raft_nodes learns each member's name
 *      and certificate fingerprint (whom to accept raft traffic from
 *      before the global database has caught up)
 *
 * Rules for adding a version: append an update (never edit a released one),
 * make fresh_schema() create the same tables the chain ends with, and extend
 * the test that compares the two. */
#include "internal/db/node/nodedb.h"
#include "internal/db/schema/schema.h"

#define CREATE_CONFIG                                                     \
	"CREATE TABLE config (key TEXT PRIMARY KEY, value TEXT NOT NULL);"

#define CREATE_RAFT_NODES                                                 \
	"CREATE TABLE raft_nodes (id INTEGER PRIMARY KEY, "                \
	"address TEXT NOT NULL UNIQUE, role INTEGER NOT NULL DEFAULT 0);"

#define CREATE_CERTIFICATES                                               \
	"CREATE TABLE certificates (fingerprint TEXT PRIMARY KEY, "        \
	"name TEXT NOT NULL, type TEXT NOT NULL DEFAULT 'client', "        \
	"certificate TEXT NOT NULL, added_at INTEGER NOT NULL);"

#define UPDATE_CLUSTER_IDENTITY                                          \
	"ALTER TABLE raft_nodes ADD COLUMN name TEXT NOT NULL DEFAULT '';" \
	"ALTER TABLE raft_nodes ADD COLUMN fingerprint TEXT NOT NULL "     \
	"DEFAULT '';"                                                      \
	"CREATE TABLE member (single INTEGER PRIMARY KEY "                 \
	"CHECK (single = 1), id INTEGER NOT NULL, "                         \
	"name TEXT NOT NULL DEFAULT '', "                                   \
	"clustered INTEGER NOT NULL DEFAULT 0);"

static int update_base_tables(sqlite3 *db, char *errmsg)
{
	return schema_exec(db, CREATE_CONFIG CREATE_RAFT_NODES, errmsg);
}

static int update_trust_store(sqlite3 *db, char *errmsg)
{
	return schema_exec(db, CREATE_CERTIFICATES, errmsg);
}

static int update_cluster_identity(sqlite3 *db, char *errmsg)
{
	return schema_exec(db, UPDATE_CLUSTER_IDENTITY, errmsg);
}

static int fresh_schema(sqlite3 *db, char *errmsg)
{
	return schema_exec(db,
			   CREATE_CONFIG CREATE_RAFT_NODES CREATE_CERTIFICATES
			       UPDATE_CLUSTER_IDENTITY,
			   errmsg);
}

static const struct schema_update updates[] = {
	{.description = "base tables", .apply = update_base_tables},
	{.description = "add trust store", .apply = update_trust_store},
	{.description = "cluster identity", .apply = update_cluster_identity},
};

static const struct schema local_schema = {
	.name = "local",
	.updates = updates,
	.n_updates = sizeof updates / sizeof updates[0],
	.fresh = fresh_schema,
};

const struct schema *nodedb_schema(void)
{
	return &local_schema;
}

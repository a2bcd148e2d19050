/* The global database's schema.
 *
 *   1  members, config, certificates, operations
 *   2  join_tokens, index on operations(member_id)
 *   3  members: fingerprint, failure_domain
 *
 * Tables (times are unix seconds; 0 means "never"):
 *
 * members: one row per cluster member. Filled by membership: bootstrap
 *   inserts the first member, join adds one, remove deletes it, rename and
 *   role changes update it; the heartbeat updates `heartbeat`; each member
 *   keeps its own `schema_version` and `api_extensions` current at start
 *   (schema upgrade compares them across the cluster).
 *   - id: the member's raft server id (a raft_id, kept below 2^63).
 *   - name: unique member name ("therm cluster add NAME").
 *   - address: where the member serves the API and raft, normalised
 *     "host:port" (its core.https_address).
 *   - role: the raft role it is meant to hold: voter, standby or spare.
 *   - schema_version: the global schema version its binary knows.
 *   - api_extensions: the number of API extensions its binary knows.
 *   - heartbeat: the last heartbeat the leader got from it.
 *   - description: free text for the administrator.
 *   - fingerprint (v3): lower-case hex SHA-256 of the member's own
 *     certificate, the one it presents when it calls other members (its
 *     row in certificates has type 'server').
 *   - failure_domain (v3): where the member may fail together with others
 *     (a rack, a zone); the leader spreads voters across domains. "" when
 *     not declared.
 *
 * config: cluster-wide configuration, the keys of CONFIG_SCOPE_GLOBAL
 *   (internal/config) in normalised form. Only keys set to a non-default
 *   value have a row. Filled by PUT/PATCH /1.0/config.
 *
 * certificates: the trust store of the cluster. Filled by "therm trust"
 *   (type client: admin clients) and by join (type server: a member's own
 *   certificate).
 *   - fingerprint: lower-case hex SHA-256 of the DER certificate.
 *   - certificate: PEM text. added_at: when it was trusted.
 *
 * operations: which member runs which asynchronous operation, so that any
 *   member can list them all and forward GET/DELETE/wait to the owner. The
 *   operation itself lives in the owner's memory; this row mirrors it.
 *   Removing a member removes its rows (ON DELETE CASCADE; the cascade
 *   travels in the changeset). Filled by the operations module.
 *   - type: the operation's class ("join", "task", ...); status: its
 *     current status; created_at/updated_at: creation and last change.
 *
 * join_tokens (v2): pending join tokens issued by "therm cluster add NAME";
 *   a token is deleted when it is used (single use) or revoked, and refused
 *   once expired. Filled by membership.
 *   - secret_hash: lower-case hex SHA-256 of the token's secret. The secret
 *     itself is never stored: reading the database does not let one join.
 *   - name: the name the new member will take (one pending token per name).
 *   - addresses: JSON array of the member addresses put in the token.
 *   - fingerprint: the cluster certificate fingerprint put in the token.
 *   - created_at, expires_at.
 *
 * Text primary keys are NOT NULL: SQLite lets a non-INTEGER primary key of a
 * rowid table hold NULL, and such rows cannot be replicated.
 *
 * Rules for adding a version: append an update (never edit a released one:
 * databases in the field already ran it), one SQL statement per string, no
 * parameters, no transaction statements, no C code; then extend the tests in
 * test/unit/schema/test_global_schema.c. */
#include "internal/db/cluster/global_schema.h"

static const char *const update_cluster_tables[] = {
	"CREATE TABLE members ("
	"id INTEGER PRIMARY KEY, "
	"name TEXT NOT NULL UNIQUE, "
	"address TEXT NOT NULL UNIQUE, "
	"role TEXT NOT NULL DEFAULT 'voter' "
	"CHECK (role IN ('voter', 'standby', 'spare')), "
	"schema_version INTEGER NOT NULL, "
	"api_extensions INTEGER NOT NULL, "
	"heartbeat INTEGER NOT NULL DEFAULT 0, "
	"description TEXT NOT NULL DEFAULT '')",

	"CREATE TABLE config ("
	"key TEXT PRIMARY KEY NOT NULL, "
	"value TEXT NOT NULL)",

	"CREATE TABLE certificates ("
	"fingerprint TEXT PRIMARY KEY NOT NULL, "
	"name TEXT NOT NULL, "
	"type TEXT NOT NULL CHECK (type IN ('client', 'server')), "
	"certificate TEXT NOT NULL, "
	"added_at INTEGER NOT NULL)",

	"CREATE TABLE operations ("
	"uuid TEXT PRIMARY KEY NOT NULL, "
	"member_id INTEGER NOT NULL "
	"REFERENCES members(id) ON DELETE CASCADE, "
	"type TEXT NOT NULL, "
	"status TEXT NOT NULL, "
	"created_at INTEGER NOT NULL, "
	"updated_at INTEGER NOT NULL)",

	NULL,
};

static const char *const update_join_tokens[] = {
	"CREATE TABLE join_tokens ("
	"secret_hash TEXT PRIMARY KEY NOT NULL, "
	"name TEXT NOT NULL UNIQUE, "
	"addresses TEXT NOT NULL, "
	"fingerprint TEXT NOT NULL, "
	"created_at INTEGER NOT NULL, "
	"expires_at INTEGER NOT NULL)",

	/* A member's operations: listing them, and the cascade when the
	 * member is removed. */
	"CREATE INDEX operations_member_id ON operations (member_id)",

	NULL,
};

static const char *const update_member_identity[] = {
	"ALTER TABLE members ADD COLUMN fingerprint TEXT NOT NULL DEFAULT ''",
	"ALTER TABLE members ADD COLUMN failure_domain TEXT NOT NULL "
	"DEFAULT ''",
	NULL,
};

static const struct schema_update updates[] = {
	{
		.description = "cluster tables",
		.statements = update_cluster_tables,
	},
	{
		.description = "join tokens",
		.statements = update_join_tokens,
	},
	{
		.description = "member certificate and failure domain",
		.statements = update_member_identity,
	},
};

static const struct schema global = {
	.name = "global",
	.updates = updates,
	.n_updates = sizeof updates / sizeof updates[0],
	.fresh = NULL,
};

const struct schema *global_schema(void)
{
	return &global;
}

/* The raft_nodes table: the last Raft configuration this member knew, used
 * to find the cluster again after a restart. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "internal/db/node/private.h"
#include "internal/lib/assert.h"
#include "internal/lib/err.h"
#include "internal/lib/mem.h"

int nodedb_raft_nodes_get(struct nodedb *db, struct nodedb_raft_node **out,
			  size_t *n)
{
	PRE(db != NULL && out != NULL && n != NULL);
	sqlite3_stmt *stmt = nodedb_stmt(db, NODEDB_STMT_RAFT_GET);
	struct nodedb_raft_node *nodes = NULL;
	size_t count = 0;
	size_t cap = 0;
	int rc;
	int rv = 0;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		sqlite3_int64 id = sqlite3_column_int64(stmt, 0);
		const char *address =
			(const char *)sqlite3_column_text(stmt, 1);
		if (id <= 0 || address == NULL) {
			tm_errmsg_printf(db->errmsg, "read raft nodes: bad "
					 "row (id %lld)", (long long)id);
			rv = TM_CORRUPT;
			break;
		}
		if (count == cap) {
			cap = cap == 0 ? 4 : cap * 2;
			nodes = tm_realloc(nodes, cap * sizeof *nodes);
		}
		nodes[count].id = (uint64_t)id;
		nodes[count].address = tm_strdup(address);
		nodes[count].role = sqlite3_column_int(stmt, 2);
		const char *name = (const char *)sqlite3_column_text(stmt, 3);
		const char *fp = (const char *)sqlite3_column_text(stmt, 4);
		nodes[count].name = tm_strdup(name != NULL ? name : "");
		nodes[count].fingerprint = tm_strdup(fp != NULL ? fp : "");
		count++;
	}
	if (rv == 0 && rc != SQLITE_DONE) {
		rv = nodedb_sqlite_error(db, rc, "read raft nodes");
	}
	sqlite3_reset(stmt);
	if (rv != 0) {
		nodedb_raft_nodes_free(nodes, count);
		return rv;
	}
	*out = nodes;
	*n = count;
	return 0;
}

static int check_node(struct nodedb *db, const struct nodedb_raft_node *node)
{
	if (node->id == 0 || node->id > (uint64_t)INT64_MAX) {
		tm_errmsg_printf(db->errmsg, "invalid raft node id %llu",
				 (unsigned long long)node->id);
		return TM_INVALID;
	}
	if (node->address == NULL || node->address[0] == '\0') {
		tm_errmsg_printf(db->errmsg, "raft node %llu has no address",
				 (unsigned long long)node->id);
		return TM_INVALID;
	}
	return 0;
}

static int insert_node(struct nodedb *db, const struct nodedb_raft_node *node)
{
	sqlite3_stmt *stmt = nodedb_stmt(db, NODEDB_STMT_RAFT_INSERT);
	sqlite3_bind_int64(stmt, 1, (sqlite3_int64)node->id);
	sqlite3_bind_text(stmt, 2, node->address, -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 3, node->role);
	sqlite3_bind_text(stmt, 4, node->name != NULL ? node->name : "", -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(stmt, 5,
			  node->fingerprint != NULL ? node->fingerprint : "",
			  -1, SQLITE_STATIC);
	int rv = nodedb_step_done(db, stmt, "store raft node");
	sqlite3_clear_bindings(stmt);
	if (rv == TM_EXISTS) {
		tm_errmsg_printf(db->errmsg, "duplicate raft node id %llu or "
				 "address %s", (unsigned long long)node->id,
				 node->address);
		rv = TM_INVALID;
	}
	return rv;
}

int nodedb_raft_nodes_replace(struct nodedb *db,
			      const struct nodedb_raft_node *nodes, size_t n)
{
	PRE(db != NULL && (nodes != NULL || n == 0));
	for (size_t i = 0; i < n; i++) {
		int rv = check_node(db, &nodes[i]);
		if (rv != 0) {
			return rv;
		}
	}
	int rv = nodedb_tx_begin(db);
	if (rv != 0) {
		return rv;
	}
	rv = nodedb_step_done(db, nodedb_stmt(db, NODEDB_STMT_RAFT_CLEAR),
			      "clear raft nodes");
	for (size_t i = 0; rv == 0 && i < n; i++) {
		rv = insert_node(db, &nodes[i]);
	}
	if (rv != 0) {
		nodedb_tx_rollback(db);
		return rv;
	}
	return nodedb_tx_commit(db);
}

void nodedb_raft_nodes_free(struct nodedb_raft_node *nodes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		tm_free(nodes[i].address);
		tm_free(nodes[i].name);
		tm_free(nodes[i].fingerprint);
	}
	tm_free(nodes);
}

int nodedb_member_get(struct nodedb *db, struct nodedb_member *out,
		      bool *found)
{
	PRE(db != NULL && out != NULL && found != NULL);
	memset(out, 0, sizeof *out);
	*found = false;
	sqlite3_stmt *stmt = nodedb_stmt(db, NODEDB_STMT_MEMBER_GET);
	int rc = sqlite3_step(stmt);
	int rv = 0;
	if (rc == SQLITE_ROW) {
		sqlite3_int64 id = sqlite3_column_int64(stmt, 0);
		const char *name = (const char *)sqlite3_column_text(stmt, 1);
		if (id <= 0 || name == NULL ||
		    strlen(name) > MEMBER_NAME_MAX) {
			tm_errmsg_printf(db->errmsg,
					 "read member: bad row (id %lld)",
					 (long long)id);
			rv = TM_CORRUPT;
		} else {
			out->id = (uint64_t)id;
			snprintf(out->name, sizeof out->name, "%s", name);
			out->clustered = sqlite3_column_int(stmt, 2) != 0;
			*found = true;
		}
	} else if (rc != SQLITE_DONE) {
		rv = nodedb_sqlite_error(db, rc, "read member");
	}
	sqlite3_reset(stmt);
	return rv;
}

int nodedb_member_set(struct nodedb *db, const struct nodedb_member *m)
{
	PRE(db != NULL && m != NULL);
	if (m->id == 0 || m->id > (uint64_t)INT64_MAX) {
		tm_errmsg_printf(db->errmsg, "invalid raft id %llu",
				 (unsigned long long)m->id);
		return TM_INVALID;
	}
	sqlite3_stmt *stmt = nodedb_stmt(db, NODEDB_STMT_MEMBER_SET);
	sqlite3_bind_int64(stmt, 1, (sqlite3_int64)m->id);
	sqlite3_bind_text(stmt, 2, m->name, -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 3, m->clustered ? 1 : 0);
	int rv = nodedb_step_done(db, stmt, "store member");
	sqlite3_clear_bindings(stmt);
	return rv;
}

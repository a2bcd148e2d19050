/* The versioned schema of the global (raft-replicated) database.
 *
 * Every update is a list of SQL statements (struct schema_update.statements)
 * and never a C function: the database changes only by applying raft
 * entries, so the leader gets the statements from schema_statements() and
 * submits them as one ordinary transaction write request, which replicates
 * them to every member like any user's DDL. A cluster created by this binary
 * replays the whole chain, so a fresh database and an updated one cannot
 * drift apart (there is no separate "fresh" dump).
 *
 * Every table declares a PRIMARY KEY, NOT NULL when it is not an INTEGER
 * PRIMARY KEY, and has no generated column: the replication layer records
 * rows by primary key and refuses tables it could not replicate faithfully.
 *
 * The tables and their columns are described in global_schema.c. Times are
 * unix seconds (INTEGER). */
#ifndef TM_DB_CLUSTER_GLOBAL_SCHEMA_H
#define TM_DB_CLUSTER_GLOBAL_SCHEMA_H

#include "internal/db/schema/schema.h"

/* The schema, named "global"; its version is ->n_updates. Borrowed,
 * static. */
const struct schema *global_schema(void);

#endif /* TM_DB_CLUSTER_GLOBAL_SCHEMA_H */

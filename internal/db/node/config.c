/* The config table: this member's own configuration, key -> string. The
 * values are validated by internal/config before they get here. */
#include "internal/db/node/private.h"
#include "internal/lib/assert.h"
#include "internal/lib/err.h"

int nodedb_config_load(struct nodedb *db, cJSON **out)
{
	PRE(db != NULL && out != NULL);
	cJSON *config = cJSON_CreateObject();
	if (config == NULL) {
		tm_errmsg_printf(db->errmsg, "load config: out of memory");
		return TM_NOMEM;
	}
	sqlite3_stmt *stmt = nodedb_stmt(db, NODEDB_STMT_CONFIG_LOAD);
	int rc;
	int rv = 0;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *key = (const char *)sqlite3_column_text(stmt, 0);
		const char *value = (const char *)sqlite3_column_text(stmt, 1);
		if (key == NULL || value == NULL ||
		    cJSON_AddStringToObject(config, key, value) == NULL) {
			tm_errmsg_printf(db->errmsg,
					 "load config: out of memory");
			rv = TM_NOMEM;
			break;
		}
	}
	if (rv == 0 && rc != SQLITE_DONE) {
		rv = nodedb_sqlite_error(db, rc, "load config");
	}
	sqlite3_reset(stmt);
	if (rv != 0) {
		cJSON_Delete(config);
		return rv;
	}
	*out = config;
	return 0;
}

static int check_values(struct nodedb *db, const cJSON *values)
{
	if (!cJSON_IsObject(values)) {
		tm_errmsg_printf(db->errmsg, "config must be a JSON object");
		return TM_INVALID;
	}
	const cJSON *item;
	cJSON_ArrayForEach(item, values)
	{
		if (item->string == NULL || item->string[0] == '\0') {
			tm_errmsg_printf(db->errmsg, "config key is empty");
			return TM_INVALID;
		}
		if (!cJSON_IsString(item)) {
			tm_errmsg_printf(db->errmsg, "config value of \"%s\" "
				 "is not a string", item->string);
			return TM_INVALID;
		}
	}
	return 0;
}

static int insert_value(struct nodedb *db, const cJSON *item)
{
	sqlite3_stmt *stmt = nodedb_stmt(db, NODEDB_STMT_CONFIG_INSERT);
	sqlite3_bind_text(stmt, 1, item->string, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, item->valuestring, -1, SQLITE_STATIC);
	int rv = nodedb_step_done(db, stmt, "store config");
	if (rv == TM_EXISTS) {
		tm_errmsg_printf(db->errmsg, "duplicate config key \"%s\"",
				 item->string);
		rv = TM_INVALID;
	}
	return rv;
}

int nodedb_config_replace(struct nodedb *db, const cJSON *values)
{
	PRE(db != NULL);
	int rv = check_values(db, values);
	if (rv != 0) {
		return rv;
	}
	rv = nodedb_tx_begin(db);
	if (rv != 0) {
		return rv;
	}
	rv = nodedb_step_done(db, nodedb_stmt(db, NODEDB_STMT_CONFIG_CLEAR),
			      "clear config");
	const cJSON *item;
	cJSON_ArrayForEach(item, values)
	{
		if (rv != 0) {
			break;
		}
		rv = insert_value(db, item);
	}
	if (rv != 0) {
		nodedb_tx_rollback(db);
		return rv;
	}
	return nodedb_tx_commit(db);
}

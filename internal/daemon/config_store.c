/* Where the configuration lives: local keys in local.db, cluster-wide
 * (global) keys in the global database's config table.
 *
 * Every member reads the config table again when an applied entry changes
 * it (gdb_watch: a PUT/PATCH /1.0/config on any member, a SQL write, a
 * restore or an installed snapshot) and when the global database becomes
 * ready, and applies the result at once, as a local change is applied:
 * nothing waits for a restart. The table is small and read on the loop
 * through gdb's route connection, which sees the last applied entry. */
#include <string.h>

#include "internal/config/config.h"
#include "internal/daemon/daemon_priv.h"
#include "internal/daemon/events_internal.h"
#include "internal/db/cluster/gdb.h"
#include "internal/db/node/nodedb.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"

static bool same_json(const cJSON *a, const cJSON *b)
{
	return cJSON_Compare(a, b, true) != 0;
}

void daemon_config_init(struct daemon *d, cJSON *all)
{
	d->local_config = config_scope_only(all, CONFIG_SCOPE_LOCAL);
	cJSON *legacy = config_scope_only(all, CONFIG_SCOPE_GLOBAL);
	cJSON_Delete(all);
	if (cJSON_GetArraySize(legacy) == 0) {
		cJSON_Delete(legacy);
		legacy = NULL;
	}
	d->legacy_global = legacy;
	d->global_config = cJSON_CreateObject();
	d->config = config_merge(d->local_config, legacy);
}

/* Log the keys whose effective value differs between OLD and NEW. */
static void log_changes(const cJSON *old, const cJSON *new)
{
	cJSON *result = NULL;
	cJSON *changed = NULL;
	char errmsg[TM_ERRMSG_SIZE];
	/* A PUT of NEW onto OLD says which keys changed. */
	if (config_apply(old, new, true, &result, &changed, errmsg) != 0) {
		return;
	}
	char *names = cJSON_PrintUnformatted(changed);
	LOGI("daemon: configuration changed: %s", names != NULL ? names : "?");
	cJSON_free(names);
	cJSON_Delete(changed);
	cJSON_Delete(result);
}

void daemon_config_refresh(struct daemon *d)
{
	/* The table wins over the legacy rows it already holds. */
	cJSON *global = config_merge(d->legacy_global, d->global_config);
	cJSON *next = config_merge(d->local_config, global);
	cJSON_Delete(global);
	if (same_json(next, d->config)) {
		cJSON_Delete(next);
		return;
	}
	log_changes(d->config, next);
	daemon_events_config(d, d->config, next);
	cJSON_Delete(d->config);
	d->config = next;
	daemon_config_apply(d);
}

cJSON *daemon_config_local_rows(struct daemon *d)
{
	return config_merge(d->local_config, d->legacy_global);
}

/* One row of the table into GLOBAL, if it is a global key with a valid
 * value (normalised again: SQL writes reach the table too). */
static void add_row(cJSON *global, const char *name, const char *value)
{
	const struct config_key *key = config_lookup(name);
	if (key == NULL || key->scope != CONFIG_SCOPE_GLOBAL) {
		LOGW("daemon: global config table: ignoring \"%s\": %s", name,
		     key == NULL ? "unknown key" : "not a cluster-wide key");
		return;
	}
	cJSON *json = cJSON_CreateString(value);
	char errmsg[TM_ERRMSG_SIZE];
	char *norm = NULL;
	if (config_normalize(key, json, &norm, errmsg) != 0) {
		LOGW("daemon: global config table: ignoring %s", errmsg);
	} else if (norm[0] != '\0' && strcmp(norm, key->default_value) != 0) {
		cJSON_AddStringToObject(global, name, norm);
	}
	tm_free(norm);
	cJSON_Delete(json);
}

/* The table's rows, or NULL when it cannot be read (no table yet: the
 * global schema is older than this binary, which updates it at start). */
static cJSON *read_table(struct gdb *g)
{
	sqlite3 *db = gdb_exec_conn(g);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT key, value FROM config ORDER BY key",
			       -1, &st, NULL) != SQLITE_OK) {
		LOGD("daemon: global config table: %s", sqlite3_errmsg(db));
		return NULL;
	}
	cJSON *global = cJSON_CreateObject();
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const char *value = (const char *)sqlite3_column_text(st, 1);
		if (name != NULL && value != NULL) {
			add_row(global, name, value);
		}
	}
	if (rc != SQLITE_DONE) {
		LOGE("daemon: global config table: %s", sqlite3_errmsg(db));
		cJSON_Delete(global);
		global = NULL;
	}
	sqlite3_finalize(st);
	return global;
}

void daemon_config_reload_global(struct daemon *d)
{
	if (d->gdb == NULL) {
		return;
	}
	cJSON *global = read_table(d->gdb);
	if (global == NULL) {
		return;
	}
	cJSON_Delete(d->global_config);
	d->global_config = global;
	daemon_config_refresh(d);
}

void daemon_config_watch_cb(void *arg, const char *table)
{
	(void)table;
	daemon_config_reload_global(arg);
}

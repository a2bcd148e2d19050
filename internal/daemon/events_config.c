/* Config events: one per key whose effective value changed, with its
 * scope, old and new value ("set"; "unset" back to the default). Local
 * keys are told by their member; cluster-wide keys, which every member
 * applies, by the leader only (location: the leader), so each change is
 * told once. A secret key's values are never shown. Nothing is told
 * before the member is ready (the values read at start are no change). */
#include <string.h>

#include "internal/config/config.h"
#include "internal/daemon/daemon_priv.h"
#include "internal/daemon/events_internal.h"
#include "internal/raft/raftnode.h"

static void tell(struct daemon *d, const struct config_key *key,
		 const char *name, const cJSON *old, const cJSON *now)
{
	bool global = key->scope == CONFIG_SCOPE_GLOBAL;
	if (global && (d->raftnode == NULL || d->raft_closing ||
		       raft_state(raftnode_raft(d->raftnode)) != RAFT_LEADER)) {
		return;
	}
	cJSON *meta = cJSON_CreateObject();
	cJSON_AddStringToObject(meta, "action",
				cJSON_IsString(now) ? "set" : "unset");
	cJSON_AddStringToObject(meta, "scope", config_scope_name(key->scope));
	cJSON_AddStringToObject(meta, "key", name);
	if (key->secret) {
		cJSON_AddBoolToObject(meta, "secret", true);
	} else {
		cJSON_AddStringToObject(meta, "old_value",
					cJSON_IsString(old) ? old->valuestring
							    : "");
		cJSON_AddStringToObject(
		    meta, "value", cJSON_IsString(now) ? now->valuestring : "");
	}
	daemon_emit(d, EVENTS_CONFIG, LOG_INFO, meta);
}

static void tell_if_changed(struct daemon *d, const char *name,
			    const cJSON *old, const cJSON *now)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(old, name);
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(now, name);
	if (cJSON_Compare(a, b, true)) {
		return;
	}
	const struct config_key *key = config_lookup(name);
	if (key != NULL) {
		tell(d, key, name, a, b);
	}
}

void daemon_events_config(struct daemon *d, const cJSON *old, const cJSON *now)
{
	if (d->events == NULL || d->state != DAEMON_READY) {
		return;
	}
	const cJSON *item;
	cJSON_ArrayForEach(item, now)
	{
		tell_if_changed(d, item->string, old, now);
	}
	cJSON_ArrayForEach(item, old)
	{
		if (cJSON_GetObjectItemCaseSensitive(now, item->string) ==
		    NULL) {
			tell_if_changed(d, item->string, old, now);
		}
	}
}

/* /1.0/config: the member's configuration as a flat object of strings:
 * its own (member) keys and the cluster-wide keys, which are the same on
 * every member. GET carries an ETag over the whole; PUT (replace) and
 * PATCH (merge) honour If-Match so that two admins editing at once cannot
 * silently overwrite each other. GET ?all=1 describes every key instead
 * (scope, type, default, value; config_describe).
 *
 * A PUT or PATCH is checked whole first (every error names its key). Then:
 * 1. the cluster-wide keys it changes are written to the global
 *    database's config table, as one replicated transaction of upserts
 *    and deletes (so that writes of different keys from different
 *    members do not undo each other); every member applies them when the
 *    entry is applied. A follower relays this part to the leader
 *    (config_relay.c). A member still starting first waits until it is
 *    ready (global_wait.h). Refused (no leader, no disk space, stopping...):
 *    answered with the status the SQL API gives, and nothing of the
 *    request is applied.
 * 2. then the member keys are stored in local.db and applied
 *    (daemon_config_set_local): a new core.https_address is bound first.
 *    That failing after step 1 leaves the cluster-wide keys applied; the
 *    answer says so.
 * 3. when step 1 wrote something: the member waits (bounded) until every
 *    member has applied that entry, i.e. has the change in force, and
 *    names those that have not (config_inforce.c). A member that is down
 *    does not fail the change. A request relayed by another member skips
 *    this step: the member that took the change does it.
 * The answer: {member, index, changes: [{key, scope, value, set,
 * changed}], in_force: [{name, address, in_force, message}], config}. */
#include <string.h>

#include "internal/api/api.h"
#include "internal/api/config_inforce.h"
#include "internal/api/config_relay.h"
#include "internal/api/forward.h"
#include "internal/api/global_wait.h"
#include "internal/api/write.h"
#include "internal/config/config.h"
#include "internal/daemon/cluster.h"
#include "internal/daemon/daemon.h"
#include "internal/lib/mem.h"
#include "internal/rest/envelope.h"

static void respond_config(struct rest_request *req)
{
	char etag[65];
	cJSON *config =
	    cJSON_Duplicate(daemon_config(rest_server_data(req)), true);
	envelope_etag(config, etag);
	rest_respond_sync(req, config, etag);
}

static void respond_all(struct rest_request *req)
{
	char etag[65];
	const cJSON *config = daemon_config(rest_server_data(req));
	envelope_etag(config, etag);
	rest_respond_sync(req, config_describe(config), etag);
}

void api_config_get(struct rest_request *req)
{
	const char *all = rest_query(req, "all");
	if (all != NULL && all[0] != '\0' && strcmp(all, "0") != 0) {
		respond_all(req);
	} else {
		respond_config(req);
	}
}

/* One request between its check and its answer. */
struct update {
	struct rest_request *req;
	cJSON *body_local; /* the body's member keys, owned */
	bool replace;
	char *keys;	/* the cluster-wide keys written, for messages */
	cJSON *changes; /* for the answer, owned */
	uint64_t index; /* of the cluster-wide write; 0 if none */
};

static void update_free(struct update *u)
{
	cJSON_Delete(u->body_local);
	cJSON_Delete(u->changes);
	tm_free(u->keys);
	tm_free(u);
}

/* One entry of the answer's "changes". */
static void add_change(cJSON *changes, const char *name, const cJSON *result,
		       bool changed)
{
	const struct config_key *key = config_lookup(name);
	if (key == NULL) {
		return;
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "key", name);
	cJSON_AddStringToObject(o, "scope", config_scope_name(key->scope));
	cJSON_AddStringToObject(o, "value", config_get(result, name));
	cJSON_AddBoolToObject(
	    o, "set", cJSON_GetObjectItemCaseSensitive(result, name) != NULL);
	cJSON_AddBoolToObject(o, "changed", changed);
	cJSON_AddItemToArray(changes, o);
}

static bool in_names(const cJSON *names, const char *name)
{
	const cJSON *item;
	cJSON_ArrayForEach(item, names)
	{
		if (strcmp(item->valuestring, name) == 0) {
			return true;
		}
	}
	return false;
}

/* The keys of BODY in its order, then the others that CHANGED (a PUT
 * unsets the keys it does not name). */
static cJSON *changes_list(const cJSON *body, const cJSON *result,
			   const cJSON *changed)
{
	cJSON *out = cJSON_CreateArray();
	const cJSON *item;
	cJSON_ArrayForEach(item, body)
	{
		add_change(out, item->string, result,
			   in_names(changed, item->string));
	}
	cJSON_ArrayForEach(item, changed)
	{
		if (cJSON_GetObjectItemCaseSensitive(body, item->valuestring) ==
		    NULL) {
			add_change(out, item->valuestring, result, true);
		}
	}
	return out;
}

static void inforce_cb(void *arg, cJSON *members)
{
	struct update *u = arg;
	struct rest_request *req = u->req;
	struct daemon *d = rest_server_data(req);
	char etag[65];
	cJSON *config = cJSON_Duplicate(daemon_config(d), true);
	envelope_etag(config, etag);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "member", cluster_member_name(d));
	cJSON_AddNumberToObject(o, "index", (double)u->index);
	cJSON_AddItemToObject(o, "changes", u->changes);
	u->changes = NULL;
	cJSON_AddItemToObject(o, "in_force", members);
	cJSON_AddItemToObject(o, "config", config);
	rest_respond_sync(req, o, etag);
	update_free(u);
}

/* Step 3, or the answer at once. */
static void update_done(struct update *u)
{
	if (u->index == 0 && api_forwarded(u->req)) {
		/* Relayed and nothing to write: the value is already in the
		 * log, at or before what this member applied. */
		u->index = cluster_applied_index(rest_server_data(u->req));
	}
	if (u->index != 0 && !api_forwarded(u->req)) {
		config_inforce(rest_server_data(u->req), u->index, inforce_cb,
			       u);
	} else {
		inforce_cb(u, cJSON_CreateArray());
	}
}

/* Step 2: the member keys, merged into the configuration as it is now
 * (the cluster-wide write may have taken a while). */
static void update_local(struct update *u, bool global_done)
{
	struct rest_request *req = u->req;
	struct daemon *d = rest_server_data(req);
	char errmsg[TM_ERRMSG_SIZE] = "";
	cJSON *result = NULL;
	cJSON *changed = NULL;
	int rv = config_apply(daemon_config(d), u->body_local, u->replace,
			      &result, &changed, errmsg);
	if (rv == 0) {
		cJSON *local = config_scope_only(result, CONFIG_SCOPE_LOCAL);
		cJSON *now =
		    config_scope_only(daemon_config(d), CONFIG_SCOPE_LOCAL);
		if (cJSON_Compare(local, now, true)) {
			cJSON_Delete(local);
		} else {
			rv = daemon_config_set_local(d, local, errmsg);
		}
		cJSON_Delete(now);
	}
	cJSON_Delete(result);
	cJSON_Delete(changed);
	if (rv != 0) {
		rest_respond_error(req,
				   rv == TM_IO || rv == TM_INVALID ? 400 : 500,
				   "%s%s", errmsg,
				   global_done ? " (the cluster-wide keys of "
						 "the request were applied)"
					       : "");
		update_free(u);
		return;
	}
	update_done(u);
}

static void global_done_cb(struct api_write *w, int status)
{
	struct update *u = w->data;
	if (status != 0) {
		char *what = tm_asprintf("store cluster-wide configuration "
					 "(%s)",
					 u->keys);
		api_write_fail(w, status, what);
		tm_free(what);
		api_write_free(w);
		update_free(u);
		return;
	}
	u->index = w->greq.index;
	api_write_free(w);
	update_local(u, true);
}

static void write_global(struct update *u, const cJSON *global);

static void relayed_cb(void *arg, int http_status, uint64_t index,
		       const cJSON *changes, const char *errmsg)
{
	struct update *u = arg;
	if (http_status == 0) {
		write_global(u, changes); /* this member leads now */
		return;
	}
	if (http_status != 200) {
		rest_respond_error(u->req, http_status,
				   "store cluster-wide configuration (%s): %s",
				   u->keys, errmsg);
		update_free(u);
		return;
	}
	u->index = index;
	update_local(u, true);
}

/* The cluster-wide keys whose effective value changes, as a PATCH body
 * (null unsets); their names in u->keys. NULL when there is none. */
static cJSON *global_changes(struct update *u, const cJSON *result,
			     const cJSON *changed)
{
	cJSON *out = NULL;
	size_t len = 0;
	const cJSON *name;
	cJSON_ArrayForEach(name, changed)
	{
		const struct config_key *key = config_lookup(name->valuestring);
		if (key == NULL || key->scope != CONFIG_SCOPE_GLOBAL) {
			continue;
		}
		if (out == NULL) {
			out = cJSON_CreateObject();
		}
		const cJSON *value =
		    cJSON_GetObjectItemCaseSensitive(result, name->valuestring);
		cJSON_AddItemToObject(
		    out, name->valuestring,
		    cJSON_IsString(value)
			? cJSON_CreateString(value->valuestring)
			: cJSON_CreateNull());
		u->keys =
		    tm_realloc(u->keys, len + strlen(name->valuestring) + 3);
		len += (size_t)sprintf(u->keys + len, "%s%s",
				       len > 0 ? ", " : "", name->valuestring);
	}
	return out;
}

/* Step 1 on this member: upsert or delete each key of GLOBAL. */
static void write_global(struct update *u, const cJSON *global)
{
	struct api_write *w = api_write_new(u->req, u);
	const cJSON *value;
	cJSON_ArrayForEach(value, global)
	{
		size_t i;
		if (cJSON_IsString(value)) {
			i = api_write_stmt(w,
					   "INSERT INTO config (key, value) "
					   "VALUES (?, ?) ON CONFLICT (key) "
					   "DO UPDATE SET value = "
					   "excluded.value",
					   2);
			api_write_text(w, i, 1, value->valuestring);
		} else {
			i = api_write_stmt(
			    w, "DELETE FROM config WHERE key = ?", 1);
		}
		api_write_text(w, i, 0, value->string);
	}
	if (!api_write_submit(w, global_done_cb)) {
		update_free(u); /* answered 503 */
	}
}

static void update(struct rest_request *req, bool replace)
{
	struct daemon *d = rest_server_data(req);
	char etag[65];
	char errmsg[TM_ERRMSG_SIZE] = "";
	envelope_etag(daemon_config(d), etag);

	const char *if_match = rest_header(req, "If-Match");
	if (if_match != NULL && !rest_etag_matches(if_match, etag)) {
		rest_respond_error(req, 412,
				   "configuration changed since it was read "
				   "(ETag \"%s\" does not match If-Match %s)",
				   etag, if_match);
		return;
	}
	cJSON *body = rest_body_json(req);
	if (body == NULL) {
		return;
	}
	cJSON *result = NULL;
	cJSON *changed = NULL;
	int rv = config_apply(daemon_config(d), body, replace, &result,
			      &changed, errmsg);
	if (rv != 0) {
		cJSON_Delete(body);
		rest_respond_error(req, 400, "%s", errmsg);
		return;
	}
	struct update *u = tm_calloc(1, sizeof *u);
	u->req = req;
	u->body_local = config_scope_only(body, CONFIG_SCOPE_LOCAL);
	u->replace = replace;
	u->changes = changes_list(body, result, changed);
	cJSON_Delete(body);
	cJSON *global = global_changes(u, result, changed);
	cJSON_Delete(result);
	cJSON_Delete(changed);
	if (global != NULL && daemon_gdb(d) == NULL && api_global_wait(req)) {
		/* Nothing done yet: checked again once ready. */
		update_free(u);
		cJSON_Delete(global);
		return;
	}
	if (global == NULL) {
		update_local(u, false);
	} else if (cluster_follows(d) && !api_forwarded(req)) {
		config_relay(d, global, relayed_cb, u);
	} else {
		write_global(u, global);
	}
	cJSON_Delete(global);
}

void api_config_put(struct rest_request *req) { update(req, true); }

void api_config_patch(struct rest_request *req) { update(req, false); }

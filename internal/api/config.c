/* /1.0/config: the member's configuration as a flat object of strings:
 * its own (local) keys and the cluster-wide (global) keys, which are the
 * same on every member. GET carries an ETag over the whole; PUT (replace)
 * and PATCH (merge) honour If-Match so that two admins editing at once
 * cannot silently overwrite each other.
 *
 * A PUT or PATCH is checked whole first (every error names its key). Then:
 * 1. the global keys it changes are written to the global database's
 *    config table, as one replicated transaction of upserts and deletes
 *    (so that writes of different keys from different members do not undo
 *    each other); every member applies them when the entry is applied.
 *    Refused (not the leader, no disk space, stopping...): answered with
 *    the status the SQL API gives, and nothing of the request is applied.
 * 2. then the local keys are stored in local.db and applied
 *    (daemon_config_set_local): a new core.https_address is bound first.
 *    That failing after step 1 leaves the global keys applied; the answer
 *    says so.
 * The answer is the configuration once both are applied. */
#include <string.h>

#include "internal/api/api.h"
#include "internal/api/write.h"
#include "internal/config/config.h"
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

void api_config_get(struct rest_request *req) { respond_config(req); }

/* One request between its check and its answer. */
struct update {
	cJSON *body_local; /* the body's local keys, owned */
	bool replace;
	char *keys; /* the global keys written, for messages; owned */
};

static void update_free(struct update *u)
{
	cJSON_Delete(u->body_local);
	tm_free(u->keys);
	tm_free(u);
}

/* Step 2: the local keys, merged into the configuration as it is now
 * (the global write may have taken a while). */
static void update_local(struct rest_request *req, struct update *u,
			 bool global_done)
{
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
	} else {
		respond_config(req);
	}
	update_free(u);
}

static void global_done_cb(struct api_write *w, int status)
{
	struct update *u = w->data;
	struct rest_request *req = w->req;
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
	api_write_free(w);
	update_local(req, u, true);
}

/* Step 1: upsert or delete each global key whose effective value
 * changes. False (nothing to write) when none does. */
static bool write_global(struct rest_request *req, struct update *u,
			 const cJSON *result, const cJSON *changed)
{
	struct api_write *w = NULL;
	size_t len = 0;
	const cJSON *name;
	cJSON_ArrayForEach(name, changed)
	{
		const struct config_key *key = config_lookup(name->valuestring);
		if (key == NULL || key->scope != CONFIG_SCOPE_GLOBAL) {
			continue;
		}
		if (w == NULL) {
			w = api_write_new(req, u);
		}
		const cJSON *value =
		    cJSON_GetObjectItemCaseSensitive(result, name->valuestring);
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
		api_write_text(w, i, 0, name->valuestring);
		u->keys =
		    tm_realloc(u->keys, len + strlen(name->valuestring) + 3);
		len += (size_t)sprintf(u->keys + len, "%s%s",
				       len > 0 ? ", " : "", name->valuestring);
	}
	if (w == NULL) {
		return false;
	}
	if (!api_write_submit(w, global_done_cb)) {
		update_free(u); /* answered 503 */
	}
	return true;
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
	u->body_local = config_scope_only(body, CONFIG_SCOPE_LOCAL);
	u->replace = replace;
	cJSON_Delete(body);
	bool waiting = write_global(req, u, result, changed);
	cJSON_Delete(result);
	cJSON_Delete(changed);
	if (!waiting) {
		update_local(req, u, false);
	}
}

void api_config_put(struct rest_request *req) { update(req, true); }

void api_config_patch(struct rest_request *req) { update(req, false); }

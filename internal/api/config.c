/* /1.0/config: the member's configuration as a flat object of strings.
 * GET carries an ETag; PUT (replace) and PATCH (merge) honour If-Match so
 * that two admins editing at once cannot silently overwrite each other. */
#include "internal/api/api.h"
#include "internal/config/config.h"
#include "internal/daemon/daemon.h"
#include "internal/rest/envelope.h"

void api_config_get(struct rest_request *req)
{
	struct daemon *d = rest_server_data(req);
	cJSON *config = cJSON_Duplicate(daemon_config(d), true);
	char etag[65];
	envelope_etag(config, etag);
	rest_respond_sync(req, config, etag);
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
	cJSON_Delete(body);
	if (rv != 0) {
		rest_respond_error(req, 400, "%s", errmsg);
		return;
	}
	cJSON_Delete(changed);
	rv = daemon_config_update(d, result, errmsg);
	if (rv != 0) {
		rest_respond_error(req, rv == TM_IO ? 400 : 500, "%s", errmsg);
		return;
	}
	cJSON *now = cJSON_Duplicate(daemon_config(d), true);
	envelope_etag(now, etag);
	rest_respond_sync(req, now, etag);
}

void api_config_put(struct rest_request *req)
{
	update(req, true);
}

void api_config_patch(struct rest_request *req)
{
	update(req, false);
}

/* Readiness and shutdown. */
#include "internal/api/api.h"
#include "internal/daemon/daemon.h"

void api_ready_get(struct rest_request *req)
{
	struct daemon *d = rest_server_data(req);
	if (daemon_state(d) != DAEMON_READY) {
		rest_respond_error(req, 503, "daemon not ready");
		return;
	}
	cJSON *meta = cJSON_CreateObject();
	cJSON_AddBoolToObject(meta, "ready", true);
	rest_respond_sync(req, meta, NULL);
}

void api_shutdown_put(struct rest_request *req)
{
	struct daemon *d = rest_server_data(req);
	rest_respond_sync(req, NULL, NULL);
	daemon_stop(d);
}

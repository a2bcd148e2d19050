/* GET /1.0: what the server is. Untrusted clients see only what they need
 * to decide whether to trust it: the API version and the certificate. */
#include <unistd.h>

#include "internal/api/api.h"
#include "internal/daemon/daemon.h"

static cJSON *extensions(void)
{
	cJSON *list = cJSON_CreateArray();
	for (const char *const *e = api_extensions; *e != NULL; e++) {
		cJSON_AddItemToArray(list, cJSON_CreateString(*e));
	}
	return list;
}

void api_root_get(struct rest_request *req)
{
	struct daemon *d = rest_server_data(req);
	enum rest_auth auth = rest_auth(req);
	cJSON *meta = cJSON_CreateObject();
	cJSON *env = cJSON_CreateObject();

	cJSON_AddStringToObject(meta, "api_version", "1.0");
	cJSON_AddItemToObject(meta, "api_extensions", extensions());
	cJSON_AddStringToObject(meta, "auth", auth == REST_AUTH_UNTRUSTED
						      ? "untrusted"
						      : "trusted");
	cJSON_AddStringToObject(meta, "auth_method",
				auth == REST_AUTH_LOCAL ? "unix" : "tls");
	cJSON_AddStringToObject(env, "server", "thermionic");
	cJSON_AddStringToObject(env, "server_version", THERMIONIC_VERSION);
	cJSON_AddStringToObject(env, "certificate", daemon_cert_pem(d));
	cJSON_AddStringToObject(env, "certificate_fingerprint",
				daemon_fingerprint(d));
	if (auth != REST_AUTH_UNTRUSTED) {
		cJSON_AddStringToObject(env, "server_name",
					daemon_server_name(d));
		cJSON_AddNumberToObject(env, "server_pid", (double)getpid());
		cJSON_AddItemToObject(env, "addresses", daemon_addresses(d));
		cJSON_AddItemToObject(meta, "config",
				      cJSON_Duplicate(daemon_config(d), true));
		cJSON_AddItemToObject(meta, "loop_lag", daemon_loop_lag(d));
		cJSON_AddItemToObject(meta, "events", daemon_events_stats(d));
	}
	cJSON_AddItemToObject(meta, "environment", env);
	rest_respond_sync(req, meta, NULL);
}

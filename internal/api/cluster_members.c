/* /1.0/cluster/members and /1.0/cluster/tokens: the member list, join
 * tokens (POST /1.0/cluster/members issues one). */
#include <string.h>

#include "internal/api/api.h"
#include "internal/api/cluster_http.h"
#include "internal/config/config.h"
#include "internal/daemon/cluster.h"
#include "internal/daemon/daemon.h"
#include "internal/lib/mem.h"

/* The join token lifetime when the request gives none. */
#define DEFAULT_EXPIRY_S (3 * 3600)

static void fail(struct rest_request *req, int status, const char *errmsg)
{
	api_cluster_fail(req, status, errmsg);
}

void api_cluster_members_get(struct rest_request *req)
{
	struct daemon *d = rest_server_data(req);
	/* The leader knows every member's state. */
	if (api_to_leader(req)) {
		return;
	}
	const char *recursion = rest_query(req, "recursion");
	bool full = recursion != NULL && strcmp(recursion, "0") != 0 &&
		    recursion[0] != '\0';
	char errmsg[TM_ERRMSG_SIZE];
	cJSON *list = cluster_member_list(d, full, errmsg);
	if (list == NULL) {
		fail(req, TM_INVALID, errmsg);
		return;
	}
	rest_respond_sync(req, list, NULL);
}

void api_cluster_member_get(struct rest_request *req)
{
	struct daemon *d = rest_server_data(req);
	if (api_to_leader(req)) {
		return;
	}
	char errmsg[TM_ERRMSG_SIZE];
	int status;
	cJSON *o = cluster_member_get(d, rest_path_param(req), &status, errmsg);
	if (o == NULL) {
		fail(req, status, errmsg);
		return;
	}
	rest_respond_sync(req, o, NULL);
}

/* "90s", "30m", "3h", "2d", or plain seconds. */
static int parse_expiry(const char *text, int64_t *out, char *errmsg)
{
	char *end;
	long long v = strtoll(text, &end, 10);
	int64_t unit = 1;
	if (end != text && end[0] != '\0' && end[1] == '\0') {
		unit = end[0] == 's'   ? 1
		       : end[0] == 'm' ? 60
		       : end[0] == 'h' ? 3600
		       : end[0] == 'd' ? 86400
				       : 0;
	} else if (end == text || end[0] != '\0') {
		unit = 0;
	}
	if (unit == 0 || v <= 0 || v > 10LL * 366 * 86400 / unit) {
		tm_errmsg_printf(errmsg,
				 "expiry \"%.32s\" is not a duration such as "
				 "90s, 30m, 3h or 2d (at most 10 years)",
				 text);
		return TM_INVALID;
	}
	*out = (int64_t)v * unit;
	return 0;
}

static int64_t default_expiry(struct daemon *d)
{
	if (config_lookup("cluster.join_token_expiry") == NULL) {
		return DEFAULT_EXPIRY_S;
	}
	int64_t v;
	char errmsg[TM_ERRMSG_SIZE];
	const char *text =
	    config_get(daemon_config(d), "cluster.join_token_expiry");
	return parse_expiry(text, &v, errmsg) == 0 ? v : DEFAULT_EXPIRY_S;
}

/* POST /1.0/cluster/members {"name": NAME, "expiry"?: DURATION}. */
void api_cluster_members_post(struct rest_request *req)
{
	static const char *const allowed[] = {"name", "expiry", NULL};
	struct daemon *d = rest_server_data(req);
	cJSON *body = rest_body_json(req);
	if (body == NULL) {
		return;
	}
	if (!api_check_fields(req, body, allowed)) {
		cJSON_Delete(body);
		return;
	}
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(body, "name");
	const cJSON *expiry = cJSON_GetObjectItemCaseSensitive(body, "expiry");
	char errmsg[TM_ERRMSG_SIZE];
	int64_t seconds = default_expiry(d);
	int rv = 0;
	if (!cJSON_IsString(name)) {
		tm_errmsg_printf(errmsg, "\"name\" (a string) is required");
		rv = TM_INVALID;
	} else if (expiry != NULL && !cJSON_IsString(expiry)) {
		tm_errmsg_printf(errmsg, "\"expiry\" must be a string such "
					 "as \"3h\"");
		rv = TM_INVALID;
	} else if (expiry != NULL) {
		rv = parse_expiry(expiry->valuestring, &seconds, errmsg);
	}
	if (rv == 0) {
		rv = cluster_token_add(d, name->valuestring, seconds,
				       api_cluster_answer, req, errmsg);
	}
	cJSON_Delete(body);
	if (rv != 0) {
		fail(req, rv, errmsg);
	}
}

void api_cluster_tokens_get(struct rest_request *req)
{
	struct daemon *d = rest_server_data(req);
	if (api_to_leader(req)) {
		return;
	}
	char errmsg[TM_ERRMSG_SIZE];
	cJSON *list = cluster_token_list(d, errmsg);
	if (list == NULL) {
		fail(req, TM_INVALID, errmsg);
		return;
	}
	rest_respond_sync(req, list, NULL);
}

void api_cluster_token_delete(struct rest_request *req)
{
	struct daemon *d = rest_server_data(req);
	char errmsg[TM_ERRMSG_SIZE];
	int rv = cluster_token_revoke(d, rest_path_param(req),
				      api_cluster_answer, req, errmsg);
	if (rv != 0) {
		fail(req, rv, errmsg);
	}
}

void api_cluster_member_delete(struct rest_request *req)
{
	struct daemon *d = rest_server_data(req);
	const char *force = rest_query(req, "force");
	bool forced = force != NULL && strcmp(force, "0") != 0 &&
		      strcmp(force, "false") != 0;
	char errmsg[TM_ERRMSG_SIZE];
	int rv = cluster_member_remove(d, rest_path_param(req), forced,
				       api_cluster_answer, req, errmsg);
	if (rv != 0) {
		fail(req, rv, errmsg);
	}
}

/* POST /1.0/cluster/members/NAME {"name": NEW}: rename. */
void api_cluster_member_post(struct rest_request *req)
{
	static const char *const allowed[] = {"name", NULL};
	struct daemon *d = rest_server_data(req);
	cJSON *body = rest_body_json(req);
	if (body == NULL) {
		return;
	}
	if (!api_check_fields(req, body, allowed)) {
		cJSON_Delete(body);
		return;
	}
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(body, "name");
	char errmsg[TM_ERRMSG_SIZE];
	int rv;
	if (!cJSON_IsString(name)) {
		tm_errmsg_printf(errmsg, "\"name\" (a string) is required");
		rv = TM_INVALID;
	} else {
		rv = cluster_member_rename(d, rest_path_param(req),
					   name->valuestring,
					   api_cluster_answer, req, errmsg);
	}
	cJSON_Delete(body);
	if (rv != 0) {
		fail(req, rv, errmsg);
	}
}

/* PATCH /1.0/cluster/members/NAME {"failure_domain"?, "description"?}. */
void api_cluster_member_patch(struct rest_request *req)
{
	static const char *const allowed[] = {"failure_domain", "description",
					      NULL};
	struct daemon *d = rest_server_data(req);
	cJSON *body = rest_body_json(req);
	if (body == NULL) {
		return;
	}
	if (!api_check_fields(req, body, allowed)) {
		cJSON_Delete(body);
		return;
	}
	const cJSON *domain =
	    cJSON_GetObjectItemCaseSensitive(body, "failure_domain");
	const cJSON *description =
	    cJSON_GetObjectItemCaseSensitive(body, "description");
	char errmsg[TM_ERRMSG_SIZE];
	int rv;
	if ((domain != NULL && !cJSON_IsString(domain)) ||
	    (description != NULL && !cJSON_IsString(description))) {
		tm_errmsg_printf(errmsg, "\"failure_domain\" and "
					 "\"description\" must be strings");
		rv = TM_INVALID;
	} else {
		rv = cluster_member_patch(
		    d, rest_path_param(req),
		    domain != NULL ? domain->valuestring : NULL,
		    description != NULL ? description->valuestring : NULL,
		    api_cluster_answer, req, errmsg);
	}
	cJSON_Delete(body);
	if (rv != 0) {
		fail(req, rv, errmsg);
	}
}

/* POST /internal/cluster/reset: this member was removed. Public: the
 * handler checks that a member's certificate asks. */
void api_internal_cluster_reset(struct rest_request *req)
{
	struct daemon *d = rest_server_data(req);
	char errmsg[TM_ERRMSG_SIZE];
	int rv = cluster_leave(d, rest_peer_fingerprint(req), errmsg);
	if (rv != 0) {
		fail(req, rv, errmsg);
		return;
	}
	rest_respond_sync(req, NULL, NULL);
}

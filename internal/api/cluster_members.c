/* /1.0/cluster/members and /1.0/cluster/tokens: the member list, join
 * tokens (POST /1.0/cluster/members issues one). */
#include <string.h>

#include "internal/api/api.h"
#include "internal/api/cluster_http.h"
#include "internal/api/global_wait.h"
#include "internal/config/config.h"
#include "internal/daemon/cluster.h"
#include "internal/daemon/daemon.h"
#include "internal/lib/mem.h"

/* A refusal before anything was done. TM_BUSY: the member is not ready;
 * if it is starting, the request waits for it (global_wait.h). */
static void fail(struct rest_request *req, int status, const char *errmsg)
{
	if (status == TM_BUSY && api_global_wait(req)) {
		return;
	}
	api_cluster_fail(req, status, errmsg);
}

static void members_local(struct rest_request *req)
{
	struct daemon *d = rest_server_data(req);
	const char *recursion = rest_query(req, "recursion");
	bool full = recursion != NULL && strcmp(recursion, "0") != 0 &&
		    recursion[0] != '\0';
	char errmsg[TM_ERRMSG_SIZE];
	cJSON *list = cluster_member_list(d, full, errmsg);
	if (list == NULL) {
		rest_respond_error(req, 400, "%s", errmsg);
		return;
	}
	rest_respond_sync(req, list, NULL);
}

void api_cluster_members_get(struct rest_request *req)
{
	/* The leader knows every member's state. */
	if (!api_view_from_leader(req, members_local)) {
		members_local(req);
	}
}

static void member_local(struct rest_request *req)
{
	struct daemon *d = rest_server_data(req);
	char errmsg[TM_ERRMSG_SIZE];
	int status;
	cJSON *o = cluster_member_get(d, rest_path_param(req), &status, errmsg);
	if (o == NULL) {
		rest_respond_error(req, api_cluster_http_status(status), "%s",
				   errmsg);
		return;
	}
	rest_respond_sync(req, o, NULL);
}

void api_cluster_member_get(struct rest_request *req)
{
	if (!api_view_from_leader(req, member_local)) {
		member_local(req);
	}
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
	int64_t seconds =
	    config_get_duration(daemon_config(d), "cluster.join_token_expiry");
	int rv = 0;
	if (!cJSON_IsString(name)) {
		tm_errmsg_printf(errmsg, "\"name\" (a string) is required");
		rv = TM_INVALID;
	} else if (expiry != NULL && !cJSON_IsString(expiry)) {
		tm_errmsg_printf(errmsg, "\"expiry\" must be a string such "
					 "as \"3h\"");
		rv = TM_INVALID;
	} else if (expiry != NULL) {
		rv = config_parse_duration(expiry->valuestring, &seconds,
					   errmsg);
		if (rv == 0 && (seconds <= 0 || seconds > 366 * 86400)) {
			tm_errmsg_printf(errmsg,
					 "expiry \"%.32s\" must be "
					 "from 1s to 366d",
					 expiry->valuestring);
			rv = TM_INVALID;
		}
		if (rv != 0) {
			tm_errmsg_wrapf(errmsg, "expiry");
		}
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

static void tokens_local(struct rest_request *req)
{
	struct daemon *d = rest_server_data(req);
	char errmsg[TM_ERRMSG_SIZE];
	cJSON *list = cluster_token_list(d, errmsg);
	if (list == NULL) {
		rest_respond_error(req, 400, "%s", errmsg);
		return;
	}
	rest_respond_sync(req, list, NULL);
}

void api_cluster_tokens_get(struct rest_request *req)
{
	if (!api_view_from_leader(req, tokens_local)) {
		tokens_local(req);
	}
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

/* A body holding only FIELD, a string, handed to CALL; an error is
 * answered here (relayed to the leader on TM_NOTLEADER when RELAY). */
typedef int (*string_call_fn)(struct daemon *d, struct rest_request *req,
			      const char *value, char *errmsg);

static void string_field_call(struct rest_request *req, const char *field,
			      string_call_fn call, bool relay)
{
	const char *const allowed[] = {field, NULL};
	struct daemon *d = rest_server_data(req);
	cJSON *body = rest_body_json(req);
	if (body == NULL) {
		return;
	}
	if (!api_check_fields(req, body, allowed)) {
		cJSON_Delete(body);
		return;
	}
	const cJSON *value = cJSON_GetObjectItemCaseSensitive(body, field);
	char errmsg[TM_ERRMSG_SIZE];
	int rv;
	if (!cJSON_IsString(value)) {
		tm_errmsg_printf(errmsg, "\"%s\" (a string) is required",
				 field);
		rv = TM_INVALID;
	} else {
		rv = call(d, req, value->valuestring, errmsg);
	}
	cJSON_Delete(body);
	if (rv != 0 && relay) {
		fail(req, rv, errmsg);
	} else if (rv != 0) {
		rest_respond_error(req, api_cluster_http_status(rv), "%s",
				   errmsg);
	}
}

static int rename_call(struct daemon *d, struct rest_request *req,
		       const char *name, char *errmsg)
{
	return cluster_member_rename(d, rest_path_param(req), name,
				     api_cluster_answer, req, errmsg);
}

/* POST /1.0/cluster/members/NAME {"name": NEW}: rename. */
void api_cluster_member_post(struct rest_request *req)
{
	string_field_call(req, "name", rename_call, true);
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

/* POST /internal/cluster/heartbeat: the leader's heartbeat. Public: the
 * handler admits members' certificates only. */
void api_internal_cluster_heartbeat(struct rest_request *req)
{
	struct daemon *d = rest_server_data(req);
	size_t len = 0;
	const char *body = rest_body(req, &len);
	char errmsg[TM_ERRMSG_SIZE];
	cJSON *answer;
	int rv = cluster_heartbeat_receive(d, body != NULL ? body : "", len,
					   rest_peer_fingerprint(req), &answer,
					   errmsg);
	if (rv != 0) {
		rest_respond_error(req, api_cluster_http_status(rv), "%s",
				   errmsg);
		return;
	}
	rest_respond_sync(req, answer, NULL);
}

static int move_call(struct daemon *d, struct rest_request *req,
		     const char *address, char *errmsg)
{
	return cluster_member_move(d, rest_peer_fingerprint(req), address,
				   api_cluster_answer, req, errmsg);
}

/* POST /internal/cluster/address {"address": A}: the member that asks
 * (by its certificate) is at A now. On the leader only; never relayed,
 * as the leader must see the member's own certificate. */
void api_internal_cluster_address(struct rest_request *req)
{
	string_field_call(req, "address", move_call, false);
}

/* Routing and the request accessors.
 *
 * Order of checks for a complete request: what admission (admit.c) refused
 * from the headers (a foreign unix peer, an untrusted client outside the
 * public GETs); a server that is draining answers 503; an unknown path is
 * 404; a method the route does not handle is 405 with Allow. */
#include <stdio.h>
#include <string.h>

#include "internal/lib/assert.h"
#include "internal/lib/json.h"
#include "internal/lib/mem.h"
#include "internal/rest/internal.h"
#include "internal/rest/route.h"

void rest_dispatch(struct rest_conn *rc, struct rest_message *msg)
{
	const struct rest_server *s = rc->server;
	struct rest_request *req = tm_calloc(1, sizeof *req);
	req->rc = rc;
	req->loop = s->loop;
	req->server_data = s->data;
	req->msg = msg;
	req->start_ns = uv_hrtime();
	memcpy(req->peer, rc->peer, sizeof req->peer);
	rc->req = req;
	req->auth = rc->admission.auth;
	req->fingerprint = rc->admission.fingerprint;
	rc->admission.fingerprint = NULL;
	if (rc->admission.status != 0) {
		int status = rc->admission.status;
		rc->admission.status = 0;
		rest_respond_error(req, status, "%s", rc->admission.message);
		return;
	}
	if (s->draining) {
		rest_respond_error(req, 503,
				   "shutting down: the daemon is stopping and "
				   "took no new requests; nothing was done, "
				   "retry once it is back");
		return;
	}
	req->route = rest_route_find(s->routes, s->n_routes, msg->raw_path,
				     &req->param);
	if (req->route == NULL) {
		rest_respond_error(req, 404, "not found");
		return;
	}
	rest_handler handler = rest_route_handler(req->route, msg->method);
	if (handler == NULL) {
		char allow[64];
		char extra[96];
		char text[TM_ERRMSG_SIZE];
		rest_route_allow(req->route, allow, sizeof allow);
		snprintf(extra, sizeof extra, "Allow: %s\r\n", allow);
		snprintf(text, sizeof text, "method %s not allowed for %s",
			 msg->method_name, msg->path);
		rest_respond_error_headers(req, 405, extra, text);
		return;
	}
	handler(req);
}

void rest_handle_again(struct rest_request *req)
{
	PRE(req->route != NULL);
	rest_handler handler = rest_route_handler(req->route, req->msg->method);
	PRE(handler != NULL);
	handler(req);
}

void *rest_server_data(const struct rest_request *req)
{
	return req->server_data;
}

uv_loop_t *rest_loop(const struct rest_request *req) { return req->loop; }

const char *rest_method(const struct rest_request *req)
{
	return req->msg->method_name;
}

const char *rest_path(const struct rest_request *req)
{
	return req->msg->path;
}

const char *rest_target(const struct rest_request *req)
{
	return req->msg->target;
}

const char *rest_path_param(const struct rest_request *req)
{
	return req->param;
}

const char *rest_query(const struct rest_request *req, const char *name)
{
	return rest_message_query(req->msg, name);
}

const char *rest_header(const struct rest_request *req, const char *name)
{
	return rest_message_header(req->msg, name);
}

const char *rest_body(const struct rest_request *req, size_t *len)
{
	if (len != NULL) {
		*len = req->msg->body_len;
	}
	return req->msg->body;
}

enum rest_auth rest_auth(const struct rest_request *req)
{
	return req->auth;
}

const char *rest_peer_fingerprint(const struct rest_request *req)
{
	return req->fingerprint;
}

struct conn *rest_conn(const struct rest_request *req)
{
	return req->rc != NULL ? req->rc->conn : NULL;
}

void rest_set_data(struct rest_request *req, void *data)
{
	req->data = data;
}

void *rest_get_data(const struct rest_request *req)
{
	return req->data;
}

cJSON *rest_body_json(struct rest_request *req)
{
	const struct rest_message *m = req->msg;
	char errmsg[TM_ERRMSG_SIZE];
	if (m->body_len == 0) {
		rest_respond_error(req, 400, "malformed JSON body: empty body");
		return NULL;
	}
	cJSON *json = json_parse_strict(m->body, m->body_len, errmsg);
	if (json == NULL) {
		rest_respond_error(req, 400, "malformed JSON body: %s", errmsg);
	}
	return json;
}

/* Compare one If-Match entry (trimmed, LEN bytes) with a bare ETAG. */
static bool etag_entry_matches(const char *entry, size_t len,
			       const char *etag, size_t etag_len)
{
	if (len == 1 && entry[0] == '*') {
		return true;
	}
	if (len >= 2 && entry[0] == 'W' && entry[1] == '/') {
		return false; /* If-Match uses the strong comparison */
	}
	if (len >= 2 && entry[0] == '"' && entry[len - 1] == '"') {
		entry++;
		len -= 2;
	}
	return len == etag_len && len > 0 && memcmp(entry, etag, len) == 0;
}

bool rest_etag_matches(const char *if_match, const char *etag)
{
	if (if_match == NULL || etag == NULL) {
		return false;
	}
	size_t etag_len = strlen(etag);
	if (etag_len >= 2 && etag[0] == '"' && etag[etag_len - 1] == '"') {
		etag++;
		etag_len -= 2;
	}
	const char *p = if_match;
	for (;;) {
		const char *comma = strchr(p, ',');
		const char *end = comma != NULL ? comma : p + strlen(p);
		while (p < end && (*p == ' ' || *p == '\t')) {
			p++;
		}
		const char *last = end;
		while (last > p && (last[-1] == ' ' || last[-1] == '\t')) {
			last--;
		}
		if (etag_entry_matches(p, (size_t)(last - p), etag,
				       etag_len)) {
			return true;
		}
		if (comma == NULL) {
			return false;
		}
		p = comma + 1;
	}
}

/* Whole responses (sync, error, raw), upgrades and request completion.
 *
 * Each response is one buffer, head and body, queued with one conn_write.
 * A request whose connection went away (rc == NULL) is answered into the
 * void: nothing is written, the request is logged and freed. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/lib/assert.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"
#include "internal/rest/envelope.h"
#include "internal/rest/internal.h"

#define NOSNIFF "X-Content-Type-Options: nosniff\r\n"

char *rest_response_head(int status, const char *content_type,
			 long long content_length, bool chunked,
			 bool keep_alive, bool http10,
			 const char *extra_headers, size_t *len)
{
	char type[256] = "";
	char length[64] = "";
	const char *connection = "";
	if (content_type != NULL) {
		snprintf(type, sizeof type, "Content-Type: %s\r\n",
			 content_type);
	}
	if (content_length >= 0) {
		snprintf(length, sizeof length, "Content-Length: %lld\r\n",
			 content_length);
	}
	if (!keep_alive) {
		connection = "Connection: close\r\n";
	} else if (http10) {
		connection = "Connection: keep-alive\r\n";
	}
	char *head = tm_asprintf(
		"HTTP/1.1 %d %s\r\n%s%s%s%s%s\r\n", status,
		envelope_reason(status), type, length,
		chunked ? "Transfer-Encoding: chunked\r\n" : "", connection,
		extra_headers != NULL ? extra_headers : "");
	*len = strlen(head);
	return head;
}

bool rest_request_keep_alive(const struct rest_request *req)
{
	const struct rest_conn *rc = req->rc;
	return rc != NULL && req->msg->keep_alive && !rc->peer_eof &&
	       !rc->server->closing;
}

static bool request_is_http10(const struct rest_request *req)
{
	return req->msg->http_major == 1 && req->msg->http_minor == 0;
}

void rest_request_finish(struct rest_request *req)
{
	struct rest_conn *rc = req->rc;
	double ms = (double)(uv_hrtime() - req->start_ns) / 1e6;
	LOGD("rest: %s %s %s %d %.3fms%s", req->peer, req->msg->method_name,
	     req->msg->path, req->status, ms,
	     rc == NULL && !req->upgraded ? " (connection gone, answer dropped)"
					  : "");
	bool keep_alive = req->keep_alive;
	if (rc != NULL) {
		rc->req = NULL;
	}
	rest_message_free(req->msg);
	tm_free(req->param);
	tm_free(req->fingerprint);
	tm_free(req);
	if (rc != NULL) {
		rest_conn_next(rc, keep_alive);
	}
}

void rest_respond_raw(struct rest_request *req, int status,
		      const char *content_type, const void *body, size_t len,
		      const char *extra_headers)
{
	PRE(!req->answered);
	req->answered = true;
	req->status = status;
	if (req->rc != NULL) {
		size_t head_len;
		req->keep_alive = rest_request_keep_alive(req);
		char *head = rest_response_head(
			status, content_type, (long long)len, false,
			req->keep_alive, request_is_http10(req), extra_headers,
			&head_len);
		if (req->msg->method == HTTP_HEAD) {
			len = 0; /* the head announces the length only */
		}
		char *out = tm_malloc(head_len + len);
		memcpy(out, head, head_len);
		if (len > 0) {
			memcpy(out + head_len, body, len);
		}
		rest_conn_write(req->rc, out, head_len + len);
		tm_free(out);
		tm_free(head);
	}
	rest_request_finish(req);
}

void rest_respond_sync(struct rest_request *req, cJSON *metadata,
		       const char *etag)
{
	size_t len;
	char *body = envelope_sync(metadata, &len);
	char *extra = NULL;
	if (etag != NULL) {
		extra = tm_asprintf("ETag: \"%s\"\r\n", etag);
	}
	rest_respond_raw(req, 200, "application/json", body, len, extra);
	tm_free(extra);
	tm_free(body);
	cJSON_Delete(metadata);
}

void rest_respond_error_headers(struct rest_request *req, int status,
				const char *extra_headers, const char *msg)
{
	size_t len;
	char *body = envelope_error(status, msg, &len);
	char *extra = tm_asprintf(
		"%s%s", NOSNIFF, extra_headers != NULL ? extra_headers : "");
	rest_respond_raw(req, status, "application/json", body, len, extra);
	tm_free(extra);
	tm_free(body);
}

void rest_respond_error(struct rest_request *req, int status,
			const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	char *msg = NULL;
	int rv = vasprintf(&msg, fmt, args);
	va_end(args);
	INVARIANT(rv >= 0); /* only fails without memory */
	rest_respond_error_headers(req, status, NULL, msg);
	free(msg);
}

char *rest_response_error_close(int status, const char *msg, size_t *len)
{
	size_t body_len;
	size_t head_len;
	char *body = envelope_error(status, msg, &body_len);
	char *head = rest_response_head(status, "application/json",
					(long long)body_len, false, false,
					false, NOSNIFF, &head_len);
	char *out = tm_malloc(head_len + body_len);
	memcpy(out, head, head_len);
	memcpy(out + head_len, body, body_len);
	*len = head_len + body_len;
	tm_free(head);
	tm_free(body);
	return out;
}

/* Telling an upgrade's caller that the connection is gone, from the loop. */
struct upgrade_failure {
	uv_timer_t timer;
	rest_upgrade_cb cb;
	void *arg;
};

static void upgrade_failure_close_cb(uv_handle_t *handle)
{
	tm_free(handle->data);
}

static void upgrade_failure_timer_cb(uv_timer_t *timer)
{
	struct upgrade_failure *f = timer->data;
	f->cb(f->arg, NULL, NULL, 0);
	uv_close((uv_handle_t *)&f->timer, upgrade_failure_close_cb);
}

void rest_respond_upgrade(struct rest_request *req, const char *protocol,
			  rest_upgrade_cb cb, void *arg)
{
	rest_respond_upgrade_headers(req, protocol, NULL, cb, arg);
}

void rest_respond_upgrade_headers(struct rest_request *req,
				  const char *protocol,
				  const char *extra_headers,
				  rest_upgrade_cb cb, void *arg)
{
	PRE(!req->answered && protocol != NULL && cb != NULL);
	req->answered = true;
	req->status = 101;
	struct rest_conn *rc = req->rc;
	if (rc == NULL) {
		struct upgrade_failure *f = tm_calloc(1, sizeof *f);
		f->cb = cb;
		f->arg = arg;
		int rv = uv_timer_init(req->loop, &f->timer);
		INVARIANT(rv == 0);
		f->timer.data = f;
		uv_timer_start(&f->timer, upgrade_failure_timer_cb, 0, 0);
		rest_request_finish(req);
		return;
	}
	char *head = tm_asprintf("HTTP/1.1 101 %s\r\n"
				 "Connection: Upgrade\r\n"
				 "Upgrade: %s\r\n%s\r\n",
				 envelope_reason(101), protocol,
				 extra_headers != NULL ? extra_headers : "");
	/* Finish the request without moving the connection on. */
	req->upgraded = true;
	req->rc = NULL;
	rc->req = NULL;
	rest_request_finish(req);
	rest_conn_upgrade(rc, head, strlen(head), cb, arg);
	tm_free(head);
}

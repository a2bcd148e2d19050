#include "test/unit/rest/fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <http_parser.h>

#include "internal/lib/log.h"
#include "internal/lib/mem.h"

static bool fx_trust_cb(void *data, const char *fingerprint)
{
	struct fixture *f = data;
	return !f->revoked && strcmp(fingerprint, FX_TRUSTED_FP) == 0;
}

static void fx_deadline_cb(uv_timer_t *timer)
{
	struct fixture *f = timer->data;
	f->expired = true;
}

void fx_setup(struct fixture *f, const struct rest_route *routes,
	      size_t n_routes)
{
	memset(f, 0, sizeof *f);
	log_init_from_env(); /* THERMIONIC_TRACE=1 shows the server's logs */
	assert_int_equal(uv_loop_init(&f->loop), 0);
	assert_int_equal(uv_timer_init(&f->loop, &f->deadline), 0);
	f->deadline.data = f;
	assert_int_equal(rest_server_init(&f->loop, routes, n_routes,
					  fx_trust_cb, f, &f->server),
			 0);
}

static void fx_server_close_cb(void *data)
{
	struct fixture *f = data;
	f->server_closed = true;
}

static bool fx_is_server_closed(void *arg)
{
	return ((struct fixture *)arg)->server_closed;
}

void fx_close_server(struct fixture *f)
{
	rest_server_close(f->server, fx_server_close_cb, f);
	assert_false(f->server_closed); /* never inside the call */
	assert_true(fx_run_until(f, fx_is_server_closed, f));
	f->server = NULL;
}

void fx_teardown(struct fixture *f)
{
	if (f->server != NULL) {
		fx_close_server(f);
	}
	uv_close((uv_handle_t *)&f->deadline, NULL);
	assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(&f->loop), 0);
}

struct conn *fx_conn(struct fixture *f, int kind)
{
	struct conn *c = conn_fake_new(&f->loop);
	switch (kind) {
	case FX_UNIX_ROOT:
		conn_fake_set_unix(c, 0);
		break;
	case FX_TLS_TRUSTED:
		conn_fake_set_tls(c, FX_TRUSTED_FP);
		break;
	case FX_TLS_UNTRUSTED:
		conn_fake_set_tls(c, FX_UNTRUSTED_FP);
		break;
	case FX_TLS_NONE:
		conn_fake_set_tls(c, NULL);
		break;
	default:
		break;
	}
	rest_server_add_conn(f->server, c);
	return c;
}

struct conn *fx_conn_unix(struct fixture *f, uid_t uid)
{
	struct conn *c = conn_fake_new(&f->loop);
	conn_fake_set_unix(c, uid);
	rest_server_add_conn(f->server, c);
	return c;
}

bool fx_run_until(struct fixture *f, bool (*cond)(void *arg), void *arg)
{
	f->expired = false;
	uv_timer_start(&f->deadline, fx_deadline_cb, FX_DEADLINE_MS, 0);
	bool ok = cond(arg);
	while (!ok && !f->expired) {
		uv_run(&f->loop, UV_RUN_ONCE);
		ok = cond(arg);
	}
	uv_timer_stop(&f->deadline);
	return ok;
}

void fx_run_briefly(struct fixture *f)
{
	for (int i = 0; i < 20; i++) {
		uv_run(&f->loop, UV_RUN_NOWAIT);
	}
}

static bool fx_is_closed(void *arg) { return conn_fake_closed(arg); }

bool fx_wait_closed(struct fixture *f, struct conn *c)
{
	return fx_run_until(f, fx_is_closed, c);
}

static bool fx_has_output(void *arg)
{
	size_t len;
	conn_fake_output(arg, &len);
	return len > 0;
}

bool fx_wait_output(struct fixture *f, struct conn *c)
{
	return fx_run_until(f, fx_has_output, c);
}

/* Response parsing with http_parser in response mode. */

struct fx_parse {
	struct fx_response *r;
	bool in_value;
	bool done;
};

static void fx_append(char **s, size_t *len, const char *at, size_t n)
{
	*s = tm_realloc(*s, *len + n + 1);
	memcpy(*s + *len, at, n);
	*len += n;
	(*s)[*len] = '\0';
}

static int fx_on_header_field(http_parser *p, const char *at, size_t n)
{
	struct fx_parse *x = p->data;
	struct fx_response *r = x->r;
	if (r->n_headers == 0 || x->in_value) {
		assert_true(r->n_headers < 32);
		r->headers[r->n_headers].name = tm_calloc(1, 1);
		r->headers[r->n_headers].value = tm_calloc(1, 1);
		r->n_headers++;
		x->in_value = false;
	}
	struct fx_header *h = &r->headers[r->n_headers - 1];
	size_t len = strlen(h->name);
	fx_append(&h->name, &len, at, n);
	return 0;
}

static int fx_on_header_value(http_parser *p, const char *at, size_t n)
{
	struct fx_parse *x = p->data;
	struct fx_header *h = &x->r->headers[x->r->n_headers - 1];
	size_t len = strlen(h->value);
	fx_append(&h->value, &len, at, n);
	x->in_value = true;
	return 0;
}

static int fx_on_headers_complete(http_parser *p)
{
	struct fx_parse *x = p->data;
	x->r->status = (int)p->status_code;
	x->r->chunked_seen = (p->flags & F_CHUNKED) != 0;
	return 0;
}

static int fx_on_body(http_parser *p, const char *at, size_t n)
{
	struct fx_parse *x = p->data;
	fx_append(&x->r->body, &x->r->body_len, at, n);
	return 0;
}

static int fx_on_message_complete(http_parser *p)
{
	struct fx_parse *x = p->data;
	x->done = true;
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings fx_settings = {
    .on_header_field = fx_on_header_field,
    .on_header_value = fx_on_header_value,
    .on_headers_complete = fx_on_headers_complete,
    .on_body = fx_on_body,
    .on_message_complete = fx_on_message_complete,
};

bool fx_try_response(struct conn *c, bool at_eof, struct fx_response *r)
{
	size_t len;
	const char *out = conn_fake_output(c, &len);
	http_parser p;
	struct fx_parse x = {.r = r};
	memset(r, 0, sizeof *r);
	r->body = tm_calloc(1, 1);
	http_parser_init(&p, HTTP_RESPONSE);
	p.data = &x;
	size_t used = http_parser_execute(&p, &fx_settings, out, len);
	if (!x.done && at_eof && HTTP_PARSER_ERRNO(&p) == HPE_OK) {
		http_parser_execute(&p, &fx_settings, NULL, 0);
	}
	if (!x.done) {
		fx_response_free(r);
		return false;
	}
	conn_fake_consume(c, used);
	r->complete = true;
	return true;
}

struct fx_wait {
	struct conn *c;
	struct fx_response *r;
};

static bool fx_has_response(void *arg)
{
	struct fx_wait *w = arg;
	return fx_try_response(w->c, conn_fake_closed(w->c), w->r);
}

void fx_response(struct fixture *f, struct conn *c, struct fx_response *r)
{
	struct fx_wait w = {.c = c, .r = r};
	assert_true(fx_run_until(f, fx_has_response, &w));
}

const char *fx_header(const struct fx_response *r, const char *name)
{
	for (size_t i = 0; i < r->n_headers; i++) {
		if (strcasecmp(r->headers[i].name, name) == 0) {
			return r->headers[i].value;
		}
	}
	return NULL;
}

void fx_response_free(struct fx_response *r)
{
	for (size_t i = 0; i < r->n_headers; i++) {
		tm_free(r->headers[i].name);
		tm_free(r->headers[i].value);
	}
	tm_free(r->body);
	memset(r, 0, sizeof *r);
}

void fx_assert_error(const struct fx_response *r, int status,
		     const char *message)
{
	assert_int_equal(r->status, status);
	assert_string_equal(fx_header(r, "Content-Type"), "application/json");
	assert_string_equal(fx_header(r, "X-Content-Type-Options"), "nosniff");
	cJSON *json = cJSON_Parse(r->body);
	assert_non_null(json);
	assert_string_equal(cJSON_GetObjectItem(json, "type")->valuestring,
			    "error");
	assert_string_equal(cJSON_GetObjectItem(json, "status")->valuestring,
			    "Failure");
	assert_int_equal(cJSON_GetObjectItem(json, "status_code")->valueint,
			 status);
	assert_int_equal(cJSON_GetObjectItem(json, "error_code")->valueint,
			 status);
	assert_string_equal(cJSON_GetObjectItem(json, "error")->valuestring,
			    message);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(json, "metadata")));
	cJSON_Delete(json);
}

/* Handlers. */

static void fx_add_string(cJSON *obj, const char *name, const char *value)
{
	if (value != NULL) {
		cJSON_AddStringToObject(obj, name, value);
	} else {
		cJSON_AddNullToObject(obj, name);
	}
}

static void fx_h_echo(struct rest_request *req)
{
	struct fixture *f = rest_server_data(req);
	f->handler_calls++;
	cJSON *m = cJSON_CreateObject();
	size_t len;
	const char *body = rest_body(req, &len);
	fx_add_string(m, "method", rest_method(req));
	fx_add_string(m, "path", rest_path(req));
	fx_add_string(m, "param", rest_path_param(req));
	fx_add_string(m, "q", rest_query(req, "q"));
	fx_add_string(m, "x_test", rest_header(req, "X-Test"));
	cJSON_AddNumberToObject(m, "auth", rest_auth(req));
	fx_add_string(m, "fingerprint", rest_peer_fingerprint(req));
	fx_add_string(m, "body", body);
	assert_int_equal(strlen(body), len);
	assert_non_null(rest_conn(req));
	rest_respond_sync(req, m,
			  rest_query(req, "etag") != NULL ? "abc123" : NULL);
}

static void fx_h_json(struct rest_request *req)
{
	struct fixture *f = rest_server_data(req);
	f->handler_calls++;
	cJSON *json = rest_body_json(req);
	if (json == NULL) {
		return;
	}
	rest_respond_sync(req, json, NULL);
}

static void fx_h_park(struct rest_request *req)
{
	struct fixture *f = rest_server_data(req);
	f->handler_calls++;
	assert_null(f->parked);
	f->parked = req;
}

static void fx_stream_cb(struct rest_request *req, void *arg, int status)
{
	struct fixture *f = rest_server_data(req);
	static const char *chunks[] = {"chunk1", "chunk2", "chunk3"};
	intptr_t next = (intptr_t)arg;
	f->stream_status = status;
	if (status != 0 || next == 3) {
		rest_stream_end(req);
		return;
	}
	assert_int_equal(rest_stream_write(req, chunks[next],
					   strlen(chunks[next]), fx_stream_cb,
					   (void *)(next + 1)),
			 0);
}

static void fx_h_stream(struct rest_request *req)
{
	struct fixture *f = rest_server_data(req);
	f->handler_calls++;
	assert_int_equal(
	    rest_stream_begin(req, 200, "text/plain", "X-Stream: yes\r\n"), 0);
	assert_int_equal(
	    rest_stream_write(req, "chunk1", 6, fx_stream_cb, (void *)1), 0);
}

static void fx_upgrade_cb(void *arg, struct conn *c, const char *extra,
			  size_t extra_len)
{
	struct fixture *f = arg;
	f->upgrade_calls++;
	f->upgraded = c;
	assert_true(extra_len < sizeof f->upgrade_extra);
	if (extra_len > 0) {
		memcpy(f->upgrade_extra, extra, extra_len);
	}
	f->upgrade_extra[extra_len] = '\0';
}

static void fx_h_upgrade(struct rest_request *req)
{
	struct fixture *f = rest_server_data(req);
	f->handler_calls++;
	rest_respond_upgrade(req, "raft", fx_upgrade_cb, f);
	assert_int_equal(f->upgrade_calls, 0); /* never inside the call */
}

const struct rest_route fx_routes[] = {
    {.path = "/1.0", .get = fx_h_echo, .put = fx_h_echo, .public_get = true},
    {.path = "/1.0/items/{}", .get = fx_h_echo, .delete = fx_h_echo},
    {.path = "/1.0/items/special", .get = fx_h_echo},
    {.path = "/1.0/json", .post = fx_h_json, .put = fx_h_json},
    {.path = "/1.0/park", .get = fx_h_park, .post = fx_h_park},
    {.path = "/1.0/stream", .get = fx_h_stream},
    {.path = "/internal/raft", .get = fx_h_upgrade},
};
const size_t fx_n_routes = sizeof fx_routes / sizeof fx_routes[0];

void fx_setup_default(struct fixture *f)
{
	fx_setup(f, fx_routes, fx_n_routes);
}

cJSON *fx_sync_metadata(const struct fx_response *r)
{
	assert_int_equal(r->status, 200);
	assert_string_equal(fx_header(r, "Content-Type"), "application/json");
	assert_int_equal(atoi(fx_header(r, "Content-Length")), r->body_len);
	cJSON *json = cJSON_Parse(r->body);
	assert_non_null(json);
	assert_string_equal(cJSON_GetObjectItem(json, "type")->valuestring,
			    "sync");
	assert_string_equal(cJSON_GetObjectItem(json, "status")->valuestring,
			    "Success");
	assert_int_equal(cJSON_GetObjectItem(json, "status_code")->valueint,
			 200);
	cJSON *meta = cJSON_DetachItemFromObject(json, "metadata");
	assert_non_null(meta);
	cJSON_Delete(json);
	return meta;
}

void fx_roundtrip(struct fixture *f, struct conn *c, const char *request,
		  struct fx_response *r)
{
	conn_fake_push_str(c, request);
	fx_response(f, c, r);
}

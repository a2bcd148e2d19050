/* The server through fake connections: routing, authorisation, connection
 * handling (keep-alive, pipelining, close, HTTP/1.0), errors, limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal/lib/err.h"
#include "internal/lib/mem.h"
#include "test/unit/rest/fixture.h"

static int setup(void **state)
{
	struct fixture *f = tm_malloc(sizeof *f);
	fx_setup_default(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	fx_teardown(f);
	tm_free(f);
	return 0;
}

#define GET(path) "GET " path " HTTP/1.1\r\nHost: t\r\n\r\n"

static void test_not_found(void **state)
{
	struct fixture *f = *state;
	struct conn *c = fx_conn(f, FX_UNIX_ROOT);
	struct fx_response r;
	fx_roundtrip(f, c, GET("/nope"), &r);
	fx_assert_error(&r, 404, "not found");
	fx_response_free(&r);
	fx_roundtrip(f, c, GET("/1.0/items"), &r);
	fx_assert_error(&r, 404, "not found");
	fx_response_free(&r);
	assert_int_equal(f->handler_calls, 0);
	assert_false(conn_fake_close_called(c)); /* keep-alive */
	conn_fake_release(c);
}

static void test_method_not_allowed(void **state)
{
	struct fixture *f = *state;
	struct conn *c = fx_conn(f, FX_UNIX_ROOT);
	struct fx_response r;
	fx_roundtrip(f, c, "DELETE /1.0 HTTP/1.1\r\n\r\n", &r);
	fx_assert_error(&r, 405, "method DELETE not allowed for /1.0");
	assert_string_equal(fx_header(&r, "Allow"), "GET, PUT");
	fx_response_free(&r);
	fx_roundtrip(f, c, "OPTIONS /1.0/items/x HTTP/1.1\r\n\r\n", &r);
	assert_int_equal(r.status, 405);
	assert_string_equal(fx_header(&r, "Allow"), "GET, DELETE");
	fx_response_free(&r);
	assert_int_equal(f->handler_calls, 0);
	conn_fake_release(c);
}

static void test_head_has_no_body(void **state)
{
	struct fixture *f = *state;
	struct conn *c = fx_conn(f, FX_UNIX_ROOT);
	conn_fake_push_str(c, "HEAD /1.0 HTTP/1.1\r\n\r\n");
	assert_true(fx_wait_output(f, c));
	fx_run_briefly(f);
	size_t len;
	const char *out = conn_fake_output(c, &len);
	assert_non_null(strstr(out, "HTTP/1.1 405 Method Not Allowed\r\n"));
	assert_non_null(strstr(out, "Content-Length: "));
	/* Head only: it ends with the empty line. */
	assert_string_equal(out + len - 4, "\r\n\r\n");
	conn_fake_release(c);
}

static void test_echo_and_routing(void **state)
{
	struct fixture *f = *state;
	struct conn *c = fx_conn(f, FX_UNIX_ROOT);
	struct fx_response r;
	fx_roundtrip(f, c,
		     "GET /1.0/items/a%20b%2Fc/?q=x%26y HTTP/1.1\r\n"
		     "X-Test: hello\r\n\r\n",
		     &r);
	cJSON *m = fx_sync_metadata(&r);
	assert_string_equal(cJSON_GetObjectItem(m, "method")->valuestring,
			    "GET");
	assert_string_equal(cJSON_GetObjectItem(m, "path")->valuestring,
			    "/1.0/items/a b/c");
	assert_string_equal(cJSON_GetObjectItem(m, "param")->valuestring,
			    "a b/c");
	assert_string_equal(cJSON_GetObjectItem(m, "q")->valuestring, "x&y");
	assert_string_equal(cJSON_GetObjectItem(m, "x_test")->valuestring,
			    "hello");
	assert_int_equal(cJSON_GetObjectItem(m, "auth")->valueint,
			 REST_AUTH_LOCAL);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(m, "fingerprint")));
	assert_null(fx_header(&r, "ETag"));
	assert_null(fx_header(&r, "X-Content-Type-Options"));
	cJSON_Delete(m);
	fx_response_free(&r);

	/* Exact route over "{}"; trailing slash normalised. */
	fx_roundtrip(f, c, GET("/1.0/items/special/"), &r);
	m = fx_sync_metadata(&r);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(m, "param")));
	cJSON_Delete(m);
	fx_response_free(&r);
	fx_roundtrip(f, c, GET("/1.0/"), &r);
	m = fx_sync_metadata(&r);
	assert_string_equal(cJSON_GetObjectItem(m, "path")->valuestring,
			    "/1.0");
	cJSON_Delete(m);
	fx_response_free(&r);
	conn_fake_release(c);
}

static void test_etag_header(void **state)
{
	struct fixture *f = *state;
	struct conn *c = fx_conn(f, FX_UNIX_ROOT);
	struct fx_response r;
	fx_roundtrip(f, c, GET("/1.0?etag"), &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(fx_header(&r, "ETag"), "\"abc123\"");
	fx_response_free(&r);
	conn_fake_release(c);
}

static void test_untrusted(void **state)
{
	struct fixture *f = *state;
	struct conn *c = fx_conn(f, FX_TLS_UNTRUSTED);
	struct fx_response r;
	fx_roundtrip(f, c, "PUT /1.0 HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
		     &r);
	fx_assert_error(&r, 403,
			"not authorized: client certificate not trusted");
	fx_response_free(&r);
	fx_roundtrip(f, c, GET("/1.0/items/x"), &r);
	fx_assert_error(&r, 403,
			"not authorized: client certificate not trusted");
	fx_response_free(&r);
	/* Untrusted clients see 403 before learning the methods. */
	fx_roundtrip(f, c, "DELETE /1.0 HTTP/1.1\r\n\r\n", &r);
	assert_int_equal(r.status, 403);
	fx_response_free(&r);
	assert_int_equal(f->handler_calls, 0);

	/* Public GET is allowed, and says who asked. */
	fx_roundtrip(f, c, GET("/1.0"), &r);
	cJSON *m = fx_sync_metadata(&r);
	assert_int_equal(cJSON_GetObjectItem(m, "auth")->valueint,
			 REST_AUTH_UNTRUSTED);
	assert_string_equal(cJSON_GetObjectItem(m, "fingerprint")->valuestring,
			    FX_UNTRUSTED_FP);
	cJSON_Delete(m);
	fx_response_free(&r);
	conn_fake_release(c);
}

static void test_no_certificate(void **state)
{
	struct fixture *f = *state;
	int kinds[] = {FX_TLS_NONE, FX_PLAIN};
	for (size_t i = 0; i < 2; i++) {
		struct conn *c = fx_conn(f, kinds[i]);
		struct fx_response r;
		fx_roundtrip(f, c, GET("/1.0/items/x"), &r);
		fx_assert_error(
		    &r, 403, "not authorized: no client certificate presented");
		fx_response_free(&r);
		fx_roundtrip(f, c, GET("/1.0"), &r);
		cJSON *m = fx_sync_metadata(&r);
		assert_true(
		    cJSON_IsNull(cJSON_GetObjectItem(m, "fingerprint")));
		cJSON_Delete(m);
		fx_response_free(&r);
		conn_fake_release(c);
	}
}

static void test_trusted(void **state)
{
	struct fixture *f = *state;
	struct conn *c = fx_conn(f, FX_TLS_TRUSTED);
	struct fx_response r;
	fx_roundtrip(f, c, "DELETE /1.0/items/x HTTP/1.1\r\n\r\n", &r);
	cJSON *m = fx_sync_metadata(&r);
	assert_int_equal(cJSON_GetObjectItem(m, "auth")->valueint,
			 REST_AUTH_TRUSTED);
	assert_string_equal(cJSON_GetObjectItem(m, "fingerprint")->valuestring,
			    FX_TRUSTED_FP);
	cJSON_Delete(m);
	fx_response_free(&r);
	conn_fake_release(c);
}

static void test_unix_peers(void **state)
{
	struct fixture *f = *state;
	uid_t other = geteuid() == 4242 ? 4243 : 4242;
	struct conn *c = fx_conn_unix(f, other);
	struct fx_response r;
	fx_roundtrip(f, c, GET("/1.0"), &r);
	fx_assert_error(&r, 403, "unix socket access is restricted to root");
	fx_response_free(&r);
	fx_roundtrip(f, c, GET("/nope"), &r);
	assert_int_equal(r.status, 403);
	fx_response_free(&r);
	assert_int_equal(f->handler_calls, 0);
	conn_fake_release(c);

	uid_t uids[] = {0, geteuid()};
	for (size_t i = 0; i < 2; i++) {
		c = fx_conn_unix(f, uids[i]);
		fx_roundtrip(f, c, GET("/1.0/items/x"), &r);
		cJSON *m = fx_sync_metadata(&r);
		assert_int_equal(cJSON_GetObjectItem(m, "auth")->valueint,
				 REST_AUTH_LOCAL);
		cJSON_Delete(m);
		fx_response_free(&r);
		conn_fake_release(c);
	}
}

static void test_keep_alive(void **state)
{
	struct fixture *f = *state;
	struct conn *c = fx_conn(f, FX_UNIX_ROOT);
	struct fx_response r;
	fx_roundtrip(f, c, GET("/1.0/items/one"), &r);
	assert_null(fx_header(&r, "Connection"));
	cJSON *m = fx_sync_metadata(&r);
	assert_string_equal(cJSON_GetObjectItem(m, "param")->valuestring,
			    "one");
	cJSON_Delete(m);
	fx_response_free(&r);
	assert_true(conn_fake_is_reading(c));
	fx_roundtrip(f, c, GET("/1.0/items/two"), &r);
	m = fx_sync_metadata(&r);
	assert_string_equal(cJSON_GetObjectItem(m, "param")->valuestring,
			    "two");
	cJSON_Delete(m);
	fx_response_free(&r);
	assert_int_equal(f->handler_calls, 2);
	assert_false(conn_fake_close_called(c));
	conn_fake_release(c);
}

static void test_pipelined(void **state)
{
	struct fixture *f = *state;
	struct conn *c = fx_conn(f, FX_UNIX_ROOT);
	/* Two requests and the start of a third in one segment. */
	conn_fake_push_str(
	    c, GET("/1.0/items/one") "PUT /1.0/json "
				     "HTTP/1.1\r\nContent-Length: 7\r\n"
				     "\r\n[1,2,3]GET /1.0/items/th");
	struct fx_response r;
	fx_response(f, c, &r);
	cJSON *m = fx_sync_metadata(&r);
	assert_string_equal(cJSON_GetObjectItem(m, "param")->valuestring,
			    "one");
	cJSON_Delete(m);
	fx_response_free(&r);
	fx_response(f, c, &r);
	m = fx_sync_metadata(&r);
	assert_int_equal(cJSON_GetArraySize(m), 3);
	cJSON_Delete(m);
	fx_response_free(&r);
	conn_fake_push_str(c, "ree HTTP/1.1\r\n\r\n");
	fx_response(f, c, &r);
	m = fx_sync_metadata(&r);
	assert_string_equal(cJSON_GetObjectItem(m, "param")->valuestring,
			    "three");
	cJSON_Delete(m);
	fx_response_free(&r);
	assert_int_equal(f->handler_calls, 3);
	conn_fake_release(c);
}

static void test_byte_by_byte(void **state)
{
	struct fixture *f = *state;
	struct conn *c = fx_conn(f, FX_UNIX_ROOT);
	const char *req = "PUT /1.0/json HTTP/1.1\r\nContent-Length: 9\r\n"
			  "\r\n{\"k\":[1]}";
	for (size_t i = 0; req[i] != '\0'; i++) {
		conn_fake_push(c, req + i, 1);
	}
	struct fx_response r;
	fx_response(f, c, &r);
	cJSON *m = fx_sync_metadata(&r);
	assert_int_equal(
	    cJSON_GetArrayItem(cJSON_GetObjectItem(m, "k"), 0)->valueint, 1);
	cJSON_Delete(m);
	fx_response_free(&r);
	conn_fake_release(c);
}

static void test_connection_close(void **state)
{
	struct fixture *f = *state;
	struct conn *c = fx_conn(f, FX_UNIX_ROOT);
	struct fx_response r;
	/* The second request must not be handled. */
	fx_roundtrip(
	    f, c, "GET /1.0 HTTP/1.1\r\nConnection: close\r\n\r\n" GET("/1.0"),
	    &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(fx_header(&r, "Connection"), "close");
	fx_response_free(&r);
	assert_true(fx_wait_closed(f, c));
	assert_int_equal(f->handler_calls, 1);
	size_t len;
	conn_fake_output(c, &len);
	assert_int_equal(len, 0);
	conn_fake_release(c);
}

static void test_http10(void **state)
{
	struct fixture *f = *state;
	struct conn *c = fx_conn(f, FX_UNIX_ROOT);
	struct fx_response r;
	fx_roundtrip(f, c, "GET /1.0 HTTP/1.0\r\n\r\n", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(fx_header(&r, "Connection"), "close");
	fx_response_free(&r);
	assert_true(fx_wait_closed(f, c));
	conn_fake_release(c);

	c = fx_conn(f, FX_UNIX_ROOT);
	fx_roundtrip(f, c,
		     "GET /1.0 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(fx_header(&r, "Connection"), "keep-alive");
	fx_response_free(&r);
	fx_roundtrip(f, c, "GET /1.0 HTTP/1.0\r\n\r\n", &r);
	assert_int_equal(r.status, 200);
	fx_response_free(&r);
	assert_true(fx_wait_closed(f, c));
	conn_fake_release(c);
}

static void test_malformed_closes(void **state)
{
	struct fixture *f = *state;
	struct conn *c = fx_conn(f, FX_UNIX_ROOT);
	struct fx_response r;
	fx_roundtrip(f, c, "GET /1.0 HTTP/1.1\r\nNoColon\r\n\r\n", &r);
	fx_assert_error(&r, 400,
			"malformed request: invalid character in header");
	assert_string_equal(fx_header(&r, "Connection"), "close");
	fx_response_free(&r);
	assert_true(fx_wait_closed(f, c));
	conn_fake_release(c);
}

static void test_limits(void **state)
{
	struct fixture *f = *state;
	struct rest_limits limits = {.max_header_bytes = 64,
				     .max_body_bytes = 16};
	rest_server_set_limits(f->server, &limits);
	struct conn *c = fx_conn(f, FX_UNIX_ROOT);
	struct fx_response r;
	fx_roundtrip(f, c,
		     "GET /1.0 HTTP/1.1\r\nX-Pad: "
		     "0123456789012345678901234567890123456789\r\n\r\n",
		     &r);
	fx_assert_error(&r, 431, "request headers too large");
	fx_response_free(&r);
	assert_true(fx_wait_closed(f, c));
	conn_fake_release(c);

	c = fx_conn(f, FX_UNIX_ROOT);
	fx_roundtrip(
	    f, c, "PUT /1.0/json HTTP/1.1\r\nContent-Length: 17\r\n\r\n", &r);
	fx_assert_error(&r, 413, "request body too large (limit 16 bytes)");
	fx_response_free(&r);
	assert_true(fx_wait_closed(f, c));
	conn_fake_release(c);

	c = fx_conn(f, FX_UNIX_ROOT);
	fx_roundtrip(f, c,
		     "PUT /1.0/json HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
		     "\r\n10\r\n0123456789abcdef\r\n1\r\n \r\n",
		     &r);
	fx_assert_error(&r, 413, "request body too large (limit 16 bytes)");
	fx_response_free(&r);
	assert_true(fx_wait_closed(f, c));
	conn_fake_release(c);
	assert_int_equal(f->handler_calls, 0);
}

static void test_body_json(void **state)
{
	struct fixture *f = *state;
	struct conn *c = fx_conn(f, FX_UNIX_ROOT);
	struct fx_response r;
	fx_roundtrip(f, c,
		     "POST /1.0/json HTTP/1.1\r\nContent-Length: 7\r\n\r\n"
		     "{\"a\":1,",
		     &r);
	fx_assert_error(&r, 400,
			"malformed JSON body: unexpected end of input at byte "
			"7");
	fx_response_free(&r);
	fx_roundtrip(
	    f, c, "POST /1.0/json HTTP/1.1\r\nContent-Length: 0\r\n\r\n", &r);
	fx_assert_error(&r, 400, "malformed JSON body: empty body");
	fx_response_free(&r);
	fx_roundtrip(f, c,
		     "POST /1.0/json HTTP/1.1\r\nContent-Length: 6\r\n\r\n"
		     "{} [] ",
		     &r);
	fx_assert_error(&r, 400,
			"malformed JSON body: trailing data after the JSON "
			"value at byte 3");
	fx_response_free(&r);
	/* What cJSON alone would let through. */
	fx_roundtrip(f, c,
		     "POST /1.0/json HTTP/1.1\r\nContent-Length: 10\r\n\r\n"
		     "{\"a\":0123}",
		     &r);
	fx_assert_error(&r, 400,
			"malformed JSON body: leading zero in number (write "
			"123, not 0123) at byte 6");
	fx_response_free(&r);
	fx_roundtrip(f, c,
		     "POST /1.0/json HTTP/1.1\r\nContent-Length: 9\r\n\r\n"
		     "{\"a\":\"\t\"}",
		     &r);
	fx_assert_error(&r, 400,
			"malformed JSON body: raw control character 0x09 in "
			"string (escape it as \\u0009) at byte 6");
	fx_response_free(&r);
	/* The connection is still usable, a good body is parsed. */
	fx_roundtrip(f, c,
		     "POST /1.0/json HTTP/1.1\r\nContent-Length: 11\r\n\r\n"
		     "{\"k\":\"v\"}\n ",
		     &r);
	cJSON *m = fx_sync_metadata(&r);
	assert_string_equal(cJSON_GetObjectItem(m, "k")->valuestring, "v");
	cJSON_Delete(m);
	fx_response_free(&r);
	conn_fake_release(c);
}

static void test_expect_continue(void **state)
{
	struct fixture *f = *state;
	struct conn *c = fx_conn(f, FX_UNIX_ROOT);
	conn_fake_push_str(c, "PUT /1.0/json HTTP/1.1\r\nContent-Length: 2\r\n"
			      "Expect: 100-continue\r\n\r\n");
	struct fx_response r;
	fx_response(f, c, &r);
	assert_int_equal(r.status, 100);
	fx_response_free(&r);
	conn_fake_push_str(c, "{}");
	fx_response(f, c, &r);
	assert_int_equal(r.status, 200);
	fx_response_free(&r);
	conn_fake_release(c);
}

static void test_idle_eof_closes(void **state)
{
	struct fixture *f = *state;
	struct conn *c = fx_conn(f, FX_UNIX_ROOT);
	struct fx_response r;
	fx_roundtrip(f, c, GET("/1.0"), &r);
	fx_response_free(&r);
	conn_fake_push_eof(c);
	assert_true(fx_wait_closed(f, c));
	conn_fake_release(c);
}

static void test_pipelined_then_eof(void **state)
{
	struct fixture *f = *state;
	struct conn *c = fx_conn(f, FX_UNIX_ROOT);
	/* A client that sends two requests and half-closes gets the first
	 * answer only: after EOF nothing it pipelined is started. */
	conn_fake_push_str(c, GET("/1.0/items/a") GET("/1.0/items/b"));
	conn_fake_push_eof(c);
	assert_true(fx_wait_closed(f, c));
	struct fx_response r;
	assert_true(fx_try_response(c, true, &r));
	assert_int_equal(r.status, 200);
	fx_response_free(&r);
	assert_false(fx_try_response(c, true, &r));
	assert_int_equal(f->handler_calls, 1);
	conn_fake_release(c);
}

/* Many pipelined requests from a client that went away: the server stops
 * after the one it was handling. */
static void test_pipelined_flood_then_gone(void **state)
{
	struct fixture *f = *state;
	int statuses[] = {0, TM_IO};
	for (size_t i = 0; i < 2; i++) {
		struct conn *c = fx_conn(f, FX_TLS_TRUSTED);
		size_t one = strlen(GET("/1.0/items/a"));
		size_t n = 2000;
		char *flood = tm_malloc(one * n);
		for (size_t k = 0; k < n; k++) {
			memcpy(flood + k * one, GET("/1.0/items/a"), one);
		}
		conn_fake_push(c, flood, one * n);
		tm_free(flood);
		if (statuses[i] == 0) {
			conn_fake_push_eof(c);
		} else {
			conn_fake_break(c, statuses[i]);
		}
		assert_true(fx_wait_closed(f, c));
		assert_true(f->handler_calls <= 1);
		f->handler_calls = 0;
		conn_fake_release(c);
	}
}

/* A client that pipelines and does not read: the server stops parsing
 * what it pipelined once answers pile up unsent, and goes on when they
 * drain. */
static void test_pipelined_waits_for_drain(void **state)
{
	struct fixture *f = *state;
	struct conn *c = fx_conn(f, FX_TLS_TRUSTED);
	size_t one = strlen(GET("/1.0/items/a"));
	size_t n = 20000;
	char *flood = tm_malloc(one * n);
	for (size_t k = 0; k < n; k++) {
		memcpy(flood + k * one, GET("/1.0/items/a"), one);
	}
	conn_fake_stall_writes(c, true);
	conn_fake_push(c, flood, one * n);
	tm_free(flood);
	for (int i = 0; i < 200; i++) {
		uv_run(&f->loop, UV_RUN_NOWAIT);
	}
	size_t stalled_calls = (size_t)f->handler_calls;
	assert_true(stalled_calls > 0);
	assert_true(stalled_calls < n / 2);
	assert_true(conn_write_queue_size(c) > 1024 * 1024);
	conn_fake_stall_writes(c, false);
	for (int i = 0; i < 1000000 && (size_t)f->handler_calls < n; i++) {
		uv_run(&f->loop, UV_RUN_NOWAIT);
		size_t len;
		conn_fake_output(c, &len);
		conn_fake_consume(c, len);
	}
	assert_int_equal((size_t)f->handler_calls, n);
	f->handler_calls = 0;
	conn_fake_push_eof(c);
	assert_true(fx_wait_closed(f, c));
	conn_fake_release(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_not_found, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_method_not_allowed, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_head_has_no_body, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_echo_and_routing, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_etag_header, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_untrusted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_certificate, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_trusted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unix_peers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keep_alive, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pipelined, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_byte_by_byte, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_connection_close, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_http10, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_malformed_closes, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_body_json, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_expect_continue, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_idle_eof_closes, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_pipelined_then_eof, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_pipelined_flood_then_gone,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pipelined_waits_for_drain,
					    setup, teardown),
	};
	return cmocka_run_group_tests_name("rest-server", tests, NULL, NULL);
}

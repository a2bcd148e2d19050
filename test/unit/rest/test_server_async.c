/* The server through fake connections, over time: timeouts, asynchronous
 * handlers, clients that go away, server close, streaming, upgrades. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

static bool is_parked(void *arg)
{
	return ((struct fixture *)arg)->parked != NULL;
}

static void test_read_timeout(void **state)
{
	struct fixture *f = *state;
	struct rest_limits limits = {.read_timeout_ms = 30,
				     .idle_timeout_ms = 60000};
	rest_server_set_limits(f->server, &limits);
	struct conn *c = fx_conn(f, FX_UNIX_ROOT);
	conn_fake_push_str(c, "GET /1.0 HTTP/1.1\r\nHost:");
	assert_true(fx_wait_closed(f, c));
	struct fx_response r;
	assert_true(fx_try_response(c, true, &r));
	fx_assert_error(&r, 408, "request timeout");
	assert_string_equal(fx_header(&r, "Connection"), "close");
	fx_response_free(&r);
	assert_int_equal(f->handler_calls, 0);
	conn_fake_release(c);
}

static void trickle_cb(uv_timer_t *timer)
{
	struct conn *c = timer->data;
	if (!conn_fake_close_called(c)) {
		conn_fake_push_str(c, "X-A: b\r\n");
	}
}

static void trickle_close_cb(uv_handle_t *handle)
{
	*(bool *)handle->data = true;
}

static bool is_true(void *arg)
{
	return *(bool *)arg;
}

static void test_read_timeout_not_reset_by_bytes(void **state)
{
	struct fixture *f = *state;
	struct rest_limits limits = {.read_timeout_ms = 50,
				     .idle_timeout_ms = 60000};
	rest_server_set_limits(f->server, &limits);
	struct conn *c = fx_conn(f, FX_UNIX_ROOT);
	/* A slow client trickling header bytes is still cut off. */
	uv_timer_t trickle;
	uv_timer_init(&f->loop, &trickle);
	trickle.data = c;
	uv_timer_start(&trickle, trickle_cb, 5, 5);
	conn_fake_push_str(c, "GET /1.0 HTTP/1.1\r\n");
	assert_true(fx_wait_closed(f, c));
	bool trickle_closed = false;
	trickle.data = &trickle_closed;
	uv_close((uv_handle_t *)&trickle, trickle_close_cb);
	assert_true(fx_run_until(f, is_true, &trickle_closed));
	const char *out = conn_fake_output(c, NULL);
	assert_non_null(strstr(out, "HTTP/1.1 408 Request Timeout\r\n"));
	conn_fake_release(c);
}

static void test_idle_timeout(void **state)
{
	struct fixture *f = *state;
	struct rest_limits limits = {.idle_timeout_ms = 20};
	rest_server_set_limits(f->server, &limits);
	struct conn *c = fx_conn(f, FX_UNIX_ROOT);
	struct fx_response r;
	fx_roundtrip(f, c, GET("/1.0"), &r);
	assert_int_equal(r.status, 200);
	fx_response_free(&r);
	/* Closed quietly: nothing more written. */
	assert_true(fx_wait_closed(f, c));
	size_t len;
	conn_fake_output(c, &len);
	assert_int_equal(len, 0);
	conn_fake_release(c);
}

static void test_async_handler(void **state)
{
	struct fixture *f = *state;
	struct conn *c = fx_conn(f, FX_UNIX_ROOT);
	conn_fake_push_str(c, "POST /1.0/park?q=v HTTP/1.1\r\n"
			      "Content-Length: 2\r\n\r\nhi");
	assert_true(fx_run_until(f, is_parked, f));
	/* Nothing is written and nothing read while the handler works. */
	fx_run_briefly(f);
	size_t len;
	conn_fake_output(c, &len);
	assert_int_equal(len, 0);
	assert_false(conn_fake_is_reading(c));
	struct rest_request *req = f->parked;
	assert_string_equal(rest_query(req, "q"), "v");
	assert_string_equal(rest_body(req, NULL), "hi");
	assert_non_null(rest_conn(req));
	rest_set_data(req, f);
	assert_ptr_equal(rest_get_data(req), f);

	/* The next request waits behind it. */
	conn_fake_push_str(c, GET("/1.0/items/next"));
	fx_run_briefly(f);
	assert_int_equal(f->handler_calls, 1);

	f->parked = NULL;
	cJSON *m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "late", "yes");
	rest_respond_sync(req, m, NULL);
	struct fx_response r;
	fx_response(f, c, &r);
	m = fx_sync_metadata(&r);
	assert_string_equal(cJSON_GetObjectItem(m, "late")->valuestring,
			    "yes");
	cJSON_Delete(m);
	fx_response_free(&r);
	fx_response(f, c, &r);
	assert_int_equal(r.status, 200);
	fx_response_free(&r);
	assert_int_equal(f->handler_calls, 2);
	conn_fake_release(c);
}

/* A parked request handed to its handler again (a follower that became
 * the leader while the request waited for one): the handler runs a
 * second time, with the same request, and answers it. */
static void test_handle_again(void **state)
{
	struct fixture *f = *state;
	struct conn *c = fx_conn(f, FX_UNIX_ROOT);
	conn_fake_push_str(c, "POST /1.0/park?q=again HTTP/1.1\r\n"
			      "Content-Length: 2\r\n\r\nhi");
	assert_true(fx_run_until(f, is_parked, f));
	struct rest_request *req = f->parked;
	f->parked = NULL;
	rest_handle_again(req);
	assert_int_equal(f->handler_calls, 2);
	assert_ptr_equal(f->parked, req);
	assert_string_equal(rest_query(req, "q"), "again");
	assert_string_equal(rest_body(req, NULL), "hi");
	f->parked = NULL;
	rest_respond_sync(req, cJSON_CreateObject(), NULL);
	struct fx_response r;
	fx_response(f, c, &r);
	assert_int_equal(r.status, 200);
	fx_response_free(&r);
	conn_fake_release(c);
}

/* Draining: the request in its handler is still answered; the next one
 * (pipelined or on another connection) gets 503 without its handler. */
static void test_drain(void **state)
{
	struct fixture *f = *state;
	struct conn *c = fx_conn(f, FX_UNIX_ROOT);
	struct conn *c2 = fx_conn(f, FX_UNIX_ROOT);
	conn_fake_push_str(c, GET("/1.0/park"));
	assert_true(fx_run_until(f, is_parked, f));
	assert_int_equal(rest_server_pending(f->server), 1);
	rest_server_drain(f->server);
	conn_fake_push_str(c, GET("/1.0/items/next"));
	conn_fake_push_str(c2, GET("/1.0/items/other"));
	struct fx_response r;
	fx_response(f, c2, &r);
	assert_int_equal(r.status, 503);
	fx_response_free(&r);
	assert_int_equal(f->handler_calls, 1);

	struct rest_request *req = f->parked;
	f->parked = NULL;
	rest_respond_sync(req, NULL, NULL);
	fx_response(f, c, &r);
	assert_int_equal(r.status, 200);
	fx_response_free(&r);
	fx_response(f, c, &r);
	assert_int_equal(r.status, 503);
	fx_response_free(&r);
	assert_int_equal(f->handler_calls, 1);
	assert_int_equal(rest_server_pending(f->server), 0);
	conn_fake_release(c);
	conn_fake_release(c2);
}

static void test_answer_after_hangup(void **state)
{
	struct fixture *f = *state;
	struct conn *c = fx_conn(f, FX_UNIX_ROOT);
	conn_fake_push_str(c, GET("/1.0/park"));
	assert_true(fx_run_until(f, is_parked, f));
	/* The client goes away (reset) while the handler works. */
	conn_fake_break(c, TM_IO);
	assert_true(fx_wait_closed(f, c));
	struct rest_request *req = f->parked;
	f->parked = NULL;
	/* The request is still valid. */
	assert_string_equal(rest_path(req), "/1.0/park");
	assert_null(rest_conn(req));
	rest_respond_error(req, 500, "too late: %d", 42);
	fx_run_briefly(f);
	size_t len;
	conn_fake_output(c, &len);
	assert_int_equal(len, 0);
	conn_fake_release(c);
}

static void test_half_close_during_handler(void **state)
{
	struct fixture *f = *state;
	struct conn *c = fx_conn(f, FX_UNIX_ROOT);
	conn_fake_push_str(c, GET("/1.0/park"));
	assert_true(fx_run_until(f, is_parked, f));
	conn_fake_push_eof(c);
	fx_run_briefly(f);
	struct rest_request *req = f->parked;
	f->parked = NULL;
	rest_respond_sync(req, NULL, NULL);
	/* The answer is delivered, then the connection closes. */
	assert_true(fx_wait_closed(f, c));
	struct fx_response r;
	assert_true(fx_try_response(c, true, &r));
	cJSON *m = fx_sync_metadata(&r);
	assert_int_equal(cJSON_GetArraySize(m), 0);
	cJSON_Delete(m);
	fx_response_free(&r);
	conn_fake_release(c);
}

static void test_server_close_with_pending_handler(void **state)
{
	struct fixture *f = *state;
	struct conn *busy = fx_conn(f, FX_UNIX_ROOT);
	struct conn *idle = fx_conn(f, FX_TLS_TRUSTED);
	struct conn *reading = fx_conn(f, FX_TLS_TRUSTED);
	conn_fake_push_str(busy, GET("/1.0/park"));
	conn_fake_push_str(reading, "GET /1.0 HT");
	assert_true(fx_run_until(f, is_parked, f));
	fx_run_briefly(f);
	/* Closing does not wait for the handler. */
	fx_close_server(f);
	assert_true(conn_fake_closed(busy));
	assert_true(conn_fake_closed(idle));
	assert_true(conn_fake_closed(reading));
	struct rest_request *req = f->parked;
	f->parked = NULL;
	assert_ptr_equal(rest_server_data(req), f);
	rest_respond_sync(req, cJSON_CreateString("void"), "e");
	uv_run(&f->loop, UV_RUN_NOWAIT);
	size_t len;
	conn_fake_output(busy, &len);
	assert_int_equal(len, 0);
	conn_fake_release(busy);
	conn_fake_release(idle);
	conn_fake_release(reading);
}

static void test_add_conn_after_close_refused(void **state)
{
	struct fixture *f = *state;
	struct rest_server *s = f->server;
	struct conn *c = conn_fake_new(&f->loop);
	rest_server_close(s, NULL, NULL);
	rest_server_add_conn(s, c);
	assert_true(fx_wait_closed(f, c));
	f->server = NULL;
	conn_fake_release(c);
}

static void test_streaming(void **state)
{
	struct fixture *f = *state;
	struct conn *c = fx_conn(f, FX_UNIX_ROOT);
	struct fx_response r;
	fx_roundtrip(f, c, GET("/1.0/stream"), &r);
	assert_int_equal(r.status, 200);
	assert_true(r.chunked_seen);
	assert_string_equal(fx_header(&r, "Transfer-Encoding"), "chunked");
	assert_string_equal(fx_header(&r, "Content-Type"), "text/plain");
	assert_string_equal(fx_header(&r, "X-Stream"), "yes");
	assert_null(fx_header(&r, "Content-Length"));
	assert_string_equal(r.body, "chunk1chunk2chunk3");
	fx_response_free(&r);
	assert_int_equal(f->stream_status, 0);
	/* Keep-alive after a stream. */
	fx_roundtrip(f, c, GET("/1.0"), &r);
	assert_int_equal(r.status, 200);
	fx_response_free(&r);
	conn_fake_release(c);
}

static void test_streaming_http10(void **state)
{
	struct fixture *f = *state;
	struct conn *c = fx_conn(f, FX_UNIX_ROOT);
	conn_fake_push_str(c, "GET /1.0/stream HTTP/1.0\r\n\r\n");
	assert_true(fx_wait_closed(f, c));
	struct fx_response r;
	assert_true(fx_try_response(c, true, &r));
	assert_false(r.chunked_seen);
	assert_string_equal(fx_header(&r, "Connection"), "close");
	assert_string_equal(r.body, "chunk1chunk2chunk3");
	fx_response_free(&r);
	conn_fake_release(c);
}

static void stream_hangup_cb(struct rest_request *req, void *arg, int status)
{
	int *out = arg;
	(void)req;
	*out = status;
}

static void test_stream_after_hangup(void **state)
{
	struct fixture *f = *state;
	struct conn *c = fx_conn(f, FX_UNIX_ROOT);
	conn_fake_push_str(c, GET("/1.0/park"));
	assert_true(fx_run_until(f, is_parked, f));
	struct rest_request *req = f->parked;
	f->parked = NULL;
	assert_int_equal(rest_stream_begin(req, 200, "text/plain", NULL), 0);
	conn_fake_break(c, TM_IO);
	int status = -1;
	/* Queued before the failure is noticed: completes with an error. */
	assert_int_equal(rest_stream_write(req, "abc", 3, stream_hangup_cb,
					   &status),
			 0);
	assert_true(fx_wait_closed(f, c));
	assert_int_equal(status, TM_IO);
	/* After it: refused at once, no callback. */
	status = -1;
	assert_int_equal(rest_stream_write(req, "def", 3, stream_hangup_cb,
					   &status),
			 TM_CANCELED);
	rest_stream_end(req);
	fx_run_briefly(f);
	assert_int_equal(status, -1);
	conn_fake_release(c);
}

static bool is_not_minus_one(void *arg)
{
	return *(int *)arg != -1;
}

static void test_stream_end_before_write_completes(void **state)
{
	struct fixture *f = *state;
	struct conn *c = fx_conn(f, FX_UNIX_ROOT);
	conn_fake_push_str(c, GET("/1.0/park"));
	assert_true(fx_run_until(f, is_parked, f));
	struct rest_request *req = f->parked;
	f->parked = NULL;
	int status = -1;
	assert_int_equal(rest_stream_begin(req, 201, NULL, NULL), 0);
	assert_int_equal(rest_stream_write(req, "xy", 2, stream_hangup_cb,
					   &status),
			 0);
	rest_stream_end(req);
	struct fx_response r;
	fx_response(f, c, &r);
	assert_int_equal(r.status, 201);
	assert_string_equal(r.body, "xy");
	fx_response_free(&r);
	assert_true(fx_run_until(f, is_not_minus_one, &status));
	assert_int_equal(status, 0);
	/* The connection moved on to the next request. */
	fx_roundtrip(f, c, GET("/1.0"), &r);
	assert_int_equal(r.status, 200);
	fx_response_free(&r);
	conn_fake_release(c);
}

static bool is_upgraded(void *arg)
{
	return ((struct fixture *)arg)->upgrade_calls > 0;
}

static void test_upgrade(void **state)
{
	struct fixture *f = *state;
	struct conn *c = fx_conn(f, FX_TLS_TRUSTED);
	conn_fake_push_str(c, "GET /internal/raft HTTP/1.1\r\n"
			      "Connection: Upgrade\r\nUpgrade: raft\r\n\r\n"
			      "RAFT1");
	struct fx_response r;
	fx_response(f, c, &r);
	assert_int_equal(r.status, 101);
	assert_string_equal(fx_header(&r, "Upgrade"), "raft");
	assert_string_equal(fx_header(&r, "Connection"), "Upgrade");
	fx_response_free(&r);
	assert_true(fx_run_until(f, is_upgraded, f));
	assert_int_equal(f->upgrade_calls, 1);
	assert_ptr_equal(f->upgraded, c);
	assert_string_equal(f->upgrade_extra, "RAFT1");
	assert_false(conn_fake_close_called(c));
	/* The server no longer owns it: closing the server leaves it. */
	fx_close_server(f);
	assert_false(conn_fake_close_called(c));
	conn_close(c, NULL);
	assert_true(fx_wait_closed(f, c));
	conn_fake_release(c);
}

static void failed_upgrade_cb(void *arg, struct conn *c, const char *extra,
			      size_t extra_len)
{
	struct fixture *f = arg;
	f->upgrade_calls++;
	f->upgraded = c;
	assert_null(extra);
	assert_int_equal(extra_len, 0);
}

static void test_upgrade_after_hangup(void **state)
{
	struct fixture *f = *state;
	struct conn *c = fx_conn(f, FX_UNIX_ROOT);
	conn_fake_push_str(c, GET("/1.0/park"));
	assert_true(fx_run_until(f, is_parked, f));
	struct rest_request *req = f->parked;
	f->parked = NULL;
	conn_fake_break(c, TM_IO);
	assert_true(fx_wait_closed(f, c));
	f->upgraded = c;
	rest_respond_upgrade(req, "raft", failed_upgrade_cb, f);
	assert_int_equal(f->upgrade_calls, 0); /* never inside the call */
	assert_true(fx_run_until(f, is_upgraded, f));
	assert_null(f->upgraded);
	conn_fake_release(c);
}

static void test_upgrade_server_closed_first(void **state)
{
	struct fixture *f = *state;
	struct conn *c = fx_conn(f, FX_UNIX_ROOT);
	conn_fake_push_str(c, GET("/1.0/park"));
	assert_true(fx_run_until(f, is_parked, f));
	struct rest_request *req = f->parked;
	f->parked = NULL;
	/* The 101 is queued, then the server closes before the hand-over. */
	f->upgraded = c;
	rest_respond_upgrade(req, "raft", failed_upgrade_cb, f);
	rest_server_close(f->server, NULL, NULL);
	f->server = NULL;
	assert_true(fx_run_until(f, is_upgraded, f));
	assert_null(f->upgraded);
	assert_true(fx_wait_closed(f, c));
	conn_fake_release(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_read_timeout, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_read_timeout_not_reset_by_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_timeout, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_async_handler, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_handle_again, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_drain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_answer_after_hangup, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_half_close_during_handler,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_server_close_with_pending_handler, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_add_conn_after_close_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_streaming, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_streaming_http10, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stream_after_hangup, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_stream_end_before_write_completes, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_upgrade, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_after_hangup,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_upgrade_server_closed_first, setup, teardown),
	};
	return cmocka_run_group_tests_name("rest-server-async", tests, NULL,
					   NULL);
}

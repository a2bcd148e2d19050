/* Admission from the headers: a client that may not use a route is
 * answered before it sends its body, and its connection closed, so it
 * cannot make the server buffer a body it will refuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

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

/* Send only the head of REQUEST (its body never comes) and expect the
 * error STATUS/MESSAGE followed by a close. */
static void assert_refused_early(struct fixture *f, struct conn *c,
				 const char *head, int status,
				 const char *message)
{
	struct fx_response r;
	conn_fake_push_str(c, head);
	fx_response(f, c, &r);
	fx_assert_error(&r, status, message);
	assert_string_equal(fx_header(&r, "Connection"), "close");
	fx_response_free(&r);
	assert_true(fx_wait_closed(f, c));
	assert_int_equal(f->handler_calls, 0);
}

#define BIG_PUT(path)                                                          \
	"PUT " path " HTTP/1.1\r\nHost: t\r\nContent-Length: 8388608\r\n"      \
	"\r\n0123456789"

static void test_untrusted_body_refused_from_headers(void **state)
{
	struct fixture *f = *state;
	struct conn *c = fx_conn(f, FX_TLS_UNTRUSTED);
	assert_refused_early(f, c, BIG_PUT("/1.0/json"), 403,
			     "not authorized: client certificate not "
			     "trusted");
	conn_fake_release(c);
}

static void test_no_certificate_chunked_refused_from_headers(void **state)
{
	struct fixture *f = *state;
	struct conn *c = fx_conn(f, FX_TLS_NONE);
	assert_refused_early(f, c,
			     "POST /1.0/json HTTP/1.1\r\nTransfer-Encoding: "
			     "chunked\r\n\r\n100000\r\nabc",
			     403,
			     "not authorized: no client certificate "
			     "presented");
	conn_fake_release(c);
}

static void test_untrusted_unknown_path_with_body(void **state)
{
	struct fixture *f = *state;
	struct conn *c = fx_conn(f, FX_TLS_NONE);
	assert_refused_early(f, c, BIG_PUT("/nope"), 404, "not found");
	conn_fake_release(c);
}

static void test_untrusted_public_get_with_body(void **state)
{
	struct fixture *f = *state;
	struct conn *c = fx_conn(f, FX_TLS_UNTRUSTED);
	assert_refused_early(
	    f, c, "GET /1.0 HTTP/1.1\r\nContent-Length: 100\r\n\r\n", 413,
	    "request body not accepted without a trusted "
	    "client certificate");
	conn_fake_release(c);
}

static void test_foreign_unix_user_with_body(void **state)
{
	struct fixture *f = *state;
	struct conn *c = fx_conn_unix(f, 4242);
	assert_refused_early(f, c, BIG_PUT("/1.0/json"), 403,
			     "unix socket access is restricted to root");
	conn_fake_release(c);
}

/* Without a body the refusal keeps the connection, as before. */
static void test_refusal_without_body_keeps_connection(void **state)
{
	struct fixture *f = *state;
	struct conn *c = fx_conn(f, FX_TLS_UNTRUSTED);
	struct fx_response r;
	fx_roundtrip(f, c, "DELETE /1.0/items/x HTTP/1.1\r\n\r\n", &r);
	fx_assert_error(&r, 403,
			"not authorized: client certificate not trusted");
	fx_response_free(&r);
	fx_roundtrip(f, c, "GET /1.0 HTTP/1.1\r\n\r\n", &r);
	assert_int_equal(r.status, 200);
	fx_response_free(&r);
	assert_false(conn_fake_close_called(c));
	conn_fake_release(c);
}

/* Trusted and local clients still send bodies, on the same server. */
static void test_trusted_body_accepted(void **state)
{
	struct fixture *f = *state;
	int kinds[] = {FX_TLS_TRUSTED, FX_UNIX_ROOT};
	for (size_t i = 0; i < 2; i++) {
		struct conn *c = fx_conn(f, kinds[i]);
		struct fx_response r;
		fx_roundtrip(f, c,
			     "POST /1.0/json HTTP/1.1\r\nContent-Length: 9\r\n"
			     "\r\n{\"k\":\"v\"}",
			     &r);
		cJSON *m = fx_sync_metadata(&r);
		assert_string_equal(cJSON_GetObjectItem(m, "k")->valuestring,
				    "v");
		cJSON_Delete(m);
		fx_response_free(&r);
		conn_fake_release(c);
	}
}

#define WEAK                                                                   \
	"RSA key of 1024 bits is too weak (use RSA of at least 2048 "          \
	"bits, or EC P-256 or larger)"

/* A certificate in the trust store whose key is too weak authenticates
 * nobody: the client is untrusted and told why. */
static void test_weak_key_not_trusted(void **state)
{
	struct fixture *f = *state;
	struct conn *c = conn_fake_new(&f->loop);
	conn_fake_set_tls(c, FX_TRUSTED_FP);
	conn_fake_set_key_weakness(c, WEAK);
	rest_server_add_conn(f->server, c);
	struct fx_response r;
	fx_roundtrip(f, c, "DELETE /1.0/items/x HTTP/1.1\r\n\r\n", &r);
	fx_assert_error(&r, 403,
			"not authorized: client certificate refused: " WEAK);
	fx_response_free(&r);
	fx_roundtrip(f, c, "GET /1.0 HTTP/1.1\r\n\r\n", &r);
	cJSON *m = fx_sync_metadata(&r);
	assert_int_equal(cJSON_GetObjectItem(m, "auth")->valueint,
			 REST_AUTH_UNTRUSTED);
	cJSON_Delete(m);
	fx_response_free(&r);
	f->handler_calls = 0;
	assert_refused_early(
	    f, c, BIG_PUT("/1.0/json"), 403,
	    "not authorized: client certificate refused: " WEAK);
	conn_fake_release(c);
}

/* A certificate removed from the trust store: revalidation closes the
 * connections it was trusted on, an idle one and one whose request is in
 * its handler (answered into the void), and leaves the others open. */
static void test_revalidate_closes_revoked(void **state)
{
	struct fixture *f = *state;
	struct conn *idle = fx_conn(f, FX_TLS_TRUSTED);
	struct conn *busy = fx_conn(f, FX_TLS_TRUSTED);
	struct conn *fresh = fx_conn(f, FX_TLS_TRUSTED); /* no request yet */
	struct conn *untrusted = fx_conn(f, FX_TLS_UNTRUSTED);
	struct conn *local = fx_conn(f, FX_UNIX_ROOT);
	struct fx_response r;
	struct conn *used[] = {idle, untrusted, local};
	for (size_t i = 0; i < 3; i++) {
		fx_roundtrip(f, used[i], "GET /1.0 HTTP/1.1\r\n\r\n", &r);
		assert_int_equal(r.status, 200);
		fx_response_free(&r);
	}
	conn_fake_push_str(busy, "GET /1.0/park HTTP/1.1\r\n\r\n");
	while (f->parked == NULL) {
		fx_run_briefly(f);
	}
	/* Still trusted: nothing closes. */
	assert_int_equal(rest_server_revalidate(f->server), 0);
	f->revoked = true;
	assert_int_equal(rest_server_revalidate(f->server), 2);
	assert_true(fx_wait_closed(f, idle));
	assert_true(fx_wait_closed(f, busy));
	rest_respond_sync(f->parked, NULL, NULL); /* into the void */
	f->parked = NULL;
	fx_run_briefly(f);
	assert_false(conn_fake_close_called(fresh));
	assert_false(conn_fake_close_called(untrusted));
	assert_false(conn_fake_close_called(local));
	/* The fresh one is refused at its first request. */
	fx_roundtrip(f, fresh, "DELETE /1.0/items/x HTTP/1.1\r\n\r\n", &r);
	fx_assert_error(&r, 403,
			"not authorized: client certificate not trusted");
	fx_response_free(&r);
	assert_int_equal(rest_server_revalidate(f->server), 0);
	struct conn *all[] = {idle, busy, fresh, untrusted, local};
	for (size_t i = 0; i < 5; i++) {
		conn_fake_release(all[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
		test_untrusted_body_refused_from_headers, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_no_certificate_chunked_refused_from_headers, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(
		test_untrusted_unknown_path_with_body, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_untrusted_public_get_with_body,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_foreign_unix_user_with_body,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_refusal_without_body_keeps_connection, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_trusted_body_accepted, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_weak_key_not_trusted, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_revalidate_closes_revoked,
					    setup, teardown),
	};
	return cmocka_run_group_tests_name("rest-admit", tests, NULL, NULL);
}

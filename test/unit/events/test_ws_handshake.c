/* The WebSocket opening handshake: the server's check of the request's
 * headers (internal/events/ws_handshake.c) and the client's check of the
 * answer (pkg/ws_head.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "internal/events/ws_handshake.h"
#include "internal/lib/err.h"
#include "pkg/internal.h"

/* RFC 6455 section 1.3's example. */
#define KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

static int check(const char *upgrade, const char *connection,
		 const char *version, const char *key, char *accept,
		 char *errmsg)
{
	struct ws_handshake_request r = {upgrade, connection, version, key};
	errmsg[0] = '\0';
	return ws_handshake_check(&r, accept, errmsg);
}

static void test_rfc_example(void **state)
{
	(void)state;
	char accept[WS_ACCEPT_LEN + 1];
	char errmsg[TM_ERRMSG_SIZE];
	assert_int_equal(
	    check("websocket", "Upgrade", "13", KEY, accept, errmsg), 0);
	assert_string_equal(accept, ACCEPT);
	/* Token lists, any case, with white space. */
	assert_int_equal(check("h2c, WebSocket", "keep-alive,  upgrade ", "13",
			       KEY, accept, errmsg),
			 0);
	assert_string_equal(accept, ACCEPT);
}

static void test_refusals(void **state)
{
	(void)state;
	char accept[WS_ACCEPT_LEN + 1];
	char errmsg[TM_ERRMSG_SIZE];
	struct {
		const char *upgrade, *connection, *version, *key, *says;
	} cases[] = {
	    {NULL, "Upgrade", "13", KEY, "Upgrade header must list websocket"},
	    {"websockets", "Upgrade", "13", KEY, "must list websocket"},
	    {"websocket", NULL, "13", KEY, "Connection header must list"},
	    {"websocket", "upgraded", "13", KEY, "Connection header must"},
	    {"websocket", "Upgrade", NULL, KEY, "Version must be 13"},
	    {"websocket", "Upgrade", "8", KEY, "Version must be 13"},
	    {"websocket", "Upgrade", "13", NULL, "base64 of 16 bytes"},
	    {"websocket", "Upgrade", "13", "short", "base64 of 16 bytes"},
	    {"websocket", "Upgrade", "13",
	     "dGhlIHNhbXBsZSBub25jZQ=", "base64 of 16 bytes"},
	    {"websocket", "Upgrade", "13", "dGhlIHNhbXBsZSBub25jZR==",
	     "base64 of 16 bytes"}, /* stray bits in the last character */
	    {"websocket", "Upgrade", "13",
	     "dGhlIHNhbXBsZSBub2*jZQ==", "base64 of 16 bytes"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(check(cases[i].upgrade, cases[i].connection,
				       cases[i].version, cases[i].key, accept,
				       errmsg),
				 TM_INVALID);
		assert_non_null(strstr(errmsg, cases[i].says));
		assert_string_equal(accept, "");
	}
	struct ws_handshake_request none = {0};
	assert_false(ws_handshake_asked(&none));
}

static void test_token_lists(void **state)
{
	(void)state;
	assert_true(ws_token_list_has("a,b", "b"));
	assert_true(ws_token_list_has(" B ", "b"));
	assert_true(ws_token_list_has(",,b,", "b"));
	assert_false(ws_token_list_has("", "b"));
	assert_false(ws_token_list_has("bb", "b"));
	assert_false(ws_token_list_has("a b", "b"));
	assert_false(ws_token_list_has(NULL, "b"));
}

static void test_client_checks_the_answer(void **state)
{
	(void)state;
	char accept[32];
	tmc_ws_accept(KEY, accept);
	assert_string_equal(accept, ACCEPT);
	int status;
	long long length;
	const char *ok = "HTTP/1.1 101 Switching Protocols\r\n"
			 "Connection: Upgrade\r\nUpgrade: websocket\r\n"
			 "Sec-WebSocket-Accept: " ACCEPT;
	assert_true(
	    tmc_ws_head_check(ok, strlen(ok), ACCEPT, &status, &length));
	assert_int_equal(status, 101);
	assert_int_equal(length, -1);
	const char *wrong = "HTTP/1.1 101 Switching Protocols\r\n"
			    "Upgrade: websocket\r\n"
			    "Sec-WebSocket-Accept: xPLMBiTxaQ9kYGzzhZRbK+xOo=";
	assert_false(
	    tmc_ws_head_check(wrong, strlen(wrong), ACCEPT, &status, &length));
	const char *refused = "HTTP/1.1 400 Bad Request\r\n"
			      "Content-Type: application/json\r\n"
			      "Content-Length: 42";
	assert_false(tmc_ws_head_check(refused, strlen(refused), ACCEPT,
				       &status, &length));
	assert_int_equal(status, 400);
	assert_int_equal(length, 42);
	const char *junk = "HTTP/1.1 1x1 Hm";
	assert_false(
	    tmc_ws_head_check(junk, strlen(junk), ACCEPT, &status, &length));
	assert_int_equal(status, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc_example),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_token_lists),
	    cmocka_unit_test(test_client_checks_the_answer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

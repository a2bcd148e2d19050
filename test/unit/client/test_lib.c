/* libthermionic against a scripted server on a unix socket: envelope
 * decoding, error mapping, request shape, keep-alive, typed helpers and
 * the waits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "pkg/thermionic.h"
#include "test/unit/client/fake_server.h"

struct fixture {
	struct fake_server server;
	struct thermionic_client *client;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	fake_server_start_unix(&f->server);
	assert_int_equal(
	    thermionic_connect_unix(f->server.socket_path, &f->client),
	    THERMIONIC_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	thermionic_close(f->client);
	fake_server_stop(&f->server);
	free(f);
	return 0;
}

static void assert_request(struct fake_server *s, size_t i, const char *line)
{
	char *got = fake_server_request_line(s, i);
	assert_non_null(got);
	assert_string_equal(got, line);
	free(got);
}

static void assert_header(struct fake_server *s, size_t i, const char *name,
			  const char *value)
{
	char *got = fake_server_request_header(s, i, name);
	if (value == NULL) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(got, value);
	free(got);
}

static void assert_body(struct fake_server *s, size_t i, const char *body)
{
	char *got = fake_server_request_body(s, i);
	assert_non_null(got);
	assert_string_equal(got, body);
	free(got);
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_sync_envelope(void **state)
{
	struct fixture *f = *state;
	struct thermionic_response resp;

	fake_server_sync(&f->server, "{\"a\":1,\"b\":[true]}",
			 "ETag: \"abc123\"\r\n");
	assert_int_equal(thermionic_request(f->client, "GET", "/1.0/config",
					    NULL, NULL, &resp),
			 THERMIONIC_OK);
	assert_int_equal(resp.status, 200);
	assert_int_equal(resp.type, THERMIONIC_RESPONSE_SYNC);
	assert_string_equal(resp.operation, "");
	assert_string_equal(resp.etag, "\"abc123\"");
	assert_true(cJSON_IsObject(resp.metadata));
	assert_int_equal(cJSON_GetObjectItem(resp.metadata, "a")->valueint, 1);
	assert_string_equal(thermionic_errmsg(f->client), "");
	assert_int_equal(thermionic_status(f->client), 200);
	thermionic_response_clear(&resp);
	assert_null(resp.metadata);
	assert_request(&f->server, 0, "GET /1.0/config");
	assert_header(&f->server, 0, "Accept", "application/json");
	assert_header(&f->server, 0, "If-Match", NULL);
	assert_header(&f->server, 0, "Content-Type", NULL);
}

static void test_null_metadata_and_discarded_response(void **state)
{
	struct fixture *f = *state;
	struct thermionic_response resp;

	fake_server_sync(&f->server, "null", NULL);
	fake_server_sync(&f->server, "{}", NULL);
	assert_int_equal(
	    thermionic_request(f->client, "GET", "/1.0", NULL, NULL, &resp),
	    THERMIONIC_OK);
	assert_null(resp.metadata);
	assert_null(resp.etag);
	thermionic_response_clear(&resp);
	assert_int_equal(
	    thermionic_request(f->client, "GET", "/1.0", NULL, NULL, NULL),
	    THERMIONIC_OK);
}

static void test_error_envelope(void **state)
{
	struct fixture *f = *state;
	struct thermionic_response resp;

	fake_server_error(&f->server, 404, "certificate not found");
	assert_int_equal(thermionic_request(f->client, "GET",
					    "/1.0/certificates/ab", NULL, NULL,
					    &resp),
			 THERMIONIC_ERR_HTTP);
	assert_string_equal(thermionic_errmsg(f->client),
			    "certificate not found");
	assert_int_equal(thermionic_status(f->client), 404);
	assert_null(resp.metadata);
	assert_null(resp.operation);
	thermionic_response_clear(&resp);
}

static void test_error_type_with_200(void **state)
{
	struct fixture *f = *state;
	struct fake_reply r = {
	    .status = 200,
	    .body = "{\"type\":\"error\",\"error\":\"odd server\"}",
	};
	fake_server_script(&f->server, &r, 1);
	assert_int_equal(
	    thermionic_request(f->client, "GET", "/1.0", NULL, NULL, NULL),
	    THERMIONIC_ERR_HTTP);
	assert_string_equal(thermionic_errmsg(f->client), "odd server");
}

static void test_non_envelope_answers(void **state)
{
	struct fixture *f = *state;
	struct fake_reply replies[] = {
	    {.status = 502, .body = "<html>bad gateway</html>"},
	    {.status = 200, .body = "not json"},
	    {.status = 200, .body = "[1,2]"},
	    {.status = 200, .body = "{\"type\":\"weird\"}"},
	    {.status = 200, .body = NULL},
	    {.status = 500, .body = "{\"type\":\"error\",\"error\":\"\"}"},
	};
	fake_server_script(&f->server, replies, 6);

	assert_int_equal(
	    thermionic_request(f->client, "GET", "/1.0", NULL, NULL, NULL),
	    THERMIONIC_ERR_HTTP);
	assert_string_equal(thermionic_errmsg(f->client),
			    "HTTP 502 Bad Gateway");
	assert_int_equal(thermionic_status(f->client), 502);
	assert_int_equal(
	    thermionic_request(f->client, "GET", "/1.0", NULL, NULL, NULL),
	    THERMIONIC_ERR_PROTO);
	assert_non_null(strstr(thermionic_errmsg(f->client), "not a JSON"));
	assert_int_equal(
	    thermionic_request(f->client, "GET", "/1.0", NULL, NULL, NULL),
	    THERMIONIC_ERR_PROTO);
	assert_int_equal(
	    thermionic_request(f->client, "GET", "/1.0", NULL, NULL, NULL),
	    THERMIONIC_ERR_PROTO);
	assert_non_null(strstr(thermionic_errmsg(f->client), "weird"));
	assert_int_equal(
	    thermionic_request(f->client, "GET", "/1.0", NULL, NULL, NULL),
	    THERMIONIC_ERR_PROTO);
	assert_non_null(strstr(thermionic_errmsg(f->client), "empty body"));
	assert_int_equal(
	    thermionic_request(f->client, "GET", "/1.0", NULL, NULL, NULL),
	    THERMIONIC_ERR_HTTP);
	assert_string_equal(thermionic_errmsg(f->client),
			    "HTTP 500 Internal Server Error");
}

static void test_body_and_if_match(void **state)
{
	struct fixture *f = *state;

	fake_server_sync(&f->server, "{}", NULL);
	fake_server_sync(&f->server, "{}", NULL);
	fake_server_sync(&f->server, "{}", NULL);
	assert_int_equal(thermionic_request(f->client, "PATCH", "/1.0/config",
					    "{\"k\":\"v\"}", "\"e1\"", NULL),
			 THERMIONIC_OK);
	assert_request(&f->server, 0, "PATCH /1.0/config");
	assert_body(&f->server, 0, "{\"k\":\"v\"}");
	assert_header(&f->server, 0, "Content-Type", "application/json");
	assert_header(&f->server, 0, "If-Match", "\"e1\"");
	assert_header(&f->server, 0, "Expect", NULL);
	/* A PUT without a body still says how long it is. */
	assert_int_equal(thermionic_request(f->client, "PUT", "/1.0/shutdown",
					    NULL, NULL, NULL),
			 THERMIONIC_OK);
	assert_request(&f->server, 1, "PUT /1.0/shutdown");
	assert_header(&f->server, 1, "Content-Length", "0");
	assert_body(&f->server, 1, "");
	assert_int_equal(thermionic_request(f->client, "DELETE",
					    "/1.0/certificates/x", NULL, NULL,
					    NULL),
			 THERMIONIC_OK);
	assert_request(&f->server, 2, "DELETE /1.0/certificates/x");
	/* A large body goes out at once, without "Expect: 100-continue". */
	{
		size_t n = 3 * 1024 * 1024;
		char *big = malloc(n + 3);
		big[0] = '"';
		memset(big + 1, 'x', n);
		big[n + 1] = '"';
		big[n + 2] = '\0';
		fake_server_sync(&f->server, "{}", NULL);
		assert_int_equal(thermionic_request(f->client, "POST", "/big",
						    big, NULL, NULL),
				 THERMIONIC_OK);
		assert_header(&f->server, 3, "Expect", NULL);
		assert_header(&f->server, 3, "Content-Length", "3145730");
		free(big);
	}
}

static void test_keep_alive(void **state)
{
	struct fixture *f = *state;
	for (int i = 0; i < 3; i++) {
		fake_server_sync(&f->server, "{}", NULL);
	}
	for (int i = 0; i < 3; i++) {
		assert_int_equal(thermionic_request(f->client, "GET", "/1.0",
						    NULL, NULL, NULL),
				 THERMIONIC_OK);
	}
	assert_int_equal(fake_server_n_requests(&f->server), 3);
	assert_int_equal(fake_server_n_connections(&f->server), 1);
}

static void test_reconnects_after_close(void **state)
{
	struct fixture *f = *state;
	struct fake_reply r = {
	    .status = 200,
	    .body = "{\"type\":\"sync\",\"metadata\":{}}",
	    .close = true,
	};
	fake_server_script(&f->server, &r, 1);
	fake_server_sync(&f->server, "{}", NULL);
	assert_int_equal(
	    thermionic_request(f->client, "GET", "/1.0", NULL, NULL, NULL),
	    THERMIONIC_OK);
	assert_int_equal(
	    thermionic_request(f->client, "GET", "/1.0", NULL, NULL, NULL),
	    THERMIONIC_OK);
	assert_int_equal(fake_server_n_connections(&f->server), 2);
}

static void test_connect_failure(void **state)
{
	struct thermionic_client *c;
	(void)state;
	assert_int_equal(
	    thermionic_connect_unix("/nonexistent/thermionic.socket", &c),
	    THERMIONIC_OK);
	assert_int_equal(thermionic_request(c, "GET", "/1.0", NULL, NULL, NULL),
			 THERMIONIC_ERR_CONNECT);
	assert_int_equal(thermionic_status(c), 0);
	assert_non_null(
	    strstr(thermionic_errmsg(c), "/nonexistent/thermionic.socket"));
	thermionic_close(c);
}

static void test_timeout(void **state)
{
	struct fixture *f = *state;
	struct fake_reply r = {.hang = true};
	long long start = now_ms();
	fake_server_script(&f->server, &r, 1);
	thermionic_set_timeout(f->client, 200);
	assert_int_equal(
	    thermionic_request(f->client, "GET", "/1.0", NULL, NULL, NULL),
	    THERMIONIC_ERR_TIMEOUT);
	assert_true(now_ms() - start >= 190);
	assert_true(now_ms() - start < 5000);
}

static void test_response_too_big(void **state)
{
	struct fixture *f = *state;
	struct fake_reply r = {
	    .status = 200,
	    .fake_length = THERMIONIC_MAX_BODY_BYTES + 1,
	};
	fake_server_script(&f->server, &r, 1);
	assert_int_equal(
	    thermionic_request(f->client, "GET", "/1.0", NULL, NULL, NULL),
	    THERMIONIC_ERR_TOOBIG);
}

static void test_invalid_requests(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(
	    thermionic_request(f->client, "GET", "1.0", NULL, NULL, NULL),
	    THERMIONIC_ERR_INVALID);
	assert_int_equal(
	    thermionic_request(f->client, "get", "/1.0", NULL, NULL, NULL),
	    THERMIONIC_ERR_INVALID);
	assert_int_equal(
	    thermionic_request(f->client, "GET", "/1.0 x", NULL, NULL, NULL),
	    THERMIONIC_ERR_INVALID);
	assert_int_equal(thermionic_request(f->client, "GET", "/1.0", NULL,
					    "a\r\nX-Evil: 1", NULL),
			 THERMIONIC_ERR_INVALID);
	assert_int_equal(thermionic_trust_remove(f->client, "abcd"),
			 THERMIONIC_ERR_INVALID);
	assert_int_equal(thermionic_config_set(f->client, "", "v", NULL),
			 THERMIONIC_ERR_INVALID);
	assert_int_equal(fake_server_n_requests(&f->server), 0);
	assert_int_equal(thermionic_request(NULL, "GET", "/", NULL, NULL, NULL),
			 THERMIONIC_ERR_INVALID);
}

static void test_connect_arguments(void **state)
{
	struct thermionic_client *c = (void *)1;
	(void)state;
	assert_int_equal(thermionic_connect_unix("", &c),
			 THERMIONIC_ERR_INVALID);
	assert_null(c);
	assert_int_equal(thermionic_connect_https("host", NULL, NULL, NULL, &c),
			 THERMIONIC_ERR_INVALID);
	assert_int_equal(
	    thermionic_connect_https("host:0", NULL, NULL, NULL, &c),
	    THERMIONIC_ERR_INVALID);
	assert_int_equal(
	    thermionic_connect_https("a/b:1", NULL, NULL, NULL, &c),
	    THERMIONIC_ERR_INVALID);
	assert_int_equal(
	    thermionic_connect_https("h:1", "c.pem", NULL, NULL, &c),
	    THERMIONIC_ERR_INVALID);
	assert_int_equal(thermionic_connect_https("h:1", NULL, NULL, "abc", &c),
			 THERMIONIC_ERR_INVALID);
	assert_int_equal(
	    thermionic_connect_https("[::1]:8443", NULL, NULL, NULL, &c),
	    THERMIONIC_OK);
	assert_null(thermionic_server_fingerprint(c));
	thermionic_close(c);
}

static void test_fingerprint_normalize(void **state)
{
	char out[THERMIONIC_FINGERPRINT_LEN + 1];
	const char *colons = "AB:CD:EF:01:23:45:67:89:ab:cd:ef:01:23:45:67:"
			     "89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:"
			     "67:89";
	(void)state;
	assert_int_equal(thermionic_fingerprint_normalize(colons, out), 0);
	assert_string_equal(out, "abcdef0123456789abcdef0123456789abcdef012345"
				 "6789abcdef0123456789");
	assert_int_equal(thermionic_fingerprint_normalize("abc", out),
			 THERMIONIC_ERR_INVALID);
	assert_int_equal(
	    thermionic_fingerprint_normalize("zz0000000000000000000000000000000"
					     "0000000000000000000000000000000",
					     out),
	    THERMIONIC_ERR_INVALID);
	assert_string_equal(thermionic_strerror(THERMIONIC_ERR_PIN),
			    "server certificate does not match the pin");
	assert_string_equal(thermionic_strerror(999), "unknown error");
}

static void test_config_helpers(void **state)
{
	struct fixture *f = *state;
	cJSON *config = NULL;
	cJSON *changes;
	char *etag = NULL;

	fake_server_sync(&f->server, "{\"core.https_address\":\":8443\"}",
			 "ETag: \"e7\"\r\n");
	assert_int_equal(thermionic_config_get(f->client, &config, &etag),
			 THERMIONIC_OK);
	assert_string_equal(etag, "\"e7\"");
	assert_string_equal(
	    cJSON_GetObjectItem(config, "core.https_address")->valuestring,
	    ":8443");
	cJSON_Delete(config);

	fake_server_sync(&f->server, "{}", NULL);
	assert_int_equal(thermionic_config_set(f->client, "user.a", "b", etag),
			 THERMIONIC_OK);
	assert_request(&f->server, 1, "PATCH /1.0/config");
	assert_body(&f->server, 1, "{\"user.a\":\"b\"}");
	assert_header(&f->server, 1, "If-Match", "\"e7\"");
	thermionic_free(etag);

	fake_server_sync(&f->server, "{}", NULL);
	assert_int_equal(thermionic_config_unset(f->client, "user.a", NULL),
			 THERMIONIC_OK);
	assert_body(&f->server, 2, "{\"user.a\":null}");

	fake_server_sync(&f->server, "{}", NULL);
	changes = cJSON_CreateObject();
	cJSON_AddStringToObject(changes, "user.x", "1");
	assert_int_equal(thermionic_config_replace(f->client, changes, NULL),
			 THERMIONIC_OK);
	assert_request(&f->server, 3, "PUT /1.0/config");
	assert_body(&f->server, 3, "{\"user.x\":\"1\"}");
	cJSON_Delete(changes);

	fake_server_error(&f->server, 412, "ETag mismatch");
	assert_int_equal(
	    thermionic_config_set(f->client, "user.a", "b", "\"old\""),
	    THERMIONIC_ERR_HTTP);
	assert_int_equal(thermionic_status(f->client), 412);

	/* Values must be strings. */
	fake_server_sync(&f->server, "{\"a\":1}", NULL);
	assert_int_equal(thermionic_config_get(f->client, &config, &etag),
			 THERMIONIC_ERR_PROTO);
	assert_null(config);
	assert_null(etag);
}

static void test_trust_helpers(void **state)
{
	struct fixture *f = *state;
	const char *fp =
	    "ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789";
	cJSON *list = NULL;
	cJSON *entry = NULL;

	fake_server_sync(&f->server,
			 "[{\"fingerprint\":\"ab\",\"name\":\"n\",\"type\":"
			 "\"client\",\"added_at\":1}]",
			 NULL);
	assert_int_equal(thermionic_trust_list(f->client, &list),
			 THERMIONIC_OK);
	assert_int_equal(cJSON_GetArraySize(list), 1);
	cJSON_Delete(list);

	fake_server_sync(&f->server, "{\"fingerprint\":\"ab\"}", NULL);
	assert_int_equal(thermionic_trust_list(f->client, &list),
			 THERMIONIC_ERR_PROTO);
	assert_null(list);

	fake_server_sync(&f->server, "{\"fingerprint\":\"ab\",\"name\":\"x\"}",
			 NULL);
	assert_int_equal(thermionic_trust_add(f->client, "PEM", "x", &entry),
			 THERMIONIC_OK);
	assert_request(&f->server, 2, "POST /1.0/certificates");
	assert_body(&f->server, 2, "{\"certificate\":\"PEM\",\"name\":\"x\"}");
	cJSON_Delete(entry);

	fake_server_error(&f->server, 409, "certificate already trusted");
	assert_int_equal(thermionic_trust_add(f->client, "PEM", NULL, NULL),
			 THERMIONIC_ERR_HTTP);
	assert_body(&f->server, 3, "{\"certificate\":\"PEM\"}");
	assert_int_equal(thermionic_status(f->client), 409);

	fake_server_sync(&f->server, "{\"fingerprint\":\"abcd00\"}", NULL);
	assert_int_equal(thermionic_trust_get(f->client, "ABCD", &entry),
			 THERMIONIC_OK);
	assert_request(&f->server, 4, "GET /1.0/certificates/abcd");
	cJSON_Delete(entry);

	fake_server_error(&f->server, 404, "not found");
	assert_int_equal(thermionic_trust_remove(f->client, fp),
			 THERMIONIC_ERR_HTTP);
	assert_request(&f->server, 5,
		       "DELETE /1.0/certificates/abcdef0123456789abcdef012345"
		       "6789abcdef0123456789abcdef0123456789");
	assert_int_equal(thermionic_status(f->client), 404);
}

static void test_info_and_ready(void **state)
{
	struct fixture *f = *state;
	cJSON *info = NULL;
	bool ready = true;

	fake_server_sync(&f->server, "{\"api_version\":\"1.0\"}", NULL);
	assert_int_equal(thermionic_server_info(f->client, &info),
			 THERMIONIC_OK);
	assert_string_equal(
	    cJSON_GetObjectItem(info, "api_version")->valuestring, "1.0");
	cJSON_Delete(info);

	fake_server_sync(&f->server, "[]", NULL);
	assert_int_equal(thermionic_server_info(f->client, &info),
			 THERMIONIC_ERR_PROTO);
	assert_null(info);

	fake_server_error(&f->server, 503, "daemon not ready");
	assert_int_equal(thermionic_ready(f->client, &ready), THERMIONIC_OK);
	assert_false(ready);
	assert_string_equal(thermionic_errmsg(f->client), "");
	fake_server_sync(&f->server, "{\"ready\":true}", NULL);
	assert_int_equal(thermionic_ready(f->client, &ready), THERMIONIC_OK);
	assert_true(ready);
	fake_server_error(&f->server, 403, "not authorized");
	assert_int_equal(thermionic_ready(f->client, &ready),
			 THERMIONIC_ERR_HTTP);
	assert_request(&f->server, 4, "GET /1.0/ready");
}

static void test_wait_ready_polls(void **state)
{
	struct fixture *f = *state;
	long long start = now_ms();
	fake_server_error(&f->server, 503, "daemon not ready");
	fake_server_error(&f->server, 503, "daemon not ready");
	fake_server_sync(&f->server, "{\"ready\":true}", NULL);
	assert_int_equal(thermionic_wait_ready(f->client, 10000),
			 THERMIONIC_OK);
	assert_int_equal(fake_server_n_requests(&f->server), 3);
	/* Two pauses of one poll interval each. */
	assert_true(now_ms() - start >= 2 * THERMIONIC_POLL_INTERVAL_MS - 10);
	assert_string_equal(thermionic_errmsg(f->client), "");
}

static void test_wait_ready_gives_up_on_other_errors(void **state)
{
	struct fixture *f = *state;
	fake_server_error(&f->server, 403, "not authorized");
	assert_int_equal(thermionic_wait_ready(f->client, 10000),
			 THERMIONIC_ERR_HTTP);
	assert_string_equal(thermionic_errmsg(f->client), "not authorized");
	assert_int_equal(fake_server_n_requests(&f->server), 1);
}

static void test_wait_ready_deadline(void **state)
{
	struct thermionic_client *c;
	long long start = now_ms();
	(void)state;
	assert_int_equal(thermionic_connect_unix("/nonexistent/sock", &c),
			 THERMIONIC_OK);
	assert_int_equal(thermionic_wait_ready(c, 350), THERMIONIC_ERR_TIMEOUT);
	assert_true(now_ms() - start >= 350);
	assert_true(now_ms() - start < 5000);
	assert_non_null(strstr(thermionic_errmsg(c), "not ready after 350"));
	assert_non_null(strstr(thermionic_errmsg(c), "/nonexistent/sock"));
	thermionic_close(c);
}

static void test_shutdown_and_wait_stopped(void **state)
{
	struct fixture *f = *state;
	struct fake_reply r = {
	    .status = 200,
	    .body = "{\"type\":\"sync\",\"metadata\":{}}",
	    .close = true,
	};
	fake_server_script(&f->server, &r, 1);
	assert_int_equal(thermionic_shutdown(f->client), THERMIONIC_OK);
	assert_request(&f->server, 0, "PUT /1.0/shutdown");
	/* Still answering: the wait runs into its deadline. */
	for (int i = 0; i < 8; i++) {
		fake_server_sync(&f->server, "{}", NULL);
	}
	assert_int_equal(thermionic_wait_stopped(f->client, 250),
			 THERMIONIC_ERR_TIMEOUT);
	assert_true(fake_server_n_requests(&f->server) >= 2);
	/* Gone: the wait returns. */
	fake_server_stop(&f->server);
	assert_int_equal(thermionic_wait_stopped(f->client, 5000),
			 THERMIONIC_OK);
	fake_server_start_unix(&f->server); /* for teardown */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_sync_envelope, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(
		test_null_metadata_and_discarded_response, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_error_envelope, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_error_type_with_200, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_non_envelope_answers, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_body_and_if_match, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_keep_alive, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reconnects_after_close, setup,
					    teardown),
	    cmocka_unit_test(test_connect_failure),
	    cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_response_too_big, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_invalid_requests, setup,
					    teardown),
	    cmocka_unit_test(test_connect_arguments),
	    cmocka_unit_test(test_fingerprint_normalize),
	    cmocka_unit_test_setup_teardown(test_config_helpers, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_trust_helpers, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_info_and_ready, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_wait_ready_polls, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(
		test_wait_ready_gives_up_on_other_errors, setup, teardown),
	    cmocka_unit_test(test_wait_ready_deadline),
	    cmocka_unit_test_setup_teardown(test_shutdown_and_wait_stopped,
					    setup, teardown),
	};
	return cmocka_run_group_tests_name("client-lib", tests, NULL, NULL);
}

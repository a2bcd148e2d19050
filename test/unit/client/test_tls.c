/* libthermionic over HTTPS: TLS 1.3, client certificates, and server
 * pinning by fingerprint inside the handshake. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "pkg/thermionic.h"
#include "test/unit/client/fake_server.h"

struct fixture {
	X509 *server_cert;
	EVP_PKEY *server_key;
	char server_fp[65];
	X509 *other_cert;
	EVP_PKEY *other_key;
	char other_fp[65];
	X509 *client_cert;
	EVP_PKEY *client_key;
	char client_fp[65];
	char dir[64];
	char cert_path[128];
	char key_path[128];
	char address[64];
	struct fake_server server;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	fake_cert_make("server", &f->server_cert, &f->server_key);
	fake_cert_fingerprint(f->server_cert, f->server_fp);
	fake_cert_make("other", &f->other_cert, &f->other_key);
	fake_cert_fingerprint(f->other_cert, f->other_fp);
	fake_cert_make("therm@test", &f->client_cert, &f->client_key);
	fake_cert_fingerprint(f->client_cert, f->client_fp);
	strcpy(f->dir, "/tmp/thermc-tls-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->cert_path, sizeof f->cert_path, "%s/client.crt", f->dir);
	snprintf(f->key_path, sizeof f->key_path, "%s/client.key", f->dir);
	fake_cert_write(f->cert_path, f->key_path, f->client_cert,
			f->client_key);
	fake_server_start_tls(&f->server, f->server_cert, f->server_key, 0);
	snprintf(f->address, sizeof f->address, "127.0.0.1:%d", f->server.port);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	fake_server_stop(&f->server);
	unlink(f->cert_path);
	unlink(f->key_path);
	rmdir(f->dir);
	X509_free(f->server_cert);
	EVP_PKEY_free(f->server_key);
	X509_free(f->other_cert);
	EVP_PKEY_free(f->other_key);
	X509_free(f->client_cert);
	EVP_PKEY_free(f->client_key);
	free(f);
	return 0;
}

/* The server thread counts a failed handshake after the client gave up;
 * wait for it with a deadline. */
static int wait_handshake_failures(struct fake_server *s, int want)
{
	struct timespec pause = {.tv_nsec = 5 * 1000 * 1000};
	for (int i = 0; i < 1000; i++) {
		int n;
		pthread_mutex_lock(&s->lock);
		n = s->n_handshake_failures;
		pthread_mutex_unlock(&s->lock);
		if (n >= want) {
			return n;
		}
		nanosleep(&pause, NULL);
	}
	return -1;
}

static void test_pinned_match(void **state)
{
	struct fixture *f = *state;
	struct thermionic_client *c;
	char upper[65];

	for (int i = 0; i < 64; i++) {
		upper[i] = (char)(f->server_fp[i] >= 'a' ? f->server_fp[i] - 32
							 : f->server_fp[i]);
	}
	upper[64] = '\0';
	assert_int_equal(thermionic_connect_https(f->address, f->cert_path,
						  f->key_path, upper, &c),
			 THERMIONIC_OK);
	fake_server_sync(&f->server, "{\"auth\":\"trusted\"}", NULL);
	fake_server_sync(&f->server, "{}", NULL);
	assert_int_equal(thermionic_request(c, "GET", "/1.0", NULL, NULL, NULL),
			 THERMIONIC_OK);
	assert_int_equal(thermionic_request(c, "GET", "/1.0", NULL, NULL, NULL),
			 THERMIONIC_OK);
	assert_string_equal(thermionic_server_fingerprint(c), f->server_fp);
	/* Mutual TLS 1.3 on one kept-alive connection. */
	assert_string_equal(f->server.client_fingerprint, f->client_fp);
	assert_int_equal(f->server.tls_version, TLS1_3_VERSION);
	assert_int_equal(fake_server_n_connections(&f->server), 1);
	thermionic_close(c);
}

static void test_pin_mismatch_sends_nothing(void **state)
{
	struct fixture *f = *state;
	struct thermionic_client *c;
	char expected[256];

	assert_int_equal(thermionic_connect_https(f->address, f->cert_path,
						  f->key_path, f->other_fp, &c),
			 THERMIONIC_OK);
	fake_server_sync(&f->server, "{}", NULL);
	assert_int_equal(thermionic_request(c, "GET", "/1.0", NULL, NULL, NULL),
			 THERMIONIC_ERR_PIN);
	snprintf(expected, sizeof expected,
		 "server certificate fingerprint %s does not match pinned %s",
		 f->server_fp, f->other_fp);
	assert_string_equal(thermionic_errmsg(c), expected);
	assert_int_equal(thermionic_status(c), 0);
	assert_null(thermionic_server_fingerprint(c));
	assert_int_equal(wait_handshake_failures(&f->server, 1), 1);
	assert_int_equal(fake_server_n_requests(&f->server), 0);
	thermionic_close(c);
}

static void test_trust_on_first_use(void **state)
{
	struct fixture *f = *state;
	struct thermionic_client *c;
	struct fake_reply closing = {
	    .status = 200,
	    .body = "{\"type\":\"sync\",\"metadata\":{}}",
	    .close = true,
	};

	assert_int_equal(
	    thermionic_connect_https(f->address, NULL, NULL, NULL, &c),
	    THERMIONIC_OK);
	assert_null(thermionic_server_fingerprint(c));
	fake_server_script(&f->server, &closing, 1);
	assert_int_equal(thermionic_request(c, "GET", "/1.0", NULL, NULL, NULL),
			 THERMIONIC_OK);
	assert_string_equal(thermionic_server_fingerprint(c), f->server_fp);
	/* No client certificate was presented. */
	assert_string_equal(f->server.client_fingerprint, "");

	/* The same client is now pinned: a reconnection to a server with
	 * another certificate on the same port fails. */
	{
		int port = f->server.port;
		fake_server_stop(&f->server);
		fake_server_start_tls(&f->server, f->other_cert, f->other_key,
				      port);
	}
	fake_server_sync(&f->server, "{}", NULL);
	assert_int_equal(thermionic_request(c, "GET", "/1.0", NULL, NULL, NULL),
			 THERMIONIC_ERR_PIN);
	assert_non_null(strstr(thermionic_errmsg(c), f->other_fp));
	assert_int_equal(fake_server_n_requests(&f->server), 0);
	assert_string_equal(thermionic_server_fingerprint(c), f->server_fp);
	thermionic_close(c);
}

static void test_missing_client_cert(void **state)
{
	struct fixture *f = *state;
	struct thermionic_client *c;
	assert_int_equal(thermionic_connect_https(f->address,
						  "/nonexistent/client.crt",
						  f->key_path, NULL, &c),
			 THERMIONIC_OK);
	assert_int_equal(thermionic_request(c, "GET", "/1.0", NULL, NULL, NULL),
			 THERMIONIC_ERR_TLS);
	assert_non_null(
	    strstr(thermionic_errmsg(c), "/nonexistent/client.crt"));
	assert_int_equal(fake_server_n_connections(&f->server), 0);
	thermionic_close(c);
}

static int accept_any_cb(int preverify, X509_STORE_CTX *store)
{
	(void)preverify;
	(void)store;
	return 1;
}

/* A server that insists on a client certificate refuses us after our
 * side of the TLS 1.3 handshake: a TLS error, not a connection one. */
static void test_server_refuses_client(void **state)
{
	struct fixture *f = *state;
	struct thermionic_client *c;
	int rv;

	SSL_CTX_set_verify(f->server.tls,
			   SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
			   accept_any_cb);
	assert_int_equal(
	    thermionic_connect_https(f->address, NULL, NULL, NULL, &c),
	    THERMIONIC_OK);
	rv = thermionic_request(c, "GET", "/1.0", NULL, NULL, NULL);
	if (rv != THERMIONIC_ERR_TLS ||
	    strstr(thermionic_errmsg(c), "alert") == NULL) {
		fail_msg("rv %d: %s", rv, thermionic_errmsg(c));
	}
	assert_int_equal(fake_server_n_requests(&f->server), 0);
	thermionic_close(c);
}

static void test_tls_connect_refused(void **state)
{
	struct fixture *f = *state;
	struct thermionic_client *c;
	char address[64];
	int port = f->server.port;

	fake_server_stop(&f->server);
	snprintf(address, sizeof address, "127.0.0.1:%d", port);
	assert_int_equal(
	    thermionic_connect_https(address, NULL, NULL, NULL, &c),
	    THERMIONIC_OK);
	assert_int_equal(thermionic_request(c, "GET", "/1.0", NULL, NULL, NULL),
			 THERMIONIC_ERR_CONNECT);
	assert_non_null(strstr(thermionic_errmsg(c), address));
	thermionic_close(c);
	fake_server_start_tls(&f->server, f->server_cert, f->server_key, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_pinned_match, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pin_mismatch_sends_nothing,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_trust_on_first_use, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_missing_client_cert, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_server_refuses_client, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_tls_connect_refused, setup,
					    teardown),
	};
	return cmocka_run_group_tests_name("client-tls", tests, NULL, NULL);
}

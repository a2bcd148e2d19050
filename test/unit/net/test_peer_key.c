/* conn_peer_key_weakness after a real handshake: a client certificate
 * with a weak key is reported, a strong one is not. */
#include <stdio.h>
#include <string.h>

#include "internal/lib/mem.h"
#include "test/unit/net/harness.h"
#include "test/unit/tls/certgen.h"

#define H(state) ((struct harness *)*(state))

/* A TLS 1.3 client context presenting a certificate for KEY (owned). The
 * client's own security level is lowered: an old client (the one we must
 * refuse) would not check its own key. */
static SSL_CTX *client_ctx_with_key(EVP_PKEY *key)
{
	X509 *cert = certgen_self_signed(key);
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	assert_non_null(ctx);
	SSL_CTX_set_security_level(ctx, 0);
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	assert_int_equal(SSL_CTX_use_certificate(ctx, cert), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(ctx, key), 1);
	X509_free(cert);
	EVP_PKEY_free(key);
	return ctx;
}

static void test_weak_rsa_client_key_reported(void **state)
{
	struct harness *h = H(state);
	SSL_CTX *ctx = client_ctx_with_key(certgen_rsa(1024));
	harness_connect_pair(h, ctx);
	assert_non_null(conn_peer_fingerprint(h->server.c));
	const char *why = conn_peer_key_weakness(h->server.c);
	assert_non_null(why);
	assert_non_null(strstr(why, "RSA key of 1024 bits is too weak"));
	SSL_CTX_free(ctx); /* the conn's SSL keeps its own reference */
}

static void test_strong_client_key_not_reported(void **state)
{
	struct harness *h = H(state);
	harness_connect_pair(h, h->client_ctx);
	assert_non_null(conn_peer_fingerprint(h->server.c));
	assert_null(conn_peer_key_weakness(h->server.c));
}

static void test_no_client_certificate_not_reported(void **state)
{
	struct harness *h = H(state);
	harness_connect_pair(h, h->anon_client_ctx);
	assert_null(conn_peer_key_weakness(h->server.c));
}

#define T(name)                                                                \
	cmocka_unit_test_setup_teardown(name, harness_setup, harness_teardown)

int test_peer_key_run(void);
int test_peer_key_run(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_weak_rsa_client_key_reported),
	    T(test_strong_client_key_not_reported),
	    T(test_no_client_certificate_not_reported),
	};
	return cmocka_run_group_tests_name("net-peer-key", tests, NULL, NULL);
}

/* Weak keys are refused when a certificate is parsed for the trust store
 * (and by tls_check_key_strength, which authentication uses too). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "internal/lib/err.h"
#include "internal/lib/mem.h"
#include "internal/tls/tls.h"
#include "test/unit/tls/certgen.h"

/* Parse a certificate for KEY (owned, freed here); returns tls_cert_parse's
 * result with its message in ERRMSG. */
static int parse_with_key(EVP_PKEY *key, char *errmsg)
{
	X509 *cert = certgen_self_signed(key);
	char *pem = certgen_pem(cert);
	char fp[TLS_FINGERPRINT_LEN + 1];
	char *canonical = NULL;
	char *cn = NULL;
	int rv = tls_cert_parse(pem, &canonical, fp, &cn, errmsg);
	tm_free(canonical);
	tm_free(cn);
	tm_free(pem);
	X509_free(cert);
	EVP_PKEY_free(key);
	return rv;
}

static void test_rsa_1024_refused(void **state)
{
	(void)state;
	char errmsg[TM_ERRMSG_SIZE];
	assert_int_equal(parse_with_key(certgen_rsa(1024), errmsg), TM_INVALID);
	assert_string_equal(errmsg, "RSA key of 1024 bits is too weak (use "
				    "RSA of at least 2048 bits, or EC P-256 "
				    "or larger)");
}

static void test_ec_p224_refused(void **state)
{
	(void)state;
	char errmsg[TM_ERRMSG_SIZE];
	assert_int_equal(parse_with_key(certgen_ec("P-224"), errmsg),
			 TM_INVALID);
	assert_string_equal(errmsg, "EC key of 224 bits is too weak (use RSA "
				    "of at least 2048 bits, or EC P-256 or "
				    "larger)");
}

static void test_strong_keys_accepted(void **state)
{
	(void)state;
	char errmsg[TM_ERRMSG_SIZE];
	assert_int_equal(parse_with_key(certgen_rsa(2048), errmsg), 0);
	assert_int_equal(parse_with_key(certgen_ec("P-256"), errmsg), 0);
	assert_int_equal(parse_with_key(certgen_ec("P-384"), errmsg), 0);
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	assert_non_null(ed);
	assert_int_equal(parse_with_key(ed, errmsg), 0);
}

static void test_no_key(void **state)
{
	(void)state;
	char errmsg[TM_ERRMSG_SIZE];
	assert_int_equal(tls_check_key_strength(NULL, errmsg), TM_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rsa_1024_refused),
	    cmocka_unit_test(test_ec_p224_refused),
	    cmocka_unit_test(test_strong_keys_accepted),
	    cmocka_unit_test(test_no_key),
	};
	return cmocka_run_group_tests_name("tls-key-strength", tests, NULL,
					   NULL);
}

/* See certgen.h. Failures abort the test: these calls do not fail on a
 * working OpenSSL. */
#include "test/unit/tls/certgen.h"

#include <stdio.h>
#include <stdlib.h>

#include <openssl/pem.h>

#include "internal/lib/mem.h"

static void certgen_check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "certgen: %s failed\n", what);
		abort();
	}
}

EVP_PKEY *certgen_rsa(unsigned bits)
{
	EVP_PKEY *key = EVP_RSA_gen(bits);
	certgen_check(key != NULL, "EVP_RSA_gen");
	return key;
}

EVP_PKEY *certgen_ec(const char *curve)
{
	EVP_PKEY *key = EVP_EC_gen(curve);
	certgen_check(key != NULL, "EVP_EC_gen");
	return key;
}

X509 *certgen_self_signed(EVP_PKEY *key)
{
	X509 *x = X509_new();
	certgen_check(x != NULL, "X509_new");
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	X509_NAME *name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				   (const unsigned char *)"test", -1, -1, 0);
	X509_set_issuer_name(x, name);
	/* EdDSA signs without a separate digest. */
	const EVP_MD *md =
	    EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? NULL : EVP_sha256();
	certgen_check(X509_sign(x, key, md) > 0, "X509_sign");
	return x;
}

char *certgen_pem(X509 *cert)
{
	BIO *bio = BIO_new(BIO_s_mem());
	certgen_check(bio != NULL && PEM_write_bio_X509(bio, cert) == 1,
		      "PEM_write_bio_X509");
	char *data;
	long len = BIO_get_mem_data(bio, &data);
	char *pem = tm_strndup(data, (size_t)len);
	BIO_free(bio);
	return pem;
}

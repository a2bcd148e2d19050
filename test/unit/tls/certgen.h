/* Test certificates with chosen keys (weak ones included), made with
 * OpenSSL's API. Shared by the tls and net unit tests. */
#ifndef TM_TEST_CERTGEN_H
#define TM_TEST_CERTGEN_H

#include <openssl/evp.h>
#include <openssl/x509.h>

/* New keys; owned (EVP_PKEY_free). */
EVP_PKEY *certgen_rsa(unsigned bits);
EVP_PKEY *certgen_ec(const char *curve); /* "P-256", "P-224"... */
/* A self-signed certificate for KEY (borrowed), CN=test; owned. */
X509 *certgen_self_signed(EVP_PKEY *key);
/* PEM text of CERT, owned (tm_free). */
char *certgen_pem(X509 *cert);

#endif /* TM_TEST_CERTGEN_H */

/* Server authentication by certificate fingerprint.
 *
 * libcurl (built against OpenSSL) hands us each new SSL_CTX through
 * CURLOPT_SSL_CTX_FUNCTION before the handshake starts. We replace
 * OpenSSL's chain verification with our own callback, which compares the
 * SHA-256 of the leaf certificate's DER with the pin, and require
 * verification (SSL_VERIFY_PEER) so that a refusal aborts the handshake:
 * with a wrong server no HTTP byte is ever written.
 *
 * Without a pin, the first certificate seen is accepted and remembered;
 * later handshakes on the same client (reconnections) must present the
 * same one. */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "pkg/internal.h"

int tmc_fingerprint_x509(void *x509, char *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (x509 == NULL || X509_digest(x509, EVP_sha256(), md, &len) != 1 ||
	    len * 2 != THERMIONIC_FINGERPRINT_LEN) {
		return THERMIONIC_ERR_TLS;
	}
	for (unsigned int i = 0; i < len; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0x0f];
	}
	out[THERMIONIC_FINGERPRINT_LEN] = '\0';
	return THERMIONIC_OK;
}

/* SSL_CTX_set_cert_verify_callback: returns 1 to accept the peer's
 * chain, 0 to fail the handshake. */
static int pin_verify_cb(X509_STORE_CTX *store, void *arg)
{
	struct thermionic_client *c = arg;
	char fp[THERMIONIC_FINGERPRINT_LEN + 1];
	const char *want = NULL;

	if (tmc_fingerprint_x509(X509_STORE_CTX_get0_cert(store), fp) != 0) {
		snprintf(c->pin_msg, sizeof c->pin_msg,
			 "server presented no usable certificate");
		c->pin_failed = true;
		X509_STORE_CTX_set_error(store, X509_V_ERR_UNSPECIFIED);
		return 0;
	}
	if (c->have_pin) {
		want = c->pin;
	} else if (c->have_seen) {
		want = c->seen;
	}
	if (want != NULL && strcmp(fp, want) != 0) {
		snprintf(c->pin_msg, sizeof c->pin_msg,
			 "server certificate fingerprint %s does not match "
			 "pinned %s",
			 fp, want);
		c->pin_failed = true;
		X509_STORE_CTX_set_error(store,
					 X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	memcpy(c->seen, fp, sizeof fp);
	c->have_seen = true;
	X509_STORE_CTX_set_error(store, X509_V_OK);
	return 1;
}

CURLcode tmc_pin_sslctx_cb(CURL *curl, void *ssl_ctx, void *parm)
{
	SSL_CTX *ctx = ssl_ctx;
	(void)curl;
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1) {
		return CURLE_SSL_CIPHER;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_cert_verify_callback(ctx, pin_verify_cb, parm);
	return CURLE_OK;
}

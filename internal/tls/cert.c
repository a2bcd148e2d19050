/* Certificates as data: fingerprints, strict parsing of PEM text from users,
 * and turning OpenSSL's error queue into an errmsg. */
#include "internal/tls/tls.h"

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "internal/lib/assert.h"
#include "internal/lib/err.h"
#include "internal/lib/mem.h"

void tls_errmsg_from_queue(char *errmsg, const char *what)
{
	char buf[TM_ERRMSG_SIZE];
	size_t used = 0;
	unsigned long last = 0;
	unsigned long e;
	const char *data;
	int flags;

	buf[0] = '\0';
	while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
		if (e == last || used >= sizeof buf - 1) {
			continue; /* drain the rest of the queue anyway */
		}
		last = e;
		const char *reason = ERR_reason_error_string(e);
		char code[32];
		if (reason == NULL) {
			snprintf(code, sizeof code, "error %lx", e);
			reason = code;
		}
		bool has_data =
		    (flags & ERR_TXT_STRING) && data != NULL && data[0] != '\0';
		int n =
		    snprintf(buf + used, sizeof buf - used, "%s%s%s%s%s",
			     used > 0 ? "; " : "", reason, has_data ? " (" : "",
			     has_data ? data : "", has_data ? ")" : "");
		if (n > 0) {
			used += (size_t)n;
		}
	}
	if (used >= sizeof buf) {
		used = sizeof buf - 1;
	}
	buf[used] = '\0';
	tm_errmsg_printf(errmsg, "%s: %s", what,
			 used > 0 ? buf : "unknown TLS error");
}

int tls_fingerprint_x509(X509 *cert, char *out)
{
	PRE(cert != NULL && out != NULL);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	if (X509_digest(cert, EVP_sha256(), md, &n) != 1 ||
	    n * 2 != TLS_FINGERPRINT_LEN) {
		ERR_clear_error();
		out[0] = '\0';
		return TM_TLS;
	}
	static const char hex[] = "0123456789abcdef";
	for (unsigned int i = 0; i < n; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xf];
	}
	out[TLS_FINGERPRINT_LEN] = '\0';
	return 0;
}

int tls_fingerprint_pem(const char *pem, char *out, char *errmsg)
{
	PRE(pem != NULL && out != NULL);
	ERR_clear_error();
	BIO *bio = BIO_new_mem_buf(pem, -1);
	if (bio == NULL) {
		tls_errmsg_from_queue(errmsg, "read certificate");
		return TM_TLS;
	}
	X509 *cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (cert == NULL) {
		tls_errmsg_from_queue(errmsg, "not a PEM certificate");
		return TM_INVALID;
	}
	int rv = tls_fingerprint_x509(cert, out);
	if (rv != 0) {
		tm_errmsg_printf(errmsg, "certificate digest failed");
	}
	X509_free(cert);
	return rv;
}

int tls_peer_fingerprint(SSL *ssl, char *out)
{
	PRE(ssl != NULL && out != NULL);
	X509 *cert = SSL_get0_peer_certificate(ssl);
	if (cert == NULL) {
		out[0] = '\0';
		return TM_NOTFOUND;
	}
	return tls_fingerprint_x509(cert, out);
}

/* Read the one PEM block of TEXT and decode it as a certificate. Anything
 * but exactly one "CERTIFICATE" block whose content is exactly one DER
 * certificate is refused. Text outside the block (comments, the output of
 * "openssl x509 -text") is ignored, as OpenSSL itself does. */
static int cert_decode_single(const char *text, X509 **out, char *errmsg)
{
	char *name = NULL;
	char *header = NULL;
	unsigned char *der = NULL;
	long der_len = 0;
	int rv = TM_INVALID;

	ERR_clear_error();
	BIO *bio = BIO_new_mem_buf(text, -1);
	if (bio == NULL) {
		tls_errmsg_from_queue(errmsg, "read certificate");
		return TM_TLS;
	}
	if (PEM_read_bio(bio, &name, &header, &der, &der_len) != 1) {
		ERR_clear_error();
		tm_errmsg_printf(errmsg, "no PEM certificate found (expected "
					 "\"-----BEGIN CERTIFICATE-----\")");
		goto err_after_bio;
	}
	if (strcmp(name, PEM_STRING_X509) != 0) {
		tm_errmsg_printf(errmsg,
				 "expected a PEM \"%s\" block, found \"%s\"",
				 PEM_STRING_X509, name);
		goto err_after_block;
	}
	const unsigned char *p = der;
	X509 *cert = d2i_X509(NULL, &p, der_len);
	if (cert == NULL) {
		tls_errmsg_from_queue(errmsg, "invalid X.509 certificate");
		goto err_after_block;
	}
	if (p != der + der_len) {
		tm_errmsg_printf(errmsg,
				 "invalid X.509 certificate: %ld "
				 "trailing bytes after the DER data",
				 (long)(der + der_len - p));
		X509_free(cert);
		goto err_after_block;
	}

	/* Is there another block after it? */
	char *name2 = NULL;
	char *header2 = NULL;
	unsigned char *der2 = NULL;
	long der2_len = 0;
	if (PEM_read_bio(bio, &name2, &header2, &der2, &der2_len) == 1) {
		tm_errmsg_printf(errmsg,
				 "expected exactly one certificate, found a "
				 "second PEM block (\"%s\")",
				 name2);
		OPENSSL_free(name2);
		OPENSSL_free(header2);
		OPENSSL_free(der2);
		X509_free(cert);
		goto err_after_block;
	}
	ERR_clear_error(); /* the expected "no start line" */
	*out = cert;
	rv = 0;

err_after_block:
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(der);
err_after_bio:
	BIO_free(bio);
	return rv;
}

static int cert_to_pem(X509 *cert, char **out, char *errmsg)
{
	BIO *bio = BIO_new(BIO_s_mem());
	if (bio == NULL || PEM_write_bio_X509(bio, cert) != 1) {
		tls_errmsg_from_queue(errmsg, "encode certificate");
		BIO_free(bio);
		return TM_TLS;
	}
	char *data;
	long len = BIO_get_mem_data(bio, &data);
	*out = tm_strndup(data, (size_t)len);
	BIO_free(bio);
	return 0;
}

static char *cert_common_name(X509 *cert)
{
	X509_NAME *subject = X509_get_subject_name(cert);
	int i = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
	if (i < 0) {
		return tm_strdup("");
	}
	ASN1_STRING *value =
	    X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i));
	unsigned char *utf8 = NULL;
	int n = ASN1_STRING_to_UTF8(&utf8, value);
	if (n < 0) {
		ERR_clear_error();
		return tm_strdup("");
	}
	char *cn = tm_strndup((const char *)utf8, (size_t)n);
	OPENSSL_free(utf8);
	return cn;
}

int tls_cert_parse(const char *pem, char **canonical_pem, char *fingerprint,
		   char **common_name, char *errmsg)
{
	PRE(pem != NULL);
	X509 *cert = NULL;
	int rv = cert_decode_single(pem, &cert, errmsg);
	if (rv != 0) {
		return rv;
	}
	if (X509_get0_pubkey(cert) == NULL) {
		ERR_clear_error();
		tm_errmsg_printf(errmsg, "invalid X.509 certificate: "
					 "unsupported or broken public key");
		rv = TM_INVALID;
		goto out;
	}
	rv = tls_check_key_strength(X509_get0_pubkey(cert), errmsg);
	if (rv != 0) {
		goto out;
	}
	char *canonical = NULL;
	if (canonical_pem != NULL) {
		rv = cert_to_pem(cert, &canonical, errmsg);
		if (rv != 0) {
			goto out;
		}
	}
	if (fingerprint != NULL) {
		rv = tls_fingerprint_x509(cert, fingerprint);
		if (rv != 0) {
			tm_errmsg_printf(errmsg, "certificate digest failed");
			tm_free(canonical);
			goto out;
		}
	}
	if (canonical_pem != NULL) {
		*canonical_pem = canonical;
	}
	if (common_name != NULL) {
		*common_name = cert_common_name(cert);
	}
out:
	X509_free(cert);
	return rv;
}

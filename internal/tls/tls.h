/* Certificates and TLS contexts (OpenSSL).
 *
 * Every member has its own key pair and self-signed certificate; clients
 * (therm) have one too. Certificates are identified by the lowercase hex
 * SHA-256 of their DER encoding (64 characters), the "fingerprint". */
#ifndef TM_TLS_H
#define TM_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

#define TLS_FINGERPRINT_LEN 64 /* hex characters, without the NUL */

/* Load CERT_PATH/KEY_PATH; if neither exists, generate a new ECDSA P-256
 * key and a self-signed certificate valid for 10 years with
 * CN=COMMON_NAME, SANs = the machine's hostname plus "127.0.0.1" and
 * "::1", and write them (key 0600, certificate 0644, both fsync'd).
 * If only one of them exists, fail: a half-written pair is not repaired
 * silently. SERVER selects the extended key usage (server+client auth for
 * members, client auth for therm). */
int tls_ensure_keypair(const char *cert_path, const char *key_path,
		       const char *common_name, bool server, char *errmsg);

/* Fingerprint of a PEM certificate (first certificate in the string).
 * OUT must hold TLS_FINGERPRINT_LEN + 1 bytes. */
int tls_fingerprint_pem(const char *pem, char *out, char *errmsg);
int tls_fingerprint_x509(X509 *cert, char *out);

/* Parse PEM text into a canonical PEM string (owned by the caller, tm_free)
 * and its fingerprint; rejects anything that is not exactly one valid
 * X.509 certificate, and certificates whose key is too weak
 * (tls_check_key_strength). Also returns the subject's CN (owned, may be
 * "") */
int tls_cert_parse(const char *pem, char **canonical_pem, char *fingerprint,
		   char **common_name, char *errmsg);

/* Server context: TLS 1.3 only, the member's certificate and key, asks
 * every client for a certificate but lets the handshake succeed without
 * one (authorisation is the application's job: trust store by
 * fingerprint). Owned by the caller: SSL_CTX_free. */
int tls_server_ctx(const char *cert_path, const char *key_path, SSL_CTX **out,
		   char *errmsg);

/* Replace the certificate and key CTX presents with CERT_PATH/KEY_PATH;
 * connections made from CTX afterwards use them (a member that becomes
 * part of a cluster serves the cluster certificate from then on). On
 * failure CTX is unchanged. */
int tls_ctx_use_keypair(SSL_CTX *ctx, const char *cert_path,
			const char *key_path, char *errmsg);

/* Client context: TLS 1.3 only, presents CERT/KEY if given (may be NULL),
 * does no CA verification: the caller pins the server by fingerprint
 * (tls_peer_fingerprint after the handshake). */
int tls_client_ctx(const char *cert_path, const char *key_path, SSL_CTX **out,
		   char *errmsg);

/* Is KEY (borrowed, may be NULL) strong enough to authenticate with? RSA
 * and DSA need 2048 bits, EC a curve of 256 bits or more. Otherwise
 * TM_INVALID and ERRMSG like "RSA key of 1024 bits is too weak (use RSA
 * of at least 2048 bits, or EC P-256 or larger)". */
int tls_check_key_strength(EVP_PKEY *key, char *errmsg);

/* Fingerprint of the peer's certificate on an established SSL, or
 * TM_NOTFOUND if the peer presented none. */
int tls_peer_fingerprint(SSL *ssl, char *out);

/* Drain OpenSSL's error queue into errmsg, prefixed with WHAT. */
void tls_errmsg_from_queue(char *errmsg, const char *what);

#endif /* TM_TLS_H */

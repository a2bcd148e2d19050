/* TLS contexts for the API port and for outgoing member-to-member calls.
 *
 * Both sides run TLS 1.3 only. Neither side checks the peer's chain: all
 * certificates are self-signed, and who may talk to whom is decided by the
 * application from the peer's certificate fingerprint. That is sound
 * because the TLS 1.3 CertificateVerify message, which OpenSSL always
 * checks, proves that the peer holds the private key of the certificate
 * it presented. */
#include "internal/tls/tls.h"

#include <stdio.h>

#include <openssl/err.h>

#include "internal/lib/assert.h"
#include "internal/lib/err.h"

/* Chain verification is replaced by fingerprint pinning (see above); the
 * certificate is kept on the SSL for tls_peer_fingerprint. */
static int tls_verify_accept_any_cb(int preverify_ok, X509_STORE_CTX *store)
{
	(void)preverify_ok;
	(void)store;
	return 1;
}

static SSL_CTX *ctx_new(const SSL_METHOD *method, char *errmsg)
{
	SSL_CTX *ctx = SSL_CTX_new(method);
	if (ctx == NULL) {
		tls_errmsg_from_queue(errmsg, "create TLS context");
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1) {
		tls_errmsg_from_queue(errmsg,
				      "restrict TLS context to TLS 1.3");
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, tls_verify_accept_any_cb);
	/* Connections sit on memory BIOs for their whole life; let OpenSSL
	 * drop its record buffers while a connection is idle. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	return ctx;
}

static int ctx_load_keypair(SSL_CTX *ctx, const char *cert_path,
			    const char *key_path, char *errmsg)
{
	char what[TM_ERRMSG_SIZE];
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1) {
		snprintf(what, sizeof what, "load certificate %s", cert_path);
		tls_errmsg_from_queue(errmsg, what);
		return TM_TLS;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM) != 1) {
		snprintf(what, sizeof what, "load key %s", key_path);
		tls_errmsg_from_queue(errmsg, what);
		return TM_TLS;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		ERR_clear_error();
		tm_errmsg_printf(errmsg, "key %s does not match certificate %s",
				 key_path, cert_path);
		return TM_TLS;
	}
	return 0;
}

int tls_ctx_use_keypair(SSL_CTX *ctx, const char *cert_path,
			const char *key_path, char *errmsg)
{
	PRE(ctx != NULL && cert_path != NULL && key_path != NULL);
	ERR_clear_error();
	/* Load into a scratch context first, so that a bad pair leaves CTX
	 * as it was. */
	SSL_CTX *scratch = ctx_new(TLS_server_method(), errmsg);
	if (scratch == NULL) {
		return TM_TLS;
	}
	int rv = ctx_load_keypair(scratch, cert_path, key_path, errmsg);
	SSL_CTX_free(scratch);
	if (rv == 0) {
		rv = ctx_load_keypair(ctx, cert_path, key_path, errmsg);
	}
	return rv;
}

int tls_server_ctx(const char *cert_path, const char *key_path, SSL_CTX **out,
		   char *errmsg)
{
	PRE(cert_path != NULL && key_path != NULL && out != NULL);
	ERR_clear_error();
	SSL_CTX *ctx = ctx_new(TLS_server_method(), errmsg);
	if (ctx == NULL) {
		return TM_TLS;
	}
	int rv = ctx_load_keypair(ctx, cert_path, key_path, errmsg);
	if (rv != 0) {
		SSL_CTX_free(ctx);
		return rv;
	}
	/* No resumption: our clients never resume, and tickets would only
	 * cost a round of messages after every handshake. */
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	*out = ctx;
	return 0;
}

int tls_client_ctx(const char *cert_path, const char *key_path, SSL_CTX **out,
		   char *errmsg)
{
	PRE((cert_path == NULL) == (key_path == NULL));
	PRE(out != NULL);
	ERR_clear_error();
	SSL_CTX *ctx = ctx_new(TLS_client_method(), errmsg);
	if (ctx == NULL) {
		return TM_TLS;
	}
	if (cert_path != NULL) {
		int rv = ctx_load_keypair(ctx, cert_path, key_path, errmsg);
		if (rv != 0) {
			SSL_CTX_free(ctx);
			return rv;
		}
	}
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	*out = ctx;
	return 0;
}

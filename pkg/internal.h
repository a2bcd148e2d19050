/* Private to libthermionic: the client struct and the functions its files
 * share. Nothing here is installed; every symbol is hidden from the shared
 * library (only THERMIONIC_API symbols are exported).
 *
 * Files:
 *   client.c    connect/close, accessors, error formatting
 *   transport.c one HTTP exchange on the reused curl handle
 *   pin.c       certificate fingerprints and the TLS pinning callback
 *   envelope.c  decoding of the JSON envelope
 *   request.c   thermionic_request() and the helpers' common call
 *   server.c, config.c, trust.c  typed helpers */
#ifndef THERMIONIC_INTERNAL_H
#define THERMIONIC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

#include "pkg/thermionic.h"

#define TMC_ERRMSG_SIZE 1024

struct thermionic_client {
	CURL *curl;	   /* owned; one handle, reused for keep-alive */
	char *base_url;	   /* owned: "http://thermionic" or "https://ADDR" */
	char *target;	   /* owned: what to name in messages */
	char *socket_path; /* owned; NULL for HTTPS */
	char *cert_path;   /* owned; may be NULL */
	char *key_path;	   /* owned; may be NULL */
	unsigned timeout_ms;

	/* TLS pinning: PIN when given at connect time, else SEEN is filled
	 * by the first handshake and acts as the pin afterwards. */
	bool have_pin;
	char pin[THERMIONIC_FINGERPRINT_LEN + 1];
	bool have_seen;
	char seen[THERMIONIC_FINGERPRINT_LEN + 1];
	bool pin_failed; /* set by the verify callback of this call */
	char pin_msg[256];

	/* State of the exchange in progress. */
	int status;
	char *body; /* owned, NUL-terminated */
	size_t body_len;
	size_t body_cap;
	bool body_too_big;
	bool body_nomem;
	char *etag; /* owned; NULL if none */
	char curl_errbuf[CURL_ERROR_SIZE];

	char errmsg[TMC_ERRMSG_SIZE];
};

/* client.c */

/* Format the client's errmsg and return CODE. */
int tmc_fail(struct thermionic_client *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void tmc_clear_error(struct thermionic_client *c);

/* Milliseconds on the monotonic clock. */
unsigned long long tmc_now_ms(void);
/* Sleep MS milliseconds (restarting on EINTR). */
void tmc_sleep_ms(unsigned ms);

/* pin.c */

/* Lowercase hex SHA-256 of CERT's DER; OUT holds 65 bytes. 0 or
 * THERMIONIC_ERR_TLS. */
int tmc_fingerprint_x509(void *x509, char *out);
/* CURLOPT_SSL_CTX_FUNCTION callback; PARM is the client. */
CURLcode tmc_pin_sslctx_cb(CURL *curl, void *ssl_ctx, void *parm);

/* transport.c */

/* Perform one exchange. On return (any code) c->status is the HTTP status
 * or 0; on success c->body/body_len hold the response body (owned by the
 * client until the next exchange) and c->etag the ETag header. */
int tmc_transport_perform(struct thermionic_client *c, const char *method,
			  const char *path, const char *body,
			  const char *if_match);
/* Drop the body and ETag of the last exchange. */
void tmc_transport_reset(struct thermionic_client *c);

/* envelope.c */

/* Decode c->body into OUT (zeroed on failure); takes c->etag. */
int tmc_envelope_decode(struct thermionic_client *c,
			struct thermionic_response *out);

/* request.c */

/* Request with an optional cJSON body (borrowed); on success *METADATA is
 * the owned metadata (may be NULL for JSON null) and, if ETAG is not
 * NULL, *ETAG the owned ETag. */
int tmc_call(struct thermionic_client *c, const char *method, const char *path,
	     const cJSON *body, const char *if_match, cJSON **metadata,
	     char **etag);

#endif /* THERMIONIC_INTERNAL_H */

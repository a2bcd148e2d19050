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
 *   json.c      exact parsing of JSON numbers
 *   base64.c    strict base64 for BLOB values
 *   sql.c       thermionic_sql(): request encoding
 *   sql_decode.c  thermionic_sql(): response decoding
 *   backup.c    thermionic_backup(), thermionic_restore()
 *   server.c, config.c, trust.c  typed helpers
 *   cluster.c, cluster_member.c  clustering helpers (cluster.h) */
#ifndef THERMIONIC_INTERNAL_H
#define THERMIONIC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "pkg/thermionic.h"

#define TMC_ERRMSG_SIZE 1024

/* Bytes of the header at the start of every SQLite database file. */
#define TMC_SQLITE_HEADER_SIZE 100

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
	char *etag;	    /* owned; NULL if none */
	char *content_type; /* owned; NULL if none */
	char curl_errbuf[CURL_ERROR_SIZE];

	/* Streaming of the exchange in progress (see struct tmc_exchange). */
	int upload_fd;
	uint64_t upload_left;
	int upload_errno; /* read failure, or EIO if the file shrank */
	int download_fd;
	bool download_decided; /* this response's body sink is chosen */
	bool download_active;  /* ... and it is DOWNLOAD_FD */
	uint64_t download_bytes;
	/* The first bytes written to the fd: a SQLite header's worth. */
	unsigned char download_head[TMC_SQLITE_HEADER_SIZE];
	int download_errno; /* write failure */

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

/* One HTTP exchange. Zero it, then set what applies. */
struct tmc_exchange {
	const char *method;
	const char *path;     /* absolute, may carry a query */
	const char *if_match; /* NULL: no If-Match */
	const char *body;     /* JSON text; NULL: none (see UPLOAD_FD) */
	/* Stream the request body from UPLOAD_FD (>= 0; borrowed),
	 * UPLOAD_SIZE bytes, with Content-Type UPLOAD_TYPE. Use -1 for none:
	 * tmc_exchange_init() sets both fds to -1. */
	int upload_fd;
	uint64_t upload_size;
	const char *upload_type;
	/* Write the body of a 2xx answer that is not application/json to
	 * DOWNLOAD_FD (>= 0; borrowed) instead of keeping it in memory; any
	 * other answer (an error envelope) is kept in memory as usual. */
	int download_fd;
	const char *accept; /* NULL: application/json */
	/* The client's timeout limits stalls rather than the total time. */
	bool stall_timeout;
};

void tmc_exchange_init(struct tmc_exchange *ex);

/* Perform EX. On return (any code) c->status is the HTTP status or 0; on
 * success c->body/body_len hold the response body if it was kept in
 * memory (owned by the client until the next exchange), c->etag the ETag
 * header, c->content_type the Content-Type, and, with a DOWNLOAD_FD,
 * c->download_active says whether the body went there
 * (c->download_bytes bytes, the first ones in c->download_head). */
int tmc_transport_exchange(struct thermionic_client *c,
			   const struct tmc_exchange *ex);

/* tmc_transport_exchange() of METHOD PATH with an optional JSON BODY. */
int tmc_transport_perform(struct thermionic_client *c, const char *method,
			  const char *path, const char *body,
			  const char *if_match);
/* Connect the client's handle to URL's server (the unix socket or TLS
 * with pinning) and stop there (CURLOPT_CONNECT_ONLY): the caller then
 * speaks on it with curl_easy_send/curl_easy_recv (events.c), and the
 * next exchange starts a new connection. Transport errors as for an
 * exchange. */
int tmc_transport_connect_only(struct thermionic_client *c, const char *url);

/* ws_head.c: the answer to a WebSocket opening handshake. HEAD is the
 * response head (status line and headers, up to and without the empty
 * line; LEN bytes, not NUL-terminated). Sets *STATUS to the HTTP status
 * (0 if the status line is malformed) and *CONTENT_LENGTH (-1 if
 * absent). True for a 101 whose Upgrade is websocket and whose
 * Sec-WebSocket-Accept equals ACCEPT. */
bool tmc_ws_head_check(const char *head, size_t len, const char *accept,
		       int *status, long long *content_length);
/* The Sec-WebSocket-Accept expected for KEY (OUT: 29 bytes). */
void tmc_ws_accept(const char *key, char *out);

/* Drop the body and ETag of the last exchange. */
void tmc_transport_reset(struct thermionic_client *c);

/* envelope.c */

/* Decode c->body into OUT (zeroed on failure); takes c->etag. */
int tmc_envelope_decode(struct thermionic_client *c,
			struct thermionic_response *out);

/* json.c */

/* Parse LEN bytes of TEXT (valid JSON, nothing but white space after the
 * value) into *OUT (owned, cJSON_Delete), with each number's literal text
 * in its valuestring. THERMIONIC_ERR_PROTO if TEXT is not such JSON,
 * THERMIONIC_ERR_NOMEM. No errmsg is set. */
int tmc_json_parse(const char *text, size_t len, cJSON **out);

/* True if ITEM is a number whose literal is an integer (no fraction, no
 * exponent) within int64; the value in *OUT. */
bool tmc_json_int64(const cJSON *item, int64_t *out);

/* True if ITEM is a number whose literal has a fraction or an exponent. */
bool tmc_json_is_real(const cJSON *item);

/* Raw number items that print exactly: "-9223372036854775808", and a
 * real with the fewest digits that read back to the same double, always
 * with a '.' or an exponent ("1.0", "1e+300"). NULL on out of memory or,
 * for the real, if R is not finite. */
cJSON *tmc_json_int64_item(int64_t i);
cJSON *tmc_json_real_item(double r);

/* Shortest "%.*g" text of R (finite) that reads back to R exactly, with
 * ".0" appended if it would read as an integer. BUF: 32 bytes. */
const char *tmc_real_text(double r, char *buf);

/* base64.c */

/* Standard base64 with padding of N bytes at DATA; owned (free), NULL on
 * out of memory. */
char *tmc_base64_encode(const void *data, size_t n);

/* Strict RFC 4648 decoding (standard alphabet, padding, no white space)
 * of the NUL-terminated TEXT into *OUT (owned, free; NUL-terminated for
 * convenience) and *N. THERMIONIC_ERR_PROTO if TEXT is not such base64,
 * THERMIONIC_ERR_NOMEM. */
int tmc_base64_decode(const char *text, char **out, size_t *n);

/* sql_decode.c */

/* Decode METADATA ({"results": [...]}, borrowed, from tmc_json_parse)
 * into *RESULTS (owned) holding exactly N results. 0 or
 * THERMIONIC_ERR_PROTO / _NOMEM with errmsg set. */
int tmc_sql_decode(struct thermionic_client *c, const cJSON *metadata, size_t n,
		   struct thermionic_sql_result **results);

/* request.c */

/* Request with an optional cJSON body (borrowed); on success *METADATA is
 * the owned metadata (may be NULL for JSON null) and, if ETAG is not
 * NULL, *ETAG the owned ETag. */
int tmc_call(struct thermionic_client *c, const char *method, const char *path,
	     const cJSON *body, const char *if_match, cJSON **metadata,
	     char **etag);

#endif /* THERMIONIC_INTERNAL_H */

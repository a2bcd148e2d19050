/* An HTTPS client on the daemon's libuv loop, for member-to-member calls
 * (join, request forwarding, heartbeats, notifications).
 *
 * libcurl joins the loop through its multi-socket API: one uv_poll_t per
 * socket curl asks to watch and one uv_timer_t for curl's timeout, as in
 * libuv's docs/code/uvwget. Nothing here waits: name resolution, connect,
 * TLS handshake, sending and receiving all happen in curl's non-blocking
 * steps, run from poll and timer callbacks.
 *
 * The server is authenticated by pinning: the SHA-256 fingerprint of its
 * certificate's DER must equal the request's PIN (no CA store, no host name
 * check). The pin is checked during the TLS handshake of a new connection
 * (a mismatch aborts the handshake: no HTTP byte is written) and again
 * before every request sent on a reused connection. The client presents
 * the member's own certificate.
 *
 * Connections are kept alive and reused by later requests to the same
 * address; they are closed by hclient_close.
 *
 * Holding the loop: curl runs, in any one call, every transfer whose
 * timer expired, so a burst of transfers that each need a new connection
 * has their TLS handshakes (~0.3-0.5 ms of CPU each: key exchange, the
 * server's signature, ours) done in one step. MAX_RUNNING bounds that
 * step; on reused connections a step costs tens of microseconds.
 *
 * Requests are caller-owned, in the libuv/raft style: zero-initialise a
 * struct hclient_request, set its inputs, hclient_send. Its callback runs
 * exactly once, from the loop, never inside hclient_send, hclient_cancel
 * or hclient_close. */
#ifndef TM_CLIENT_HCLIENT_H
#define TM_CLIENT_HCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "internal/lib/err.h"

struct hclient;

struct hclient_config {
	const char *cert_path;	     /* certificate presented; copied */
	const char *key_path;	     /* its key; copied */
	unsigned connect_timeout_ms; /* connect + TLS handshake; 0 = 3 s */
	unsigned max_idle;	     /* connections kept open for reuse once
				      * idle, the oldest closed first; 0 = 64 */
	unsigned max_running;	     /* requests curl runs at once; more
				      * wait, in order (their timeout runs);
				      * 0 = 16 */
};

/* Load the key pair and set up curl's multi handle on LOOP. Fails with
 * TM_TLS (ERRMSG says why) if the key pair cannot be loaded, TM_IO if curl
 * cannot be set up. *OUT is owned: release it with hclient_close. */
int hclient_init(struct hclient **out, uv_loop_t *loop,
		 const struct hclient_config *cfg, char *errmsg);

/* Cancel every request in flight (each callback runs, with TM_CANCELED
 * unless its result had arrived already), close every connection and
 * handle, then call CB (may be NULL) with DATA, last. C is freed before
 * CB. hclient_send fails with TM_SHUTDOWN from this call on. */
void hclient_close(struct hclient *c, void (*cb)(void *data), void *data);

struct hclient_request;
typedef void (*hclient_cb)(struct hclient_request *req);

/* One request. Inputs are borrowed and must stay valid until the
 * callback has run. Results are owned by the request until
 * hclient_request_clear (or the next hclient_send on it). */
struct hclient_request {
	void *data; /* free for the caller */

	/* Inputs. */
	const char *method;  /* "GET", "POST", ... */
	const char *address; /* "host:port", "[v6]:port" */
	const char *path;    /* "/1.0/x?y=z": sent as it is */
	const char *pin;     /* TLS_FINGERPRINT_LEN lowercase hex; required */
	const void *body;    /* may be NULL */
	size_t body_len;
	const char *content_type; /* of BODY; NULL sends none */
	const char *headers;	  /* extra "Name: value\r\n"..., or NULL */
	unsigned timeout_ms;	  /* the whole request; 0 = 30 s */
	size_t max_response;	  /* body bytes kept; 0 = 64 MiB */
	const char *keep_header;  /* a header of the answer to keep
				   * ("X-Name", any case), or NULL */

	/* Results, set before the callback. */
	int status; /* 0 when an HTTP answer (any HTTP status) arrived:
		     * TM_CONNECT  resolution or connect failed, refused or
		     *             unreachable; nothing was sent;
		     * TM_PIN      the server's certificate is not PIN;
		     *             nothing was sent;
		     * TM_TLS      the TLS handshake failed otherwise (our
		     *             certificate refused, no common protocol);
		     * TM_TIMEOUT  CONNECT_TIMEOUT_MS or TIMEOUT_MS elapsed;
		     * TM_IO       the connection failed or was closed before
		     *             the whole answer arrived;
		     * TM_PROTO    the answer was not valid HTTP;
		     * TM_TOOBIG   the body exceeded MAX_RESPONSE;
		     * TM_CANCELED hclient_cancel or hclient_close. */
	bool sent;  /* request bytes may have reached the server: after a
		     * failure, the server may or may not have acted on it */
	long http_status;
	char *content_type_out; /* owned; NULL if none */
	char *etag;		/* owned; the ETag header's value as sent,
				 * quotes included; NULL if none */
	char *kept_header;	/* owned; KEEP_HEADER's value, trimmed;
				 * NULL if the answer had none */
	char *body_out;		/* owned; NUL-terminated; NULL if status != 0 */
	size_t body_out_len;
	char errmsg[TM_ERRMSG_SIZE]; /* "" on success, else what happened:
				      * "connect to 127.0.0.2:8443: connection
				      * refused" */

	/* Private. */
	struct hclient *client;
	hclient_cb cb;
	void *easy;	     /* CURL *, while curl runs it */
	void *header_list;   /* struct curl_slist *, while curl runs it */
	char *url;	     /* owned, while curl runs it */
	size_t body_cap;     /* of body_out */
	uint64_t started_ns; /* uv_hrtime at hclient_send */
	struct hclient_request *prev, *next; /* on one of the lists */
	bool waiting;			     /* for a free running slot */
	bool in_flight;			     /* curl runs it */
	bool done;			     /* waits for its callback */
	bool too_big;
	bool pin_failed;
	char pin_msg[TM_ERRMSG_SIZE];
	char curl_error[256]; /* CURL_ERROR_SIZE */
};

/* Start REQ; CB runs once, later. Fails without calling CB: TM_INVALID
 * (ERRMSG says which input) or TM_SHUTDOWN (hclient_close was called). */
int hclient_send(struct hclient *c, struct hclient_request *req, hclient_cb cb);

/* Stop REQ, which must have been sent and whose callback has not run yet:
 * its callback runs later with TM_CANCELED (SENT tells whether bytes may
 * have left), or with its result if that had arrived already. A
 * connection with a request cut in the middle is closed, not reused. */
void hclient_cancel(struct hclient_request *req);

/* Free the results of REQ; its inputs are untouched. Not while in flight. */
void hclient_request_clear(struct hclient_request *req);

/* The loop C runs on. */
uv_loop_t *hclient_loop(const struct hclient *c);

/* Requests sent and whose callback has not run yet. */
size_t hclient_pending(const struct hclient *c);

/* Diagnostics: how long the client held the loop. A step is one call
 * into curl (a socket or timer event, a send, a cancel). */
struct hclient_stats {
	uint64_t steps;
	uint64_t max_step_ns;
	uint64_t total_step_ns;
	uint64_t connections; /* sockets curl opened */
};
void hclient_get_stats(const struct hclient *c, struct hclient_stats *out);

#endif /* TM_CLIENT_HCLIENT_H */

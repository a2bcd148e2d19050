/* The HTTP/1.1 REST server: requests from conns, routing, authorisation,
 * LXD-style JSON envelopes.
 *
 * The server owns every connection handed to it with rest_server_add_conn.
 * It parses one request at a time per connection (reading is paused while a
 * request is being handled), enforces size limits and read timeouts, and
 * routes the request to a handler. A handler answers with exactly one
 * rest_respond_* call, immediately or later (asynchronous handlers, e.g. a
 * write that waits for raft). The request stays valid until that call even
 * if the client went away meanwhile; the answer is then dropped. */
#ifndef TM_REST_H
#define TM_REST_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "internal/net/conn.h"

struct rest_server;
struct rest_request;

enum rest_auth {
	REST_AUTH_UNTRUSTED, /* TLS without a trusted client certificate */
	REST_AUTH_TRUSTED,   /* TLS with a certificate in the trust store */
	REST_AUTH_LOCAL,     /* unix socket, peer is root (or our own uid) */
};

typedef void (*rest_handler)(struct rest_request *req);

/* A route. PATH is exact ("/1.0/config") or ends in "/{}" to match one
 * more non-empty segment ("/1.0/certificates/{}"), available through
 * rest_path_param. A method without a handler answers 405 with an Allow
 * header. Untrusted clients get 403, except for GET when PUBLIC_GET and
 * POST (with a body) when PUBLIC_POST: such handlers authenticate the
 * request themselves (a join request carries its token's secret). */
struct rest_route {
	const char *path;
	rest_handler get;
	rest_handler put;
	rest_handler patch;
	rest_handler post;
	rest_handler delete;
	bool public_get;
	bool public_post;
};

struct rest_limits {
	size_t max_header_bytes;  /* request line + headers; default 16 KiB */
	size_t max_body_bytes;	  /* default 8 MiB */
	unsigned read_timeout_ms; /* a started request must complete; 30 s */
	unsigned idle_timeout_ms; /* keep-alive idle; default 60 s */
};

/* Decides whether a TLS client certificate is trusted. */
typedef bool (*rest_trust_cb)(void *data, const char *fingerprint);

/* ROUTES is borrowed and must outlive the server. DATA is given back to
 * handlers through rest_server_data. */
int rest_server_init(uv_loop_t *loop, const struct rest_route *routes,
		     size_t n_routes, rest_trust_cb trust_cb, void *data,
		     struct rest_server **out);
/* Copied; a field left 0 keeps its default. Applies to live connections
 * too, from their next read. */
void rest_server_set_limits(struct rest_server *s,
			    const struct rest_limits *limits);
/* Take ownership of an accepted connection and start serving it. */
void rest_server_add_conn(struct rest_server *s, struct conn *c);
/* Stop taking requests: from now on a complete request is answered 503
 * "shutting down" without reaching its handler. Requests already in their
 * handlers go on; rest_server_pending says how many are left. */
void rest_server_drain(struct rest_server *s);
/* Is the server of REQ draining? False once the client has gone. */
bool rest_draining(const struct rest_request *req);
/* Requests in their handlers (not yet answered, client still there). */
size_t rest_server_pending(const struct rest_server *s);
/* The trust store changed: ask the trust callback again about every TLS
 * connection on which a request was admitted as trusted, and close those
 * it now refuses, as rest_server_close does (a request still in its
 * handler on one is answered into the void). Returns how many were
 * closed. */
size_t rest_server_revalidate(struct rest_server *s);
/* Close every connection; requests still in their handlers are answered
 * into the void. CB runs when all is released and S is freed. It does not
 * wait for those handlers: their requests no longer refer to S and are
 * freed by their rest_respond_* call. */
void rest_server_close(struct rest_server *s, void (*cb)(void *data),
		       void *data);

/* Request accessors: returned strings are borrowed, valid until the
 * response is sent. */
void *rest_server_data(const struct rest_request *req);
/* Run REQ's handler again, as if it had just arrived: for a request that
 * waited for a leader when this member became the leader meanwhile. The
 * handler must not have answered REQ. */
void rest_handle_again(struct rest_request *req);
/* The loop the server runs on. */
uv_loop_t *rest_loop(const struct rest_request *req);
const char *rest_method(const struct rest_request *req);
const char *rest_path(const struct rest_request *req);
/* The request target as the client sent it: path and query string, still
 * percent-encoded, trailing '/' kept ("/1.0/sql?level=strong"); for
 * relaying the request as it is. */
const char *rest_target(const struct rest_request *req);
/* The percent-decoded segment matched by "{}", or NULL. */
const char *rest_path_param(const struct rest_request *req);
/* Percent-decoded query parameter, NULL if absent ("" if present without
 * a value). */
const char *rest_query(const struct rest_request *req, const char *name);
/* Case-insensitive header lookup; NULL if absent. */
const char *rest_header(const struct rest_request *req, const char *name);
const char *rest_body(const struct rest_request *req, size_t *len);
enum rest_auth rest_auth(const struct rest_request *req);
/* Fingerprint of the client's certificate, or NULL. */
const char *rest_peer_fingerprint(const struct rest_request *req);
/* The connection the request arrived on (for upgrades); NULL once the
 * client has gone. */
struct conn *rest_conn(const struct rest_request *req);
/* Handler-owned slot for asynchronous handlers. */
void rest_set_data(struct rest_request *req, void *data);
void *rest_get_data(const struct rest_request *req);

/* Parse the body as JSON. On failure answers 400 ("malformed JSON body:
 * ...") itself and returns NULL; the handler must then just return. An
 * empty body is an error too. Owned by the caller (cJSON_Delete). */
cJSON *rest_body_json(struct rest_request *req);

/* Does an If-Match header value match ETAG? IF_MATCH may list several
 * entries separated by commas, each quoted ("\"<hex>\"", as HTTP wants) or
 * bare; "*" matches anything; weak entries (W/...) never match. False if
 * IF_MATCH or ETAG is NULL: skip the check when the header is absent. */
bool rest_etag_matches(const char *if_match, const char *etag);

/* Responses. Exactly one per request. */
/* 200 sync envelope around METADATA (owned; NULL means {}). ETAG may be
 * NULL; when given it is sent as an ETag header, quoted: ETag: "<ETAG>". */
void rest_respond_sync(struct rest_request *req, cJSON *metadata,
		       const char *etag);
/* Error envelope with HTTP status STATUS and a formatted message, with
 * X-Content-Type-Options: nosniff. */
void rest_respond_error(struct rest_request *req, int status, const char *fmt,
			...) __attribute__((format(printf, 3, 4)));
/* The same with EXTRA_HEADERS ("Name: value\r\n"..., may be NULL) and
 * MSG as it is (405's Allow, 426's Upgrade). */
void rest_respond_error_headers(struct rest_request *req, int status,
				const char *extra_headers, const char *msg);
/* Anything else; EXTRA_HEADERS is "Name: value\r\n"... or NULL. */
void rest_respond_raw(struct rest_request *req, int status,
		      const char *content_type, const void *body, size_t len,
		      const char *extra_headers);

/* Streamed response with chunked transfer encoding, for large bodies
 * (database backups). Call rest_stream_begin once, rest_stream_write any
 * number of times (wait for CB before the next one to bound memory), then
 * rest_stream_end, which completes the response. LEN must be > 0.
 * Once rest_stream_begin was called (whatever it returned), the request is
 * completed by rest_stream_end and by nothing else. Begin and write return
 * TM_CANCELED when the client has gone; a write that fails that way
 * does not call CB. CB gets a non-zero status if the chunk could not be
 * sent. HTTP/1.0 clients get the body unchunked, ended by closing. */
int rest_stream_begin(struct rest_request *req, int status,
		      const char *content_type, const char *extra_headers);
int rest_stream_write(struct rest_request *req, const void *buf, size_t len,
		      void (*cb)(struct rest_request *req, void *arg,
				 int status),
		      void *arg);
void rest_stream_end(struct rest_request *req);

/* Upgrade: answer 101 with "Upgrade: PROTOCOL" and hand the connection
 * to the caller, who becomes its owner (conn_set_callbacks, conn_close).
 * Bytes the client sent after the request are delivered to CB's owner by
 * the returned buffer (borrowed until CB returns). CB runs exactly once,
 * from the loop, after the 101 has been written; C is NULL (and EXTRA
 * NULL) if the connection failed or the server closed before that. */
typedef void (*rest_upgrade_cb)(void *arg, struct conn *c, const char *extra,
				size_t extra_len);
void rest_respond_upgrade(struct rest_request *req, const char *protocol,
			  rest_upgrade_cb cb, void *arg);
/* The same with EXTRA_HEADERS ("Name: value\r\n"..., may be NULL) in the
 * 101 (a WebSocket's Sec-WebSocket-Accept). */
void rest_respond_upgrade_headers(struct rest_request *req,
				  const char *protocol,
				  const char *extra_headers,
				  rest_upgrade_cb cb, void *arg);

#endif /* TM_REST_H */

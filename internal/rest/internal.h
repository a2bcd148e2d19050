/* Private structures of the REST server, shared by its files:
 *
 *   server.c   server and connection lifecycle, reading, timers
 *   admit.c    authentication and authorisation from the headers
 *   dispatch.c routing, request accessors
 *   respond.c  whole responses, upgrade, request completion
 *   stream.c   chunked streaming responses
 *
 * Connection states (one request at a time):
 *
 *   IDLE --first byte--> READING --request complete--> HANDLING
 *   HANDLING --response sent, keep-alive, peer not gone--> IDLE
 *   HANDLING --rest_respond_upgrade--> UPGRADING --101 written--> handed over
 *   IDLE --idle timeout, EOF--> CLOSING
 *   READING --timeout (408), parse error (4xx), EOF--> CLOSING
 *   any --failure, server close, no keep-alive--> CLOSING
 *
 * A request keeps a pointer to its connection while the connection lives;
 * when the connection goes away first the request is detached (rc = NULL)
 * and its eventual response is dropped. */
#ifndef TM_REST_INTERNAL_H
#define TM_REST_INTERNAL_H

/* Pipelined requests wait while more than this many bytes of answers are
 * queued unsent on their connection. */
#define REST_MAX_UNSENT (1024 * 1024)

#include <stdbool.h>
#include <stdint.h>

#include "internal/rest/request.h"
#include "internal/rest/rest.h"

struct rest_server {
	uv_loop_t *loop;
	const struct rest_route *routes; /* borrowed */
	size_t n_routes;
	rest_trust_cb trust_cb;
	void *data;
	struct rest_limits limits;
	struct rest_conn *conns; /* list of live connections */
	uv_timer_t close_timer;	 /* only closed, so that close is async */
	bool closing;
	bool draining; /* new requests are answered 503 */
	bool close_timer_alive;
	void (*close_cb)(void *data);
	void *close_data;
};

/* What the headers of the request being read decided (admit.c). */
struct rest_admission {
	enum rest_auth auth;
	char *fingerprint;    /* owned, or NULL */
	const char *weak_key; /* why the certificate was refused, or NULL;
			       * borrowed from the conn */
	int status;	      /* 0, or the error to answer the request with */
	char message[TM_ERRMSG_SIZE];
};

enum rest_conn_state {
	REST_CONN_IDLE,
	REST_CONN_READING,
	REST_CONN_HANDLING,
	REST_CONN_UPGRADING,
	REST_CONN_CLOSING,
};

struct rest_conn {
	struct rest_server *server;
	struct conn *conn; /* owned; NULL once handed over after an upgrade */
	struct rest_conn *prev;
	struct rest_conn *next;
	enum rest_conn_state state;
	struct rest_parser parser;
	struct rest_admission admission; /* of the request being read */
	char *in;			 /* received and not parsed yet */
	size_t in_len;
	size_t in_cap;
	uv_timer_t timer; /* idle or read timeout, or a kick */
	bool kick;	  /* the timer is a kick to parse buffered input */
	bool conn_alive;
	bool timer_alive;
	bool peer_eof;	 /* the peer half-closed during a request */
	bool drain_wait; /* pipelined input waits for answers to drain */
	bool trusted;	 /* a request was admitted as trusted (admit.c):
			    rest_server_revalidate asks again */
	struct rest_request *req; /* in its handler, or NULL */
	rest_upgrade_cb upgrade_cb;
	void *upgrade_arg;
	char peer[64];
};

struct rest_request {
	struct rest_conn *rc; /* NULL once detached */
	uv_loop_t *loop;
	void *server_data;
	struct rest_message *msg; /* owned */
	const struct rest_route *route;
	char *param;	   /* owned, or NULL */
	char *fingerprint; /* owned copy, or NULL */
	enum rest_auth auth;
	void *data;
	uint64_t start_ns;
	char peer[64];
	int status;	 /* answered status, for the log */
	bool keep_alive; /* as announced in the response head */
	bool answered;	 /* a rest_respond_* or rest_stream_begin happened */
	bool streaming;	 /* rest_stream_begin happened */
	bool chunked;
	bool stream_ended;
	bool upgraded;	       /* the connection was passed on with a 101 */
	size_t stream_pending; /* stream writes not completed yet */
};

/* server.c */
void rest_conn_close(struct rest_conn *rc);
/* Queue bytes on the connection; a failed write closes it. */
void rest_conn_write(struct rest_conn *rc, const void *buf, size_t len);
/* The current request is finished: keep reading or close. */
void rest_conn_next(struct rest_conn *rc, bool keep_alive);
/* Upgrade: the 101 is queued; hand the conn over once it is written. */
void rest_conn_upgrade(struct rest_conn *rc, const char *head, size_t len,
		       rest_upgrade_cb cb, void *arg);

/* admit.c */
/* The parser's headers callback (ARG: the rest_conn); see admit.c. */
int rest_admit_headers_cb(void *arg, const struct rest_message *m,
			  size_t *max_body, char *errmsg);
void rest_admission_clear(struct rest_admission *a);

/* dispatch.c: route and run the handler for a complete request, as
 * admitted by rest_admit_headers_cb (whose result it takes). */
void rest_dispatch(struct rest_conn *rc, struct rest_message *msg);

/* respond.c */
/* Status line and headers. CONTENT_LENGTH < 0 sends none. */
char *rest_response_head(int status, const char *content_type,
			 long long content_length, bool chunked,
			 bool keep_alive, bool http10,
			 const char *extra_headers, size_t *len);
/* Whether the connection may carry another request after REQ. */
bool rest_request_keep_alive(const struct rest_request *req);
/* Log, free REQ and move its connection on. */
void rest_request_finish(struct rest_request *req);
/* The error envelope as a complete response that closes the connection
 * (parse errors, timeouts), without a request. */
char *rest_response_error_close(int status, const char *msg, size_t *len);

#endif /* TM_REST_INTERNAL_H */

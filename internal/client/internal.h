/* Private structures of the loop client, shared by its files:
 *
 *   client.c   the client's life: curl's multi handle joined to the loop
 *              (socket and timer callbacks), completions, close
 *   request.c  one request: the easy handle's options, body and header
 *              collection, the pin, the mapping of curl's result
 *
 * A request is on one of three lists: WAITING (for one of MAX_RUNNING
 * slots), IN FLIGHT (curl runs it) or DONE (its result is set, its
 * callback waits for the kick timer). Callbacks run only from the kick
 * timer, so never inside a call of the API. */
#ifndef TM_CLIENT_INTERNAL_H
#define TM_CLIENT_INTERNAL_H

#include <curl/curl.h>
#include <openssl/ssl.h>

#include "internal/client/hclient.h"

struct hclient {
	uv_loop_t *loop;
	CURLM *multi;	       /* NULL once closing */
	uv_timer_t timer;      /* curl's timeout */
	uv_timer_t kick;       /* runs the callbacks of done requests */
	uv_timer_t wait_timer; /* the first timeout among the waiting */
	X509 *cert;	       /* presented on every new connection */
	EVP_PKEY *key;	       /* its key */
	unsigned connect_timeout_ms;
	unsigned max_running;
	unsigned n_running;		   /* in flight */
	struct hclient_request *wait_head; /* FIFO */
	struct hclient_request *wait_tail;
	struct hclient_request *in_flight; /* list */
	struct hclient_request *done_head; /* FIFO, callbacks to run */
	struct hclient_request *done_tail;
	size_t n_pending;	    /* in flight + done */
	struct hclient_sock *socks; /* watched, not closing */
	unsigned polls_alive;
	bool timer_alive;
	bool kick_alive;
	bool wait_timer_alive;
	bool closing;
	bool delivering; /* inside kick_cb */
	void (*close_cb)(void *data);
	void *close_data;
	struct hclient_stats stats;
};

/* One socket curl asked us to watch. */
struct hclient_sock {
	uv_poll_t poll;
	struct hclient *client;
	curl_socket_t fd;
	struct hclient_sock *prev, *next;
};

/* client.c */
/* Run curl for one event (SOCKFD or CURL_SOCKET_TIMEOUT), then collect
 * finished transfers. */
void hclient_step(struct hclient *c, curl_socket_t fd, int ev_bitmask);
/* REQ's result is set: move it to the done list. */
void hclient_complete(struct hclient_request *req);

/* request.c */
/* Make REQ's easy handle with every option set; TM_INVALID or TM_IO with
 * REQ->errmsg set. */
int hclient_request_setup(struct hclient *c, struct hclient_request *req);
/* Give REQ what is left of its timeout after waiting; false (and REQ's
 * result set) if nothing is. */
bool hclient_request_rearm(struct hclient_request *req);
/* When REQ's timeout ends (uv_hrtime scale). */
uint64_t hclient_request_deadline(const struct hclient_request *req);
/* Set REQ's status, message and results from curl's code, then release
 * the easy handle (already out of the multi handle). */
void hclient_request_result(struct hclient_request *req, CURLcode rc);
/* Release the easy handle, and what belongs to it, without a result. */
void hclient_request_release(struct hclient_request *req);
/* CURLOPT_SSL_CTX_FUNCTION: our certificate and the pin check. */
CURLcode hclient_ssl_ctx_cb(CURL *curl, void *ssl_ctx, void *parm);

#endif /* TM_CLIENT_INTERNAL_H */

/* Fixture for the loop client and forwarding tests: real TLS servers on
 * loopback (127.0.26.x, a port picked by the kernel) and an hclient, all
 * on one libuv loop that hc_run_until drives until a condition holds,
 * within a deadline.
 *
 * Servers come in three kinds:
 * - REST: a REST server with the routes given (hc_rest_start); it counts
 *   the TCP connections it accepted;
 * - RAW: a TLS server that reads a request and then either never answers
 *   (HC_RAW_HANG) or closes the connection (HC_RAW_SLAM);
 * - MUTE: TCP that accepts and never says a word (TLS never completes). */
#ifndef TM_TEST_HCLIENT_FIXTURE_H
#define TM_TEST_HCLIENT_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <uv.h>

#include "internal/client/hclient.h"
#include "internal/lib/err.h"
#include "internal/net/listener.h"
#include "internal/rest/rest.h"
#include "internal/tls/tls.h"

#define HC_DEADLINE_MS 20000
#define HC_MAX_SERVERS 6
#define HC_MAX_HELD 64
#define HC_MAX_RAW 16

struct hc;

enum hc_kind { HC_REST, HC_RAW_HANG, HC_RAW_SLAM, HC_MUTE };

struct hc_server {
	struct hc *hc;
	enum hc_kind kind;
	char address[64];
	char fp[TLS_FINGERPRINT_LEN + 1]; /* of its certificate */
	struct listener *listener;	  /* REST and RAW */
	struct rest_server *rest;	  /* REST */
	uv_tcp_t tcp;			  /* MUTE */
	uv_tcp_t mute_clients[16];
	unsigned n_mute;
	unsigned accepted; /* TCP connections */
	unsigned handled;  /* requests that reached a handler */
	unsigned closes_pending;
	void *data; /* for the test's handlers */
};

/* A request a handler kept without answering. */
struct hc_held {
	struct rest_request *req;
	struct hc_server *server;
};

/* A connection of a RAW server. */
struct hc_raw {
	struct conn *c;
	struct hc_server *server;
	char head[4096];
	size_t len;
	bool closed;
};

struct hc {
	uv_loop_t loop;
	uv_timer_t tick;
	char dir[64];
	char subnet[16]; /* servers listen on SUBNET.IP */
	char errmsg[TM_ERRMSG_SIZE];
	/* Key pairs: each server has its own; the client presents CLIENT. */
	char client_cert[128], client_key[128];
	char client_fp[TLS_FINGERPRINT_LEN + 1];
	SSL_CTX *server_ctx[HC_MAX_SERVERS];
	struct hc_server servers[HC_MAX_SERVERS];
	unsigned n_servers;
	struct hc_held held[HC_MAX_HELD];
	unsigned n_held;
	struct hc_raw raw[HC_MAX_RAW];
	unsigned n_raw;
	struct hclient *client; /* NULL once closed by the test */
	bool client_closed;
};

int hc_setup(void **state);
/* The same with servers on SUBNET.IP ("127.0.42"), for tests that keep
 * to a range of their own. */
int hc_setup_on(void **state, const char *subnet);
int hc_teardown(void **state);

/* Servers on SUBNET.IP (127.0.26.IP by default). ROUTES (static) get the server as
 * rest_server_data. */
struct hc_server *hc_rest_start(struct hc *hc, int ip,
				const struct rest_route *routes, size_t n);
struct hc_server *hc_raw_start(struct hc *hc, int ip, enum hc_kind kind);
struct hc_server *hc_mute_start(struct hc *hc, int ip);

/* For handlers: keep REQ unanswered (hc_answer_held answers them all). */
void hc_hold(struct rest_request *req);
void hc_answer_held(struct hc *hc, int status);

/* A new client on the fixture's loop (0: the defaults). */
struct hclient *hc_client_new(struct hc *hc, unsigned connect_timeout_ms,
			      unsigned max_idle);
/* Close C; waits for its callback. */
void hc_client_close(struct hc *hc, struct hclient *c);

/* A request to SERVER with its pin; the rest zeroed. */
void hc_request_init(struct hclient_request *r, const struct hc_server *s,
		     const char *method, const char *path);

/* Completion recording: r->data must point to a struct hc_done. */
struct hc_done {
	unsigned calls;
	int status;
	bool inside; /* set by the test around API calls */
	bool early;  /* the callback ran while INSIDE */
	uint64_t order;
};
void hc_done_cb(struct hclient_request *r);

/* Send with hc_done recording; asserts hclient_send returned 0 and that
 * the callback did not run inside it. */
void hc_send(struct hclient *c, struct hclient_request *r, struct hc_done *d);
/* Wait until D's callback ran. */
void hc_wait(struct hc *hc, struct hc_done *d);

bool hc_run_until(struct hc *hc, bool (*cond)(void *arg), void *arg,
		  unsigned ms);
void hc_run_for(struct hc *hc, unsigned ms);

#endif /* TM_TEST_HCLIENT_FIXTURE_H */

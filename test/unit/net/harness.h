/* Shared fixture for the net tests: a libuv loop driven until a condition
 * holds (bounded), a temporary directory with key pairs, TLS contexts, and
 * "peers": one side of a conn that records what it receives and can echo
 * it back. */
#ifndef TM_TEST_NET_HARNESS_H
#define TM_TEST_NET_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <uv.h>

#include "internal/lib/err.h"
#include "internal/net/conn.h"
#include "internal/net/listener.h"
#include "internal/tls/tls.h"

#define HARNESS_DEADLINE_MS 20000
#define HARNESS_MAX_WRITES 4096

struct peer {
	struct harness *h;
	struct conn *c;
	char *in; /* everything received, owned */
	size_t in_len;
	size_t in_cap;
	unsigned reads;
	bool echo;	      /* write back everything received */
	bool stop_after_read; /* conn_read_stop in every read callback */
	bool no_autostart;    /* do not start reading when attached */
	bool eof;
	int eof_status;
	char eof_errmsg[TM_ERRMSG_SIZE];
	/* Write callbacks, in the order they ran. */
	unsigned writes_done;
	uintptr_t write_args[HARNESS_MAX_WRITES];
	int write_status[HARNESS_MAX_WRITES];
	bool closed;
	/* Sequence numbers taken from h->events when the last write callback
	 * and the close callback ran. */
	unsigned last_write_event;
	unsigned close_event;
};

struct harness {
	uv_loop_t loop;
	uv_timer_t tick; /* wakes the loop so that deadlines are checked */
	unsigned events;
	char dir[64];
	char server_cert[128];
	char server_key[128];
	char client_cert[128];
	char client_key[128];
	char server_fp[TLS_FINGERPRINT_LEN + 1];
	char client_fp[TLS_FINGERPRINT_LEN + 1];
	SSL_CTX *server_ctx;
	SSL_CTX *client_ctx;	  /* presents the client certificate */
	SSL_CTX *anon_client_ctx; /* presents none */
	struct listener *listener;
	bool listener_closed;
	struct peer server; /* the accepted conn */
	unsigned accepted;
	struct peer client; /* from conn_connect */
	bool connected;
	int connect_status;
	char connect_errmsg[TM_ERRMSG_SIZE];
	char errmsg[TM_ERRMSG_SIZE];
};

int harness_setup(void **state);
int harness_teardown(void **state);

/* Run the loop until COND(H) holds; false if the deadline passed. */
bool harness_run_until(struct harness *h, bool (*cond)(struct harness *h));
/* Run the loop N times without blocking. */
void harness_spin(struct harness *h, int n);

/* TLS listener on 127.0.0.1:0 whose connections go to h->server. */
void harness_listen_tls(struct harness *h);
/* Unix listener at PATH whose connections go to h->server. */
void harness_listen_unix(struct harness *h, const char *path);
/* conn_connect to the listener with CTX; the result goes to h->client. */
void harness_connect(struct harness *h, SSL_CTX *ctx);
void harness_connect_to(struct harness *h, const char *address, SSL_CTX *ctx);
/* listener_close; h->listener_closed is set from its callback. */
void harness_close_listener(struct harness *h);
/* Both of the above, and wait until both sides are up. */
void harness_connect_pair(struct harness *h, SSL_CTX *ctx);

/* Attach P to C: callbacks set, reading started unless !START. */
void peer_attach(struct harness *h, struct peer *p, struct conn *c, bool start);
void peer_write(struct peer *p, const void *buf, size_t len, uintptr_t arg);
void peer_close(struct peer *p);

/* Conditions. */
bool cond_accepted(struct harness *h);
bool cond_connected(struct harness *h);
bool cond_both_closed(struct harness *h);

/* Bytes waiting in the kernel for C's socket. */
size_t harness_kernel_pending(struct conn *c);

/* Deterministic test data. */
void harness_fill_pattern(char *buf, size_t len, uint32_t seed);

#endif /* TM_TEST_NET_HARNESS_H */

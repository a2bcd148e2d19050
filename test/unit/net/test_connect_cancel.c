/* conn_connect_cancel: wherever the attempt is (TCP connecting, TLS
 * handshake, success decided), the callback runs once, from the loop,
 * with TM_CANCELED and no conn, promptly: a socket still connecting is
 * not flushed on close (libuv would start that shutdown only once the
 * connection is made, and the conn would linger for 10 s). */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal/net/conn_internal.h"
#include "test/unit/net/harness.h"

#define H(state) ((struct harness *)*(state))

struct attempt {
	bool done;
	int status;
	struct conn *c;
	char errmsg[TM_ERRMSG_SIZE];
};

static void attempt_cb(void *arg, struct conn *c, int status,
		       const char *errmsg)
{
	struct attempt *a = arg;
	assert_false(a->done);
	a->done = true;
	a->status = status;
	a->c = c;
	snprintf(a->errmsg, sizeof a->errmsg, "%s", errmsg);
}

static struct attempt *current;

static bool cond_attempt_done(struct harness *h)
{
	(void)h;
	return current->done;
}

static void run_for(struct harness *h, unsigned ms)
{
	uint64_t end = uv_hrtime() + (uint64_t)ms * 1000000;
	while (uv_hrtime() < end) {
		uv_run(&h->loop, UV_RUN_ONCE);
	}
}

/* Cancel after MS milliseconds; the callback must come within 1 s. */
static void cancel_after(struct harness *h, const char *address, unsigned ms)
{
	struct attempt a = {0};
	struct conn_connect *op;
	assert_int_equal(conn_connect_cancelable(&h->loop, address,
						 h->client_ctx, attempt_cb, &a,
						 &op),
			 0);
	run_for(h, ms);
	assert_false(a.done);
	uint64_t start = uv_hrtime();
	conn_connect_cancel(op);
	assert_false(a.done); /* never from inside the call */
	current = &a;
	assert_true(harness_run_until(h, cond_attempt_done));
	assert_true(uv_hrtime() - start < 1000000000ull);
	assert_int_equal(a.status, TM_CANCELED);
	assert_null(a.c);
	assert_non_null(strstr(a.errmsg, "canceled"));
}

/* At once: the address is being resolved. */
static void test_cancel_while_resolving(void **state)
{
	struct harness *h = H(state);
	harness_listen_tls(h);
	cancel_after(h, listener_address(h->listener), 0);
}

/* A server whose accept queue is full: the kernel drops our SYN, so the
 * TCP connection is still being made when the attempt is canceled. */
static void test_cancel_while_connecting(void **state)
{
	struct harness *h = H(state);
	int server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(server >= 0);
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(server, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(server, 0), 0);
	socklen_t len = sizeof sa;
	assert_int_equal(getsockname(server, (struct sockaddr *)&sa, &len), 0);
	int fillers[4];
	for (int i = 0; i < 4; i++) {
		fillers[i] = socket(
		    AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		assert_true(fillers[i] >= 0);
		(void)connect(fillers[i], (struct sockaddr *)&sa, sizeof sa);
	}
	char address[64];
	snprintf(address, sizeof address, "127.0.0.1:%d", ntohs(sa.sin_port));
	cancel_after(h, address, 300);
	for (int i = 0; i < 4; i++) {
		close(fillers[i]);
	}
	close(server);
}

/* A server that takes TCP connections and never answers TLS: the
 * handshake is in progress. */
static void ignore_conn_cb(uv_stream_t *server, int status)
{
	(void)server;
	(void)status; /* never accepted: the kernel holds the connection */
}

static bool closed;

static void server_closed_cb(uv_handle_t *handle)
{
	(void)handle;
	closed = true;
}

static bool cond_closed(struct harness *h)
{
	(void)h;
	return closed;
}

static void test_cancel_during_handshake(void **state)
{
	struct harness *h = H(state);
	static uv_tcp_t server;
	struct sockaddr_in sa;
	assert_int_equal(uv_ip4_addr("127.0.0.1", 0, &sa), 0);
	assert_int_equal(uv_tcp_init(&h->loop, &server), 0);
	assert_int_equal(uv_tcp_bind(&server, (struct sockaddr *)&sa, 0), 0);
	assert_int_equal(uv_listen((uv_stream_t *)&server, 4, ignore_conn_cb),
			 0);
	int len = sizeof sa;
	assert_int_equal(
	    uv_tcp_getsockname(&server, (struct sockaddr *)&sa, &len), 0);
	char address[64];
	snprintf(address, sizeof address, "127.0.0.1:%d", ntohs(sa.sin_port));
	cancel_after(h, address, 200);
	closed = false;
	uv_close((uv_handle_t *)&server, server_closed_cb);
	assert_true(harness_run_until(h, cond_closed));
}

static void test_cancel_twice_is_once(void **state)
{
	struct harness *h = H(state);
	harness_listen_tls(h);
	struct attempt a = {0};
	struct conn_connect *op;
	assert_int_equal(
	    conn_connect_cancelable(&h->loop, listener_address(h->listener),
				    h->client_ctx, attempt_cb, &a, &op),
	    0);
	conn_connect_cancel(op);
	conn_connect_cancel(op);
	current = &a;
	assert_true(harness_run_until(h, cond_attempt_done));
	assert_int_equal(a.status, TM_CANCELED);
	harness_spin(h, 5);
}

#define TEST(name)                                                             \
	cmocka_unit_test_setup_teardown(name, harness_setup, harness_teardown)

int test_connect_cancel_run(void);
int test_connect_cancel_run(void)
{
	const struct CMUnitTest tests[] = {
	    TEST(test_cancel_while_resolving),
	    TEST(test_cancel_while_connecting),
	    TEST(test_cancel_during_handshake),
	    TEST(test_cancel_twice_is_once),
	};
	return cmocka_run_group_tests_name("net-connect-cancel", tests, NULL,
					   NULL);
}

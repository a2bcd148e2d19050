/* Connection caps of a TCP listener: a connection over the total cap or
 * over its address's cap is closed at accept, before any TLS work; a
 * closed connection frees its place; unix listeners are not capped. The
 * clients are raw sockets from 127.0.0.x that never start a handshake. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal/net/tuning.h"
#include "test/unit/net/harness.h"

#define H(state) ((struct harness *)*(state))
#define MAX_RAW 8

static int raw[MAX_RAW];

/* A raw TCP connection from FROM to the listener. */
static int raw_connect(struct harness *h, const char *from)
{
	const char *address = listener_address(h->listener);
	int port = atoi(strrchr(address, ':') + 1);
	struct sockaddr_in src = {.sin_family = AF_INET};
	struct sockaddr_in dst = {.sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, from, &src.sin_addr);
	inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&src, sizeof src), 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&dst, sizeof dst), 0);
	assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	return fd;
}

/* Has the server closed FD (EOF or reset)? */
static bool raw_closed(int fd)
{
	char buf[64];
	ssize_t n = recv(fd, buf, sizeof buf, 0);
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

static int watched_fd;
static bool cond_watched_closed(struct harness *h)
{
	(void)h;
	return raw_closed(watched_fd);
}

static unsigned want_total;
static bool cond_total(struct harness *h)
{
	return listener_connections(h->listener, NULL) == want_total;
}

static void wait_total(struct harness *h, unsigned n)
{
	want_total = n;
	assert_true(harness_run_until(h, cond_total));
}

static void assert_refused(struct harness *h, int fd)
{
	watched_fd = fd;
	assert_true(harness_run_until(h, cond_watched_closed));
}

static void test_caps_per_address_and_total(void **state)
{
	struct harness *h = H(state);
	harness_listen_tls(h);
	listener_set_caps(h->listener, 3, 2);
	raw[0] = raw_connect(h, "127.0.0.1");
	raw[1] = raw_connect(h, "127.0.0.1");
	wait_total(h, 2);
	assert_int_equal(listener_connections(h->listener, "127.0.0.1"), 2);

	/* A third from the same address is over its cap. */
	raw[2] = raw_connect(h, "127.0.0.1");
	assert_refused(h, raw[2]);
	/* Another address still gets in, up to the total. */
	raw[3] = raw_connect(h, "127.0.0.2");
	wait_total(h, 3);
	raw[4] = raw_connect(h, "127.0.0.3");
	assert_refused(h, raw[4]);
	assert_false(raw_closed(raw[0]));
	assert_false(raw_closed(raw[3]));
	assert_int_equal(listener_connections(h->listener, "127.0.0.3"), 0);

	/* A closed connection frees its place. */
	close(raw[0]);
	wait_total(h, 2);
	raw[0] = raw_connect(h, "127.0.0.1");
	wait_total(h, 3);
	harness_spin(h, 10);
	assert_false(raw_closed(raw[0]));
	for (int i = 0; i < 5; i++) {
		close(raw[i]);
	}
	wait_total(h, 0);
}

/* Raising the caps lets new connections in; the accepted connection
 * counts while its owner has it, until it is closed. */
static void test_caps_count_owned_conns(void **state)
{
	struct harness *h = H(state);
	harness_connect_pair(h, h->client_ctx);
	listener_set_caps(h->listener, 1, 1);
	assert_int_equal(listener_connections(h->listener, "127.0.0.1"), 1);
	raw[0] = raw_connect(h, "127.0.0.1");
	assert_refused(h, raw[0]);
	close(raw[0]);
	listener_set_caps(h->listener, 0, 0);
	raw[0] = raw_connect(h, "127.0.0.1");
	wait_total(h, 2);
	close(raw[0]);
	wait_total(h, 1);
	peer_close(&h->server);
	wait_total(h, 0);
}

#define T(name)                                                                \
	cmocka_unit_test_setup_teardown(name, harness_setup, harness_teardown)

int test_caps_run(void);
int test_caps_run(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_caps_per_address_and_total),
	    T(test_caps_count_owned_conns),
	};
	return cmocka_run_group_tests_name("net-caps", tests, NULL, NULL);
}

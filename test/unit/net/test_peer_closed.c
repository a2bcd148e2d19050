/* conn_peer_closed: a peer's EOF or reset is seen before the bytes it sent
 * earlier have been read, on TLS and unix conns. */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "internal/net/conn_internal.h"
#include "test/unit/net/harness.h"

#define H(state) ((struct harness *)*(state))

static bool cond_server_read(struct harness *h) { return h->server.reads > 0; }

static bool cond_server_sees_close(struct harness *h)
{
	return conn_peer_closed(h->server.c);
}

/* The client sends, then half-closes; the server reads one piece and
 * stops: the FIN waits behind unread bytes, and is seen anyway. */
static void check_half_close(struct harness *h)
{
	uv_os_fd_t fd;
	peer_write(&h->client, "first", 5, 1);
	assert_true(harness_run_until(h, cond_server_read));
	assert_false(conn_peer_closed(h->server.c));
	peer_write(&h->client, "second", 6, 2);
	harness_spin(h, 20);
	assert_int_equal(uv_fileno(&h->client.c->h.handle, &fd), 0);
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	assert_true(harness_run_until(h, cond_server_sees_close));
	assert_false(h->server.eof); /* not read that far */
}

static void test_tls_half_close_seen_early(void **state)
{
	struct harness *h = H(state);
	h->server.stop_after_read = true;
	harness_connect_pair(h, h->client_ctx);
	check_half_close(h);
}

static void test_unix_half_close_seen_early(void **state)
{
	struct harness *h = H(state);
	struct sockaddr_un sun;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s/sock", h->dir);
	h->server.stop_after_read = true;
	harness_listen_unix(h, sun.sun_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof sun), 0);
	assert_int_equal(send(fd, "first", 5, 0), 5);
	assert_true(harness_run_until(h, cond_server_read));
	assert_false(conn_peer_closed(h->server.c));
	assert_int_equal(send(fd, "second", 6, 0), 6);
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	assert_true(harness_run_until(h, cond_server_sees_close));
	assert_false(h->server.eof);
	close(fd);
}

#define T(name)                                                                \
	cmocka_unit_test_setup_teardown(name, harness_setup, harness_teardown)

int test_peer_closed_run(void);
int test_peer_closed_run(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_tls_half_close_seen_early),
	    T(test_unix_half_close_seen_early),
	};
	return cmocka_run_group_tests_name("net-peer-closed", tests, NULL,
					   NULL);
}

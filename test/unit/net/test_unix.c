/* Plain conns on a unix socket: listener_unix, peer credentials,
 * back-pressure, socket file handling. The client side is a raw socket. */
#include "test/unit/net/harness.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "internal/lib/fs.h"
#include "internal/lib/mem.h"

static struct harness *H(void **state) { return *state; }

static char sock_path[100];
static int raw_fd = -1;
static char raw_in[256];
static size_t raw_in_len;

static void socket_path(struct harness *h)
{
	snprintf(sock_path, sizeof sock_path, "%s/unix.socket", h->dir);
	raw_fd = -1;
	raw_in_len = 0;
}

static int raw_unix_connect(void)
{
	struct sockaddr_un sun;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", sock_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof sun), 0);
	assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	return fd;
}

static void raw_send(const char *text)
{
	size_t len = strlen(text);
	assert_int_equal(send(raw_fd, text, len, 0), (ssize_t)len);
}

static void raw_poll(void)
{
	ssize_t n = recv(raw_fd, raw_in + raw_in_len,
			 sizeof raw_in - 1 - raw_in_len, 0);
	if (n > 0) {
		raw_in_len += (size_t)n;
		raw_in[raw_in_len] = '\0';
	}
}

static bool cond_ping_echoed(struct harness *h)
{
	raw_poll();
	return h->accepted > 0 && raw_in_len >= 4;
}

static bool cond_server_eof(struct harness *h) { return h->server.eof; }

static void test_unix_echo_peer_uid(void **state)
{
	struct harness *h = H(state);
	socket_path(h);
	h->server.echo = true;
	harness_listen_unix(h, sock_path);
	assert_string_equal(listener_address(h->listener), sock_path);
	struct stat st;
	assert_int_equal(lstat(sock_path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);

	raw_fd = raw_unix_connect();
	raw_send("ping");
	assert_true(harness_run_until(h, cond_ping_echoed));
	assert_string_equal(raw_in, "ping");

	uid_t uid = (uid_t)-1;
	assert_true(conn_peer_uid(h->server.c, &uid));
	assert_int_equal(uid, getuid());
	assert_false(conn_is_tls(h->server.c));
	assert_null(conn_peer_fingerprint(h->server.c));
	assert_string_equal(conn_peer_name(h->server.c), "unix");

	close(raw_fd);
	assert_true(harness_run_until(h, cond_server_eof));
	assert_int_equal(h->server.eof_status, 0);
}

static bool cond_read_once(struct harness *h) { return h->server.reads >= 1; }

static bool cond_b_in_kernel(struct harness *h)
{
	return harness_kernel_pending(h->server.c) > 0;
}

static bool cond_ab(struct harness *h) { return h->server.in_len >= 2; }

static void test_unix_read_stop_holds_data(void **state)
{
	struct harness *h = H(state);
	socket_path(h);
	h->server.stop_after_read = true;
	harness_listen_unix(h, sock_path);
	raw_fd = raw_unix_connect();
	raw_send("a");
	assert_true(harness_run_until(h, cond_read_once));
	raw_send("b");
	assert_true(harness_run_until(h, cond_b_in_kernel));
	harness_spin(h, 50);
	assert_int_equal(h->server.reads, 1);
	assert_int_equal(h->server.in_len, 1);

	h->server.stop_after_read = false;
	assert_int_equal(conn_read_start(h->server.c), 0);
	assert_int_equal(h->server.reads, 1);
	assert_true(harness_run_until(h, cond_ab));
	assert_memory_equal(h->server.in, "ab", 2);
	close(raw_fd);
}

static bool cond_raw_got_bye_and_eof(struct harness *h)
{
	(void)h;
	ssize_t n = recv(raw_fd, raw_in + raw_in_len,
			 sizeof raw_in - 1 - raw_in_len, 0);
	if (n > 0) {
		raw_in_len += (size_t)n;
		raw_in[raw_in_len] = '\0';
		return false;
	}
	return n == 0;
}

static bool cond_server_closed(struct harness *h) { return h->server.closed; }

static void test_unix_close_flushes_write(void **state)
{
	struct harness *h = H(state);
	socket_path(h);
	harness_listen_unix(h, sock_path);
	raw_fd = raw_unix_connect();
	assert_true(harness_run_until(h, cond_accepted));
	peer_write(&h->server, "bye", 3, 1);
	peer_close(&h->server);
	assert_true(harness_run_until(h, cond_raw_got_bye_and_eof));
	assert_string_equal(raw_in, "bye");
	assert_true(harness_run_until(h, cond_server_closed));
	assert_int_equal(h->server.write_status[0], 0);
	assert_true(h->server.last_write_event < h->server.close_event);
	close(raw_fd);
}

static void test_unix_stale_socket_replaced(void **state)
{
	struct harness *h = H(state);
	socket_path(h);
	/* A socket file left by a process that died. */
	struct sockaddr_un sun;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", sock_path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
	close(fd);
	assert_true(fs_exists(sock_path));

	harness_listen_unix(h, sock_path);
	raw_fd = raw_unix_connect();
	assert_true(harness_run_until(h, cond_accepted));
	close(raw_fd);
}

static void never_conn_cb(struct listener *l, struct conn *c)
{
	(void)l;
	(void)c;
	fail_msg("no connection expected");
}

static bool cond_accepted_twice(struct harness *h) { return h->accepted >= 2; }

static void test_unix_live_socket_refused(void **state)
{
	struct harness *h = H(state);
	socket_path(h);
	harness_listen_unix(h, sock_path);
	struct listener *second = NULL;
	int rv = listener_unix(&h->loop, sock_path, never_conn_cb, NULL,
			       &second, h->errmsg);
	assert_int_equal(rv, TM_BUSY);
	assert_null(second);
	assert_non_null(strstr(h->errmsg, sock_path));
	/* The first one still works (its first connection was the probe
	 * that found it alive). */
	assert_true(harness_run_until(h, cond_accepted));
	raw_fd = raw_unix_connect();
	assert_true(harness_run_until(h, cond_accepted_twice));
	close(raw_fd);
}

static void test_unix_not_a_socket_refused(void **state)
{
	struct harness *h = H(state);
	socket_path(h);
	assert_int_equal(fs_write_atomic(sock_path, "keep", 4, 0644, h->errmsg),
			 0);
	struct listener *l = NULL;
	int rv = listener_unix(&h->loop, sock_path, never_conn_cb, NULL, &l,
			       h->errmsg);
	assert_int_equal(rv, TM_EXISTS);
	assert_null(l);
	char *text;
	assert_int_equal(fs_read_all(sock_path, 64, &text, NULL, h->errmsg), 0);
	assert_string_equal(text, "keep");
	tm_free(text);
}

static bool cond_listener_closed(struct harness *h)
{
	return h->listener_closed;
}

static void test_unix_close_removes_socket(void **state)
{
	struct harness *h = H(state);
	socket_path(h);
	harness_listen_unix(h, sock_path);
	harness_close_listener(h);
	assert_false(fs_exists(sock_path));
	assert_true(harness_run_until(h, cond_listener_closed));
}

#define T(name)                                                                \
	cmocka_unit_test_setup_teardown(name, harness_setup, harness_teardown)

int test_unix_run(void);
int test_unix_run(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_unix_echo_peer_uid),
	    T(test_unix_read_stop_holds_data),
	    T(test_unix_close_flushes_write),
	    T(test_unix_stale_socket_replaced),
	    T(test_unix_live_socket_refused),
	    T(test_unix_not_a_socket_refused),
	    T(test_unix_close_removes_socket),
	};
	return cmocka_run_group_tests_name("net-unix", tests, NULL, NULL);
}

/* TLS conns over real sockets on 127.0.0.1: listener_tcp + conn_connect. */
#include "test/unit/net/harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "internal/lib/mem.h"
#include "internal/net/conn_internal.h"
#include "internal/net/tuning.h"

#define CHECK_IN(p, text)                                                      \
	do {                                                                   \
		assert_int_equal((p)->in_len, strlen(text));                   \
		assert_memory_equal((p)->in, text, strlen(text));              \
	} while (0)

static struct harness *H(void **state) { return *state; }

/* A plain TCP socket connected to the listener, non-blocking. */
static int raw_tcp_connect(struct harness *h)
{
	char host[256];
	int port;
	assert_int_equal(net_split_address(listener_address(h->listener), 1,
					   host, &port, h->errmsg),
			 0);
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	assert_int_equal(inet_pton(AF_INET, host, &sin.sin_addr), 1);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	return fd;
}

static int raw_fd;

/* The server closed the raw socket (EOF or reset). */
static bool cond_raw_closed(struct harness *h)
{
	(void)h;
	char buf[256];
	ssize_t n = recv(raw_fd, buf, sizeof buf, 0);
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

static void check_identities(struct harness *h, bool client_cert)
{
	assert_true(conn_is_tls(h->server.c));
	assert_true(conn_is_tls(h->client.c));
	uid_t uid;
	assert_false(conn_peer_uid(h->server.c, &uid));
	/* The client pins the server by its fingerprint. */
	assert_non_null(conn_peer_fingerprint(h->client.c));
	assert_string_equal(conn_peer_fingerprint(h->client.c), h->server_fp);
	if (client_cert) {
		assert_non_null(conn_peer_fingerprint(h->server.c));
		assert_string_equal(conn_peer_fingerprint(h->server.c),
				    h->client_fp);
	} else {
		assert_null(conn_peer_fingerprint(h->server.c));
	}
	assert_string_equal(conn_peer_name(h->client.c),
			    listener_address(h->listener));
	assert_memory_equal(conn_peer_name(h->server.c), "127.0.0.1:", 10);
}

static bool cond_hello_world(struct harness *h)
{
	return h->client.in_len >= 11 && h->client.writes_done == 3;
}

static void echo_test(struct harness *h, SSL_CTX *ctx, bool client_cert)
{
	h->server.echo = true;
	harness_connect_pair(h, ctx);
	check_identities(h, client_cert);

	peer_write(&h->client, "hello", 5, 1);
	peer_write(&h->client, "", 0, 2);
	peer_write(&h->client, " world", 6, 3);
	assert_int_equal(h->client.writes_done, 0); /* not from the call */
	assert_true(harness_run_until(h, cond_hello_world));
	CHECK_IN(&h->client, "hello world");
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(h->client.write_args[i], i + 1);
		assert_int_equal(h->client.write_status[i], 0);
	}
}

static void test_echo_with_client_cert(void **state)
{
	echo_test(H(state), H(state)->client_ctx, true);
}

static void test_echo_without_client_cert(void **state)
{
	echo_test(H(state), H(state)->anon_client_ctx, false);
}

static void test_tls12_client_refused(void **state)
{
	struct harness *h = H(state);
	SSL_CTX *old = SSL_CTX_new(TLS_client_method());
	assert_non_null(old);
	assert_int_equal(SSL_CTX_set_max_proto_version(old, TLS1_2_VERSION), 1);
	SSL_CTX_set_verify(old, SSL_VERIFY_NONE, NULL);
	harness_listen_tls(h);
	harness_connect(h, old);
	assert_true(harness_run_until(h, cond_connected));
	assert_int_equal(h->connect_status, TM_TLS);
	assert_non_null(strstr(h->connect_errmsg, "connect to"));
	assert_non_null(strstr(h->connect_errmsg, "protocol version"));
	harness_spin(h, 20);
	assert_int_equal(h->accepted, 0);
	SSL_CTX_free(old);
}

static size_t big_total;

static bool cond_big_echoed(struct harness *h)
{
	return h->client.in_len >= big_total;
}

static void test_one_mib_each_way(void **state)
{
	struct harness *h = H(state);
	h->server.echo = true;
	harness_connect_pair(h, h->client_ctx);

	big_total = 1 << 20;
	char *data = tm_malloc(big_total);
	harness_fill_pattern(data, big_total, 7);
	/* Pieces of very different sizes, one bigger than many records. */
	size_t off = 0;
	unsigned n = 0;
	while (off < big_total) {
		size_t len =
		    n == 3 ? 300 * 1024 : 1 + (size_t)(n * 7919) % 9000;
		if (len > big_total - off) {
			len = big_total - off;
		}
		peer_write(&h->client, data + off, len, n);
		off += len;
		n++;
	}
	assert_true(harness_run_until(h, cond_big_echoed));
	assert_int_equal(h->client.in_len, big_total);
	assert_int_equal(h->server.in_len, big_total);
	assert_memory_equal(h->server.in, data, big_total);
	assert_memory_equal(h->client.in, data, big_total);
	assert_int_equal(h->client.writes_done, n);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(h->client.write_args[i], i);
		assert_int_equal(h->client.write_status[i], 0);
	}
	tm_free(data);
}

static bool cond_server_read_once(struct harness *h)
{
	return h->server.reads >= 1;
}

static bool cond_first_second(struct harness *h)
{
	return h->server.in_len >= strlen("firstsecond");
}

static bool cond_third_in_kernel(struct harness *h)
{
	return h->client.writes_done == 3 &&
	       harness_kernel_pending(h->server.c) > 0;
}

static bool cond_all_three(struct harness *h)
{
	return h->server.in_len >= strlen("firstsecondthird");
}

/* conn_read_stop holds back records already received and buffered inside
 * OpenSSL, as well as bytes still in the kernel, until conn_read_start. */
static void test_read_stop_holds_data(void **state)
{
	struct harness *h = H(state);
	h->server.stop_after_read = true;
	harness_connect_pair(h, h->client_ctx);

	/* Two records written back to back reach the server's socket
	 * together and are read in one go: after the first read callback
	 * stops reading, the second record sits in OpenSSL's buffer. */
	peer_write(&h->client, "first", 5, 1);
	peer_write(&h->client, "second", 6, 2);
	assert_true(harness_run_until(h, cond_server_read_once));
	assert_int_equal(harness_kernel_pending(h->server.c), 0);
	harness_spin(h, 50);
	assert_int_equal(h->server.reads, 1);
	CHECK_IN(&h->server, "first");

	/* Restarting delivers it, though nothing new comes from the
	 * socket, and not from inside conn_read_start. */
	assert_int_equal(conn_read_start(h->server.c), 0);
	assert_int_equal(h->server.reads, 1);
	assert_true(harness_run_until(h, cond_first_second));
	assert_int_equal(h->server.reads, 2);
	CHECK_IN(&h->server, "firstsecond");

	/* Stopped again (by the read callback): new data stays in the
	 * kernel. */
	peer_write(&h->client, "third", 5, 3);
	assert_true(harness_run_until(h, cond_third_in_kernel));
	harness_spin(h, 50);
	assert_int_equal(h->server.reads, 2);

	h->server.stop_after_read = false;
	assert_int_equal(conn_read_start(h->server.c), 0);
	assert_int_equal(h->server.reads, 2);
	assert_true(harness_run_until(h, cond_all_three));
	CHECK_IN(&h->server, "firstsecondthird");
	assert_false(h->server.eof);
}

static size_t bye_len;

static bool cond_bye_and_eof(struct harness *h)
{
	return h->client.eof && h->server.closed;
}

/* Writes queued just before conn_close, far more than the socket buffers
 * hold, are still delivered, then close_notify (a clean EOF). */
static void test_close_flushes_pending_write(void **state)
{
	struct harness *h = H(state);
	harness_connect_pair(h, h->client_ctx);
	bye_len = (size_t)16 << 20;
	char *data = tm_malloc(bye_len);
	harness_fill_pattern(data, bye_len, 3);
	peer_write(&h->server, data, bye_len, 8);
	peer_write(&h->server, "bye", 3, 9);
	peer_close(&h->server);
	/* Closing: new writes are refused, a second close is ignored. */
	assert_int_equal(conn_write(h->server.c, "x", 1, NULL, NULL),
			 TM_CANCELED);
	conn_close(h->server.c, NULL);
	assert_false(h->server.closed);

	assert_true(harness_run_until(h, cond_bye_and_eof));
	assert_int_equal(h->server.writes_done, 2);
	assert_int_equal(h->server.write_args[0], 8);
	assert_int_equal(h->server.write_status[0], 0);
	assert_int_equal(h->server.write_args[1], 9);
	assert_int_equal(h->server.write_status[1], 0);
	assert_true(h->server.last_write_event < h->server.close_event);
	assert_int_equal(h->client.in_len, bye_len + 3);
	assert_memory_equal(h->client.in, data, bye_len);
	assert_memory_equal(h->client.in + bye_len, "bye", 3);
	assert_int_equal(h->client.eof_status, 0);
	tm_free(data);
}

static bool cond_server_closed(struct harness *h) { return h->server.closed; }

/* The peer reads nothing: the queued write cannot drain, and after the
 * linger time the close drops it with TM_CANCELED, before the close
 * callback. */
static void test_close_drops_stalled_write(void **state)
{
	struct harness *h = H(state);
	h->client.no_autostart = true;
	harness_connect_pair(h, h->client_ctx);

	size_t len = (size_t)32 << 20; /* far more than socket buffers */
	char *data = tm_calloc(1, len);
	peer_write(&h->server, data, len, 5);
	tm_free(data);
	harness_spin(h, 20);
	assert_int_equal(h->server.writes_done, 0);

	conn_set_linger(h->server.c, 100);
	peer_close(&h->server);
	assert_true(harness_run_until(h, cond_server_closed));
	assert_int_equal(h->server.writes_done, 1);
	assert_int_equal(h->server.write_status[0], TM_CANCELED);
	assert_true(h->server.last_write_event < h->server.close_event);
}

static bool cond_client_eof(struct harness *h) { return h->client.eof; }

static void test_peer_close_gives_clean_eof(void **state)
{
	struct harness *h = H(state);
	harness_connect_pair(h, h->client_ctx);
	peer_write(&h->server, "data", 4, 1);
	peer_close(&h->server);
	assert_true(harness_run_until(h, cond_client_eof));
	CHECK_IN(&h->client, "data");
	assert_int_equal(h->client.eof_status, 0);
	/* After EOF, starting to read again is harmless. */
	assert_int_equal(conn_read_start(h->client.c), 0);
	harness_spin(h, 5);
}

static bool cond_listener_closed(struct harness *h)
{
	return h->listener_closed;
}

static bool cond_server_eof(struct harness *h) { return h->server.eof; }

/* A TCP close without close_notify could be a truncation: TM_IO. */
static void test_eof_without_close_notify(void **state)
{
	struct harness *h = H(state);
	harness_connect_pair(h, h->client_ctx);
	peer_write(&h->client, "partial", 7, 1);
	uv_os_fd_t fd;
	assert_int_equal(uv_fileno(&h->client.c->h.handle, &fd), 0);
	assert_true(harness_run_until(h, cond_server_read_once));
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	assert_true(harness_run_until(h, cond_server_eof));
	CHECK_IN(&h->server, "partial");
	assert_int_equal(h->server.eof_status, TM_IO);
	assert_non_null(strstr(h->server.eof_errmsg, "close_notify"));
}

static void test_connect_refused(void **state)
{
	struct harness *h = H(state);
	harness_listen_tls(h);
	char address[64];
	snprintf(address, sizeof address, "%s", listener_address(h->listener));
	harness_close_listener(h);
	assert_true(harness_run_until(h, cond_listener_closed));

	harness_connect_to(h, address, h->client_ctx);
	assert_true(harness_run_until(h, cond_connected));
	assert_int_equal(h->connect_status, TM_IO);
	assert_non_null(strstr(h->connect_errmsg, address));
	assert_non_null(strstr(h->connect_errmsg, "refused"));
}

static void test_connect_bad_address(void **state)
{
	struct harness *h = H(state);
	/* Reported from the loop, with a message naming the value. */
	harness_connect_to(h, "127.0.0.1:99999", h->client_ctx);
	assert_true(harness_run_until(h, cond_connected));
	assert_int_equal(h->connect_status, TM_INVALID);
	assert_non_null(strstr(h->connect_errmsg, "\"99999\""));
}

static void test_connect_unresolvable(void **state)
{
	struct harness *h = H(state);
	harness_connect_to(h, "no-such-host.invalid:443", h->client_ctx);
	assert_true(harness_run_until(h, cond_connected));
	/* TM_TIMEOUT where the resolver does not answer within the connect
	 * deadline. */
	assert_true(h->connect_status == TM_IO ||
		    h->connect_status == TM_TIMEOUT);
	assert_non_null(strstr(h->connect_errmsg, "no-such-host.invalid"));
}

static void test_listener_reports_port(void **state)
{
	struct harness *h = H(state);
	harness_listen_tls(h);
	const char *address = listener_address(h->listener);
	assert_memory_equal(address, "127.0.0.1:", 10);
	assert_true(atoi(address + 10) > 0);
}

static void never_conn_cb(struct listener *l, struct conn *c)
{
	(void)l;
	(void)c;
	fail_msg("no connection expected");
}

static void test_listener_address_in_use(void **state)
{
	struct harness *h = H(state);
	harness_listen_tls(h);
	struct listener *second = NULL;
	char address[64];
	snprintf(address, sizeof address, "%s", listener_address(h->listener));
	int rv = listener_tcp(&h->loop, address, h->server_ctx, never_conn_cb,
			      NULL, &second, h->errmsg);
	assert_int_equal(rv, TM_IO);
	assert_null(second);
	assert_non_null(strstr(h->errmsg, address));
}

static void test_handshake_timeout(void **state)
{
	struct harness *h = H(state);
	harness_listen_tls(h);
	listener_set_handshake_timeout(h->listener, 100);
	raw_fd = raw_tcp_connect(h); /* and say nothing */
	assert_true(harness_run_until(h, cond_raw_closed));
	assert_int_equal(h->accepted, 0);
	close(raw_fd);
}

static void test_listener_close_drops_handshakes(void **state)
{
	struct harness *h = H(state);
	harness_listen_tls(h);
	/* Longer than the harness deadline: only the close can end it. */
	listener_set_handshake_timeout(h->listener, 10 * HARNESS_DEADLINE_MS);
	raw_fd = raw_tcp_connect(h);
	harness_spin(h, 20); /* accepted, handshake pending */
	assert_int_equal(h->accepted, 0);
	assert_false(cond_raw_closed(h));
	/* The teardown closes the listener; it must close the pending
	 * connection too before its callback runs. */
	harness_close_listener(h);
	assert_true(harness_run_until(h, cond_listener_closed));
	assert_true(harness_run_until(h, cond_raw_closed));
	close(raw_fd);
}

#define T(name)                                                                \
	cmocka_unit_test_setup_teardown(name, harness_setup, harness_teardown)

int test_tls_conn_run(void);
int test_tls_conn_run(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_echo_with_client_cert),
	    T(test_echo_without_client_cert),
	    T(test_tls12_client_refused),
	    T(test_one_mib_each_way),
	    T(test_read_stop_holds_data),
	    T(test_close_flushes_pending_write),
	    T(test_close_drops_stalled_write),
	    T(test_peer_close_gives_clean_eof),
	    T(test_eof_without_close_notify),
	    T(test_connect_refused),
	    T(test_connect_bad_address),
	    T(test_connect_unresolvable),
	    T(test_listener_reports_port),
	    T(test_listener_address_in_use),
	    T(test_handshake_timeout),
	    T(test_listener_close_drops_handshakes),
	};
	return cmocka_run_group_tests_name("net-tls", tests, NULL, NULL);
}

/* The in-memory conn used by the rest tests behaves like the real one:
 * deferred callbacks, back-pressure, EOF after data, close flushing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "internal/lib/err.h"
#include "internal/lib/mem.h"
#include "mocks/conn_fake.h"

struct peer {
	char got[256];
	size_t got_len;
	int reads;
	int eofs;
	int eof_status;
	int writes_done;
	int write_status;
	int closes;
	bool stop_after_read;
};

static void read_cb(struct conn *c, const char *buf, size_t len)
{
	struct peer *p = conn_data(c);
	memcpy(p->got + p->got_len, buf, len);
	p->got_len += len;
	p->reads++;
	if (p->stop_after_read) {
		conn_read_stop(c);
	}
}

static void eof_cb(struct conn *c, int status)
{
	struct peer *p = conn_data(c);
	p->eofs++;
	p->eof_status = status;
}

static void write_cb(struct conn *c, void *arg, int status)
{
	(void)c;
	struct peer *p = arg;
	p->writes_done++;
	p->write_status = status;
}

static void close_cb(struct conn *c)
{
	struct peer *p = conn_data(c);
	p->closes++;
}

static void spin(uv_loop_t *loop)
{
	for (int i = 0; i < 10; i++) {
		uv_run(loop, UV_RUN_NOWAIT);
	}
}

static struct conn *new_conn(uv_loop_t *loop, struct peer *p)
{
	memset(p, 0, sizeof *p);
	struct conn *c = conn_fake_new(loop);
	conn_set_data(c, p);
	conn_set_callbacks(c, read_cb, eof_cb);
	return c;
}

static void finish(uv_loop_t *loop, struct conn *c, struct peer *p)
{
	conn_close(c, close_cb);
	assert_int_equal(p->closes, 0);
	spin(loop);
	assert_int_equal(p->closes, 1);
	assert_true(conn_fake_closed(c));
	conn_fake_release(c);
	assert_int_equal(uv_run(loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(loop), 0);
}

static void test_reads_are_deferred(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct peer p;
	uv_loop_init(&loop);
	struct conn *c = new_conn(&loop, &p);
	conn_fake_push_str(c, "early");
	spin(&loop);
	assert_int_equal(p.reads, 0); /* not reading yet */
	conn_read_start(c);
	assert_int_equal(p.reads, 0); /* never inside the call */
	conn_fake_push_str(c, "late");
	conn_fake_push_eof(c);
	spin(&loop);
	assert_int_equal(p.reads, 2);
	assert_int_equal(p.got_len, 9);
	assert_memory_equal(p.got, "earlylate", 9);
	assert_int_equal(p.eofs, 1);
	assert_int_equal(p.eof_status, 0);
	finish(&loop, c, &p);
}

static void test_read_stop_holds_data_and_eof(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct peer p;
	uv_loop_init(&loop);
	struct conn *c = new_conn(&loop, &p);
	p.stop_after_read = true;
	conn_read_start(c);
	conn_fake_push_str(c, "a");
	conn_fake_push_str(c, "b");
	conn_fake_push_eof(c);
	spin(&loop);
	assert_int_equal(p.reads, 1);
	assert_int_equal(p.eofs, 0);
	p.stop_after_read = false;
	conn_read_start(c);
	spin(&loop);
	assert_int_equal(p.reads, 2);
	assert_int_equal(p.eofs, 1);
	finish(&loop, c, &p);
}

static void test_break_while_stopped(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct peer p;
	uv_loop_init(&loop);
	struct conn *c = new_conn(&loop, &p);
	conn_fake_break(c, TM_IO);
	spin(&loop);
	assert_int_equal(p.eofs, 1);
	assert_int_equal(p.eof_status, TM_IO);
	assert_non_null(strstr(conn_errmsg(c), "broken"));
	conn_write(c, "x", 1, write_cb, &p);
	spin(&loop);
	assert_int_equal(p.writes_done, 1);
	assert_int_equal(p.write_status, TM_IO);
	size_t len;
	conn_fake_output(c, &len);
	assert_int_equal(len, 0);
	finish(&loop, c, &p);
}

static void test_writes_and_close_flush(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct peer p;
	uv_loop_init(&loop);
	struct conn *c = new_conn(&loop, &p);
	conn_write(c, "hello ", 6, write_cb, &p);
	assert_int_equal(p.writes_done, 0);
	assert_int_equal(conn_fake_pending_writes(c), 1);
	spin(&loop);
	assert_int_equal(p.writes_done, 1);
	conn_write(c, "world", 5, write_cb, &p);
	conn_close(c, close_cb);
	assert_true(conn_fake_close_called(c));
	spin(&loop);
	/* The pending write completed before the close callback. */
	assert_int_equal(p.writes_done, 2);
	assert_int_equal(p.write_status, 0);
	assert_int_equal(p.closes, 1);
	char *out = conn_fake_take_output(c, NULL);
	assert_string_equal(out, "hello world");
	tm_free(out);
	conn_fake_release(c);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_identity(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct peer p;
	uid_t uid;
	uv_loop_init(&loop);
	struct conn *c = new_conn(&loop, &p);
	assert_false(conn_is_tls(c));
	assert_false(conn_peer_uid(c, &uid));
	assert_null(conn_peer_fingerprint(c));
	conn_fake_set_tls(c, "abcd");
	assert_true(conn_is_tls(c));
	assert_string_equal(conn_peer_fingerprint(c), "abcd");
	conn_fake_set_tls(c, NULL);
	assert_null(conn_peer_fingerprint(c));
	conn_fake_set_unix(c, 1000);
	assert_false(conn_is_tls(c));
	assert_true(conn_peer_uid(c, &uid));
	assert_int_equal(uid, 1000);
	assert_string_equal(conn_peer_name(c), "unix");
	finish(&loop, c, &p);
}

struct connect_result {
	int calls;
	struct conn *c;
	int status;
	char errmsg[TM_ERRMSG_SIZE];
	struct conn *server_side;
};

static int accept_hook(void *arg, const char *address, struct conn *c)
{
	struct connect_result *r = arg;
	if (strcmp(address, "refused:1") == 0) {
		return TM_IO;
	}
	r->server_side = c;
	return 0;
}

static void connect_cb(void *arg, struct conn *c, int status,
		       const char *errmsg)
{
	struct connect_result *r = arg;
	r->calls++;
	r->c = c;
	r->status = status;
	snprintf(r->errmsg, sizeof r->errmsg, "%s", errmsg ? errmsg : "");
}

static void test_connect(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct connect_result r = {0};
	uv_loop_init(&loop);
	conn_fake_set_connect_hook(accept_hook, &r);
	assert_int_equal(conn_connect(&loop, "refused:1", NULL, connect_cb,
				      &r),
			 0);
	assert_int_equal(r.calls, 0);
	spin(&loop);
	assert_int_equal(r.calls, 1);
	assert_null(r.c);
	assert_int_equal(r.status, TM_IO);
	assert_non_null(strstr(r.errmsg, "refused:1"));

	assert_int_equal(conn_connect(&loop, "ok:2", NULL, connect_cb, &r),
			 0);
	spin(&loop);
	assert_int_equal(r.calls, 2);
	assert_int_equal(r.status, 0);
	assert_ptr_equal(r.c, r.server_side);
	assert_true(conn_is_tls(r.c));
	conn_write(r.c, "ping", 4, NULL, NULL);
	spin(&loop);
	assert_string_equal(conn_fake_output(r.c, NULL), "ping");
	conn_fake_set_connect_hook(NULL, NULL);
	struct peer p = {0};
	conn_set_data(r.c, &p);
	finish(&loop, r.c, &p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_are_deferred),
		cmocka_unit_test(test_read_stop_holds_data_and_eof),
		cmocka_unit_test(test_break_while_stopped),
		cmocka_unit_test(test_writes_and_close_flush),
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_connect),
	};
	return cmocka_run_group_tests_name("rest-conn-fake", tests, NULL,
					   NULL);
}

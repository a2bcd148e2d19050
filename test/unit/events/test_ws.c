/* GET /1.0/events as a WebSocket (internal/events/ws.c) on the in-memory
 * conn: events as text frames, pings answered, a close honoured, a client
 * that does not read dropped with a final message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "internal/events/stream.h"
#include "internal/lib/mem.h"
#include "mocks/conn_fake.h"

struct fixture {
	uv_loop_t loop;
	struct events_bus *bus;
	struct conn *conn;
};

static void spin(struct fixture *f)
{
	for (int i = 0; i < 20; i++) {
		uv_run(&f->loop, UV_RUN_NOWAIT);
	}
}

static int setup_with(void **state, size_t max_events)
{
	struct fixture *f = tm_calloc(1, sizeof *f);
	uv_loop_init(&f->loop);
	struct events_limits limits = {.max_events = max_events};
	events_bus_new("m1", &limits, &f->bus);
	f->conn = conn_fake_new(&f->loop);
	struct events_sub_config cfg = {.types = EVENTS_ALL, .level = LOG_INFO};
	events_ws_serve(f->bus, &cfg, f->conn, NULL, 0);
	spin(f);
	*state = f;
	return 0;
}

static int setup(void **state) { return setup_with(state, 0); }
static int setup_small(void **state) { return setup_with(state, 4); }

static int teardown(void **state)
{
	struct fixture *f = *state;
	events_bus_free(f->bus);
	spin(f);
	conn_fake_release(f->conn);
	spin(f);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	tm_free(f);
	return 0;
}

/* A frame from the server (never masked): its opcode and payload. Returns
 * the frame's size, 0 if BUF does not hold a whole frame. */
static size_t frame(const unsigned char *buf, size_t len, int *opcode,
		    const unsigned char **payload, size_t *n)
{
	if (len < 2) {
		return 0;
	}
	assert_int_equal(buf[1] & 0x80, 0);
	size_t head = 2;
	*n = buf[1] & 0x7f;
	if (*n == 126) {
		*n = (size_t)buf[2] << 8 | buf[3];
		head = 4;
	}
	if (len < head + *n) {
		return 0;
	}
	*opcode = buf[0] & 0x0f;
	assert_int_equal(buf[0] & 0x80, 0x80); /* FIN */
	*payload = buf + head;
	return head + *n;
}

/* A masked frame from the client. */
static void push_frame(struct conn *c, int opcode, const void *data, size_t n)
{
	unsigned char buf[256];
	const unsigned char mask[4] = {0x11, 0x22, 0x33, 0x44};
	assert_true(n < 126);
	buf[0] = (unsigned char)(0x80 | opcode);
	buf[1] = (unsigned char)(0x80 | n);
	memcpy(buf + 2, mask, 4);
	for (size_t i = 0; i < n; i++) {
		buf[6 + i] = ((const unsigned char *)data)[i] ^ mask[i % 4];
	}
	conn_fake_push(c, buf, 6 + n);
}

static void test_events_as_text_frames(void **state)
{
	struct fixture *f = *state;
	events_emit(f->bus, EVENTS_CLUSTER, LOG_INFO, NULL);
	events_emit(f->bus, EVENTS_CONFIG, LOG_INFO, NULL);
	spin(f);
	size_t len;
	const unsigned char *out =
	    (const unsigned char *)conn_fake_output(f->conn, &len);
	for (int seq = 1; seq <= 2; seq++) {
		int opcode = 0;
		const unsigned char *p = NULL;
		size_t n = 0;
		size_t size = frame(out, len, &opcode, &p, &n);
		assert_true(size > 0);
		assert_int_equal(opcode, 1); /* text */
		cJSON *e = cJSON_ParseWithLength((const char *)p, n);
		assert_non_null(e);
		assert_int_equal(cJSON_GetObjectItem(e, "sequence")->valueint,
				 seq);
		cJSON_Delete(e);
		out += size;
		len -= size;
	}
	assert_int_equal(len, 0);
}

static void test_ping_then_close(void **state)
{
	struct fixture *f = *state;
	push_frame(f->conn, 0x9, "hi", 2);
	spin(f);
	size_t len;
	const unsigned char *out =
	    (const unsigned char *)conn_fake_output(f->conn, &len);
	int opcode = 0;
	const unsigned char *p = NULL;
	size_t n = 0;
	size_t size = frame(out, len, &opcode, &p, &n);
	assert_int_equal(size, len);
	assert_int_equal(opcode, 0xA); /* pong */
	assert_int_equal(n, 2);
	assert_memory_equal(p, "hi", 2);
	conn_fake_consume(f->conn, size);

	const unsigned char code[2] = {0x03, 0xE8}; /* 1000 */
	push_frame(f->conn, 0x8, code, 2);
	spin(f);
	out = (const unsigned char *)conn_fake_output(f->conn, &len);
	size = frame(out, len, &opcode, &p, &n);
	assert_true(size > 0);
	assert_int_equal(opcode, 0x8);
	assert_true(conn_fake_closed(f->conn));
	struct events_stats st;
	events_bus_stats(f->bus, &st);
	assert_int_equal(st.subscribers, 0);
}

static void test_slow_client_gets_final_message(void **state)
{
	struct fixture *f = *state;
	char big[2048];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	conn_fake_stall_writes(f->conn, true);
	/* The window (64 KiB) fills, then the queue (4 events) overflows. */
	int i;
	for (i = 0; i < 100 && !conn_fake_close_called(f->conn); i++) {
		cJSON *m = cJSON_CreateObject();
		cJSON_AddStringToObject(m, "v", big);
		events_emit(f->bus, EVENTS_CONFIG, LOG_INFO, m);
		spin(f);
	}
	assert_true(conn_fake_close_called(f->conn));
	assert_true(i > 30 && i < 40);
	struct events_stats st;
	events_bus_stats(f->bus, &st);
	assert_int_equal(st.overflowed, 1);
	assert_int_equal(st.subscribers, 0);
	assert_int_equal(st.queued_bytes, 0);
	/* The last two frames: the error event, then close 1008. */
	size_t len;
	const unsigned char *out =
	    (const unsigned char *)conn_fake_output(f->conn, &len);
	int opcode = -1, last_text = -1;
	const unsigned char *p = NULL, *text = NULL;
	size_t n = 0, text_n = 0, size;
	while ((size = frame(out, len, &opcode, &p, &n)) > 0) {
		if (opcode == 1) {
			text = p;
			text_n = n;
			last_text = opcode;
		}
		out += size;
		len -= size;
		if (opcode == 8) {
			break;
		}
	}
	assert_int_equal(len, 0);
	assert_int_equal(opcode, 8);
	assert_int_equal(p[0] << 8 | p[1], 1008);
	assert_int_equal(last_text, 1);
	cJSON *e = cJSON_ParseWithLength((const char *)text, text_n);
	assert_string_equal(cJSON_GetObjectItem(e, "type")->valuestring,
			    "error");
	assert_non_null(strstr(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(e, "metadata"), "message")
		->valuestring,
	    "client too slow: "));
	cJSON_Delete(e);
	spin(f);
	assert_true(conn_fake_closed(f->conn));
}

static void test_bus_shutdown_closes_1001(void **state)
{
	struct fixture *f = *state;
	events_bus_shutdown(f->bus);
	spin(f);
	size_t len;
	const unsigned char *out =
	    (const unsigned char *)conn_fake_output(f->conn, &len);
	int opcode = 0;
	const unsigned char *p = NULL;
	size_t n = 0;
	assert_int_equal(frame(out, len, &opcode, &p, &n), len);
	assert_int_equal(opcode, 8);
	assert_int_equal(p[0] << 8 | p[1], 1001);
	assert_true(conn_fake_closed(f->conn));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_events_as_text_frames, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_ping_then_close, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_slow_client_gets_final_message,
					    setup_small, teardown),
	    cmocka_unit_test_setup_teardown(test_bus_shutdown_closes_1001,
					    setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

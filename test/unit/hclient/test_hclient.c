/* The loop client against real TLS servers on 127.0.26.x. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/lib/mem.h"
#include "test/unit/hclient/fixture.h"

/* ---- server side ---- */

static void echo(struct rest_request *req)
{
	struct hc_server *s = rest_server_data(req);
	s->handled++;
	size_t len;
	const char *body = rest_body(req, &len);
	const char *test = rest_header(req, "X-Test");
	const char *type = rest_header(req, "Content-Type");
	char *head =
	    tm_asprintf("%s %s\nx-test: %s\ncontent-type: %s\n\n",
			rest_method(req), rest_target(req),
			test != NULL ? test : "-", type != NULL ? type : "-");
	size_t head_len = strlen(head);
	char *out = tm_malloc(head_len + len);
	memcpy(out, head, head_len);
	memcpy(out + head_len, body, len);
	rest_respond_raw(req, 201, "text/x-echo", out, head_len + len,
			 "ETag: \"e1\"\r\n");
	tm_free(out);
	tm_free(head);
}

static void hold(struct rest_request *req)
{
	struct hc_server *s = rest_server_data(req);
	s->handled++;
	hc_hold(req);
}

static void big(struct rest_request *req)
{
	struct hc_server *s = rest_server_data(req);
	s->handled++;
	size_t n = (size_t)atol(rest_query(req, "n"));
	char *buf = tm_malloc(n);
	memset(buf, 'x', n);
	rest_respond_raw(req, 200, "application/octet-stream", buf, n, NULL);
	tm_free(buf);
}

static void chunk_written(struct rest_request *req, void *arg, int status)
{
	(void)req;
	(void)arg;
	(void)status;
}

/* The same without a Content-Length: the limit is met while reading. */
static void big_chunked(struct rest_request *req)
{
	struct hc_server *s = rest_server_data(req);
	s->handled++;
	size_t n = (size_t)atol(rest_query(req, "n"));
	char *buf = tm_malloc(n);
	memset(buf, 'y', n);
	if (rest_stream_begin(req, 200, "application/octet-stream", NULL) ==
	    0) {
		rest_stream_write(req, buf, n, chunk_written, NULL);
	}
	rest_stream_end(req);
	tm_free(buf);
}

static const struct rest_route routes[] = {
    {.path = "/echo", .get = echo, .post = echo, .put = echo, .delete = echo},
    {.path = "/hold", .get = hold, .post = hold},
    {.path = "/big", .get = big},
    {.path = "/big-chunked", .get = big_chunked},
};
#define N_ROUTES (sizeof routes / sizeof routes[0])

static struct hc_server *rest_server(struct hc *hc, int ip)
{
	return hc_rest_start(hc, ip, routes, N_ROUTES);
}

/* ---- success ---- */

static void get_with_headers(void **state)
{
	struct hc *hc = *state;
	struct hc_server *s = rest_server(hc, 1);
	struct hclient_request r;
	struct hc_done d = {0};
	hc_request_init(&r, s, "GET", "/echo?a=1&b=%20x");
	r.headers = "X-Test: hello\r\nX-Other: 2\r\n";
	hc_send(hc->client, &r, &d);
	assert_int_equal(hclient_pending(hc->client), 1);
	hc_wait(hc, &d);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.errmsg, "");
	assert_true(r.sent);
	assert_int_equal(r.http_status, 201);
	assert_string_equal(r.content_type_out, "text/x-echo");
	assert_string_equal(r.etag, "\"e1\"");
	assert_string_equal(r.body_out, "GET /echo?a=1&b=%20x\n"
					"x-test: hello\n"
					"content-type: -\n\n");
	assert_int_equal(r.body_out_len, strlen(r.body_out));
	assert_int_equal(hclient_pending(hc->client), 0);
	hclient_request_clear(&r);
}

static void post_body(void **state)
{
	struct hc *hc = *state;
	struct hc_server *s = rest_server(hc, 1);
	size_t n = 3 * 1024 * 1024 + 7; /* many writes, several reads */
	char *body = tm_malloc(n);
	for (size_t i = 0; i < n; i++) {
		body[i] = (char)('a' + i % 26);
	}
	struct hclient_request r;
	struct hc_done d = {0};
	hc_request_init(&r, s, "PUT", "/echo");
	r.body = body;
	r.body_len = n;
	r.content_type = "application/x-test";
	hc_send(hc->client, &r, &d);
	hc_wait(hc, &d);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.http_status, 201);
	const char *head = "PUT /echo\nx-test: -\n"
			   "content-type: application/x-test\n\n";
	size_t head_len = strlen(head);
	assert_int_equal(r.body_out_len, head_len + n);
	assert_memory_equal(r.body_out, head, head_len);
	assert_memory_equal(r.body_out + head_len, body, n);
	hclient_request_clear(&r);

	/* A POST without a type carries none (curl would add a form's). */
	struct hc_done d2 = {0};
	hc_request_init(&r, s, "POST", "/echo");
	r.body = "{}";
	r.body_len = 2;
	hc_send(hc->client, &r, &d2);
	hc_wait(hc, &d2);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.body_out, "POST /echo\nx-test: -\n"
					"content-type: -\n\n{}");
	hclient_request_clear(&r);
	tm_free(body);
}

static void invalid_inputs(void **state)
{
	struct hc *hc = *state;
	struct hc_server *s = rest_server(hc, 1);
	struct hclient_request r;
	hc_request_init(&r, s, "GET", "/echo");
	r.pin = "AB";
	assert_int_equal(hclient_send(hc->client, &r, hc_done_cb), TM_INVALID);
	assert_string_equal(r.errmsg,
			    "invalid request: bad pin (64 lowercase hex "
			    "characters)");
	hc_request_init(&r, s, "GET", "echo");
	assert_int_equal(hclient_send(hc->client, &r, hc_done_cb), TM_INVALID);
	hc_request_init(&r, s, "GET", "/echo");
	r.address = "evil@127.0.26.1:1";
	assert_int_equal(hclient_send(hc->client, &r, hc_done_cb), TM_INVALID);
	assert_int_equal(hclient_pending(hc->client), 0);
}

/* ---- failures before anything is sent ---- */

static void pin_mismatch(void **state)
{
	struct hc *hc = *state;
	struct hc_server *s = rest_server(hc, 1);
	struct hc_server *other = rest_server(hc, 2);
	struct hclient_request r;
	struct hc_done d = {0};
	hc_request_init(&r, s, "POST", "/echo");
	r.pin = other->fp;
	hc_send(hc->client, &r, &d);
	hc_wait(hc, &d);
	assert_int_equal(r.status, TM_PIN);
	assert_false(r.sent);
	char want[TM_ERRMSG_SIZE];
	snprintf(want, sizeof want,
		 "%s presented certificate %s, not the pinned %s", s->address,
		 s->fp, other->fp);
	assert_string_equal(r.errmsg, want);
	assert_null(r.body_out);
	assert_int_equal(s->handled, 0);
	hclient_request_clear(&r);
}

/* A kept-alive connection was verified with the first request's pin: a
 * request with another pin must not go out on it. */
static void pin_mismatch_on_reused_connection(void **state)
{
	struct hc *hc = *state;
	struct hc_server *s = rest_server(hc, 1);
	struct hc_server *other = rest_server(hc, 2);
	struct hclient_request r;
	struct hc_done d1 = {0}, d2 = {0}, d3 = {0};
	hc_request_init(&r, s, "GET", "/echo");
	hc_send(hc->client, &r, &d1);
	hc_wait(hc, &d1);
	assert_int_equal(r.status, 0);
	hclient_request_clear(&r);
	hc_request_init(&r, s, "POST", "/echo");
	r.pin = other->fp;
	hc_send(hc->client, &r, &d2);
	hc_wait(hc, &d2);
	assert_int_equal(r.status, TM_PIN);
	assert_false(r.sent);
	assert_int_equal(s->handled, 1);
	/* The right pin still works on that connection. */
	hc_request_init(&r, s, "GET", "/echo");
	hc_send(hc->client, &r, &d3);
	hc_wait(hc, &d3);
	assert_int_equal(r.status, 0);
	assert_int_equal(s->handled, 2);
	/* The refused transfer took its connection down with it. */
	assert_int_equal(s->accepted, 2);
	hclient_request_clear(&r);
}

static void connection_refused(void **state)
{
	struct hc *hc = *state;
	struct hc_server *s = rest_server(hc, 1);
	struct hclient_request r;
	struct hc_done d = {0};
	hc_request_init(&r, s, "GET", "/echo");
	r.address = "127.0.26.9:1";
	hc_send(hc->client, &r, &d);
	hc_wait(hc, &d);
	assert_int_equal(r.status, TM_CONNECT);
	assert_false(r.sent);
	assert_string_equal(r.errmsg,
			    "connect to 127.0.26.9:1: connection refused");
	hclient_request_clear(&r);
}

static void connect_timeout(void **state)
{
	struct hc *hc = *state;
	struct hc_server *m = hc_mute_start(hc, 3);
	struct hclient_request r;
	struct hc_done d = {0};
	hc_request_init(&r, m, "POST", "/echo");
	uint64_t t0 = uv_hrtime();
	hc_send(hc->client, &r, &d); /* connect timeout: 500 ms */
	hc_wait(hc, &d);
	uint64_t ms = (uv_hrtime() - t0) / 1000000;
	assert_int_equal(r.status, TM_TIMEOUT);
	assert_false(r.sent);
	assert_non_null(strstr(r.errmsg, "timed out after"));
	assert_true(ms >= 450 && ms < 5000);
	assert_int_equal(m->accepted, 1);
	hclient_request_clear(&r);
}

/* ---- failures once sent ---- */

static void answer_timeout(void **state)
{
	struct hc *hc = *state;
	struct hc_server *s = rest_server(hc, 1);
	struct hclient_request r;
	struct hc_done d = {0};
	hc_request_init(&r, s, "POST", "/hold");
	r.timeout_ms = 300;
	hc_send(hc->client, &r, &d);
	hc_wait(hc, &d);
	assert_int_equal(r.status, TM_TIMEOUT);
	assert_true(r.sent);
	assert_int_equal(s->handled, 1);
	char want[TM_ERRMSG_SIZE];
	snprintf(want, sizeof want, "no answer from %s within", s->address);
	assert_memory_equal(r.errmsg, want, strlen(want));
	hclient_request_clear(&r);
}

static void server_closes_mid_request(void **state)
{
	struct hc *hc = *state;
	struct hc_server *s = hc_raw_start(hc, 4, HC_RAW_SLAM);
	struct hclient_request r;
	struct hc_done d = {0};
	hc_request_init(&r, s, "POST", "/anything");
	r.body = "x";
	r.body_len = 1;
	hc_send(hc->client, &r, &d);
	hc_wait(hc, &d);
	assert_int_equal(r.status, TM_IO);
	assert_true(r.sent);
	assert_int_equal(s->handled, 1);
	char want[TM_ERRMSG_SIZE];
	snprintf(want, sizeof want, "connection to %s lost: ", s->address);
	assert_memory_equal(r.errmsg, want, strlen(want));
	hclient_request_clear(&r);
}

static void answer_too_big(void **state)
{
	struct hc *hc = *state;
	struct hc_server *s = rest_server(hc, 1);
	const char *paths[] = {"/big?n=100000", "/big-chunked?n=100000"};
	for (int i = 0; i < 2; i++) {
		struct hclient_request r;
		struct hc_done d = {0};
		hc_request_init(&r, s, "GET", paths[i]);
		r.max_response = 1000;
		hc_send(hc->client, &r, &d);
		hc_wait(hc, &d);
		assert_int_equal(r.status, TM_TOOBIG);
		assert_null(r.body_out);
		char want[TM_ERRMSG_SIZE];
		snprintf(want, sizeof want,
			 "answer from %s is larger than 1000 bytes",
			 s->address);
		assert_string_equal(r.errmsg, want);
		hclient_request_clear(&r);
	}
	/* Exactly at the limit is fine. */
	struct hclient_request r;
	struct hc_done d = {0};
	hc_request_init(&r, s, "GET", "/big-chunked?n=1000");
	r.max_response = 1000;
	hc_send(hc->client, &r, &d);
	hc_wait(hc, &d);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.body_out_len, 1000);
	hclient_request_clear(&r);
}

/* ---- cancel and close ---- */

static bool held_one(void *arg) { return ((struct hc *)arg)->n_held >= 1; }

static bool peer_gone(void *arg)
{
	struct rest_request *req = arg;
	struct conn *c = rest_conn(req);
	return c == NULL || conn_peer_closed(c);
}

static void cancel_pending(void **state)
{
	struct hc *hc = *state;
	struct hc_server *s = rest_server(hc, 1);
	struct hclient_request r;
	struct hc_done d = {0};
	hc_request_init(&r, s, "POST", "/hold");
	hc_send(hc->client, &r, &d);
	assert_true(hc_run_until(hc, held_one, hc, HC_DEADLINE_MS));
	d.inside = true;
	hclient_cancel(&r);
	d.inside = false;
	assert_int_equal(d.calls, 0);
	hc_wait(hc, &d);
	assert_int_equal(r.status, TM_CANCELED);
	assert_true(r.sent);
	char want[TM_ERRMSG_SIZE];
	snprintf(want, sizeof want, "request to %s canceled", s->address);
	assert_string_equal(r.errmsg, want);
	/* The connection with a request cut in the middle is closed. */
	assert_true(
	    hc_run_until(hc, peer_gone, hc->held[0].req, HC_DEADLINE_MS));

	/* Canceled before curl even started: nothing sent. */
	struct hc_done d2 = {0};
	hc_request_init(&r, s, "POST", "/echo");
	hc_send(hc->client, &r, &d2);
	hclient_cancel(&r);
	hc_wait(hc, &d2);
	assert_int_equal(r.status, TM_CANCELED);
	assert_false(r.sent);
	assert_int_equal(s->handled, 1);
	hclient_request_clear(&r);
}

struct close_watch {
	struct hc_done *done;
	size_t n;
	bool closed;
	bool all_before_close;
};

static void close_watch_cb(void *data)
{
	struct close_watch *w = data;
	w->closed = true;
	w->all_before_close = true;
	for (size_t i = 0; i < w->n; i++) {
		if (w->done[i].calls != 1) {
			w->all_before_close = false;
		}
	}
}

static bool watch_closed(void *arg)
{
	return ((struct close_watch *)arg)->closed;
}

static void close_with_pending(void **state)
{
	struct hc *hc = *state;
	struct hc_server *s = rest_server(hc, 1);
	struct hc_server *m = hc_mute_start(hc, 3);
	struct hc_server *hang = hc_raw_start(hc, 4, HC_RAW_HANG);
	struct hclient *c = hc_client_new(hc, 10000, 0);
	enum { N = 12 };
	struct hclient_request r[N];
	struct hc_done d[N];
	memset(d, 0, sizeof d);
	for (int i = 0; i < N; i++) {
		switch (i % 4) {
		case 0:
			hc_request_init(&r[i], s, "POST", "/hold");
			break;
		case 1:
			hc_request_init(&r[i], m, "GET", "/x");
			break;
		case 2:
			hc_request_init(&r[i], hang, "GET", "/x");
			break;
		default:
			hc_request_init(&r[i], s, "GET", "/echo");
			break;
		}
		hc_send(c, &r[i], &d[i]);
	}
	/* Let the held and hanging ones get sent, and the echoes answer. */
	hc_run_for(hc, 300);
	assert_int_equal(hc->n_held, 3);
	struct close_watch w = {d, N, false, false};
	for (int i = 0; i < N; i++) {
		d[i].inside = true;
	}
	hclient_close(c, close_watch_cb, &w);
	for (int i = 0; i < N; i++) {
		d[i].inside = false;
	}
	assert_false(w.closed);
	assert_true(hc_run_until(hc, watch_closed, &w, HC_DEADLINE_MS));
	assert_true(w.all_before_close);
	for (int i = 0; i < N; i++) {
		assert_int_equal(d[i].calls, 1);
		assert_false(d[i].early);
		assert_int_equal(d[i].status, i % 4 == 3 ? 0 : TM_CANCELED);
		hclient_request_clear(&r[i]);
	}
}

/* ---- keep-alive and concurrency ---- */

struct chain {
	struct hclient *c;
	struct hclient_request r;
	unsigned left;
	unsigned ok;
	bool early;
	bool inside;
};

static void chain_cb(struct hclient_request *r)
{
	struct chain *ch = r->data;
	if (ch->inside) {
		ch->early = true;
	}
	if (r->status == 0 && r->http_status == 201) {
		ch->ok++;
	}
	if (--ch->left > 0) {
		ch->inside = true;
		assert_int_equal(hclient_send(ch->c, r, chain_cb), 0);
		ch->inside = false;
	}
}

static bool chain_done(void *arg) { return ((struct chain *)arg)->left == 0; }

static void keep_alive(void **state)
{
	struct hc *hc = *state;
	struct hc_server *s = rest_server(hc, 1);
	struct chain ch = {.c = hc->client, .left = 20};
	hc_request_init(&ch.r, s, "POST", "/echo");
	ch.r.body = "ping";
	ch.r.body_len = 4;
	ch.r.data = &ch;
	ch.inside = true;
	assert_int_equal(hclient_send(hc->client, &ch.r, chain_cb), 0);
	ch.inside = false;
	assert_true(hc_run_until(hc, chain_done, &ch, HC_DEADLINE_MS));
	assert_false(ch.early);
	assert_int_equal(ch.ok, 20);
	assert_int_equal(s->handled, 20);
	assert_int_equal(s->accepted, 1); /* one TCP connection for all */
	struct hclient_stats st;
	hclient_get_stats(hc->client, &st);
	assert_int_equal(st.connections, 1);
	hclient_request_clear(&ch.r);
}

static void many_concurrent(void **state)
{
	struct hc *hc = *state;
	struct hc_server *s1 = rest_server(hc, 1);
	struct hc_server *s2 = rest_server(hc, 2);
	enum { N = 200 };
	struct hclient *c = hc_client_new(hc, 0, 2 * N);
	struct hclient_request *r = tm_calloc(N, sizeof *r);
	struct hc_done *d = tm_calloc(N, sizeof *d);
	char paths[N][32];
	struct hclient_stats st;
	uint64_t first_round = 0;
	for (int round = 0; round < 2; round++) {
		memset(d, 0, N * sizeof *d);
		for (int i = 0; i < N; i++) {
			snprintf(paths[i], sizeof paths[i], "/echo?i=%d", i);
			hc_request_init(&r[i], i % 2 ? s1 : s2, "GET",
					paths[i]);
			hc_send(c, &r[i], &d[i]);
		}
		for (int i = 0; i < N; i++) {
			hc_wait(hc, &d[i]);
			assert_int_equal(r[i].status, 0);
			char want[64];
			snprintf(want, sizeof want, "GET %.31s\n", paths[i]);
			assert_memory_equal(r[i].body_out, want, strlen(want));
			hclient_request_clear(&r[i]);
		}
		hclient_get_stats(c, &st);
		if (round == 0) {
			first_round = st.connections;
		}
	}
	/* At most 16 requests run at once (the default), each on its own
	 * connection: up to 16 to each server as turns alternate between
	 * them; the second round finds them idle and reuses them. */
	assert_true(first_round <= 2 * 16);
	assert_int_equal(st.connections, first_round);
	assert_int_equal(st.connections, s1->accepted + s2->accepted);
	print_message("hclient: %u requests, %llu connections, %llu steps, "
		      "longest step %.3f ms, mean %.3f ms\n",
		      2 * N, (unsigned long long)st.connections,
		      (unsigned long long)st.steps, st.max_step_ns / 1e6,
		      st.total_step_ns / 1e6 / (double)st.steps);
	hc_client_close(hc, c);
	tm_free(r);
	tm_free(d);
}

/* Beyond MAX_RUNNING requests wait their turn, in order; their timeout
 * runs while they wait. */
static void waiting_turn(void **state)
{
	struct hc *hc = *state;
	struct hc_server *s = rest_server(hc, 1);
	struct hclient *c;
	struct hclient_config one = {
	    .cert_path = hc->client_cert,
	    .key_path = hc->client_key,
	    .max_running = 1,
	};
	assert_int_equal(hclient_init(&c, &hc->loop, &one, hc->errmsg), 0);
	struct hclient_request r[3];
	struct hc_done d[3];
	memset(d, 0, sizeof d);
	hc_request_init(&r[0], s, "POST", "/hold");
	hc_send(c, &r[0], &d[0]);
	hc_request_init(&r[1], s, "GET", "/echo");
	r[1].timeout_ms = 200;
	hc_send(c, &r[1], &d[1]);
	hc_request_init(&r[2], s, "GET", "/echo");
	hc_send(c, &r[2], &d[2]);
	hc_wait(hc, &d[1]);
	assert_int_equal(r[1].status, TM_TIMEOUT);
	assert_false(r[1].sent);
	assert_non_null(strstr(r[1].errmsg, "waiting its turn"));
	assert_int_equal(d[2].calls, 0);
	hc_answer_held(hc, 409);
	hc_wait(hc, &d[0]);
	hc_wait(hc, &d[2]);
	assert_int_equal(r[0].http_status, 409);
	assert_int_equal(r[2].status, 0);
	assert_int_equal(r[2].http_status, 201);
	assert_int_equal(s->accepted, 1);
	for (int i = 0; i < 3; i++) {
		hclient_request_clear(&r[i]);
	}
	hc_client_close(hc, c);
}

/* Past MAX_IDLE, idle connections are closed, oldest first. */
static void idle_cap(void **state)
{
	struct hc *hc = *state;
	struct hc_server *s = rest_server(hc, 1);
	enum { N = 10 };
	struct hclient *c = hc_client_new(hc, 0, 3);
	struct hclient_request r[N];
	struct hc_done d[N];
	memset(d, 0, sizeof d);
	for (int i = 0; i < N; i++) {
		hc_request_init(&r[i], s, "GET", "/echo");
		hc_send(c, &r[i], &d[i]);
	}
	for (int i = 0; i < N; i++) {
		hc_wait(hc, &d[i]);
		assert_int_equal(r[i].status, 0);
		hclient_request_clear(&r[i]);
	}
	assert_int_equal(s->accepted, N);
	memset(d, 0, sizeof d);
	for (int i = 0; i < N; i++) {
		hc_request_init(&r[i], s, "GET", "/echo");
		hc_send(c, &r[i], &d[i]);
	}
	for (int i = 0; i < N; i++) {
		hc_wait(hc, &d[i]);
		assert_int_equal(r[i].status, 0);
		hclient_request_clear(&r[i]);
	}
	assert_int_equal(s->accepted, 2 * N - 3);
	hc_client_close(hc, c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(get_with_headers, hc_setup,
					    hc_teardown),
	    cmocka_unit_test_setup_teardown(post_body, hc_setup, hc_teardown),
	    cmocka_unit_test_setup_teardown(invalid_inputs, hc_setup,
					    hc_teardown),
	    cmocka_unit_test_setup_teardown(pin_mismatch, hc_setup,
					    hc_teardown),
	    cmocka_unit_test_setup_teardown(pin_mismatch_on_reused_connection,
					    hc_setup, hc_teardown),
	    cmocka_unit_test_setup_teardown(connection_refused, hc_setup,
					    hc_teardown),
	    cmocka_unit_test_setup_teardown(connect_timeout, hc_setup,
					    hc_teardown),
	    cmocka_unit_test_setup_teardown(answer_timeout, hc_setup,
					    hc_teardown),
	    cmocka_unit_test_setup_teardown(server_closes_mid_request, hc_setup,
					    hc_teardown),
	    cmocka_unit_test_setup_teardown(answer_too_big, hc_setup,
					    hc_teardown),
	    cmocka_unit_test_setup_teardown(cancel_pending, hc_setup,
					    hc_teardown),
	    cmocka_unit_test_setup_teardown(close_with_pending, hc_setup,
					    hc_teardown),
	    cmocka_unit_test_setup_teardown(keep_alive, hc_setup, hc_teardown),
	    cmocka_unit_test_setup_teardown(many_concurrent, hc_setup,
					    hc_teardown),
	    cmocka_unit_test_setup_teardown(idle_cap, hc_setup, hc_teardown),
	    cmocka_unit_test_setup_teardown(waiting_turn, hc_setup,
					    hc_teardown),
	};
	if (getenv("HC_TEST") != NULL) { /* run only those matching */
		cmocka_set_test_filter(getenv("HC_TEST"));
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}

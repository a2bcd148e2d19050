/* The transport over real TLS on loopback, without raft: the test plays
 * raft (calling connect, listen and close, and reading and writing the
 * streams it is handed), and a raw TLS client plays a member speaking
 * the handshake by hand.
 *
 * - the worked examples of doc/raft-transport.md against a real member;
 * - each refusal of the accepting side;
 * - bytes both ways through the bridges, with back-pressure;
 * - either end closing ends the other; dropping connections;
 * - dial failures, reported from the loop with a reason;
 * - close cancels pending connects (in TLS, in the upgrade) and waits for
 *   established connections. */
#include <string.h>

#include "internal/lib/mem.h"
#include "internal/raft/handshake.h"
#include "test/unit/raft/doc_bytes.h"
#include "test/unit/raft/tp_fixture.h"

static bool flag_set(void *arg) { return *(bool *)arg; }

/* ---- a raw TLS client ---- */

struct raw {
	struct conn *c;
	bool connected;
	int status;
	char *in;
	size_t len;
	bool eof;
	bool closed;
};

static void raw_read_cb(struct conn *c, const char *buf, size_t len)
{
	struct raw *r = conn_data(c);
	r->in = tm_realloc(r->in, r->len + len + 1);
	memcpy(r->in + r->len, buf, len);
	r->len += len;
	r->in[r->len] = '\0';
}

static void raw_eof_cb(struct conn *c, int status)
{
	struct raw *r = conn_data(c);
	(void)status;
	r->eof = true;
}

static void raw_connected_cb(void *arg, struct conn *c, int status,
			     const char *errmsg)
{
	struct raw *r = arg;
	r->connected = true;
	r->status = status;
	if (status != 0) {
		fprintf(stderr, "# raw connect: %s\n", errmsg);
		return;
	}
	r->c = c;
	conn_set_data(c, r);
	conn_set_callbacks(c, raw_read_cb, raw_eof_cb);
	assert_int_equal(conn_read_start(c), 0);
}

static void raw_connect(struct tp *tp, struct raw *r, const char *address,
			SSL_CTX *ctx)
{
	memset(r, 0, sizeof *r);
	assert_int_equal(
	    conn_connect(&tp->loop, address, ctx, raw_connected_cb, r), 0);
	assert_true(tp_run_until(tp, flag_set, &r->connected, TP_DEADLINE_MS));
	assert_int_equal(r->status, 0);
}

static void raw_closed_cb(struct conn *c)
{
	struct raw *r = conn_data(c);
	r->closed = true;
}

static void raw_close(struct tp *tp, struct raw *r)
{
	conn_close(r->c, raw_closed_cb);
	assert_true(tp_run_until(tp, flag_set, &r->closed, TP_DEADLINE_MS));
	tm_free(r->in);
}

struct got {
	struct raw *r;
	size_t len;
};

static bool raw_has(void *arg)
{
	struct got *g = arg;
	return g->r->len >= g->len || g->r->eof;
}

/* Wait until R has received LEN bytes. */
static void raw_wait(struct tp *tp, struct raw *r, size_t len)
{
	struct got g = {r, len};
	assert_true(tp_run_until(tp, raw_has, &g, TP_DEADLINE_MS));
	assert_true(r->len >= len);
}

static bool raw_answered(void *arg)
{
	struct raw *r = arg;
	if (r->eof) {
		return true;
	}
	struct handshake_response a;
	size_t used;
	handshake_response_init(&a);
	enum handshake_result res = handshake_response_feed(
	    &a, r->in != NULL ? r->in : "", r->len, &used);
	handshake_response_close(&a);
	return res != HANDSHAKE_MORE;
}

/* Send REQUEST from a new raw client with CTX to ADDRESS; the answer
 * parsed into A (to close). */
static enum handshake_result exchange(struct tp *tp, const char *address,
				      SSL_CTX *ctx, const char *request,
				      struct handshake_response *a,
				      struct raw *r)
{
	raw_connect(tp, r, address, ctx);
	assert_int_equal(conn_write(r->c, request, strlen(request), NULL, NULL),
			 0);
	assert_true(tp_run_until(tp, raw_answered, r, TP_DEADLINE_MS));
	size_t used;
	handshake_response_init(a);
	return handshake_response_feed(a, r->in, r->len, &used);
}

/* ---- the worked examples against a real member ---- */

static bool accepted_one(void *arg)
{
	struct tp_member *m = arg;
	return m->n_accepted >= 1;
}

struct accepted_wait {
	struct tp_member *m;
	unsigned n;
};

static bool accepted_n(void *arg)
{
	struct accepted_wait *w = arg;
	return w->m->n_accepted >= w->n;
}

static void wait_accepted(struct tp *tp, struct tp_member *m, unsigned n)
{
	struct accepted_wait w = {m, n};
	assert_true(tp_run_until(tp, accepted_n, &w, TP_DEADLINE_MS));
}

struct stream_wait {
	struct tp_stream *s;
	size_t len;
};

static bool stream_has(void *arg)
{
	struct stream_wait *w = arg;
	return w->s->in_len >= w->len || w->s->eof;
}

static void stream_wait(struct tp *tp, struct tp_stream *s, size_t len)
{
	struct stream_wait w = {s, len};
	assert_true(tp_run_until(tp, stream_has, &w, TP_DEADLINE_MS));
	assert_true(s->in_len >= len);
}

/* The request of the example, sent by hand with the raft bytes that
 * follow it in the same write, gets the example's 101 byte for byte; the
 * accepting side hands raft the dialer's id and address and the bytes
 * that followed; then bytes flow both ways. */
static void test_worked_example_upgrade(void **state)
{
	struct tp *tp = *state;
	struct tp_member *a = tp_member_add(tp, 1);
	struct tp_member *b = tp_member_add(tp, 2);
	tp_set_clustered(tp, true);
	tp_listen(a);
	size_t req_len;
	size_t ans_len;
	char *req = doc_bytes("#### The request", &req_len);
	char *ans = doc_bytes("#### The answer: upgraded", &ans_len);
	struct raw r;
	raw_connect(tp, &r, a->address, b->client_ctx);
	char *out = tm_malloc(req_len + 8);
	memcpy(out, req, req_len);
	memcpy(out + req_len, "raft1234", 8);
	assert_int_equal(conn_write(r.c, out, req_len + 8, NULL, NULL), 0);
	raw_wait(tp, &r, ans_len);
	assert_int_equal(r.len, ans_len);
	assert_memory_equal(r.in, ans, ans_len);

	assert_true(tp_run_until(tp, accepted_one, a, TP_DEADLINE_MS));
	assert_int_equal(a->accepted_id[0], 2);
	assert_string_equal(a->accepted_address[0], "127.0.0.2:8443");
	struct tp_stream *s = &a->accepted[0];
	stream_wait(tp, s, 8);
	assert_memory_equal(s->in, "raft1234", 8);

	assert_int_equal(conn_write(r.c, "more", 4, NULL, NULL), 0);
	stream_wait(tp, s, 12);
	assert_memory_equal(s->in + 8, "more", 4);
	tp_stream_write(s, "back", 4);
	raw_wait(tp, &r, ans_len + 4);
	assert_memory_equal(r.in + ans_len, "back", 4);

	struct transport_stats st;
	transport_stats(&a->transport, &st);
	assert_int_equal(st.accepted, 1);
	assert_int_equal(st.bridges_open, 1);
	assert_int_equal(st.to_raft, 12);
	assert_int_equal(st.to_peer, 4);
	raw_close(tp, &r);
	tm_free(out);
	tm_free(req);
	tm_free(ans);
}

/* A member that is not clustered answers the example's request with the
 * example's refusal, byte for byte, and keeps the connection. */
static void test_worked_example_refusal(void **state)
{
	struct tp *tp = *state;
	struct tp_member *a = tp_member_add(tp, 1);
	struct tp_member *b = tp_member_add(tp, 2);
	tp_listen(a);
	size_t req_len;
	size_t ans_len;
	char *req = doc_bytes("#### The request", &req_len);
	char *ans = doc_bytes("#### An answer that refuses", &ans_len);
	struct raw r;
	raw_connect(tp, &r, a->address, b->client_ctx);
	assert_int_equal(conn_write(r.c, req, req_len, NULL, NULL), 0);
	raw_wait(tp, &r, ans_len);
	assert_int_equal(r.len, ans_len);
	assert_memory_equal(r.in, ans, ans_len);
	/* Still an HTTP connection: asking again gets the same answer. */
	assert_int_equal(conn_write(r.c, req, req_len, NULL, NULL), 0);
	raw_wait(tp, &r, 2 * ans_len);
	assert_int_equal(r.len, 2 * ans_len);
	assert_memory_equal(r.in + ans_len, ans, ans_len);
	assert_false(r.eof);
	assert_int_equal(a->n_accepted, 0);
	struct transport_stats st;
	transport_stats(&a->transport, &st);
	assert_int_equal(st.refused, 2);
	raw_close(tp, &r);
	tm_free(req);
	tm_free(ans);
}

/* ---- refusals ---- */

static char *request(const char *version, const char *id, const char *upgrade)
{
	return tm_asprintf("GET /internal/raft HTTP/1.1\r\n"
			   "Host: x\r\n"
			   "Connection: Upgrade\r\n"
			   "Upgrade: %s\r\n"
			   "%s%s%s"
			   "%s%s%s"
			   "X-Raft-Address: 127.0.25.2:1\r\n\r\n",
			   upgrade, version != NULL ? "X-Raft-Version: " : "",
			   version != NULL ? version : "",
			   version != NULL ? "\r\n" : "",
			   id != NULL ? "X-Raft-Id: " : "",
			   id != NULL ? id : "", id != NULL ? "\r\n" : "");
}

static void expect_refusal(struct tp *tp, struct tp_member *to, SSL_CTX *ctx,
			   const char *req, int status, const char *says)
{
	struct handshake_response a;
	struct raw r;
	enum handshake_result res = exchange(tp, to->address, ctx, req, &a, &r);
	if (res != HANDSHAKE_REFUSED || a.status != status ||
	    strstr(a.message, says) == NULL) {
		fail_msg("answer %d %d \"%s\", want %d \"%s\"", res, a.status,
			 a.message, status, says);
	}
	handshake_response_close(&a);
	raw_close(tp, &r);
}

static void test_refusals(void **state)
{
	struct tp *tp = *state;
	struct tp_member *a = tp_member_add(tp, 1);
	struct tp_member *b = tp_member_add(tp, 2);
	struct tp_member *stranger = tp_member_add(tp, 3);
	stranger->stranger = true;
	char *good = request("1", "2", "raft");

	/* raft not listening yet. */
	expect_refusal(tp, a, b->client_ctx, good, 503,
		       "raft is not running on this member");
	tp_listen(a);
	/* Not clustered: to anyone. */
	expect_refusal(tp, a, b->anon_ctx, good, 404,
		       "this member is not part of a cluster");
	tp_set_clustered(tp, true);
	expect_refusal(tp, a, b->anon_ctx, good, 403,
		       "no client certificate presented");
	expect_refusal(tp, a, stranger->client_ctx, good, 403,
		       "not a cluster member's");

	char *no_id = request("1", NULL, "raft");
	expect_refusal(tp, a, b->client_ctx, no_id, 400,
		       "missing header X-Raft-Id");
	char *bad_id = request("1", "zero", "raft");
	expect_refusal(tp, a, b->client_ctx, bad_id, 400, "not a raft id");
	char *no_version = request(NULL, "2", "raft");
	expect_refusal(tp, a, b->client_ctx, no_version, 400,
		       "missing header X-Raft-Version");
	char *websocket = request("1", "2", "websocket");
	expect_refusal(tp, a, b->client_ctx, websocket, 400, "Upgrade: raft");

	/* Another version: 426, saying what we speak. */
	char *v2 = request("2", "2", "raft");
	struct handshake_response ans;
	struct raw r;
	assert_int_equal(exchange(tp, a->address, b->client_ctx, v2, &ans, &r),
			 HANDSHAKE_REFUSED);
	assert_int_equal(ans.status, 426);
	assert_non_null(strstr(r.in, "\r\nUpgrade: raft\r\n"));
	assert_non_null(strstr(r.in, "\r\nX-Raft-Version: 1\r\n"));
	assert_non_null(strstr(ans.message, "this member speaks version 1"));
	handshake_response_close(&ans);
	raw_close(tp, &r);

	assert_int_equal(a->n_accepted, 0);
	struct transport_stats st;
	transport_stats(&a->transport, &st);
	assert_int_equal(st.refused, 9);
	assert_int_equal(st.accepted, 0);
	tm_free(good);
	tm_free(no_id);
	tm_free(bad_id);
	tm_free(no_version);
	tm_free(websocket);
	tm_free(v2);
}

/* ---- dialing and pumping ---- */

/* The third number of a /proc/sys/net/ipv4/tcp_[rw]mem file: how large
 * the kernel lets a TCP buffer grow. */
static size_t tcp_buffer_max(const char *path)
{
	FILE *f = fopen(path, "r");
	unsigned long min = 0;
	unsigned long def = 0;
	unsigned long max = 0;
	if (f != NULL) {
		if (fscanf(f, "%lu %lu %lu", &min, &def, &max) != 3) {
			max = 0;
		}
		fclose(f);
	}
	return max != 0 ? (size_t)max : 8 * 1024 * 1024;
}

/* More than loopback TCP can buffer, so that the sending bridge has to
 * pause too (the kernel's buffers come before the bridge's queue). */
static size_t big_size(void)
{
	size_t n = tcp_buffer_max("/proc/sys/net/ipv4/tcp_rmem") +
		   tcp_buffer_max("/proc/sys/net/ipv4/tcp_wmem") +
		   8 * 1024 * 1024;
	return n < 128 * 1024 * 1024 ? n : 128 * 1024 * 1024;
}

/* Back-pressure has reached the writer: the receiving member's bridge
 * paused the conn, and the sending member's bridge paused raft's pipe. */
struct pressure {
	struct tp_member *from;
	struct tp_member *to;
};

static bool pressure_reached_writer(void *arg)
{
	struct pressure *p = arg;
	struct transport_stats sf;
	struct transport_stats st;
	transport_stats(&p->from->transport, &sf);
	transport_stats(&p->to->transport, &st);
	return sf.paused_to_peer > 0 && st.paused_to_raft > 0;
}

static void check_pattern(const char *buf, size_t len, uint32_t seed)
{
	char *want = tm_malloc(len);
	tp_fill(want, len, seed);
	assert_memory_equal(buf, want, len);
	tm_free(want);
}

/* B dials A; more than the kernel can buffer goes each way through
 * bridges limited to 16 KiB, the receiving raft not reading until the
 * pressure has come back to the writing member's bridge (both bridges
 * paused the side that feeds them); then every byte arrives in order. */
static void test_dial_pumps_both_ways(void **state)
{
	struct tp *tp = *state;
	tp->queue_limit = 16 * 1024;
	struct tp_member *a = tp_member_add(tp, 1);
	struct tp_member *b = tp_member_add(tp, 2);
	tp_set_clustered(tp, true);
	tp_listen(a);
	tp_listen(b);
	struct tp_dial d;
	assert_int_equal(tp_dial(b, &d, a->id, a->address), 0);
	assert_true(tp_run_until(tp, accepted_one, a, TP_DEADLINE_MS));
	assert_int_equal(a->accepted_id[0], b->id);
	assert_string_equal(a->accepted_address[0], b->address);
	struct tp_stream *in = &a->accepted[0];
	const size_t BIG = big_size();

	/* raft's writer (B) -> A, A's raft not reading until the pressure
	 * has come back to B. */
	uv_read_stop(in->s);
	char *buf = tm_malloc(BIG);
	tp_fill(buf, BIG, 7);
	tp_stream_write(&d.stream, buf, BIG);
	struct pressure to_a = {b, a};
	assert_true(
	    tp_run_until(tp, pressure_reached_writer, &to_a, TP_DEADLINE_MS));
	assert_true(in->in_len == 0);
	struct transport_stats sa;
	struct transport_stats sb;
	transport_stats(&b->transport, &sb);
	/* Bounded: what B's bridge took while A did not read is what the
	 * kernel buffers hold, plus the bridges' limits; the rest waits in
	 * raft's own queue. */
	assert_true(sb.to_peer < BIG);
	tp_stream_read_start(in);
	stream_wait(tp, in, BIG);
	assert_int_equal(in->in_len, BIG);
	check_pattern(in->in, BIG, 7);

	/* And the other way, which raft does not use but the bridge
	 * carries the same. */
	uv_read_stop(d.stream.s);
	tp_fill(buf, BIG, 8);
	tp_stream_write(in, buf, BIG);
	struct pressure to_b = {a, b};
	assert_true(
	    tp_run_until(tp, pressure_reached_writer, &to_b, TP_DEADLINE_MS));
	assert_int_equal(d.stream.in_len, 0);
	tp_stream_read_start(&d.stream);
	stream_wait(tp, &d.stream, BIG);
	check_pattern(d.stream.in, BIG, 8);
	transport_stats(&a->transport, &sa);
	transport_stats(&b->transport, &sb);
	assert_true(sa.paused_to_peer > 0);
	assert_true(sb.paused_to_raft > 0);
	assert_int_equal(sb.dials_succeeded, 1);
	assert_int_equal(sb.dials_pending, 0);
	assert_int_equal(sa.accepted, 1);
	tm_free(buf);
	tp_dial_release(tp, &d);
}

static bool stream_eof(void *arg)
{
	struct tp_stream *s = arg;
	return s->eof;
}

/* Write to S until a write fails (the other end is gone). */
static bool write_fails(void *arg)
{
	struct tp_stream *s = arg;
	if (s->write_status != 0) {
		return true;
	}
	if (s->writes_pending == 0) {
		tp_stream_write(s, "ping", 4);
	}
	return false;
}

static bool no_bridges(void *arg)
{
	struct tp_member *m = arg;
	struct transport_stats st;
	transport_stats(&m->transport, &st);
	return st.bridges_open == 0;
}

/* Whichever end closes, the other learns it: raft reads EOF on an
 * accepted stream, and writes fail on a dialed one. */
static void test_ends_propagate(void **state)
{
	struct tp *tp = *state;
	struct tp_member *a = tp_member_add(tp, 1);
	struct tp_member *b = tp_member_add(tp, 2);
	tp_set_clustered(tp, true);
	tp_listen(a);
	tp_listen(b);

	/* The dialer's raft closes its stream. */
	struct tp_dial d;
	assert_int_equal(tp_dial(b, &d, a->id, a->address), 0);
	assert_true(tp_run_until(tp, accepted_one, a, TP_DEADLINE_MS));
	tp_stream_write(&d.stream, "last words", 10);
	tp_dial_release(tp, &d);
	assert_true(
	    tp_run_until(tp, stream_eof, &a->accepted[0], TP_DEADLINE_MS));
	assert_int_equal(a->accepted[0].in_len, 10);
	assert_memory_equal(a->accepted[0].in, "last words", 10);
	assert_true(tp_run_until(tp, no_bridges, a, TP_DEADLINE_MS));
	assert_true(tp_run_until(tp, no_bridges, b, TP_DEADLINE_MS));

	/* The accepting side's raft closes its stream. */
	assert_int_equal(tp_dial(b, &d, a->id, a->address), 0);
	wait_accepted(tp, a, 2);
	tp_stream_close(&a->accepted[1]);
	assert_true(tp_run_until(tp, write_fails, &d.stream, TP_DEADLINE_MS));
	tp_dial_release(tp, &d);
	assert_true(tp_run_until(tp, no_bridges, a, TP_DEADLINE_MS));
	assert_true(tp_run_until(tp, no_bridges, b, TP_DEADLINE_MS));

	/* The accepting member drops its connections. */
	assert_int_equal(tp_dial(b, &d, a->id, a->address), 0);
	wait_accepted(tp, a, 3);
	transport_drop_connections(&a->transport);
	assert_true(
	    tp_run_until(tp, stream_eof, &a->accepted[2], TP_DEADLINE_MS));
	assert_true(tp_run_until(tp, write_fails, &d.stream, TP_DEADLINE_MS));
	tp_dial_release(tp, &d);
	assert_true(tp_run_until(tp, no_bridges, a, TP_DEADLINE_MS));
	assert_true(tp_run_until(tp, no_bridges, b, TP_DEADLINE_MS));
}

/* ---- dial failures ---- */

static void expect_dial_failure(struct tp_member *m, const char *address,
				const char *says)
{
	struct tp_dial d;
	int status = tp_dial(m, &d, 9, address);
	assert_int_equal(status, RAFT_NOCONNECTION);
	if (strstr(m->transport.errmsg, says) == NULL) {
		fail_msg("\"%s\" does not say \"%s\"", m->transport.errmsg,
			 says);
	}
}

static void test_dial_failures(void **state)
{
	struct tp *tp = *state;
	struct tp_member *a = tp_member_add(tp, 1);
	struct tp_member *b = tp_member_add(tp, 2);
	tp_listen(a);
	tp_listen(b);

	/* B is not clustered: it checks A's certificate first. */
	expect_dial_failure(b, a->address,
			    "this member is not part of a cluster");
	b->clustered = true;
	/* A is not: it refuses. */
	expect_dial_failure(b, a->address,
			    "refused (404): this member is not part of a "
			    "cluster");
	a->clustered = true;
	/* Nothing listens there. */
	expect_dial_failure(b, "127.0.25.3:1", "connection refused");
	/* Not an address. */
	expect_dial_failure(b, "127.0.25.3:notaport", "notaport");
	expect_dial_failure(b, "a b:1", "visible ASCII");
	/* A's certificate is not a member's. */
	a->stranger = true;
	expect_dial_failure(b, a->address, "is not a cluster member's");
	a->stranger = false;
	assert_int_equal(a->n_accepted, 0);

	struct transport_stats st;
	transport_stats(&b->transport, &st);
	assert_int_equal(st.dials_started, 6);
	assert_int_equal(st.dials_failed, 6);
	assert_int_equal(st.dials_pending, 0);

	/* And then it works. */
	struct tp_dial d;
	assert_int_equal(tp_dial(b, &d, a->id, a->address), 0);
	tp_dial_release(tp, &d);
}

/* A transport without a client certificate fails every connect, from
 * the loop. */
static void test_dial_without_certificate(void **state)
{
	struct tp *tp = *state;
	struct tp_member *a = tp_member_add(tp, 1);
	a->clustered = true;
	tp_transport_close(a); /* a transport without listen closes too */
	transport_free(&a->transport);
	struct transport_config config = {.admit = NULL};
	assert_int_equal(transport_init(&a->transport, &tp->loop, &config), 0);
	a->transport.data = a;
	a->transport_closed = false;
	tp_listen(a);
	expect_dial_failure(a, "127.0.25.1:1", "no client certificate");
}

/* ---- close ---- */

/* A TLS server that completes the handshake, then never answers. */
struct silent {
	struct listener *l;
	struct conn *conns[4];
	unsigned n;
	size_t received; /* bytes of requests, never answered */
	unsigned closed;
	bool listener_closed;
};

static void silent_read_cb(struct conn *c, const char *buf, size_t len)
{
	struct silent *s = conn_data(c);
	(void)buf;
	s->received += len;
}

static void silent_eof_cb(struct conn *c, int status)
{
	(void)c;
	(void)status;
}

static void silent_conn_cb(struct listener *l, struct conn *c)
{
	struct silent *s = listener_data(l);
	assert_true(s->n < 4);
	conn_set_data(c, s);
	conn_set_callbacks(c, silent_read_cb, silent_eof_cb);
	assert_int_equal(conn_read_start(c), 0);
	s->conns[s->n++] = c;
}

static void silent_conn_closed_cb(struct conn *c)
{
	struct silent *s = conn_data(c);
	s->closed++;
}

static void silent_listener_closed_cb(struct listener *l)
{
	struct silent *s = listener_data(l);
	s->listener_closed = true;
}

static bool silent_all_closed(void *arg)
{
	struct silent *s = arg;
	return s->closed == s->n && s->listener_closed;
}

struct stuck {
	struct tp_mute *mute;
	struct silent *silent;
};

/* One dial is in TLS with the mute server, the other has sent its
 * request to the silent one. */
static bool both_stuck(void *arg)
{
	struct stuck *s = arg;
	return s->mute->n == 1 && s->silent->received > 0;
}

/* close cancels a connect stuck in TLS (a server that never speaks) and
 * one stuck in the upgrade (a server that never answers): both complete
 * with RAFT_CANCELED before the close callback. */
static void test_close_cancels_pending_connects(void **state)
{
	struct tp *tp = *state;
	struct tp_member *a = tp_member_add(tp, 1);
	struct tp_member *b = tp_member_add(tp, 2);
	tp_set_clustered(tp, true);
	tp_listen(b);
	struct tp_mute mute;
	tp_mute_start(tp, &mute, "127.0.25.4");
	struct silent silent = {0};
	/* It presents A's certificate, which B admits. */
	assert_int_equal(listener_tcp(&tp->loop, "127.0.25.5:0", a->server_ctx,
				      silent_conn_cb, &silent, &silent.l,
				      tp->errmsg),
			 0);
	struct tp_dial d1;
	struct tp_dial d2;
	tp_dial_start(b, &d1, 5, mute.address);
	tp_dial_start(b, &d2, 6, listener_address(silent.l));
	struct stuck stuck = {&mute, &silent};
	assert_true(tp_run_until(tp, both_stuck, &stuck, TP_DEADLINE_MS));
	struct transport_stats st;
	transport_stats(&b->transport, &st);
	assert_int_equal(st.dials_pending, 2);
	assert_false(d1.done || d2.done);

	tp_transport_close(b);
	assert_true(d1.done && d2.done);
	assert_int_equal(d1.status, RAFT_CANCELED);
	assert_int_equal(d2.status, RAFT_CANCELED);
	transport_stats(&b->transport, &st);
	assert_int_equal(st.dials_canceled, 2);
	assert_int_equal(st.dials_pending, 0);

	tp_mute_stop(tp, &mute);
	for (unsigned i = 0; i < silent.n; i++) {
		conn_close(silent.conns[i], silent_conn_closed_cb);
	}
	listener_close(silent.l, silent_listener_closed_cb);
	assert_true(
	    tp_run_until(tp, silent_all_closed, &silent, TP_DEADLINE_MS));
}

/* close with connections up: they are closed, and the close callback
 * waits for them; raft's streams see the end. */
static void test_close_with_connections(void **state)
{
	struct tp *tp = *state;
	struct tp_member *a = tp_member_add(tp, 1);
	struct tp_member *b = tp_member_add(tp, 2);
	tp_set_clustered(tp, true);
	tp_listen(a);
	tp_listen(b);
	struct tp_dial d;
	assert_int_equal(tp_dial(b, &d, a->id, a->address), 0);
	assert_true(tp_run_until(tp, accepted_one, a, TP_DEADLINE_MS));
	tp_transport_close(a);
	assert_true(no_bridges(a));
	assert_true(
	    tp_run_until(tp, stream_eof, &a->accepted[0], TP_DEADLINE_MS));
	assert_true(tp_run_until(tp, write_fails, &d.stream, TP_DEADLINE_MS));
	tp_transport_close(b);
	tp_dial_release(tp, &d);
	/* A closed member answers 503. */
	char *good = request("1", "2", "raft");
	expect_refusal(tp, a, b->client_ctx, good, 503,
		       "raft is not running on this member");
	tm_free(good);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_worked_example_upgrade,
					    tp_setup, tp_teardown),
	    cmocka_unit_test_setup_teardown(test_worked_example_refusal,
					    tp_setup, tp_teardown),
	    cmocka_unit_test_setup_teardown(test_refusals, tp_setup,
					    tp_teardown),
	    cmocka_unit_test_setup_teardown(test_dial_pumps_both_ways, tp_setup,
					    tp_teardown),
	    cmocka_unit_test_setup_teardown(test_ends_propagate, tp_setup,
					    tp_teardown),
	    cmocka_unit_test_setup_teardown(test_dial_failures, tp_setup,
					    tp_teardown),
	    cmocka_unit_test_setup_teardown(test_dial_without_certificate,
					    tp_setup, tp_teardown),
	    cmocka_unit_test_setup_teardown(test_close_cancels_pending_connects,
					    tp_setup, tp_teardown),
	    cmocka_unit_test_setup_teardown(test_close_with_connections,
					    tp_setup, tp_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

#include "test/unit/hclient/fixture.h"

#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/lib/fs.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"

static void tick_cb(uv_timer_t *timer) { (void)timer; }

static void keypair(struct hc *hc, const char *name, char *cert, char *key,
		    size_t size, char *fp)
{
	snprintf(cert, size, "%s/%s.crt", hc->dir, name);
	snprintf(key, size, "%s/%s.key", hc->dir, name);
	assert_int_equal(tls_ensure_keypair(cert, key, name, true, hc->errmsg),
			 0);
	char *pem;
	assert_int_equal(fs_read_all(cert, 1 << 20, &pem, NULL, hc->errmsg), 0);
	assert_int_equal(tls_fingerprint_pem(pem, fp, hc->errmsg), 0);
	tm_free(pem);
}

int hc_setup(void **state) { return hc_setup_on(state, "127.0.26"); }

int hc_setup_on(void **state, const char *subnet)
{
	signal(SIGPIPE, SIG_IGN);
	log_init_from_env(); /* THERMIONIC_TRACE=1 for every detail */
	struct hc *hc = tm_calloc(1, sizeof *hc);
	snprintf(hc->subnet, sizeof hc->subnet, "%s", subnet);
	snprintf(hc->dir, sizeof hc->dir, "/tmp/tm-hclient-XXXXXX");
	if (mkdtemp(hc->dir) == NULL) {
		return -1;
	}
	assert_int_equal(uv_loop_init(&hc->loop), 0);
	assert_int_equal(uv_timer_init(&hc->loop, &hc->tick), 0);
	assert_int_equal(uv_timer_start(&hc->tick, tick_cb, 10, 10), 0);
	keypair(hc, "client", hc->client_cert, hc->client_key,
		sizeof hc->client_cert, hc->client_fp);
	hc->client = hc_client_new(hc, 500, 0);
	*state = hc;
	return 0;
}

/* ---- running the loop ---- */

bool hc_run_until(struct hc *hc, bool (*cond)(void *arg), void *arg,
		  unsigned ms)
{
	uint64_t deadline = uv_hrtime() + (uint64_t)ms * 1000000;
	while (!cond(arg)) {
		if (uv_hrtime() > deadline) {
			return false;
		}
		uv_run(&hc->loop, UV_RUN_ONCE);
	}
	return true;
}

void hc_run_for(struct hc *hc, unsigned ms)
{
	uint64_t deadline = uv_hrtime() + (uint64_t)ms * 1000000;
	while (uv_hrtime() < deadline) {
		uv_run(&hc->loop, UV_RUN_ONCE);
	}
}

static bool flag_set(void *arg) { return *(bool *)arg; }

/* ---- servers ---- */

static struct hc_server *server_new(struct hc *hc, enum hc_kind kind)
{
	assert_true(hc->n_servers < HC_MAX_SERVERS);
	unsigned i = hc->n_servers++;
	struct hc_server *s = &hc->servers[i];
	s->hc = hc;
	s->kind = kind;
	char name[16], cert[128], key[128];
	snprintf(name, sizeof name, "server%u", i);
	keypair(hc, name, cert, key, sizeof cert, s->fp);
	assert_int_equal(
	    tls_server_ctx(cert, key, &hc->server_ctx[i], hc->errmsg), 0);
	return s;
}

static bool trust_all(void *data, const char *fingerprint)
{
	(void)data;
	(void)fingerprint;
	return true;
}

static void rest_conn_cb(struct listener *l, struct conn *c)
{
	struct hc_server *s = listener_data(l);
	s->accepted++;
	rest_server_add_conn(s->rest, c);
}

static void listen_on(struct hc_server *s, int ip, listener_conn_cb cb)
{
	struct hc *hc = s->hc;
	char address[64];
	snprintf(address, sizeof address, "%s.%d:0", hc->subnet, ip);
	int rv =
	    listener_tcp(&hc->loop, address, hc->server_ctx[s - hc->servers],
			 cb, s, &s->listener, hc->errmsg);
	if (rv != 0) {
		fail_msg("listen on %s: %s", address, hc->errmsg);
	}
	snprintf(s->address, sizeof s->address, "%s",
		 listener_address(s->listener));
}

struct hc_server *hc_rest_start(struct hc *hc, int ip,
				const struct rest_route *routes, size_t n)
{
	struct hc_server *s = server_new(hc, HC_REST);
	listen_on(s, ip, rest_conn_cb);
	assert_int_equal(
	    rest_server_init(&hc->loop, routes, n, trust_all, s, &s->rest), 0);
	return s;
}

static void raw_close_cb(struct conn *c)
{
	struct hc_raw *r = conn_data(c);
	r->server->closes_pending--;
}

static void raw_close(struct hc_raw *r)
{
	if (!r->closed) {
		r->closed = true;
		r->server->closes_pending++;
		conn_close(r->c, raw_close_cb);
	}
}

static void raw_read_cb(struct conn *c, const char *buf, size_t len)
{
	struct hc_raw *r = conn_data(c);
	size_t room = sizeof r->head - 1 - r->len;
	size_t n = len < room ? len : room;
	memcpy(r->head + r->len, buf, n);
	r->len += n;
	r->head[r->len] = '\0';
	if (strstr(r->head, "\r\n\r\n") == NULL) {
		return;
	}
	r->server->handled++;
	if (r->server->kind == HC_RAW_SLAM) {
		raw_close(r);
	}
}

static void raw_eof_cb(struct conn *c, int status)
{
	(void)status;
	raw_close(conn_data(c));
}

static void raw_conn_cb(struct listener *l, struct conn *c)
{
	struct hc_server *s = listener_data(l);
	struct hc *hc = s->hc;
	s->accepted++;
	assert_true(hc->n_raw < HC_MAX_RAW);
	struct hc_raw *r = &hc->raw[hc->n_raw++];
	r->c = c;
	r->server = s;
	conn_set_data(c, r);
	conn_set_callbacks(c, raw_read_cb, raw_eof_cb);
	assert_int_equal(conn_read_start(c), 0);
}

struct hc_server *hc_raw_start(struct hc *hc, int ip, enum hc_kind kind)
{
	struct hc_server *s = server_new(hc, kind);
	listen_on(s, ip, raw_conn_cb);
	return s;
}

static void mute_close_cb(uv_handle_t *h)
{
	struct hc_server *s = h->data;
	s->closes_pending--;
}

static void mute_conn_cb(uv_stream_t *server, int status)
{
	struct hc_server *s = server->data;
	if (status != 0 || s->n_mute >= 16) {
		return;
	}
	uv_tcp_t *t = &s->mute_clients[s->n_mute];
	uv_tcp_init(server->loop, t);
	t->data = s;
	if (uv_accept(server, (uv_stream_t *)t) == 0) {
		s->n_mute++;
		s->accepted++;
	} else {
		s->closes_pending++;
		uv_close((uv_handle_t *)t, mute_close_cb);
	}
}

struct hc_server *hc_mute_start(struct hc *hc, int ip)
{
	struct hc_server *s = server_new(hc, HC_MUTE);
	struct sockaddr_in sa;
	char host[32];
	snprintf(host, sizeof host, "%s.%d", hc->subnet, ip);
	assert_int_equal(uv_ip4_addr(host, 0, &sa), 0);
	assert_int_equal(uv_tcp_init(&hc->loop, &s->tcp), 0);
	s->tcp.data = s;
	assert_int_equal(uv_tcp_bind(&s->tcp, (const struct sockaddr *)&sa, 0),
			 0);
	assert_int_equal(uv_listen((uv_stream_t *)&s->tcp, 16, mute_conn_cb),
			 0);
	struct sockaddr_in bound;
	int len = sizeof bound;
	uv_tcp_getsockname(&s->tcp, (struct sockaddr *)&bound, &len);
	snprintf(s->address, sizeof s->address, "%s:%d", host,
		 ntohs(bound.sin_port));
	return s;
}

/* ---- held requests ---- */

void hc_hold(struct rest_request *req)
{
	struct hc_server *s = rest_server_data(req);
	struct hc *hc = s->hc;
	assert_true(hc->n_held < HC_MAX_HELD);
	hc->held[hc->n_held++] = (struct hc_held){req, s};
}

void hc_answer_held(struct hc *hc, int status)
{
	for (unsigned i = 0; i < hc->n_held; i++) {
		rest_respond_error(hc->held[i].req, status, "released");
	}
	hc->n_held = 0;
}

/* ---- clients ---- */

struct hclient *hc_client_new(struct hc *hc, unsigned connect_timeout_ms,
			      unsigned max_idle)
{
	struct hclient_config cfg = {
	    .cert_path = hc->client_cert,
	    .key_path = hc->client_key,
	    .connect_timeout_ms = connect_timeout_ms,
	    .max_idle = max_idle,
	};
	struct hclient *c;
	int rv = hclient_init(&c, &hc->loop, &cfg, hc->errmsg);
	if (rv != 0) {
		fail_msg("hclient_init: %s", hc->errmsg);
	}
	return c;
}

static void set_flag_cb(void *data) { *(bool *)data = true; }

void hc_client_close(struct hc *hc, struct hclient *c)
{
	bool closed = false;
	hclient_close(c, set_flag_cb, &closed);
	assert_false(closed);
	assert_true(hc_run_until(hc, flag_set, &closed, HC_DEADLINE_MS));
}

void hc_request_init(struct hclient_request *r, const struct hc_server *s,
		     const char *method, const char *path)
{
	memset(r, 0, sizeof *r);
	r->method = method;
	r->address = s->address;
	r->path = path;
	r->pin = s->fp;
}

static uint64_t order_counter;

void hc_done_cb(struct hclient_request *r)
{
	struct hc_done *d = r->data;
	d->calls++;
	d->status = r->status;
	d->order = ++order_counter;
	if (d->inside) {
		d->early = true;
	}
}

void hc_send(struct hclient *c, struct hclient_request *r, struct hc_done *d)
{
	r->data = d;
	d->inside = true;
	int rv = hclient_send(c, r, hc_done_cb);
	d->inside = false;
	if (rv != 0) {
		fail_msg("hclient_send: %s", r->errmsg);
	}
	assert_int_equal(d->calls, 0);
}

static bool done_called(void *arg) { return ((struct hc_done *)arg)->calls; }

void hc_wait(struct hc *hc, struct hc_done *d)
{
	assert_true(hc_run_until(hc, done_called, d, HC_DEADLINE_MS));
	assert_false(d->early);
	assert_int_equal(d->calls, 1);
}

/* ---- teardown ---- */

static bool servers_closed(void *arg)
{
	struct hc *hc = arg;
	for (unsigned i = 0; i < hc->n_servers; i++) {
		struct hc_server *s = &hc->servers[i];
		if (s->listener != NULL || s->rest != NULL ||
		    s->closes_pending > 0) {
			return false;
		}
	}
	return true;
}

static void listener_closed_cb(struct listener *l)
{
	struct hc_server *s = listener_data(l);
	s->listener = NULL;
}

static void rest_closed_cb(void *data)
{
	struct hc_server *s = data;
	s->rest = NULL;
}

static int rm_cb(const char *path, const struct stat *sb, int flag,
		 struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void walk_count_cb(uv_handle_t *h, void *arg)
{
	if (!uv_is_closing(h)) {
		fprintf(stderr, "handle left open: %s\n",
			uv_handle_type_name(uv_handle_get_type(h)));
		(*(unsigned *)arg)++;
	}
}

int hc_teardown(void **state)
{
	struct hc *hc = *state;
	if (hc->client != NULL) {
		hc_client_close(hc, hc->client);
		hc->client = NULL;
	}
	hc_answer_held(hc, 503);
	for (unsigned i = 0; i < hc->n_raw; i++) {
		raw_close(&hc->raw[i]);
	}
	for (unsigned i = 0; i < hc->n_servers; i++) {
		struct hc_server *s = &hc->servers[i];
		if (s->listener != NULL) {
			listener_close(s->listener, listener_closed_cb);
		}
		if (s->rest != NULL) {
			rest_server_close(s->rest, rest_closed_cb, s);
		}
		if (s->kind == HC_MUTE) {
			for (unsigned j = 0; j < s->n_mute; j++) {
				s->closes_pending++;
				uv_close((uv_handle_t *)&s->mute_clients[j],
					 mute_close_cb);
			}
			s->closes_pending++;
			uv_close((uv_handle_t *)&s->tcp, mute_close_cb);
		}
	}
	assert_true(hc_run_until(hc, servers_closed, hc, HC_DEADLINE_MS));
	uv_close((uv_handle_t *)&hc->tick, NULL);
	unsigned left = 0;
	uv_walk(&hc->loop, walk_count_cb, &left);
	assert_int_equal(left, 0);
	uv_run(&hc->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&hc->loop), 0);
	for (unsigned i = 0; i < hc->n_servers; i++) {
		SSL_CTX_free(hc->server_ctx[i]);
	}
	nftw(hc->dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
	tm_free(hc);
	return 0;
}

#include "test/unit/raft/tp_fixture.h"

#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/lib/fs.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"

static void tick_cb(uv_timer_t *timer) { (void)timer; }

int tp_setup(void **state)
{
	signal(SIGPIPE, SIG_IGN);
	log_init_from_env(); /* THERMIONIC_TRACE=1 for every detail */
	struct tp *tp = tm_calloc(1, sizeof *tp);
	snprintf(tp->dir, sizeof tp->dir, "/tmp/tm-raft-tp-XXXXXX");
	if (mkdtemp(tp->dir) == NULL) {
		return -1;
	}
	assert_int_equal(uv_loop_init(&tp->loop), 0);
	assert_int_equal(uv_timer_init(&tp->loop, &tp->tick), 0);
	assert_int_equal(uv_timer_start(&tp->tick, tick_cb, 10, 10), 0);
	*state = tp;
	return 0;
}

/* ---- running the loop ---- */

bool tp_run_until(struct tp *tp, bool (*cond)(void *arg), void *arg,
		  unsigned ms)
{
	uint64_t deadline = uv_hrtime() + (uint64_t)ms * 1000000;
	while (!cond(arg)) {
		if (uv_hrtime() > deadline) {
			return false;
		}
		uv_run(&tp->loop, UV_RUN_ONCE);
	}
	return true;
}

void tp_run_for(struct tp *tp, unsigned ms)
{
	uint64_t deadline = uv_hrtime() + (uint64_t)ms * 1000000;
	while (uv_hrtime() < deadline) {
		uv_run(&tp->loop, UV_RUN_ONCE);
	}
}

static bool flag_set(void *arg) { return *(bool *)arg; }

void tp_fill(char *buf, size_t len, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (char)(x >> 24);
	}
}

/* ---- members ---- */

static enum transport_verdict admit_cb(void *data, const char *fingerprint)
{
	struct tp_member *m = data;
	struct tp *tp = m->tp;
	if (!m->clustered) {
		return TRANSPORT_NOT_CLUSTERED;
	}
	for (unsigned i = 0; fingerprint != NULL && i < tp->n_members; i++) {
		struct tp_member *o = &tp->members[i];
		if (!o->stranger && strcmp(o->fp, fingerprint) == 0) {
			return TRANSPORT_MEMBER;
		}
	}
	return TRANSPORT_NOT_MEMBER;
}

void tp_set_clustered(struct tp *tp, bool clustered)
{
	for (unsigned i = 0; i < tp->n_members; i++) {
		tp->members[i].clustered = clustered;
	}
}

static void raft_get(struct rest_request *req)
{
	struct tp_member *m = rest_server_data(req);
	if (!m->transport_ready) { /* as the daemon does without raft */
		rest_respond_error(req, 503, "raft is not running");
		return;
	}
	transport_accept(&m->transport, req);
}

static const struct rest_route routes[] = {
    {.path = "/internal/raft", .get = raft_get, .public_get = true},
};

static bool trust_none(void *data, const char *fingerprint)
{
	(void)data;
	(void)fingerprint;
	return false;
}

static void conn_cb(struct listener *l, struct conn *c)
{
	struct tp_member *m = listener_data(l);
	rest_server_add_conn(m->rest, c);
}

struct tp_member *tp_member_add(struct tp *tp, int ip)
{
	assert_true(tp->n_members < TP_MAX_MEMBERS);
	struct tp_member *m = &tp->members[tp->n_members];
	m->tp = tp;
	m->index = (int)tp->n_members;
	m->id = (raft_id)tp->n_members + 1;
	tp->n_members++;
	/* Formatted apart: source and destination are both in TP. */
	char *dir = tm_asprintf("%s/m%d", tp->dir, m->index);
	char *cert = tm_asprintf("%s/server.crt", dir);
	char *key = tm_asprintf("%s/server.key", dir);
	snprintf(m->dir, sizeof m->dir, "%s", dir);
	snprintf(m->cert, sizeof m->cert, "%s", cert);
	snprintf(m->key, sizeof m->key, "%s", key);
	tm_free(dir);
	tm_free(cert);
	tm_free(key);
	assert_int_equal(fs_ensure_dir(m->dir, 0700, tp->errmsg), 0);
	char name[32];
	snprintf(name, sizeof name, "member%d", m->index);
	assert_int_equal(
	    tls_ensure_keypair(m->cert, m->key, name, true, tp->errmsg), 0);
	char *pem;
	assert_int_equal(fs_read_all(m->cert, 1 << 20, &pem, NULL, tp->errmsg),
			 0);
	assert_int_equal(tls_fingerprint_pem(pem, m->fp, tp->errmsg), 0);
	tm_free(pem);
	assert_int_equal(
	    tls_server_ctx(m->cert, m->key, &m->server_ctx, tp->errmsg), 0);
	assert_int_equal(
	    tls_client_ctx(m->cert, m->key, &m->client_ctx, tp->errmsg), 0);
	assert_int_equal(tls_client_ctx(NULL, NULL, &m->anon_ctx, tp->errmsg),
			 0);
	char address[64];
	snprintf(address, sizeof address, "127.0.25.%d:0", ip);
	int rv = listener_tcp(&tp->loop, address, m->server_ctx, conn_cb, m,
			      &m->listener, tp->errmsg);
	if (rv != 0) {
		fail_msg("listen on %s: %s", address, tp->errmsg);
	}
	snprintf(m->address, sizeof m->address, "%s",
		 listener_address(m->listener));
	assert_int_equal(
	    rest_server_init(&tp->loop, routes, 1, trust_none, m, &m->rest), 0);
	struct transport_config config = {
	    .client_ctx = m->client_ctx,
	    .admit = admit_cb,
	    .admit_data = m,
	    .queue_limit = tp->queue_limit,
	};
	assert_int_equal(transport_init(&m->transport, &tp->loop, &config), 0);
	m->transport.data = m; /* until raft_uv_init takes it */
	m->transport_ready = true;
	return m;
}

/* ---- streams ---- */

static void stream_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct tp_stream *s = h->data;
	(void)suggested;
	if (s->in_cap - s->in_len < 65536) {
		s->in_cap = s->in_cap * 2 + 65536;
		s->in = tm_realloc(s->in, s->in_cap);
	}
	*buf =
	    uv_buf_init(s->in + s->in_len, (unsigned)(s->in_cap - s->in_len));
}

static void stream_read_cb(uv_stream_t *h, ssize_t nread, const uv_buf_t *buf)
{
	struct tp_stream *s = h->data;
	(void)buf;
	if (nread > 0) {
		s->in_len += (size_t)nread;
	} else if (nread < 0) {
		s->eof = true;
		uv_read_stop(h);
	}
}

void tp_stream_read_start(struct tp_stream *s)
{
	s->s->data = s;
	assert_int_equal(uv_read_start(s->s, stream_alloc_cb, stream_read_cb),
			 0);
}

struct stream_write {
	uv_write_t req;
	struct tp_stream *s;
	char data[];
};

static void stream_write_cb(uv_write_t *req, int status)
{
	struct stream_write *w = req->data;
	w->s->write_status = status;
	w->s->writes_pending--;
	tm_free(w);
}

void tp_stream_write(struct tp_stream *s, const void *buf, size_t len)
{
	struct stream_write *w = tm_malloc(sizeof *w + len);
	w->req.data = w;
	w->s = s;
	memcpy(w->data, buf, len);
	uv_buf_t b = uv_buf_init(w->data, (unsigned)len);
	s->s->data = s;
	int rv = uv_write(&w->req, s->s, &b, 1, stream_write_cb);
	if (rv != 0) {
		s->write_status = rv;
		tm_free(w);
		return;
	}
	s->writes_pending++;
}

static void stream_closed_cb(uv_handle_t *h)
{
	struct tp_stream *s = h->data;
	raft_free(h);
	s->s = NULL;
}

void tp_stream_close(struct tp_stream *s)
{
	if (s->s == NULL || s->closing) {
		return;
	}
	s->closing = true;
	s->s->data = s;
	uv_close((uv_handle_t *)s->s, stream_closed_cb);
}

static void stream_free(struct tp_stream *s)
{
	tm_free(s->in);
	s->in = NULL;
}

/* ---- the transport without raft ---- */

static void accept_cb(struct raft_uv_transport *rt, raft_id id,
		      const char *address, uv_stream_t *stream)
{
	struct tp_member *m = rt->data;
	assert_true(m->n_accepted < 8);
	unsigned i = m->n_accepted++;
	m->accepted_id[i] = id;
	snprintf(m->accepted_address[i], sizeof m->accepted_address[i], "%s",
		 address);
	m->accepted[i].s = stream;
	tp_stream_read_start(&m->accepted[i]);
}

void tp_listen(struct tp_member *m)
{
	assert_int_equal(m->transport.init(&m->transport, m->id, m->address),
			 0);
	assert_int_equal(m->transport.listen(&m->transport, accept_cb), 0);
}

static void dial_cb(struct raft_uv_connect *req, uv_stream_t *stream,
		    int status)
{
	struct tp_dial *d = req->data;
	d->early = d->inside;
	d->done = true;
	d->status = status;
	if (status == 0) {
		assert_non_null(stream);
		d->stream.s = stream;
		tp_stream_read_start(&d->stream);
	} else {
		assert_null(stream);
	}
}

void tp_dial_start(struct tp_member *m, struct tp_dial *d, raft_id id,
		   const char *address)
{
	memset(d, 0, sizeof *d);
	d->req.data = d;
	d->inside = true;
	assert_int_equal(
	    m->transport.connect(&m->transport, &d->req, id, address, dial_cb),
	    0);
	d->inside = false;
}

int tp_dial(struct tp_member *m, struct tp_dial *d, raft_id id,
	    const char *address)
{
	tp_dial_start(m, d, id, address);
	assert_true(tp_run_until(m->tp, flag_set, &d->done, TP_DEADLINE_MS));
	assert_false(d->early);
	return d->status;
}

static bool stream_gone(void *arg)
{
	struct tp_stream *s = arg;
	return s->s == NULL;
}

void tp_dial_release(struct tp *tp, struct tp_dial *d)
{
	tp_stream_close(&d->stream);
	assert_true(tp_run_until(tp, stream_gone, &d->stream, TP_DEADLINE_MS));
	stream_free(&d->stream);
}

static void transport_closed_cb(struct raft_uv_transport *rt)
{
	struct tp_member *m = rt->data;
	assert_false(m->transport_closed);
	m->transport_closed = true;
}

void tp_transport_close(struct tp_member *m)
{
	m->transport.close(&m->transport, transport_closed_cb);
	assert_false(m->transport_closed); /* never from inside close */
	assert_true(tp_run_until(m->tp, flag_set, &m->transport_closed,
				 TP_DEADLINE_MS));
}

/* ---- raft ---- */

static uint64_t fnv1a(uint64_t h, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 1099511628211ull;
	}
	return h;
}

static int fsm_apply(struct raft_fsm *fsm, const struct raft_buffer *buf,
		     void **result)
{
	struct tp_member *m = fsm->data;
	m->applied++;
	m->applied_bytes += buf->len;
	m->hash = fnv1a(m->hash, buf->base, buf->len);
	*result = NULL;
	return 0;
}

static int fsm_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[],
			unsigned *n_bufs)
{
	(void)fsm;
	(void)bufs;
	(void)n_bufs;
	return RAFT_NOTFOUND; /* the tests never reach the threshold */
}

static int fsm_restore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
	(void)fsm;
	(void)buf;
	return RAFT_NOTFOUND;
}

void tp_configuration(struct tp *tp, struct raft_configuration *conf)
{
	raft_configuration_init(conf);
	for (unsigned i = 0; i < tp->n_members; i++) {
		struct tp_member *m = &tp->members[i];
		assert_int_equal(
		    raft_configuration_add(conf, m->id, m->address, RAFT_VOTER),
		    0);
	}
}

void tp_raft_start(struct tp_member *m, const struct raft_configuration *conf)
{
	struct tp *tp = m->tp;
	if (!m->transport_ready) { /* a restart: a new transport */
		struct transport_config config = {
		    .client_ctx = m->client_ctx,
		    .admit = admit_cb,
		    .admit_data = m,
		    .queue_limit = tp->queue_limit,
		};
		assert_int_equal(
		    transport_init(&m->transport, &tp->loop, &config), 0);
		m->transport_ready = true;
		m->raft_closed = false;
	}
	char dir[192];
	snprintf(dir, sizeof dir, "%s/raft", m->dir);
	assert_int_equal(fs_ensure_dir(dir, 0700, tp->errmsg), 0);
	assert_int_equal(raft_uv_init(&m->io, &tp->loop, dir, &m->transport),
			 0);
	raft_uv_set_connect_retry_delay(&m->io, 100);
	m->fsm.version = 1;
	m->fsm.data = m;
	m->fsm.apply = fsm_apply;
	m->fsm.snapshot = fsm_snapshot;
	m->fsm.restore = fsm_restore;
	/* A restart applies the whole log again. */
	m->applied = 0;
	m->applied_bytes = 0;
	m->hash = 14695981039346656037ull;
	assert_int_equal(
	    raft_init(&m->raft, &m->io, &m->fsm, m->id, m->address), 0);
	m->raft.data = m;
	raft_set_election_timeout(&m->raft, 500);
	raft_set_heartbeat_timeout(&m->raft, 50);
	raft_set_snapshot_threshold(&m->raft, 1u << 30);
	if (conf != NULL) {
		assert_int_equal(raft_bootstrap(&m->raft, conf), 0);
	}
	assert_int_equal(raft_start(&m->raft), 0);
	m->raft_running = true;
}

static void raft_closed_cb(struct raft *r)
{
	struct tp_member *m = r->data;
	if (m->raft_closed) {
		return; /* raft_uv 0.15 may call back twice; see raftnode.c */
	}
	raft_uv_close(&m->io);
	transport_stats(&m->transport, &m->final_stats);
	transport_free(&m->transport);
	m->transport_ready = false;
	m->raft_closed = true;
}

static void close_check_cb(uv_check_t *check)
{
	struct tp_member *m = check->data;
	uv_check_stop(check);
	uv_close((uv_handle_t *)check, NULL);
	raft_close(&m->raft, raft_closed_cb);
}

void tp_raft_close(struct tp_member *m)
{
	if (!m->raft_running) {
		return;
	}
	m->raft_running = false;
	uv_check_init(&m->tp->loop, &m->close_check);
	m->close_check.data = m;
	uv_check_start(&m->close_check, close_check_cb);
	assert_true(
	    tp_run_until(m->tp, flag_set, &m->raft_closed, TP_DEADLINE_MS));
}

struct leader_wait {
	struct tp *tp;
	struct tp_member *leader;
};

static bool one_leader(void *arg)
{
	struct leader_wait *w = arg;
	struct tp *tp = w->tp;
	w->leader = NULL;
	for (unsigned i = 0; i < tp->n_members; i++) {
		struct tp_member *m = &tp->members[i];
		if (m->raft_running && raft_state(&m->raft) == RAFT_LEADER) {
			if (w->leader != NULL) {
				return false;
			}
			w->leader = &tp->members[i];
		}
	}
	if (w->leader == NULL) {
		return false;
	}
	for (unsigned i = 0; i < tp->n_members; i++) {
		struct tp_member *m = &tp->members[i];
		raft_id id;
		const char *address;
		if (!m->raft_running) {
			continue;
		}
		raft_leader(&m->raft, &id, &address);
		if (id != w->leader->id) {
			return false;
		}
	}
	return true;
}

struct tp_member *tp_wait_leader(struct tp *tp)
{
	struct leader_wait w = {.tp = tp};
	if (!tp_run_until(tp, one_leader, &w, TP_DEADLINE_MS)) {
		return NULL;
	}
	return w.leader;
}

static void apply_cb(struct raft_apply *req, int status, void *result)
{
	(void)result;
	if (status != 0) {
		fprintf(stderr, "# raft_apply: %s\n", raft_strerror(status));
	}
	tm_free(req);
}

void tp_apply(struct tp_member *leader, size_t len, uint32_t seed)
{
	struct raft_apply *req = tm_calloc(1, sizeof *req);
	struct raft_buffer buf;
	buf.len = len;
	buf.base = raft_malloc(len);
	assert_non_null(buf.base);
	tp_fill(buf.base, len, seed);
	int rv = raft_apply(&leader->raft, req, &buf, 1, apply_cb);
	if (rv != 0) {
		raft_free(buf.base);
		tm_free(req);
		fail_msg("raft_apply: %s", raft_strerror(rv));
	}
}

/* ---- a server that never speaks ---- */

static void mute_conn_cb(uv_stream_t *server, int status)
{
	struct tp_mute *m = server->data;
	assert_int_equal(status, 0);
	assert_true(m->n < 16);
	uv_tcp_t *c = &m->clients[m->n++];
	assert_int_equal(uv_tcp_init(server->loop, c), 0);
	c->data = m;
	assert_int_equal(uv_accept(server, (uv_stream_t *)c), 0);
}

void tp_mute_start(struct tp *tp, struct tp_mute *m, const char *ip)
{
	memset(m, 0, sizeof *m);
	struct sockaddr_in sa;
	assert_int_equal(uv_ip4_addr(ip, 0, &sa), 0);
	assert_int_equal(uv_tcp_init(&tp->loop, &m->server), 0);
	m->server.data = m;
	assert_int_equal(
	    uv_tcp_bind(&m->server, (const struct sockaddr *)&sa, 0), 0);
	assert_int_equal(uv_listen((uv_stream_t *)&m->server, 16, mute_conn_cb),
			 0);
	int len = sizeof sa;
	assert_int_equal(
	    uv_tcp_getsockname(&m->server, (struct sockaddr *)&sa, &len), 0);
	snprintf(m->address, sizeof m->address, "%s:%d", ip,
		 ntohs(sa.sin_port));
}

static void mute_closed_cb(uv_handle_t *h)
{
	struct tp_mute *m = h->data;
	m->closed++;
}

static bool mute_all_closed(void *arg)
{
	struct tp_mute *m = arg;
	return m->closed == m->n + 1;
}

void tp_mute_stop(struct tp *tp, struct tp_mute *m)
{
	for (unsigned i = 0; i < m->n; i++) {
		uv_close((uv_handle_t *)&m->clients[i], mute_closed_cb);
	}
	uv_close((uv_handle_t *)&m->server, mute_closed_cb);
	assert_true(tp_run_until(tp, mute_all_closed, m, TP_DEADLINE_MS));
}

/* ---- teardown ---- */

static void listener_closed_cb(struct listener *l)
{
	struct tp_member *m = listener_data(l);
	m->listener_closed = true;
}

static void rest_closed_cb(void *data)
{
	struct tp_member *m = data;
	m->rest_closed = true;
}

static bool member_released(void *arg)
{
	struct tp_member *m = arg;
	for (unsigned i = 0; i < m->n_accepted; i++) {
		if (m->accepted[i].s != NULL) {
			return false;
		}
	}
	return m->listener_closed && m->rest_closed;
}

static int remove_cb(const char *path, const struct stat *st, int flag,
		     struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int tp_teardown(void **state)
{
	struct tp *tp = *state;
	for (unsigned i = 0; i < tp->n_members; i++) {
		tp_raft_close(&tp->members[i]);
	}
	for (unsigned i = 0; i < tp->n_members; i++) {
		struct tp_member *m = &tp->members[i];
		for (unsigned j = 0; j < m->n_accepted; j++) {
			tp_stream_close(&m->accepted[j]);
		}
		if (m->transport_ready && !m->transport_closed) {
			tp_transport_close(m);
		}
		if (m->transport_ready) {
			transport_free(&m->transport);
		}
		rest_server_close(m->rest, rest_closed_cb, m);
		listener_close(m->listener, listener_closed_cb);
	}
	for (unsigned i = 0; i < tp->n_members; i++) {
		struct tp_member *m = &tp->members[i];
		assert_true(
		    tp_run_until(tp, member_released, m, TP_DEADLINE_MS));
		for (unsigned j = 0; j < m->n_accepted; j++) {
			stream_free(&m->accepted[j]);
		}
	}
	uv_close((uv_handle_t *)&tp->tick, NULL);
	uint64_t deadline = uv_hrtime() + (uint64_t)TP_DEADLINE_MS * 1000000;
	while (uv_loop_alive(&tp->loop) && uv_hrtime() < deadline) {
		uv_run(&tp->loop, UV_RUN_ONCE);
	}
	assert_int_equal(uv_loop_close(&tp->loop), 0);
	for (unsigned i = 0; i < tp->n_members; i++) {
		struct tp_member *m = &tp->members[i];
		SSL_CTX_free(m->server_ctx);
		SSL_CTX_free(m->client_ctx);
		SSL_CTX_free(m->anon_ctx);
	}
	nftw(tp->dir, remove_cb, 16, FTW_DEPTH | FTW_PHYS);
	tm_free(tp);
	return 0;
}

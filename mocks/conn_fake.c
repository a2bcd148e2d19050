/* In-memory struct conn; see conn_fake.h.
 *
 * All deferred work runs in fake_idle_cb, in this order: complete queued
 * writes, finish a pending conn_connect, finish a close, deliver a broken
 * stream's error, deliver pushed bytes while reading, deliver EOF. The idle
 * handle is stopped whenever nothing is left to do, so an idle fake does
 * not keep the loop busy. */
#include "mocks/conn_fake.h"

#include <stdio.h>
#include <string.h>

#include "internal/lib/assert.h"
#include "internal/lib/err.h"
#include "internal/lib/mem.h"

struct fake_chunk {
	struct fake_chunk *next;
	size_t len;
	char buf[];
};

struct fake_write {
	struct fake_write *next;
	conn_write_cb cb;
	void *arg;
	int status;
	size_t len;
};

struct conn {
	uv_loop_t *loop;
	uv_idle_t idle;
	void *data;
	conn_read_cb read_cb;
	conn_eof_cb eof_cb;
	bool reading;

	/* Peer to us. */
	struct fake_chunk *in_head;
	struct fake_chunk *in_tail;
	bool eof_pending;
	bool eof_delivered;
	int broken; /* TM_* status of a failed stream, or 0 */

	/* Us to peer. */
	struct fake_write *w_head;
	struct fake_write *w_tail;
	size_t n_pending_writes;
	size_t pending_bytes;
	bool stalled; /* writes stay pending */
	char *out;
	size_t out_len;
	size_t out_cap;

	/* Identity. */
	bool tls;
	bool has_fingerprint;
	char fingerprint[128];
	char key_weakness[TM_ERRMSG_SIZE]; /* "" if none */
	bool is_unix;
	uid_t uid;
	char peer_name[64];
	char errmsg[TM_ERRMSG_SIZE];

	/* Outgoing connect in progress. */
	conn_connect_cb connect_cb;
	void *connect_arg;
	char *connect_address;
	bool connect_canceled; /* conn_connect_cancel was called */

	/* Close. */
	bool close_called;
	bool closed;
	conn_close_cb close_cb;
	int refs;
};

static conn_fake_connect_hook connect_hook;
static void *connect_hook_arg;

static void fake_free(struct conn *c)
{
	while (c->in_head != NULL) {
		struct fake_chunk *chunk = c->in_head;
		c->in_head = chunk->next;
		tm_free(chunk);
	}
	INVARIANT(c->w_head == NULL);
	tm_free(c->out);
	tm_free(c->connect_address);
	tm_free(c);
}

static void fake_unref(struct conn *c)
{
	INVARIANT(c->refs > 0);
	c->refs--;
	if (c->refs == 0) {
		fake_free(c);
	}
}

static void fake_idle_cb(uv_idle_t *idle);

static void fake_kick(struct conn *c)
{
	if (c->closed || uv_is_closing((uv_handle_t *)&c->idle)) {
		return;
	}
	uv_idle_start(&c->idle, fake_idle_cb);
}

struct conn *conn_fake_new(uv_loop_t *loop)
{
	struct conn *c = tm_calloc(1, sizeof *c);
	c->loop = loop;
	c->refs = 2;
	snprintf(c->peer_name, sizeof c->peer_name, "fake");
	int rv = uv_idle_init(loop, &c->idle);
	INVARIANT(rv == 0);
	c->idle.data = c;
	return c;
}

void conn_fake_release(struct conn *c) { fake_unref(c); }

void conn_fake_set_tls(struct conn *c, const char *fingerprint)
{
	c->tls = true;
	c->is_unix = false;
	c->has_fingerprint = fingerprint != NULL;
	if (fingerprint != NULL) {
		snprintf(c->fingerprint, sizeof c->fingerprint, "%s",
			 fingerprint);
	}
}

void conn_fake_set_unix(struct conn *c, uid_t uid)
{
	c->is_unix = true;
	c->tls = false;
	c->uid = uid;
	snprintf(c->peer_name, sizeof c->peer_name, "unix");
}

void conn_fake_set_peer_name(struct conn *c, const char *name)
{
	snprintf(c->peer_name, sizeof c->peer_name, "%s", name);
}

void conn_fake_push(struct conn *c, const void *buf, size_t len)
{
	PRE(!c->eof_pending);
	struct fake_chunk *chunk = tm_malloc(sizeof *chunk + len);
	chunk->next = NULL;
	chunk->len = len;
	memcpy(chunk->buf, buf, len);
	if (c->in_tail == NULL) {
		c->in_head = chunk;
	} else {
		c->in_tail->next = chunk;
	}
	c->in_tail = chunk;
	fake_kick(c);
}

void conn_fake_push_str(struct conn *c, const char *s)
{
	conn_fake_push(c, s, strlen(s));
}

void conn_fake_push_eof(struct conn *c)
{
	c->eof_pending = true;
	fake_kick(c);
}

void conn_fake_break(struct conn *c, int status)
{
	PRE(status != 0);
	c->broken = status;
	snprintf(c->errmsg, sizeof c->errmsg, "fake stream broken: %s",
		 tm_strerror(status));
	fake_kick(c);
}

const char *conn_fake_output(struct conn *c, size_t *len)
{
	if (len != NULL) {
		*len = c->out_len;
	}
	return c->out != NULL ? c->out : "";
}

char *conn_fake_take_output(struct conn *c, size_t *len)
{
	char *copy = tm_malloc(c->out_len + 1);
	if (c->out_len > 0) {
		memcpy(copy, c->out, c->out_len);
	}
	copy[c->out_len] = '\0';
	if (len != NULL) {
		*len = c->out_len;
	}
	c->out_len = 0;
	if (c->out != NULL) {
		c->out[0] = '\0';
	}
	return copy;
}

void conn_fake_consume(struct conn *c, size_t n)
{
	PRE(n <= c->out_len);
	memmove(c->out, c->out + n, c->out_len - n);
	c->out_len -= n;
	c->out[c->out_len] = '\0';
}

bool conn_fake_is_reading(const struct conn *c) { return c->reading; }

bool conn_fake_close_called(const struct conn *c) { return c->close_called; }

bool conn_fake_closed(const struct conn *c) { return c->closed; }

size_t conn_fake_pending_writes(const struct conn *c)
{
	return c->n_pending_writes;
}

void conn_fake_stall_writes(struct conn *c, bool stalled)
{
	c->stalled = stalled;
	fake_kick(c);
}

size_t conn_write_queue_size(const struct conn *c) { return c->pending_bytes; }

void conn_fake_set_connect_hook(conn_fake_connect_hook hook, void *arg)
{
	connect_hook = hook;
	connect_hook_arg = arg;
}

/* conn.h */

void *conn_data(struct conn *c) { return c->data; }

void conn_set_data(struct conn *c, void *data) { c->data = data; }

void conn_set_callbacks(struct conn *c, conn_read_cb read_cb,
			conn_eof_cb eof_cb)
{
	c->read_cb = read_cb;
	c->eof_cb = eof_cb;
}

int conn_read_start(struct conn *c)
{
	PRE(!c->close_called);
	PRE(c->read_cb != NULL && c->eof_cb != NULL);
	c->reading = true;
	fake_kick(c);
	return 0;
}

void conn_read_stop(struct conn *c) { c->reading = false; }

static void fake_append_output(struct conn *c, const void *buf, size_t len)
{
	if (c->out_len + len + 1 > c->out_cap) {
		size_t cap = c->out_cap == 0 ? 256 : c->out_cap;
		while (cap < c->out_len + len + 1) {
			cap *= 2;
		}
		c->out = tm_realloc(c->out, cap);
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, buf, len);
	c->out_len += len;
	c->out[c->out_len] = '\0';
}

int conn_write(struct conn *c, const void *buf, size_t len, conn_write_cb cb,
	       void *arg)
{
	PRE(!c->close_called);
	struct fake_write *w = tm_calloc(1, sizeof *w);
	w->cb = cb;
	w->arg = arg;
	w->status = c->broken;
	w->len = len;
	c->pending_bytes += len;
	if (c->broken == 0) {
		fake_append_output(c, buf, len);
	}
	if (c->w_tail == NULL) {
		c->w_head = w;
	} else {
		c->w_tail->next = w;
	}
	c->w_tail = w;
	c->n_pending_writes++;
	fake_kick(c);
	return 0;
}

static void fake_idle_close_cb(uv_handle_t *handle)
{
	struct conn *c = handle->data;
	c->closed = true;
	if (c->close_cb != NULL) {
		c->close_cb(c);
	}
	fake_unref(c);
}

void conn_close(struct conn *c, conn_close_cb cb)
{
	PRE(!c->close_called);
	c->close_called = true;
	c->close_cb = cb;
	c->reading = false;
	fake_kick(c);
}

bool conn_peer_closed(const struct conn *c)
{
	return c->eof_pending || c->eof_delivered || c->broken != 0;
}

bool conn_is_tls(const struct conn *c) { return c->tls; }

bool conn_peer_uid(const struct conn *c, uid_t *uid)
{
	if (!c->is_unix) {
		return false;
	}
	*uid = c->uid;
	return true;
}

const char *conn_peer_fingerprint(const struct conn *c)
{
	return c->tls && c->has_fingerprint ? c->fingerprint : NULL;
}

void conn_fake_set_key_weakness(struct conn *c, const char *why)
{
	snprintf(c->key_weakness, sizeof c->key_weakness, "%s", why);
}

const char *conn_peer_key_weakness(const struct conn *c)
{
	return c->tls && c->has_fingerprint && c->key_weakness[0] != '\0'
		   ? c->key_weakness
		   : NULL;
}

const char *conn_peer_name(const struct conn *c) { return c->peer_name; }

const char *conn_errmsg(const struct conn *c) { return c->errmsg; }

/* The conn made by the latest conn_connect. */
static struct conn *last_connect;

int conn_connect(uv_loop_t *loop, const char *address, SSL_CTX *ctx,
		 conn_connect_cb cb, void *arg)
{
	(void)ctx;
	PRE(cb != NULL);
	struct conn *c = conn_fake_new(loop);
	last_connect = c;
	conn_fake_set_tls(c, NULL);
	conn_fake_set_peer_name(c, address);
	c->connect_cb = cb;
	c->connect_arg = arg;
	c->connect_address = tm_strdup(address);
	fake_kick(c);
	return 0;
}

/* The attempt is the fake conn itself, seen through an opaque type. */
int conn_connect_cancelable(uv_loop_t *loop, const char *address, SSL_CTX *ctx,
			    conn_connect_cb cb, void *arg,
			    struct conn_connect **attempt)
{
	int rv = conn_connect(loop, address, ctx, cb, arg);
	if (attempt != NULL) {
		*attempt = (struct conn_connect *)(void *)last_connect;
	}
	return rv;
}

void conn_connect_cancel(struct conn_connect *attempt)
{
	struct conn *c = (struct conn *)(void *)attempt;
	c->connect_canceled = true;
}

/* Deferred work. */

static void fake_complete_writes(struct conn *c)
{
	while (c->w_head != NULL && (!c->stalled || c->broken != 0)) {
		struct fake_write *w = c->w_head;
		c->w_head = w->next;
		if (c->w_head == NULL) {
			c->w_tail = NULL;
		}
		c->n_pending_writes--;
		c->pending_bytes -= w->len;
		if (w->cb != NULL) {
			w->cb(c, w->arg, w->status);
		}
		tm_free(w);
	}
}

/* Returns true if C was consumed (a failed connect frees it). */
static bool fake_finish_connect(struct conn *c)
{
	conn_connect_cb cb = c->connect_cb;
	void *arg = c->connect_arg;
	c->connect_cb = NULL;
	int status = TM_IO;
	if (c->connect_canceled) {
		status = TM_CANCELED;
	} else if (connect_hook != NULL) {
		status = connect_hook(connect_hook_arg, c->connect_address, c);
	}
	if (status == 0) {
		cb(arg, c, 0, NULL);
		return false;
	}
	char errmsg[TM_ERRMSG_SIZE];
	tm_errmsg_printf(errmsg, "connect %s: %s (fake)", c->connect_address,
			 tm_strerror(status));
	/* Nobody else holds the fake: the caller never got it. */
	c->refs = 1;
	c->close_called = true;
	uv_idle_stop(&c->idle);
	uv_close((uv_handle_t *)&c->idle, fake_idle_close_cb);
	cb(arg, NULL, status, errmsg);
	return true;
}

static void fake_deliver_reads(struct conn *c)
{
	while (c->reading && !c->close_called && c->in_head != NULL &&
	       c->broken == 0) {
		struct fake_chunk *chunk = c->in_head;
		c->in_head = chunk->next;
		if (c->in_head == NULL) {
			c->in_tail = NULL;
		}
		c->read_cb(c, chunk->buf, chunk->len);
		tm_free(chunk);
	}
	if (c->reading && !c->close_called && c->in_head == NULL &&
	    c->eof_pending && !c->eof_delivered) {
		c->eof_delivered = true;
		c->eof_cb(c, 0);
	}
}

static bool fake_has_work(const struct conn *c)
{
	if ((c->w_head != NULL && !c->stalled) || c->connect_cb != NULL) {
		return true;
	}
	if (c->close_called) {
		return !uv_is_closing((const uv_handle_t *)&c->idle);
	}
	if (c->broken != 0) {
		return !c->eof_delivered;
	}
	if (!c->reading || c->eof_delivered) {
		return false;
	}
	return c->in_head != NULL || c->eof_pending;
}

static void fake_idle_cb(uv_idle_t *idle)
{
	struct conn *c = idle->data;
	fake_complete_writes(c);
	if (c->connect_cb != NULL && fake_finish_connect(c)) {
		return;
	}
	if (c->close_called) {
		c->stalled = false; /* a close fails or flushes them all */
		fake_complete_writes(c);
		if (!uv_is_closing((uv_handle_t *)&c->idle)) {
			uv_idle_stop(&c->idle);
			uv_close((uv_handle_t *)&c->idle, fake_idle_close_cb);
		}
		return;
	}
	if (c->broken != 0) {
		if (!c->eof_delivered) {
			c->eof_delivered = true;
			if (c->eof_cb != NULL) {
				c->eof_cb(c, c->broken);
			}
		}
	} else {
		fake_deliver_reads(c);
	}
	if (!c->close_called && !fake_has_work(c)) {
		uv_idle_stop(&c->idle);
	}
}

/* The client's life: curl's multi handle on the loop.
 *
 * Happy path of a request: hclient_send makes its easy handle and adds it
 * to the multi handle, which asks (timer callback) for a 0 ms timeout ->
 * the timer fires, curl resolves and starts connecting, asking (socket
 * callback) to watch the socket -> each poll event runs curl for that
 * socket (TLS handshake, request, answer) -> curl reports the transfer
 * done (curl_multi_info_read) -> the request leaves the multi handle, its
 * result is set and it joins the done list -> the kick timer runs its
 * callback. Its connection stays in the multi handle's cache for the next
 * request to the same address.
 *
 * Failure modes:
 * - curl fails the transfer (refused, pin, timeout, ...): the same path,
 *   request.c maps curl's code to a TM_* status and a message;
 * - hclient_cancel: the easy handle is removed at once (curl closes a
 *   connection cut in the middle), the request joins the done list with
 *   TM_CANCELED;
 * - hclient_close: every request in flight is canceled that way, the
 *   multi handle is cleaned up (closing the cached connections), then the
 *   poll handles and the timers are closed; the last close callback frees
 *   the client and calls the user's callback, after every request's.
 *
 * Closing is gathered: each handle's close callback clears its alive flag
 * (or count) and calls client_maybe_free(). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "internal/client/internal.h"
#include "internal/lib/assert.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"
#include "internal/tls/tls.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 3000
#define DEFAULT_MAX_IDLE 64
#define DEFAULT_MAX_RUNNING 16
#define DEFAULT_MAX_PER_HOST 8

/* ---- lists ---- */

static void list_push(struct hclient_request **head, struct hclient_request *r)
{
	r->prev = NULL;
	r->next = *head;
	if (*head != NULL) {
		(*head)->prev = r;
	}
	*head = r;
}

static void list_remove(struct hclient_request **head,
			struct hclient_request *r)
{
	if (r->prev != NULL) {
		r->prev->next = r->next;
	} else {
		*head = r->next;
	}
	if (r->next != NULL) {
		r->next->prev = r->prev;
	}
	r->prev = r->next = NULL;
}

static void wait_push(struct hclient *c, struct hclient_request *r)
{
	r->next = NULL;
	r->prev = c->wait_tail;
	if (c->wait_tail != NULL) {
		c->wait_tail->next = r;
	} else {
		c->wait_head = r;
	}
	c->wait_tail = r;
}

static void wait_remove(struct hclient *c, struct hclient_request *r)
{
	if (r == c->wait_tail) {
		c->wait_tail = r->prev;
	}
	list_remove(&c->wait_head, r);
}

/* ---- closing ---- */

static void client_maybe_free(struct hclient *c)
{
	if (!c->closing || c->polls_alive > 0 || c->timer_alive ||
	    c->kick_alive || c->wait_timer_alive) {
		return;
	}
	PRE(c->n_pending == 0);
	void (*cb)(void *data) = c->close_cb;
	void *data = c->close_data;
	X509_free(c->cert);
	EVP_PKEY_free(c->key);
	tm_free(c);
	curl_global_cleanup();
	if (cb != NULL) {
		cb(data);
	}
}

static void sock_close_cb(uv_handle_t *h);

static void timer_close_cb(uv_handle_t *h)
{
	struct hclient *c = h->data;
	c->timer_alive = false;
	client_maybe_free(c);
}

static void wait_timer_close_cb(uv_handle_t *h)
{
	struct hclient *c = h->data;
	c->wait_timer_alive = false;
	client_maybe_free(c);
}

static void kick_close_cb(uv_handle_t *h)
{
	struct hclient *c = h->data;
	c->kick_alive = false;
	client_maybe_free(c);
}

static void sock_unlink(struct hclient_sock *s)
{
	struct hclient *c = s->client;
	if (s->prev != NULL) {
		s->prev->next = s->next;
	} else {
		c->socks = s->next;
	}
	if (s->next != NULL) {
		s->next->prev = s->prev;
	}
	s->prev = s->next = NULL;
}

static void sock_close(struct hclient_sock *s)
{
	sock_unlink(s);
	uv_poll_stop(&s->poll);
	uv_close((uv_handle_t *)&s->poll, sock_close_cb);
}

static void sock_close_cb(uv_handle_t *h)
{
	struct hclient_sock *s = h->data;
	struct hclient *c = s->client;
	tm_free(s);
	c->polls_alive--;
	client_maybe_free(c);
}

/* ---- completions ---- */

static void kick_cb(uv_timer_t *t)
{
	struct hclient *c = t->data;
	c->delivering = true;
	while (c->done_head != NULL) {
		struct hclient_request *req = c->done_head;
		c->done_head = req->next;
		if (c->done_head == NULL) {
			c->done_tail = NULL;
		}
		req->next = NULL;
		req->done = false;
		c->n_pending--;
		req->cb(req); /* may send, cancel, close, free REQ */
	}
	c->delivering = false;
	if (c->closing && c->kick_alive && !uv_is_closing((uv_handle_t *)t)) {
		uv_close((uv_handle_t *)t, kick_close_cb);
	}
}

void hclient_complete(struct hclient_request *req)
{
	struct hclient *c = req->client;
	PRE(!req->in_flight && !req->done);
	req->done = true;
	req->next = NULL;
	req->prev = c->done_tail;
	if (c->done_tail != NULL) {
		c->done_tail->next = req;
	} else {
		c->done_head = req;
	}
	c->done_tail = req;
	if (!c->delivering) {
		uv_timer_start(&c->kick, kick_cb, 0, 0);
	}
}

/* ---- curl on the loop ---- */

static void account(struct hclient *c, uint64_t t0)
{
	uint64_t ns = uv_hrtime() - t0;
	c->stats.steps++;
	c->stats.total_step_ns += ns;
	if (ns > c->stats.max_step_ns) {
		c->stats.max_step_ns = ns;
	}
}

/* Hand REQ to curl. */
static void start(struct hclient *c, struct hclient_request *req)
{
	CURLMcode mc = curl_multi_add_handle(c->multi, req->easy);
	if (mc != CURLM_OK) {
		hclient_request_release(req);
		req->status = TM_IO;
		tm_errmsg_printf(req->errmsg,
				 "request to %s: curl_multi_add_handle(): %s",
				 req->address, curl_multi_strerror(mc));
		hclient_complete(req);
		return;
	}
	req->in_flight = true;
	list_push(&c->in_flight, req);
	c->n_running++;
}

static void wait_timer_cb(uv_timer_t *t);

/* Time the wait timer for the first deadline among the waiting. */
static void wait_timer_update(struct hclient *c)
{
	uint64_t first = UINT64_MAX;
	for (struct hclient_request *r = c->wait_head; r != NULL; r = r->next) {
		uint64_t d = hclient_request_deadline(r);
		first = d < first ? d : first;
	}
	if (first == UINT64_MAX) {
		uv_timer_stop(&c->wait_timer);
		return;
	}
	uint64_t now = uv_hrtime();
	uint64_t ms = first > now ? (first - now + 999999) / 1000000 : 0;
	uv_timer_start(&c->wait_timer, wait_timer_cb, ms, 0);
}

/* Requests whose whole timeout passed while they waited. */
static void wait_timer_cb(uv_timer_t *t)
{
	struct hclient *c = t->data;
	uint64_t now = uv_hrtime();
	struct hclient_request *r = c->wait_head;
	while (r != NULL) {
		struct hclient_request *next = r->next;
		if (hclient_request_deadline(r) <= now) {
			wait_remove(c, r);
			r->waiting = false;
			bool left = hclient_request_rearm(r);
			INVARIANT(!left);
			hclient_complete(r);
		}
		r = next;
	}
	wait_timer_update(c);
}

static void start_waiting(struct hclient *c)
{
	while (c->wait_head != NULL && c->n_running < c->max_running) {
		struct hclient_request *req = c->wait_head;
		wait_remove(c, req);
		req->waiting = false;
		if (hclient_request_rearm(req)) {
			start(c, req);
		} else {
			hclient_complete(req);
		}
	}
	wait_timer_update(c);
}

static void collect(struct hclient *c)
{
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(c->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE) {
			continue;
		}
		CURL *easy = msg->easy_handle;
		CURLcode rc = msg->data.result; /* MSG dies with the removal */
		char *priv = NULL;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
		struct hclient_request *req = (struct hclient_request *)priv;
		curl_multi_remove_handle(c->multi, easy);
		list_remove(&c->in_flight, req);
		req->in_flight = false;
		c->n_running--;
		hclient_request_result(req, rc);
		hclient_complete(req);
	}
	start_waiting(c);
}

void hclient_step(struct hclient *c, curl_socket_t fd, int ev_bitmask)
{
	uint64_t t0 = uv_hrtime();
	int running;
	curl_multi_socket_action(c->multi, fd, ev_bitmask, &running);
	collect(c);
	account(c, t0);
}

static void poll_cb(uv_poll_t *p, int status, int events)
{
	struct hclient_sock *s = p->data;
	int flags = 0;
	if (status < 0) {
		flags = CURL_CSELECT_ERR;
	} else {
		flags |= (events & UV_READABLE) ? CURL_CSELECT_IN : 0;
		flags |= (events & UV_WRITABLE) ? CURL_CSELECT_OUT : 0;
	}
	hclient_step(s->client, s->fd, flags);
}

static void timeout_cb(uv_timer_t *t)
{
	hclient_step(t->data, CURL_SOCKET_TIMEOUT, 0);
}

/* CURLMOPT_SOCKETFUNCTION: watch FD for WHAT. Only touches handles. */
static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp,
		     void *socketp)
{
	struct hclient *c = userp;
	struct hclient_sock *s = socketp;
	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (s != NULL) {
			sock_close(s);
			if (c->multi != NULL) {
				curl_multi_assign(c->multi, fd, NULL);
			}
		}
		return 0;
	}
	if (s == NULL) {
		s = tm_calloc(1, sizeof *s);
		s->client = c;
		s->fd = fd;
		int rv = uv_poll_init_socket(c->loop, &s->poll, fd);
		if (rv != 0) {
			LOGW("hclient: watching socket %d: %s", (int)fd,
			     uv_strerror(rv));
			tm_free(s);
			return -1; /* curl fails the transfer */
		}
		s->poll.data = s;
		c->polls_alive++;
		s->next = c->socks;
		if (c->socks != NULL) {
			c->socks->prev = s;
		}
		c->socks = s;
		curl_multi_assign(c->multi, fd, s);
	}
	int events = 0;
	events |= (what & CURL_POLL_IN) ? UV_READABLE : 0;
	events |= (what & CURL_POLL_OUT) ? UV_WRITABLE : 0;
	int rv = uv_poll_start(&s->poll, events, poll_cb);
	if (rv != 0) {
		LOGW("hclient: watching socket %d: %s", (int)fd,
		     uv_strerror(rv));
		return -1;
	}
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: run curl in TIMEOUT_MS (-1: never). Curl must
 * not be called from here; a 0 ms timer runs on the next loop turn. */
static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct hclient *c = userp;
	(void)multi;
	if (timeout_ms < 0) {
		uv_timer_stop(&c->timer);
	} else {
		uv_timer_start(&c->timer, timeout_cb, (uint64_t)timeout_ms, 0);
	}
	return 0;
}

/* ---- init ---- */

static int load_keypair(struct hclient *c, const struct hclient_config *cfg,
			char *errmsg)
{
	FILE *f = fopen(cfg->cert_path, "r");
	if (f == NULL) {
		tm_errmsg_printf(errmsg, "open %s: %s", cfg->cert_path,
				 strerror(errno));
		return TM_TLS;
	}
	c->cert = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	f = fopen(cfg->key_path, "r");
	if (f == NULL) {
		tm_errmsg_printf(errmsg, "open %s: %s", cfg->key_path,
				 strerror(errno));
		return TM_TLS;
	}
	c->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (c->cert == NULL || c->key == NULL ||
	    X509_check_private_key(c->cert, c->key) != 1) {
		tls_errmsg_from_queue(errmsg, "client key pair");
		return TM_TLS;
	}
	return 0;
}

static int setup_multi(struct hclient *c, const struct hclient_config *cfg,
		       char *errmsg)
{
	c->multi = curl_multi_init();
	if (c->multi == NULL) {
		tm_errmsg_printf(errmsg, "curl_multi_init() failed");
		return TM_IO;
	}
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	/* Curl's default follows the number of transfers, which falls to
	 * nothing between bursts. */
	curl_multi_setopt(
	    c->multi, CURLMOPT_MAXCONNECTS,
	    (long)(cfg->max_idle != 0 ? cfg->max_idle : DEFAULT_MAX_IDLE));
	return 0;
}

int hclient_init(struct hclient **out, uv_loop_t *loop,
		 const struct hclient_config *cfg, char *errmsg)
{
	PRE(out != NULL && loop != NULL && cfg != NULL);
	PRE(cfg->cert_path != NULL && cfg->key_path != NULL);
	if (curl_global_init_mem(CURL_GLOBAL_DEFAULT, tm_malloc, tm_free,
				 tm_realloc, tm_strdup,
				 tm_calloc) != CURLE_OK) {
		tm_errmsg_printf(errmsg, "curl_global_init() failed");
		return TM_IO;
	}
	struct hclient *c = tm_calloc(1, sizeof *c);
	c->loop = loop;
	c->max_running =
	    cfg->max_running != 0 ? cfg->max_running : DEFAULT_MAX_RUNNING;
	c->connect_timeout_ms = cfg->connect_timeout_ms != 0
				    ? cfg->connect_timeout_ms
				    : DEFAULT_CONNECT_TIMEOUT_MS;
	int rv = load_keypair(c, cfg, errmsg);
	if (rv == 0) {
		rv = setup_multi(c, cfg, errmsg);
	}
	if (rv != 0) {
		X509_free(c->cert);
		EVP_PKEY_free(c->key);
		tm_free(c);
		curl_global_cleanup();
		return rv;
	}
	uv_timer_init(loop, &c->timer);
	uv_timer_init(loop, &c->kick);
	uv_timer_init(loop, &c->wait_timer);
	c->timer.data = c;
	c->kick.data = c;
	c->wait_timer.data = c;
	c->timer_alive = true;
	c->kick_alive = true;
	c->wait_timer_alive = true;
	*out = c;
	return 0;
}

/* ---- requests ---- */

int hclient_send(struct hclient *c, struct hclient_request *req, hclient_cb cb)
{
	PRE(c != NULL && req != NULL && cb != NULL);
	PRE(!req->waiting && !req->in_flight && !req->done);
	hclient_request_clear(req);
	req->status = 0;
	req->sent = false;
	req->http_status = 0;
	req->errmsg[0] = '\0';
	req->too_big = false;
	req->pin_failed = false;
	req->client = c;
	req->cb = cb;
	if (c->closing) {
		tm_errmsg_printf(req->errmsg, "the client is closing");
		return TM_SHUTDOWN;
	}
	uint64_t t0 = uv_hrtime();
	int rv = hclient_request_setup(c, req);
	if (rv != 0) {
		return rv;
	}
	req->started_ns = t0;
	c->n_pending++;
	if (c->n_running < c->max_running) {
		start(c, req); /* a failure completes it, later */
	} else {
		req->waiting = true;
		wait_push(c, req);
		wait_timer_update(c);
	}
	account(c, t0);
	return 0;
}

static void request_abort(struct hclient_request *req)
{
	struct hclient *c = req->client;
	if (req->waiting) {
		wait_remove(c, req);
		req->waiting = false;
	} else {
		curl_multi_remove_handle(c->multi, req->easy);
		list_remove(&c->in_flight, req);
		req->in_flight = false;
		c->n_running--;
	}
	hclient_request_release(req);
	tm_free(req->body_out);
	req->body_out = NULL;
	req->body_out_len = 0;
	req->status = TM_CANCELED;
	tm_errmsg_printf(req->errmsg, "request to %s canceled", req->address);
	hclient_complete(req);
}

void hclient_cancel(struct hclient_request *req)
{
	PRE(req->client != NULL &&
	    (req->waiting || req->in_flight || req->done));
	if (req->done) {
		return; /* its result is in: it stands */
	}
	uint64_t t0 = uv_hrtime();
	request_abort(req);
	if (!req->client->closing) {
		start_waiting(req->client);
	}
	account(req->client, t0);
}

void hclient_close(struct hclient *c, void (*cb)(void *data), void *data)
{
	PRE(!c->closing);
	c->closing = true;
	c->close_cb = cb;
	c->close_data = data;
	while (c->wait_head != NULL) {
		request_abort(c->wait_head);
	}
	while (c->in_flight != NULL) {
		request_abort(c->in_flight);
	}
	CURLM *multi = c->multi;
	c->multi = NULL; /* socket_cb must not assign any more */
	curl_multi_cleanup(multi);
	/* Curl removes the sockets it watched as it closes them; any left
	 * would fire into a multi handle that is gone. */
	while (c->socks != NULL) {
		sock_close(c->socks);
	}
	uv_timer_stop(&c->timer);
	uv_close((uv_handle_t *)&c->timer, timer_close_cb);
	uv_close((uv_handle_t *)&c->wait_timer, wait_timer_close_cb);
	if (!c->delivering) {
		/* Run the callbacks left, then close the kick timer. */
		uv_timer_start(&c->kick, kick_cb, 0, 0);
	}
}

uv_loop_t *hclient_loop(const struct hclient *c) { return c->loop; }

size_t hclient_pending(const struct hclient *c) { return c->n_pending; }

void hclient_get_stats(const struct hclient *c, struct hclient_stats *out)
{
	*out = c->stats;
}

/* thermionic_events_follow(): GET /1.0/events as a WebSocket.
 *
 * Happy path: connect (curl, CONNECT_ONLY: the unix socket, or TLS with
 * the pin and the client certificate), send the upgrade request, check
 * the 101 and its Sec-WebSocket-Accept, then let wslay (client side)
 * read frames and hand each text message, one JSON event, to the
 * callback. A ping every PING_MS finds a dead server.
 *
 * Failure modes: the server refuses the request (an error envelope:
 * THERMIONIC_ERR_HTTP with its message); a malformed answer
 * (THERMIONIC_ERR_PROTO); the server closes the stream (close frame with
 * its reason) or the connection breaks (THERMIONIC_ERR_CONNECT). */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <wslay/wslay.h>

#include "pkg/internal.h"

#define MAX_HEAD 16384
#define MAX_ERROR_BODY 65536
#define PING_MS 30000

struct follow {
	struct thermionic_client *c;
	curl_socket_t sock;
	char *pre; /* bytes read past the response head */
	size_t pre_len;
	size_t pre_off;
	bool eof;
	bool stop;
	bool got_close;
	uint16_t close_code;
	char close_reason[128];
	thermionic_event_cb cb;
	void *arg;
};

static int wait_sock(curl_socket_t sock, short events, int ms)
{
	struct pollfd p = {.fd = sock, .events = events};
	return poll(&p, 1, ms);
}

static int send_all(struct follow *f, const char *buf, size_t len)
{
	while (len > 0) {
		size_t n = 0;
		CURLcode rc = curl_easy_send(f->c->curl, buf, len, &n);
		if (rc == CURLE_AGAIN) {
			wait_sock(f->sock, POLLOUT, 1000);
			continue;
		}
		if (rc != CURLE_OK) {
			return tmc_fail(f->c, THERMIONIC_ERR_CONNECT,
					"send to %s: %s", f->c->target,
					curl_easy_strerror(rc));
		}
		buf += n;
		len -= n;
	}
	return THERMIONIC_OK;
}

/* Read into BUF until it holds HAVE >= WANT bytes, or the head's end
 * when WANT is 0. */
static int read_until(struct follow *f, char *buf, size_t cap, size_t *have,
		      size_t want)
{
	unsigned long long deadline = tmc_now_ms() + f->c->timeout_ms;
	for (;;) {
		if (want > 0 ? *have >= want
			     : (*have >= 4 &&
				memmem(buf, *have, "\r\n\r\n", 4) != NULL)) {
			return THERMIONIC_OK;
		}
		if (*have == cap) {
			return tmc_fail(f->c, THERMIONIC_ERR_PROTO,
					"malformed response from %s: the "
					"answer's head is too long",
					f->c->target);
		}
		size_t n = 0;
		CURLcode rc =
		    curl_easy_recv(f->c->curl, buf + *have, cap - *have, &n);
		if (rc == CURLE_AGAIN) {
			if (tmc_now_ms() >= deadline) {
				return tmc_fail(f->c, THERMIONIC_ERR_TIMEOUT,
						"no answer from %s",
						f->c->target);
			}
			wait_sock(f->sock, POLLIN, 100);
			continue;
		}
		if (rc != CURLE_OK || n == 0) {
			return tmc_fail(f->c, THERMIONIC_ERR_CONNECT,
					"connection to %s closed before an "
					"answer",
					f->c->target);
		}
		*have += n;
	}
}

/* A refusal: its envelope's error, as THERMIONIC_ERR_HTTP. */
static int refused(struct follow *f, char *buf, size_t have, size_t head_len,
		   long long content_length)
{
	size_t want = head_len;
	if (content_length > 0 && content_length <= MAX_ERROR_BODY) {
		want += (size_t)content_length;
		if (read_until(f, buf, head_len + MAX_ERROR_BODY, &have,
			       want) != 0) {
			want = have;
		}
	}
	cJSON *env = cJSON_ParseWithLength(buf + head_len, want - head_len);
	const cJSON *err = cJSON_GetObjectItemCaseSensitive(env, "error");
	int rv = tmc_fail(f->c, THERMIONIC_ERR_HTTP, "%s",
			  cJSON_IsString(err) ? err->valuestring
					      : "the server refused the "
						"event stream");
	cJSON_Delete(env);
	return rv;
}

static int handshake(struct follow *f, const char *path)
{
	unsigned char raw[16];
	char key[32];
	char accept[32];
	if (RAND_bytes(raw, sizeof raw) != 1) {
		return tmc_fail(f->c, THERMIONIC_ERR_NOMEM, "no random bytes");
	}
	EVP_EncodeBlock((unsigned char *)key, raw, sizeof raw);
	tmc_ws_accept(key, accept);
	char req[1024];
	snprintf(req, sizeof req,
		 "GET %s HTTP/1.1\r\nHost: thermionic\r\n"
		 "User-Agent: libthermionic/" THERMIONIC_CLIENT_VERSION "\r\n"
		 "Connection: Upgrade\r\nUpgrade: websocket\r\n"
		 "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\n\r\n",
		 path, key);
	int rv = send_all(f, req, strlen(req));
	if (rv != 0) {
		return rv;
	}
	char *buf = malloc(MAX_HEAD + MAX_ERROR_BODY);
	if (buf == NULL) {
		return tmc_fail(f->c, THERMIONIC_ERR_NOMEM, "out of memory");
	}
	size_t have = 0;
	rv = read_until(f, buf, MAX_HEAD, &have, 0);
	if (rv == 0) {
		size_t head_len =
		    (size_t)((char *)memmem(buf, have, "\r\n\r\n", 4) - buf) +
		    4;
		int status;
		long long length;
		bool ok = tmc_ws_head_check(buf, head_len - 4, accept, &status,
					    &length);
		f->c->status = status;
		if (ok) {
			f->pre_len = have - head_len;
			f->pre = malloc(f->pre_len + 1);
			if (f->pre != NULL) {
				memcpy(f->pre, buf + head_len, f->pre_len);
			}
		} else if (status >= 400) {
			rv = refused(f, buf, have, head_len, length);
		} else {
			rv = tmc_fail(f->c, THERMIONIC_ERR_PROTO,
				      "malformed response from %s: no "
				      "WebSocket upgrade (status %d)",
				      f->c->target, status);
		}
	}
	free(buf);
	return rv;
}

static ssize_t recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len,
		       int flags, void *user)
{
	(void)flags;
	struct follow *f = user;
	if (f->pre_off < f->pre_len) {
		size_t n = f->pre_len - f->pre_off;
		n = n < len ? n : len;
		memcpy(buf, f->pre + f->pre_off, n);
		f->pre_off += n;
		return (ssize_t)n;
	}
	size_t n = 0;
	CURLcode rc = curl_easy_recv(f->c->curl, buf, len, &n);
	if (rc == CURLE_AGAIN) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	if (rc != CURLE_OK || n == 0) {
		f->eof = true;
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return (ssize_t)n;
}

static ssize_t send_cb(wslay_event_context_ptr ctx, const uint8_t *data,
		       size_t len, int flags, void *user)
{
	(void)flags;
	struct follow *f = user;
	size_t n = 0;
	CURLcode rc = curl_easy_send(f->c->curl, data, len, &n);
	if (rc == CURLE_AGAIN) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	if (rc != CURLE_OK) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return (ssize_t)n;
}

static int genmask_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len,
		      void *user)
{
	(void)ctx;
	(void)user;
	return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

static void msg_cb(wslay_event_context_ptr ctx,
		   const struct wslay_event_on_msg_recv_arg *arg, void *user)
{
	(void)ctx;
	struct follow *f = user;
	if (arg->opcode == WSLAY_CONNECTION_CLOSE) {
		f->got_close = true;
		f->close_code = arg->status_code;
		size_t n = arg->msg_length > 2 ? arg->msg_length - 2 : 0;
		n = n < sizeof f->close_reason ? n : sizeof f->close_reason - 1;
		if (n > 0) {
			memcpy(f->close_reason, arg->msg + 2, n);
		}
		f->close_reason[n] = '\0';
		return;
	}
	if (arg->opcode != WSLAY_TEXT_FRAME || f->stop) {
		return;
	}
	cJSON *event = NULL;
	if (tmc_json_parse((const char *)arg->msg, arg->msg_length, &event) !=
	    THERMIONIC_OK) {
		return; /* not JSON: skipped */
	}
	if (f->cb(f->arg, event) != 0) {
		f->stop = true;
	}
	cJSON_Delete(event);
}

static const struct wslay_event_callbacks callbacks = {
    .recv_callback = recv_cb,
    .send_callback = send_cb,
    .genmask_callback = genmask_cb,
    .on_msg_recv_callback = msg_cb,
};

static int ended(struct follow *f)
{
	if (f->got_close) {
		return tmc_fail(f->c, THERMIONIC_ERR_CONNECT,
				"%s ended the event stream (%u%s%s)",
				f->c->target, (unsigned)f->close_code,
				f->close_reason[0] != '\0' ? " " : "",
				f->close_reason);
	}
	return tmc_fail(f->c, THERMIONIC_ERR_CONNECT,
			"the connection to %s was closed", f->c->target);
}

static int run(struct follow *f, wslay_event_context_ptr ctx)
{
	for (;;) {
		if (wslay_event_recv(ctx) != 0) {
			return ended(f);
		}
		if (f->stop) {
			static const char bye[] = "client done";
			wslay_event_queue_close(ctx, 1000, (const uint8_t *)bye,
						sizeof bye - 1);
			wslay_event_send(ctx);
			return THERMIONIC_OK;
		}
		if (wslay_event_want_write(ctx) && wslay_event_send(ctx) != 0) {
			return ended(f);
		}
		if (!wslay_event_want_read(ctx)) {
			return ended(f);
		}
		short events = POLLIN;
		if (wslay_event_want_write(ctx)) {
			events |= POLLOUT;
		}
		if (wait_sock(f->sock, events, PING_MS) == 0) {
			struct wslay_event_msg ping = {
			    .opcode = WSLAY_PING, .msg = NULL, .msg_length = 0};
			wslay_event_queue_msg(ctx, &ping);
		}
	}
}

static bool query_valid(const char *s)
{
	return s == NULL ||
	       strspn(s, "abcdefghijklmnopqrstuvwxyz,") == strlen(s);
}

int thermionic_events_follow(struct thermionic_client *client,
			     const char *types, const char *level,
			     thermionic_event_cb cb, void *arg)
{
	if (client == NULL || cb == NULL) {
		return THERMIONIC_ERR_INVALID;
	}
	tmc_clear_error(client);
	if (!query_valid(types) || !query_valid(level)) {
		return tmc_fail(client, THERMIONIC_ERR_INVALID,
				"event types and level are lowercase words "
				"separated by commas");
	}
	char path[512];
	snprintf(path, sizeof path, "/1.0/events?type=%s%s%s",
		 types != NULL ? types : "", level != NULL ? "&level=" : "",
		 level != NULL ? level : "");
	char *url = malloc(strlen(client->base_url) + 2);
	if (url == NULL) {
		return tmc_fail(client, THERMIONIC_ERR_NOMEM, "out of memory");
	}
	sprintf(url, "%s/", client->base_url);
	int rv = tmc_transport_connect_only(client, url);
	free(url);
	if (rv != THERMIONIC_OK) {
		return rv;
	}
	struct follow f = {.c = client, .cb = cb, .arg = arg};
	if (curl_easy_getinfo(client->curl, CURLINFO_ACTIVESOCKET, &f.sock) !=
		CURLE_OK ||
	    f.sock == CURL_SOCKET_BAD) {
		return tmc_fail(client, THERMIONIC_ERR_CONNECT,
				"no connection to %s", client->target);
	}
	rv = handshake(&f, path);
	if (rv == THERMIONIC_OK) {
		wslay_event_context_ptr ctx;
		if (wslay_event_context_client_init(&ctx, &callbacks, &f) !=
		    0) {
			rv = tmc_fail(client, THERMIONIC_ERR_NOMEM,
				      "out of memory");
		} else {
			rv = run(&f, ctx);
			wslay_event_context_free(ctx);
		}
	}
	free(f.pre);
	/* The next exchange must not find this connection. */
	curl_easy_reset(client->curl);
	return rv;
}

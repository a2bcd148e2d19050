/* Streamed responses: chunked transfer encoding (HTTP/1.1), or a body
 * delimited by closing the connection (HTTP/1.0 clients).
 *
 * Happy path: rest_stream_begin queues the head; each rest_stream_write
 * queues one chunk and reports its completion; rest_stream_end queues the
 * last chunk and completes the request once every write has completed.
 *
 * Failure modes: the connection fails or is closed while streaming: the
 * request is detached, pending writes complete with an error status, and
 * later rest_stream_begin/rest_stream_write return TM_CANCELED without a
 * callback; rest_stream_end still completes the request. */
#include <stdio.h>
#include <string.h>

#include "internal/lib/assert.h"
#include "internal/lib/err.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"
#include "internal/rest/internal.h"

struct stream_write {
	struct rest_request *req;
	void (*cb)(struct rest_request *req, void *arg, int status);
	void *arg;
};

int rest_stream_begin(struct rest_request *req, int status,
		      const char *content_type, const char *extra_headers)
{
	PRE(!req->answered);
	req->answered = true;
	req->streaming = true;
	req->status = status;
	if (req->rc == NULL) {
		return TM_CANCELED;
	}
	const struct rest_message *m = req->msg;
	bool http10 = m->http_major == 1 && m->http_minor == 0;
	req->chunked = !http10;
	/* Without chunking only closing the connection ends the body. */
	req->keep_alive = req->chunked && rest_request_keep_alive(req);
	size_t len;
	char *head = rest_response_head(status, content_type, -1,
					req->chunked, req->keep_alive, http10,
					extra_headers, &len);
	rest_conn_write(req->rc, head, len);
	tm_free(head);
	return req->rc != NULL ? 0 : TM_CANCELED;
}

static void stream_write_cb(struct conn *c, void *arg, int status)
{
	(void)c;
	struct stream_write *w = arg;
	struct rest_request *req = w->req;
	INVARIANT(req->stream_pending > 0);
	req->stream_pending--;
	if (status != 0 && req->rc != NULL) {
		LOGD("rest: %s: stream write failed: %s", req->peer,
		     tm_strerror(status));
		rest_conn_close(req->rc);
	}
	bool ended = req->stream_ended;
	if (w->cb != NULL) {
		/* May call rest_stream_end, which may free REQ. */
		w->cb(req, w->arg, status);
	}
	tm_free(w);
	if (ended && req->stream_pending == 0) {
		rest_request_finish(req);
	}
}

int rest_stream_write(struct rest_request *req, const void *buf, size_t len,
		      void (*cb)(struct rest_request *req, void *arg,
				 int status),
		      void *arg)
{
	PRE(req->streaming && !req->stream_ended && len > 0);
	if (req->rc == NULL) {
		return TM_CANCELED;
	}
	char frame_head[32] = "";
	const char *frame_tail = "";
	if (req->chunked) {
		snprintf(frame_head, sizeof frame_head, "%zx\r\n", len);
		frame_tail = "\r\n";
	}
	size_t head_len = strlen(frame_head);
	size_t tail_len = strlen(frame_tail);
	char *out = tm_malloc(head_len + len + tail_len);
	memcpy(out, frame_head, head_len);
	memcpy(out + head_len, buf, len);
	memcpy(out + head_len + len, frame_tail, tail_len);

	struct stream_write *w = tm_malloc(sizeof *w);
	w->req = req;
	w->cb = cb;
	w->arg = arg;
	int rv = conn_write(req->rc->conn, out, head_len + len + tail_len,
			    stream_write_cb, w);
	tm_free(out);
	if (rv != 0) {
		tm_free(w);
		rest_conn_close(req->rc);
		return TM_IO;
	}
	req->stream_pending++;
	return 0;
}

void rest_stream_end(struct rest_request *req)
{
	static const char last_chunk[] = "0\r\n\r\n";
	PRE(req->streaming && !req->stream_ended);
	req->stream_ended = true;
	if (req->rc != NULL && req->chunked) {
		rest_conn_write(req->rc, last_chunk, sizeof last_chunk - 1);
	}
	if (req->stream_pending == 0) {
		rest_request_finish(req);
	}
}

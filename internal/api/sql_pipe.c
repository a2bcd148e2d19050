/* Chunks of an answer from the worker thread that encodes rows to the
 * client, in order, with back-pressure.
 *
 * Happy path: the worker's encoder hands a full chunk to sql_pipe_put,
 * which queues it, wakes the loop (uv_async) and returns while no more
 * than SQL_STREAM_MAX_UNSENT chunks are unsent -> on the loop, the first
 * chunk starts a chunked 200 response with the sync envelope's head
 * (rest_stream_begin), each chunk is one rest_stream_write -> each write's
 * callback counts the chunk as sent and wakes a waiting worker ->
 * sql_pipe_end writes the rest of the text and the envelope's end.
 *
 * Failure modes:
 * - the client is slow: the worker waits in sql_pipe_put, until the
 *   statement's deadline (TM_TIMEOUT, the statement ends with an error);
 * - the client is gone or the daemon stops (sql_pipe_abort, or a write
 *   that fails): a waiting worker returns TM_CANCELED at once, and so does
 *   every later put; chunks still queued are dropped;
 * - the producer runs on the loop thread itself (gdb without a pool, in
 *   tests): it never waits, which would deadlock.
 *
 * Memory: at most SQL_STREAM_MAX_UNSENT chunks (plus the one being
 * encoded) are held per request, whatever the size of the result. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "internal/api/sql_call.h"
#include "internal/lib/assert.h"
#include "internal/lib/mem.h"

/* The sync envelope around "metadata" (internal/rest/envelope.h). */
#define ENVELOPE_HEAD                                                          \
	"{\"type\":\"sync\",\"status\":\"Success\",\"status_code\":200,"       \
	"\"operation\":\"\",\"error_code\":0,\"error\":\"\",\"metadata\":"
#define ENVELOPE_TAIL "}"

struct sql_chunk {
	char *p; /* owned */
	size_t n;
	struct sql_chunk *next;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void async_cb(uv_async_t *async) { sql_pipe_drain(async->data); }

void sql_pipe_init(struct sql_pipe *p, uv_loop_t *loop,
		   struct rest_request *http, unsigned timeout_ms)
{
	pthread_condattr_t attr;
	memset(p, 0, sizeof *p);
	p->http = http;
	p->timeout_ms = timeout_ms;
	p->loop_thread = uv_thread_self();
	pthread_mutex_init(&p->mutex, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cond, &attr);
	pthread_condattr_destroy(&attr);
	int rv = uv_async_init(loop, &p->async, async_cb);
	INVARIANT(rv == 0);
	p->async.data = p;
	p->async_alive = true;
}

void sql_pipe_start_statement(struct sql_pipe *p)
{
	p->deadline_ns = p->timeout_ms != 0
			     ? now_ns() + (uint64_t)p->timeout_ms * 1000000u
			     : 0;
}

/* With the mutex held: wait until a chunk is sent, the pipe aborts or
 * the deadline passes. */
static int wait_unsent(struct sql_pipe *p, char *errmsg)
{
	while (p->unsent > SQL_STREAM_MAX_UNSENT && !p->aborted) {
		uint64_t now = now_ns();
		if (p->deadline_ns != 0 && now >= p->deadline_ns) {
			tm_errmsg_printf(
			    errmsg,
			    "interrupted: the statement ran longer than its "
			    "timeout of %u ms while the client was slow to "
			    "read the rows (core.query_timeout, or the "
			    "request's \"timeout\")",
			    p->timeout_ms);
			return TM_TIMEOUT;
		}
		/* Wake up now and then even without a deadline. */
		uint64_t until = now + 200000000u;
		if (p->deadline_ns != 0 && p->deadline_ns < until) {
			until = p->deadline_ns;
		}
		struct timespec ts = {.tv_sec = (time_t)(until / 1000000000u),
				      .tv_nsec = (long)(until % 1000000000u)};
		pthread_cond_timedwait(&p->cond, &p->mutex, &ts);
	}
	if (p->aborted) {
		tm_errmsg_printf(errmsg, "interrupted: the client went away");
		return TM_CANCELED;
	}
	return 0;
}

int sql_pipe_put(void *arg, char *t, size_t len, char *errmsg)
{
	struct sql_pipe *p = arg;
	struct sql_chunk *c = tm_malloc(sizeof *c);
	c->p = t;
	c->n = len;
	c->next = NULL;
	pthread_mutex_lock(&p->mutex);
	if (p->aborted) {
		pthread_mutex_unlock(&p->mutex);
		tm_free(t);
		tm_free(c);
		tm_errmsg_printf(errmsg, "interrupted: the client went away");
		return TM_CANCELED;
	}
	if (p->tail == NULL) {
		p->head = c;
	} else {
		p->tail->next = c;
	}
	p->tail = c;
	p->unsent++;
	int rv = 0;
	uv_thread_t self = uv_thread_self();
	if (!uv_thread_equal(&self, &p->loop_thread)) {
		uv_async_send(&p->async);
		rv = wait_unsent(p, errmsg);
	} else {
		uv_async_send(&p->async);
	}
	pthread_mutex_unlock(&p->mutex);
	return rv;
}

/* A chunk is out of our hands (written, or dropped). */
static void chunk_gone(struct sql_pipe *p, bool failed)
{
	pthread_mutex_lock(&p->mutex);
	INVARIANT(p->unsent > 0);
	p->unsent--;
	if (failed) {
		p->aborted = true;
	}
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->mutex);
}

static void chunk_written_cb(struct rest_request *req, void *arg, int status)
{
	struct sql_pipe *p = arg;
	(void)req;
	p->writes--;
	chunk_gone(p, status != 0);
	sql_call_maybe_free(p->owner);
}

static bool begin(struct sql_pipe *p)
{
	if (!p->streaming) {
		p->streaming = true;
		if (rest_stream_begin(p->http, 200, "application/json", NULL) !=
			0 ||
		    rest_stream_write(p->http, ENVELOPE_HEAD,
				      strlen(ENVELOPE_HEAD), NULL, NULL) != 0) {
			p->broken = true;
		}
	}
	return !p->broken;
}

static void write_chunk(struct sql_pipe *p, struct sql_chunk *c)
{
	if (begin(p) &&
	    rest_stream_write(p->http, c->p, c->n, chunk_written_cb, p) == 0) {
		p->writes++;
	} else {
		p->broken = true;
		chunk_gone(p, true);
	}
	tm_free(c->p);
	tm_free(c);
}

void sql_pipe_drain(struct sql_pipe *p)
{
	pthread_mutex_lock(&p->mutex);
	struct sql_chunk *c = p->head;
	p->head = p->tail = NULL;
	pthread_mutex_unlock(&p->mutex);
	while (c != NULL) {
		struct sql_chunk *next = c->next;
		write_chunk(p, c);
		c = next;
	}
}

void sql_pipe_abort(struct sql_pipe *p)
{
	pthread_mutex_lock(&p->mutex);
	p->aborted = true;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->mutex);
}

void sql_pipe_end(struct sql_pipe *p, const char *t, size_t len)
{
	PRE(p->streaming);
	if (!p->broken) {
		char *last = tm_asprintf("%.*s" ENVELOPE_TAIL, (int)len, t);
		if (rest_stream_write(p->http, last, strlen(last), NULL,
				      NULL) != 0) {
			p->broken = true;
		}
		tm_free(last);
	}
	rest_stream_end(p->http);
}

static void async_close_cb(uv_handle_t *h)
{
	struct sql_pipe *p = h->data;
	p->async_alive = false;
	sql_call_maybe_free(p->owner);
}

void sql_pipe_close(struct sql_pipe *p)
{
	if (p->async_alive && !uv_is_closing((uv_handle_t *)&p->async)) {
		uv_close((uv_handle_t *)&p->async, async_close_cb);
	}
}

bool sql_pipe_closed(const struct sql_pipe *p)
{
	return !p->async_alive && p->writes == 0;
}

void sql_pipe_release(struct sql_pipe *p)
{
	PRE(sql_pipe_closed(p));
	struct sql_chunk *c = p->head;
	while (c != NULL) {
		struct sql_chunk *next = c->next;
		tm_free(c->p);
		tm_free(c);
		c = next;
	}
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->mutex);
}

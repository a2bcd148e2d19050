/* Waiting for a raft index on the loop (index_wait.h). */
#include "internal/api/index_wait.h"

#include <errno.h>
#include <stdlib.h>

#include "internal/lib/mem.h"

struct wait {
	struct rest_request *req;
	struct daemon *d;
	index_wait_fn fn;
	uint64_t index;
	uint64_t deadline; /* uv_now, ms */
	uv_timer_t timer;
};

static void closed_cb(uv_handle_t *h) { tm_free(h->data); }

static void poll_cb(uv_timer_t *t)
{
	struct wait *w = t->data;
	bool late = uv_now(t->loop) >= w->deadline;
	if (w->fn(w->req, w->d, w->index, late)) {
		uv_timer_stop(t);
		uv_close((uv_handle_t *)t, closed_cb);
	}
}

/* QUERY (may be NULL: DFLT) as a non-negative decimal no larger than
 * MAX; false if malformed. */
static bool parse_u64(const char *query, uint64_t dflt, uint64_t max,
		      uint64_t *out)
{
	if (query == NULL) {
		*out = dflt;
		return true;
	}
	if (query[0] < '0' || query[0] > '9') {
		return false;
	}
	char *end;
	errno = 0;
	unsigned long long v = strtoull(query, &end, 10);
	if (errno != 0 || *end != '\0' || v > max) {
		return false;
	}
	*out = v;
	return true;
}

void index_wait(struct rest_request *req, index_wait_fn fn, unsigned poll_ms,
		unsigned max_wait_ms)
{
	struct daemon *d = rest_server_data(req);
	uint64_t index;
	uint64_t wait_ms;
	if (rest_query(req, "index") == NULL ||
	    !parse_u64(rest_query(req, "index"), 0, INT64_MAX, &index) ||
	    index == 0) {
		rest_respond_error(req, 400,
				   "index must be a raft index (1 or more)");
		return;
	}
	if (!parse_u64(rest_query(req, "wait_ms"), 0, max_wait_ms, &wait_ms)) {
		rest_respond_error(req, 400,
				   "wait_ms must be a number of milliseconds "
				   "from 0 to %u",
				   max_wait_ms);
		return;
	}
	if (fn(req, d, index, wait_ms == 0)) {
		return;
	}
	struct wait *w = tm_calloc(1, sizeof *w);
	w->req = req;
	w->d = d;
	w->fn = fn;
	w->index = index;
	uv_loop_t *loop = daemon_loop(d);
	w->deadline = uv_now(loop) + wait_ms;
	uv_timer_init(loop, &w->timer);
	w->timer.data = w;
	uv_timer_start(&w->timer, poll_cb, poll_ms, poll_ms);
}

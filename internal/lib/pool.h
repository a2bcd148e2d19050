/* A small pool of worker threads whose results come back on a libuv loop.
 *
 * Work that can take long (SQL reads, the leader's write batches, checks of
 * restore images) runs here instead of on the loop, which must stay free for
 * raft's heartbeats and the API. The pool is separate from libuv's own
 * threadpool on purpose: raft_uv queues its disk work there, and a few
 * slow queries must never delay a segment write.
 *
 * Threading: pool_submit() and pool_close() are called on the loop thread;
 * work() runs on a worker thread; done() runs on the loop thread. */
#ifndef TM_LIB_POOL_H
#define TM_LIB_POOL_H

#include <stdbool.h>

#include <uv.h>

struct pool;
struct pool_work;

typedef void (*pool_work_fn)(struct pool_work *w);
typedef void (*pool_done_fn)(struct pool_work *w);

/* Owned by the caller, untouched and alive from pool_submit() until done()
 * has returned. */
struct pool_work {
	void *data; /* for the caller */
	/* Private. */
	pool_work_fn work;
	pool_done_fn done;
	struct pool_work *next;
};

/* Start N_THREADS (at least 1) workers. LOOP is borrowed and must outlive
 * the pool. Returns 0 or TM_IO. */
int pool_init(struct pool **out, uv_loop_t *loop, unsigned n_threads);

/* Number of worker threads. */
unsigned pool_threads(const struct pool *p);

/* Queue W: WORK(w) runs on a worker thread, then DONE(w) on the loop, in a
 * later loop turn. Work items start in submission order. */
void pool_submit(struct pool *p, struct pool_work *w, pool_work_fn work,
		 pool_done_fn done);

/* Stop the workers once the queue is drained and every done() has run,
 * then free P and call CB(ARG) from a later loop turn. Submitting after
 * this is a bug. Work already queued still runs: callers that need a prompt
 * stop must make their work return early first (e.g. sqlite3_interrupt). */
void pool_close(struct pool *p, void (*cb)(void *arg), void *arg);

#endif /* TM_LIB_POOL_H */

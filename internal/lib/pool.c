/* Worker threads with completion on the loop (see pool.h).
 *
 * One mutex guards two FIFOs: "queued" (submitted, not started) and "finished"
 * (work returned, done() not yet called). Workers sleep on a condition
 * variable while queued is empty; a worker that finishes an item moves it to
 * finished and wakes the loop with a uv_async_t, whose callback calls done()
 * for everything finished. Close waits, on the loop, until nothing is queued,
 * running or finished, then tells the workers to exit, joins them (they are
 * idle, so the join is immediate) and closes the async handle. */
#include "internal/lib/pool.h"

#include <pthread.h>

#include "internal/lib/assert.h"
#include "internal/lib/err.h"
#include "internal/lib/mem.h"
#include "internal/lib/prio.h"

struct fifo {
	struct pool_work *head;
	struct pool_work *tail;
};

struct pool {
	uv_loop_t *loop;
	uv_async_t async;
	unsigned n_threads;
	pthread_t *threads;

	pthread_mutex_t mutex;
	pthread_cond_t cond;
	struct fifo queued;   /* guarded by mutex */
	struct fifo finished; /* guarded by mutex */
	unsigned running;     /* guarded by mutex */
	bool exit;	      /* guarded by mutex: workers return */

	bool closing; /* loop thread only */
	void (*close_cb)(void *arg);
	void *close_arg;
};

static void fifo_push(struct fifo *f, struct pool_work *w)
{
	w->next = NULL;
	if (f->tail == NULL) {
		f->head = w;
	} else {
		f->tail->next = w;
	}
	f->tail = w;
}

static struct pool_work *fifo_pop(struct fifo *f)
{
	struct pool_work *w = f->head;
	if (w != NULL) {
		f->head = w->next;
		if (f->head == NULL) {
			f->tail = NULL;
		}
	}
	return w;
}

static void *worker_main(void *arg)
{
	struct pool *p = arg;
	prio_lower_worker(); /* the loop first (prio.h) */
	pthread_mutex_lock(&p->mutex);
	for (;;) {
		struct pool_work *w = fifo_pop(&p->queued);
		if (w == NULL) {
			if (p->exit) {
				break;
			}
			pthread_cond_wait(&p->cond, &p->mutex);
			continue;
		}
		p->running++;
		pthread_mutex_unlock(&p->mutex);
		w->work(w);
		pthread_mutex_lock(&p->mutex);
		p->running--;
		fifo_push(&p->finished, w);
		uv_async_send(&p->async);
	}
	pthread_mutex_unlock(&p->mutex);
	return NULL;
}

static void free_pool(struct pool *p)
{
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->mutex);
	tm_free(p->threads);
	tm_free(p);
}

static void async_close_cb(uv_handle_t *handle)
{
	struct pool *p = handle->data;
	void (*cb)(void *arg) = p->close_cb;
	void *arg = p->close_arg;
	free_pool(p);
	if (cb != NULL) {
		cb(arg);
	}
}

/* On the loop: stop the workers once nothing is left to do. */
static void maybe_close(struct pool *p)
{
	if (!p->closing || uv_is_closing((uv_handle_t *)&p->async)) {
		return;
	}
	pthread_mutex_lock(&p->mutex);
	bool idle = p->queued.head == NULL && p->finished.head == NULL &&
		    p->running == 0;
	if (idle) {
		p->exit = true;
		pthread_cond_broadcast(&p->cond);
	}
	pthread_mutex_unlock(&p->mutex);
	if (!idle) {
		return;
	}
	for (unsigned i = 0; i < p->n_threads; i++) {
		pthread_join(p->threads[i], NULL);
	}
	uv_close((uv_handle_t *)&p->async, async_close_cb);
}

static void async_cb(uv_async_t *async)
{
	struct pool *p = async->data;
	struct fifo finished;
	pthread_mutex_lock(&p->mutex);
	finished = p->finished;
	p->finished = (struct fifo){NULL, NULL};
	pthread_mutex_unlock(&p->mutex);
	struct pool_work *w;
	while ((w = fifo_pop(&finished)) != NULL) {
		w->done(w);
	}
	maybe_close(p);
}

static int start_threads(struct pool *p)
{
	p->threads = tm_calloc(p->n_threads, sizeof *p->threads);
	for (unsigned i = 0; i < p->n_threads; i++) {
		if (pthread_create(&p->threads[i], NULL, worker_main, p) != 0) {
			pthread_mutex_lock(&p->mutex);
			p->exit = true;
			pthread_cond_broadcast(&p->cond);
			pthread_mutex_unlock(&p->mutex);
			for (unsigned j = 0; j < i; j++) {
				pthread_join(p->threads[j], NULL);
			}
			return TM_IO;
		}
	}
	return 0;
}

int pool_init(struct pool **out, uv_loop_t *loop, unsigned n_threads)
{
	PRE(n_threads > 0);
	struct pool *p = tm_calloc(1, sizeof *p);
	p->loop = loop;
	p->n_threads = n_threads;
	pthread_mutex_init(&p->mutex, NULL);
	pthread_cond_init(&p->cond, NULL);
	if (uv_async_init(loop, &p->async, async_cb) != 0) {
		free_pool(p);
		return TM_IO;
	}
	p->async.data = p;
	if (start_threads(p) != 0) {
		/* The handle is initialised: close it before freeing. */
		p->closing = true;
		p->exit = true;
		uv_close((uv_handle_t *)&p->async, async_close_cb);
		return TM_IO;
	}
	*out = p;
	return 0;
}

unsigned pool_threads(const struct pool *p) { return p->n_threads; }

void pool_submit(struct pool *p, struct pool_work *w, pool_work_fn work,
		 pool_done_fn done)
{
	PRE(!p->closing);
	w->work = work;
	w->done = done;
	pthread_mutex_lock(&p->mutex);
	fifo_push(&p->queued, w);
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->mutex);
}

void pool_close(struct pool *p, void (*cb)(void *arg), void *arg)
{
	PRE(!p->closing);
	p->closing = true;
	p->close_cb = cb;
	p->close_arg = arg;
	/* Let the async callback decide, from a later loop turn, so that cb
	 * never fires inside this call. */
	uv_async_send(&p->async);
}

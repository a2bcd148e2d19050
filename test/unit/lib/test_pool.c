/* The worker pool: work runs off the loop thread, done on it, every item
 * exactly once, and close waits for what was queued. */
#include <pthread.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "internal/lib/pool.h"
#include "internal/lib/prio.h"

#define N_ITEMS 200

struct item {
	struct pool_work work;
	pthread_t loop_thread;
	pthread_t ran_on;
	int worked;
	int done;
};

static int closed;

static void work_cb(struct pool_work *w)
{
	struct item *it = w->data;
	it->ran_on = pthread_self();
	it->worked++;
}

static void done_cb(struct pool_work *w)
{
	struct item *it = w->data;
	assert_true(pthread_equal(pthread_self(), it->loop_thread));
	assert_int_equal(it->worked, 1);
	it->done++;
}

static void close_cb(void *arg)
{
	(void)arg;
	closed++;
}

static int thread_nice(void)
{
	return getpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid));
}

static void nice_work_cb(struct pool_work *w)
{
	*(int *)w->data = thread_nice();
}

static void nice_done_cb(struct pool_work *w) { (void)w; }

/* Workers run below the loop (prio.h): lower than the thread that made
 * them, whatever the loop could get; TM_PRIORITIES=off leaves them be. */
static void test_workers_run_below_the_loop(void **state)
{
	(void)state;
	for (int off = 0; off <= 1; off++) {
		if (off) {
			setenv("TM_PRIORITIES", "off", 1);
		}
		int before = thread_nice();
		bool raised = prio_raise_loop();
		assert_int_equal(thread_nice(),
				 raised ? PRIO_LOOP_NICE : before);
		if (off) {
			assert_false(raised);
		}
		uv_loop_t loop;
		struct pool *p;
		int worker_nice = 100;
		struct pool_work w = {.data = &worker_nice};
		closed = 0;
		assert_int_equal(uv_loop_init(&loop), 0);
		assert_int_equal(pool_init(&p, &loop, 1), 0);
		pool_submit(p, &w, nice_work_cb, nice_done_cb);
		pool_close(p, close_cb, NULL);
		uv_run(&loop, UV_RUN_DEFAULT);
		assert_int_equal(closed, 1);
		assert_int_equal(worker_nice, off ? thread_nice() : PRIO_WORKER_NICE);
		assert_int_equal(uv_loop_close(&loop), 0);
	}
	unsetenv("TM_PRIORITIES");
}

static void test_work_and_done(void **state)
{
	static struct item items[N_ITEMS];
	uv_loop_t loop;
	struct pool *p;
	(void)state;
	closed = 0;
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(pool_init(&p, &loop, 3), 0);
	assert_int_equal(pool_threads(p), 3);
	for (int i = 0; i < N_ITEMS; i++) {
		items[i] = (struct item){.loop_thread = pthread_self()};
		items[i].work.data = &items[i];
		pool_submit(p, &items[i].work, work_cb, done_cb);
	}
	/* Close right away: queued work still runs, then the pool goes. */
	pool_close(p, close_cb, NULL);
	assert_int_equal(closed, 0); /* never inside the call */
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(closed, 1);
	for (int i = 0; i < N_ITEMS; i++) {
		assert_int_equal(items[i].done, 1);
		assert_false(pthread_equal(items[i].ran_on, pthread_self()));
	}
	assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_work_and_done),
	    cmocka_unit_test(test_workers_run_below_the_loop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

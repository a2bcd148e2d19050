/* The worker pool: work runs off the loop thread, done on it, every item
 * exactly once, and close waits for what was queued. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "internal/lib/pool.h"

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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

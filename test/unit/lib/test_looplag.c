/* looplag on a real loop: a callback that holds the loop for 40 ms shows
 * as a lag of at least that, is logged as a stall, and leaves the other
 * ticks' percentiles small; it is held by the daemon, not a wait for a
 * CPU. A loop thread that holds nothing but waits for a CPU (pinned to one
 * CPU with four busy threads of a higher priority) lags as much, and that lag
 * is told apart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include <cmocka.h>
#include <uv.h>

#include "internal/lib/log.h"
#include "internal/lib/looplag.h"
#include "test/unit/capture.h"

/* Hold the loop for MS milliseconds of this thread's CPU time (longer on a
 * busy machine, which preempts it). */
static void busy_ms(unsigned ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	uint64_t end = (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec +
		       (uint64_t)ms * 1000000;
	uint64_t now;
	do {
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
		now = (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
	} while (now < end);
}

struct run {
	uv_timer_t stall;
	uv_timer_t stop;
	struct looplag lag;
	bool closed;
};

static void stall_cb(uv_timer_t *t)
{
	(void)t;
	busy_ms(40);
}

static void lag_closed(struct looplag *l)
{
	struct run *r = l->data;
	r->closed = true;
}

static void stop_cb(uv_timer_t *t)
{
	struct run *r = t->data;
	uv_close((uv_handle_t *)&r->stall, NULL);
	uv_close((uv_handle_t *)&r->stop, NULL);
	looplag_close(&r->lag, lag_closed);
}

static void run_loop(void *arg)
{
	struct run *r = arg;
	uv_loop_t loop;
	assert_int_equal(uv_loop_init(&loop), 0);
	r->lag.data = r;
	assert_int_equal(looplag_start(&r->lag, &loop, 2, 20), 0);
	uv_timer_init(&loop, &r->stall);
	uv_timer_init(&loop, &r->stop);
	r->stop.data = r;
	uv_timer_start(&r->stall, stall_cb, 100, 0);
	uv_timer_start(&r->stop, stop_cb, 300, 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_true(r->closed);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_stall_is_measured_and_logged(void **state)
{
	struct run r = {0};
	struct looplag_stats st;
	(void)state;
	char *out = capture_stderr(run_loop, &r);
	looplag_get(&r.lag, &st);
	assert_true(st.samples >= 20); /* 300 ms at 2 ms, minus the stall */
	assert_true(st.max_ms >= 38.0);
	assert_true(st.p50_ms < 10.0);
	assert_true(st.held_max_ms <= st.max_ms);
	if (access("/proc/thread-self/schedstat", R_OK) == 0) {
		/* 40 ms of CPU on the loop: held, whatever waits for a CPU
		 * came on top. */
		assert_true(st.held_max_ms >= 38.0);
	}
	if (strstr(out, "loop: stalled for") == NULL) {
		fail_msg("no stall logged: %s", out);
	}
	free(out);
}

/* Contention: the loop's thread at the lowest priority shares one CPU with
 * two busy threads for 300 ms; no callback of its own holds it. */
struct crowd {
	volatile bool stop;
	cpu_set_t cpu;
};

static void *busy_thread(void *arg)
{
	struct crowd *c = arg;
	pthread_setaffinity_np(pthread_self(), sizeof c->cpu, &c->cpu);
	while (!c->stop) {
	}
	return NULL;
}

static void crowd_stop_cb(uv_timer_t *t)
{
	struct run *r = t->data;
	uv_close((uv_handle_t *)&r->stop, NULL);
	looplag_close(&r->lag, lag_closed);
}

static void test_wait_for_a_cpu_is_told_apart(void **state)
{
	struct crowd c = {.stop = false};
	struct run r = {0};
	struct looplag_stats st;
	pthread_t busy[4];
	uv_loop_t loop;
	(void)state;
	if (access("/proc/thread-self/schedstat", R_OK) != 0) {
		skip();
	}
	CPU_ZERO(&c.cpu);
	CPU_SET(sched_getcpu(), &c.cpu);
	cpu_set_t before;
	assert_int_equal(
	    pthread_getaffinity_np(pthread_self(), sizeof before, &before), 0);
	assert_int_equal(
	    pthread_setaffinity_np(pthread_self(), sizeof c.cpu, &c.cpu), 0);
	int nice_before = getpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid));
	setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_create(&busy[i], NULL, busy_thread, &c),
				 0);
	}
	assert_int_equal(uv_loop_init(&loop), 0);
	r.lag.data = &r;
	assert_int_equal(looplag_start(&r.lag, &loop, 2, 0), 0);
	uv_timer_init(&loop, &r.stop);
	r.stop.data = &r;
	uv_timer_start(&r.stop, crowd_stop_cb, 300, 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	c.stop = true;
	for (int i = 0; i < 4; i++) {
		pthread_join(busy[i], NULL);
	}
	setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), nice_before);
	pthread_setaffinity_np(pthread_self(), sizeof before, &before);
	looplag_get(&r.lag, &st);
	print_message("crowded loop: max %.1f ms, held max %.1f ms, p99.9 "
		      "%.1f ms, held p99.9 %.1f ms, %llu ticks\n",
		      st.max_ms, st.held_max_ms, st.p999_ms, st.held_p999_ms,
		      (unsigned long long)st.samples);
	assert_true(st.max_ms >= 1.0); /* it did wait */
	/* Most of each lag was the wait, not the loop. */
	assert_true(st.held_max_ms < st.max_ms / 2);
}

static void test_empty_stats(void **state)
{
	struct looplag l;
	struct looplag_stats st;
	(void)state;
	memset(&l, 0, sizeof l);
	looplag_get(&l, &st);
	assert_int_equal(st.samples, 0);
	assert_true(st.max_ms <= 0.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stall_is_measured_and_logged),
	    cmocka_unit_test(test_wait_for_a_cpu_is_told_apart),
	    cmocka_unit_test(test_empty_stats),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

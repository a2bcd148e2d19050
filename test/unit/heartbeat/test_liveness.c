/* Liveness on a fake clock (internal/heartbeat/liveness.h): thresholds, a
 * paused observer, flapping, the stability window. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "internal/heartbeat/liveness.h"
#include "mocks/clock_fake.h"

#define THRESHOLD 2000
#define STABILITY 10000
#define TICK 100
/* 2026-12-01T22:10:00Z */
#define WALL0 ((int64_t)1796163000 * 1000)

struct fixture {
	struct clock_fake clock;
	struct liveness *l;
	unsigned changes;
	uint64_t last_id;
	enum liveness_state last_old, last_now;
};

static void changed(void *data, uint64_t id, enum liveness_state old,
		    enum liveness_state now)
{
	struct fixture *f = data;
	f->changes++;
	f->last_id = id;
	f->last_old = old;
	f->last_now = now;
}

static int setup(void **state)
{
	struct fixture *f = test_calloc(1, sizeof *f);
	clock_fake_init(&f->clock, 1000000, WALL0);
	struct liveness_config cfg = {.threshold_ms = THRESHOLD,
				      .stability_ms = STABILITY};
	f->l = liveness_new(&f->clock.clock, &cfg, changed, f);
	uint64_t ids[] = {2, 3};
	liveness_track(f->l, ids, 2);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	liveness_free(f->l);
	test_free(f);
	return 0;
}

/* Let MS pass, ticking every TICK; peer 2 answers every EVERY ms (0:
 * never), peer 3 always. */
static void run(struct fixture *f, uint64_t ms, uint64_t every)
{
	for (uint64_t t = 0; t < ms; t += TICK) {
		clock_fake_advance(&f->clock, TICK);
		if (every != 0 && (t + TICK) % every == 0) {
			liveness_seen(f->l, 2);
		}
		liveness_seen(f->l, 3);
		liveness_tick(f->l);
	}
}

static enum liveness_state state_of(struct fixture *f, uint64_t id)
{
	enum liveness_state s;
	assert_true(liveness_get(f->l, id, &s));
	return s;
}

/* Silent exactly the threshold: still ONLINE; one tick more: OFFLINE,
 * reported once, with a message giving the silence and since when. */
static void offline_after_threshold(void **state)
{
	struct fixture *f = *state;
	run(f, 1000, 100);
	run(f, THRESHOLD, 0);
	assert_int_equal(state_of(f, 2), LIVENESS_ONLINE);
	assert_int_equal(f->changes, 0);
	run(f, TICK, 0);
	assert_int_equal(state_of(f, 2), LIVENESS_OFFLINE);
	assert_int_equal(state_of(f, 3), LIVENESS_ONLINE);
	assert_int_equal(f->changes, 1);
	assert_int_equal(f->last_id, 2);
	assert_int_equal(f->last_old, LIVENESS_ONLINE);
	assert_int_equal(f->last_now, LIVENESS_OFFLINE);
	run(f, 1100, 0);
	assert_int_equal(f->changes, 1);
	char msg[128];
	liveness_message(f->l, 2, msg, sizeof msg);
	/* Last heard at +1.0 s; now +4.2 s. */
	assert_string_equal(msg, "no heartbeat for 3.2 s, since "
				 "2026-12-01T22:10:01Z");
	liveness_message(f->l, 3, msg, sizeof msg);
	assert_string_equal(msg, "");
}

/* Answers slower than every heartbeat but within the threshold never
 * turn a peer OFFLINE. */
static void slow_answers_stay_online(void **state)
{
	struct fixture *f = *state;
	run(f, 60000, 1900);
	assert_int_equal(state_of(f, 2), LIVENESS_ONLINE);
	assert_int_equal(f->changes, 0);
}

/* The first answer after OFFLINE makes it ONLINE at once. */
static void back_online_at_once(void **state)
{
	struct fixture *f = *state;
	run(f, 3000, 0);
	assert_int_equal(state_of(f, 2), LIVENESS_OFFLINE);
	clock_fake_advance(&f->clock, 7);
	liveness_seen(f->l, 2);
	assert_int_equal(state_of(f, 2), LIVENESS_ONLINE);
	assert_int_equal(f->changes, 2);
	assert_int_equal(f->last_now, LIVENESS_ONLINE);
}

/* The observer itself stopped for 5 s (no ticks, no answers): nobody is
 * convicted when it resumes; a peer that stays silent afterwards is, a
 * threshold later. */
static void paused_observer_convicts_nobody(void **state)
{
	struct fixture *f = *state;
	run(f, 1000, 100);
	clock_fake_advance(&f->clock, 5000);
	assert_true(liveness_tick(f->l));
	assert_int_equal(liveness_pauses(f->l), 1);
	assert_int_equal(state_of(f, 2), LIVENESS_ONLINE);
	assert_int_equal(state_of(f, 3), LIVENESS_ONLINE);
	assert_int_equal(f->changes, 0);
	run(f, THRESHOLD, 0);
	assert_int_equal(state_of(f, 2), LIVENESS_ONLINE);
	run(f, TICK, 0);
	assert_int_equal(state_of(f, 2), LIVENESS_OFFLINE);
	assert_int_equal(state_of(f, 3), LIVENESS_ONLINE);
}

/* A stall shorter than half the threshold is no pause: a peer silent
 * through it is still judged on its silence. */
static void short_stall_is_no_pause(void **state)
{
	struct fixture *f = *state;
	run(f, 1000, 100);
	run(f, 1500, 0);
	clock_fake_advance(&f->clock, 900);
	assert_false(liveness_tick(f->l));
	assert_int_equal(state_of(f, 2), LIVENESS_OFFLINE);
}

/* Replaceable only after the stability window OFFLINE. */
static void stability_window(void **state)
{
	struct fixture *f = *state;
	run(f, 1000, 100);
	run(f, THRESHOLD + TICK, 0);
	assert_int_equal(state_of(f, 2), LIVENESS_OFFLINE);
	assert_false(liveness_replaceable(f->l, 2));
	run(f, STABILITY - TICK, 0);
	assert_false(liveness_replaceable(f->l, 2));
	run(f, TICK, 0);
	assert_true(liveness_replaceable(f->l, 2));
	assert_false(liveness_replaceable(f->l, 3));
	liveness_seen(f->l, 2);
	assert_false(liveness_replaceable(f->l, 2));
}

/* Steady: heard from once, never gone; after a return, online for the
 * window. A peer never heard from is not steady. */
static void steady_after_return(void **state)
{
	struct fixture *f = *state;
	assert_false(liveness_steady(f->l, 2));
	run(f, 500, 100);
	assert_true(liveness_steady(f->l, 2));
	run(f, 3000, 0);
	assert_false(liveness_steady(f->l, 2));
	run(f, STABILITY - TICK, 100);
	assert_false(liveness_steady(f->l, 2));
	run(f, 2 * TICK, 100);
	assert_true(liveness_steady(f->l, 2));
}

/* A peer that keeps coming and going waits longer each time before it is
 * steady again. */
static void flapping_holds_longer(void **state)
{
	struct fixture *f = *state;
	run(f, 500, 100);
	for (int i = 0; i < 3; i++) {
		run(f, 3000, 0);
		run(f, 4000, 100);
		assert_false(liveness_steady(f->l, 2));
	}
	/* Three returns within the memory: three windows online. */
	run(f, STABILITY, 100);
	assert_false(liveness_steady(f->l, 2));
	run(f, 2 * STABILITY, 100);
	assert_true(liveness_steady(f->l, 2));
}

/* BLOCKED overrides and is reported; unblocking shows the real state. */
static void blocked(void **state)
{
	struct fixture *f = *state;
	run(f, 500, 100);
	liveness_set_blocked(f->l, 2, true);
	assert_int_equal(state_of(f, 2), LIVENESS_BLOCKED);
	assert_int_equal(f->changes, 1);
	char msg[64];
	liveness_message(f->l, 2, msg, sizeof msg);
	assert_string_equal(msg, "blocked");
	assert_false(liveness_steady(f->l, 2));
	run(f, 3000, 0);
	assert_int_equal(state_of(f, 2), LIVENESS_BLOCKED);
	assert_int_equal(f->changes, 1);
	liveness_set_blocked(f->l, 2, false);
	assert_int_equal(state_of(f, 2), LIVENESS_OFFLINE);
	assert_int_equal(f->changes, 2);
}

/* Tracking keeps known peers as they are, adds new ones ONLINE, forgets
 * the others; unknown ids are ignored. */
static void tracking(void **state)
{
	struct fixture *f = *state;
	run(f, 3000, 0);
	uint64_t ids[] = {2, 4};
	liveness_track(f->l, ids, 2);
	enum liveness_state s;
	assert_false(liveness_get(f->l, 3, &s));
	assert_int_equal(state_of(f, 2), LIVENESS_OFFLINE);
	assert_int_equal(state_of(f, 4), LIVENESS_ONLINE);
	liveness_seen(f->l, 99);
	assert_false(liveness_get(f->l, 99, &s));
	assert_int_equal(liveness_silence_ms(f->l, 4), 0);
}

/* Reset: no peers, and the next tick is no pause whatever the gap. */
static void reset(void **state)
{
	struct fixture *f = *state;
	run(f, 500, 100);
	liveness_reset(f->l);
	enum liveness_state s;
	assert_false(liveness_get(f->l, 2, &s));
	clock_fake_advance(&f->clock, 60000);
	assert_false(liveness_tick(f->l));
	assert_int_equal(liveness_pauses(f->l), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(offline_after_threshold, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(slow_answers_stay_online, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(back_online_at_once, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(paused_observer_convicts_nobody,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(short_stall_is_no_pause, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(stability_window, setup, teardown),
	    cmocka_unit_test_setup_teardown(steady_after_return, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(flapping_holds_longer, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(blocked, setup, teardown),
	    cmocka_unit_test_setup_teardown(tracking, setup, teardown),
	    cmocka_unit_test_setup_teardown(reset, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Leader leases: the bound a voter's answer gives, the end of a lease
 * from a majority of them, and when a lease holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "internal/raft/lease.h"

#define MS 1000000ull

static void test_bound_is_timeout_less_quiet_less_margin(void **state)
{
	(void)state;
	/* 500 ms timeout: a margin of 100 ms. */
	assert_true(lease_bound(1000 * MS, 500, 0) == 1400 * MS);
	assert_true(lease_bound(1000 * MS, 500, 50) == 1350 * MS);
	assert_true(lease_bound(1000 * MS, 500, 399) == 1001 * MS);
}

static void test_a_quiet_voter_gives_no_bound(void **state)
{
	(void)state;
	/* It last heard from the leader too long ago: its timer may fire
	 * any moment. */
	assert_true(lease_bound(1000 * MS, 500, 400) == 0);
	assert_true(lease_bound(1000 * MS, 500, 5000) == 0);
}

static void test_end_is_the_need_th_latest_bound(void **state)
{
	(void)state;
	uint64_t b3[] = {10, 30, 20};
	/* Three voters: one answer besides the leader's own is a
	 * majority, so the latest bound counts. */
	assert_true(lease_end(b3, 3, 1) == 30);
	uint64_t b4[] = {10, 40, 30, 20};
	/* Five voters: two answers; the lease lasts while both hold. */
	assert_true(lease_end(b4, 4, 2) == 30);
	uint64_t b1[] = {10};
	assert_true(lease_end(b1, 1, 2) == 0);
	assert_true(lease_end(b1, 0, 1) == 0);
	assert_true(lease_end(b1, 1, 0) == 0);
}

static void test_holds_only_unchanged_and_in_time(void **state)
{
	(void)state;
	struct lease l = {.term = 3, .conf_index = 7, .end_ns = 100};
	assert_true(lease_holds(&l, 99, 3, 7, true));
	assert_false(lease_holds(&l, 100, 3, 7, true)); /* over */
	assert_false(lease_holds(&l, 99, 4, 7, true));	/* another term */
	assert_false(lease_holds(&l, 99, 3, 8, true));	/* members changed */
	assert_false(lease_holds(&l, 99, 3, 7, false)); /* change, transfer */
	struct lease none = {.term = 3, .conf_index = 7, .end_ns = 0};
	assert_false(lease_holds(&none, 0, 3, 7, true));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bound_is_timeout_less_quiet_less_margin),
	    cmocka_unit_test(test_a_quiet_voter_gives_no_bound),
	    cmocka_unit_test(test_end_is_the_need_th_latest_bound),
	    cmocka_unit_test(test_holds_only_unchanged_and_in_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

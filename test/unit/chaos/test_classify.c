/* Which failed requests count as "did nothing" (fail) and which as "may
 * have happened" (info): the answers of doc/sql-api.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pkg/thermionic.h"
#include "test/chaos/classify.h"

#define H THERMIONIC_ERR_HTTP

static void test_writes(void **state)
{
	(void)state;
	assert_int_equal(chaos_classify(H, 409,
					"statement 1: CHECK "
					"constraint failed (transaction rolled "
					"back, nothing applied)",
					true),
			 CHAOS_FAIL);
	assert_int_equal(
	    chaos_classify(H, 400, "statement 1: no such table", true),
	    CHAOS_FAIL);
	assert_int_equal(chaos_classify(H, 503, "no leader reachable: x", true),
			 CHAOS_FAIL);
	assert_int_equal(chaos_classify(H, 503,
					"not the leader; writes are "
					"served by the leader",
					true),
			 CHAOS_FAIL);
	assert_int_equal(
	    chaos_classify(H, 503,
			   "lost contact with the leader 1.2.3.4:8443 "
			   "while the request was in flight: it may or may "
			   "not have been applied (timeout)",
			   true),
	    CHAOS_INFO);
	assert_int_equal(
	    chaos_classify(H, 503,
			   "leadership lost before the write was "
			   "committed; it may or may not have been applied",
			   true),
	    CHAOS_INFO);
	assert_int_equal(chaos_classify(H, 503, "the client went away", true),
			 CHAOS_INFO);
	assert_int_equal(chaos_classify(H, 500, "something", true), CHAOS_INFO);
	assert_int_equal(chaos_classify(H, 507,
					"disk full: the write could "
					"not be stored in the raft log (not "
					"applied on this member; in a cluster "
					"it may or may not have been)",
					true),
			 CHAOS_INFO);
	assert_int_equal(chaos_classify(THERMIONIC_ERR_TIMEOUT, 0,
					"request to x timed out", true),
			 CHAOS_INFO);
	assert_int_equal(chaos_classify(THERMIONIC_ERR_CONNECT, 0,
					"cannot connect to 127.0.0.1:1: "
					"Connection refused",
					true),
			 CHAOS_FAIL);
	assert_int_equal(chaos_classify(THERMIONIC_ERR_CONNECT, 0,
					"connection with x lost: reset", true),
			 CHAOS_INFO);
}

static void test_reads(void **state)
{
	(void)state;
	assert_int_equal(chaos_classify(THERMIONIC_ERR_TIMEOUT, 0, "t", false),
			 CHAOS_FAIL);
	assert_int_equal(chaos_classify(H, 503, "may or may not", false),
			 CHAOS_FAIL);
	assert_int_equal(chaos_classify(THERMIONIC_OK, 200, "", true),
			 CHAOS_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_writes),
	    cmocka_unit_test(test_reads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

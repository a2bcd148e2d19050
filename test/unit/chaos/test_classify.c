/* Which failed requests count as "did nothing" (fail) and which as "may
 * have happened" (info): the answers of doc/sql-api.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pkg/thermionic.h"
#include "test/chaos/classify.h"

/* A write's error envelope with STATUS and MSG. */
static enum chaos_outcome http(int status, const char *msg)
{
	return chaos_classify(THERMIONIC_ERR_HTTP, status, msg, true, true);
}

static void test_refused_writes_fail(void **state)
{
	(void)state;
	assert_int_equal(http(409, "statement 1: CHECK constraint failed: "
				   "bal >= 0 (transaction rolled back, "
				   "nothing applied)"),
			 CHAOS_FAIL);
	assert_int_equal(http(400, "statement 1: no such table: t"),
			 CHAOS_FAIL);
	assert_int_equal(http(503, "no leader reachable: connect refused"),
			 CHAOS_FAIL);
	assert_int_equal(http(503, "not the leader; writes are served by the "
				   "leader (leader is 10.0.0.1:8443)"),
			 CHAOS_FAIL);
	assert_int_equal(http(504, "statement 1: interrupted: ... "
				   "(transaction rolled back, nothing "
				   "applied)"),
			 CHAOS_FAIL);
	assert_int_equal(http(507, "disk full: 10 MiB free "
				   "(core.min_free_space)"),
			 CHAOS_FAIL);
}

static void test_unknown_writes_info(void **state)
{
	(void)state;
	assert_int_equal(http(503, "lost contact with the leader 10.0.0.1:8443 "
				   "while the request was in flight: it may "
				   "or may not have been applied (timeout)"),
			 CHAOS_INFO);
	assert_int_equal(http(503, "leadership lost before the write was "
				   "committed; it may or may not have been "
				   "applied"),
			 CHAOS_INFO);
	assert_int_equal(http(503, "the client went away"), CHAOS_INFO);
	assert_int_equal(http(500, "something else"), CHAOS_INFO);
	assert_int_equal(http(507, "disk full: the write could not be stored "
				   "in the raft log (not applied on this "
				   "member; in a cluster it may or may not "
				   "have been)"),
			 CHAOS_INFO);
	assert_int_equal(chaos_classify(THERMIONIC_ERR_TIMEOUT, 0,
					"request to x timed out", true, false),
			 CHAOS_INFO);
	assert_int_equal(chaos_classify(THERMIONIC_ERR_CONNECT, 0,
					"connection with x lost: reset", true,
					true),
			 CHAOS_INFO);
}

static void test_connection_refused(void **state)
{
	(void)state;
	const char *msg = "cannot connect to 127.0.0.1:1: Connection refused";
	/* On a first connection: nothing was sent. */
	assert_int_equal(
	    chaos_classify(THERMIONIC_ERR_CONNECT, 0, msg, true, false),
	    CHAOS_FAIL);
	/* After a kept-alive connection: libcurl may have sent the request
	 * on it before it died, then tried a new one and met the refusal. */
	assert_int_equal(
	    chaos_classify(THERMIONIC_ERR_CONNECT, 0, msg, true, true),
	    CHAOS_INFO);
}

static void test_reads(void **state)
{
	(void)state;
	assert_int_equal(
	    chaos_classify(THERMIONIC_ERR_TIMEOUT, 0, "timed out", false, true),
	    CHAOS_FAIL);
	assert_int_equal(chaos_classify(THERMIONIC_ERR_HTTP, 503,
					"may or may not", false, true),
			 CHAOS_FAIL);
	assert_int_equal(chaos_classify(THERMIONIC_OK, 200, "", true, true),
			 CHAOS_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_refused_writes_fail),
	    cmocka_unit_test(test_unknown_writes_info),
	    cmocka_unit_test(test_connection_refused),
	    cmocka_unit_test(test_reads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

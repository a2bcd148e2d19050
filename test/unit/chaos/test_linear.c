/* The register linearizability checker on hand-written histories:
 * linearizable ones must pass, non-linearizable ones must be caught with
 * the key named, and a search past its budget must say unknown. Times
 * are in arbitrary units; [a, b] below is an operation's invocation and
 * completion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test/chaos/check.h"
#include "test/unit/chaos/history_text.h"

static enum chk_verdict check_limited(const struct text *t,
				      struct chk_limits lim, char *detail,
				      size_t size)
{
	struct chk_history h;
	char err[256];
	int rc = chk_history_parse(t->buf, t->len, &h, err, sizeof err);
	if (rc != 0) {
		fail_msg("parse: %s", err);
	}
	struct chk_report r;
	chk_report_init(&r, &h, "register");
	chk_register(&h, &lim, &r);
	enum chk_verdict v = r.verdict;
	if (detail != NULL) {
		snprintf(detail, size, "%s",
			 r.n_anomalies	 ? r.anomalies[0].detail
			 : r.why_unknown ? r.why_unknown
					 : "");
	}
	chk_report_free(&r);
	chk_history_free(&h);
	return v;
}

static enum chk_verdict check(const struct text *t)
{
	struct chk_limits lim = CHK_LIMITS_DEFAULT;
	return check_limited(t, lim, NULL, 0);
}

static void test_sequential(void **state)
{
	(void)state;
	struct text t = {0};
	op(&t, 0, "read", 0, "null", 0, "ok", "null", 1);
	op(&t, 0, "write", 0, "1", 2, "ok", "1", 3);
	op(&t, 1, "read", 0, "null", 4, "ok", "1", 5);
	op(&t, 1, "cas", 0, "[1,2]", 6, "ok", "[1,2]", 7);
	op(&t, 0, "read", 0, "null", 8, "ok", "2", 9);
	op(&t, 1, "cas", 0, "[1,3]", 10, "fail", "[1,3]", 11);
	op(&t, 0, "read", 0, "null", 12, "ok", "2", 13);
	assert_int_equal(check(&t), CHK_VALID);
}

/* Overlapping writes may land in either order; a read overlapping a
 * write may see it or not. */
static void test_concurrent(void **state)
{
	(void)state;
	struct text t = {0};
	ev(&t, 0, "invoke", "write", 0, "1", 0, "");
	ev(&t, 1, "invoke", "write", 0, "2", 0, "");
	op(&t, 2, "read", 0, "null", 1, "ok", "null", 2);
	op(&t, 3, "read", 0, "null", 1, "ok", "2", 3);
	op(&t, 2, "read", 0, "null", 4, "ok", "1", 5);
	ev(&t, 0, "ok", "write", 0, "1", 10, "");
	ev(&t, 1, "ok", "write", 0, "2", 10, "");
	op(&t, 2, "read", 0, "null", 11, "ok", "1", 12);
	op(&t, 3, "read", 0, "null", 11, "ok", "1", 12);
	op(&t, 3, "cas", 0, "[1,7]", 13, "ok", "[1,7]", 14);
	op(&t, 2, "read", 0, "null", 15, "ok", "7", 16);
	assert_int_equal(check(&t), CHK_VALID);
}

/* An info write may take effect (at any time after its invocation, even
 * after everything else) or never. */
static void test_info_took_effect(void **state)
{
	(void)state;
	struct text t = {0};
	op(&t, 0, "write", 0, "1", 0, "ok", "1", 1);
	op(&t, 1, "write", 0, "5", 2, "info", "5", 3);
	op(&t, 0, "read", 0, "null", 4, "ok", "1", 5);
	op(&t, 0, "read", 0, "null", 6, "ok", "5", 7);
	op(&t, 0, "read", 0, "null", 8, "ok", "5", 9);
	assert_int_equal(check(&t), CHK_VALID);
}

static void test_info_did_not(void **state)
{
	(void)state;
	struct text t = {0};
	op(&t, 0, "write", 0, "1", 0, "ok", "1", 1);
	op(&t, 1, "cas", 0, "[1,5]", 2, "info", "[1,5]", 3);
	op(&t, 0, "read", 0, "null", 4, "ok", "1", 5);
	/* Process 2 was stopped mid-write: no completion at all. */
	ev(&t, 2, "invoke", "write", 0, "6", 6, "");
	op(&t, 0, "read", 0, "null", 8, "ok", "1", 9);
	assert_int_equal(check(&t), CHK_VALID);
}

static void test_stale_read(void **state)
{
	(void)state;
	struct text t = {0};
	op(&t, 0, "write", 0, "1", 0, "ok", "1", 1);
	op(&t, 0, "write", 0, "2", 2, "ok", "2", 3);
	op(&t, 1, "read", 0, "null", 4, "ok", "1", 5);
	char detail[2048];
	struct chk_limits lim = CHK_LIMITS_DEFAULT;
	assert_int_equal(check_limited(&t, lim, detail, sizeof detail),
			 CHK_INVALID);
	assert_non_null(strstr(detail, "key 0"));
	assert_non_null(strstr(detail, "read -> 1 (process 1, line 5"));
}

/* The same stale read with consistency "none" is exempt. */
static void test_none_read_skipped(void **state)
{
	(void)state;
	struct text t = {0};
	op(&t, 0, "write", 0, "1", 0, "ok", "1", 1);
	op(&t, 0, "write", 0, "2", 2, "ok", "2", 3);
	ev(&t, 1, "invoke", "read", 0, "null", 4, ",\"consistency\":\"none\"");
	ev(&t, 1, "ok", "read", 0, "1", 5, ",\"consistency\":\"none\"");
	assert_int_equal(check(&t), CHK_VALID);
}

static void test_read_never_written(void **state)
{
	(void)state;
	struct text t = {0};
	op(&t, 0, "write", 0, "1", 0, "ok", "1", 1);
	op(&t, 1, "write", 0, "2", 0, "info", "2", 1);
	op(&t, 0, "read", 0, "null", 2, "ok", "42", 3);
	assert_int_equal(check(&t), CHK_INVALID);
}

/* Two readers see two concurrent writes in opposite orders. */
static void test_opposite_orders(void **state)
{
	(void)state;
	struct text t = {0};
	ev(&t, 0, "invoke", "write", 0, "1", 0, "");
	ev(&t, 1, "invoke", "write", 0, "2", 0, "");
	ev(&t, 0, "ok", "write", 0, "1", 10, "");
	ev(&t, 1, "ok", "write", 0, "2", 10, "");
	op(&t, 2, "read", 0, "null", 11, "ok", "1", 12);
	op(&t, 3, "read", 0, "null", 11, "ok", "2", 12);
	op(&t, 2, "read", 0, "null", 13, "ok", "2", 14);
	op(&t, 3, "read", 0, "null", 13, "ok", "1", 14);
	assert_int_equal(check(&t), CHK_INVALID);
}

static void test_cas_on_stale_value(void **state)
{
	(void)state;
	struct text t = {0};
	op(&t, 0, "write", 0, "1", 0, "ok", "1", 1);
	op(&t, 1, "write", 0, "2", 2, "ok", "2", 3);
	op(&t, 0, "cas", 0, "[1,3]", 4, "ok", "[1,3]", 5);
	assert_int_equal(check(&t), CHK_INVALID);
}

/* Keys are separate registers: the anomaly is on key 3 only. */
static void test_keys_apart(void **state)
{
	(void)state;
	struct text t = {0};
	op(&t, 0, "write", 0, "1", 0, "ok", "1", 1);
	op(&t, 1, "write", 3, "2", 0, "ok", "2", 1);
	op(&t, 0, "read", 0, "null", 2, "ok", "1", 3);
	op(&t, 1, "read", 3, "null", 2, "ok", "1", 3);
	char detail[2048];
	struct chk_limits lim = CHK_LIMITS_DEFAULT;
	assert_int_equal(check_limited(&t, lim, detail, sizeof detail),
			 CHK_INVALID);
	assert_non_null(strstr(detail, "key 3"));
}

/* Past its budget the search says unknown, not valid nor invalid. */
static void test_budget(void **state)
{
	(void)state;
	struct text t = {0};
	for (int i = 0; i < 12; i++) {
		char v[16];
		snprintf(v, sizeof v, "%d", i + 1);
		ev(&t, i, "invoke", "write", 0, v, 0, "");
	}
	for (int i = 0; i < 12; i++) {
		char v[16];
		snprintf(v, sizeof v, "%d", i + 1);
		ev(&t, i, "ok", "write", 0, v, 10, "");
	}
	op(&t, 20, "read", 0, "null", 11, "ok", "99", 12);
	struct chk_limits lim = CHK_LIMITS_DEFAULT;
	lim.max_states = 50;
	char detail[2048];
	assert_int_equal(check_limited(&t, lim, detail, sizeof detail),
			 CHK_UNKNOWN);
	assert_non_null(strstr(detail, "budget"));
	/* With room enough it finds the read of a value never written. */
	lim.max_states = 1000000;
	assert_int_equal(check_limited(&t, lim, NULL, 0), CHK_INVALID);
}

/* Writes lost with a crashed leader (info, their values never seen) do
 * not multiply the search: 40 of them fit in a budget of 1,000 states,
 * whether the rest is linearizable or not. */
static void test_lost_writes_cost_nothing(void **state)
{
	(void)state;
	struct chk_limits lim = CHK_LIMITS_DEFAULT;
	lim.max_states = 1000;
	for (int stale = 0; stale < 2; stale++) {
		struct text t = {0};
		for (int i = 0; i < 40; i++) {
			char v[16];
			snprintf(v, sizeof v, "%d", 100 + i);
			op(&t, 10 + i, "write", 0, v, 0, "info", v, 1);
		}
		op(&t, 0, "write", 0, "1", 2, "ok", "1", 3);
		op(&t, 0, "cas", 0, "[1,2]", 4, "ok", "[1,2]", 5);
		op(&t, 1, "read", 0, "null", 6, "ok", stale ? "1" : "2", 7);
		assert_int_equal(check_limited(&t, lim, NULL, 0),
				 stale ? CHK_INVALID : CHK_VALID);
	}
	/* An info cas whose value is read keeps the write it replaced. */
	struct text t = {0};
	op(&t, 0, "write", 0, "1", 0, "info", "1", 1);
	op(&t, 1, "cas", 0, "[1,2]", 2, "info", "[1,2]", 3);
	op(&t, 2, "read", 0, "null", 4, "ok", "2", 5);
	assert_int_equal(check_limited(&t, lim, NULL, 0), CHK_VALID);
}

static void test_malformed(void **state)
{
	(void)state;
	struct text t = {0};
	op(&t, 0, "write", 0, "1", 0, "ok", "1", 1);
	ev(&t, 1, "ok", "read", 0, "1", 3, "");
	struct chk_history h;
	char err[256];
	assert_int_equal(chk_history_parse(t.buf, t.len, &h, err, sizeof err),
			 -1);
	assert_non_null(strstr(err, "line 3: process 1 completes read "
				    "without an invocation"));
	struct text u = {0};
	line(&u, "{\"type\":\"meta\",\"workload\":\"register\"}");
	line(&u, "not json");
	assert_int_equal(chk_history_parse(u.buf, u.len, &h, err, sizeof err),
			 -1);
	assert_non_null(strstr(err, "line 2:"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sequential),
	    cmocka_unit_test(test_concurrent),
	    cmocka_unit_test(test_info_took_effect),
	    cmocka_unit_test(test_info_did_not),
	    cmocka_unit_test(test_stale_read),
	    cmocka_unit_test(test_none_read_skipped),
	    cmocka_unit_test(test_read_never_written),
	    cmocka_unit_test(test_opposite_orders),
	    cmocka_unit_test(test_cas_on_stale_value),
	    cmocka_unit_test(test_keys_apart),
	    cmocka_unit_test(test_budget),
	    cmocka_unit_test(test_lost_writes_cost_nothing),
	    cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

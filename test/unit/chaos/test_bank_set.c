/* The bank and set checkers on small hand-written histories, each with
 * the anomaly it must catch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test/chaos/check.h"
#include "test/unit/chaos/history_text.h"

static enum chk_verdict run(const struct text *t, const char *workload,
			    const char *kind)
{
	struct chk_history h;
	char err[256];
	if (chk_history_parse(t->buf, t->len, &h, err, sizeof err) != 0) {
		fail_msg("parse: %s", err);
	}
	struct chk_report r;
	chk_report_init(&r, &h, workload);
	if (strcmp(workload, "bank") == 0) {
		chk_bank(&h, &r);
	} else {
		chk_set(&h, &r);
	}
	enum chk_verdict v = r.verdict;
	if (kind != NULL) {
		assert_true(r.n_anomalies >= 1);
		assert_string_equal(r.anomalies[0].kind, kind);
	}
	chk_report_free(&r);
	chk_history_free(&h);
	return v;
}

static void bank_history(struct text *t, const char *read, const char *final)
{
	line(t, "{\"type\":\"meta\",\"workload\":\"bank\",\"accounts\":2,"
		"\"total\":200}");
	op(t, 0, "transfer", -1, "{\"from\":0,\"to\":1,\"amount\":50}", 0, "ok",
	   "{\"from\":0,\"to\":1,\"amount\":50}", 1);
	op(t, 1, "transfer", -1, "{\"from\":1,\"to\":0,\"amount\":500}", 0,
	   "fail", "{\"from\":1,\"to\":0,\"amount\":500}", 1);
	op(t, 1, "read", -1, "null", 2, "ok", read, 3);
	if (final != NULL) {
		ev(t, 2, "invoke", "read", -1, "null", 4, ",\"final\":true");
		ev(t, 2, "ok", "read", -1, final, 5, ",\"final\":true");
	}
}

static void test_bank_valid(void **state)
{
	(void)state;
	struct text t = {0};
	bank_history(&t, "[[0,50],[1,150]]", "[[0,50],[1,150]]");
	assert_int_equal(run(&t, "bank", NULL), CHK_VALID);
}

static void test_bank_wrong_total(void **state)
{
	(void)state;
	struct text t = {0};
	bank_history(&t, "[[0,50],[1,140]]", "[[0,50],[1,150]]");
	assert_int_equal(run(&t, "bank", "bad-read"), CHK_INVALID);
}

static void test_bank_negative(void **state)
{
	(void)state;
	struct text t = {0};
	bank_history(&t, "[[0,50],[1,150]]", "[[0,250],[1,-50]]");
	assert_int_equal(run(&t, "bank", "bad-final-read"), CHK_INVALID);
}

static void test_bank_account_missing(void **state)
{
	(void)state;
	struct text t = {0};
	bank_history(&t, "[[1,200]]", "[[0,50],[1,150]]");
	assert_int_equal(run(&t, "bank", "bad-read"), CHK_INVALID);
}

static void test_bank_no_final_read(void **state)
{
	(void)state;
	struct text t = {0};
	bank_history(&t, "[[0,50],[1,150]]", NULL);
	assert_int_equal(run(&t, "bank", NULL), CHK_UNKNOWN);
}

/* Adds: 1 and 2 acknowledged, 3 unknown, 4 failed. */
static void set_history(struct text *t, const char *final)
{
	line(t, "{\"type\":\"meta\",\"workload\":\"set\"}");
	op(t, 0, "add", -1, "1", 0, "ok", "1", 1);
	op(t, 1, "add", -1, "2", 0, "ok", "2", 1);
	op(t, 0, "add", -1, "3", 2, "info", "3", 3);
	op(t, 1, "add", -1, "4", 2, "fail", "4", 3);
	if (final != NULL) {
		ev(t, 2, "invoke", "read", -1, "null", 4, ",\"final\":true");
		ev(t, 2, "ok", "read", -1, final, 5, ",\"final\":true");
	}
}

static void test_set_valid(void **state)
{
	(void)state;
	struct text t = {0};
	set_history(&t, "[1,2]");
	assert_int_equal(run(&t, "set", NULL), CHK_VALID);
	struct text u = {0};
	set_history(&u, "[1,2,3]");
	assert_int_equal(run(&u, "set", NULL), CHK_VALID);
}

static void test_set_lost(void **state)
{
	(void)state;
	struct text t = {0};
	set_history(&t, "[1,3]");
	assert_int_equal(run(&t, "set", "lost"), CHK_INVALID);
}

static void test_set_duplicated(void **state)
{
	(void)state;
	struct text t = {0};
	set_history(&t, "[1,2,2]");
	assert_int_equal(run(&t, "set", "duplicated"), CHK_INVALID);
}

static void test_set_invented(void **state)
{
	(void)state;
	struct text t = {0};
	set_history(&t, "[1,2,99]");
	assert_int_equal(run(&t, "set", "invented"), CHK_INVALID);
}

static void test_set_failed_present(void **state)
{
	(void)state;
	struct text t = {0};
	set_history(&t, "[1,2,4]");
	assert_int_equal(run(&t, "set", "failed-present"), CHK_INVALID);
}

static void test_set_no_final_read(void **state)
{
	(void)state;
	struct text t = {0};
	set_history(&t, NULL);
	assert_int_equal(run(&t, "set", NULL), CHK_UNKNOWN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bank_valid),
	    cmocka_unit_test(test_bank_wrong_total),
	    cmocka_unit_test(test_bank_negative),
	    cmocka_unit_test(test_bank_account_missing),
	    cmocka_unit_test(test_bank_no_final_read),
	    cmocka_unit_test(test_set_valid),
	    cmocka_unit_test(test_set_lost),
	    cmocka_unit_test(test_set_duplicated),
	    cmocka_unit_test(test_set_invented),
	    cmocka_unit_test(test_set_failed_present),
	    cmocka_unit_test(test_set_no_final_read),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Frames: what frames_put writes, frames_next reads back; anything
 * malformed is refused without reading past the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "internal/lib/frames.h"
#include "internal/lib/mem.h"

static void test_round_trip(void **state)
{
	(void)state;
	struct frames_buf b = {0};
	uint64_t h[2] = {200, 0};
	frames_put(&b, NULL, 0, "{\"a\":1}", 7);
	frames_put(&b, h, 2, "", 0);
	h[0] = 503;
	h[1] = 1;
	frames_put(&b, h, 2, "not\nthe leader", 14);
	assert_int_equal(b.n, strlen("7\n{\"a\":1}200 0 0\n503 1 14\nnot\nthe "
				     "leader"));
	assert_memory_equal(
	    b.p, "7\n{\"a\":1}200 0 0\n503 1 14\nnot\nthe leader", b.n);

	size_t pos = 0;
	uint64_t got[2];
	const char *p;
	size_t len;
	assert_int_equal(frames_next(b.p, b.n, &pos, got, 0, &p, &len), 1);
	assert_int_equal(len, 7);
	assert_memory_equal(p, "{\"a\":1}", 7);
	assert_int_equal(frames_next(b.p, b.n, &pos, got, 2, &p, &len), 1);
	assert_int_equal(got[0], 200);
	assert_int_equal(got[1], 0);
	assert_int_equal(len, 0);
	assert_int_equal(frames_next(b.p, b.n, &pos, got, 2, &p, &len), 1);
	assert_int_equal(got[0], 503);
	assert_int_equal(got[1], 1);
	assert_memory_equal(p, "not\nthe leader", 14);
	assert_int_equal(frames_next(b.p, b.n, &pos, got, 2, &p, &len), 0);
	assert_int_equal(pos, b.n);
	tm_free(b.p);
}

static int one(const char *text, unsigned n)
{
	size_t pos = 0;
	uint64_t got[FRAMES_MAX_NUMBERS];
	const char *p;
	size_t len;
	return frames_next(text, strlen(text), &pos, got, n, &p, &len);
}

static void test_malformed(void **state)
{
	(void)state;
	assert_int_equal(one("", 0), 0);
	assert_int_equal(one("3\nabc", 0), 1);
	assert_int_equal(one("4\nabc", 0), -1);	 /* past the end */
	assert_int_equal(one("03\nabc", 0), -1); /* a leading zero */
	assert_int_equal(one("3 \nabc", 0), -1); /* a space too many */
	assert_int_equal(one("\nabc", 0), -1);	 /* no length */
	assert_int_equal(one("3abc", 0), -1);	 /* no newline */
	assert_int_equal(one("-3\nabc", 0), -1); /* no sign */
	assert_int_equal(one("3\nabc", 2), -1);	 /* numbers missing */
	assert_int_equal(one("200 0 3\nabc", 0), -1);
	assert_int_equal(one("200 0 3\nabc", 2), 1);
	assert_int_equal(one("99999999999999999999999\na", 0), -1);
	assert_int_equal(one("18446744073709551615\na", 0), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

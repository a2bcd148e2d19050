/* bigbuf: small buffers from malloc; large ones are aligned mappings in
 * whole huge pages, advised for transparent huge pages (the kernel says
 * so in /proc/self/smaps), and gone once freed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "internal/lib/bigbuf.h"

/* The mapping that starts at BASE in /proc/self/smaps: its size in KiB
 * and its THPeligible flag; false when there is none. */
static bool smaps_entry(const void *base, unsigned long *kib, int *eligible)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	assert_non_null(f);
	char line[512];
	bool in = false, found = false;
	*eligible = -1;
	while (fgets(line, sizeof line, f) != NULL) {
		unsigned long lo, hi;
		/* A mapping's first line: "LO-HI perms offset ..." (a
		 * field line, "Name: value", never has two hex numbers
		 * joined by a dash). */
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
			in = lo == (uintptr_t)base;
			if (in) {
				found = true;
				*kib = (hi - lo) >> 10;
			}
			continue;
		}
		if (in) {
			sscanf(line, "THPeligible: %d", eligible);
		}
	}
	fclose(f);
	return found;
}

/* Transparent huge pages are on for advised mappings here. */
static bool thp_advised(void)
{
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	if (f == NULL) {
		return false;
	}
	char line[128] = "";
	bool on = fgets(line, sizeof line, f) != NULL &&
		  (strstr(line, "[always]") != NULL ||
		   strstr(line, "[madvise]") != NULL);
	fclose(f);
	return on;
}

static void test_small_from_malloc(void **state)
{
	(void)state;
	size_t cap = 0;
	char *p = bigbuf_alloc(1000, &cap);
	assert_non_null(p);
	assert_int_equal(cap, 1000);
	memset(p, 1, cap);
	bigbuf_free(p, cap);
	p = bigbuf_alloc(BIGBUF_MIN - 1, &cap);
	assert_int_equal(cap, BIGBUF_MIN - 1);
	bigbuf_free(p, cap);
}

static void test_large_in_huge_pages(void **state)
{
	(void)state;
	size_t len = 3800 * 1000;
	size_t cap = 0;
	char *p = bigbuf_alloc(len, &cap);
	assert_non_null(p);
	assert_true(cap >= len);
	assert_int_equal(cap % BIGBUF_HUGE, 0);
	assert_int_equal(cap, 2 * BIGBUF_HUGE);
	assert_int_equal((uintptr_t)p % BIGBUF_HUGE, 0);
	memset(p, 7, cap);
	assert_int_equal(p[cap - 1], 7);

	unsigned long kib = 0;
	int eligible = -1;
	assert_true(smaps_entry(p, &kib, &eligible));
	assert_int_equal(kib, cap >> 10);
	if (thp_advised() && eligible != -1) {
		assert_int_equal(eligible, 1);
	}
	bigbuf_free(p, cap);
	assert_false(smaps_entry(p, &kib, &eligible));
}

static void test_exactly_the_minimum(void **state)
{
	(void)state;
	size_t cap = 0;
	char *p = bigbuf_alloc(BIGBUF_MIN, &cap);
	assert_int_equal(cap, BIGBUF_HUGE);
	assert_int_equal((uintptr_t)p % BIGBUF_HUGE, 0);
	p[0] = 1;
	p[cap - 1] = 2;
	bigbuf_free(p, cap);
	bigbuf_free(NULL, cap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_small_from_malloc),
	    cmocka_unit_test(test_large_in_huge_pages),
	    cmocka_unit_test(test_exactly_the_minimum),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

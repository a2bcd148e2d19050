/* hash64 is xxHash64 with seed 0: published test vectors, and every
 * length around the 32-byte stripes changes with any flipped bit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "internal/lib/hash64.h"

static void test_vectors(void **state)
{
	(void)state;
	assert_true(hash64("", 0) == UINT64_C(0xEF46DB3751D8E999));
	assert_true(hash64("a", 1) == UINT64_C(0xD24EC4F1A98C6E5B));
	assert_true(hash64("abc", 3) == UINT64_C(0x44BC2CF5AD770999));
	const char *s = "Nobody inspects the spammish repetition";
	assert_true(hash64(s, strlen(s)) == UINT64_C(0xFBCEA83C8A378BF1));
}

static void test_any_bit_changes_it(void **state)
{
	unsigned char buf[80];
	(void)state;
	for (size_t i = 0; i < sizeof buf; i++) {
		buf[i] = (unsigned char)(i * 37 + 11);
	}
	for (size_t len = 1; len <= sizeof buf; len++) {
		uint64_t h = hash64(buf, len);
		for (size_t bit = 0; bit < len * 8; bit += 3) {
			buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
			assert_true(hash64(buf, len) != h);
			buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vectors),
	    cmocka_unit_test(test_any_bit_changes_it),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

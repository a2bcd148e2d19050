/* The trust store in memory: lookups by exact fingerprint and type, by
 * prefix, and what it refuses to hold. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "internal/daemon/trust_set.h"
#include "internal/lib/err.h"

#define FP_A "aa11000000000000000000000000000000000000000000000000000000000000"
#define FP_B "ab22000000000000000000000000000000000000000000000000000000000000"
#define FP_C "ab33000000000000000000000000000000000000000000000000000000000000"
#define FP_D "ffff000000000000000000000000000000000000000000000000000000000000"

static void fill(struct trust_set *s)
{
	trust_set_init(s);
	/* Out of order, one in upper case: the set sorts and lowers. */
	assert_true(trust_set_add(s, FP_C, "c", "client", "PEM-C", 3));
	assert_true(trust_set_add(s,
				  "AA11000000000000000000000000000000000"
				  "000000000000000000000000000",
				  "a", "client", "PEM-A", 1));
	assert_true(trust_set_add(s, FP_B, "member-b", "server", "PEM-B", 2));
	trust_set_seal(s);
}

static void find_exact(void **state)
{
	(void)state;
	struct trust_set s;
	fill(&s);
	assert_int_equal(s.n, 3);
	const struct trust_cert *c = trust_set_find(&s, FP_A, NULL);
	assert_non_null(c);
	assert_string_equal(c->fingerprint, FP_A);
	assert_string_equal(c->name, "a");
	assert_string_equal(c->certificate, "PEM-A");
	assert_int_equal(c->added_at, 1);
	/* Sorted by fingerprint. */
	assert_string_equal(s.v[0].fingerprint, FP_A);
	assert_string_equal(s.v[1].fingerprint, FP_B);
	assert_string_equal(s.v[2].fingerprint, FP_C);
	/* By type. */
	assert_non_null(trust_set_find(&s, FP_A, "client"));
	assert_null(trust_set_find(&s, FP_A, "server"));
	assert_non_null(trust_set_find(&s, FP_B, "server"));
	assert_null(trust_set_find(&s, FP_B, "client"));
	/* Any case; nothing but the exact 64 digits. */
	assert_non_null(trust_set_find(&s,
				       "AB33000000000000000000000000000000"
				       "000000000000000000000000000000",
				       NULL));
	assert_null(trust_set_find(&s, FP_D, NULL));
	assert_null(trust_set_find(&s, "aa11", NULL));
	assert_null(trust_set_find(&s, "", NULL));
	assert_null(trust_set_find(&s, NULL, NULL));
	trust_set_clear(&s);
	assert_int_equal(s.n, 0);
	assert_null(trust_set_find(&s, FP_A, NULL));
}

static void find_prefix(void **state)
{
	(void)state;
	struct trust_set s;
	char errmsg[TM_ERRMSG_SIZE];
	const struct trust_cert *c = NULL;
	fill(&s);
	assert_int_equal(trust_set_prefix(&s, "aa", &c, errmsg), 0);
	assert_string_equal(c->fingerprint, FP_A);
	assert_int_equal(trust_set_prefix(&s, "AB3", &c, errmsg), 0);
	assert_string_equal(c->fingerprint, FP_C);
	assert_int_equal(trust_set_prefix(&s, FP_B, &c, errmsg), 0);
	assert_string_equal(c->fingerprint, FP_B);
	assert_int_equal(trust_set_prefix(&s, "ab", &c, errmsg), TM_INVALID);
	assert_string_equal(errmsg, "ambiguous fingerprint prefix \"ab\"");
	assert_int_equal(trust_set_prefix(&s, "ac", &c, errmsg), TM_NOTFOUND);
	assert_int_equal(trust_set_prefix(&s, "f", &c, errmsg), TM_NOTFOUND);
	assert_int_equal(trust_set_prefix(&s, "0", &c, errmsg), TM_NOTFOUND);
	assert_int_equal(trust_set_prefix(&s, "", &c, errmsg), TM_INVALID);
	assert_int_equal(trust_set_prefix(&s, "ag", &c, errmsg), TM_INVALID);
	assert_string_equal(errmsg, "invalid fingerprint \"ag\": expected 1 to "
				    "64 hex digits");
	trust_set_clear(&s);
	assert_int_equal(trust_set_prefix(&s, "aa", &c, errmsg), TM_NOTFOUND);
}

static void refused_and_duplicates(void **state)
{
	(void)state;
	struct trust_set s;
	trust_set_init(&s);
	assert_false(trust_set_add(&s, "aa11", "x", "client", "P", 0));
	assert_false(trust_set_add(&s, FP_A "0", "x", "client", "P", 0));
	assert_false(trust_set_add(&s, NULL, "x", "client", "P", 0));
	assert_false(trust_set_add(&s, FP_A, "x", "admin", "P", 0));
	assert_false(trust_set_add(&s, FP_A, "x", NULL, "P", 0));
	char bad[TRUST_FP_LEN + 1];
	memset(bad, 'g', TRUST_FP_LEN);
	bad[TRUST_FP_LEN] = '\0';
	assert_false(trust_set_add(&s, bad, "x", "client", "P", 0));
	assert_int_equal(s.n, 0);
	trust_set_seal(&s); /* empty: nothing to sort */
	assert_null(trust_set_find(&s, FP_A, NULL));
	/* Many, with duplicates: one of each is kept. */
	for (int round = 0; round < 2; round++) {
		for (unsigned i = 0; i < 100; i++) {
			char fp[TRUST_FP_LEN + 1];
			memset(fp, '0', TRUST_FP_LEN);
			fp[TRUST_FP_LEN] = '\0';
			fp[0] = "0123456789abcdef"[i % 16];
			fp[1] = "0123456789abcdef"[i / 16];
			assert_true(
			    trust_set_add(&s, fp, "n", "client", "P", round));
		}
	}
	trust_set_seal(&s);
	assert_int_equal(s.n, 100);
	for (size_t i = 1; i < s.n; i++) {
		assert_true(strcmp(s.v[i - 1].fingerprint, s.v[i].fingerprint) <
			    0);
	}
	trust_set_clear(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(find_exact),
	    cmocka_unit_test(find_prefix),
	    cmocka_unit_test(refused_and_duplicates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

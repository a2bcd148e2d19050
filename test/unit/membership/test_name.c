/* Member names (internal/membership/name.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/lib/err.h"
#include "internal/lib/mem.h"
#include "internal/membership/name.h"

static void name_ok(const char *name)
{
	char errmsg[TM_ERRMSG_SIZE] = "";
	if (member_name_check(name, errmsg) != 0) {
		fail_msg("\"%s\": %s", name, errmsg);
	}
}

static void name_bad(const char *name, const char *message)
{
	char errmsg[TM_ERRMSG_SIZE] = "";
	assert_int_equal(member_name_check(name, errmsg), TM_INVALID);
	assert_string_equal(errmsg, message);
}

static void member_names(void **state)
{
	(void)state;
	name_ok("a");
	name_ok("0");
	name_ok("node-1");
	name_ok("1-2-3");
	name_ok("a---b");
	char name[80];
	memset(name, 'z', 63);
	name[63] = '\0';
	name_ok(name);
	name[63] = 'z';
	name[64] = '\0';
	name_bad(name, "member name is longer than 63 characters");
	name_bad("", "member name is empty");
	name_bad("-", "member name \"-\" starts with '-'");
	name_bad("a-", "member name \"a-\" ends with '-'");
	name_bad("a b", "member name \"a b\" has ' ' at byte 1 (allowed: "
			"a-z, 0-9 and '-')");
	name_bad("a\"b", "member name \"a\\x22b\" has '\\x22' at byte 1 "
			 "(allowed: a-z, 0-9 and '-')");
	name_bad("a\tb", "member name \"a\\x09b\" has '\\x09' at byte 1 "
			 "(allowed: a-z, 0-9 and '-')");
	/* Long names are cut at 32 characters in messages. */
	memset(name, 'a', 62);
	name[40] = 'A';
	name[62] = '\0';
	name_bad(name, "member name \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\" "
		       "has 'A' at byte 40 (allowed: a-z, 0-9 and '-')");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(member_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

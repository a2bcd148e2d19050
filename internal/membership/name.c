/* Member names, see name.h. */
#include <stdbool.h>
#include <string.h>

#include "internal/lib/err.h"
#include "internal/membership/name.h"
#include "internal/membership/private.h"

static bool name_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       ch == '-';
}

int member_name_check(const char *name, char *errmsg)
{
	size_t len = strnlen(name, MEMBER_NAME_MAX + 1);
	char shown[MEMBER_NAME_MAX * 4 + 4];
	if (len == 0) {
		tm_errmsg_printf(errmsg, "member name is empty");
		return TM_INVALID;
	}
	if (len > MEMBER_NAME_MAX) {
		tm_errmsg_printf(errmsg,
				 "member name is longer than %d "
				 "characters",
				 MEMBER_NAME_MAX);
		return TM_INVALID;
	}
	membership_printable(shown, sizeof shown, name, 32);
	for (size_t i = 0; i < len; i++) {
		if (!name_char(name[i])) {
			char bad[8];
			char one[2] = {name[i], '\0'};
			membership_printable(bad, sizeof bad, one, 1);
			tm_errmsg_printf(errmsg,
					 "member name \"%s\" has '%s' "
					 "at byte %zu (allowed: a-z, 0-9 and "
					 "'-')",
					 shown, bad, i);
			return TM_INVALID;
		}
	}
	if (name[0] == '-' || name[len - 1] == '-') {
		tm_errmsg_printf(errmsg, "member name \"%s\" %s with '-'",
				 shown, name[0] == '-' ? "starts" : "ends");
		return TM_INVALID;
	}
	return 0;
}

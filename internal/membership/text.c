/* Text helpers for the membership module's checks and messages. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "internal/lib/err.h"
#include "internal/membership/private.h"

static void printable(char *dst, size_t size, const char *s, size_t max,
		      bool quotes)
{
	size_t used = 0;
	size_t i;
	for (i = 0; s[i] != '\0' && i < max; i++) {
		unsigned char ch = (unsigned char)s[i];
		bool plain = ch >= 0x20 && ch < 0x7f &&
			     !(quotes && (ch == '"' || ch == '\\'));
		size_t need = plain ? 1 : 4;
		if (used + need + 1 > size) {
			break;
		}
		if (plain) {
			dst[used++] = (char)ch;
		} else {
			snprintf(dst + used, 5, "\\x%02x", ch);
			used += 4;
		}
	}
	if (s[i] != '\0' && used + 4 <= size) {
		memcpy(dst + used, "...", 3);
		used += 3;
	}
	dst[used] = '\0';
}

void membership_printable(char *dst, size_t size, const char *s, size_t max)
{
	printable(dst, size, s, max, true);
}

void membership_printable_text(char *dst, size_t size, const char *s)
{
	printable(dst, size, s, size, false);
}

static bool lower_hex(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
}

int membership_hex_check(const char *s, size_t len, const char *what,
			 char *errmsg)
{
	size_t n = strnlen(s, len + 1);
	if (n != len) {
		tm_errmsg_printf(errmsg,
				 "expected %zu lowercase hex digits "
				 "(%s), got %s%zu characters",
				 len, what, n > len ? "more than " : "",
				 n > len ? len : n);
		return TM_INVALID;
	}
	for (size_t i = 0; i < len; i++) {
		if (!lower_hex(s[i])) {
			char shown[8];
			char one[2] = {s[i], '\0'};
			membership_printable(shown, sizeof shown, one, 1);
			tm_errmsg_printf(errmsg,
					 "expected %zu lowercase hex "
					 "digits (%s), got '%s' at byte %zu",
					 len, what, shown, i);
			return TM_INVALID;
		}
	}
	return 0;
}

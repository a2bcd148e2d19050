/* Strict JSON validation ahead of cJSON, see json.h.
 *
 * cJSON is lenient where a replicated database must not be: it reads
 * numbers with strtod (so "0123" is 123), takes raw control characters in
 * strings, and reports nesting beyond its limit as a bare syntax error. This
 * recursive-descent checker follows RFC 8259's grammar and names what it
 * refused; recursion is bounded by JSON_MAX_DEPTH. UTF-8 is not checked
 * here. */
#include <stdio.h>
#include <string.h>

#include "internal/lib/err.h"
#include "internal/lib/json.h"

struct check {
	const char *text;
	const char *p;
	const char *end;
	size_t depth;
	char *errmsg;
};

static int check_fail(struct check *c, const char *what)
{
	tm_errmsg_printf(c->errmsg, "%s at byte %zu", what,
			 (size_t)(c->p - c->text));
	return TM_INVALID;
}

static int check_unexpected(struct check *c)
{
	char what[64];
	if (c->p >= c->end) {
		return check_fail(c, "unexpected end of input");
	}
	unsigned char ch = (unsigned char)*c->p;
	if (ch >= 0x21 && ch < 0x7f) {
		snprintf(what, sizeof what, "unexpected character '%c'", ch);
	} else {
		snprintf(what, sizeof what, "unexpected byte 0x%02x", ch);
	}
	return check_fail(c, what);
}

static void check_skip_ws(struct check *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' ||
				 *c->p == '\r' || *c->p == '\n')) {
		c->p++;
	}
}

static bool check_digit(const struct check *c)
{
	return c->p < c->end && *c->p >= '0' && *c->p <= '9';
}

static int check_digits(struct check *c)
{
	if (!check_digit(c)) {
		return check_fail(c, "invalid number: digit expected");
	}
	while (check_digit(c)) {
		c->p++;
	}
	return 0;
}

static int check_number(struct check *c)
{
	if (*c->p == '-') {
		c->p++;
	}
	if (c->p < c->end && *c->p == '0') {
		c->p++;
		if (check_digit(c)) {
			return check_fail(c, "leading zero in number (write "
					     "123, not 0123)");
		}
	} else if (check_digits(c) != 0) {
		return TM_INVALID;
	}
	if (c->p < c->end && *c->p == '.') {
		c->p++;
		if (check_digits(c) != 0) {
			return TM_INVALID;
		}
	}
	if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
		c->p++;
		if (c->p < c->end && (*c->p == '+' || *c->p == '-')) {
			c->p++;
		}
		return check_digits(c);
	}
	return 0;
}

static bool is_hex(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
	       (ch >= 'A' && ch <= 'F');
}

static int check_escape(struct check *c)
{
	c->p++; /* the backslash */
	if (c->p >= c->end) {
		return check_fail(c, "unterminated string");
	}
	if (*c->p != '\0' && strchr("\"\\/bfnrt", *c->p) != NULL) {
		c->p++;
		return 0;
	}
	if (*c->p != 'u') {
		return check_fail(c, "invalid escape in string (valid: \\\" "
				     "\\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
	}
	c->p++;
	for (int i = 0; i < 4; i++, c->p++) {
		if (c->p >= c->end || !is_hex(*c->p)) {
			return check_fail(c, "invalid \\u escape in string "
					     "(4 hex digits expected)");
		}
	}
	return 0;
}

static int check_string(struct check *c)
{
	c->p++; /* the opening quote */
	while (c->p < c->end && *c->p != '"') {
		unsigned char ch = (unsigned char)*c->p;
		if (ch < 0x20) {
			char what[96];
			snprintf(what, sizeof what,
				 "raw control character 0x%02x in string "
				 "(escape it as \\u%04x)",
				 ch, ch);
			return check_fail(c, what);
		}
		if (ch == '\\') {
			if (check_escape(c) != 0) {
				return TM_INVALID;
			}
		} else {
			c->p++;
		}
	}
	if (c->p >= c->end) {
		return check_fail(c, "unterminated string");
	}
	c->p++;
	return 0;
}

static int check_literal(struct check *c, const char *word)
{
	size_t n = strlen(word);
	if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0) {
		return check_unexpected(c);
	}
	c->p += n;
	return 0;
}

static int check_value(struct check *c);

/* An array or an object: CLOSE ends it, members are values or, in an
 * object, "key": value pairs. */
static int check_container(struct check *c, char close, bool object)
{
	if (c->depth == JSON_MAX_DEPTH) {
		char what[64];
		snprintf(what, sizeof what, "nested too deep (limit %d)",
			 JSON_MAX_DEPTH);
		return check_fail(c, what);
	}
	c->depth++;
	c->p++;
	check_skip_ws(c);
	if (c->p < c->end && *c->p == close) {
		c->p++;
		c->depth--;
		return 0;
	}
	for (;;) {
		if (object) {
			check_skip_ws(c);
			if (c->p >= c->end || *c->p != '"') {
				return c->p < c->end
					   ? check_fail(c, "object key "
							   "(a string) "
							   "expected")
					   : check_unexpected(c);
			}
			if (check_string(c) != 0) {
				return TM_INVALID;
			}
			check_skip_ws(c);
			if (c->p >= c->end || *c->p != ':') {
				return check_unexpected(c);
			}
			c->p++;
		}
		if (check_value(c) != 0) {
			return TM_INVALID;
		}
		if (c->p < c->end && *c->p == ',') {
			c->p++;
			continue;
		}
		if (c->p < c->end && *c->p == close) {
			c->p++;
			c->depth--;
			return 0;
		}
		return check_unexpected(c);
	}
}

/* A value with the whitespace around it. */
static int check_value(struct check *c)
{
	int rv;
	check_skip_ws(c);
	if (c->p >= c->end) {
		return check_unexpected(c);
	}
	switch (*c->p) {
	case '{':
		rv = check_container(c, '}', true);
		break;
	case '[':
		rv = check_container(c, ']', false);
		break;
	case '"':
		rv = check_string(c);
		break;
	case 't':
		rv = check_literal(c, "true");
		break;
	case 'f':
		rv = check_literal(c, "false");
		break;
	case 'n':
		rv = check_literal(c, "null");
		break;
	default:
		if (*c->p == '-' || check_digit(c)) {
			rv = check_number(c);
		} else {
			rv = check_unexpected(c);
		}
		break;
	}
	if (rv == 0) {
		check_skip_ws(c);
	}
	return rv;
}

int json_check(const char *text, size_t len, size_t *error_at, char *errmsg)
{
	struct check c = {text, text, text + len, 0, errmsg};
	int rv = check_value(&c);
	if (rv == 0 && c.p < c.end) {
		rv = check_fail(&c, "trailing data after the JSON value");
	}
	if (rv != 0 && error_at != NULL) {
		*error_at = (size_t)(c.p - text);
	}
	return rv;
}

cJSON *json_parse_strict(const char *text, size_t len, char *errmsg)
{
	if (json_check(text, len, NULL, errmsg) != 0) {
		return NULL;
	}
	cJSON *root = cJSON_ParseWithLength(text, len);
	if (root == NULL) {
		/* Valid JSON that cJSON cannot hold (it has its own limits). */
		tm_errmsg_printf(errmsg, "cannot parse JSON");
	}
	return root;
}

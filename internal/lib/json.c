#include "internal/lib/json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/lib/err.h"
#include "internal/lib/mem.h"

/* Walk the (already validated) TEXT and the tree in document order; both
 * meet the numbers in the same order. */
struct scan {
	const char *p;
	const char *end;
};

static bool next_number(struct scan *s, const char **start, size_t *len)
{
	while (s->p < s->end) {
		char c = *s->p;
		if (c == '"') {
			for (s->p++; s->p < s->end && *s->p != '"'; s->p++) {
				if (*s->p == '\\') {
					s->p++;
				}
			}
			s->p++;
			continue;
		}
		if (c == '-' || (c >= '0' && c <= '9')) {
			*start = s->p;
			while (s->p < s->end &&
			       strchr("+-0123456789.eE", *s->p) != NULL) {
				s->p++;
			}
			*len = (size_t)(s->p - *start);
			return true;
		}
		s->p++;
	}
	return false;
}

static void attach(cJSON *item, struct scan *s)
{
	for (; item != NULL; item = item->next) {
		if (cJSON_IsNumber(item)) {
			const char *start;
			size_t len;
			if (next_number(s, &start, &len)) {
				item->valuestring = tm_strndup(start, len);
			}
		}
		if (item->child != NULL) {
			attach(item->child, s);
		}
	}
}

cJSON *json_parse_exact(const char *text, size_t len, size_t *error_at)
{
	char errmsg[TM_ERRMSG_SIZE];
	if (json_check(text, len, error_at, errmsg) != 0) {
		return NULL;
	}
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, false);
	if (root != NULL) {
		/* Only whitespace may follow the value. */
		while (end < text + len && *end != '\0' && strchr(" \t\r\n", *end) != NULL) {
			end++;
		}
		if (end != text + len) {
			cJSON_Delete(root);
			if (error_at != NULL) {
				*error_at = (size_t)(end - text);
			}
			return NULL;
		}
	}
	if (root == NULL) {
		if (error_at != NULL) {
			const char *at = cJSON_GetErrorPtr();
			*error_at = at != NULL && at >= text && at <= text + len
					    ? (size_t)(at - text)
					    : 0;
		}
		return NULL;
	}
	struct scan s = {text, text + len};
	attach(root, &s);
	return root;
}

static bool integral(double d)
{
	double whole;
	double frac = modf(d, &whole);
	return !(frac > 0.0 || frac < 0.0);
}

static bool is_int_literal(const char *lit)
{
	return lit != NULL && strpbrk(lit, ".eE") == NULL;
}

bool json_get_int64(const cJSON *item, int64_t *out)
{
	if (!cJSON_IsNumber(item)) {
		return false;
	}
	const char *lit = item->valuestring;
	if (lit != NULL) {
		if (!is_int_literal(lit)) {
			return false;
		}
		char *endp;
		errno = 0;
		long long v = strtoll(lit, &endp, 10);
		if (errno != 0 || *endp != '\0') {
			return false;
		}
		*out = (int64_t)v;
		return true;
	}
	double d = item->valuedouble;
	if (!integral(d) || fabs(d) > 9007199254740992.0) {
		return false;
	}
	*out = (int64_t)d;
	return true;
}

bool json_is_real_literal(const cJSON *item)
{
	if (!cJSON_IsNumber(item)) {
		return false;
	}
	if (item->valuestring != NULL) {
		return !is_int_literal(item->valuestring);
	}
	return !integral(item->valuedouble);
}

cJSON *json_create_int64(int64_t v)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%lld", (long long)v);
	return cJSON_CreateRaw(buf);
}

cJSON *json_create_real(double v)
{
	if (!isfinite(v)) {
		return cJSON_CreateNull();
	}
	char buf[40];
	snprintf(buf, sizeof buf, "%.17g", v);
	if (strpbrk(buf, ".eEn") == NULL) {
		strcat(buf, ".0");
	}
	return cJSON_CreateRaw(buf);
}

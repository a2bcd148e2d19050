/* JSON numbers without loss. cJSON stores numbers as doubles only, which
 * cannot hold every 64-bit integer (2^53 + 1 already rounds). After cJSON
 * has parsed and validated a text, we walk the text and the tree together
 * in document order: both meet the numbers in the same order, so the n-th
 * number literal of the text belongs to the n-th number item of the tree.
 * Each literal is attached to its item's valuestring (allocated with
 * cJSON_malloc, so cJSON_Delete frees it with the same allocator).
 *
 * Output goes through raw items ("cJSON_CreateRaw"), which cJSON prints
 * verbatim. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/internal.h"

struct json_scan {
	const char *p;
	const char *end;
};

/* The next number literal of the text (outside strings): *START, *LEN. */
static bool json_next_number(struct json_scan *s, const char **start,
			     size_t *len)
{
	while (s->p < s->end) {
		char ch = *s->p;
		if (ch == '"') {
			for (s->p++; s->p < s->end && *s->p != '"'; s->p++) {
				if (*s->p == '\\') {
					s->p++;
				}
			}
			s->p++;
			continue;
		}
		if (ch == '-' || (ch >= '0' && ch <= '9')) {
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

/* Attach literals to the numbers of ITEM and its siblings, depth first
 * (document order). False on out of memory. cJSON limits nesting to
 * CJSON_NESTING_LIMIT levels, which bounds the recursion. */
static bool json_attach(cJSON *item, struct json_scan *s)
{
	for (; item != NULL; item = item->next) {
		const char *start;
		size_t len;
		if (cJSON_IsNumber(item) && json_next_number(s, &start, &len)) {
			item->valuestring = cJSON_malloc(len + 1);
			if (item->valuestring == NULL) {
				return false;
			}
			memcpy(item->valuestring, start, len);
			item->valuestring[len] = '\0';
		}
		if (item->child != NULL && !json_attach(item->child, s)) {
			return false;
		}
	}
	return true;
}

int tmc_json_parse(const char *text, size_t len, cJSON **out)
{
	const char *end = NULL;
	struct json_scan scan = {text, text + len};
	cJSON *root;

	*out = NULL;
	root = cJSON_ParseWithLengthOpts(text, len, &end, false);
	if (root == NULL) {
		return THERMIONIC_ERR_PROTO;
	}
	while (end < text + len && strchr(" \t\r\n", *end) != NULL &&
	       *end != '\0') {
		end++;
	}
	if (end != text + len) {
		cJSON_Delete(root);
		return THERMIONIC_ERR_PROTO;
	}
	if (!json_attach(root, &scan)) {
		cJSON_Delete(root);
		return THERMIONIC_ERR_NOMEM;
	}
	*out = root;
	return THERMIONIC_OK;
}

static bool json_int_literal(const char *lit)
{
	return lit != NULL && lit[0] != '\0' && strpbrk(lit, ".eE") == NULL;
}

bool tmc_json_int64(const cJSON *item, int64_t *out)
{
	const char *lit;
	char *end;
	long long v;

	if (!cJSON_IsNumber(item) || !json_int_literal(item->valuestring)) {
		return false;
	}
	lit = item->valuestring;
	errno = 0;
	v = strtoll(lit, &end, 10);
	if (errno != 0 || *end != '\0') {
		return false;
	}
	*out = (int64_t)v;
	return true;
}

bool tmc_json_is_real(const cJSON *item)
{
	return cJSON_IsNumber(item) && item->valuestring != NULL &&
	       item->valuestring[0] != '\0' &&
	       !json_int_literal(item->valuestring);
}

cJSON *tmc_json_int64_item(int64_t i)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%lld", (long long)i);
	return cJSON_CreateRaw(buf);
}

const char *tmc_real_text(double r, char *buf)
{
	/* 17 significant digits always read back exactly; fewer often do
	 * and read better ("0.1", not "0.10000000000000001"). */
	for (int digits = 15; digits <= 17; digits++) {
		snprintf(buf, 32, "%.*g", digits, r);
		if (!islessgreater(strtod(buf, NULL), r)) {
			break;
		}
	}
	if (strpbrk(buf, ".eEni") == NULL) {
		strcat(buf, ".0");
	}
	return buf;
}

cJSON *tmc_json_real_item(double r)
{
	char buf[32];
	if (!isfinite(r)) {
		return NULL;
	}
	return cJSON_CreateRaw(tmc_real_text(r, buf));
}

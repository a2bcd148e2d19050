#include "internal/rest/route.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "internal/lib/mem.h"
#include "internal/rest/request.h"

struct segments {
	char **items; /* owned, decoded */
	size_t n;
};

static void segments_free(struct segments *s)
{
	for (size_t i = 0; i < s->n; i++) {
		tm_free(s->items[i]);
	}
	tm_free(s->items);
}

/* Split RAW_PATH at '/' and decode each segment. "/" has no segment. */
static bool segments_split(const char *raw_path, struct segments *s)
{
	s->items = NULL;
	s->n = 0;
	const char *p = raw_path;
	if (*p == '/') {
		p++;
	}
	if (*p == '\0') {
		return true;
	}
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t len = slash != NULL ? (size_t)(slash - p) : strlen(p);
		char *seg;
		if (rest_percent_decode(p, len, false, &seg) != 0) {
			segments_free(s);
			return false;
		}
		s->items = tm_realloc(s->items, (s->n + 1) * sizeof *s->items);
		s->items[s->n++] = seg;
		if (slash == NULL) {
			return true;
		}
		p = slash + 1;
	}
}

/* Does PATTERN match S? *WILD tells whether it ended in "{}". */
static bool route_matches(const char *pattern, const struct segments *s,
			  bool *wild)
{
	const char *p = pattern;
	size_t i = 0;
	*wild = false;
	if (*p == '/') {
		p++;
	}
	while (*p != '\0') {
		const char *slash = strchr(p, '/');
		size_t len = slash != NULL ? (size_t)(slash - p) : strlen(p);
		if (i == s->n) {
			return false;
		}
		if (slash == NULL && len == 2 && memcmp(p, "{}", 2) == 0) {
			*wild = true;
			if (s->items[i][0] == '\0') {
				return false;
			}
		} else if (strlen(s->items[i]) != len ||
			   memcmp(s->items[i], p, len) != 0) {
			return false;
		}
		i++;
		if (slash == NULL) {
			break;
		}
		p = slash + 1;
	}
	return i == s->n;
}

const struct rest_route *rest_route_find(const struct rest_route *routes,
					 size_t n_routes, const char *raw_path,
					 char **param)
{
	struct segments s;
	const struct rest_route *found = NULL;
	*param = NULL;
	if (!segments_split(raw_path, &s)) {
		return NULL;
	}
	/* Two passes: exact routes first, then "/{}" routes. */
	for (int pass = 0; pass < 2 && found == NULL; pass++) {
		for (size_t i = 0; i < n_routes; i++) {
			bool wild;
			if (!route_matches(routes[i].path, &s, &wild) ||
			    wild != (pass == 1)) {
				continue;
			}
			found = &routes[i];
			if (wild) {
				*param = tm_strdup(s.items[s.n - 1]);
			}
			break;
		}
	}
	segments_free(&s);
	return found;
}

rest_handler rest_route_handler(const struct rest_route *r,
				enum http_method method)
{
	switch (method) {
	case HTTP_GET:
		return r->get;
	case HTTP_PUT:
		return r->put;
	case HTTP_PATCH:
		return r->patch;
	case HTTP_POST:
		return r->post;
	case HTTP_DELETE:
		return r->delete;
	default:
		return NULL;
	}
}

void rest_route_allow(const struct rest_route *r, char *buf, size_t size)
{
	static const struct {
		enum http_method method;
		const char *name;
	} methods[] = {
		{HTTP_GET, "GET"},     {HTTP_PUT, "PUT"},
		{HTTP_PATCH, "PATCH"}, {HTTP_POST, "POST"},
		{HTTP_DELETE, "DELETE"},
	};
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
		if (rest_route_handler(r, methods[i].method) == NULL) {
			continue;
		}
		int n = snprintf(buf + used, size - used, "%s%s",
				 used > 0 ? ", " : "", methods[i].name);
		if (n < 0 || (size_t)n >= size - used) {
			break;
		}
		used += (size_t)n;
	}
}

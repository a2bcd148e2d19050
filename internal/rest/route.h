/* Route lookup, I/O-free (private to rest). */
#ifndef TM_REST_ROUTE_H
#define TM_REST_ROUTE_H

#include <stddef.h>

#include <http_parser.h>

#include "internal/rest/rest.h"

/* The route for RAW_PATH (normalised, still percent-encoded), compared
 * segment by segment after decoding each segment. Exact routes win over
 * "/{}" routes. For a "/{}" route *PARAM receives the decoded last segment
 * (owned, tm_free), otherwise NULL. NULL if no route matches. */
const struct rest_route *rest_route_find(const struct rest_route *routes,
					 size_t n_routes, const char *raw_path,
					 char **param);

/* The handler of R for METHOD, or NULL. */
rest_handler rest_route_handler(const struct rest_route *r,
				enum http_method method);

/* "GET, PUT" for the methods R handles, into BUF of SIZE bytes. */
void rest_route_allow(const struct rest_route *r, char *buf, size_t size);

#endif /* TM_REST_ROUTE_H */

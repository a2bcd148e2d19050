/* I/O-free HTTP/1.1 request parsing on top of http_parser (private to rest).
 *
 * Bytes are fed as they arrive; the parser stops right after one complete
 * request so that the caller handles one request at a time, and reports how
 * many bytes it used: the rest belongs to the next request (pipelining) or,
 * after an upgrade, to the new protocol. Size limits are enforced while
 * parsing: the request line and headers against max_header_bytes (431), the
 * body against max_body_bytes, from Content-Length before any body byte is
 * read and while reading a chunked body (413). A transfer coding other
 * than chunked is refused (501). Once the headers are complete, an optional
 * callback may refuse the request or lower its body limit before any body
 * byte is read (authorisation). Any other syntax error is a 400 carrying
 * http_parser's description. */
#ifndef TM_REST_REQUEST_H
#define TM_REST_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include <http_parser.h>

#include "internal/lib/err.h"
#include "internal/rest/rest.h"

struct rest_header {
	char *name;  /* owned */
	char *value; /* owned, without surrounding whitespace */
};

struct rest_param {
	char *name;  /* owned, percent-decoded */
	char *value; /* owned, percent-decoded, "" when absent */
};

/* One complete request. Everything is owned by the message. */
struct rest_message {
	enum http_method method;
	const char *method_name; /* static string */
	char *target;            /* request target as sent */
	char *raw_path;          /* path without trailing '/', still encoded */
	char *path;              /* the same, percent-decoded */
	struct rest_param *query;
	size_t n_query;
	struct rest_header *headers;
	size_t n_headers;
	char *body; /* NUL-terminated for convenience; never NULL */
	size_t body_len;
	unsigned short http_major;
	unsigned short http_minor;
	bool has_body;	 /* Content-Length > 0 or chunked */
	bool keep_alive; /* HTTP/1.1 default, Connection: close, HTTP/1.0 */
	bool upgrade;    /* Connection: Upgrade + Upgrade: ... */
};

void rest_message_free(struct rest_message *m);
/* Case-insensitive; first match; borrowed; NULL if absent. */
const char *rest_message_header(const struct rest_message *m,
				const char *name);
/* First parameter named NAME; borrowed; NULL if absent. */
const char *rest_message_query(const struct rest_message *m,
			       const char *name);

enum rest_parse_result {
	REST_PARSE_MORE,  /* every byte used, the request is not complete */
	REST_PARSE_DONE,  /* a request is complete: rest_parser_take */
	REST_PARSE_ERROR, /* rest_parser_error_*; the stream is unusable */
};

/* Decides on a request from its headers, before any body byte is read:
 * returns 0 to go on (and may lower *MAX_BODY for this request), or an
 * HTTP status to refuse it with, ERRMSG (TM_ERRMSG_SIZE) saying why. M is
 * borrowed for the call. */
typedef int (*rest_headers_cb)(void *arg, const struct rest_message *m,
			       size_t *max_body, char *errmsg);

struct rest_parser {
	http_parser http;
	const struct rest_limits *limits; /* borrowed */
	rest_headers_cb headers_cb;	  /* may be NULL */
	void *headers_arg;
	struct rest_message *msg; /* being built, owned */
	size_t body_cap;
	size_t max_body;     /* of the current request */
	size_t header_bytes; /* fed while the headers were incomplete */
	bool started;        /* a byte of the current request was seen */
	bool headers_done;
	bool done;
	bool in_value; /* the last header callback was a value */
	bool want_continue;
	int error_status; /* HTTP status to answer with, 0 if none */
	char error[TM_ERRMSG_SIZE];
};

/* LIMITS is borrowed and read on every feed (changes apply at once). */
void rest_parser_init(struct rest_parser *p, const struct rest_limits *limits);
void rest_parser_close(struct rest_parser *p);
/* Called for every request once its headers are complete. */
void rest_parser_set_headers_cb(struct rest_parser *p, rest_headers_cb cb,
				void *arg);

/* Feed LEN bytes of BUF; *CONSUMED is how many were used (all of them
 * unless DONE or ERROR). After DONE, take the message before feeding the
 * bytes that follow it. */
enum rest_parse_result rest_parser_feed(struct rest_parser *p, const char *buf,
					size_t len, size_t *consumed);
/* The request, owned by the caller; the parser is ready for the next. */
struct rest_message *rest_parser_take(struct rest_parser *p);
/* Some byte of a request has arrived and the request is not complete. */
bool rest_parser_started(const struct rest_parser *p);
/* True once, when the headers asked for "Expect: 100-continue" and were
 * accepted: the caller should send an interim 100 response. */
bool rest_parser_take_continue(struct rest_parser *p);
int rest_parser_error_status(const struct rest_parser *p);
const char *rest_parser_error(const struct rest_parser *p);

/* Percent-decode LEN bytes of IN into a new NUL-terminated string (owned,
 * tm_free). PLUS_IS_SPACE decodes '+' as ' ' (query strings). Fails with
 * TM_INVALID on a malformed escape or an encoded NUL. */
int rest_percent_decode(const char *in, size_t len, bool plus_is_space,
			char **out);

#endif /* TM_REST_REQUEST_H */

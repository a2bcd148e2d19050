/* I/O-free parts of the server: request parsing, percent-decoding, route
 * lookup, If-Match comparison. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "internal/lib/err.h"
#include "internal/lib/mem.h"
#include "internal/rest/request.h"
#include "internal/rest/route.h"

static const struct rest_limits default_limits = {
	.max_header_bytes = 16 * 1024,
	.max_body_bytes = 8 * 1024 * 1024,
	.read_timeout_ms = 30000,
	.idle_timeout_ms = 60000,
};

struct parsed {
	enum rest_parse_result result;
	struct rest_message *msg; /* when DONE */
	size_t consumed;
	int status;
	char error[TM_ERRMSG_SIZE];
};

/* Feed S in pieces of STEP bytes (0: all at once) until a request is
 * complete, an error occurs or the input is used up. */
static void parse_steps(const struct rest_limits *limits, const char *s,
			size_t len, size_t step, struct parsed *out)
{
	struct rest_parser p;
	rest_parser_init(&p, limits);
	memset(out, 0, sizeof *out);
	out->result = REST_PARSE_MORE;
	size_t off = 0;
	while (off < len) {
		size_t n = step == 0 || len - off < step ? len - off : step;
		size_t used;
		out->result = rest_parser_feed(&p, s + off, n, &used);
		off += used;
		if (out->result != REST_PARSE_MORE) {
			break;
		}
		assert_int_equal(used, n);
	}
	out->consumed = off;
	if (out->result == REST_PARSE_DONE) {
		out->msg = rest_parser_take(&p);
	} else if (out->result == REST_PARSE_ERROR) {
		out->status = rest_parser_error_status(&p);
		snprintf(out->error, sizeof out->error, "%s",
			 rest_parser_error(&p));
	}
	rest_parser_close(&p);
}

static void parse(const char *s, struct parsed *out)
{
	parse_steps(&default_limits, s, strlen(s), 0, out);
}

static void parsed_free(struct parsed *p)
{
	if (p->msg != NULL) {
		rest_message_free(p->msg);
		p->msg = NULL;
	}
}

static void assert_parse_error(const char *s, int status, const char *error)
{
	struct parsed p;
	parse(s, &p);
	assert_int_equal(p.result, REST_PARSE_ERROR);
	assert_int_equal(p.status, status);
	assert_string_equal(p.error, error);
	parsed_free(&p);
}

static void test_simple_get(void **state)
{
	(void)state;
	struct parsed p;
	parse("GET /1.0/config HTTP/1.1\r\nHost: x\r\n"
	      "X-Thing:  spaced value  \r\n\r\n",
	      &p);
	assert_int_equal(p.result, REST_PARSE_DONE);
	assert_string_equal(p.msg->method_name, "GET");
	assert_string_equal(p.msg->path, "/1.0/config");
	assert_string_equal(p.msg->target, "/1.0/config");
	assert_string_equal(rest_message_header(p.msg, "host"), "x");
	assert_string_equal(rest_message_header(p.msg, "X-THING"),
			    "spaced value");
	assert_null(rest_message_header(p.msg, "Missing"));
	assert_true(p.msg->keep_alive);
	assert_false(p.msg->upgrade);
	assert_int_equal(p.msg->body_len, 0);
	assert_string_equal(p.msg->body, "");
	parsed_free(&p);
}

static void test_body_content_length(void **state)
{
	(void)state;
	struct parsed p;
	const char *req = "PUT /1.0 HTTP/1.1\r\nContent-Length: 11\r\n\r\n"
			  "{\"a\":\"b\"}\r\n";
	/* Byte by byte gives the same result as all at once. */
	for (size_t step = 0; step < 3; step++) {
		parse_steps(&default_limits, req, strlen(req), step, &p);
		assert_int_equal(p.result, REST_PARSE_DONE);
		assert_int_equal(p.consumed, strlen(req));
		assert_string_equal(p.msg->method_name, "PUT");
		assert_int_equal(p.msg->body_len, 11);
		assert_string_equal(p.msg->body, "{\"a\":\"b\"}\r\n");
		parsed_free(&p);
	}
}

static void test_chunked_body(void **state)
{
	(void)state;
	struct parsed p;
	const char *req = "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
			  "\r\n4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n";
	parse_steps(&default_limits, req, strlen(req), 1, &p);
	assert_int_equal(p.result, REST_PARSE_DONE);
	assert_string_equal(p.msg->body, "abcdefg");
	assert_int_equal(p.msg->body_len, 7);
	parsed_free(&p);
}

static void test_trailers_ignored(void **state)
{
	(void)state;
	struct parsed p;
	parse("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
	      "X-Before: 1\r\n\r\n2\r\nab\r\n0\r\nX-After: 2\r\n\r\n",
	      &p);
	assert_int_equal(p.result, REST_PARSE_DONE);
	assert_string_equal(p.msg->body, "ab");
	assert_string_equal(rest_message_header(p.msg, "X-Before"), "1");
	assert_null(rest_message_header(p.msg, "X-After"));
	parsed_free(&p);
}

static void test_malformed_request_line(void **state)
{
	(void)state;
	assert_parse_error("G@T / HTTP/1.1\r\n\r\n", 400,
			   "malformed request: invalid HTTP method");
	assert_parse_error("GET /a b HTTP/1.1\r\n\r\n", 400,
			   "malformed request: invalid constant string");
	assert_parse_error("GET  HTTP/1.1\r\n\r\n", 400,
			   "malformed request: invalid URL");
	assert_parse_error("hello\r\n\r\n", 400,
			   "malformed request: invalid HTTP method");
}

static void test_bad_header_syntax(void **state)
{
	(void)state;
	assert_parse_error("GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400,
			   "malformed request: invalid character in header");
	assert_parse_error("GET / HTTP/1.1\r\nA(: b\r\n\r\n", 400,
			   "malformed request: invalid character in header");
	assert_parse_error("GET / HTTP/1.1\r\nA: b\rX\r\n\r\n", 400,
			   "malformed request: LF character expected");
	assert_parse_error("GET / HTTP/1.1\r\nContent-Length: x1\r\n\r\n",
			   400,
			   "malformed request: invalid character in "
			   "content-length header");
}

/* A request whose request line + headers take exactly N bytes. */
static char *request_of_header_size(size_t n)
{
	const char *start = "GET / HTTP/1.1\r\nX-Pad: ";
	const char *end = "\r\n\r\n";
	size_t fixed = strlen(start) + strlen(end);
	assert_true(n > fixed);
	char *s = tm_malloc(n + 1);
	memset(s, 'p', n);
	memcpy(s, start, strlen(start));
	memcpy(s + n - strlen(end), end, strlen(end));
	s[n] = '\0';
	assert_int_equal(strlen(s), n);
	return s;
}

static void test_oversized_headers(void **state)
{
	(void)state;
	struct rest_limits limits = default_limits;
	limits.max_header_bytes = 100;
	struct parsed p;
	for (size_t step = 0; step < 2; step++) {
		char *ok = request_of_header_size(100);
		parse_steps(&limits, ok, strlen(ok), step, &p);
		assert_int_equal(p.result, REST_PARSE_DONE);
		parsed_free(&p);
		tm_free(ok);

		char *big = request_of_header_size(101);
		parse_steps(&limits, big, strlen(big), step, &p);
		assert_int_equal(p.result, REST_PARSE_ERROR);
		assert_int_equal(p.status, 431);
		assert_string_equal(p.error, "request headers too large");
		tm_free(big);
	}
	/* The default 16 KiB limit. */
	char *huge = request_of_header_size(16 * 1024 + 1);
	parse_steps(&default_limits, huge, strlen(huge), 0, &p);
	assert_int_equal(p.status, 431);
	tm_free(huge);
}

static void test_oversized_content_length(void **state)
{
	(void)state;
	struct parsed p;
	/* Refused from the header alone, before any body byte. */
	parse("PUT / HTTP/1.1\r\nContent-Length: 8388609\r\n\r\n", &p);
	assert_int_equal(p.result, REST_PARSE_ERROR);
	assert_int_equal(p.status, 413);
	assert_string_equal(p.error,
			    "request body too large (limit 8388608 bytes)");
	/* The limit itself is fine. */
	parse("PUT / HTTP/1.1\r\nContent-Length: 8388608\r\n\r\n", &p);
	assert_int_equal(p.result, REST_PARSE_MORE);

	struct rest_limits limits = default_limits;
	limits.max_body_bytes = 10;
	const char *req = "PUT / HTTP/1.1\r\nContent-Length: 11\r\n\r\n";
	parse_steps(&limits, req, strlen(req), 0, &p);
	assert_int_equal(p.status, 413);
	assert_string_equal(p.error, "request body too large (limit 10 bytes)");
}

static void test_oversized_chunked_body(void **state)
{
	(void)state;
	struct rest_limits limits = default_limits;
	limits.max_body_bytes = 10;
	struct parsed p;
	const char *ok = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
			 "5\r\n12345\r\n5\r\n67890\r\n0\r\n\r\n";
	parse_steps(&limits, ok, strlen(ok), 0, &p);
	assert_int_equal(p.result, REST_PARSE_DONE);
	assert_int_equal(p.msg->body_len, 10);
	parsed_free(&p);

	const char *big = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
			  "\r\n5\r\n12345\r\n6\r\n678901\r\n0\r\n\r\n";
	for (size_t step = 0; step < 2; step++) {
		parse_steps(&limits, big, strlen(big), step, &p);
		assert_int_equal(p.result, REST_PARSE_ERROR);
		assert_int_equal(p.status, 413);
		assert_string_equal(p.error,
				    "request body too large (limit 10 bytes)");
	}
}

static void test_bad_chunk_encoding(void **state)
{
	(void)state;
	assert_parse_error("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
			   "\r\nzz\r\nabc\r\n0\r\n\r\n",
			   400,
			   "malformed request: invalid character in chunk "
			   "size header");
	assert_parse_error("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
			   "\r\n3\r\nabcX\r\n0\r\n\r\n",
			   400,
			   "malformed request: invalid character in chunk "
			   "size header");
	assert_parse_error("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
			   "\r\nfffffffffffffffff\r\n",
			   400, "malformed request: chunk size too large");
	/* A bad Content-Length header keeps http_parser's words. */
	assert_parse_error("POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", 400,
			   "malformed request: invalid character in "
			   "content-length header");
}

static void test_unimplemented_transfer_coding(void **state)
{
	(void)state;
	assert_parse_error("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, "
			   "chunked\r\n\r\n5\r\nabcde\r\n0\r\n\r\n",
			   501,
			   "transfer coding \"gzip\" is not implemented (send "
			   "the body as is, with Content-Length or "
			   "Transfer-Encoding: chunked)");
	assert_parse_error("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
			   "Transfer-Encoding: x-custom ,chunked\r\n\r\n",
			   501,
			   "transfer coding \"x-custom\" is not implemented "
			   "(send the body as is, with Content-Length or "
			   "Transfer-Encoding: chunked)");
	assert_parse_error("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n"
			   "\r\n",
			   501,
			   "transfer coding \"gzip\" is not implemented (send "
			   "the body as is, with Content-Length or "
			   "Transfer-Encoding: chunked)");
	struct parsed p;
	parse("POST / HTTP/1.1\r\nTransfer-Encoding:  Chunked \r\n\r\n"
	      "3\r\nabc\r\n0\r\n\r\n",
	      &p);
	assert_int_equal(p.result, REST_PARSE_DONE);
	assert_string_equal(p.msg->body, "abc");
	assert_true(p.msg->has_body);
	parsed_free(&p);
}

struct hook {
	int calls;
	int status;
	size_t max_body;
	bool saw_body;
};

static int hook_cb(void *arg, const struct rest_message *m, size_t *max_body,
		   char *errmsg)
{
	struct hook *h = arg;
	h->calls++;
	h->saw_body = m->has_body;
	assert_int_equal(m->body_len, 0); /* before any body byte */
	if (h->status != 0) {
		tm_errmsg_printf(errmsg, "refused by the hook");
		return h->status;
	}
	*max_body = h->max_body;
	return 0;
}

static enum rest_parse_result feed_hooked(struct hook *h, const char *s,
					  size_t *used, char *error)
{
	struct rest_parser p;
	rest_parser_init(&p, &default_limits);
	rest_parser_set_headers_cb(&p, hook_cb, h);
	enum rest_parse_result r = rest_parser_feed(&p, s, strlen(s), used);
	if (r == REST_PARSE_DONE) {
		rest_message_free(rest_parser_take(&p));
	} else if (r == REST_PARSE_ERROR) {
		snprintf(error, TM_ERRMSG_SIZE, "%d %s",
			 rest_parser_error_status(&p), rest_parser_error(&p));
	}
	rest_parser_close(&p);
	return r;
}

static void test_headers_hook(void **state)
{
	(void)state;
	const char *big = "PUT /x HTTP/1.1\r\nContent-Length: 8388608\r\n\r\n"
			  "some of the body";
	struct hook h = {0, 403, 0, false};
	char error[TM_ERRMSG_SIZE];
	size_t used;
	/* Refused from the headers: the body is not read. */
	assert_int_equal(feed_hooked(&h, big, &used, error), REST_PARSE_ERROR);
	assert_string_equal(error, "403 refused by the hook");
	assert_int_equal(h.calls, 1);
	assert_true(h.saw_body);
	assert_true(used < strlen(big));
	/* Accepted with a lower body limit. */
	h = (struct hook){0, 0, 4, false};
	assert_int_equal(feed_hooked(&h, big, &used, error), REST_PARSE_ERROR);
	assert_string_equal(error,
			    "413 request body too large (limit 4 bytes)");
	const char *chunked = "POST /x HTTP/1.1\r\nTransfer-Encoding: "
			      "chunked\r\n\r\n5\r\nabcde\r\n0\r\n\r\n";
	assert_int_equal(feed_hooked(&h, chunked, &used, error),
			 REST_PARSE_ERROR);
	assert_string_equal(error,
			    "413 request body too large (limit 4 bytes)");
	const char *get = "GET /x HTTP/1.1\r\n\r\n";
	h = (struct hook){0, 0, 0, true};
	assert_int_equal(feed_hooked(&h, get, &used, error), REST_PARSE_DONE);
	assert_false(h.saw_body);
}

static void test_pipelined(void **state)
{
	(void)state;
	const char *in = "GET /a HTTP/1.1\r\n\r\n"
			 "PUT /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz"
			 "GET /c HT";
	size_t len = strlen(in);
	struct rest_parser p;
	rest_parser_init(&p, &default_limits);
	size_t off = 0;
	size_t used;

	assert_int_equal(rest_parser_feed(&p, in, len, &used),
			 REST_PARSE_DONE);
	assert_int_equal(used, strlen("GET /a HTTP/1.1\r\n\r\n"));
	struct rest_message *m = rest_parser_take(&p);
	assert_string_equal(m->path, "/a");
	rest_message_free(m);
	off += used;
	assert_false(rest_parser_started(&p));

	assert_int_equal(rest_parser_feed(&p, in + off, len - off, &used),
			 REST_PARSE_DONE);
	m = rest_parser_take(&p);
	assert_string_equal(m->path, "/b");
	assert_string_equal(m->body, "xyz");
	rest_message_free(m);
	off += used;
	assert_string_equal(in + off, "GET /c HT");

	assert_int_equal(rest_parser_feed(&p, in + off, len - off, &used),
			 REST_PARSE_MORE);
	assert_int_equal(used, len - off);
	assert_true(rest_parser_started(&p));
	const char *rest = "TP/1.1\r\n\r\n";
	assert_int_equal(rest_parser_feed(&p, rest, strlen(rest), &used),
			 REST_PARSE_DONE);
	m = rest_parser_take(&p);
	assert_string_equal(m->path, "/c");
	rest_message_free(m);
	rest_parser_close(&p);
}

static void test_percent_decoding(void **state)
{
	(void)state;
	struct parsed p;
	parse("GET /1.0/items/a%20b%2Fc/?x=1&name=x%3Dy&flag&sp=a+b%2B"
	      "&empty=&x=2 HTTP/1.1\r\n\r\n",
	      &p);
	assert_int_equal(p.result, REST_PARSE_DONE);
	assert_string_equal(p.msg->path, "/1.0/items/a b/c");
	assert_string_equal(p.msg->raw_path, "/1.0/items/a%20b%2Fc");
	assert_string_equal(rest_message_query(p.msg, "x"), "1");
	assert_string_equal(rest_message_query(p.msg, "name"), "x=y");
	assert_string_equal(rest_message_query(p.msg, "flag"), "");
	assert_string_equal(rest_message_query(p.msg, "sp"), "a b+");
	assert_string_equal(rest_message_query(p.msg, "empty"), "");
	assert_null(rest_message_query(p.msg, "missing"));
	parsed_free(&p);

	assert_parse_error("GET /a%zz HTTP/1.1\r\n\r\n", 400,
			   "malformed request: invalid percent-encoding in "
			   "path");
	assert_parse_error("GET /a%00b HTTP/1.1\r\n\r\n", 400,
			   "malformed request: invalid percent-encoding in "
			   "path");
	assert_parse_error("GET /a?x=%4 HTTP/1.1\r\n\r\n", 400,
			   "malformed request: invalid percent-encoding in "
			   "query");
}

static void test_percent_decode_function(void **state)
{
	(void)state;
	char *out;
	assert_int_equal(rest_percent_decode("a%41%6a+", 8, false, &out), 0);
	assert_string_equal(out, "aAj+");
	tm_free(out);
	assert_int_equal(rest_percent_decode("a+b", 3, true, &out), 0);
	assert_string_equal(out, "a b");
	tm_free(out);
	assert_int_equal(rest_percent_decode("%", 1, false, &out), TM_INVALID);
	assert_int_equal(rest_percent_decode("%4", 2, false, &out),
			 TM_INVALID);
	assert_int_equal(rest_percent_decode("%g1", 3, false, &out),
			 TM_INVALID);
	/* LEN bounds the input even without a NUL. */
	assert_int_equal(rest_percent_decode("ab%41", 2, false, &out), 0);
	assert_string_equal(out, "ab");
	tm_free(out);
}

static void test_path_normalisation(void **state)
{
	(void)state;
	struct parsed p;
	parse("GET /1.0/ HTTP/1.1\r\n\r\n", &p);
	assert_string_equal(p.msg->path, "/1.0");
	parsed_free(&p);
	parse("GET /1.0/// HTTP/1.1\r\n\r\n", &p);
	assert_string_equal(p.msg->path, "/1.0");
	parsed_free(&p);
	parse("GET / HTTP/1.1\r\n\r\n", &p);
	assert_string_equal(p.msg->path, "/");
	parsed_free(&p);
	parse("GET http://host:8443/1.0/x?a=b HTTP/1.1\r\n\r\n", &p);
	assert_string_equal(p.msg->path, "/1.0/x");
	assert_string_equal(rest_message_query(p.msg, "a"), "b");
	parsed_free(&p);
}

static void test_keep_alive_rules(void **state)
{
	(void)state;
	struct parsed p;
	parse("GET / HTTP/1.0\r\n\r\n", &p);
	assert_false(p.msg->keep_alive);
	assert_int_equal(p.msg->http_minor, 0);
	parsed_free(&p);
	parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &p);
	assert_true(p.msg->keep_alive);
	parsed_free(&p);
	parse("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", &p);
	assert_false(p.msg->keep_alive);
	parsed_free(&p);
}

static void test_upgrade_leaves_extra_bytes(void **state)
{
	(void)state;
	const char *head = "GET /internal/raft HTTP/1.1\r\n"
			   "Connection: Upgrade\r\nUpgrade: raft\r\n\r\n";
	char in[256];
	snprintf(in, sizeof in, "%sRAFT\x01\x02", head);
	struct parsed p;
	parse_steps(&default_limits, in, strlen(in), 0, &p);
	assert_int_equal(p.result, REST_PARSE_DONE);
	assert_true(p.msg->upgrade);
	assert_int_equal(p.consumed, strlen(head));
	parsed_free(&p);
}

static void test_expect_continue(void **state)
{
	(void)state;
	struct rest_parser p;
	rest_parser_init(&p, &default_limits);
	const char *head = "PUT / HTTP/1.1\r\nExpect: 100-continue\r\n"
			   "Content-Length: 2\r\n\r\n";
	size_t used;
	assert_int_equal(rest_parser_feed(&p, head, strlen(head), &used),
			 REST_PARSE_MORE);
	assert_true(rest_parser_take_continue(&p));
	assert_false(rest_parser_take_continue(&p));
	assert_int_equal(rest_parser_feed(&p, "ok", 2, &used),
			 REST_PARSE_DONE);
	struct rest_message *m = rest_parser_take(&p);
	assert_string_equal(m->body, "ok");
	rest_message_free(m);
	rest_parser_close(&p);
}

static void test_incomplete_is_freed(void **state)
{
	(void)state;
	/* A parser closed mid-request frees what it holds (ASan checks). */
	struct parsed p;
	parse("PUT /x HTTP/1.1\r\nA: b\r\nContent-Length: 5\r\n\r\nab", &p);
	assert_int_equal(p.result, REST_PARSE_MORE);
}

static void h_dummy(struct rest_request *req)
{
	(void)req;
}

static const struct rest_route routes[] = {
	{.path = "/", .get = h_dummy},
	{.path = "/1.0", .get = h_dummy, .put = h_dummy, .patch = h_dummy},
	{.path = "/1.0/items/{}", .get = h_dummy, .delete = h_dummy},
	{.path = "/1.0/items/special", .post = h_dummy},
	{.path = "/1.0/items", .get = h_dummy, .post = h_dummy},
};

static const struct rest_route *find(const char *raw_path, char **param)
{
	return rest_route_find(routes, sizeof routes / sizeof routes[0],
			       raw_path, param);
}

static void test_routes(void **state)
{
	(void)state;
	char *param;
	assert_ptr_equal(find("/", &param), &routes[0]);
	assert_null(param);
	assert_ptr_equal(find("/1.0", &param), &routes[1]);
	assert_ptr_equal(find("/1.0/items", &param), &routes[4]);
	assert_ptr_equal(find("/1.0/items/foo", &param), &routes[2]);
	assert_string_equal(param, "foo");
	tm_free(param);
	/* Exact routes win over "{}"; the segment is decoded first. */
	assert_ptr_equal(find("/1.0/items/special", &param), &routes[3]);
	assert_null(param);
	assert_ptr_equal(find("/1.0/items/spec%69al", &param), &routes[3]);
	assert_ptr_equal(find("/1.0/items/a%2Fb%20c", &param), &routes[2]);
	assert_string_equal(param, "a/b c");
	tm_free(param);
	assert_null(find("/1.0/items/a/b", &param));
	assert_null(find("/1.0//items", &param));
	assert_null(find("/1.0/items/", &param)); /* unnormalised, empty */
	assert_null(find("/2.0", &param));
	assert_null(find("/1.0/item", &param));
	assert_null(param);
}

static void test_allow(void **state)
{
	(void)state;
	char buf[64];
	rest_route_allow(&routes[1], buf, sizeof buf);
	assert_string_equal(buf, "GET, PUT, PATCH");
	rest_route_allow(&routes[2], buf, sizeof buf);
	assert_string_equal(buf, "GET, DELETE");
	assert_ptr_equal(rest_route_handler(&routes[2], HTTP_DELETE), h_dummy);
	assert_null(rest_route_handler(&routes[2], HTTP_PUT));
	assert_null(rest_route_handler(&routes[1], HTTP_OPTIONS));
}

static void test_etag_matches(void **state)
{
	(void)state;
	const char *tag = "015abd7f";
	assert_true(rest_etag_matches("\"015abd7f\"", tag));
	assert_true(rest_etag_matches("015abd7f", tag));
	assert_true(rest_etag_matches(" \"015abd7f\" ", tag));
	assert_true(rest_etag_matches("*", tag));
	assert_true(rest_etag_matches("\"x\", \"015abd7f\"", tag));
	assert_true(rest_etag_matches("\"015abd7f\"", "\"015abd7f\""));
	assert_false(rest_etag_matches("\"015abd7e\"", tag));
	assert_false(rest_etag_matches("W/\"015abd7f\"", tag));
	assert_false(rest_etag_matches("\"015abd7f", tag));
	assert_false(rest_etag_matches("", tag));
	assert_false(rest_etag_matches("\"\"", ""));
	assert_false(rest_etag_matches(NULL, tag));
	assert_false(rest_etag_matches("*", NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_simple_get),
	    cmocka_unit_test(test_body_content_length),
	    cmocka_unit_test(test_chunked_body),
	    cmocka_unit_test(test_trailers_ignored),
	    cmocka_unit_test(test_malformed_request_line),
	    cmocka_unit_test(test_bad_header_syntax),
	    cmocka_unit_test(test_oversized_headers),
	    cmocka_unit_test(test_oversized_content_length),
	    cmocka_unit_test(test_oversized_chunked_body),
	    cmocka_unit_test(test_bad_chunk_encoding),
	    cmocka_unit_test(test_unimplemented_transfer_coding),
	    cmocka_unit_test(test_headers_hook),
	    cmocka_unit_test(test_pipelined),
	    cmocka_unit_test(test_percent_decoding),
	    cmocka_unit_test(test_percent_decode_function),
	    cmocka_unit_test(test_path_normalisation),
	    cmocka_unit_test(test_keep_alive_rules),
	    cmocka_unit_test(test_upgrade_leaves_extra_bytes),
	    cmocka_unit_test(test_expect_continue),
	    cmocka_unit_test(test_incomplete_is_freed),
	    cmocka_unit_test(test_routes),
	    cmocka_unit_test(test_allow),
	    cmocka_unit_test(test_etag_matches),
	};
	return cmocka_run_group_tests_name("rest-request", tests, NULL, NULL);
}

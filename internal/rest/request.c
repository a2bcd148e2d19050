/* Request parsing; see request.h.
 *
 * The header limit is exact without relying on http_parser internals:
 * while the headers are incomplete, at most the remaining allowance is fed
 * in one call, so headers that are still incomplete once the allowance is
 * used up are over the limit. The message-complete callback pauses the
 * parser, which makes http_parser_execute return right after the request. */
#include "internal/rest/request.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "internal/lib/assert.h"
#include "internal/lib/mem.h"

/* Append N bytes of AT to the NUL-terminated string *S. */
static void append_str(char **s, const char *at, size_t n)
{
	size_t old = *s != NULL ? strlen(*s) : 0;
	*s = tm_realloc(*s, old + n + 1);
	memcpy(*s + old, at, n);
	(*s)[old + n] = '\0';
}

static int fail(struct rest_parser *p, int status, const char *msg)
{
	p->error_status = status;
	tm_errmsg_printf(p->error, "%s", msg);
	return -1;
}

static int fail_body_too_large(struct rest_parser *p)
{
	p->error_status = 413;
	tm_errmsg_printf(p->error, "request body too large (limit %zu bytes)",
			 p->max_body);
	return -1;
}

static int on_message_begin(http_parser *http)
{
	struct rest_parser *p = http->data;
	PRE(p->msg == NULL);
	p->msg = tm_calloc(1, sizeof *p->msg);
	p->msg->body = tm_calloc(1, 1);
	p->body_cap = 1;
	p->started = true;
	return 0;
}

static int on_url(http_parser *http, const char *at, size_t n)
{
	struct rest_parser *p = http->data;
	append_str(&p->msg->target, at, n);
	return 0;
}

/* Trailers of a chunked body also arrive through the header callbacks;
 * they are ignored (http_parser bounds their size). */
static int on_header_field(http_parser *http, const char *at, size_t n)
{
	struct rest_parser *p = http->data;
	struct rest_message *m = p->msg;
	if (p->headers_done) {
		return 0;
	}
	if (m->n_headers == 0 || p->in_value) {
		size_t size = (m->n_headers + 1) * sizeof *m->headers;
		m->headers = tm_realloc(m->headers, size);
		m->headers[m->n_headers].name = NULL;
		m->headers[m->n_headers].value = tm_calloc(1, 1);
		m->n_headers++;
		p->in_value = false;
	}
	append_str(&m->headers[m->n_headers - 1].name, at, n);
	return 0;
}

static int on_header_value(http_parser *http, const char *at, size_t n)
{
	struct rest_parser *p = http->data;
	struct rest_message *m = p->msg;
	if (p->headers_done) {
		return 0;
	}
	PRE(m->n_headers > 0);
	append_str(&m->headers[m->n_headers - 1].value, at, n);
	p->in_value = true;
	return 0;
}

static void trim_values(struct rest_message *m)
{
	for (size_t i = 0; i < m->n_headers; i++) {
		char *v = m->headers[i].value;
		size_t len = strlen(v);
		while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t')) {
			len--;
		}
		v[len] = '\0';
		size_t skip = strspn(v, " \t");
		memmove(v, v + skip, len - skip + 1);
	}
}

static bool query_add(struct rest_message *m, const char *at, size_t n)
{
	const char *eq = memchr(at, '=', n);
	size_t name_len = eq != NULL ? (size_t)(eq - at) : n;
	char *name;
	char *value;
	if (rest_percent_decode(at, name_len, true, &name) != 0) {
		return false;
	}
	if (eq == NULL) {
		value = tm_calloc(1, 1);
	} else if (rest_percent_decode(eq + 1, n - name_len - 1, true,
				       &value) != 0) {
		tm_free(name);
		return false;
	}
	m->query = tm_realloc(m->query, (m->n_query + 1) * sizeof *m->query);
	m->query[m->n_query].name = name;
	m->query[m->n_query].value = value;
	m->n_query++;
	return true;
}

static bool parse_query(struct rest_message *m, const char *q, size_t len)
{
	size_t i = 0;
	while (i < len) {
		const char *amp = memchr(q + i, '&', len - i);
		size_t end = amp != NULL ? (size_t)(amp - q) : len;
		if (end > i && !query_add(m, q + i, end - i)) {
			return false;
		}
		i = end + 1;
	}
	return true;
}

/* Split the target into a normalised path and decoded query parameters. */
static int parse_target(struct rest_parser *p)
{
	struct rest_message *m = p->msg;
	struct http_parser_url u;
	if (m->target == NULL) {
		return fail(p, 400, "malformed request: missing URL");
	}
	http_parser_url_init(&u);
	if (http_parser_parse_url(m->target, strlen(m->target), 0, &u) != 0) {
		return fail(p, 400, "malformed request: invalid URL");
	}
	const char *path = "/";
	size_t path_len = 1;
	if (u.field_set & (1 << UF_PATH)) {
		path = m->target + u.field_data[UF_PATH].off;
		path_len = u.field_data[UF_PATH].len;
	}
	while (path_len > 1 && path[path_len - 1] == '/') {
		path_len--;
	}
	m->raw_path = tm_strndup(path, path_len);
	if (rest_percent_decode(path, path_len, false, &m->path) != 0) {
		return fail(p, 400,
			    "malformed request: invalid percent-encoding in "
			    "path");
	}
	if ((u.field_set & (1 << UF_QUERY)) &&
	    !parse_query(m, m->target + u.field_data[UF_QUERY].off,
			 u.field_data[UF_QUERY].len)) {
		return fail(p, 400,
			    "malformed request: invalid percent-encoding in "
			    "query");
	}
	return 0;
}

/* Only "chunked" is implemented: a body in any other coding (gzip,
 * deflate...) would be taken for its encoded bytes. */
static int check_transfer_codings(struct rest_parser *p)
{
	const struct rest_message *m = p->msg;
	for (size_t i = 0; i < m->n_headers; i++) {
		if (m->headers[i].name == NULL ||
		    strcasecmp(m->headers[i].name, "Transfer-Encoding") != 0) {
			continue;
		}
		const char *v = m->headers[i].value;
		while (*v != '\0') {
			v += strspn(v, " \t,");
			size_t n = strcspn(v, ",");
			size_t len = n;
			while (len > 0 &&
			       (v[len - 1] == ' ' || v[len - 1] == '\t')) {
				len--;
			}
			if (len > 0 &&
			    !(len == 7 && strncasecmp(v, "chunked", 7) == 0)) {
				p->error_status = 501;
				tm_errmsg_printf(
				    p->error,
				    "transfer coding \"%.*s\" is not "
				    "implemented (send the body "
				    "as is, with Content-Length or "
				    "Transfer-Encoding: chunked)",
				    (int)(len < 64 ? len : 64), v);
				return -1;
			}
			v += n;
		}
	}
	return 0;
}

static bool message_has_body(const http_parser *http)
{
	return (http->flags & F_CHUNKED) != 0 ||
	       (http->content_length != UINT64_MAX && http->content_length > 0);
}

static int on_headers_complete(http_parser *http)
{
	struct rest_parser *p = http->data;
	struct rest_message *m = p->msg;
	p->headers_done = true;
	m->method = (enum http_method)http->method;
	m->method_name = http_method_str(m->method);
	m->http_major = http->http_major;
	m->http_minor = http->http_minor;
	m->has_body = message_has_body(http);
	trim_values(m);
	if (parse_target(p) != 0 || check_transfer_codings(p) != 0) {
		return -1;
	}
	p->max_body = p->limits->max_body_bytes;
	if (p->headers_cb != NULL) {
		int status =
		    p->headers_cb(p->headers_arg, m, &p->max_body, p->error);
		if (status != 0) {
			p->error_status = status;
			return -1;
		}
	}
	if (http->content_length != UINT64_MAX &&
	    http->content_length > p->max_body) {
		return fail_body_too_large(p);
	}
	const char *expect = rest_message_header(m, "Expect");
	if (expect != NULL && strcasecmp(expect, "100-continue") == 0 &&
	    http->http_minor >= 1) {
		p->want_continue = true;
	}
	return 0;
}

static int on_body(http_parser *http, const char *at, size_t n)
{
	struct rest_parser *p = http->data;
	struct rest_message *m = p->msg;
	if (n > p->max_body - m->body_len) {
		return fail_body_too_large(p);
	}
	if (m->body_len + n + 1 > p->body_cap) {
		size_t cap = p->body_cap < 256 ? 256 : p->body_cap;
		while (cap < m->body_len + n + 1) {
			cap *= 2;
		}
		m->body = tm_realloc(m->body, cap);
		p->body_cap = cap;
	}
	memcpy(m->body + m->body_len, at, n);
	m->body_len += n;
	m->body[m->body_len] = '\0';
	return 0;
}

static int on_message_complete(http_parser *http)
{
	struct rest_parser *p = http->data;
	p->msg->keep_alive = http_should_keep_alive(http) != 0;
	p->msg->upgrade = http->upgrade != 0;
	p->done = true;
	http_parser_pause(http, 1);
	return 0;
}

static const http_parser_settings settings = {
	.on_message_begin = on_message_begin,
	.on_url = on_url,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

void rest_parser_init(struct rest_parser *p, const struct rest_limits *limits)
{
	memset(p, 0, sizeof *p);
	http_parser_init(&p->http, HTTP_REQUEST);
	p->http.data = p;
	p->limits = limits;
}

void rest_parser_set_headers_cb(struct rest_parser *p, rest_headers_cb cb,
				void *arg)
{
	p->headers_cb = cb;
	p->headers_arg = arg;
}

void rest_parser_close(struct rest_parser *p)
{
	if (p->msg != NULL) {
		rest_message_free(p->msg);
		p->msg = NULL;
	}
}

static enum rest_parse_result parse_error(struct rest_parser *p)
{
	enum http_errno err = HTTP_PARSER_ERRNO(&p->http);
	if (p->error_status != 0) {
		return REST_PARSE_ERROR;
	}
	if (err == HPE_HEADER_OVERFLOW) {
		fail(p, 431, "request headers too large");
	} else if (err == HPE_INVALID_CONTENT_LENGTH && p->headers_done) {
		/* http_parser reports an overflowing chunk size as a bad
		 * content-length. */
		fail(p, 400, "malformed request: chunk size too large");
	} else {
		p->error_status = 400;
		tm_errmsg_printf(p->error, "malformed request: %s",
				 http_errno_description(err));
	}
	return REST_PARSE_ERROR;
}

enum rest_parse_result rest_parser_feed(struct rest_parser *p, const char *buf,
					size_t len, size_t *consumed)
{
	PRE(!p->done && p->error_status == 0);
	size_t off = 0;
	*consumed = 0;
	while (off < len) {
		size_t n = len - off;
		bool in_headers = !p->headers_done;
		if (in_headers) {
			size_t room = p->limits->max_header_bytes -
				      p->header_bytes;
			n = n < room ? n : room;
		}
		size_t used = http_parser_execute(&p->http, &settings,
						  buf + off, n);
		off += used;
		*consumed = off;
		if (in_headers) {
			p->header_bytes += used;
		}
		enum http_errno err = HTTP_PARSER_ERRNO(&p->http);
		if (err == HPE_PAUSED && p->done) {
			http_parser_pause(&p->http, 0);
			return REST_PARSE_DONE;
		}
		if (err != HPE_OK) {
			return parse_error(p);
		}
		if (!p->headers_done &&
		    p->header_bytes >= p->limits->max_header_bytes) {
			fail(p, 431, "request headers too large");
			return REST_PARSE_ERROR;
		}
		if (used < n) {
			/* http_parser stops early only on errors or after
			 * an upgrade request, which pauses first. */
			IMPOSSIBLE("http_parser stopped without a reason");
		}
	}
	return REST_PARSE_MORE;
}

struct rest_message *rest_parser_take(struct rest_parser *p)
{
	PRE(p->done && p->msg != NULL);
	struct rest_message *m = p->msg;
	p->msg = NULL;
	p->body_cap = 0;
	p->header_bytes = 0;
	p->started = false;
	p->headers_done = false;
	p->done = false;
	p->in_value = false;
	p->want_continue = false;
	return m;
}

bool rest_parser_started(const struct rest_parser *p)
{
	return p->started && !p->done;
}

bool rest_parser_take_continue(struct rest_parser *p)
{
	bool want = p->want_continue && !p->done && p->error_status == 0;
	p->want_continue = false;
	return want;
}

int rest_parser_error_status(const struct rest_parser *p)
{
	return p->error_status;
}

const char *rest_parser_error(const struct rest_parser *p)
{
	return p->error;
}

void rest_message_free(struct rest_message *m)
{
	for (size_t i = 0; i < m->n_headers; i++) {
		tm_free(m->headers[i].name);
		tm_free(m->headers[i].value);
	}
	for (size_t i = 0; i < m->n_query; i++) {
		tm_free(m->query[i].name);
		tm_free(m->query[i].value);
	}
	tm_free(m->headers);
	tm_free(m->query);
	tm_free(m->target);
	tm_free(m->raw_path);
	tm_free(m->path);
	tm_free(m->body);
	tm_free(m);
}

const char *rest_message_header(const struct rest_message *m,
				const char *name)
{
	for (size_t i = 0; i < m->n_headers; i++) {
		if (m->headers[i].name != NULL &&
		    strcasecmp(m->headers[i].name, name) == 0) {
			return m->headers[i].value;
		}
	}
	return NULL;
}

const char *rest_message_query(const struct rest_message *m,
			       const char *name)
{
	for (size_t i = 0; i < m->n_query; i++) {
		if (strcmp(m->query[i].name, name) == 0) {
			return m->query[i].value;
		}
	}
	return NULL;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	if (c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	return -1;
}

int rest_percent_decode(const char *in, size_t len, bool plus_is_space,
			char **out)
{
	char *s = tm_malloc(len + 1);
	size_t j = 0;
	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		if (c == '%') {
			if (len - i < 3) {
				goto err_malformed;
			}
			int h = hex_value(in[i + 1]);
			int l = hex_value(in[i + 2]);
			if (h < 0 || l < 0 || (h == 0 && l == 0)) {
				goto err_malformed;
			}
			s[j++] = (char)(h * 16 + l);
			i += 2;
		} else if (c == '+' && plus_is_space) {
			s[j++] = ' ';
		} else if (c == '\0') {
			goto err_malformed;
		} else {
			s[j++] = c;
		}
	}
	s[j] = '\0';
	*out = s;
	return 0;

err_malformed:
	tm_free(s);
	*out = NULL;
	return TM_INVALID;
}

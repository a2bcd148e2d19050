/* The raft tunnel handshake without I/O; see handshake.h and
 * doc/raft-transport.md.
 *
 * The answer parser bounds what a peer can make the dialer hold: the
 * status line and headers together HANDSHAKE_MAX_HEADER_BYTES (exactly:
 * while they are incomplete, at most the remaining allowance is fed in
 * one call, as in internal/rest/request.c), an error body
 * HANDSHAKE_MAX_BODY_BYTES. Of the headers it keeps only Upgrade and
 * Content-Type. */
#include "internal/raft/handshake.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "internal/lib/assert.h"
#include "internal/lib/mem.h"

/* ---- the request ---- */

static bool visible_ascii(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n > max) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch < 0x21 || ch > 0x7e) {
			return false;
		}
	}
	return true;
}

bool handshake_address_valid(const char *address)
{
	return address != NULL && visible_ascii(address, HANDSHAKE_MAX_ADDRESS);
}

int handshake_format_request(const char *host, raft_id id, const char *address,
			     char **out, size_t *len, char *errmsg)
{
	if (!handshake_address_valid(host)) {
		tm_errmsg_printf(errmsg,
				 "the address to dial is not 1 to %d visible "
				 "ASCII characters",
				 HANDSHAKE_MAX_ADDRESS);
		return TM_INVALID;
	}
	if (!handshake_address_valid(address)) {
		tm_errmsg_printf(errmsg,
				 "this member's raft address is not 1 to %d "
				 "visible ASCII characters",
				 HANDSHAKE_MAX_ADDRESS);
		return TM_INVALID;
	}
	if (id == 0) {
		tm_errmsg_printf(errmsg, "this member's raft id is 0");
		return TM_INVALID;
	}
	*out = tm_asprintf(
	    "GET " HANDSHAKE_PATH " HTTP/1.1\r\n"
	    "Host: %s\r\n"
	    "Connection: Upgrade\r\n"
	    "Upgrade: " HANDSHAKE_PROTOCOL "\r\n" HANDSHAKE_HEADER_VERSION
	    ": %d\r\n" HANDSHAKE_HEADER_ID ": %llu\r\n" HANDSHAKE_HEADER_ADDRESS
	    ": %s\r\n"
	    "\r\n",
	    host, HANDSHAKE_VERSION, (unsigned long long)id, address);
	*len = strlen(*out);
	return 0;
}

/* Does the comma-separated list VALUE hold TOKEN (case-insensitive,
 * optional whitespace around items)? */
static bool list_has_token(const char *value, const char *token)
{
	size_t token_len = strlen(token);
	const char *p = value;
	for (;;) {
		while (*p == ' ' || *p == '\t') {
			p++;
		}
		const char *end = strchr(p, ',');
		if (end == NULL) {
			end = p + strlen(p);
		}
		const char *last = end;
		while (last > p && (last[-1] == ' ' || last[-1] == '\t')) {
			last--;
		}
		if ((size_t)(last - p) == token_len &&
		    strncasecmp(p, token, token_len) == 0) {
			return true;
		}
		if (*end == '\0') {
			return false;
		}
		p = end + 1;
	}
}

/* A decimal number without sign, leading zeros or spaces, at most MAX. */
static bool parse_decimal(const char *s, uint64_t max, uint64_t *out)
{
	if (s == NULL || s[0] == '\0' || (s[0] == '0' && s[1] != '\0')) {
		return false;
	}
	uint64_t v = 0;
	for (const char *p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9') {
			return false;
		}
		unsigned digit = (unsigned)(*p - '0');
		if (v > (max - digit) / 10) {
			return false;
		}
		v = v * 10 + digit;
	}
	*out = v;
	return true;
}

/* Header values quoted in messages: at most 40 bytes, so that the message
 * stays readable and fits. */
#define QUOTE_MAX 40

int handshake_check_request(const struct handshake_request_headers *h,
			    struct handshake_hello *hello, char *errmsg)
{
	if (h->connection == NULL ||
	    !list_has_token(h->connection, "upgrade")) {
		tm_errmsg_printf(errmsg, "raft connections need the header "
					 "\"Connection: Upgrade\"");
		return 400;
	}
	if (h->upgrade == NULL ||
	    !list_has_token(h->upgrade, HANDSHAKE_PROTOCOL)) {
		tm_errmsg_printf(errmsg, "raft connections need the header "
					 "\"Upgrade: " HANDSHAKE_PROTOCOL "\"");
		return 400;
	}
	uint64_t v;
	if (h->version == NULL) {
		tm_errmsg_printf(errmsg,
				 "missing header " HANDSHAKE_HEADER_VERSION);
		return 400;
	}
	if (!parse_decimal(h->version, UINT32_MAX, &v)) {
		tm_errmsg_printf(errmsg,
				 "malformed header " HANDSHAKE_HEADER_VERSION
				 ": \"%.*s\" is not a version number",
				 QUOTE_MAX, h->version);
		return 400;
	}
	if (v != HANDSHAKE_VERSION) {
		tm_errmsg_printf(errmsg,
				 "raft protocol version %llu is not supported: "
				 "this member speaks version %d",
				 (unsigned long long)v, HANDSHAKE_VERSION);
		return 426;
	}
	hello->version = (unsigned)v;
	if (h->id == NULL) {
		tm_errmsg_printf(errmsg, "missing header " HANDSHAKE_HEADER_ID);
		return 400;
	}
	if (!parse_decimal(h->id, UINT64_MAX, &v) || v == 0) {
		tm_errmsg_printf(errmsg,
				 "malformed header " HANDSHAKE_HEADER_ID
				 ": \"%.*s\" is not a raft id (1 to "
				 "18446744073709551615)",
				 QUOTE_MAX, h->id);
		return 400;
	}
	hello->id = v;
	if (h->address == NULL) {
		tm_errmsg_printf(errmsg,
				 "missing header " HANDSHAKE_HEADER_ADDRESS);
		return 400;
	}
	if (!handshake_address_valid(h->address)) {
		tm_errmsg_printf(errmsg,
				 "malformed header " HANDSHAKE_HEADER_ADDRESS
				 ": not 1 to %d visible ASCII characters",
				 HANDSHAKE_MAX_ADDRESS);
		return 400;
	}
	hello->address = h->address;
	return 0;
}

/* ---- the answer ---- */

/* Append N bytes of AT to BUF (of SIZE bytes, *LEN used, kept
 * NUL-terminated); what does not fit is dropped. */
static void append_capped(char *buf, size_t size, size_t *len, const char *at,
			  size_t n)
{
	size_t room = size - 1 - *len;
	n = n < room ? n : room;
	memcpy(buf + *len, at, n);
	*len += n;
	buf[*len] = '\0';
}

static int on_header_field(http_parser *http, const char *at, size_t n)
{
	struct handshake_response *r = http->data;
	if (r->field_done) {
		r->field_done = false;
		r->field_len = 0;
		r->field[0] = '\0';
	}
	/* A name longer than the buffer cannot be one we keep: make it
	 * match nothing. */
	if (r->field_len + n >= sizeof r->field) {
		r->field_len = sizeof r->field - 1;
		memset(r->field, '-', r->field_len);
		r->field[r->field_len] = '\0';
		return 0;
	}
	append_capped(r->field, sizeof r->field, &r->field_len, at, n);
	return 0;
}

static int on_header_value(http_parser *http, const char *at, size_t n)
{
	struct handshake_response *r = http->data;
	if (!r->field_done) {
		r->field_done = true;
		r->in_upgrade_field = strcasecmp(r->field, "upgrade") == 0;
		r->in_content_type_field =
		    strcasecmp(r->field, "content-type") == 0;
		/* Several Upgrade headers make one list. */
		if (r->in_upgrade_field && r->upgrade_len > 0) {
			append_capped(r->upgrade, sizeof r->upgrade,
				      &r->upgrade_len, ",", 1);
		}
	}
	if (r->in_upgrade_field) {
		append_capped(r->upgrade, sizeof r->upgrade, &r->upgrade_len,
			      at, n);
	} else if (r->in_content_type_field) {
		append_capped(r->content_type, sizeof r->content_type,
			      &r->content_type_len, at, n);
	}
	return 0;
}

static int on_headers_complete(http_parser *http)
{
	struct handshake_response *r = http->data;
	r->headers_done = true;
	r->status = (int)http->status_code;
	/* The list may have been cut at the end of the buffer: then its last
	 * item is incomplete, and only complete items count. */
	if (r->upgrade_len < sizeof r->upgrade - 1) {
		r->upgrade_is_raft =
		    list_has_token(r->upgrade, HANDSHAKE_PROTOCOL);
	}
	return 0;
}

static int on_body(http_parser *http, const char *at, size_t n)
{
	struct handshake_response *r = http->data;
	if (n > HANDSHAKE_MAX_BODY_BYTES - r->body_len) {
		r->body_too_large = true;
		return -1;
	}
	r->body = tm_realloc(r->body, r->body_len + n + 1);
	memcpy(r->body + r->body_len, at, n);
	r->body_len += n;
	r->body[r->body_len] = '\0';
	return 0;
}

static int on_message_complete(http_parser *http)
{
	struct handshake_response *r = http->data;
	r->done = true;
	http_parser_pause(http, 1);
	return 0;
}

static const http_parser_settings settings = {
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

void handshake_response_init(struct handshake_response *r)
{
	memset(r, 0, sizeof *r);
	http_parser_init(&r->http, HTTP_RESPONSE);
	r->http.data = r;
}

void handshake_response_close(struct handshake_response *r)
{
	tm_free(r->body);
	r->body = NULL;
}

/* Copy the string S into OUT (SIZE bytes), each byte outside printable
 * ASCII replaced by '?': a peer's words end up in our log. */
static void copy_sanitized(char *out, size_t size, const char *s)
{
	size_t n = strlen(s);
	n = n < size - 1 ? n : size - 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		out[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	out[n] = '\0';
}

/* The "error" member of an error envelope, or the reason the status
 * stands for. */
static void refusal_message(struct handshake_response *r)
{
	const char *text = NULL;
	cJSON *json = NULL;
	if (r->body_len > 0) {
		json = cJSON_ParseWithLength(r->body, r->body_len);
	}
	const cJSON *error = cJSON_GetObjectItemCaseSensitive(json, "error");
	if (cJSON_IsString(error) && error->valuestring[0] != '\0') {
		text = error->valuestring;
	}
	if (text == NULL) {
		text = http_status_str((enum http_status)r->status);
	}
	copy_sanitized(r->message, sizeof r->message, text);
	cJSON_Delete(json);
}

static enum handshake_result invalid(struct handshake_response *r,
				     const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static enum handshake_result invalid(struct handshake_response *r,
				     const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->message, sizeof r->message, fmt, ap);
	va_end(ap);
	return HANDSHAKE_INVALID;
}

/* A complete answer: what does it say? */
static enum handshake_result judge(struct handshake_response *r)
{
	if (r->status == 101) {
		if (!r->upgrade_is_raft) {
			char upgrade[sizeof r->upgrade];
			copy_sanitized(upgrade, sizeof upgrade, r->upgrade);
			return invalid(r,
				       "answered 101 Switching Protocols "
				       "with Upgrade \"%s\", not \"%s\"",
				       upgrade, HANDSHAKE_PROTOCOL);
		}
		if (!r->http.upgrade) {
			return invalid(r, "answered 101 Switching Protocols "
					  "without \"Connection: Upgrade\"");
		}
		return HANDSHAKE_UPGRADED;
	}
	if (r->status >= 400 && r->status <= 599) {
		refusal_message(r);
		return HANDSHAKE_REFUSED;
	}
	return invalid(r, "answered %d instead of 101 Switching Protocols",
		       r->status);
}

static enum handshake_result parse_failed(struct handshake_response *r)
{
	if (r->body_too_large) {
		return invalid(r, "answer body larger than %d bytes",
			       HANDSHAKE_MAX_BODY_BYTES);
	}
	enum http_errno err = HTTP_PARSER_ERRNO(&r->http);
	if (err == HPE_HEADER_OVERFLOW) {
		return invalid(r, "answer headers larger than %d bytes",
			       HANDSHAKE_MAX_HEADER_BYTES);
	}
	return invalid(r, "malformed answer: %s", http_errno_description(err));
}

enum handshake_result handshake_response_feed(struct handshake_response *r,
					      const char *buf, size_t len,
					      size_t *consumed)
{
	PRE(!r->done);
	size_t off = 0;
	*consumed = 0;
	while (off < len) {
		size_t n = len - off;
		bool in_headers = !r->headers_done;
		if (in_headers) {
			size_t room =
			    HANDSHAKE_MAX_HEADER_BYTES - r->header_bytes;
			n = n < room ? n : room;
		}
		size_t used =
		    http_parser_execute(&r->http, &settings, buf + off, n);
		off += used;
		*consumed = off;
		if (in_headers) {
			r->header_bytes += used;
		}
		enum http_errno err = HTTP_PARSER_ERRNO(&r->http);
		if (r->done && (err == HPE_OK || err == HPE_PAUSED)) {
			/* A 1xx other than 101 is complete at its headers,
			 * and no answer of ours starts with one. */
			if (r->status >= 100 && r->status < 200 &&
			    r->status != 101) {
				return invalid(r,
					       "answered %d instead of 101 "
					       "Switching Protocols",
					       r->status);
			}
			return judge(r);
		}
		if (err != HPE_OK) {
			r->done = true;
			return parse_failed(r);
		}
		if (!r->headers_done &&
		    r->header_bytes >= HANDSHAKE_MAX_HEADER_BYTES) {
			r->done = true;
			return invalid(r, "answer headers larger than %d bytes",
				       HANDSHAKE_MAX_HEADER_BYTES);
		}
		if (used < n) {
			IMPOSSIBLE("http_parser stopped without a reason");
		}
	}
	return HANDSHAKE_MORE;
}

enum handshake_result handshake_response_eof(struct handshake_response *r)
{
	PRE(!r->done);
	http_parser_execute(&r->http, &settings, NULL, 0);
	enum http_errno err = HTTP_PARSER_ERRNO(&r->http);
	if (r->done && (err == HPE_OK || err == HPE_PAUSED)) {
		return judge(r);
	}
	r->done = true;
	if (r->header_bytes == 0) {
		return invalid(r, "connection closed without an answer");
	}
	return invalid(r, "connection closed in the middle of the answer");
}

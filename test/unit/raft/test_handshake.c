/* The raft tunnel handshake without I/O: the worked example of
 * doc/raft-transport.md byte for byte (read from the document itself),
 * the accepting side's checks of the request headers, and the dialer's
 * parser of the answer, whole and split at every byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "internal/lib/mem.h"
#include "internal/raft/handshake.h"
#include "test/unit/raft/doc_bytes.h"

#define DOC_REQUEST "#### The request"
#define DOC_UPGRADE "#### The answer: upgraded"
#define DOC_REFUSAL "#### An answer that refuses"

/* ---- the worked example ---- */

static void test_request_worked_example(void **state)
{
	(void)state;
	size_t doc_len;
	char *doc = doc_bytes(DOC_REQUEST, &doc_len);
	assert_int_equal(doc_len, 154);
	char *req;
	size_t len;
	char errmsg[TM_ERRMSG_SIZE];
	assert_int_equal(handshake_format_request("127.0.0.1:8443", 2,
						  "127.0.0.2:8443", &req, &len,
						  errmsg),
			 0);
	assert_int_equal(len, doc_len);
	assert_memory_equal(req, doc, len);
	tm_free(req);
	tm_free(doc);
}

/* The example's headers pass the accepting side's checks. */
static void test_request_worked_example_accepted(void **state)
{
	(void)state;
	struct handshake_request_headers h = {
	    .connection = "Upgrade",
	    .upgrade = "raft",
	    .version = "1",
	    .id = "2",
	    .address = "127.0.0.2:8443",
	};
	struct handshake_hello hello;
	char errmsg[TM_ERRMSG_SIZE];
	assert_int_equal(handshake_check_request(&h, &hello, errmsg), 0);
	assert_int_equal(hello.version, 1);
	assert_int_equal(hello.id, 2);
	assert_string_equal(hello.address, "127.0.0.2:8443");
}

static enum handshake_result feed_all(struct handshake_response *r,
				      const char *buf, size_t len,
				      size_t *consumed)
{
	handshake_response_init(r);
	return handshake_response_feed(r, buf, len, consumed);
}

static void test_upgrade_worked_example(void **state)
{
	(void)state;
	size_t doc_len;
	char *doc = doc_bytes(DOC_UPGRADE, &doc_len);
	assert_int_equal(doc_len, 72);
	/* raft's first bytes follow in the same read. */
	char *buf = tm_malloc(doc_len + 4);
	memcpy(buf, doc, doc_len);
	memcpy(buf + doc_len, "\x01\x00\x00\x00", 4);
	struct handshake_response r;
	size_t used;
	assert_int_equal(feed_all(&r, buf, doc_len + 4, &used),
			 HANDSHAKE_UPGRADED);
	assert_int_equal(used, doc_len);
	assert_int_equal(r.status, 101);
	handshake_response_close(&r);
	tm_free(buf);
	tm_free(doc);
}

static void test_refusal_worked_example(void **state)
{
	(void)state;
	size_t doc_len;
	char *doc = doc_bytes(DOC_REFUSAL, &doc_len);
	struct handshake_response r;
	size_t used;
	assert_int_equal(feed_all(&r, doc, doc_len, &used), HANDSHAKE_REFUSED);
	assert_int_equal(r.status, 404);
	assert_string_equal(r.message, "this member is not part of a cluster");
	handshake_response_close(&r);
	tm_free(doc);
}

/* Whatever way the answer is cut into two reads, the outcome is the
 * same. */
static void check_split(const char *buf, size_t len, enum handshake_result want,
			size_t want_used)
{
	for (size_t cut = 0; cut <= len; cut++) {
		struct handshake_response r;
		size_t used = 0;
		handshake_response_init(&r);
		enum handshake_result res =
		    handshake_response_feed(&r, buf, cut, &used);
		size_t total = used;
		if (res == HANDSHAKE_MORE) {
			assert_int_equal(used, cut);
			res = handshake_response_feed(&r, buf + cut, len - cut,
						      &used);
			total += used;
		}
		assert_int_equal(res, want);
		if (want == HANDSHAKE_UPGRADED) {
			assert_int_equal(total, want_used);
		}
		handshake_response_close(&r);
	}
}

static void test_split_everywhere(void **state)
{
	(void)state;
	size_t len;
	char *doc = doc_bytes(DOC_UPGRADE, &len);
	char *buf = tm_malloc(len + 3);
	memcpy(buf, doc, len);
	memcpy(buf + len, "xyz", 3);
	check_split(buf, len + 3, HANDSHAKE_UPGRADED, len);
	tm_free(buf);
	tm_free(doc);
	doc = doc_bytes(DOC_REFUSAL, &len);
	check_split(doc, len, HANDSHAKE_REFUSED, 0);
	tm_free(doc);
}

/* ---- the request, checked by the accepting side ---- */

struct request_case {
	const char *connection;
	const char *upgrade;
	const char *version;
	const char *id;
	const char *address;
	int status;	  /* 0: accepted */
	const char *says; /* in the message */
};

static char long_address[HANDSHAKE_MAX_ADDRESS + 2];
static char longest_address[HANDSHAKE_MAX_ADDRESS + 1];

static void test_request_checks(void **state)
{
	(void)state;
	memset(long_address, 'a', sizeof long_address - 1);
	memset(longest_address, 'a', sizeof longest_address - 1);
	const char *a = "127.0.0.2:8443";
	const struct request_case cases[] = {
	    {NULL, "raft", "1", "2", a, 400, "Connection: Upgrade"},
	    {"keep-alive", "raft", "1", "2", a, 400, "Connection: Upgrade"},
	    {"keep-alive, Upgrade", "raft", "1", "2", a, 0, NULL},
	    {"upgrade", "raft", "1", "2", a, 0, NULL},
	    {"Upgrade", NULL, "1", "2", a, 400, "Upgrade: raft"},
	    {"Upgrade", "websocket", "1", "2", a, 400, "Upgrade: raft"},
	    {"Upgrade", "raft/2", "1", "2", a, 400, "Upgrade: raft"},
	    {"Upgrade", "h2c, raft", "1", "2", a, 0, NULL},
	    {"Upgrade", "RAFT", "1", "2", a, 0, NULL},
	    {"Upgrade", "raft", NULL, "2", a, 400,
	     "missing header X-Raft-Version"},
	    {"Upgrade", "raft", "", "2", a, 400, "not a version number"},
	    {"Upgrade", "raft", "abc", "2", a, 400, "not a version number"},
	    {"Upgrade", "raft", "01", "2", a, 400, "not a version number"},
	    {"Upgrade", "raft", " 1", "2", a, 400, "not a version number"},
	    {"Upgrade", "raft", "4294967296", "2", a, 400, "not a version"},
	    {"Upgrade", "raft", "0", "2", a, 426, "speaks version 1"},
	    {"Upgrade", "raft", "2", "2", a, 426,
	     "raft protocol version 2 is not supported"},
	    {"Upgrade", "raft", "1", NULL, a, 400, "missing header X-Raft-Id"},
	    {"Upgrade", "raft", "1", "0", a, 400, "not a raft id"},
	    {"Upgrade", "raft", "1", "-1", a, 400, "not a raft id"},
	    {"Upgrade", "raft", "1", "+1", a, 400, "not a raft id"},
	    {"Upgrade", "raft", "1", "1x", a, 400, "not a raft id"},
	    {"Upgrade", "raft", "1", "007", a, 400, "not a raft id"},
	    {"Upgrade", "raft", "1", "18446744073709551616", a, 400,
	     "not a raft id"},
	    {"Upgrade", "raft", "1", "18446744073709551615", a, 0, NULL},
	    {"Upgrade", "raft", "1", "2", NULL, 400,
	     "missing header X-Raft-Address"},
	    {"Upgrade", "raft", "1", "2", "", 400, "X-Raft-Address"},
	    {"Upgrade", "raft", "1", "2", "a b", 400, "X-Raft-Address"},
	    {"Upgrade", "raft", "1", "2", "a\tb", 400, "X-Raft-Address"},
	    {"Upgrade", "raft", "1", "2", "\xc3\xa9:1", 400, "X-Raft-Address"},
	    {"Upgrade", "raft", "1", "2", long_address, 400, "X-Raft-Address"},
	    {"Upgrade", "raft", "1", "2", longest_address, 0, NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct request_case *c = &cases[i];
		struct handshake_request_headers h = {
		    c->connection, c->upgrade, c->version, c->id, c->address};
		struct handshake_hello hello;
		char errmsg[TM_ERRMSG_SIZE] = "";
		int status = handshake_check_request(&h, &hello, errmsg);
		if (status != c->status) {
			fail_msg("case %zu: status %d, want %d (%s)", i, status,
				 c->status, errmsg);
		}
		if (c->says != NULL && strstr(errmsg, c->says) == NULL) {
			fail_msg("case %zu: \"%s\" does not say \"%s\"", i,
				 errmsg, c->says);
		}
	}
}

static void test_format_refusals(void **state)
{
	(void)state;
	char *req = NULL;
	size_t len;
	char errmsg[TM_ERRMSG_SIZE];
	const char *bad[] = {"", "a b", "a\r\nX-Evil: 1", "\x7f"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(handshake_format_request(bad[i], 2, "a:1",
							  &req, &len, errmsg),
				 TM_INVALID);
		assert_int_equal(handshake_format_request("a:1", 2, bad[i],
							  &req, &len, errmsg),
				 TM_INVALID);
	}
	assert_int_equal(
	    handshake_format_request("a:1", 0, "b:1", &req, &len, errmsg),
	    TM_INVALID);
	assert_null(req);
}

/* ---- the answer, parsed by the dialer ---- */

struct answer_case {
	const char *text;
	bool eof; /* the stream ends after the text */
	enum handshake_result want;
	int status;
	const char *says;
};

static void check_answer(size_t i, const struct answer_case *c)
{
	struct handshake_response r;
	size_t used;
	handshake_response_init(&r);
	enum handshake_result res =
	    handshake_response_feed(&r, c->text, strlen(c->text), &used);
	if (res == HANDSHAKE_MORE && c->eof) {
		res = handshake_response_eof(&r);
	}
	if (res != c->want) {
		fail_msg("case %zu: result %d, want %d (%s)", i, res, c->want,
			 r.message);
	}
	if (c->status != 0 && r.status != c->status) {
		fail_msg("case %zu: status %d, want %d", i, r.status,
			 c->status);
	}
	if (c->says != NULL && strstr(r.message, c->says) == NULL) {
		fail_msg("case %zu: \"%s\" does not say \"%s\"", i, r.message,
			 c->says);
	}
	handshake_response_close(&r);
}

static void test_answers(void **state)
{
	(void)state;
	const struct answer_case cases[] = {
	    {"HTTP/1.1 101 Switching Protocols\r\nUpgrade: raft\r\n"
	     "Connection: upgrade\r\n\r\n",
	     false, HANDSHAKE_UPGRADED, 101, NULL},
	    {"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	     "Connection: Upgrade\r\n\r\n",
	     false, HANDSHAKE_INVALID, 101, "Upgrade \"websocket\""},
	    {"HTTP/1.1 101 Switching Protocols\r\nUpgrade: raft\r\n\r\n", false,
	     HANDSHAKE_INVALID, 101, "without \"Connection: Upgrade\""},
	    {"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\r\n",
	     false, HANDSHAKE_INVALID, 101, "Upgrade \"\""},
	    {"HTTP/1.1 100 Continue\r\n\r\n", false, HANDSHAKE_INVALID, 100,
	     "answered 100"},
	    {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", false,
	     HANDSHAKE_INVALID, 200, "answered 200"},
	    {"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
	     "Content-Length: 21\r\n\r\n{\"error\":\"not found\"}",
	     false, HANDSHAKE_REFUSED, 404, "not found"},
	    {"HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\n\r\nnope!", false,
	     HANDSHAKE_REFUSED, 403, "Forbidden"},
	    {"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", false,
	     HANDSHAKE_REFUSED, 403, "Forbidden"},
	    {"HTTP/1.1 400 Bad Request\r\nContent-Length: 23\r\n\r\n"
	     "{\"error\":\"a\\nb\\u0007c\"}",
	     false, HANDSHAKE_REFUSED, 400, "a?b?c"},
	    {"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n"
	     "{\"error\":\"busy\"}",
	     true, HANDSHAKE_REFUSED, 503, "busy"},
	    {"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 99\r\n\r\n"
	     "{\"error\"",
	     true, HANDSHAKE_INVALID, 0, "in the middle of the answer"},
	    {"HTTP/1.1 404 Not", true, HANDSHAKE_INVALID, 0,
	     "in the middle of the answer"},
	    {"", true, HANDSHAKE_INVALID, 0, "without an answer"},
	    {"SSH-2.0-OpenSSH_9.2\r\n", false, HANDSHAKE_INVALID, 0,
	     "malformed answer"},
	    {"HTTP/1.1 999 Whatever\r\n\r\n", true, HANDSHAKE_INVALID, 999,
	     "answered 999"},
	    {"HTTP/1.1 4O4 Not Found\r\n\r\n", false, HANDSHAKE_INVALID, 0,
	     "malformed answer"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		check_answer(i, &cases[i]);
	}
}

static void test_answer_limits(void **state)
{
	(void)state;
	/* Headers: a status line and one header running past the limit. */
	size_t len = HANDSHAKE_MAX_HEADER_BYTES + 100;
	char *buf = tm_malloc(len + 1);
	const char *head = "HTTP/1.1 404 Not Found\r\nX-Pad: ";
	memcpy(buf, head, strlen(head));
	memset(buf + strlen(head), 'p', len - strlen(head));
	buf[len] = '\0';
	struct answer_case big_headers = {buf, false, HANDSHAKE_INVALID, 0,
					  "headers larger than"};
	check_answer(0, &big_headers);
	tm_free(buf);

	/* A body over the limit, whatever its Content-Length says. */
	len = HANDSHAKE_MAX_BODY_BYTES + 100;
	buf = tm_malloc(len + 200);
	int n = snprintf(
	    buf, 200, "HTTP/1.1 404 Not Found\r\nContent-Length: %zu\r\n\r\n",
	    len);
	memset(buf + n, 'x', len);
	buf[(size_t)n + len] = '\0';
	struct answer_case big_body = {buf, false, HANDSHAKE_INVALID, 0,
				       "body larger than"};
	check_answer(1, &big_body);
	tm_free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_request_worked_example),
	    cmocka_unit_test(test_request_worked_example_accepted),
	    cmocka_unit_test(test_upgrade_worked_example),
	    cmocka_unit_test(test_refusal_worked_example),
	    cmocka_unit_test(test_split_everywhere),
	    cmocka_unit_test(test_request_checks),
	    cmocka_unit_test(test_format_refusals),
	    cmocka_unit_test(test_answers),
	    cmocka_unit_test(test_answer_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

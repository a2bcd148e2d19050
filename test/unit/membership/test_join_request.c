/* Join request bodies (internal/membership/join_request.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/lib/err.h"
#include "internal/lib/mem.h"
#include "internal/membership/join_request.h"

static int parse(const char *body, struct join_request *r, char *errmsg)
{
	return join_request_parse(body, strlen(body), r, errmsg);
}

static char *body_with(const char *name, const char *address,
		       const char *secret, const char *certificate)
{
	return tm_asprintf("{\"name\":\"%s\",\"address\":\"%s\","
			   "\"secret\":\"%s\",\"certificate\":\"%s\","
			   "\"schema_version\":3,\"api_extensions\":4}",
			   name, address, secret, certificate);
}

#define SECRET                                                                 \
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void refused(const char *body, int status, const char *message)
{
	struct join_request r;
	char errmsg[TM_ERRMSG_SIZE] = "";
	assert_int_equal(parse(body, &r, errmsg), status);
	if (strstr(errmsg, message) == NULL) {
		fail_msg("got \"%s\", want it to contain \"%s\"", errmsg,
			 message);
	}
	assert_null(r.certificate);
}

static void malformed_bodies_refused(void **state)
{
	(void)state;
	refused("", TM_INVALID, "not a JSON object");
	refused("[]", TM_INVALID, "not a JSON object");
	refused("{\"name\":\"n2\",\"evil\":1}", TM_INVALID,
		"unknown field \"evil\"");
	refused("{\"name\":\"n2\"}", TM_INVALID,
		"field \"address\" (a string) is missing");
	char *b = body_with("N2", "127.0.0.2:8443", SECRET, "x");
	refused(b, TM_INVALID, "field \"name\"");
	tm_free(b);
	b = body_with("n2", "127.0.0.2:99999", SECRET, "x");
	refused(b, TM_INVALID, "field \"address\"");
	tm_free(b);
	b = body_with("n2", "127.0.0.2:8443", "abc", "x");
	refused(b, TM_INVALID, "field \"secret\"");
	tm_free(b);
	b = body_with("n2", "127.0.0.2:8443", SECRET, "not a certificate");
	refused(b, TM_INVALID, "field \"certificate\"");
	tm_free(b);
	char *big = tm_calloc(1, JOIN_REQUEST_MAX_SIZE + 2);
	memset(big, ' ', JOIN_REQUEST_MAX_SIZE + 1);
	refused(big, TM_TOOBIG, "longer than");
	tm_free(big);
}

static void generated_certificate_accepted(void **state)
{
	(void)state;
	/* A real certificate, made with openssl (skipped without it). */
	FILE *p = popen("openssl req -x509 -newkey ec -pkeyopt "
			"ec_paramgen_curve:P-256 -nodes -keyout /dev/null "
			"-days 1 -subj /CN=joiner 2>/dev/null",
			"r");
	if (p == NULL) {
		skip();
	}
	char pem[4096];
	size_t n = fread(pem, 1, sizeof pem - 1, p);
	pclose(p);
	pem[n] = '\0';
	if (n == 0) {
		skip();
	}
	/* As a JSON string: newlines escaped. */
	char escaped[8192];
	size_t k = 0;
	for (size_t i = 0; i < n && k + 2 < sizeof escaped; i++) {
		if (pem[i] == '\n') {
			escaped[k++] = '\\';
			escaped[k++] = 'n';
		} else {
			escaped[k++] = pem[i];
		}
	}
	escaped[k] = '\0';
	char *b = body_with("n2", "LOCALHOST", SECRET, escaped);
	struct join_request r;
	char errmsg[TM_ERRMSG_SIZE] = "";
	if (parse(b, &r, errmsg) != 0) {
		fail_msg("%s", errmsg);
	}
	assert_string_equal(r.name, "n2");
	assert_string_equal(r.address, "localhost:8443");
	assert_int_equal(r.secret[0], 0x01);
	assert_int_equal(r.secret[31], 0xef);
	assert_int_equal(strlen(r.fingerprint), TLS_FINGERPRINT_LEN);
	assert_int_equal(r.schema_version, 3);
	assert_int_equal(r.api_extensions, 4);
	join_request_clear(&r);
	tm_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(malformed_bodies_refused),
	    cmocka_unit_test(generated_certificate_accepted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

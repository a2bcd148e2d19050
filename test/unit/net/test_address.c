/* net_split_address and socket address formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "internal/lib/err.h"
#include "internal/net/conn_internal.h"
#include "internal/net/listener.h"

static void check_ok(const char *address, const char *host, int port)
{
	char h[256];
	int p = -1;
	char errmsg[TM_ERRMSG_SIZE] = "";
	int rv = net_split_address(address, NET_DEFAULT_PORT, h, &p, errmsg);
	if (rv != 0) {
		fail_msg("\"%s\": %s", address, errmsg);
	}
	assert_string_equal(h, host);
	assert_int_equal(p, port);
}

static void check_bad(const char *address, const char *message_part)
{
	char h[256] = "untouched";
	int p = -1;
	char errmsg[TM_ERRMSG_SIZE] = "";
	int rv = net_split_address(address, NET_DEFAULT_PORT, h, &p, errmsg);
	if (rv != TM_INVALID) {
		fail_msg("\"%s\" accepted (%d)", address, rv);
	}
	if (strstr(errmsg, message_part) == NULL) {
		fail_msg("\"%s\": message \"%s\" lacks \"%s\"", address, errmsg,
			 message_part);
	}
	assert_string_equal(h, "untouched");
}

static void test_split_ok(void **state)
{
	(void)state;
	check_ok("127.0.0.1:8443", "127.0.0.1", 8443);
	check_ok("example.com:1", "example.com", 1);
	check_ok("example.com:65535", "example.com", 65535);
	check_ok("example.com", "example.com", NET_DEFAULT_PORT);
	check_ok("10.0.0.1", "10.0.0.1", NET_DEFAULT_PORT);
	check_ok("[::1]:443", "::1", 443);
	check_ok("[::1]", "::1", NET_DEFAULT_PORT);
	check_ok("::1", "::1", NET_DEFAULT_PORT);
	check_ok("[fe80::1%eth0]:80", "fe80::1%eth0", 80);
	check_ok("[2001:db8::7]:8443", "2001:db8::7", 8443);
	check_ok(":8443", "", 8443); /* every address (listeners) */
}

static void test_split_bad_ports(void **state)
{
	(void)state;
	check_bad("host:0", "\"0\"");
	check_bad("host:65536", "\"65536\"");
	check_bad("host:99999", "\"99999\"");
	check_bad("host:123456", "\"123456\"");
	check_bad("host:abc", "\"abc\"");
	check_bad("host:", "\"\"");
	check_bad("host:-1", "\"-1\"");
	check_bad("host:+80", "\"+80\"");
	check_bad("host:80 ", "\"80 \"");
	check_bad("[::1]:0", "\"0\"");
	check_bad("[::1]:x", "\"x\"");
}

static void test_split_bad_hosts(void **state)
{
	(void)state;
	check_bad("", "empty address");
	check_bad("[::1", "[IPv6 address]:port");
	check_bad("[example.com]:80", "[IPv6 address]:port");
	check_bad("[]:80", "[IPv6 address]:port");
	check_bad("[::1]80", "after ']'");
	check_bad("a:b:c", "[address]:port");
	check_bad("ho st:80", "invalid character");
	check_bad("a/b:80", "invalid character");
	char longhost[300];
	memset(longhost, 'a', sizeof longhost - 1);
	longhost[sizeof longhost - 1] = '\0';
	check_bad(longhost, "too long");
}

static void test_split_port_zero_for_listeners(void **state)
{
	(void)state;
	char h[256];
	int p = -1;
	char errmsg[TM_ERRMSG_SIZE];
	assert_int_equal(
	    net_split_address_port("127.0.0.1:0", 8443, true, h, &p, errmsg),
	    0);
	assert_string_equal(h, "127.0.0.1");
	assert_int_equal(p, 0);
	assert_int_equal(
	    net_split_address_port("127.0.0.1:0", 8443, false, h, &p, errmsg),
	    TM_INVALID);
	assert_non_null(strstr(errmsg, "expected 1-65535"));
}

static void test_format_sockaddr(void **state)
{
	(void)state;
	char out[64];
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(53422);
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	net_format_sockaddr((struct sockaddr *)&sin, out, sizeof out);
	assert_string_equal(out, "127.0.0.1:53422");

	struct sockaddr_in6 sin6;
	memset(&sin6, 0, sizeof sin6);
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(8443);
	inet_pton(AF_INET6, "::1", &sin6.sin6_addr);
	net_format_sockaddr((struct sockaddr *)&sin6, out, sizeof out);
	assert_string_equal(out, "[::1]:8443");

	inet_pton(AF_INET6, "::ffff:10.1.2.3", &sin6.sin6_addr);
	net_format_sockaddr((struct sockaddr *)&sin6, out, sizeof out);
	assert_string_equal(out, "10.1.2.3:8443");
}

int test_address_run(void);
int test_address_run(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_split_ok),
	    cmocka_unit_test(test_split_bad_ports),
	    cmocka_unit_test(test_split_bad_hosts),
	    cmocka_unit_test(test_split_port_zero_for_listeners),
	    cmocka_unit_test(test_format_sockaddr),
	};
	return cmocka_run_group_tests_name("net-address", tests, NULL, NULL);
}

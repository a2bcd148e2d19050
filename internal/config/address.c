/* Listen addresses: "host[:port]".
 *
 *   host  IPv4 literal ("0.0.0.0" included), a hostname (letters, digits,
 *         '-', '.'; labels of 1-63 characters not starting or ending with
 *         '-'), or an IPv6 literal in brackets ("[::]", "[::1]:8443");
 *         a bare IPv6 literal is refused: "::1:8443" would be ambiguous;
 *   port  1-65535, CONFIG_DEFAULT_PORT when missing.
 *
 * Canonical form: hostnames in lower case, IPv6 as printed by inet_ntop()
 * (RFC 5952) in brackets, always with the port. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "internal/config/private.h"
#include "internal/lib/err.h"
#include "internal/lib/mem.h"

#define HOST_MAX 253
#define LABEL_MAX 63
#define HOST_CHARS                                                             \
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"

static int parse_port(const char *s, unsigned *port, char *reason)
{
	size_t len = strlen(s);
	if (len == 0) {
		tm_errmsg_printf(reason, "missing port after ':'");
		return TM_INVALID;
	}
	if (strspn(s, "0123456789") != len) {
		tm_errmsg_printf(reason, "invalid port \"%.32s\"", s);
		return TM_INVALID;
	}
	unsigned long value = 0;
	for (size_t i = 0; i < len && value <= 65535; i++) {
		value = value * 10 + (unsigned long)(s[i] - '0');
	}
	if (value < 1 || value > 65535) {
		tm_errmsg_printf(reason, "port %.32s out of range (1-65535)",
				 s);
		return TM_INVALID;
	}
	*port = (unsigned)value;
	return 0;
}

static bool all_digits(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

/* Check the hostname HOST (not an IP literal) and lower-case it in place. */
static int check_hostname(char *host, char *reason)
{
	size_t len = strlen(host);
	if (len > HOST_MAX) {
		tm_errmsg_printf(reason, "host name longer than %d characters",
				 HOST_MAX);
		return TM_INVALID;
	}
	const char *label = host;
	for (;;) {
		size_t n = strcspn(label, ".");
		bool last = label[n] == '\0';
		if (n == 0 || n > LABEL_MAX || label[0] == '-' ||
		    label[n - 1] == '-' || strspn(label, HOST_CHARS) < n) {
			tm_errmsg_printf(reason, "invalid host \"%.64s\"",
					 host);
			return TM_INVALID;
		}
		if (last && all_digits(label, n)) {
			/* "1.2.3" or "300.1.1.1": a broken IPv4 address. */
			tm_errmsg_printf(reason,
					 "invalid IPv4 address "
					 "\"%.64s\"",
					 host);
			return TM_INVALID;
		}
		if (last) {
			break;
		}
		label += n + 1;
	}
	for (char *p = host; *p != '\0'; p++) {
		*p = (char)tolower((unsigned char)*p);
	}
	return 0;
}

static int canonical_ipv6(const char *host, char *out, char *reason)
{
	unsigned char bin[16];
	if (inet_pton(AF_INET6, host, bin) != 1 ||
	    inet_ntop(AF_INET6, bin, out, INET6_ADDRSTRLEN) == NULL) {
		tm_errmsg_printf(reason, "invalid IPv6 address \"%.64s\"",
				 host);
		return TM_INVALID;
	}
	return 0;
}

/* Split COPY (modified) into *HOST, *PORT (NULL when missing) and whether
 * the host is an IPv6 literal. */
static int split(char *copy, char **host, char **port, bool *ipv6, char *reason)
{
	*port = NULL;
	*ipv6 = false;
	if (copy[0] == '[') {
		char *end = strchr(copy, ']');
		if (end == NULL) {
			tm_errmsg_printf(reason, "missing ']' after IPv6 "
						 "address");
			return TM_INVALID;
		}
		*end = '\0';
		*host = copy + 1;
		*ipv6 = true;
		if (end[1] == ':') {
			*port = end + 2;
		} else if (end[1] != '\0') {
			tm_errmsg_printf(reason,
					 "unexpected \"%.32s\" after "
					 "']'",
					 end + 1);
			return TM_INVALID;
		}
		return 0;
	}
	*host = copy;
	char *colon = strchr(copy, ':');
	if (colon != NULL && strchr(colon + 1, ':') != NULL) {
		/* "::1:8443" could be [::1]:8443 or [::1:8443]: refuse. */
		tm_errmsg_printf(reason,
				 "IPv6 address needs brackets, as in "
				 "[::1]:%d",
				 CONFIG_DEFAULT_PORT);
		return TM_INVALID;
	}
	if (colon != NULL) {
		*colon = '\0';
		*port = colon + 1;
	}
	return 0;
}

static bool has_space_or_control(const char *s)
{
	for (; *s != '\0'; s++) {
		if (isspace((unsigned char)*s) || iscntrl((unsigned char)*s)) {
			return true;
		}
	}
	return false;
}

int config_address_normalize(const char *in, char **out, char *reason)
{
	if (has_space_or_control(in)) {
		tm_errmsg_printf(reason, "address contains a space or control "
					 "character");
		return TM_INVALID;
	}
	char *copy = tm_strdup(in);
	char *host;
	char *port_str;
	bool ipv6;
	unsigned port = CONFIG_DEFAULT_PORT;
	char ip6[INET6_ADDRSTRLEN];
	unsigned char ip4[4];
	int rv = split(copy, &host, &port_str, &ipv6, reason);
	if (rv == 0 && host[0] == '\0') {
		tm_errmsg_printf(reason, "missing host (use 0.0.0.0 or [::] "
					 "for all addresses)");
		rv = TM_INVALID;
	}
	if (rv == 0 && port_str != NULL) {
		rv = parse_port(port_str, &port, reason);
	}
	if (rv == 0 && ipv6) {
		rv = canonical_ipv6(host, ip6, reason);
	} else if (rv == 0 && inet_pton(AF_INET, host, ip4) != 1) {
		rv = check_hostname(host, reason);
	}
	if (rv == 0) {
		*out = ipv6 ? tm_asprintf("[%s]:%u", ip6, port)
			    : tm_asprintf("%s:%u", host, port);
	}
	tm_free(copy);
	return rv;
}

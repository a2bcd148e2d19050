/* Network addresses as text: "host:port", "[v6]:port", "host". */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "internal/lib/assert.h"
#include "internal/lib/err.h"
#include "internal/net/conn_internal.h"
#include "internal/net/listener.h"

#define NET_HOST_SIZE 256

static bool address_is_ipv6(const char *text, size_t len)
{
	char buf[INET6_ADDRSTRLEN + 1];
	if (len >= sizeof buf) {
		return false;
	}
	memcpy(buf, text, len);
	buf[len] = '\0';
	char *zone = strchr(buf, '%'); /* fe80::1%eth0 */
	if (zone != NULL) {
		*zone = '\0';
	}
	struct in6_addr addr;
	return inet_pton(AF_INET6, buf, &addr) == 1;
}

static int address_parse_port(const char *address, const char *text,
			      bool allow_zero, int *port, char *errmsg)
{
	long value = 0;
	size_t len = strlen(text);
	bool ok = len > 0 && len <= 5;
	for (size_t i = 0; ok && i < len; i++) {
		if (text[i] < '0' || text[i] > '9') {
			ok = false;
		} else {
			value = value * 10 + (text[i] - '0');
		}
	}
	if (!ok || value > 65535 || (value == 0 && !allow_zero)) {
		tm_errmsg_printf(errmsg,
				 "invalid port \"%s\" in address \"%s\" "
				 "(expected %d-65535)",
				 text, address, allow_zero ? 0 : 1);
		return TM_INVALID;
	}
	*port = (int)value;
	return 0;
}

int net_split_address_port(const char *address, int default_port,
			   bool allow_zero, char *host, int *port, char *errmsg)
{
	PRE(address != NULL && host != NULL && port != NULL);
	PRE(default_port > 0 && default_port <= 65535);
	const char *h = address;
	size_t hlen;
	const char *port_text = NULL;

	if (address[0] == '\0') {
		tm_errmsg_printf(errmsg, "empty address");
		return TM_INVALID;
	}
	if (address[0] == '[') {
		const char *end = strchr(address, ']');
		h = address + 1;
		hlen = end != NULL ? (size_t)(end - h) : 0;
		if (end == NULL || !address_is_ipv6(h, hlen)) {
			tm_errmsg_printf(errmsg,
					 "invalid address \"%s\" (expected "
					 "[IPv6 address]:port)",
					 address);
			return TM_INVALID;
		}
		if (end[1] == ':') {
			port_text = end + 2;
		} else if (end[1] != '\0') {
			tm_errmsg_printf(errmsg,
					 "invalid address \"%s\": unexpected "
					 "text after ']'",
					 address);
			return TM_INVALID;
		}
	} else {
		const char *colon = strchr(address, ':');
		hlen = strlen(address);
		if (colon != NULL && strchr(colon + 1, ':') != NULL) {
			/* Several colons: only a bare IPv6 address, which
			 * then has no port. */
			if (!address_is_ipv6(address, hlen)) {
				tm_errmsg_printf(
				    errmsg,
				    "invalid address \"%s\" (write IPv6 "
				    "addresses as [address]:port)",
				    address);
				return TM_INVALID;
			}
		} else if (colon != NULL) {
			hlen = (size_t)(colon - address);
			port_text = colon + 1;
		}
	}
	if (hlen >= NET_HOST_SIZE) {
		tm_errmsg_printf(errmsg,
				 "host name in address \"%.64s...\" is "
				 "too long",
				 address);
		return TM_INVALID;
	}
	for (size_t i = 0; i < hlen; i++) {
		if (h[i] <= ' ' || h[i] == '/' || h[i] == 0x7f) {
			tm_errmsg_printf(errmsg,
					 "invalid character in host of "
					 "address \"%s\"",
					 address);
			return TM_INVALID;
		}
	}
	*port = default_port;
	if (port_text != NULL &&
	    address_parse_port(address, port_text, allow_zero, port, errmsg) !=
		0) {
		return TM_INVALID;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	return 0;
}

int net_split_address(const char *address, int default_port, char *host,
		      int *port, char *errmsg)
{
	return net_split_address_port(address, default_port, false, host, port,
				      errmsg);
}

void net_format_sockaddr(const struct sockaddr *sa, char *out, size_t size)
{
	char ip[INET6_ADDRSTRLEN];
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
		snprintf(out, size, "%s:%d", ip, ntohs(in->sin_port));
		return;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 =
		    (const struct sockaddr_in6 *)sa;
		int port = ntohs(in6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], ip,
				  sizeof ip);
			snprintf(out, size, "%s:%d", ip, port);
		} else {
			inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
			snprintf(out, size, "[%s]:%d", ip, port);
		}
		return;
	}
	snprintf(out, size, "unknown");
}

/* Client objects: creation, accessors and error formatting. No I/O here:
 * connections are made lazily by the first request (transport.c). */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <time.h>

#include "pkg/internal.h"

static const char *messages[] = {
    [THERMIONIC_OK] = "success",
    [THERMIONIC_ERR_CONNECT] = "could not connect",
    [THERMIONIC_ERR_TLS] = "TLS error",
    [THERMIONIC_ERR_HTTP] = "server returned an error",
    [THERMIONIC_ERR_PROTO] = "protocol error",
    [THERMIONIC_ERR_INVALID] = "invalid argument",
    [THERMIONIC_ERR_NOMEM] = "out of memory",
    [THERMIONIC_ERR_TOOBIG] = "too large",
    [THERMIONIC_ERR_TIMEOUT] = "timed out",
    [THERMIONIC_ERR_PIN] = "server certificate does not match the pin",
    [THERMIONIC_ERR_IO] = "local file error",
    [THERMIONIC_ERR_EXISTS] = "file exists",
};

const char *thermionic_strerror(int code)
{
	if (code < 0 || (size_t)code >= sizeof messages / sizeof *messages ||
	    messages[code] == NULL) {
		return "unknown error";
	}
	return messages[code];
}

void thermionic_free(void *ptr) { free(ptr); }

int tmc_fail(struct thermionic_client *c, int code, const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	vsnprintf(c->errmsg, sizeof c->errmsg, fmt, args);
	va_end(args);
	return code;
}

void tmc_clear_error(struct thermionic_client *c) { c->errmsg[0] = '\0'; }

unsigned long long tmc_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000u +
	       (unsigned long long)ts.tv_nsec / 1000000u;
}

void tmc_sleep_ms(unsigned ms)
{
	struct timespec ts = {
	    .tv_sec = ms / 1000u,
	    .tv_nsec = (long)(ms % 1000u) * 1000000L,
	};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

int thermionic_fingerprint_normalize(const char *in, char *out)
{
	size_t n = 0;
	if (in == NULL || out == NULL) {
		return THERMIONIC_ERR_INVALID;
	}
	for (const char *p = in; *p != '\0'; p++) {
		if (*p == ':') {
			continue;
		}
		if (!isxdigit((unsigned char)*p) ||
		    n == THERMIONIC_FINGERPRINT_LEN) {
			return THERMIONIC_ERR_INVALID;
		}
		out[n++] = (char)tolower((unsigned char)*p);
	}
	if (n != THERMIONIC_FINGERPRINT_LEN) {
		return THERMIONIC_ERR_INVALID;
	}
	out[n] = '\0';
	return THERMIONIC_OK;
}

static char *dup_or_null(const char *s, bool *nomem)
{
	char *copy;
	if (s == NULL) {
		return NULL;
	}
	copy = strdup(s);
	if (copy == NULL) {
		*nomem = true;
	}
	return copy;
}

static struct thermionic_client *client_new(void)
{
	struct thermionic_client *c = calloc(1, sizeof *c);
	if (c == NULL) {
		return NULL;
	}
	c->curl = curl_easy_init();
	if (c->curl == NULL) {
		free(c);
		return NULL;
	}
	c->timeout_ms = THERMIONIC_DEFAULT_TIMEOUT_MS;
	c->upload_fd = -1;
	c->download_fd = -1;
	return c;
}

int thermionic_connect_unix(const char *socket_path,
			    struct thermionic_client **out)
{
	struct sockaddr_un sun;
	struct thermionic_client *c;
	bool nomem = false;

	if (out == NULL) {
		return THERMIONIC_ERR_INVALID;
	}
	*out = NULL;
	if (socket_path == NULL || socket_path[0] == '\0' ||
	    strlen(socket_path) >= sizeof sun.sun_path) {
		return THERMIONIC_ERR_INVALID;
	}
	c = client_new();
	if (c == NULL) {
		return THERMIONIC_ERR_NOMEM;
	}
	c->socket_path = dup_or_null(socket_path, &nomem);
	c->base_url = dup_or_null("http://thermionic", &nomem);
	c->target = dup_or_null(socket_path, &nomem);
	if (nomem) {
		thermionic_close(c);
		return THERMIONIC_ERR_NOMEM;
	}
	*out = c;
	return THERMIONIC_OK;
}

/* "host:port" or "[v6]:port" with a port in 1..65535 and nothing that
 * would change the URL's meaning. */
static bool address_valid(const char *address)
{
	const char *colon;
	char *end;
	long port;

	if (address[0] == '\0' || strpbrk(address, "/?#@ \t\r\n\\") != NULL) {
		return false;
	}
	if (address[0] == '[') {
		const char *close = strchr(address, ']');
		if (close == NULL || close == address + 1 || close[1] != ':') {
			return false;
		}
		colon = close + 1;
	} else {
		colon = strchr(address, ':');
		if (colon == NULL || colon == address ||
		    strchr(colon + 1, ':') != NULL) {
			return false;
		}
	}
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	return colon[1] != '\0' && *end == '\0' && errno == 0 && port > 0 &&
	       port <= 65535;
}

static bool curl_has_openssl(void)
{
	const curl_version_info_data *info = curl_version_info(CURLVERSION_NOW);
	return info->ssl_version != NULL &&
	       strncmp(info->ssl_version, "OpenSSL", 7) == 0;
}

int thermionic_connect_https(const char *address, const char *client_cert_path,
			     const char *client_key_path,
			     const char *pinned_fingerprint,
			     struct thermionic_client **out)
{
	char pin[THERMIONIC_FINGERPRINT_LEN + 1];
	struct thermionic_client *c;
	bool nomem = false;
	size_t url_len;

	if (out == NULL) {
		return THERMIONIC_ERR_INVALID;
	}
	*out = NULL;
	if (address == NULL || !address_valid(address) ||
	    (client_cert_path == NULL) != (client_key_path == NULL)) {
		return THERMIONIC_ERR_INVALID;
	}
	if (pinned_fingerprint != NULL &&
	    thermionic_fingerprint_normalize(pinned_fingerprint, pin) != 0) {
		return THERMIONIC_ERR_INVALID;
	}
	if (!curl_has_openssl()) {
		return THERMIONIC_ERR_TLS;
	}
	c = client_new();
	if (c == NULL) {
		return THERMIONIC_ERR_NOMEM;
	}
	/* An IPv6 zone ("[fe80::1%eth0]") is written "%25" in a URL. */
	url_len = strlen("https://") + 3 * strlen(address) + 1;
	c->base_url = malloc(url_len);
	if (c->base_url != NULL) {
		char *p =
		    c->base_url + snprintf(c->base_url, url_len, "https://");
		for (const char *a = address; *a != '\0'; a++) {
			if (*a == '%') {
				memcpy(p, "%25", 3);
				p += 3;
			} else {
				*p++ = *a;
			}
		}
		*p = '\0';
	}
	nomem = c->base_url == NULL;
	c->target = dup_or_null(address, &nomem);
	c->cert_path = dup_or_null(client_cert_path, &nomem);
	c->key_path = dup_or_null(client_key_path, &nomem);
	if (nomem) {
		thermionic_close(c);
		return THERMIONIC_ERR_NOMEM;
	}
	if (pinned_fingerprint != NULL) {
		c->have_pin = true;
		memcpy(c->pin, pin, sizeof pin);
	}
	*out = c;
	return THERMIONIC_OK;
}

void thermionic_close(struct thermionic_client *client)
{
	if (client == NULL) {
		return;
	}
	tmc_transport_reset(client);
	curl_easy_cleanup(client->curl);
	free(client->base_url);
	free(client->target);
	free(client->socket_path);
	free(client->cert_path);
	free(client->key_path);
	free(client);
}

const char *thermionic_errmsg(const struct thermionic_client *client)
{
	return client == NULL ? "" : client->errmsg;
}

int thermionic_status(const struct thermionic_client *client)
{
	return client == NULL ? 0 : client->status;
}

const char *
thermionic_server_fingerprint(const struct thermionic_client *client)
{
	if (client == NULL || !client->have_seen) {
		return NULL;
	}
	return client->seen;
}

void thermionic_set_timeout(struct thermionic_client *client,
			    unsigned timeout_ms)
{
	if (client != NULL) {
		client->timeout_ms = timeout_ms;
	}
}

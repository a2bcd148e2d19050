/* One HTTP exchange on the client's reused curl easy handle.
 *
 * Happy path: reset the handle's options (curl_easy_reset keeps the live
 * connection, so keep-alive survives), set them again for this request,
 * perform, collect status, body and ETag.
 *
 * Failure modes, in the order they are recognised after the perform:
 * the pin callback refused the server (THERMIONIC_ERR_PIN), the body grew
 * past THERMIONIC_MAX_BODY_BYTES (_TOOBIG) or could not be stored
 * (_NOMEM), then curl's own code: time-out (_TIMEOUT), TLS (_TLS),
 * anything that kept us from a complete answer (_CONNECT). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pkg/internal.h"

void tmc_transport_reset(struct thermionic_client *c)
{
	free(c->body);
	c->body = NULL;
	c->body_len = 0;
	c->body_cap = 0;
	c->body_too_big = false;
	c->body_nomem = false;
	free(c->etag);
	c->etag = NULL;
}

static size_t transport_write_cb(char *data, size_t size, size_t n, void *arg)
{
	struct thermionic_client *c = arg;
	size_t len = size * n;
	if (len > THERMIONIC_MAX_BODY_BYTES - c->body_len) {
		c->body_too_big = true;
		return 0;
	}
	if (c->body_len + len + 1 > c->body_cap) {
		size_t cap = c->body_cap == 0 ? 4096 : c->body_cap;
		char *grown;
		while (cap < c->body_len + len + 1) {
			cap *= 2;
		}
		grown = realloc(c->body, cap);
		if (grown == NULL) {
			c->body_nomem = true;
			return 0;
		}
		c->body = grown;
		c->body_cap = cap;
	}
	memcpy(c->body + c->body_len, data, len);
	c->body_len += len;
	c->body[c->body_len] = '\0';
	return len;
}

static size_t transport_header_cb(char *data, size_t size, size_t n, void *arg)
{
	struct thermionic_client *c = arg;
	size_t len = size * n;
	size_t start = 5;
	size_t end = len;

	if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		/* A new response (after 100 Continue, say): forget headers
		 * of the previous one. */
		free(c->etag);
		c->etag = NULL;
		return len;
	}
	if (len < 5 || strncasecmp(data, "etag:", 5) != 0) {
		return len;
	}
	while (start < end && (data[start] == ' ' || data[start] == '\t')) {
		start++;
	}
	while (end > start && (data[end - 1] == '\r' || data[end - 1] == '\n' ||
			       data[end - 1] == ' ' || data[end - 1] == '\t')) {
		end--;
	}
	free(c->etag);
	c->etag = strndup(data + start, end - start);
	if (c->etag == NULL) {
		c->body_nomem = true;
		return 0;
	}
	return len;
}

static bool method_valid(const char *method)
{
	if (method == NULL || method[0] == '\0' || strlen(method) > 16) {
		return false;
	}
	for (const char *p = method; *p != '\0'; p++) {
		if (*p < 'A' || *p > 'Z') {
			return false;
		}
	}
	return true;
}

static bool path_valid(const char *path)
{
	if (path == NULL || path[0] != '/') {
		return false;
	}
	for (const char *p = path; *p != '\0'; p++) {
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f ||
		    *p == '#') {
			return false;
		}
	}
	return true;
}

static bool header_value_valid(const char *value)
{
	for (const char *p = value; *p != '\0'; p++) {
		if (*p == '\r' || *p == '\n') {
			return false;
		}
	}
	return true;
}

static struct curl_slist *transport_headers(const char *body,
					    const char *if_match)
{
	struct curl_slist *list = NULL;
	struct curl_slist *next;
	char *line = NULL;

	next = curl_slist_append(list, "Accept: application/json");
	if (next == NULL) {
		goto err;
	}
	list = next;
	/* Never wait for "100 Continue": the daemon reads bodies directly. */
	next = curl_slist_append(list, "Expect:");
	if (next == NULL) {
		goto err;
	}
	list = next;
	if (body != NULL) {
		next =
		    curl_slist_append(list, "Content-Type: application/json");
		if (next == NULL) {
			goto err;
		}
		list = next;
	}
	if (if_match != NULL) {
		size_t len = strlen("If-Match: ") + strlen(if_match) + 1;
		line = malloc(len);
		if (line == NULL) {
			goto err;
		}
		snprintf(line, len, "If-Match: %s", if_match);
		next = curl_slist_append(list, line);
		free(line);
		if (next == NULL) {
			goto err;
		}
		list = next;
	}
	return list;
err:
	curl_slist_free_all(list);
	return NULL;
}

/* Set every option for this exchange. Returns false if curl refused one
 * (out of memory or an option this libcurl lacks). */
static bool transport_setup(struct thermionic_client *c, const char *method,
			    const char *url, const char *body,
			    struct curl_slist *headers)
{
	CURL *h = c->curl;
	bool ok = true;

	curl_easy_reset(h);
#define SET(opt, val) ok = ok && curl_easy_setopt(h, opt, val) == CURLE_OK
	SET(CURLOPT_URL, url);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_PROXY, "");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	SET(CURLOPT_USERAGENT, "libthermionic/" THERMIONIC_CLIENT_VERSION);
	SET(CURLOPT_HTTPHEADER, headers);
	SET(CURLOPT_ERRORBUFFER, c->curl_errbuf);
	SET(CURLOPT_WRITEFUNCTION, transport_write_cb);
	SET(CURLOPT_WRITEDATA, c);
	SET(CURLOPT_HEADERFUNCTION, transport_header_cb);
	SET(CURLOPT_HEADERDATA, c);
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)THERMIONIC_MAX_BODY_BYTES);
	SET(CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)THERMIONIC_CONNECT_TIMEOUT_MS);
	if (strcmp(method, "GET") == 0) {
		SET(CURLOPT_HTTPGET, 1L);
	} else if (body != NULL || strcmp(method, "PUT") == 0 ||
		   strcmp(method, "POST") == 0 ||
		   strcmp(method, "PATCH") == 0) {
		/* Always a Content-Length for methods that carry a body. */
		SET(CURLOPT_POSTFIELDS, body == NULL ? "" : body);
		SET(CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)(body == NULL ? 0 : strlen(body)));
		SET(CURLOPT_CUSTOMREQUEST, method);
	} else {
		SET(CURLOPT_CUSTOMREQUEST, method);
		if (strcmp(method, "HEAD") == 0) {
			SET(CURLOPT_NOBODY, 1L);
		}
	}
	if (c->socket_path != NULL) {
		SET(CURLOPT_UNIX_SOCKET_PATH, c->socket_path);
		return ok;
	}
	SET(CURLOPT_SSLVERSION,
	    (long)(CURL_SSLVERSION_TLSv1_3 | CURL_SSLVERSION_MAX_DEFAULT));
	/* Verification is ours (pin.c): no CA store, no host name check. */
	SET(CURLOPT_SSL_VERIFYPEER, 0L);
	SET(CURLOPT_SSL_VERIFYHOST, 0L);
	/* No session resumption: every new connection shows its certificate
	 * to the pin callback. */
	SET(CURLOPT_SSL_SESSIONID_CACHE, 0L);
	SET(CURLOPT_SSL_CTX_FUNCTION, tmc_pin_sslctx_cb);
	SET(CURLOPT_SSL_CTX_DATA, c);
	if (c->cert_path != NULL) {
		SET(CURLOPT_SSLCERT, c->cert_path);
		SET(CURLOPT_SSLKEY, c->key_path);
	}
#undef SET
	return ok;
}

/* Why curl failed, for messages: the OS error if there is one, else
 * curl's error buffer, else its generic text. */
static const char *transport_reason(struct thermionic_client *c, CURLcode rc)
{
	long os_errno = 0;
	curl_easy_getinfo(c->curl, CURLINFO_OS_ERRNO, &os_errno);
	if (os_errno != 0 &&
	    (rc == CURLE_COULDNT_CONNECT || rc == CURLE_SEND_ERROR ||
	     rc == CURLE_RECV_ERROR)) {
		return strerror((int)os_errno);
	}
	if (c->curl_errbuf[0] != '\0') {
		return c->curl_errbuf;
	}
	return curl_easy_strerror(rc);
}

static int transport_map_error(struct thermionic_client *c, CURLcode rc)
{
	const char *reason = transport_reason(c, rc);

	if (c->pin_failed) {
		return tmc_fail(c, THERMIONIC_ERR_PIN, "%s", c->pin_msg);
	}
	if (c->body_too_big || rc == CURLE_FILESIZE_EXCEEDED) {
		return tmc_fail(c, THERMIONIC_ERR_TOOBIG,
				"response from %s is larger than %zu bytes",
				c->target, THERMIONIC_MAX_BODY_BYTES);
	}
	if (c->body_nomem || rc == CURLE_OUT_OF_MEMORY) {
		return tmc_fail(c, THERMIONIC_ERR_NOMEM, "out of memory");
	}
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		return tmc_fail(c, THERMIONIC_ERR_TIMEOUT,
				"request to %s timed out: %s", c->target,
				reason);
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_USE_SSL_FAILED:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_CLIENTCERT:
		return tmc_fail(c, THERMIONIC_ERR_TLS, "TLS with %s: %s",
				c->target, reason);
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
		/* In TLS 1.3 the server judges our certificate after our
		 * side of the handshake is done: its refusal arrives as an
		 * alert on the first read. */
		if (strstr(reason, "SSL") != NULL ||
		    strstr(reason, "alert") != NULL) {
			return tmc_fail(c, THERMIONIC_ERR_TLS,
					"TLS with %s: %s", c->target, reason);
		}
		return tmc_fail(c, THERMIONIC_ERR_CONNECT,
				"connection with %s lost: %s", c->target,
				reason);
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_HTTP2:
	case CURLE_BAD_CONTENT_ENCODING:
		return tmc_fail(c, THERMIONIC_ERR_PROTO,
				"bad answer from %s: %s", c->target, reason);
	default:
		return tmc_fail(c, THERMIONIC_ERR_CONNECT, "%s %s: %s",
				c->status == 0 ? "cannot connect to"
					       : "connection lost with",
				c->target, reason);
	}
}

/* The client certificate and key are read by curl at handshake time with
 * terse messages; check them first to name the file that is wrong. */
static int transport_check_files(struct thermionic_client *c)
{
	const char *paths[2] = {c->cert_path, c->key_path};
	const char *what[2] = {"client certificate", "client key"};
	for (int i = 0; i < 2; i++) {
		FILE *f;
		if (paths[i] == NULL) {
			continue;
		}
		f = fopen(paths[i], "r");
		if (f == NULL) {
			return tmc_fail(c, THERMIONIC_ERR_TLS, "%s %s: %s",
					what[i], paths[i], strerror(errno));
		}
		fclose(f);
	}
	return THERMIONIC_OK;
}

int tmc_transport_perform(struct thermionic_client *c, const char *method,
			  const char *path, const char *body,
			  const char *if_match)
{
	struct curl_slist *headers = NULL;
	char *url = NULL;
	size_t url_len;
	long status = 0;
	CURLcode rc;
	int rv;

	tmc_transport_reset(c);
	c->status = 0;
	c->pin_failed = false;
	c->curl_errbuf[0] = '\0';
	if (!method_valid(method) || !path_valid(path) ||
	    (if_match != NULL && !header_value_valid(if_match))) {
		return tmc_fail(c, THERMIONIC_ERR_INVALID,
				"invalid request: method %s path %s",
				method == NULL ? "(null)" : method,
				path == NULL ? "(null)" : path);
	}
	if (body != NULL && strlen(body) > THERMIONIC_MAX_BODY_BYTES) {
		return tmc_fail(c, THERMIONIC_ERR_TOOBIG,
				"request body is larger than %zu bytes",
				THERMIONIC_MAX_BODY_BYTES);
	}
	rv = transport_check_files(c);
	if (rv != THERMIONIC_OK) {
		return rv;
	}
	url_len = strlen(c->base_url) + strlen(path) + 1;
	url = malloc(url_len);
	headers = transport_headers(body, if_match);
	if (url == NULL || headers == NULL) {
		rv = tmc_fail(c, THERMIONIC_ERR_NOMEM, "out of memory");
		goto out;
	}
	snprintf(url, url_len, "%s%s", c->base_url, path);
	if (!transport_setup(c, method, url, body, headers)) {
		rv = tmc_fail(c, THERMIONIC_ERR_NOMEM,
			      "cannot configure libcurl for %s", url);
		goto out;
	}
	rc = curl_easy_perform(c->curl);
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	c->status = (int)status;
	rv = rc == CURLE_OK ? THERMIONIC_OK : transport_map_error(c, rc);
	/* Drop the options that point at this call's buffers (headers, URL,
	 * body, error buffer); the connection stays open. */
	curl_easy_reset(c->curl);
out:
	curl_slist_free_all(headers);
	free(url);
	return rv;
}

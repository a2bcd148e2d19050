/* One HTTP exchange on the client's reused curl easy handle.
 *
 * Happy path: reset the handle's options (curl_easy_reset keeps the live
 * connection, so keep-alive survives), set them again for this request,
 * perform, collect status, body, ETag and Content-Type. A request body is
 * either a JSON text in memory or streamed from a file descriptor; a
 * response body is kept in memory, or, for a 2xx answer that is not JSON
 * when the caller gave a download descriptor, streamed to it.
 *
 * Failure modes, in the order they are recognised after the perform:
 * the pin callback refused the server (THERMIONIC_ERR_PIN), reading the
 * upload or writing the download failed (_IO), the body grew past
 * THERMIONIC_MAX_BODY_BYTES (_TOOBIG) or could not be stored (_NOMEM),
 * then curl's own code: time-out (_TIMEOUT), TLS (_TLS), anything that
 * kept us from a complete answer (_CONNECT). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

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
	free(c->content_type);
	c->content_type = NULL;
	c->upload_fd = -1;
	c->upload_left = 0;
	c->upload_errno = 0;
	c->download_fd = -1;
	c->download_decided = false;
	c->download_active = false;
	c->download_bytes = 0;
	c->download_errno = 0;
}

void tmc_exchange_init(struct tmc_exchange *ex)
{
	memset(ex, 0, sizeof *ex);
	ex->upload_fd = -1;
	ex->download_fd = -1;
}

static bool transport_is_json(const char *content_type)
{
	return content_type != NULL &&
	       strncasecmp(content_type, "application/json", 16) == 0;
}

/* Where this response's body goes: the download descriptor for a 2xx
 * answer that is not JSON, memory otherwise. Decided at its first byte,
 * when status and headers are known. */
static void transport_decide_sink(struct thermionic_client *c)
{
	long status = 0;
	if (c->download_decided) {
		return;
	}
	c->download_decided = true;
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	c->download_active = c->download_fd >= 0 && status >= 200 &&
			     status <= 299 &&
			     !transport_is_json(c->content_type);
}

static size_t transport_download(struct thermionic_client *c, const char *data,
				 size_t len)
{
	for (size_t i = 0;
	     i < len && c->download_bytes + i < sizeof c->download_head; i++) {
		c->download_head[c->download_bytes + i] =
		    (unsigned char)data[i];
	}
	for (size_t done = 0; done < len;) {
		ssize_t w = write(c->download_fd, data + done, len - done);
		if (w < 0 && errno == EINTR) {
			continue;
		}
		if (w <= 0) {
			c->download_errno = w < 0 ? errno : EIO;
			return 0;
		}
		done += (size_t)w;
	}
	c->download_bytes += len;
	return len;
}

static size_t transport_write_cb(char *data, size_t size, size_t n, void *arg)
{
	struct thermionic_client *c = arg;
	size_t len = size * n;
	transport_decide_sink(c);
	if (c->download_active) {
		return transport_download(c, data, len);
	}
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

static size_t transport_read_cb(char *buf, size_t size, size_t n, void *arg)
{
	struct thermionic_client *c = arg;
	size_t want = size * n;
	ssize_t r;

	if (c->upload_left == 0) {
		return 0;
	}
	if (want > c->upload_left) {
		want = (size_t)c->upload_left;
	}
	do {
		r = read(c->upload_fd, buf, want);
	} while (r < 0 && errno == EINTR);
	if (r <= 0) {
		/* An early end means the file shrank under us: sending less
		 * than the announced Content-Length would only stall. */
		c->upload_errno = r < 0 ? errno : EIO;
		return CURL_READFUNC_ABORT;
	}
	c->upload_left -= (uint64_t)r;
	return (size_t)r;
}

/* The value of header line DATA (LEN bytes) if it is NAME (with the
 * colon, lowercase): owned, or NULL if it is another header. Sets
 * *NOMEM on out of memory. */
static char *header_value(const char *data, size_t len, const char *name,
			  bool *nomem)
{
	size_t start = strlen(name);
	size_t end = len;
	char *value;

	if (len < start || strncasecmp(data, name, start) != 0) {
		return NULL;
	}
	while (start < end && (data[start] == ' ' || data[start] == '\t')) {
		start++;
	}
	while (end > start && (data[end - 1] == '\r' || data[end - 1] == '\n' ||
			       data[end - 1] == ' ' || data[end - 1] == '\t')) {
		end--;
	}
	value = strndup(data + start, end - start);
	*nomem = value == NULL;
	return value;
}

static size_t transport_header_cb(char *data, size_t size, size_t n, void *arg)
{
	struct thermionic_client *c = arg;
	size_t len = size * n;
	bool nomem = false;
	char *value;

	if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		/* A new response (after 100 Continue, say): forget headers
		 * of the previous one. */
		free(c->etag);
		c->etag = NULL;
		free(c->content_type);
		c->content_type = NULL;
		c->download_decided = false;
		return len;
	}
	if ((value = header_value(data, len, "etag:", &nomem)) != NULL) {
		free(c->etag);
		c->etag = value;
	} else if ((value = header_value(data, len, "content-type:", &nomem)) !=
		   NULL) {
		free(c->content_type);
		c->content_type = value;
	}
	if (nomem) {
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

/* Append "NAME: VALUE" to *LIST; false on out of memory (*LIST is then
 * freed and NULL). */
static bool header_add(struct curl_slist **list, const char *name,
		       const char *value)
{
	size_t len = strlen(name) + strlen(value) + 3;
	struct curl_slist *next;
	char *line = malloc(len);
	if (line == NULL) {
		goto err;
	}
	snprintf(line, len, "%s:%s%s", name, value[0] != '\0' ? " " : "",
		 value);
	next = curl_slist_append(*list, line);
	free(line);
	if (next == NULL) {
		goto err;
	}
	*list = next;
	return true;
err:
	curl_slist_free_all(*list);
	*list = NULL;
	return false;
}

static struct curl_slist *transport_headers(const struct tmc_exchange *ex)
{
	struct curl_slist *list = NULL;
	const char *type = NULL;

	if (ex->body != NULL) {
		type = "application/json";
	} else if (ex->upload_fd >= 0) {
		type = ex->upload_type;
	}
	if (!header_add(&list, "Accept",
			ex->accept != NULL ? ex->accept : "application/json") ||
	    /* Never wait for "100 Continue": the daemon reads bodies
	     * directly. */
	    !header_add(&list, "Expect", "") ||
	    (type != NULL && !header_add(&list, "Content-Type", type)) ||
	    (ex->if_match != NULL &&
	     !header_add(&list, "If-Match", ex->if_match))) {
		return NULL;
	}
	return list;
}

#define SET(opt, val) ok = ok && curl_easy_setopt(h, opt, val) == CURLE_OK

/* Method and request body options. */
static bool transport_setup_body(struct thermionic_client *c,
				 const struct tmc_exchange *ex)
{
	const char *method = ex->method;
	const char *body = ex->body;
	CURL *h = c->curl;
	bool ok = true;

	if (ex->upload_fd >= 0) {
		c->upload_fd = ex->upload_fd;
		c->upload_left = ex->upload_size;
		SET(CURLOPT_POST, 1L);
		SET(CURLOPT_READFUNCTION, transport_read_cb);
		SET(CURLOPT_READDATA, c);
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)ex->upload_size);
		SET(CURLOPT_CUSTOMREQUEST, method);
	} else if (strcmp(method, "GET") == 0) {
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
	return ok;
}

/* Time limits: the whole exchange, or, for long transfers, stalls. */
static bool transport_setup_timeouts(struct thermionic_client *c,
				     const struct tmc_exchange *ex)
{
	CURL *h = c->curl;
	bool ok = true;

	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)THERMIONIC_CONNECT_TIMEOUT_MS);
	if (!ex->stall_timeout) {
		SET(CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
	} else if (c->timeout_ms > 0) {
		long seconds = (long)((c->timeout_ms + 999u) / 1000u);
		SET(CURLOPT_LOW_SPEED_LIMIT, 1L);
		SET(CURLOPT_LOW_SPEED_TIME, seconds);
	}
	return ok;
}

/* Where and how to connect: the unix socket, or TLS 1.3 with pinning and
 * the client certificate. */
static bool transport_setup_peer(struct thermionic_client *c)
{
	CURL *h = c->curl;
	bool ok = true;
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
	return ok;
}

/* Set every option for this exchange. Returns false if curl refused one
 * (out of memory or an option this libcurl lacks). */
static bool transport_setup(struct thermionic_client *c,
			    const struct tmc_exchange *ex, const char *url,
			    struct curl_slist *headers)
{
	CURL *h = c->curl;
	bool ok = true;

	curl_easy_reset(h);
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
	if (ex->download_fd < 0) {
		SET(CURLOPT_MAXFILESIZE_LARGE,
		    (curl_off_t)THERMIONIC_MAX_BODY_BYTES);
	}
	ok = ok && transport_setup_timeouts(c, ex) &&
	     transport_setup_body(c, ex);
	return ok && transport_setup_peer(c);
}

static int transport_map_error(struct thermionic_client *c, CURLcode rc);

int tmc_transport_connect_only(struct thermionic_client *c, const char *url)
{
	CURL *h = c->curl;
	bool ok = true;
	curl_easy_reset(h);
	c->curl_errbuf[0] = '\0';
	c->pin_failed = false;
	SET(CURLOPT_URL, url);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_PROXY, "");
	SET(CURLOPT_CONNECT_ONLY, 1L);
	SET(CURLOPT_ERRORBUFFER, c->curl_errbuf);
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)THERMIONIC_CONNECT_TIMEOUT_MS);
	if (!ok || !transport_setup_peer(c)) {
		return tmc_fail(c, THERMIONIC_ERR_NOMEM,
				"cannot set up the connection to %s",
				c->target);
	}
	CURLcode rc = curl_easy_perform(h);
	return rc == CURLE_OK ? THERMIONIC_OK : transport_map_error(c, rc);
}

#undef SET

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
	if (c->upload_errno != 0) {
		return tmc_fail(
		    c, THERMIONIC_ERR_IO, "reading the request body: %s",
		    c->upload_errno == EIO ? "the file shrank while it was sent"
					   : strerror(c->upload_errno));
	}
	if (c->download_errno != 0) {
		return tmc_fail(c, THERMIONIC_ERR_IO,
				"writing the response body: %s",
				strerror(c->download_errno));
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

int tmc_transport_exchange(struct thermionic_client *c,
			   const struct tmc_exchange *ex)
{
	struct curl_slist *headers = NULL;
	const char *method = ex->method;
	const char *path = ex->path;
	char *url = NULL;
	size_t url_len;
	long status = 0;
	CURLcode rc;
	int rv;

	tmc_transport_reset(c);
	c->status = 0;
	c->pin_failed = false;
	c->curl_errbuf[0] = '\0';
	c->download_fd = ex->download_fd;
	if (!method_valid(method) || !path_valid(path) ||
	    (ex->if_match != NULL && !header_value_valid(ex->if_match)) ||
	    (ex->upload_fd >= 0 &&
	     (ex->body != NULL || ex->upload_type == NULL ||
	      !header_value_valid(ex->upload_type)))) {
		return tmc_fail(c, THERMIONIC_ERR_INVALID,
				"invalid request: method %s path %s",
				method == NULL ? "(null)" : method,
				path == NULL ? "(null)" : path);
	}
	if (ex->body != NULL && strlen(ex->body) > THERMIONIC_MAX_BODY_BYTES) {
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
	headers = transport_headers(ex);
	if (url == NULL || headers == NULL) {
		rv = tmc_fail(c, THERMIONIC_ERR_NOMEM, "out of memory");
		goto out;
	}
	snprintf(url, url_len, "%s%s", c->base_url, path);
	if (!transport_setup(c, ex, url, headers)) {
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
	/* The descriptors are the caller's and valid only for this call. */
	c->upload_fd = -1;
	c->download_fd = -1;
	curl_slist_free_all(headers);
	free(url);
	return rv;
}

int tmc_transport_perform(struct thermionic_client *c, const char *method,
			  const char *path, const char *body,
			  const char *if_match)
{
	struct tmc_exchange ex;
	tmc_exchange_init(&ex);
	ex.method = method;
	ex.path = path;
	ex.body = body;
	ex.if_match = if_match;
	return tmc_transport_exchange(c, &ex);
}

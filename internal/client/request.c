/* One request: curl's easy handle, its callbacks and its result.
 *
 * Happy path: hclient_request_setup checks the inputs and sets every
 * option -> curl connects; on a new connection hclient_ssl_ctx_cb gives
 * the TLS context our certificate and the pin check (pin_verify_cb), run
 * during the handshake -> prereq_cb, right before the request is written
 * (new or reused connection), checks the pin again on the connection's
 * certificate and marks the request SENT -> header_cb keeps the ETag
 * (and the header KEEP_HEADER names),
 * write_cb the body -> hclient_request_result reads the HTTP status and
 * Content-Type.
 *
 * Failure modes, each mapped to a status and a message in
 * hclient_request_result:
 * - a malformed input: TM_INVALID from setup, nothing started;
 * - resolution or connection failure: TM_CONNECT, nothing sent;
 * - the server's certificate is not the pin, seen in the handshake or on
 *   a reused connection: TM_PIN, nothing sent;
 * - another TLS failure: TM_TLS;
 * - connect timeout or whole-request timeout: TM_TIMEOUT;
 * - connection lost, nothing or part of an answer: TM_IO;
 * - a body beyond MAX_RESPONSE (write_cb refuses it, or the announced
 *   Content-Length): TM_TOOBIG;
 * - an answer that is not HTTP: TM_PROTO. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "internal/client/internal.h"
#include "internal/lib/assert.h"
#include "internal/lib/mem.h"
#include "internal/tls/tls.h"

#define DEFAULT_TIMEOUT_MS 30000
#define DEFAULT_MAX_RESPONSE ((size_t)64 * 1024 * 1024)

/* ---- the pin ---- */

/* Does CERT's fingerprint equal REQ's pin? If not, say why in pin_msg. */
static bool pin_matches(struct hclient_request *req, X509 *cert)
{
	char fp[TLS_FINGERPRINT_LEN + 1];
	if (cert == NULL || tls_fingerprint_x509(cert, fp) != 0) {
		tm_errmsg_printf(req->pin_msg,
				 "%s presented no usable certificate",
				 req->address);
		req->pin_failed = true;
		return false;
	}
	if (strcmp(fp, req->pin) != 0) {
		tm_errmsg_printf(req->pin_msg,
				 "%s presented certificate %s, not the pinned "
				 "%s",
				 req->address, fp, req->pin);
		req->pin_failed = true;
		return false;
	}
	return true;
}

/* SSL_CTX_set_cert_verify_callback: 1 accepts the server's chain, 0
 * fails the handshake before any HTTP byte is written. */
static int pin_verify_cb(X509_STORE_CTX *store, void *arg)
{
	struct hclient_request *req = arg;
	if (!pin_matches(req, X509_STORE_CTX_get0_cert(store))) {
		X509_STORE_CTX_set_error(store,
					 X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	X509_STORE_CTX_set_error(store, X509_V_OK);
	return 1;
}

/* Curl makes a new SSL_CTX for every new connection and hands it here
 * before the handshake: the member's certificate, and verification by
 * the pin instead of a CA store (curl set SSL_VERIFY_NONE before). */
CURLcode hclient_ssl_ctx_cb(CURL *curl, void *ssl_ctx, void *parm)
{
	struct hclient_request *req = parm;
	SSL_CTX *ctx = ssl_ctx;
	(void)curl;
	if (SSL_CTX_use_certificate(ctx, req->client->cert) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, req->client->key) != 1) {
		return CURLE_SSL_CERTPROBLEM;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_cert_verify_callback(ctx, pin_verify_cb, req);
	return CURLE_OK;
}

/* CURLOPT_PREREQFUNCTION: the connection is ready, new or reused, and
 * the request is about to be written. A reused connection was verified
 * with another request's pin: check ours on its certificate. */
static int prereq_cb(void *clientp, char *primary_ip, char *local_ip,
		     int primary_port, int local_port)
{
	struct hclient_request *req = clientp;
	struct curl_tlssessioninfo *info = NULL;
	(void)primary_ip;
	(void)local_ip;
	(void)primary_port;
	(void)local_port;
	curl_easy_getinfo(req->easy, CURLINFO_TLS_SSL_PTR, &info);
	if (info == NULL || info->backend != CURLSSLBACKEND_OPENSSL ||
	    info->internals == NULL) {
		tm_errmsg_printf(req->pin_msg,
				 "no TLS session to check %s's certificate",
				 req->address);
		req->pin_failed = true;
		return CURL_PREREQFUNC_ABORT;
	}
	if (!pin_matches(req, SSL_get0_peer_certificate(info->internals))) {
		return CURL_PREREQFUNC_ABORT;
	}
	req->sent = true;
	return CURL_PREREQFUNC_OK;
}

/* ---- answers ---- */

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct hclient_request *req = userdata;
	size_t n = size * nmemb;
	size_t max =
	    req->max_response != 0 ? req->max_response : DEFAULT_MAX_RESPONSE;
	if (n > max - req->body_out_len) {
		req->too_big = true;
		return 0; /* CURLE_WRITE_ERROR */
	}
	if (req->body_out_len + n + 1 > req->body_cap) {
		size_t cap = req->body_cap < 4096 ? 4096 : req->body_cap;
		while (cap < req->body_out_len + n + 1) {
			cap *= 2;
		}
		req->body_out = tm_realloc(req->body_out, cap);
		req->body_cap = cap;
	}
	memcpy(req->body_out + req->body_out_len, ptr, n);
	req->body_out_len += n;
	req->body_out[req->body_out_len] = '\0';
	return n;
}

/* If the header line BUFFER (N bytes) is NAME's, its value, trimmed, as
 * an owned string; else NULL. */
static char *header_value(const char *buffer, size_t n, const char *name)
{
	size_t len = strlen(name);
	if (n <= len || buffer[len] != ':' ||
	    strncasecmp(buffer, name, len) != 0) {
		return NULL;
	}
	const char *v = buffer + len + 1;
	const char *end = buffer + n;
	while (v < end && (*v == ' ' || *v == '\t')) {
		v++;
	}
	while (end > v && isspace((unsigned char)end[-1])) {
		end--;
	}
	return tm_strndup(v, (size_t)(end - v));
}

static size_t header_cb(char *buffer, size_t size, size_t nitems,
			void *userdata)
{
	struct hclient_request *req = userdata;
	size_t n = size * nitems;
	char *v;
	if (n >= 5 && memcmp(buffer, "HTTP/", 5) == 0) {
		/* A new answer (after a 1xx): forget the previous one's. */
		tm_free(req->etag);
		tm_free(req->kept_header);
		req->etag = NULL;
		req->kept_header = NULL;
	} else if ((v = header_value(buffer, n, "ETag")) != NULL) {
		tm_free(req->etag);
		req->etag = v;
	} else if (req->keep_header != NULL &&
		   (v = header_value(buffer, n, req->keep_header)) != NULL) {
		tm_free(req->kept_header);
		req->kept_header = v;
	}
	return n;
}

/* CURLOPT_SOCKOPTFUNCTION: called for each socket curl opens. */
static int sockopt_cb(void *clientp, curl_socket_t fd, curlsocktype purpose)
{
	struct hclient *c = clientp;
	(void)fd;
	if (purpose == CURLSOCKTYPE_IPCXN) {
		c->stats.connections++;
	}
	return CURL_SOCKOPT_OK;
}

/* ---- setup ---- */

static bool valid_pin(const char *pin)
{
	if (pin == NULL || strlen(pin) != TLS_FINGERPRINT_LEN) {
		return false;
	}
	for (const char *p = pin; *p != '\0'; p++) {
		if (!isdigit((unsigned char)*p) && (*p < 'a' || *p > 'f')) {
			return false;
		}
	}
	return true;
}

static int check_inputs(const struct hclient_request *req, char *errmsg)
{
	const char *what = NULL;
	if (req->method == NULL || req->method[0] == '\0' ||
	    strspn(req->method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") !=
		strlen(req->method)) {
		what = "method";
	} else if (req->address == NULL || req->address[0] == '\0' ||
		   strpbrk(req->address, "/?#@ \t\r\n") != NULL) {
		what = "address";
	} else if (req->path == NULL || req->path[0] != '/' ||
		   strpbrk(req->path, " \t\r\n") != NULL) {
		what = "path";
	} else if (!valid_pin(req->pin)) {
		what = "pin (64 lowercase hex characters)";
	} else if (req->body == NULL && req->body_len > 0) {
		what = "body";
	}
	if (what != NULL) {
		tm_errmsg_printf(errmsg, "invalid request: bad %s", what);
		return TM_INVALID;
	}
	return 0;
}

static bool header_add(struct curl_slist **list, const char *line)
{
	struct curl_slist *next = curl_slist_append(*list, line);
	if (next == NULL) {
		return false;
	}
	*list = next;
	return true;
}

/* "Expect:" and an empty "Content-Type:" remove what curl would add on
 * its own (a 100-continue wait, a form content type). */
static struct curl_slist *build_headers(const struct hclient_request *req)
{
	struct curl_slist *list = NULL;
	bool ok = header_add(&list, "Expect:");
	char *type = tm_asprintf(
	    "Content-Type:%s%s", req->content_type != NULL ? " " : "",
	    req->content_type != NULL ? req->content_type : "");
	ok = ok && header_add(&list, type);
	tm_free(type);
	for (const char *p = req->headers; ok && p != NULL && *p != '\0';) {
		size_t len = strcspn(p, "\r\n");
		if (len > 0) {
			char *line = tm_strndup(p, len);
			ok = header_add(&list, line);
			tm_free(line);
		}
		p += len;
		p += strspn(p, "\r\n");
	}
	if (!ok) {
		curl_slist_free_all(list);
		return NULL;
	}
	return list;
}

#define SET(opt, val) ok = ok && curl_easy_setopt(h, opt, val) == CURLE_OK

static bool setup_method(CURL *h, const struct hclient_request *req)
{
	bool ok = true;
	const char *m = req->method;
	bool with_body = req->body_len > 0 || strcmp(m, "POST") == 0 ||
			 strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0;
	if (with_body) {
		SET(CURLOPT_POSTFIELDS, req->body != NULL ? req->body : "");
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		SET(CURLOPT_CUSTOMREQUEST, m);
	} else if (strcmp(m, "GET") == 0) {
		SET(CURLOPT_HTTPGET, 1L);
	} else if (strcmp(m, "HEAD") == 0) {
		SET(CURLOPT_NOBODY, 1L);
	} else {
		SET(CURLOPT_CUSTOMREQUEST, m);
	}
	return ok;
}

static bool setup_tls(CURL *h, struct hclient_request *req)
{
	bool ok = true;
	SET(CURLOPT_SSLVERSION,
	    (long)(CURL_SSLVERSION_TLSv1_3 | CURL_SSLVERSION_MAX_DEFAULT));
	/* Verification is ours: no CA store to load (it would be read from
	 * disk on the loop for every connection), no host name check. */
	SET(CURLOPT_SSL_VERIFYPEER, 0L);
	SET(CURLOPT_SSL_VERIFYHOST, 0L);
	SET(CURLOPT_CAINFO, NULL);
	SET(CURLOPT_CAPATH, NULL);
	/* No session resumption: each new connection shows its certificate
	 * to the pin check. */
	SET(CURLOPT_SSL_SESSIONID_CACHE, 0L);
	SET(CURLOPT_SSL_CTX_FUNCTION, hclient_ssl_ctx_cb);
	SET(CURLOPT_SSL_CTX_DATA, req);
	SET(CURLOPT_PREREQFUNCTION, prereq_cb);
	SET(CURLOPT_PREREQDATA, req);
	return ok;
}

static bool setup_options(struct hclient *c, CURL *h,
			  struct hclient_request *req)
{
	bool ok = true;
	size_t max =
	    req->max_response != 0 ? req->max_response : DEFAULT_MAX_RESPONSE;
	SET(CURLOPT_URL, req->url);
	SET(CURLOPT_PROTOCOLS_STR, "https");
	SET(CURLOPT_PRIVATE, (char *)req);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_PROXY, "");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_PATH_AS_IS, 1L);
	SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	SET(CURLOPT_USERAGENT, "thermionic/" THERMIONIC_VERSION);
	SET(CURLOPT_HTTPHEADER, (struct curl_slist *)req->header_list);
	SET(CURLOPT_ERRORBUFFER, req->curl_error);
	SET(CURLOPT_WRITEFUNCTION, write_cb);
	SET(CURLOPT_WRITEDATA, req);
	SET(CURLOPT_HEADERFUNCTION, header_cb);
	SET(CURLOPT_HEADERDATA, req);
	SET(CURLOPT_SOCKOPTFUNCTION, sockopt_cb);
	SET(CURLOPT_SOCKOPTDATA, c);
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)c->connect_timeout_ms);
	SET(CURLOPT_TIMEOUT_MS,
	    (long)(req->timeout_ms != 0 ? req->timeout_ms
					: DEFAULT_TIMEOUT_MS));
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max);
	return ok && setup_method(h, req) && setup_tls(h, req);
}

#undef SET

int hclient_request_setup(struct hclient *c, struct hclient_request *req)
{
	int rv = check_inputs(req, req->errmsg);
	if (rv != 0) {
		return rv;
	}
	req->curl_error[0] = '\0';
	req->pin_msg[0] = '\0';
	req->header_list = build_headers(req);
	req->url = tm_asprintf("https://%s%s", req->address, req->path);
	CURL *h = curl_easy_init();
	req->easy = h;
	if (h == NULL || req->header_list == NULL ||
	    !setup_options(c, h, req)) {
		tm_errmsg_printf(req->errmsg,
				 "request to %s: setting up curl failed",
				 req->address);
		hclient_request_release(req);
		return TM_IO;
	}
	return 0;
}

uint64_t hclient_request_deadline(const struct hclient_request *req)
{
	uint64_t total =
	    req->timeout_ms != 0 ? req->timeout_ms : DEFAULT_TIMEOUT_MS;
	return req->started_ns + total * 1000000;
}

bool hclient_request_rearm(struct hclient_request *req)
{
	uint64_t total =
	    req->timeout_ms != 0 ? req->timeout_ms : DEFAULT_TIMEOUT_MS;
	uint64_t waited = (uv_hrtime() - req->started_ns) / 1000000;
	if (waited >= total) {
		hclient_request_release(req);
		req->status = TM_TIMEOUT;
		tm_errmsg_printf(req->errmsg,
				 "request to %s: timed out after %llu ms "
				 "waiting its turn",
				 req->address, (unsigned long long)waited);
		return false;
	}
	curl_easy_setopt(req->easy, CURLOPT_TIMEOUT_MS, (long)(total - waited));
	return true;
}

void hclient_request_release(struct hclient_request *req)
{
	if (req->easy != NULL) {
		curl_easy_cleanup(req->easy);
		req->easy = NULL;
	}
	curl_slist_free_all(req->header_list);
	req->header_list = NULL;
	tm_free(req->url);
	req->url = NULL;
}

void hclient_request_clear(struct hclient_request *req)
{
	PRE(!req->waiting && !req->in_flight && !req->done);
	tm_free(req->body_out);
	tm_free(req->content_type_out);
	tm_free(req->etag);
	tm_free(req->kept_header);
	req->body_out = NULL;
	req->content_type_out = NULL;
	req->etag = NULL;
	req->kept_header = NULL;
	req->body_out_len = 0;
	req->body_cap = 0;
}

/* ---- results ---- */

/* Why curl failed, for messages: the system's reason for a failed
 * connection ("connection refused"), else curl's own words. */
static void reason(struct hclient_request *req, CURLcode rc, char *out,
		   size_t size)
{
	long os_errno = 0;
	curl_easy_getinfo(req->easy, CURLINFO_OS_ERRNO, &os_errno);
	if (os_errno != 0 &&
	    (rc == CURLE_COULDNT_CONNECT || rc == CURLE_SEND_ERROR ||
	     rc == CURLE_RECV_ERROR)) {
		snprintf(out, size, "%s", strerror((int)os_errno));
		out[0] = (char)tolower((unsigned char)out[0]);
	} else if (req->curl_error[0] != '\0') {
		snprintf(out, size, "%s", req->curl_error);
	} else {
		snprintf(out, size, "%s", curl_easy_strerror(rc));
	}
}

static int map_failure(struct hclient_request *req, CURLcode rc)
{
	char why[TM_ERRMSG_SIZE];
	const char *a = req->address;
	unsigned long ms =
	    (unsigned long)((uv_hrtime() - req->started_ns) / 1000000);
	size_t max =
	    req->max_response != 0 ? req->max_response : DEFAULT_MAX_RESPONSE;
	reason(req, rc, why, sizeof why);
	if (req->pin_failed) {
		tm_errmsg_printf(req->errmsg, "%s", req->pin_msg);
		return TM_PIN;
	}
	if (req->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
		tm_errmsg_printf(req->errmsg,
				 "answer from %s is larger than %zu bytes", a,
				 max);
		return TM_TOOBIG;
	}
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
		tm_errmsg_printf(req->errmsg, "connect to %s: %s", a, why);
		return TM_CONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		tm_errmsg_printf(req->errmsg,
				 req->sent ? "no answer from %s within %lu ms"
					   : "connect to %s: timed out after "
					     "%lu ms",
				 a, ms);
		return TM_TIMEOUT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CLIENTCERT:
		tm_errmsg_printf(req->errmsg, "TLS with %s: %s", a, why);
		return TM_TLS;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		tm_errmsg_printf(req->errmsg, "connection to %s lost: %s", a,
				 why);
		return TM_IO;
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_UNSUPPORTED_PROTOCOL:
		tm_errmsg_printf(req->errmsg, "bad answer from %s: %s", a, why);
		return TM_PROTO;
	default:
		tm_errmsg_printf(req->errmsg, "request to %s: %s", a, why);
		return TM_IO;
	}
}

void hclient_request_result(struct hclient_request *req, CURLcode rc)
{
	if (rc == CURLE_OK) {
		char *type = NULL;
		curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE,
				  &req->http_status);
		curl_easy_getinfo(req->easy, CURLINFO_CONTENT_TYPE, &type);
		req->content_type_out = type != NULL ? tm_strdup(type) : NULL;
		if (req->body_out == NULL) {
			req->body_out = tm_strdup("");
		}
		req->status = 0;
		req->errmsg[0] = '\0';
	} else {
		req->status = map_failure(req, rc);
		tm_free(req->body_out);
		tm_free(req->etag);
		tm_free(req->kept_header);
		req->body_out = NULL;
		req->etag = NULL;
		req->kept_header = NULL;
		req->body_out_len = 0;
		req->body_cap = 0;
	}
	hclient_request_release(req);
}

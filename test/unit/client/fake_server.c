/* Scripted HTTP/1.1 server thread for the client tests (fake_server.h). */
#include "test/unit/client/fake_server.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#define FAKE_BUF_MAX (8 * 1024 * 1024)

static void die(const char *what)
{
	fprintf(stderr, "fake_server: %s: %s\n", what, strerror(errno));
	abort();
}

static bool stopped(struct fake_server *s)
{
	bool stop;
	pthread_mutex_lock(&s->lock);
	stop = s->stop;
	pthread_mutex_unlock(&s->lock);
	return stop;
}

struct conn {
	int fd;
	SSL *ssl;
	char *buf;
	size_t len;
};

/* Wait for input, checking the stop flag every 20 ms; then read. */
static long conn_read(struct fake_server *s, struct conn *c, char *buf,
		      size_t n)
{
	for (;;) {
		struct pollfd p = {.fd = c->fd, .events = POLLIN};
		if (c->ssl != NULL && SSL_pending(c->ssl) > 0) {
			break;
		}
		if (poll(&p, 1, 20) > 0) {
			break;
		}
		if (stopped(s)) {
			return -1;
		}
	}
	if (c->ssl != NULL) {
		int r = SSL_read(c->ssl, buf, (int)n);
		return r > 0 ? r : 0;
	}
	return read(c->fd, buf, n);
}

static bool conn_write(struct conn *c, const char *data, size_t len)
{
	while (len > 0) {
		long w = c->ssl != NULL ? SSL_write(c->ssl, data, (int)len)
					: write(c->fd, data, len);
		if (w <= 0) {
			return false;
		}
		data += w;
		len -= (size_t)w;
	}
	return true;
}

/* Read until the buffer holds WANT bytes; false on EOF/stop. */
static bool conn_fill(struct fake_server *s, struct conn *c, size_t want)
{
	while (c->len < want) {
		long r;
		if (want > FAKE_BUF_MAX) {
			return false;
		}
		r = conn_read(s, c, c->buf + c->len, FAKE_BUF_MAX - c->len);
		if (r <= 0) {
			return false;
		}
		c->len += (size_t)r;
	}
	return true;
}

static char *header_value(const char *headers, const char *name)
{
	size_t len = strlen(name);
	for (const char *line = headers; line != NULL && *line != '\0';) {
		const char *end = strstr(line, "\r\n");
		if (strncasecmp(line, name, len) == 0 && line[len] == ':') {
			const char *v = line + len + 1;
			while (*v == ' ') {
				v++;
			}
			return strndup(v, end != NULL ? (size_t)(end - v)
						      : strlen(v));
		}
		line = end != NULL ? end + 2 : NULL;
	}
	return NULL;
}

/* Read and record one request; false when the connection is over. */
static bool read_request(struct fake_server *s, struct conn *c, int conn_no)
{
	struct fake_request req = {.connection = conn_no};
	char *end = NULL;
	char *length;
	size_t head_len;
	size_t body_len = 0;

	while ((end = c->len > 0 ? memmem(c->buf, c->len, "\r\n\r\n", 4)
				 : NULL) == NULL) {
		if (!conn_fill(s, c, c->len + 1)) {
			return false;
		}
	}
	head_len = (size_t)(end - c->buf) + 4;
	sscanf(c->buf, "%15s %255s", req.method, req.path);
	req.headers =
	    strndup(strstr(c->buf, "\r\n") + 2,
		    head_len - (size_t)(strstr(c->buf, "\r\n") + 2 - c->buf));
	length = header_value(req.headers, "Content-Length");
	if (length != NULL) {
		body_len = strtoull(length, NULL, 10);
		free(length);
	}
	if (!conn_fill(s, c, head_len + body_len)) {
		free(req.headers);
		return false;
	}
	req.body = malloc(body_len + 1);
	memcpy(req.body, c->buf + head_len, body_len);
	req.body[body_len] = '\0';
	req.body_len = body_len;
	memmove(c->buf, c->buf + head_len + body_len,
		c->len - head_len - body_len);
	c->len -= head_len + body_len;
	pthread_mutex_lock(&s->lock);
	if (s->n_requests < FAKE_MAX_REQUESTS) {
		s->requests[s->n_requests++] = req;
	} else {
		free(req.headers);
		free(req.body);
	}
	pthread_mutex_unlock(&s->lock);
	return true;
}

static struct fake_reply next_reply(struct fake_server *s)
{
	struct fake_reply r = {
	    .status = 500,
	    .body =
		"{\"type\":\"error\",\"status\":\"Failure\",\"status_code\":"
		"500,\"error_code\":500,\"error\":\"no canned reply\","
		"\"metadata\":null}",
	};
	pthread_mutex_lock(&s->lock);
	if (s->next_reply < s->n_replies) {
		r = s->replies[s->next_reply++];
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

/* Answer; false if the connection must be closed afterwards. */
static bool send_reply(struct fake_server *s, struct conn *c)
{
	struct fake_reply r = next_reply(s);
	size_t body_len = r.body == NULL   ? 0
			  : r.body_len > 0 ? r.body_len
					   : strlen(r.body);
	char head[1024];
	int n;

	if (r.hang) {
		char sink[256];
		while (conn_read(s, c, sink, sizeof sink) > 0) {
		}
		return false;
	}
	n = snprintf(
	    head, sizeof head,
	    "HTTP/1.1 %d Canned\r\nContent-Type: %s\r\n"
	    "Content-Length: %llu\r\n%s%s\r\n",
	    r.status,
	    r.content_type != NULL ? r.content_type : "application/json",
	    r.fake_length != 0 ? r.fake_length : (unsigned long long)body_len,
	    r.headers != NULL ? r.headers : "",
	    r.close || r.fake_length != 0 ? "Connection: close\r\n" : "");
	if (!conn_write(c, head, (size_t)n)) {
		return false;
	}
	if (body_len > 0 && !conn_write(c, r.body, body_len)) {
		return false;
	}
	return !r.close && r.fake_length == 0;
}

static void tls_record_peer(struct fake_server *s, SSL *ssl)
{
	X509 *peer = SSL_get1_peer_certificate(ssl);
	pthread_mutex_lock(&s->lock);
	s->tls_version = SSL_version(ssl);
	s->client_fingerprint[0] = '\0';
	if (peer != NULL) {
		fake_cert_fingerprint(peer, s->client_fingerprint);
	}
	pthread_mutex_unlock(&s->lock);
	X509_free(peer);
}

static void serve_conn(struct fake_server *s, int fd, int conn_no)
{
	struct conn c = {.fd = fd};

	if (s->tls != NULL) {
		c.ssl = SSL_new(s->tls);
		SSL_set_fd(c.ssl, fd);
		if (SSL_accept(c.ssl) != 1) {
			char sink[256];
			pthread_mutex_lock(&s->lock);
			s->n_handshake_failures++;
			pthread_mutex_unlock(&s->lock);
			/* Lingering close: closing with unread input would
			 * send a reset that can overtake our alert. */
			shutdown(fd, SHUT_WR);
			SSL_free(c.ssl);
			c.ssl = NULL;
			while (conn_read(s, &c, sink, sizeof sink) > 0) {
			}
			goto out;
		}
		tls_record_peer(s, c.ssl);
	}
	c.buf = malloc(FAKE_BUF_MAX);
	while (read_request(s, &c, conn_no) && send_reply(s, &c)) {
	}
	free(c.buf);
out:
	if (c.ssl != NULL) {
		SSL_shutdown(c.ssl);
		SSL_free(c.ssl);
	}
	close(fd);
}

static void *server_main(void *arg)
{
	struct fake_server *s = arg;
	while (!stopped(s)) {
		struct pollfd p = {.fd = s->listen_fd, .events = POLLIN};
		int fd;
		int conn_no;
		if (poll(&p, 1, 20) <= 0) {
			continue;
		}
		fd = accept(s->listen_fd, NULL, NULL);
		if (fd < 0) {
			continue;
		}
		pthread_mutex_lock(&s->lock);
		conn_no = ++s->n_connections;
		pthread_mutex_unlock(&s->lock);
		serve_conn(s, fd, conn_no);
	}
	return NULL;
}

static void server_init(struct fake_server *s)
{
	memset(s, 0, sizeof *s);
	pthread_mutex_init(&s->lock, NULL);
	strcpy(s->dir, "/tmp/thermc-XXXXXX");
	if (mkdtemp(s->dir) == NULL) {
		die("mkdtemp");
	}
}

void fake_server_start_unix(struct fake_server *s)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};

	server_init(s);
	snprintf(s->socket_path, sizeof s->socket_path, "%s/unix.socket",
		 s->dir);
	strcpy(addr.sun_path, s->socket_path);
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->listen_fd < 0 ||
	    bind(s->listen_fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
	    listen(s->listen_fd, 8) != 0) {
		die("unix listen");
	}
	if (pthread_create(&s->thread, NULL, server_main, s) != 0) {
		die("pthread_create");
	}
}

static int accept_any_cert_cb(int preverify, X509_STORE_CTX *store)
{
	(void)preverify;
	(void)store;
	return 1;
}

void fake_server_start_tls(struct fake_server *s, X509 *cert, EVP_PKEY *key,
			   int port)
{
	struct sockaddr_in addr = {.sin_family = AF_INET};
	socklen_t len = sizeof addr;
	int one = 1;

	server_init(s);
	s->tls = SSL_CTX_new(TLS_server_method());
	if (s->tls == NULL ||
	    SSL_CTX_set_min_proto_version(s->tls, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_use_certificate(s->tls, cert) != 1 ||
	    SSL_CTX_use_PrivateKey(s->tls, key) != 1) {
		die("SSL_CTX");
	}
	SSL_CTX_set_verify(s->tls, SSL_VERIFY_PEER, accept_any_cert_cb);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = htons((uint16_t)port);
	s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->listen_fd < 0 ||
	    setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one,
		       sizeof one) != 0 ||
	    bind(s->listen_fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
	    listen(s->listen_fd, 8) != 0 ||
	    getsockname(s->listen_fd, (struct sockaddr *)&addr, &len) != 0) {
		die("tcp listen");
	}
	s->port = ntohs(addr.sin_port);
	if (pthread_create(&s->thread, NULL, server_main, s) != 0) {
		die("pthread_create");
	}
}

void fake_server_script(struct fake_server *s, const struct fake_reply *r,
			size_t n)
{
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < n && s->n_replies < FAKE_MAX_REPLIES; i++) {
		s->replies[s->n_replies++] = r[i];
	}
	pthread_mutex_unlock(&s->lock);
}

/* Canned bodies are owned by the server until it stops. */
static const char *keep(struct fake_server *s, char *text)
{
	pthread_mutex_lock(&s->lock);
	if (s->n_owned == FAKE_MAX_REPLIES) {
		pthread_mutex_unlock(&s->lock);
		errno = ENOSPC;
		die("too many canned replies");
	}
	s->owned[s->n_owned++] = text;
	pthread_mutex_unlock(&s->lock);
	return text;
}

void fake_server_sync(struct fake_server *s, const char *metadata_json,
		      const char *headers)
{
	char *body = NULL;
	struct fake_reply r = {.status = 200, .headers = headers};
	if (asprintf(&body,
		     "{\"type\":\"sync\",\"status\":\"Success\","
		     "\"status_code\":200,\"operation\":\"\",\"error_code\":0,"
		     "\"error\":\"\",\"metadata\":%s}",
		     metadata_json) < 0) {
		die("asprintf");
	}
	r.body = keep(s, body);
	fake_server_script(s, &r, 1);
}

void fake_server_error(struct fake_server *s, int status, const char *msg)
{
	char *body = NULL;
	struct fake_reply r = {.status = status};
	if (asprintf(&body,
		     "{\"type\":\"error\",\"status\":\"Failure\","
		     "\"status_code\":%d,\"operation\":\"\",\"error_code\":%d,"
		     "\"error\":\"%s\",\"metadata\":null}",
		     status, status, msg) < 0) {
		die("asprintf");
	}
	r.body = keep(s, body);
	fake_server_script(s, &r, 1);
}

void fake_server_stop(struct fake_server *s)
{
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	close(s->listen_fd);
	if (s->socket_path[0] != '\0') {
		unlink(s->socket_path);
	}
	rmdir(s->dir);
	for (size_t i = 0; i < s->n_requests; i++) {
		free(s->requests[i].headers);
		free(s->requests[i].body);
	}
	for (size_t i = 0; i < s->n_owned; i++) {
		free(s->owned[i]);
	}
	SSL_CTX_free(s->tls);
	pthread_mutex_destroy(&s->lock);
}

size_t fake_server_n_requests(struct fake_server *s)
{
	size_t n;
	pthread_mutex_lock(&s->lock);
	n = s->n_requests;
	pthread_mutex_unlock(&s->lock);
	return n;
}

int fake_server_n_connections(struct fake_server *s)
{
	int n;
	pthread_mutex_lock(&s->lock);
	n = s->n_connections;
	pthread_mutex_unlock(&s->lock);
	return n;
}

char *fake_server_request_line(struct fake_server *s, size_t i)
{
	char *line = NULL;
	pthread_mutex_lock(&s->lock);
	if (i < s->n_requests && asprintf(&line, "%s %s", s->requests[i].method,
					  s->requests[i].path) < 0) {
		line = NULL;
	}
	pthread_mutex_unlock(&s->lock);
	return line;
}

char *fake_server_request_header(struct fake_server *s, size_t i,
				 const char *name)
{
	char *value = NULL;
	pthread_mutex_lock(&s->lock);
	if (i < s->n_requests) {
		value = header_value(s->requests[i].headers, name);
	}
	pthread_mutex_unlock(&s->lock);
	return value;
}

char *fake_server_request_body(struct fake_server *s, size_t i)
{
	char *body = NULL;
	pthread_mutex_lock(&s->lock);
	if (i < s->n_requests) {
		body = strdup(s->requests[i].body);
	}
	pthread_mutex_unlock(&s->lock);
	return body;
}

char *fake_server_request_bytes(struct fake_server *s, size_t i, size_t *len)
{
	char *body = NULL;
	*len = 0;
	pthread_mutex_lock(&s->lock);
	if (i < s->n_requests) {
		*len = s->requests[i].body_len;
		body = malloc(*len + 1);
		memcpy(body, s->requests[i].body, *len + 1);
	}
	pthread_mutex_unlock(&s->lock);
	return body;
}

void fake_cert_make(const char *cn, X509 **cert, EVP_PKEY **key)
{
	static long serial = 1;
	X509_NAME *name;

	*key = EVP_EC_gen("P-256");
	*cert = X509_new();
	if (*key == NULL || *cert == NULL) {
		die("EVP_EC_gen");
	}
	X509_set_version(*cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(*cert), serial++);
	X509_gmtime_adj(X509_getm_notBefore(*cert), -60);
	X509_gmtime_adj(X509_getm_notAfter(*cert), 3600);
	X509_set_pubkey(*cert, *key);
	name = X509_get_subject_name(*cert);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				   (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(*cert, name);
	if (X509_sign(*cert, *key, EVP_sha256()) == 0) {
		die("X509_sign");
	}
}

void fake_cert_write(const char *cert_path, const char *key_path, X509 *cert,
		     EVP_PKEY *key)
{
	FILE *f = fopen(cert_path, "w");
	if (f == NULL || PEM_write_X509(f, cert) != 1) {
		die("write cert");
	}
	fclose(f);
	f = fopen(key_path, "w");
	if (f == NULL ||
	    PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) != 1) {
		die("write key");
	}
	fclose(f);
}

void fake_cert_fingerprint(X509 *cert, char *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	X509_digest(cert, EVP_sha256(), md, &len);
	for (unsigned int i = 0; i < len; i++) {
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	}
}

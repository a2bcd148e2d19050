/* A hostile HTTPS client for the system tests, bounded in count and time.
 *
 *   tm-hostile ADDRESS upload N     N connections without a certificate,
 *                                   each starting an 8 MiB PUT
 *   tm-hostile ADDRESS hold N SECS  N connections kept open SECS seconds
 *   tm-hostile ADDRESS pipeline N   N GETs in one go, then a half-close
 *
 * Each mode prints one line of counts ("key=value ...") and exits 0;
 * every socket operation has a timeout and the whole run a deadline. A
 * client certificate (for a weak key, say) is taken from TM_CERT/TM_KEY. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define BODY_SIZE (8 * 1024 * 1024)
#define CHUNK_SIZE (64 * 1024)
#define IO_TIMEOUT_S 10
#define MAX_CONNS 1000

static struct sockaddr_in target;
static SSL_CTX *ctx;

static atomic_int n_connected, n_refused, n_403, n_sent_all, n_open;

static int tcp_connect(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct timeval tv = {.tv_sec = IO_TIMEOUT_S};
	if (fd < 0) {
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (connect(fd, (struct sockaddr *)&target, sizeof target) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A TLS connection, or NULL (counted as refused) if the server closed it
 * during the handshake. */
static SSL *tls_connect(int *fd_out)
{
	int fd = tcp_connect();
	if (fd < 0) {
		atomic_fetch_add(&n_refused, 1);
		return NULL;
	}
	SSL *ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1) {
		ERR_clear_error();
		SSL_free(ssl);
		close(fd);
		atomic_fetch_add(&n_refused, 1);
		return NULL;
	}
	/* TLS 1.3: the server may refuse right after the handshake; a read
	 * with a short timeout tells a live connection from a closed one. */
	atomic_fetch_add(&n_connected, 1);
	*fd_out = fd;
	return ssl;
}

static void tls_close(SSL *ssl, int fd)
{
	SSL_free(ssl);
	close(fd);
}

static void *upload_main(void *arg)
{
	(void)arg;
	int fd;
	SSL *ssl = tls_connect(&fd);
	if (ssl == NULL) {
		return NULL;
	}
	char head[160];
	int n = snprintf(head, sizeof head,
			 "PUT /1.0/config HTTP/1.1\r\nHost: t\r\n"
			 "Content-Length: %d\r\n\r\n",
			 BODY_SIZE);
	static const char chunk[CHUNK_SIZE];
	size_t sent = 0;
	if (SSL_write(ssl, head, n) == n) {
		while (sent < BODY_SIZE &&
		       SSL_write(ssl, chunk, CHUNK_SIZE) == CHUNK_SIZE) {
			sent += CHUNK_SIZE;
		}
	}
	ERR_clear_error();
	if (sent >= BODY_SIZE) {
		atomic_fetch_add(&n_sent_all, 1);
	}
	char buf[512];
	int r = SSL_read(ssl, buf, sizeof buf - 1);
	if (r > 0) {
		buf[r] = '\0';
		if (strstr(buf, " 403 ") != NULL) {
			atomic_fetch_add(&n_403, 1);
		}
	}
	ERR_clear_error();
	tls_close(ssl, fd);
	return NULL;
}

static int run_upload(int n)
{
	pthread_t threads[MAX_CONNS];
	for (int i = 0; i < n; i++) {
		pthread_create(&threads[i], NULL, upload_main, NULL);
	}
	for (int i = 0; i < n; i++) {
		pthread_join(threads[i], NULL);
	}
	printf("connected=%d refused=%d got403=%d sent_all=%d\n",
	       atomic_load(&n_connected), atomic_load(&n_refused),
	       atomic_load(&n_403), atomic_load(&n_sent_all));
	return 0;
}

/* Open N, then count those the server has not closed. */
static int run_hold(int n, int secs)
{
	static SSL *ssl[MAX_CONNS];
	static int fds[MAX_CONNS];
	for (int i = 0; i < n; i++) {
		ssl[i] = tls_connect(&fds[i]);
	}
	sleep(1);
	for (int i = 0; i < n; i++) {
		if (ssl[i] == NULL) {
			continue;
		}
		struct timeval tv = {.tv_usec = 200000};
		setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		char c;
		int r = SSL_read(ssl[i], &c, 1);
		if (r <= 0 && SSL_get_error(ssl[i], r) == SSL_ERROR_WANT_READ) {
			atomic_fetch_add(&n_open, 1); /* nothing, still open */
		}
		ERR_clear_error();
	}
	printf("open=%d refused=%d\n", atomic_load(&n_open),
	       atomic_load(&n_refused));
	fflush(stdout);
	sleep((unsigned)secs);
	for (int i = 0; i < n; i++) {
		if (ssl[i] != NULL) {
			tls_close(ssl[i], fds[i]);
		}
	}
	return 0;
}

static int count(const char *hay, size_t len, const char *needle)
{
	int n = 0;
	size_t nl = strlen(needle);
	for (size_t i = 0; i + nl <= len; i++) {
		if (memcmp(hay + i, needle, nl) == 0) {
			n++;
		}
	}
	return n;
}

static int run_pipeline(int n)
{
	static const char get[] = "GET /1.0 HTTP/1.1\r\nHost: t\r\n\r\n";
	size_t one = sizeof get - 1;
	int fd;
	SSL *ssl = tls_connect(&fd);
	if (ssl == NULL) {
		printf("responses=0 refused=1\n");
		return 0;
	}
	char *all = malloc(one * (size_t)n);
	for (int i = 0; i < n; i++) {
		memcpy(all + one * (size_t)i, get, one);
	}
	int rv = SSL_write(ssl, all, (int)(one * (size_t)n));
	free(all);
	/* Gone: close_notify, then no more bytes from us. */
	SSL_shutdown(ssl);
	shutdown(fd, SHUT_WR);
	size_t cap = 1 << 20, len = 0;
	char *in = malloc(cap);
	int r;
	while ((r = SSL_read(ssl, in + len, (int)(cap - len))) > 0) {
		len += (size_t)r;
		if (cap - len < 65536) {
			cap *= 2;
			in = realloc(in, cap);
		}
	}
	ERR_clear_error();
	printf("written=%d responses=%d\n", rv > 0 ? n : 0,
	       count(in, len, "HTTP/1.1 200"));
	free(in);
	tls_close(ssl, fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: %s HOST:PORT upload|hold|pipeline N "
				"[SECS]\n",
			argv[0]);
		return 2;
	}
	char host[64];
	snprintf(host, sizeof host, "%s", argv[1]);
	char *colon = strrchr(host, ':');
	int n = atoi(argv[3]);
	bool pipeline = strcmp(argv[2], "pipeline") == 0;
	if (colon == NULL || n <= 0 || (n > MAX_CONNS && !pipeline) ||
	    n > 1000000) {
		fprintf(stderr, "bad address or count\n");
		return 2;
	}
	*colon = '\0';
	target.sin_family = AF_INET;
	target.sin_port = htons((uint16_t)atoi(colon + 1));
	inet_pton(AF_INET, host, &target.sin_addr);
	alarm(120); /* the whole run, whatever happens */
	signal(SIGPIPE, SIG_IGN);

	ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_security_level(ctx, 0); /* weak client keys too */
	const char *cert = getenv("TM_CERT");
	const char *key = getenv("TM_KEY");
	if (cert != NULL && key != NULL &&
	    (SSL_CTX_use_certificate_file(ctx, cert, SSL_FILETYPE_PEM) != 1 ||
	     SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)) {
		fprintf(stderr, "cannot load %s / %s\n", cert, key);
		return 2;
	}
	int rv = 2;
	if (strcmp(argv[2], "upload") == 0) {
		rv = run_upload(n);
	} else if (strcmp(argv[2], "hold") == 0 && argc > 4) {
		rv = run_hold(n, atoi(argv[4]));
	} else if (pipeline) {
		rv = run_pipeline(n);
	}
	SSL_CTX_free(ctx);
	return rv;
}

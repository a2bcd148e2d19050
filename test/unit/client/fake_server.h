/* A tiny scripted HTTP/1.1 server on a thread, for the client tests.
 *
 * It listens on a unix socket (fake_server_start_unix) or on a loopback
 * TCP port with TLS 1.3 (fake_server_start_tls), answers each request
 * with the next scripted reply, and records what it received. Connections
 * are kept alive unless a reply says otherwise, so tests can count them.
 * The thread waits with poll() and checks its stop flag between waits;
 * fake_server_stop joins it. */
#ifndef TEST_CLIENT_FAKE_SERVER_H
#define TEST_CLIENT_FAKE_SERVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

#define FAKE_MAX_REPLIES 16
#define FAKE_MAX_REQUESTS 32

struct fake_reply {
	int status;
	const char *body;	  /* sent as is; NULL for none */
	size_t body_len;	  /* bytes of BODY; 0: strlen(BODY) */
	const char *content_type; /* NULL: application/json */
	const char *headers;	  /* extra "Name: value\r\n" lines, or NULL */
	bool close;		  /* close the connection after the reply */
	bool hang;		  /* read the request, never answer */
	/* Announce this Content-Length instead of the body's, send the body
	 * (if any) and close: a server that dies mid-body, or one whose
	 * answer is too large. 0: the body's length. */
	unsigned long long fake_length;
};

struct fake_request {
	char method[16];
	char path[256];
	char *headers;	 /* owned: raw header block */
	char *body;	 /* owned, NUL-terminated; "" if none */
	size_t body_len; /* bytes of BODY (it may hold NULs) */
	int connection;	 /* 1-based index of the connection it came on */
};

struct fake_server {
	int listen_fd;
	char socket_path[108];
	char dir[64];
	int port;
	SSL_CTX *tls; /* owned if not NULL */
	pthread_t thread;
	pthread_mutex_t lock;
	bool stop;

	struct fake_reply replies[FAKE_MAX_REPLIES];
	size_t n_replies;
	size_t next_reply;
	char *owned[FAKE_MAX_REPLIES]; /* canned bodies */
	size_t n_owned;

	struct fake_request requests[FAKE_MAX_REQUESTS];
	size_t n_requests;
	int n_connections;
	int n_handshake_failures;
	char client_fingerprint[65]; /* of the last TLS client's cert */
	int tls_version;	     /* of the last TLS connection */
};

/* Start on a fresh unix socket in a fresh temporary directory. */
void fake_server_start_unix(struct fake_server *s);
/* Start on 127.0.0.1:PORT (0: an ephemeral one, see s->port) with TLS
 * 1.3, presenting CERT/KEY (borrowed; the context takes its own
 * references) and asking for a client certificate without verifying
 * it. */
void fake_server_start_tls(struct fake_server *s, X509 *cert, EVP_PKEY *key,
			   int port);
/* Append replies to the script (thread-safe). */
void fake_server_script(struct fake_server *s, const struct fake_reply *r,
			size_t n);
/* Canned sync envelope around METADATA_JSON (a JSON text). */
void fake_server_sync(struct fake_server *s, const char *metadata_json,
		      const char *headers);
/* Canned error envelope. */
void fake_server_error(struct fake_server *s, int status, const char *msg);
void fake_server_stop(struct fake_server *s);

/* Accessors that take the lock. */
size_t fake_server_n_requests(struct fake_server *s);
int fake_server_n_connections(struct fake_server *s);
/* Copy of a recorded request's field (owned, free()). */
char *fake_server_request_line(struct fake_server *s, size_t i);
char *fake_server_request_header(struct fake_server *s, size_t i,
				 const char *name);
char *fake_server_request_body(struct fake_server *s, size_t i);
/* Copy of the body's bytes (owned, free()) and their number in *LEN. */
char *fake_server_request_bytes(struct fake_server *s, size_t i, size_t *len);

/* Test certificates: a fresh P-256 key and a self-signed certificate. */
void fake_cert_make(const char *cn, X509 **cert, EVP_PKEY **key);
/* Write CERT / KEY as PEM files. */
void fake_cert_write(const char *cert_path, const char *key_path, X509 *cert,
		     EVP_PKEY *key);
/* Lowercase hex SHA-256 of the DER. OUT: 65 bytes. */
void fake_cert_fingerprint(X509 *cert, char *out);

#endif /* TEST_CLIENT_FAKE_SERVER_H */

/* The raft tunnel handshake, without I/O (doc/raft-transport.md).
 *
 * A member that wants to send raft messages to another opens a TLS
 * connection to the other's HTTPS port and asks for an upgrade:
 *
 *   GET /internal/raft HTTP/1.1
 *   Host: <the address dialed>
 *   Connection: Upgrade
 *   Upgrade: raft
 *   X-Raft-Version: 1
 *   X-Raft-Id: <the dialer's raft id>
 *   X-Raft-Address: <the dialer's raft address>
 *
 * The other answers "101 Switching Protocols" with "Upgrade: raft", after
 * which the stream carries raft's own bytes, or an error status with a
 * JSON error envelope. This module formats the request, checks the
 * request's fields on the accepting side (the REST server has parsed the
 * HTTP), and parses the answer on the dialing side (with http_parser). */
#ifndef TM_RAFT_HANDSHAKE_H
#define TM_RAFT_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>

#include <http_parser.h>
#include <raft.h>

#include "internal/lib/err.h"

#define HANDSHAKE_PATH "/internal/raft"
#define HANDSHAKE_PROTOCOL "raft"
#define HANDSHAKE_VERSION 1
#define HANDSHAKE_HEADER_VERSION "X-Raft-Version"
#define HANDSHAKE_HEADER_ID "X-Raft-Id"
#define HANDSHAKE_HEADER_ADDRESS "X-Raft-Address"

/* Longest raft address accepted in X-Raft-Address and dialed (bytes). */
#define HANDSHAKE_MAX_ADDRESS 255
/* Bounds on the answer read by the dialer. */
#define HANDSHAKE_MAX_HEADER_BYTES (16 * 1024)
#define HANDSHAKE_MAX_BODY_BYTES (64 * 1024)

/* The request the dialer sends: HOST is the address dialed, ID and
 * ADDRESS the dialer's raft identity. Owned by the caller (tm_free), LEN
 * bytes, not NUL-terminated on the wire (a NUL follows for convenience).
 * TM_INVALID with ERRMSG if a value cannot travel in a header (empty, too
 * long, or holding a byte outside visible ASCII), or ID is 0. */
int handshake_format_request(const char *host, raft_id id, const char *address,
			     char **out, size_t *len, char *errmsg);

/* Is ADDRESS a raft address that may travel in X-Raft-Address (1 to
 * HANDSHAKE_MAX_ADDRESS visible ASCII characters)? */
bool handshake_address_valid(const char *address);

/* The dialer as its request introduces it. */
struct handshake_hello {
	unsigned version;
	raft_id id;
	const char *address; /* borrowed from the header value */
};

/* Header values of an upgrade request, NULL when absent. */
struct handshake_request_headers {
	const char *connection;
	const char *upgrade;
	const char *version;
	const char *id;
	const char *address;
};

/* Check the upgrade request's headers on the accepting side. Returns 0
 * and fills HELLO, or the HTTP status to answer with and ERRMSG saying
 * why: 400 for a missing or malformed header, 426 for a protocol version
 * this member does not speak. */
int handshake_check_request(const struct handshake_request_headers *h,
			    struct handshake_hello *hello, char *errmsg);

/* The dialer's parser of the answer, fed as bytes arrive. */
enum handshake_result {
	HANDSHAKE_MORE,	    /* feed more */
	HANDSHAKE_UPGRADED, /* 101 with Upgrade: raft: raft's bytes follow */
	HANDSHAKE_REFUSED,  /* a complete error answer: status and message */
	HANDSHAKE_INVALID,  /* not an acceptable answer: see message */
};

struct handshake_response {
	http_parser http;
	/* Outcome, once feed returned something other than MORE. */
	int status;		      /* the HTTP status, 0 if none was read */
	char message[TM_ERRMSG_SIZE]; /* why, for REFUSED and INVALID */
	/* Private. */
	size_t header_bytes;
	bool headers_done;
	bool done;
	bool upgrade_is_raft;
	bool in_upgrade_field; /* the header field being read is Upgrade */
	bool field_done;       /* its name is complete (values follow) */
	char field[16];	       /* header field name, truncated */
	size_t field_len;
	char upgrade[32]; /* Upgrade value, truncated */
	size_t upgrade_len;
	char *body; /* owned, at most HANDSHAKE_MAX_BODY_BYTES */
	size_t body_len;
	bool body_too_large;
	char content_type[64];
	size_t content_type_len;
	bool in_content_type_field;
};

void handshake_response_init(struct handshake_response *r);
void handshake_response_close(struct handshake_response *r);

/* Feed LEN bytes. *CONSUMED says how many belong to the answer: after
 * UPGRADED, BUF + *CONSUMED is the start of raft's bytes. Once something
 * other than MORE was returned, do not feed again. */
enum handshake_result handshake_response_feed(struct handshake_response *r,
					      const char *buf, size_t len,
					      size_t *consumed);
/* The stream ended: an answer whose body runs to the end of the stream
 * is complete now (REFUSED); anything else is INVALID. */
enum handshake_result handshake_response_eof(struct handshake_response *r);

#endif /* TM_RAFT_HANDSHAKE_H */

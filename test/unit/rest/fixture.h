/* Fixture for REST server tests: a loop, a server on fake connections,
 * and an HTTP response reader for what the server wrote. */
#ifndef TM_TEST_REST_FIXTURE_H
#define TM_TEST_REST_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

#include <uv.h>

#include "internal/rest/rest.h"
#include "mocks/conn_fake.h"

#define FX_TRUSTED_FP                                                          \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define FX_UNTRUSTED_FP                                                        \
	"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define FX_DEADLINE_MS 5000

struct fixture {
	uv_loop_t loop;
	uv_timer_t deadline;
	bool expired;
	struct rest_server *server;
	bool server_closed;
	bool revoked; /* FX_TRUSTED_FP is no longer trusted */
	/* Filled by test handlers. */
	struct rest_request *parked; /* an asynchronous handler's request */
	int handler_calls;
	int upgrade_calls;
	struct conn *upgraded; /* handed over by an upgrade */
	char upgrade_extra[64];
	int stream_status; /* last stream write status */
};

void fx_setup(struct fixture *f, const struct rest_route *routes,
	      size_t n_routes);
/* Closes the server (if still open) and every handle; asserts the loop
 * is left empty. */
void fx_teardown(struct fixture *f);
void fx_close_server(struct fixture *f);

/* A new fake conn added to the server; the test keeps a reference
 * (conn_fake_release). KIND: 0 = unix root, 1 = TLS trusted, 2 = TLS
 * untrusted, 3 = TLS without certificate, 4 = plain without identity. */
enum { FX_UNIX_ROOT, FX_TLS_TRUSTED, FX_TLS_UNTRUSTED, FX_TLS_NONE, FX_PLAIN };
struct conn *fx_conn(struct fixture *f, int kind);
struct conn *fx_conn_unix(struct fixture *f, uid_t uid);

/* Run the loop until COND(ARG) holds; false after FX_DEADLINE_MS. */
bool fx_run_until(struct fixture *f, bool (*cond)(void *arg), void *arg);
/* Run a few loop iterations without blocking (let deferred work happen). */
void fx_run_briefly(struct fixture *f);
bool fx_wait_closed(struct fixture *f, struct conn *c);
/* Wait until C's output is not empty. */
bool fx_wait_output(struct fixture *f, struct conn *c);

struct fx_header {
	char *name;
	char *value;
};

struct fx_response {
	int status;
	struct fx_header headers[32];
	size_t n_headers;
	char *body;
	size_t body_len;
	bool complete;
	bool chunked_seen;
};

/* Parse one complete response from C's output and consume it; false if
 * none is complete yet. AT_EOF: the body may be ended by the close. */
bool fx_try_response(struct conn *c, bool at_eof, struct fx_response *r);
/* Wait for a complete response (asserts it comes). */
void fx_response(struct fixture *f, struct conn *c, struct fx_response *r);
const char *fx_header(const struct fx_response *r, const char *name);
void fx_response_free(struct fx_response *r);
/* Check an error envelope: status, error message. */
void fx_assert_error(const struct fx_response *r, int status,
		     const char *message);

/* Routes served by fx_setup_default, with handlers that record into the
 * fixture (rest_server_data):
 *   /1.0              GET PUT   echo, GET public
 *   /1.0/items/{}     GET DELETE echo
 *   /1.0/items/special GET      echo
 *   /1.0/json         POST PUT  rest_body_json, answered as metadata
 *   /1.0/park         GET POST  parked in f->parked, answered by the test
 *   /1.0/stream       GET       "chunk1", "chunk2", "chunk3" streamed
 *   /internal/raft    GET       upgrade to "raft" (fx_upgrade_cb)
 * The echo's metadata: method, path, param, q (query), x_test (header),
 * auth (number), fingerprint, body; "?etag" adds ETag "abc123". */
extern const struct rest_route fx_routes[];
extern const size_t fx_n_routes;
void fx_setup_default(struct fixture *f);

/* Assert a 200 sync envelope; returns its metadata (owned, cJSON_Delete). */
cJSON *fx_sync_metadata(const struct fx_response *r);
/* Send REQUEST on C and wait for its response. */
void fx_roundtrip(struct fixture *f, struct conn *c, const char *request,
		  struct fx_response *r);

#endif /* TM_TEST_REST_FIXTURE_H */

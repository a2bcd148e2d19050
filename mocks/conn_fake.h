/* An in-memory struct conn for unit tests (implements internal/net/conn.h).
 *
 * The test plays the peer: it pushes bytes as if they came from the network,
 * reads back what the code under test wrote, picks the peer's identity (TLS
 * with or without a client certificate, a unix peer with a uid) and
 * simulates EOF or a broken stream. Like the real conn, every callback is
 * deferred to the loop (a uv_idle handle per conn) and never runs inside the
 * call that caused it; reads and EOF are only delivered while reading is
 * started.
 *
 * Lifetime: a fake conn holds two references, one for its owner (dropped
 * when conn_close completes) and one for the test (dropped by
 * conn_fake_release). It is freed when both are gone, so the test can
 * still inspect it after the code under test closed it. */
#ifndef TM_MOCKS_CONN_FAKE_H
#define TM_MOCKS_CONN_FAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <uv.h>

#include "internal/net/conn.h"

/* A plaintext conn with no peer identity (neither TLS nor unix). */
struct conn *conn_fake_new(uv_loop_t *loop);
/* Drop the test's reference. */
void conn_fake_release(struct conn *c);

/* Identity. FINGERPRINT (copied) may be NULL: TLS without a client
 * certificate. */
void conn_fake_set_tls(struct conn *c, const char *fingerprint);
void conn_fake_set_unix(struct conn *c, uid_t uid);
void conn_fake_set_peer_name(struct conn *c, const char *name);
/* The TLS peer's certificate has a weak key: WHY (copied) is what
 * conn_peer_key_weakness returns. */
void conn_fake_set_key_weakness(struct conn *c, const char *why);

/* The peer sends LEN bytes (copied); delivered as one read callback. */
void conn_fake_push(struct conn *c, const void *buf, size_t len);
void conn_fake_push_str(struct conn *c, const char *s);
/* The peer closes its side: EOF (status 0) after the pushed bytes;
 * conn_peer_closed is true from now on. */
void conn_fake_push_eof(struct conn *c);
/* The stream fails with STATUS (a TM_* code): the eof callback gets it even
 * while reading is stopped, later writes fail with it. */
void conn_fake_break(struct conn *c, int status);

/* Everything written so far and not yet taken; borrowed, NUL-terminated,
 * valid until the next call on C. */
const char *conn_fake_output(struct conn *c, size_t *len);
/* Owned copy of the output (tm_free), which is then cleared. */
char *conn_fake_take_output(struct conn *c, size_t *len);
/* Drop the first N bytes of the output. */
void conn_fake_consume(struct conn *c, size_t n);

bool conn_fake_is_reading(const struct conn *c);
/* conn_close was called / its callback has run. */
bool conn_fake_close_called(const struct conn *c);
bool conn_fake_closed(const struct conn *c);
/* Number of writes queued and not yet completed. */
size_t conn_fake_pending_writes(const struct conn *c);
/* While STALLED, writes stay queued (conn_write_queue_size counts them) as
 * with a peer that does not read; a broken stream fails them anyway. */
void conn_fake_stall_writes(struct conn *c, bool stalled);

/* Outgoing connections (conn_connect): HOOK decides, on the loop, whether
 * a connection to ADDRESS succeeds. On 0 the fresh fake conn C (already
 * TLS) is given to the conn_connect caller and the hook holds the test's
 * reference (release it with conn_fake_release); otherwise the connect
 * fails with that code. Without a hook every connect fails with TM_IO. */
typedef int (*conn_fake_connect_hook)(void *arg, const char *address,
				      struct conn *c);
void conn_fake_set_connect_hook(conn_fake_connect_hook hook, void *arg);

#endif /* TM_MOCKS_CONN_FAKE_H */

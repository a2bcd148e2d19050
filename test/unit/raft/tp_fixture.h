/* Fixture for the transport tests: members on loopback (127.0.25.x, a
 * port picked by the kernel), each with its own key pair, a TLS listener,
 * a REST server routing GET /internal/raft to its transport, and
 * optionally a real raft_uv instance in a temporary directory. One libuv
 * loop runs them all; tp_run_until drives it until a condition holds,
 * within a deadline. */
#ifndef TM_TEST_RAFT_TP_FIXTURE_H
#define TM_TEST_RAFT_TP_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <raft.h>
#include <raft/uv.h>
#include <uv.h>

#include "internal/lib/err.h"
#include "internal/net/listener.h"
#include "internal/raft/transport.h"
#include "internal/rest/rest.h"
#include "internal/tls/tls.h"

#define TP_MAX_MEMBERS 4
#define TP_DEADLINE_MS 30000

struct tp;

/* A stream raft would hold: what it read, whether it saw EOF. */
struct tp_stream {
	uv_stream_t *s; /* raft_malloc'd pipe; NULL once closed */
	bool closing;
	char *in; /* owned */
	size_t in_len;
	size_t in_cap;
	bool eof;
	int write_status; /* of the latest write that completed */
	unsigned writes_pending;
};

struct tp_member {
	struct tp *tp;
	int index;
	raft_id id;
	char dir[128];
	char cert[160];
	char key[160];
	char fp[TLS_FINGERPRINT_LEN + 1];
	SSL_CTX *server_ctx;
	SSL_CTX *client_ctx;
	SSL_CTX *anon_ctx; /* presents no certificate */
	struct listener *listener;
	bool listener_closed;
	char address[64];
	struct rest_server *rest;
	bool rest_closed;

	struct raft_uv_transport transport;
	bool transport_ready;
	bool transport_closed;
	bool clustered; /* admit: TRANSPORT_NOT_CLUSTERED unless set */
	bool stranger;	/* the others do not admit its certificate */

	/* What the transport handed over without raft (tp_listen). */
	struct tp_stream accepted[8];
	raft_id accepted_id[8];
	char accepted_address[8][64];
	unsigned n_accepted;

	/* raft (tp_raft_start). */
	bool raft_running;
	bool raft_closed;
	struct raft_io io;
	struct raft raft;
	struct raft_fsm fsm;
	uv_check_t close_check;
	uint64_t applied;
	uint64_t applied_bytes;
	uint64_t hash; /* FNV-1a over every applied entry, in order */
	struct transport_stats final_stats; /* when raft closed */
};

struct tp {
	uv_loop_t loop;
	uv_timer_t tick;
	char dir[64];
	char errmsg[TM_ERRMSG_SIZE];
	struct tp_member members[TP_MAX_MEMBERS];
	unsigned n_members;
	size_t queue_limit; /* given to transports made from now on */
};

int tp_setup(void **state);
int tp_teardown(void **state);

/* Member I (0-based) on 127.0.25.IP: keys, listener, REST server and a
 * transport with raft id I + 1, not yet initialised by raft. */
struct tp_member *tp_member_add(struct tp *tp, int ip);
/* Admission: a member admits the fingerprints of every member of the
 * fixture once clustered. */
void tp_set_clustered(struct tp *tp, bool clustered);

/* Without raft: call the transport's init and listen as raft_uv would;
 * accepted streams land in m->accepted and are read into their buffers. */
void tp_listen(struct tp_member *m);
/* Without raft: connect from M to ADDRESS; waits for the callback and
 * returns its status, with *STREAM set (and read) on success. */
struct tp_dial {
	struct raft_uv_connect req;
	bool done;
	bool inside; /* set while connect() runs, to catch early callbacks */
	bool early;  /* the callback ran inside connect() */
	int status;
	struct tp_stream stream;
};
void tp_dial_start(struct tp_member *m, struct tp_dial *d, raft_id id,
		   const char *address);
int tp_dial(struct tp_member *m, struct tp_dial *d, raft_id id,
	    const char *address);

/* Close the stream of a successful dial and free what it read. */
void tp_dial_release(struct tp *tp, struct tp_dial *d);

/* Close a transport used without raft; waits for its callback. */
void tp_transport_close(struct tp_member *m);

/* Stream helpers. */
void tp_stream_read_start(struct tp_stream *s);
void tp_stream_write(struct tp_stream *s, const void *buf, size_t len);
void tp_stream_close(struct tp_stream *s);

/* Start raft on M, bootstrapping CONF first unless NULL (a restart: the
 * directory holds raft's state, and M gets a new transport). */
void tp_raft_start(struct tp_member *m, const struct raft_configuration *conf);
void tp_configuration(struct tp *tp, struct raft_configuration *conf);
/* raft_close from a check callback (see raftnode.c for why), then
 * raft_uv_close and transport_free; waits. */
void tp_raft_close(struct tp_member *m);
/* The member that leads, once all running members agree; NULL if none
 * within the deadline. */
struct tp_member *tp_wait_leader(struct tp *tp);
/* Propose an entry of LEN bytes filled from SEED on the leader. */
void tp_apply(struct tp_member *leader, size_t len, uint32_t seed);

/* A TCP server on IP (port picked by the kernel) that accepts and never
 * says a word: a connect to it stays in its TLS handshake. */
struct tp_mute {
	uv_tcp_t server;
	uv_tcp_t clients[16];
	unsigned n;
	unsigned closed;
	char address[64];
};
void tp_mute_start(struct tp *tp, struct tp_mute *m, const char *ip);
/* Close its connections and itself; waits. */
void tp_mute_stop(struct tp *tp, struct tp_mute *m);

/* Run the loop until COND(ARG) holds; false after MS milliseconds. */
bool tp_run_until(struct tp *tp, bool (*cond)(void *arg), void *arg,
		  unsigned ms);
/* Run the loop for about MS milliseconds. */
void tp_run_for(struct tp *tp, unsigned ms);

void tp_fill(char *buf, size_t len, uint32_t seed);

#endif /* TM_TEST_RAFT_TP_FIXTURE_H */

/* One POST /1.0/sql in flight, and the pipe that carries its rows from a
 * worker thread to the client. Private to internal/api (sql.c,
 * sql_call.c, sql_pipe.c, sql_local_job.c). */
#ifndef TM_API_SQL_CALL_H
#define TM_API_SQL_CALL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "internal/api/sql.h"
#include "internal/lib/pool.h"

struct sql_call;
struct sql_chunk;

/* Worker -> loop -> client (sql_pipe.c). Fields marked "mutex" are shared
 * with the worker under MUTEX; the others belong to the loop, except
 * DEADLINE_NS, which belongs to the worker. */
struct sql_pipe {
	struct sql_call *owner; /* told when the pipe may be released */
	struct rest_request *http;
	uv_async_t async; /* the worker's "chunks are queued" */
	bool async_alive;
	uv_thread_t loop_thread;
	unsigned timeout_ms; /* for the worker's waits */
	uint64_t deadline_ns;

	pthread_mutex_t mutex;
	pthread_cond_t cond;
	struct sql_chunk *head; /* mutex: handed over, not yet taken */
	struct sql_chunk *tail;
	unsigned unsent; /* mutex: handed over, not yet written */
	bool aborted;	 /* mutex: the client went away */

	bool streaming;	 /* rest_stream_begin was called */
	bool broken;	 /* the stream cannot take more */
	unsigned writes; /* rest_stream_write callbacks to come */
};

/* On the loop. TIMEOUT_MS bounds the worker's waits per statement (0:
 * none). HTTP is borrowed until sql_pipe_end. */
void sql_pipe_init(struct sql_pipe *p, uv_loop_t *loop,
		   struct rest_request *http, unsigned timeout_ms);
/* On the worker: a statement starts; its waits end at its deadline. */
void sql_pipe_start_statement(struct sql_pipe *p);
/* On the worker: the sql_enc_flush_fn (ARG is the pipe). */
int sql_pipe_put(void *arg, char *t, size_t len, char *errmsg);
/* On the loop: write the chunks queued so far (the first one starts the
 * chunked response). */
void sql_pipe_drain(struct sql_pipe *p);
/* On the loop: the client is gone; the worker stops waiting. */
void sql_pipe_abort(struct sql_pipe *p);
/* On the loop, once streaming: write T[0..len) and the envelope's end,
 * and complete the response. */
void sql_pipe_end(struct sql_pipe *p, const char *t, size_t len);
/* On the loop, once the worker is done: close the uv_async. */
void sql_pipe_close(struct sql_pipe *p);
/* Closed, and no write callback to come: sql_pipe_release may run. */
bool sql_pipe_closed(const struct sql_pipe *p);
void sql_pipe_release(struct sql_pipe *p);

/* A request from the handler to its answer (sql_call.c). Owns the parsed
 * statements that gdb or the local job borrow, and its handles; freed
 * only once the answer is sent, the watch timer and the pipe are closed
 * and every write callback has fired (sql_call_maybe_free). */
struct sql_call {
	struct rest_request *http; /* borrowed until we respond */
	uv_loop_t *loop;
	struct sql_request parsed;
	bool read; /* rows go through the encoder and the pipe */
	unsigned timeout_ms;

	struct gdb *g; /* global: borrowed (outlives its requests) */
	struct gdb_request gdb;

	/* Local: run on a worker of the daemon's pool (sql_local_job.c). */
	bool local;
	char *local_path; /* owned: DIR/local.db */
	struct pool_work work;
	atomic_bool cancel;
	int local_rv;
	char local_errmsg[TM_ERRMSG_SIZE];
	struct gdb_result *local_results; /* owned */

	struct gdb_sink sink; /* encoder, wrapped to start deadlines */
	struct sql_enc enc;   /* the worker's while it runs */
	struct sql_pipe pipe;

	uv_timer_t watch; /* polls for a client gone */
	bool watch_alive;
	bool canceled; /* cancel sent once */
	bool shutdown; /* ... because the daemon is draining (reads only) */
	bool running;  /* gdb or the worker has not answered yet */
	bool answered;
};

/* A call for REQ with PARSED (taken). READ: the rows are encoded on the
 * worker (a global read, or the local target). LIMIT: bytes of the
 * response (core.max_response_size). */
struct sql_call *sql_call_new(struct rest_request *req, uv_loop_t *loop,
			      struct sql_request *parsed, bool read,
			      unsigned timeout_ms, uint64_t limit);
/* The work is done but someone else answers the request (it was relayed
 * to the leader): release the call without answering. */
void sql_call_hand_off(struct sql_call *call);
/* The request starts running: watch the client from now on. */
void sql_call_started(struct sql_call *call);
/* The work is done (on the loop): answer from STATUS, ERRMSG and RESULTS
 * (N entries, borrowed; rows, when READ, went through the encoder). */
void sql_call_done(struct sql_call *call, int status, const char *errmsg,
		   const struct gdb_result *results, size_t n);
/* The work is done but the request was refused before anything ran:
 * answer the error envelope HTTP_STATUS with MESSAGE. */
void sql_call_refuse(struct sql_call *call, int http_status,
		     const char *message);
/* Free CALL once nothing refers to it any more. */
void sql_call_maybe_free(struct sql_call *call);

/* sql_local_job.c: run CALL's statements on the local database at
 * CALL->local_path on a worker of POOL; sql_call_done follows. */
void sql_local_job_submit(struct sql_call *call, struct pool *pool);

#endif /* TM_API_SQL_CALL_H */

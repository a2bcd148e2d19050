/* chaos_client: shared state of the workload client (chaos_client.c runs
 * the workers and writes the history; client_ops.c holds the workloads'
 * operations). */
#ifndef CHAOS_CLIENT_H
#define CHAOS_CLIENT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "pkg/thermionic.h"
#include "test/chaos/classify.h"

enum chaos_workload {
	WL_REGISTER,
	WL_BANK,
	WL_SET,
};

#define REG_KEYS 5
#define BANK_ACCOUNTS 5
#define BANK_INITIAL 100

struct chaos {
	enum chaos_workload workload;
	char **members; /* "host:port", owned */
	int n_members;
	const char *cert;
	const char *key;
	char pin[THERMIONIC_FINGERPRINT_LEN + 1];
	int clients;
	double seconds;
	unsigned long seed;
	long max_ops;
	bool linearizable; /* --consistency of reads */
	unsigned op_timeout_ms;
	FILE *history;
	pthread_mutex_t lock; /* guards HISTORY */
	atomic_long ops;      /* operations started */
	atomic_llong next_value;
	atomic_bool stop;      /* the workers stop */
	atomic_bool signalled; /* SIGTERM or SIGINT arrived */
	int64_t t0;	       /* monotonic ns at start */
};

/* One worker: a process of the history, one operation at a time, with
 * one client connection to its current member. */
struct worker {
	struct chaos *c;
	int process;
	int member;
	struct thermionic_client *tc; /* NULL until first used */
	bool reused;		      /* TC has sent a request before */
	bool backoff; /* the last request failed: pause before the next */
	uint64_t rng;
	int64_t last[REG_KEYS]; /* register: last value seen per key */
	bool known[REG_KEYS];
};

int64_t chaos_now_ns(void);

/* Has SIGTERM or SIGINT arrived (they stay pending: every thread blocks
 * them, and the main thread takes them while the workers run)? */
bool chaos_signalled(struct chaos *c);

/* Append one event to the history (EV is consumed) and flush it. */
void chaos_record(struct chaos *c, cJSON *ev);

/* An event of W's process: {"process","type","f","time"} (+ "key" when
 * KEY >= 0). VALUE (consumed, may be NULL) becomes "value". */
cJSON *chaos_event(struct worker *w, const char *type, const char *f, int key,
		   cJSON *value);

/* Run REQ on W's member. On failure the member is changed (after
 * connection errors and 503s) and *OUTCOME says what the failure means
 * (WRITE: see chaos_classify()); ERRMSG gets the message. */
int chaos_sql(struct worker *w, const struct thermionic_sql_request *req,
	      bool write, struct thermionic_sql_result **res, size_t *n,
	      enum chaos_outcome *outcome, char *errmsg, size_t errmsg_size);

uint64_t chaos_rand(struct worker *w);

/* Create the workload's tables and reset them (retried on every member
 * for up to 60 s). 0 or -1 with a message on stderr. */
int chaos_setup(struct worker *w);

/* One operation of the workload, recorded (invoke and completion). */
void chaos_op(struct worker *w);

/* The final read (bank, set): retried on any member for up to 60 s until
 * one succeeds; each attempt is recorded. 0 once one succeeded. */
int chaos_final_read(struct worker *w);

#endif

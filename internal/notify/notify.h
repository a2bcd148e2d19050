/* The notifier: one call to the same endpoint of many members at once
 * (member-to-member /internal calls), on the daemon's loop, over the loop
 * client (internal/client/hclient.h). Used for cluster-wide configuration
 * changes (every member confirms it applied the write) and for relaying
 * events.
 *
 * A call takes the members to reach (name, address, certificate pin),
 * one request (method, path, body) and a policy:
 *
 *   NOTIFY_ALL      every member must answer 2xx, or the call fails;
 *   NOTIFY_ALIVE    only the members the ALIVE predicate says are alive
 *                   are called; those must answer 2xx, or the call fails;
 *                   the others are reported as not called;
 *   NOTIFY_TRY_ALL  every member is called and each one's outcome is
 *                   reported; the call itself succeeds.
 *
 * Whatever the policy, every member gets a result: its HTTP status and
 * body, or why it was not reached. At most MAX_CONCURRENT members are
 * called at once; the next starts when one finishes. Nothing waits on the
 * network: the call returns at once and its callback runs later, from the
 * loop, exactly once: never inside notify_call or notify_cancel.
 *
 * Shutdown: notify_cancel stops one call; closing the loop client
 * (hclient_close) cancels the requests of every call, which then complete
 * with TM_CANCELED results. The loop must run until the callbacks did.
 *
 * Calls are caller-owned, in the libuv/raft style: zero-initialise a
 * struct notify_req, set its inputs, notify_call. */
#ifndef TM_NOTIFY_H
#define TM_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>

#include <uv.h>

#include "internal/client/hclient.h"
#include "internal/lib/err.h"

/* A member to call. Copied by notify_call. */
struct notify_member {
	const char *name;    /* for results and messages */
	const char *address; /* "host:port" */
	const char *pin;     /* its certificate's fingerprint (hclient.h) */
};

enum notify_policy { NOTIFY_ALL, NOTIFY_ALIVE, NOTIFY_TRY_ALL };

/* One member's outcome. Owned by the call until notify_req_clear. */
struct notify_result {
	char *name;
	char *address;
	bool called;	  /* false: NOTIFY_ALIVE did not call it (not alive),
			   * or the call was canceled before its turn */
	bool ok;	  /* it answered 2xx */
	int status;	  /* 0 when an HTTP answer (any status) arrived, else
			   * why not (hclient.h; TM_CONNECT when not called,
			   * TM_CANCELED when canceled, TM_SHUTDOWN when the
			   * client was closing) */
	long http_status; /* 0 without an answer */
	char *body;	  /* the answer's body, NUL-terminated, or NULL */
	size_t body_len;
	char errmsg[TM_ERRMSG_SIZE]; /* "" if OK, else "node2: connection
				      * refused" or, for a non-2xx answer,
				      * "node2: 400: <the error it gave>" */
};

struct notify_req;
struct notify_slot;
typedef void (*notify_cb)(struct notify_req *req);
/* NOTIFY_ALIVE: is M alive? Called once per member, inside
 * notify_call. */
typedef bool (*notify_alive_fn)(void *data, const struct notify_member *m);

struct notify_req {
	void *data; /* free for the caller */

	/* Inputs: borrowed, valid until the callback has run. */
	const char *method;	  /* "GET", "POST", ... */
	const char *path;	  /* "/internal/..." */
	const void *body;	  /* may be NULL */
	size_t body_len;	  /* of BODY */
	const char *content_type; /* of BODY; NULL sends none */
	unsigned timeout_ms;	  /* each member's request; 0 = 30 s */
	enum notify_policy policy;
	notify_alive_fn alive; /* required for NOTIFY_ALIVE */
	void *alive_data;
	unsigned max_concurrent; /* members called at once; 0 = 8 */

	/* Results, set before the callback; owned until notify_req_clear. */
	int status; /* 0, or (NOTIFY_ALL, NOTIFY_ALIVE) TM_IO when a member
		     * called did not answer 2xx; TM_CANCELED when
		     * notify_cancel stopped the call */
	char errmsg[TM_ERRMSG_SIZE];   /* "" or "2 of 3 members failed:
					* node2: ...; node3: ..." */
	struct notify_result *results; /* one per member, in the order
					* given */
	size_t n_results;
	size_t n_ok; /* members that answered 2xx */

	/* Private. */
	struct hclient *client;
	notify_cb cb;
	struct notify_slot *slots; /* one per member */
	size_t next;		   /* the next member to start */
	size_t running;
	bool canceled;
	bool finishing;
	uv_timer_t timer; /* defers the callback out of the API calls */
};

/* Start REQ on C for the N members of MEMBERS (copied; N may be 0). CB
 * runs once, later. Fails without calling CB: TM_INVALID (ERRMSG says
 * which input). */
int notify_call(struct hclient *c, struct notify_req *req,
		const struct notify_member *members, size_t n, notify_cb cb);

/* Stop REQ, whose callback has not run yet: members not answered yet get
 * TM_CANCELED, the call's status is TM_CANCELED. Results that arrived
 * stand. */
void notify_cancel(struct notify_req *req);

/* Free the results of REQ. Not while it runs. */
void notify_req_clear(struct notify_req *req);

/* The result of member NAME, or NULL. Borrowed from REQ. */
const struct notify_result *notify_result_of(const struct notify_req *req,
					     const char *name);

#endif /* TM_NOTIFY_H */

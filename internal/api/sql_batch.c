/* POST /internal/cluster/sql-batch: several SQL writes relayed together
 * by a follower (internal/daemon/cluster_relay.c), run by this member as
 * leader as if each had come alone.
 *
 * The body is frames (internal/lib/frames.h) whose payloads are POST
 * /1.0/sql bodies as clients sent them. Each is parsed and queued with
 * gdb_write, so that they share the leader's group commit; once all are
 * done the answer is one frame per request, in order: "STATUS RETRY
 * LENGTH\n" then the JSON metadata of the write's answer (STATUS 200) or
 * the error message (any other STATUS). RETRY is 1 when nothing was
 * applied because this member stopped leading before proposing it: the
 * follower then takes that request to the new leader.
 *
 * Members only. A malformed body is refused whole (400); a bad request
 * in it gets its own 400, the others run. A member elected while still
 * starting serves the batch once it is ready (global_wait.h); a 503 for
 * the whole batch is only ever given before any of it was queued. */
#include <stdio.h>
#include <string.h>

#include "internal/api/api.h"
#include "internal/api/forward.h"
#include "internal/api/global_wait.h"
#include "internal/api/sql.h"
#include "internal/config/config.h"
#include "internal/daemon/cluster.h"
#include "internal/daemon/daemon.h"
#include "internal/lib/frames.h"
#include "internal/lib/mem.h"

/* The most requests one batch may carry. */
#define SQL_BATCH_MAX 1024

struct item {
	struct batch *b;
	struct sql_request parsed;
	struct gdb_request greq;
	int http_status;
	bool retry;
	char *text; /* metadata JSON or error message; owned */
};

struct batch {
	struct rest_request *req;
	struct item *items;
	size_t n;
	size_t running;
};

static void item_answer(struct item *it, int http_status, bool retry,
			char *text)
{
	it->http_status = http_status;
	it->retry = retry;
	it->text = text;
}

static void finish(struct batch *b)
{
	struct frames_buf out = {0};
	for (size_t i = 0; i < b->n; i++) {
		struct item *it = &b->items[i];
		uint64_t head[2] = {(uint64_t)it->http_status, it->retry};
		frames_put(&out, head, 2, it->text, strlen(it->text));
		tm_free(it->text);
		sql_request_clear(&it->parsed);
	}
	rest_respond_raw(b->req, 200, "application/octet-stream", out.p, out.n,
			 NULL);
	tm_free(out.p);
	tm_free(b->items);
	tm_free(b);
}

static void done_cb(struct gdb_request *greq, int status)
{
	struct item *it = greq->data;
	struct batch *b = it->b;
	if (status == TM_NOTLEADER && greq->results == NULL) {
		item_answer(it, 503, true, tm_strdup(greq->errmsg));
	} else {
		struct sql_answer a;
		sql_answer_build(status, greq->errmsg, greq->results,
				 greq->n_stmts, it->parsed.transaction, &a);
		if (a.metadata != NULL) {
			cJSON_AddNumberToObject(a.metadata, "raft_index",
						(double)greq->index);
			item_answer(it, 200, false,
				    cJSON_PrintUnformatted(a.metadata));
			cJSON_Delete(a.metadata);
			tm_free(a.message);
		} else {
			item_answer(it, a.http_status, false, a.message);
		}
	}
	gdb_request_clear(greq);
	if (--b->running == 0) {
		finish(b);
	}
}

/* Count the frames of BODY; -1 if malformed. */
static long count_frames(const char *body, size_t len)
{
	size_t pos = 0;
	long n = 0;
	uint64_t head[1];
	const char *p;
	size_t plen;
	int rv;
	while ((rv = frames_next(body, len, &pos, head, 0, &p, &plen)) == 1) {
		n++;
	}
	return rv == 0 ? n : -1;
}

void api_internal_sql_batch_post(struct rest_request *req)
{
	struct daemon *d = rest_server_data(req);
	if (!cluster_is_member(d, rest_peer_fingerprint(req))) {
		rest_respond_error(req, 403,
				   "not authorized: only members of this "
				   "cluster may relay writes");
		return;
	}
	struct gdb *g = daemon_gdb(d);
	if (g == NULL && api_global_wait_relay(req)) {
		return; /* elected while starting: served once ready */
	}
	if (cluster_follows(d)) {
		api_refuse_not_leader(req, cluster_leader_address(d),
				      "this member is not the leader");
		return;
	}
	if (g == NULL) {
		rest_respond_error(req, 503, "this member is not the leader");
		return;
	}
	size_t len = 0;
	const char *body = rest_body(req, &len);
	long n = count_frames(body, len);
	if (n <= 0) {
		rest_respond_error(req, 400, "%s",
				   n == 0 ? "an empty batch of writes"
					  : "a malformed batch of writes");
		return;
	}
	if (n > SQL_BATCH_MAX) {
		rest_respond_error(req, 400, "more than %d writes in one batch",
				   SQL_BATCH_MAX);
		return;
	}
	struct batch *b = tm_calloc(1, sizeof *b);
	b->req = req;
	b->n = (size_t)n;
	b->items = tm_calloc(b->n, sizeof *b->items);
	b->running = b->n + 1; /* held until every item is queued */
	const cJSON *config = daemon_config(d);
	size_t pos = 0;
	for (size_t i = 0; i < b->n; i++) {
		struct item *it = &b->items[i];
		const char *p;
		size_t plen;
		char errmsg[TM_ERRMSG_SIZE];
		it->b = b;
		(void)frames_next(body, len, &pos, NULL, 0, &p, &plen);
		if (sql_request_parse(p, plen, &it->parsed, errmsg) != 0) {
			item_answer(it, 400, false, tm_strdup(errmsg));
			b->running--;
			continue;
		}
		unsigned timeout_ms =
		    sql_statement_timeout_ms(config, &it->parsed, errmsg);
		if (timeout_ms == 0 || it->parsed.target != SQL_TARGET_GLOBAL) {
			item_answer(it, 400, false,
				    tm_strdup(timeout_ms == 0
						  ? errmsg
						  : "only writes to the global "
						    "database are relayed"));
			b->running--;
			continue;
		}
		it->greq.data = it;
		it->greq.stmts = it->parsed.stmts;
		it->greq.n_stmts = it->parsed.n_stmts;
		it->greq.transaction = it->parsed.transaction;
		it->greq.timeout_ms = timeout_ms;
		gdb_write(g, &it->greq, done_cb);
	}
	if (--b->running == 0) {
		finish(b);
	}
}

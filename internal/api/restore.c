/* POST /1.0/sql/restore: replace the whole global database with the
 * SQLite file in the request body. The leader validates the image and
 * proposes it as one raft entry, so every member loads it at the same
 * log index (gdb_restore). The body stays valid until we answer, so the
 * image is not copied here. A follower relays the request to the leader
 * as it relays writes (api_to_leader). */
#include "internal/api/api.h"
#include "internal/api/cluster_http.h"
#include "internal/api/forward.h"
#include "internal/api/global_wait.h"
#include "internal/api/sql.h"
#include "internal/daemon/cluster.h"
#include "internal/daemon/daemon.h"
#include "internal/lib/mem.h"

struct restore {
	struct rest_request *req;
	struct gdb_request greq;
	size_t len;
};

static void restore_cb(struct gdb_request *greq, int status)
{
	struct restore *r = greq->data;
	if (status == 0) {
		cJSON *meta = cJSON_CreateObject();
		cJSON_AddNumberToObject(meta, "bytes", (double)r->len);
		rest_respond_sync(r->req, meta, NULL);
	} else if (status == TM_NOTLEADER && api_forwarded(r->req)) {
		/* Nothing was done: the member that relayed it takes it to
		 * the leader. */
		api_refuse_not_leader(r->req,
				      cluster_leader_address(
					  rest_server_data(r->req)),
				      "%s", greq->errmsg);
	} else {
		struct sql_answer answer;
		sql_answer_build(status, greq->errmsg, NULL, 0, false, &answer);
		sql_answer_send(r->req, &answer);
	}
	gdb_request_clear(greq);
	tm_free(r);
}

void api_sql_restore_post(struct rest_request *req)
{
	struct daemon *d = rest_server_data(req);
	struct gdb *g = daemon_gdb(d);
	if (g == NULL && api_global_wait(req)) {
		return;
	}
	if (g == NULL) {
		rest_respond_error(req, 503, "global database not available yet");
		return;
	}
	size_t len;
	const char *body = rest_body(req, &len);
	if (len == 0) {
		rest_respond_error(req, 400,
				   "request body must be a SQLite database file");
		return;
	}
	if (api_to_leader(req)) {
		return; /* a follower: the leader restores it */
	}
	struct restore *r = tm_calloc(1, sizeof *r);
	r->req = req;
	r->len = len;
	r->greq.data = r;
	gdb_restore(g, &r->greq, body, len, restore_cb);
}

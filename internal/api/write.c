/* One replicated write on behalf of a request (write.h). */
#include "internal/api/write.h"

#include <string.h>

#include "internal/api/forward.h"
#include "internal/api/sql.h"
#include "internal/daemon/cluster.h"
#include "internal/daemon/daemon.h"
#include "internal/lib/assert.h"
#include "internal/lib/mem.h"

struct api_write *api_write_new(struct rest_request *req, void *data)
{
	struct api_write *w = tm_calloc(1, sizeof *w);
	w->req = req;
	w->data = data;
	return w;
}

size_t api_write_stmt(struct api_write *w, const char *sql, size_t n_params)
{
	if (w->n == w->cap) {
		w->cap = w->cap == 0 ? 4 : 2 * w->cap;
		w->stmts = tm_realloc(w->stmts, w->cap * sizeof *w->stmts);
	}
	struct gdb_stmt *st = &w->stmts[w->n];
	memset(st, 0, sizeof *st);
	st->sql = (char *)sql; /* static; never freed */
	st->params =
	    n_params > 0 ? tm_calloc(n_params, sizeof *st->params) : NULL;
	st->n_params = n_params;
	return w->n++;
}

void api_write_text(struct api_write *w, size_t stmt, size_t i,
		    const char *text)
{
	PRE(stmt < w->n && i < w->stmts[stmt].n_params);
	struct gdb_value *v = &w->stmts[stmt].params[i];
	v->type = GDB_TEXT;
	v->p = tm_strdup(text);
	v->n = strlen(text);
}

void api_write_int(struct api_write *w, size_t stmt, size_t i, int64_t value)
{
	PRE(stmt < w->n && i < w->stmts[stmt].n_params);
	struct gdb_value *v = &w->stmts[stmt].params[i];
	v->type = GDB_INT;
	v->i = value;
}

static void write_cb(struct gdb_request *greq, int status)
{
	struct api_write *w = greq->data;
	w->cb(w, status);
}

bool api_write_submit(struct api_write *w, api_write_cb cb)
{
	PRE(w->n > 0);
	struct gdb *g = daemon_gdb(rest_server_data(w->req));
	if (g == NULL) {
		rest_respond_error(w->req, 503,
				   "the global database is not ready yet");
		api_write_free(w);
		return false;
	}
	w->cb = cb;
	w->greq.data = w;
	w->greq.stmts = w->stmts;
	w->greq.n_stmts = w->n;
	w->greq.transaction = true;
	gdb_write(g, &w->greq, write_cb);
	return true;
}

void api_write_fail(struct api_write *w, int status, const char *what)
{
	struct sql_answer answer;
	sql_answer_build(status, w->greq.errmsg, w->greq.results, w->n, true,
			 &answer);
	INVARIANT(answer.message != NULL);
	if (status == TM_NOTLEADER && api_forwarded(w->req)) {
		/* Nothing was done: the member that relayed it takes it to
		 * the leader (forward.h). */
		struct daemon *d = rest_server_data(w->req);
		api_refuse_not_leader(w->req, cluster_leader_address(d),
				      "%s: %s", what, answer.message);
	} else {
		rest_respond_error(w->req, answer.http_status, "%s: %s", what,
				   answer.message);
	}
	tm_free(answer.message);
	cJSON_Delete(answer.metadata);
}

bool api_write_conflict(const struct api_write *w, size_t stmt)
{
	return w->greq.results != NULL && stmt < w->n &&
	       w->greq.results[stmt].status == TM_CONFLICT;
}

void api_write_free(struct api_write *w)
{
	if (w == NULL) {
		return;
	}
	gdb_request_clear(&w->greq);
	for (size_t i = 0; i < w->n; i++) {
		for (size_t j = 0; j < w->stmts[i].n_params; j++) {
			gdb_value_clear(&w->stmts[i].params[j]);
		}
		tm_free(w->stmts[i].params);
	}
	tm_free(w->stmts);
	tm_free(w);
}

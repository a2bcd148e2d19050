/* One replicated write to the global database made by a handler for its
 * request (PUT/PATCH /1.0/config, /1.0/certificates), private to
 * internal/api.
 *
 * Happy path: api_write_new, api_write_stmt and api_write_text/int for
 * each statement, api_write_submit: the statements go out as one
 * transaction through gdb_write, and CB runs once the write is committed
 * and applied on this member (status 0), or refused (this member is not
 * the leader, a statement failed, the daemon is stopping...). CB answers
 * the request (api_write_fail gives the answer of a failure, mapped as the
 * SQL API maps gdb's statuses) and frees W with api_write_free.
 *
 * The global database not ready yet: api_write_submit answers 503 itself,
 * frees W and returns false; CB never runs. */
#ifndef TM_API_WRITE_H
#define TM_API_WRITE_H

#include <stdbool.h>
#include <stdint.h>

#include "internal/db/cluster/gdb.h"
#include "internal/rest/rest.h"

struct api_write;
typedef void (*api_write_cb)(struct api_write *w, int status);

struct api_write {
	void *data;		  /* for the caller */
	struct rest_request *req; /* borrowed: answered by CB */
	struct gdb_request greq;  /* results valid in CB */
	struct gdb_stmt *stmts;	  /* owned */
	size_t n;
	size_t cap;
	api_write_cb cb;
};

/* Owned by the caller until submitted; DATA is kept in w->data. */
struct api_write *api_write_new(struct rest_request *req, void *data);
/* Append statement SQL (static text, not copied) with N_PARAMS positional
 * parameters, set next with api_write_text/int (I from 0). Returns the
 * statement's index. */
size_t api_write_stmt(struct api_write *w, const char *sql, size_t n_params);
void api_write_text(struct api_write *w, size_t stmt, size_t i,
		    const char *text);
void api_write_int(struct api_write *w, size_t stmt, size_t i, int64_t v);
/* See above. True if CB will run. */
bool api_write_submit(struct api_write *w, api_write_cb cb);
/* Answer the request for a write that failed with STATUS: WHAT (e.g.
 * "store cluster-wide configuration (core.request_timeout)") and why,
 * with the HTTP status the SQL API gives the same failure. A request
 * relayed here that failed because this member does not lead (nothing
 * done) is refused with X-Thermionic-Not-Leader, so that the member that
 * relayed it takes it to the leader. */
void api_write_fail(struct api_write *w, int status, const char *what);
/* Did the write fail because statement STMT broke a constraint (a row
 * that exists already)? */
bool api_write_conflict(const struct api_write *w, size_t stmt);
void api_write_free(struct api_write *w);

#endif /* TM_API_WRITE_H */

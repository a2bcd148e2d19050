/* What a failed SQL request means for the history: did it take effect?
 *
 * A request whose answer did not say "done" is one of:
 * - fail: the server guarantees it did nothing (a refused request, a
 *   constraint that rolled the transaction back, no leader known so
 *   nothing was relayed, a connection refused before anything was sent);
 * - info: it may or may not have taken effect (a timeout, a connection
 *   lost after the request was sent, a 503 that says so, any answer this
 *   file cannot place).
 * Reads have no effect, so a read that did not succeed is always fail.
 * The rules follow doc/sql-api.md and internal/api/forward.c; when in
 * doubt the answer is info, which the checkers treat as "either". */
#ifndef CHAOS_CLASSIFY_H
#define CHAOS_CLASSIFY_H

#include <stdbool.h>

enum chaos_outcome {
	CHAOS_OK = 0,
	CHAOS_FAIL,
	CHAOS_INFO,
};

/* The outcome of a request that did not succeed: RC is the
 * libthermionic code (never THERMIONIC_OK), HTTP_STATUS the answer's
 * status or 0, ERRMSG its message (borrowed). WRITE: the request changes
 * the database (reads always fail). REUSED: the client had a connection
 * open before this request. libcurl sends a request again on a new
 * connection when a kept-alive one dies before any answer, so a refused
 * connection then may follow a request the server did receive (a leader
 * killed after proposing it): only a refusal on a first connection
 * proves nothing was sent. */
enum chaos_outcome chaos_classify(int rc, int http_status, const char *errmsg,
				  bool write, bool reused);

/* "ok", "fail" or "info". */
const char *chaos_outcome_name(enum chaos_outcome o);

#endif

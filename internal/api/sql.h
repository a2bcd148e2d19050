/* The SQL endpoints (POST /1.0/sql, GET /1.0/sql/backup), private to
 * internal/api. The contract is doc/sql-api.md.
 *
 * The pieces are split so that tests can reach each without a daemon:
 * - sql_json.c: request body -> struct sql_request (gdb_stmt/gdb_value) and
 *   gdb_result -> JSON, plus the choice of HTTP answer. Pure functions.
 * - sql_text.c: SQL values as JSON text in a growable buffer (the encoding
 *   rules, shared by sql_json.c and sql_stream.c). Pure functions.
 * - sql_stream.c: the response's results as JSON text, row by row, bounded
 *   by core.max_response_size, handed over in chunks. Pure.
 * - sql_pipe.c: chunks from a worker thread to the loop (uv_async) and on
 *   to the client (chunked transfer encoding), with back-pressure.
 * - sql_local.c: the read-only executor for the member's local database.
 *   SQLite only.
 * - sql_local_job.c: that executor on a worker thread, on a read-only
 *   connection of its own, bounded in time.
 * - sql_call.c: one request in flight: its pipe, the timer that notices a
 *   client gone, the answer, and the release of it all.
 * - backup.c: a consistent copy of the global database, streamed.
 * - sql.c: the handlers, which glue these to the daemon and gdb.
 *
 * Statements are numbered from 1 in every message ("statement 2: ..."),
 * while results[] in the response is a JSON array (index 0 = statement 1). */
#ifndef TM_API_SQL_H
#define TM_API_SQL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "internal/db/cluster/gdb.h"
#include "internal/lib/err.h"
#include "internal/rest/rest.h"

#define SQL_MAX_STATEMENTS 1000
#define SQL_BACKUP_CHUNK (64 * 1024)
/* Pages copied by one sqlite3_backup_step (4 MiB of 4 KiB pages). */
#define SQL_BACKUP_STEP_PAGES 1024
#define SQL_BACKUP_CONTENT_TYPE "application/vnd.sqlite3"
/* A streamed response is handed to the client in pieces of about this
 * size; a response smaller than one piece is sent whole, with
 * Content-Length. */
#define SQL_STREAM_CHUNK (64 * 1024)
/* Pieces a worker may have handed over and not yet seen written before
 * it waits for the client to read. */
#define SQL_STREAM_MAX_UNSENT 4

enum sql_target { SQL_TARGET_GLOBAL, SQL_TARGET_LOCAL };

/* A parsed POST /1.0/sql body. STMTS (N_STMTS entries, at least 1) and
 * everything they point to (sql, params, names) are owned by the struct:
 * release with sql_request_clear(). */
struct sql_request {
	enum sql_target target;
	bool transaction;
	enum gdb_read_level level;
	double timeout;	    /* seconds asked for by "timeout"; 0: not given */
	uint64_t min_index; /* "min_index": run once this member applied it */
	struct gdb_stmt *stmts;
	size_t n_stmts;
};

/* --- sql_json.c --- */

/* Parse LEN bytes of BODY (borrowed) into OUT. Returns 0, or TM_INVALID
 * with ERRMSG (TM_ERRMSG_SIZE bytes) holding the whole message of the 400
 * answer; OUT is then left empty (nothing to clear). */
int sql_request_parse(const char *body, size_t len, struct sql_request *out,
		      char *errmsg);

/* Free what OUT owns and zero it (idempotent). */
void sql_request_clear(struct sql_request *r);

/* One JSON parameter value (borrowed; from json_parse_exact, so integers are
 * exact) -> *OUT, whose TEXT/BLOB bytes are then owned by OUT
 * (gdb_value_clear). Returns 0, or TM_INVALID with ERRMSG saying why. */
int sql_value_from_json(const cJSON *item, struct gdb_value *out, char *errmsg);

/* JSON for a value, a result and a response's metadata ({"results": [...]})
 * per doc/sql-api.md. Inputs are borrowed; the returned item is owned by the
 * caller. Strings that come from SQLite are emitted as valid JSON whatever
 * their bytes: embedded NULs are escaped, invalid UTF-8 sequences become
 * U+FFFD. */
cJSON *sql_value_to_json(const struct gdb_value *v);
cJSON *sql_result_to_json(const struct gdb_result *res);
cJSON *sql_results_to_json(const struct gdb_result *results, size_t n);

/* What to answer for a request that ran (or failed) with STATUS, ERRMSG
 * (borrowed, may be NULL) and RESULTS (borrowed, N entries, may be NULL).
 * Exactly one of METADATA (HTTP 200, owned) and MESSAGE (error envelope,
 * owned, tm_free) is set. A TRANSACTION request with a failed statement is
 * answered with an error even when STATUS is 0 (reads and the local target
 * report such failures per statement). */
struct sql_answer {
	int http_status;
	cJSON *metadata;
	char *message;
};
void sql_answer_build(int status, const char *errmsg,
		      const struct gdb_result *results, size_t n,
		      bool transaction, struct sql_answer *out);

/* The bound of each statement in milliseconds: the request's "timeout",
 * else core.query_timeout. 0 with ERRMSG set when the request asks for
 * more than core.max_query_timeout (sql.c). */
unsigned sql_statement_timeout_ms(const cJSON *config,
				  const struct sql_request *parsed,
				  char *errmsg);

/* Send ANSWER on REQ (exactly one rest_respond_* call); takes ownership of
 * the answer's metadata and message. */
void sql_answer_send(struct rest_request *req, struct sql_answer *answer);

/* Does the request fail as a whole (an error envelope rather than 200)?
 * True when STATUS != 0, RESULTS is NULL, or TRANSACTION and a statement
 * failed. Then sql_answer_build gives the error. */
bool sql_answer_fails(int status, const struct gdb_result *results, size_t n,
		      bool transaction);

/* --- sql_text.c --- */

/* A growable byte buffer, always NUL-terminated once not empty. */
struct sql_buf {
	char *p; /* owned */
	size_t n;
	size_t cap;
};
void sql_buf_add(struct sql_buf *b, const void *data, size_t n);
void sql_buf_adds(struct sql_buf *b, const char *s);
/* Hand the bytes over (owned by the caller, tm_free; may be NULL when
 * empty) and leave B empty. */
char *sql_buf_take(struct sql_buf *b, size_t *len);
void sql_buf_clear(struct sql_buf *b);

/* Length of the well-formed UTF-8 sequence at P (LEFT > 0 bytes), or 0:
 * no overlong forms, no surrogates, nothing above U+10FFFF. */
size_t sql_utf8_len(const unsigned char *p, size_t left);
/* Offset of the first byte of S[0..n) that does not start a well-formed
 * sequence, or N when all of S is valid. */
size_t sql_utf8_invalid_at(const char *s, size_t n);

/* JSON text per doc/sql-api.md: a string for N bytes of S, valid whatever
 * the bytes (control characters and NUL escaped, each byte that does not
 * start a well-formed UTF-8 sequence as U+FFFD); a BLOB as
 * {"base64":"..."}; exact integers; reals always with a fraction or an
 * exponent (null for infinities and NaN). The _len functions give the
 * exact bytes the matching writer adds. */
void sql_json_text(struct sql_buf *b, const char *s, size_t n);
size_t sql_json_text_len(const char *s, size_t n);
void sql_json_blob(struct sql_buf *b, const void *p, size_t n);
size_t sql_json_blob_len(size_t n);
void sql_json_int(struct sql_buf *b, int64_t v);
void sql_json_real(struct sql_buf *b, double v);
/* Column COL of ST's current row; _len is exact for TEXT and BLOB and an
 * upper bound (24) for the others. */
void sql_json_column(struct sql_buf *b, sqlite3_stmt *st, int col);
uint64_t sql_json_column_len(sqlite3_stmt *st, int col);

/* --- sql_stream.c --- */

/* Hand the text T[0..len) (owned from now on by the callee) to whoever
 * sends it. Returns 0, or a TM_* status with ERRMSG set when the rows can
 * no longer go out (client gone, timed out waiting for it): the statement
 * then ends with that error. */
typedef int (*sql_enc_flush_fn)(void *arg, char *t, size_t len, char *errmsg);

/* The "metadata" of a POST /1.0/sql answer, {"results":[...]}, written as
 * JSON text while statements run: the entry of each statement from
 * sql_enc_columns, sql_enc_row and sql_enc_end, in that order, one
 * statement after the other. Whenever OUT holds CHUNK bytes or more after a
 * row, it is handed to FLUSH; what is left at the end is the caller's.
 *
 * LIMIT bounds the whole text (0: none): a row that would pass it fails
 * its statement with TM_TOOBIG and a message naming core.max_response_size
 * and how to page, and the rows before it stay. A statement that fails
 * before its first row is written {"error": ...}; one that fails after
 * rows gets "error" after "rows" (doc/sql-api.md). */
struct sql_enc {
	struct sql_buf out; /* written, not handed over */
	uint64_t total;	    /* bytes handed over before OUT */
	uint64_t limit;
	size_t chunk;
	sql_enc_flush_fn flush; /* NULL: never hand over */
	void *arg;
	size_t n_chunks; /* handed over */
	size_t n_ended;	 /* statements ended */
	bool open;	 /* a statement's rows are open */
	size_t start;	 /* where the open statement's entry starts in OUT */
	uint64_t rows;	 /* rows of the open statement */
	int failed;	 /* FLUSH failed: every later row fails so */
	bool hold;	 /* a full chunk fails the row with TM_BUSY instead
			    of leaving (a read tried on the loop) */
	char failed_msg[TM_ERRMSG_SIZE];
};
void sql_enc_init(struct sql_enc *e, uint64_t limit, size_t chunk,
		  sql_enc_flush_fn flush, void *arg);
/* Statement I starts returning rows; ST is positioned after its first
 * step. Returns 0 (nothing can fail here yet). */
int sql_enc_columns(struct sql_enc *e, sqlite3_stmt *st, char *errmsg);
/* The current row of ST. 0, or TM_TOOBIG / FLUSH's status with ERRMSG. */
int sql_enc_row(struct sql_enc *e, sqlite3_stmt *st, char *errmsg);
/* The statement ended with RES (borrowed: status, error, rows_affected,
 * last_insert_id, n_cols). */
void sql_enc_end(struct sql_enc *e, const struct gdb_result *res);
/* Close the results array: OUT then holds the end of the text. */
void sql_enc_finish(struct sql_enc *e);
void sql_enc_clear(struct sql_enc *e);
/* Back to what sql_enc_init made (nothing was handed over yet). */
void sql_enc_reset(struct sql_enc *e);
/* A gdb_sink whose data is an sql_enc. */
void sql_enc_sink(struct sql_enc *e, struct gdb_sink *sink);

/* --- sql_local.c --- */

/* Run STMTS (borrowed) on DB (the local database connection, borrowed,
 * outside any transaction) in one read transaction that is rolled back at
 * the end, with an authorizer that refuses transaction control, ATTACH,
 * DETACH, REINDEX, load_extension() and every PRAGMA that is not a plain
 * query. Returns:
 * - 0: *RESULTS holds N results (owned: sql_results_free), each with its
 *   rows or its own error (SQL errors, bad parameters).
 * - TM_INVALID: a statement writes or was refused; nothing ran, ERRMSG is
 *   the whole message of the 400 answer.
 * - TM_BUSY: DB is inside a transaction; TM_DB: BEGIN failed (ERRMSG). */
int sql_local_run(sqlite3 *db, const struct gdb_stmt *stmts, size_t n,
		  struct gdb_result **results, char *errmsg);

/* Bounds of a local run, read by a progress handler on the thread that
 * runs it. */
struct sql_bounds {
	unsigned timeout_ms;	   /* per statement; 0: none */
	const atomic_bool *cancel; /* set when the client went away; or NULL */
	/* Private. */
	uint64_t deadline_ns;
	int why; /* TM_TIMEOUT or TM_CANCELED once interrupted */
};

/* sql_local_run, with each statement bounded by BOUNDS (may be NULL) and,
 * when SINK is not NULL, rows given to SINK (as gdb does for reads:
 * columns, row, end) instead of kept in *RESULTS. An interrupted statement
 * fails with TM_TIMEOUT or TM_CANCELED and a message saying why. */
int sql_local_run_bounded(sqlite3 *db, const struct gdb_stmt *stmts, size_t n,
			  struct sql_bounds *bounds, struct gdb_sink *sink,
			  struct gdb_result **results, char *errmsg);

/* Free N results and the array (NULL is fine). */
void sql_results_free(struct gdb_result *results, size_t n);

/* --- backup.c --- */

/* Copy the main database of SRC (borrowed, used by the calling thread
 * only) into a new file DIR/backup-XXXXXX (mode 0600) in rollback-journal
 * mode (DELETE), so that the file alone is the whole database. The copy
 * goes in steps of SQL_BACKUP_STEP_PAGES pages, all under one read
 * transaction of SRC (the caller's, or one begun and ended here), so it is
 * the state of one moment. On success *PATH is owned by the caller
 * (tm_free), and so is the file (unlink). Returns 0, or TM_IO/TM_DB with
 * ERRMSG set; no file is left behind on failure. Takes as long as reading
 * the database: call it on a worker thread. */
int sql_backup_copy(sqlite3 *src, const char *dir, char **path, char *errmsg);

/* The same from the database file SRC_PATH, opened read-only for the copy
 * (a WAL reader: it does not block the database's writer). */
int sql_backup_copy_file(const char *src_path, const char *dir, char **path,
			 char *errmsg);

/* Answer REQ, later, with a backup of the database file SRC_PATH made
 * through DIR by a worker of POOL (borrowed; it must outlive the copy):
 * 500 if the copy fails, else a streamed 200 of SQL_BACKUP_CONTENT_TYPE.
 * The loop only queues the job and, afterwards, streams the file. The
 * temporary file is unlinked before the first byte is sent (the open
 * descriptor keeps it readable), so nothing is left behind whether the
 * client reads to the end or goes away. SRC_PATH and DIR are copied. */
struct pool;
void sql_backup_send(struct rest_request *req, struct pool *pool,
		     const char *src_path, const char *dir);

#endif /* TM_API_SQL_H */

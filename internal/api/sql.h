/* The SQL endpoints (POST /1.0/sql, GET /1.0/sql/backup), private to
 * internal/api. The contract is doc/sql-api.md.
 *
 * The pieces are split so that tests can reach each without a daemon:
 * - sql_json.c: request body -> struct sql_request (gdb_stmt/gdb_value) and
 *   gdb_result -> JSON, plus the choice of HTTP answer. Pure functions.
 * - sql_local.c: the read-only executor for the member's local database and
 *   the read-only test used to route global requests. SQLite only.
 * - backup.c: a consistent copy of the global database, streamed.
 * - sql.c: the handlers, which glue these to the daemon and gdb.
 *
 * Statements are numbered from 1 in every message ("statement 2: ..."),
 * while results[] in the response is a JSON array (index 0 = statement 1). */
#ifndef TM_API_SQL_H
#define TM_API_SQL_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "internal/db/cluster/gdb.h"
#include "internal/lib/err.h"
#include "internal/rest/rest.h"

#define SQL_MAX_STATEMENTS 1000
#define SQL_BACKUP_CHUNK (64 * 1024)
#define SQL_BACKUP_CONTENT_TYPE "application/vnd.sqlite3"

enum sql_target { SQL_TARGET_GLOBAL, SQL_TARGET_LOCAL };

/* A parsed POST /1.0/sql body. STMTS (N_STMTS entries, at least 1) and
 * everything they point to (sql, params, names) are owned by the struct:
 * release with sql_request_clear(). */
struct sql_request {
	enum sql_target target;
	bool transaction;
	enum gdb_read_level level;
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

/* Send ANSWER on REQ (exactly one rest_respond_* call); takes ownership of
 * the answer's metadata and message. */
void sql_answer_send(struct rest_request *req, struct sql_answer *answer);

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

/* Free N results and the array (NULL is fine). */
void sql_results_free(struct gdb_result *results, size_t n);

/* --- backup.c --- */

/* Copy the main database of SRC (borrowed; e.g. gdb_exec_conn()) in one
 * backup step, which reads it in one read transaction, into a new file
 * DIR/backup-XXXXXX (mode 0600) in rollback-journal mode (DELETE), so that
 * the file alone is the whole database. On success *PATH is owned by the
 * caller (tm_free), and so is the file (unlink). Returns 0, or TM_IO/TM_DB
 * with ERRMSG set; no file is left behind on failure. */
int sql_backup_copy(sqlite3 *src, const char *dir, char **path, char *errmsg);

/* Answer REQ with a backup of SRC made through DIR: 500 if the copy fails,
 * else a streamed 200 of SQL_BACKUP_CONTENT_TYPE. The temporary file is
 * unlinked before the first byte is sent (the open descriptor keeps it
 * readable), so nothing is left behind whether the client reads to the end
 * or goes away. */
void sql_backup_send(struct rest_request *req, sqlite3 *src, const char *dir);

#endif /* TM_API_SQL_H */

/* The global database: one SQLite database replicated with Raft.
 *
 * This module is the replicated state machine (prefix gdb_). It owns the
 * SQLite file and two connections to it, implements the struct raft_fsm that
 * raft applies committed entries to, and turns write requests into log
 * entries. It does not own raft: the caller creates the raft instance (raft_uv
 * in the daemon, raft/fixture.h in tests) and hands it over.
 *
 * Replication is by row changes (see doc/log-entry-format.md):
 *
 * - The leader executes a batch of write requests on the "exec" connection
 *   inside one transaction, records each statement's row changes in the
 *   order SQLite makes them, by rowid (or primary key for WITHOUT ROWID
 *   tables) from a preupdate hook (record.c), encodes them as one entry,
 *   ROLLS BACK
 *   the transaction and proposes the entry with raft_apply(). The leader's
 *   database changes only when the committed entry is applied, exactly as on
 *   every follower. User statements stay prepared on the exec connection
 *   (a cache by SQL text, cache.c), shared by gdb_read_only() and the
 *   execution.
 * - Every member applies committed entries on the "apply" connection (the
 *   only connection that ever commits), with triggers and foreign keys off:
 *   the recorded changes already hold the effects of triggers and
 *   cascades. CHECK
 *   constraints are off there too (PRAGMA ignore_check_constraints, set
 *   before anything is prepared on it): the leader checked every row it
 *   commits, and a CHECK that calls random() or reads the clock would not
 *   give the same answer twice. A
 *   conflict while applying means the members diverged: the process stops
 *   with a message naming the entry and the table (tm_panic, SIGABRT).
 * - Schema statements travel as SQL text in the same entry; their effects on
 *   other existing tables (ON DELETE actions of a DROP TABLE) travel as row
 *   changes right after them. CREATE TABLE ... AS SELECT travels as the
 *   table's stored definition and its rows.
 * - Write requests that arrive while an entry is in flight wait and go out
 *   together as the next entry (group commit); each keeps its own result.
 * - A restore (gdb_restore) replaces the whole database with a SQLite image.
 *   It waits in the same queue as writes, so it is ordered with them, and
 *   travels alone as a RESTORE entry holding the image; every member loads
 *   it at that log index, the way a snapshot is installed.
 *
 * What the leader refuses, because it cannot be replicated faithfully:
 * rowid tables whose rowid no SQL name reaches (columns named rowid,
 * _rowid_ and oid, no INTEGER PRIMARY KEY), generated columns (SQLite
 * 3.40's preupdate hook reports wrong values for them), temporary objects,
 * ATTACH/DETACH
 * (and VACUUM INTO), transaction statements (use the request's transaction
 * flag), PRAGMAs that change settings (PRAGMA queries such as table_info(t)
 * are fine), direct writes to sqlite_sequence and sqlite_stat*, parameters
 * in schema statements, more than one statement per gdb_stmt, VACUUM,
 * load_extension(), and virtual tables other than fts3, fts4, fts5, rtree,
 * geopoly (which replicate through their shadow tables) and the read-only
 * views over them (fts4aux, fts5vocab, fts3tokenize): dbstat, for one,
 * describes each member's own file.
 *
 * One SQLite 3.40 quirk is worked around rather than refused: after
 * ALTER TABLE ... ADD COLUMN with a DEFAULT, every row is rewritten to store
 * the default (see schema.c), which costs one pass over the table.
 *
 * - A content check (gdb_check) travels as a CHECK entry; every member,
 *   applying it, hashes its database as it stands at that entry on a
 *   worker (gdb_check_result). Every member also keeps a hash chain over
 *   the entries it applied (chain.h; doc/consistency.md).
 *
 * Snapshots are taken without stalling the loop (raft_fsm version 3):
 * raft's snapshot() call, on the loop, only begins a read transaction on a
 * read-only connection of the snapshot's own, which pins the state after
 * the last applied entry; snapshot_async(), on a worker of libuv's
 * threadpool, copies that state into one buffer (the only copy held);
 * snapshot_finalize(), on the loop, frees it and ends the transaction.
 * Entries keep being applied meanwhile. See snapshot.c and interval.c.
 *
 * The database file is NOT durable and need not be: gdb_init() deletes it and
 * starts empty, and raft rebuilds it from the last snapshot plus the log when
 * raft_start() runs (restore, then apply). It uses WAL with synchronous=OFF.
 *
 * Threading: the API is called on the one libuv loop given to gdb_init(),
 * and no function is thread-safe. What can take long runs on the worker
 * threads of a pool (gdb_set_pool): reads, each on a read-only connection of
 * its own, and the leader's write batches on the exec connection; their
 * results come back on the loop, which keeps serving raft and the API
 * meanwhile. Every statement is bounded in time (its request's timeout_ms,
 * or the default of gdb_set_limits) and interrupted when it passes it, when
 * its request is canceled (gdb_cancel) or when the module closes. Callbacks
 * never fire inside the call that started the operation.
 *
 * Messages number statements from 1 ("statement 2: UNIQUE constraint
 * failed: t.v"). */
#ifndef TM_DB_CLUSTER_GDB_H
#define TM_DB_CLUSTER_GDB_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <raft.h>
#include <sqlite3.h>
#include <uv.h>

#include "internal/lib/err.h"
#include "internal/lib/pool.h"

struct gdb;

/* A SQL value. TEXT and BLOB bytes are in p[0..n), owned by whoever owns the
 * value; TEXT is also NUL-terminated (p[n] == 0). TEXT keeps its explicit
 * length, so an embedded NUL survives the round trip (SQLite stores it, but
 * many SQL functions stop at the first NUL: use BLOB for binary data). */
enum gdb_type { GDB_NULL, GDB_INT, GDB_REAL, GDB_TEXT, GDB_BLOB };
struct gdb_value {
	enum gdb_type type;
	int64_t i;
	double r;
	char *p;
	size_t n;
};

/* One SQL statement and its parameters. Exactly one statement per sql string
 * (trailing SQL other than whitespace, comments and ';' is refused).
 * names == NULL binds params positionally (?, ?NNN in order 1..n); otherwise
 * names[i] is the full parameter name including its prefix (":id", "@id",
 * "$id") and every parameter of the statement must be given. */
struct gdb_stmt {
	char *sql;
	struct gdb_value *params;
	char **names;
	size_t n_params;
};

/* Outcome of one statement. Everything is owned by the result.
 * status: 0 or a TM_* code (TM_INVALID for SQL errors and refusals,
 * TM_CONFLICT for constraint violations, TM_CANCELED for a statement of a
 * failed transaction request). error: NULL when status is 0, else SQLite's
 * message or ours. columns/decltypes: n_cols names, decltype "" if none.
 * rows: n_rows * n_cols values, row-major. rows_affected and last_insert_id
 * are set for INSERT/UPDATE/DELETE (0 otherwise). */
struct gdb_result {
	int status;
	char *error;
	size_t n_cols;
	char **columns;
	char **decltypes;
	size_t n_rows;
	struct gdb_value *rows;
	int64_t rows_affected;
	int64_t last_insert_id;
};

enum gdb_read_level {
	GDB_READ_NONE,	       /* local state, may be stale on any member */
	GDB_READ_LINEARIZABLE, /* leader only, after a raft barrier */
};

struct gdb_request;
typedef void (*gdb_request_cb)(struct gdb_request *req, int status);

/* Where the rows of a read go instead of results[].rows, so that a caller
 * can encode them as they are produced and bound what it keeps. The
 * functions run on the worker thread that runs the statement, one statement
 * after the other (I is its index); ST is the statement, positioned on the
 * row. A non-zero return stops the statement with that TM_* status and the
 * message the sink wrote into ERRMSG (TM_ERRMSG_SIZE bytes); the results
 * of that statement then hold that error. results[i].n_rows still counts
 * the rows given to the sink. END (may be NULL) is called once for every
 * statement, whether or not it had columns or ran at all, after its last
 * row, with its result (borrowed for the call: status and error say how it
 * ended, rows_affected and last_insert_id are set), so that an encoder can
 * close it, error included, before the next statement starts. */
struct gdb_sink {
	void *data;
	int (*columns)(struct gdb_sink *s, size_t i, sqlite3_stmt *st,
		       char *errmsg);
	int (*row)(struct gdb_sink *s, size_t i, sqlite3_stmt *st,
		   char *errmsg);
	void (*end)(struct gdb_sink *s, size_t i, const struct gdb_result *res);
	/* A read is first tried on the loop (on_loop set meanwhile): a sink
	 * that would have to let rows leave (a whole chunk of them) returns
	 * TM_BUSY instead; the read is then dropped, RESET (may be NULL: the
	 * read is not tried on the loop) puts the sink back as it was before
	 * it, and the read runs again from the start on a worker. */
	void (*reset)(struct gdb_sink *s);
	bool on_loop;
};

/* A read or write request, owned by the caller, who must keep it (and the
 * statements it points to) alive and untouched until cb has fired.
 *
 * Status given to cb:
 * - 0: the request ran. results[] holds one result per statement. For a
 *   write, everything it changed is committed by raft AND applied to this
 *   member's database. In a non-transaction request each statement stands
 *   alone: one that failed (results[i].status != 0) changed nothing, the
 *   others took effect.
 * - TM_CONFLICT/TM_INVALID/...: a transaction request whose statement failed:
 *   nothing of it was applied; results[] says which statement failed and why,
 *   the others report TM_CANCELED ("rolled back"/"not executed").
 * - TM_NOTLEADER: a write or linearizable read reached a member that is not
 *   the leader (errmsg names the leader when known). Nothing was applied;
 *   safe to retry on the leader. results is NULL.
 * - TM_CANCELED: the write was proposed but leadership was lost (or raft shut
 *   down) before it was known to commit: it MAY OR MAY NOT have been applied.
 *   results is NULL.
 * - TM_NOSPACE: refused for lack of disk space before it was proposed
 *   (gdb_set_min_free_space; errmsg says "nothing was applied"), or raft
 *   could not write its entry to the log for lack of space: then it was not
 *   applied on this member but, in a cluster, MAY OR MAY NOT have been
 *   (errmsg says which case). results is NULL.
 * - TM_SHUTDOWN: gdb_close() was called before the request was proposed;
 *   nothing was applied. results is NULL.
 * - TM_INVALID: the request itself is malformed (no statements).
 * errmsg is "" on success and says why otherwise.
 *
 * Rare case: when SQLite itself rolls back the leader's batch transaction
 * (disk full, I/O error), what ran before stays valid and is proposed, the
 * failing statement reports its error, and the statements after it report
 * TM_IO "not executed" without running. */
struct gdb_request {
	void *data; /* for the caller; never touched */

	/* Input, borrowed until cb. */
	const struct gdb_stmt *stmts;
	size_t n_stmts;
	bool transaction;	   /* all-or-nothing (writes); ignored by reads,
				      whose statements all see one snapshot */
	enum gdb_read_level level; /* reads only */
	unsigned timeout_ms;	   /* bound of each statement's execution;
				      0: the default of gdb_set_limits */
	struct gdb_sink *sink;	   /* reads only: where rows go; NULL: into
				      results[].rows. Borrowed until cb */

	/* Output, valid from cb until gdb_request_clear(). */
	struct gdb_result *results; /* n_stmts entries, or NULL */
	/* The raft index this member had applied when the request was
	 * answered; for a write carried by an entry, that entry's index.
	 * A read with min_index N on any member sees it once that member
	 * has applied N (read-your-writes). Set before cb. */
	uint64_t index;
	char errmsg[TM_ERRMSG_SIZE];

	/* Private. */
	gdb_request_cb cb;
	struct gdb_request *next;
	atomic_bool canceled; /* read by worker threads */
	int status;
	bool restore;	   /* queued by gdb_restore() */
	bool check;	   /* queued by gdb_check() */
	const void *image; /* gdb_restore() only, borrowed */
	size_t image_len;
};

/* Bounds of the work done for one request. */
struct gdb_limits {
	unsigned timeout_ms;	   /* default per statement; 0 = none */
	uint64_t max_result_bytes; /* rows a read keeps in results[], counted
				      as their values' bytes; 0 = none */
	uint64_t max_write_bytes;  /* changes a write request may make,
				      counted as recorded bytes; 0 = none */
};

/* Counters for benchmarks and status pages. */
struct gdb_stats {
	uint64_t entries_proposed;   /* raft_apply() calls that succeeded */
	uint64_t requests_proposed;  /* write requests carried by them */
	uint64_t max_requests_entry; /* largest batch in one entry */
	uint64_t batches_unchanged;  /* batches answered without an entry */
	uint64_t batches_offloaded;  /* passed the loop's budget: re-run on a
					worker */
	uint64_t entries_applied;    /* entries applied on this member */
	uint64_t entries_applied_inline; /* ... on the loop */
	uint64_t entries_applied_lane;	 /* ... queued for the apply thread
					    (big, or behind others) */
	uint64_t snapshots_taken;
	uint64_t snapshots_restored;
	uint64_t restores_applied; /* RESTORE entries applied on this member */
	uint64_t
	    barriers; /* barriers proposed (linearizable reads, catch-up) */
	uint64_t confirms; /* leadership confirmations without an entry
			      (gdb_set_confirm) */
	uint64_t reads_on_loop;	  /* reads answered on the loop */
	uint64_t reads_offloaded; /* passed the loop's budget: re-run on a
				     worker */
	uint64_t stmt_cache_hits;     /* user statements found prepared */
	uint64_t stmt_cache_misses;   /* ... and prepared */
	uint64_t changesets_direct;   /* one-change changesets (entries of
					 format version 1) applied with cached
					 statements (apply_one.c) */
	uint64_t row_changes_applied; /* changes of ROWS items applied */
};

typedef void (*gdb_close_cb)(void *arg);

/* Create the state machine: delete DB_PATH (and its -wal/-shm files), create
 * an empty database there and open both connections. LOOP is borrowed and
 * must outlive the gdb; it is used only to defer callbacks. On success *out
 * is owned by the caller and released with gdb_close(). Returns 0, or
 * TM_IO/TM_DB with errmsg set. */
int gdb_init(struct gdb **out, uv_loop_t *loop, const char *db_path,
	     char *errmsg);

/* The struct raft_fsm to pass to raft_init() (or raft_fixture_grow()).
 * Borrowed: valid until gdb_close(). */
struct raft_fsm *gdb_fsm(struct gdb *g);

/* Attach the raft instance built with gdb_fsm(g). Borrowed: RAFT must stay
 * valid until gdb_close(), and raft must be closed (its close callback fired)
 * before gdb_close() is called. Call once, before raft_start(). */
void gdb_set_raft(struct gdb *g, struct raft *raft);
/* Once raft started: apply committed entries off the loop when they would
 * hold it (lane.c). 0, or TM_IO with errmsg. */
int gdb_lane_start(struct gdb *g, char *errmsg);
/* The index of the last entry this member's database holds (raft's
 * applied index once the apply thread caught up). */
uint64_t gdb_applied_index(struct gdb *g);
/* Apply what the apply thread has queued and stop it (blocks the loop
 * meanwhile; an entry waiting for disk space is given up, and so is every
 * later one); entries are applied on the loop from then on. Before raft
 * closes: raft waits for a snapshot in progress, which waits for the
 * apply thread. Idempotent. */
void gdb_lane_stop(struct gdb *g);

/* Confirming leadership without a log entry, for linearizable reads and
 * read indexes. A barrier costs an entry, written and fsynced on a
 * majority; asking a majority of voters for their raft term costs one
 * round trip. If a majority, this member included, answer with this
 * member's current term at times after a read arrived, no other leader
 * was elected before it arrived (electing one takes a majority that
 * moved to a higher term first, and terms never go back), so every
 * write acknowledged before the read is in this leader's log at or below
 * its commit index of then.
 *
 * FN(ARG, DONE, DONE_ARG) starts such a round; it returns 1 if
 * leadership is confirmed at once (a single voter: DONE is not called),
 * 0 if started (DONE is called once, later, from the loop, with 0 when a
 * majority answered with the term, non-zero otherwise), or a negative
 * value if it cannot (a barrier is used). The first linearizable read
 * of a term still uses a barrier: the commit index means something only
 * once an entry of this leader's term is committed. A round that fails
 * while this member still leads falls back to a barrier too. */
typedef void (*gdb_confirm_done)(void *done_arg, int status);
typedef int (*gdb_confirm_fn)(void *arg, gdb_confirm_done done,
			      void *done_arg);
void gdb_set_confirm(struct gdb *g, gdb_confirm_fn fn, void *arg);

/* A read index without waiting, for a follower's ask that carries the
 * follower's own term (as good as its answer in a round, since it was
 * sent after the read arrived there): if this member leads, an entry of
 * its term is committed, and the confirmations already in hand (the
 * follower's) suffice (NEED <= CONFIRMED), *INDEX is the commit index
 * and 0 is returned. Otherwise TM_BUSY: use gdb_read_index. */
int gdb_read_index_now(struct gdb *g, unsigned need, unsigned confirmed,
		       uint64_t *index);

/* Queue a write request. The leader executes it with the other writes that
 * are waiting when no entry is in flight, then proposes one entry for all of
 * them. cb fires once, later, on the loop. REQ is filled in as described
 * above; REQ->stmts must be set before the call. */
void gdb_write(struct gdb *g, struct gdb_request *req, gdb_request_cb cb);

/* Queue a restore: replace the whole database, on every member at the same
 * log index, with the SQLite database file IMAGE[0..len) (borrowed until cb;
 * the caller bounds its size). REQ->stmts, n_stmts and transaction are
 * ignored. The restore waits behind the writes queued before it and for the
 * entry in flight, and travels alone as its own entry; writes queued after
 * it see the restored database.
 *
 * Leader only: TM_NOTLEADER elsewhere, as for writes. Before proposing, the
 * leader checks a copy of the image and refuses it with TM_INVALID and an
 * errmsg "invalid image: ..." unless: it starts with the SQLite header, is
 * as long as its header says, has 4096-byte pages (the page size of every
 * member's database; the message says how to convert a file) and UTF-8
 * text, opens, passes PRAGMA integrity_check, and every table passes the
 * checks CREATE TABLE passes (no generated column, no hidden rowid). A
 * WAL-format file (header bytes 18-19 = 2) is accepted: the copy is marked
 * rollback-journal, as snapshots are. The check runs on the loop thread, reads
 * the whole image (integrity_check), and holds the image three times at its
 * peak (the caller's, the copy, the entry).
 *
 * Status given to cb: 0 when the restore is committed and applied on this
 * member (results stays NULL, errmsg ""); TM_INVALID as above;
 * TM_NOTLEADER, TM_CANCELED, TM_SHUTDOWN as for writes; TM_TOOBIG when raft
 * refuses an entry that large; TM_DB/TM_NOMEM when the check itself could
 * not run. */
void gdb_restore(struct gdb *g, struct gdb_request *req, const void *image,
		 size_t len, gdb_request_cb cb);

/* Queue a content check: a CHECK entry, proposed alone in the write queue
 * (behind the writes queued before it). Leader only, as writes. cb: 0 once
 * the entry is applied on this member, req->index its index (the member's
 * own hash is then being computed: gdb_check_result); other statuses as
 * for writes. */
void gdb_check(struct gdb *g, struct gdb_request *req, gdb_request_cb cb);

/* What a member found at the CHECK entry of index INDEX. */
struct gdb_check_result {
	uint64_t index;
	uint64_t chain_base; /* chain.h */
	uint8_t chain[16];   /* the hash chain at INDEX */
	uint8_t content[16]; /* the content hash (content.h) */
};

/* The check at INDEX on this member: 0 with *OUT; TM_BUSY while its hash
 * is computed; TM_NOTFOUND when this member applied no CHECK entry at
 * INDEX (or forgot it: it keeps the last few); or the status with which
 * hashing failed (ERRMSG, TM_ERRMSG_SIZE, says why). */
int gdb_check_result(struct gdb *g, uint64_t index,
		     struct gdb_check_result *out, char *errmsg);

/* The hash chain where this member's database stands (*INDEX, *BASE,
 * VALUE), or at INDEX, from the ring: false when unknown (INDEX older than
 * the ring or not applied here yet, or the chain waits to restart after an
 * old snapshot). */
bool gdb_chain_now(struct gdb *g, uint64_t *index, uint64_t *base,
		   uint8_t value[16]);
bool gdb_chain_get(struct gdb *g, uint64_t index, uint64_t *base,
		   uint8_t value[16]);

/* Queue a read request: every statement must be read-only. It runs on the
 * exec connection in one read transaction. GDB_READ_LINEARIZABLE first runs
 * a raft barrier (shared by the linearizable reads waiting at that moment)
 * and fails with TM_NOTLEADER on a follower. cb fires once, later. */
void gdb_read(struct gdb *g, struct gdb_request *req, gdb_request_cb cb);

/* A read index, for a linearizable read served by a follower: once a
 * barrier proposed after this call is committed (so this member still led
 * then), req->index is set to the index just before that barrier. Every
 * write acknowledged before the call has an index at or below it; nothing
 * is read. REQ needs no statements (stmts and n_stmts are ignored). Shares
 * the barrier of the linearizable reads waiting at that moment. Fails with
 * TM_NOTLEADER on a follower or when leadership is lost. cb fires once,
 * later. */
void gdb_read_index(struct gdb *g, struct gdb_request *req, gdb_request_cb cb);

/* True if every statement of STMTS (N of them, borrowed) is read-only
 * (sqlite3_stmt_readonly) when prepared on the exec connection: route the
 * request to gdb_read, else to gdb_write. A statement that fails to prepare,
 * is empty, or holds more than one statement counts as NOT read-only, so
 * that a request that may write goes to the leader, which reports the
 * error; one the authorizer refuses is routed as if it were allowed, and
 * refused where it runs. Nothing is run. The statements stay prepared in the
 * exec connection's statement cache, so the gdb_read or gdb_write that
 * follows does not parse them again. */
bool gdb_read_only(struct gdb *g, const struct gdb_stmt *stmts, size_t n);

/* Free the results of a request whose cb has fired (idempotent). */
void gdb_request_clear(struct gdb_request *req);

/* Helpers for running statements on any SQLite connection (the local
 * database's SQL API uses them too). gdb_stmt_bind binds STMT's parameters
 * (positional or named; counts and names must match) to ST; on failure it
 * fills RES with the error and returns its status. gdb_value_from_column
 * copies column COL of the current row into OUT (owned by OUT). */
int gdb_stmt_bind(sqlite3_stmt *st, const struct gdb_stmt *stmt,
		  struct gdb_result *res);
void gdb_value_from_column(sqlite3_stmt *st, int col, struct gdb_value *out);

/* Free the owned parts of a result or a value (idempotent). */
void gdb_result_clear(struct gdb_result *res);
void gdb_value_clear(struct gdb_value *v);

/* A connection for quick local reads on the loop (the schema version):
 * a consistent read transaction sees the last applied entry.
 * Borrowed; read-only. Do not keep a transaction open across loop turns. */
sqlite3 *gdb_exec_conn(struct gdb *g);

/* The path of the database file, borrowed: valid until gdb_close(). Other
 * connections may open it read-only (backups, on a worker thread): in WAL
 * mode they see the entries applied before their read transaction began
 * and never block the apply connection. */
const char *gdb_path(struct gdb *g);

/* The connection that executes the leader's write batches, borrowed, for
 * tests that make it fail (PRAGMA max_page_count). Only while no batch
 * runs; never for anything else. */
sqlite3 *gdb_batch_conn(struct gdb *g);

void gdb_get_stats(struct gdb *g, struct gdb_stats *out);

/* Run reads and write batches on POOL's worker threads (borrowed; must
 * outlive G, and have at least one thread): one read-only connection per
 * thread is opened. Without a pool (or with an inline one, as the tests on
 * raft's fixture use) everything runs on the loop. Call once, before any
 * request. Returns 0 or TM_DB/TM_IO with errmsg set. */
int gdb_set_pool(struct gdb *g, struct pool *pool, char *errmsg);

/* Copied; applies to requests that start after the call. */
void gdb_set_limits(struct gdb *g, const struct gdb_limits *limits);

/* The client of REQ (queued or running, not yet answered) went away:
 * a request still queued is answered TM_CANCELED (nothing was applied), a
 * running statement is interrupted (its result says so). A write already
 * proposed to raft cannot be taken back and is answered as usual. cb still
 * fires exactly once, later. */
void gdb_cancel(struct gdb *g, struct gdb_request *req);

/* Refuse writes and restores (TM_NOSPACE, nothing proposed) while the file
 * system holding the database has less than BYTES free, so that a
 * committed entry never meets a full disk when it is applied. 0 (the
 * default) turns the check off. */
void gdb_set_min_free_space(struct gdb *g, uint64_t bytes);

/* Snapshot interval. raft takes a snapshot every "threshold" entries; each
 * snapshot copies the whole database, so with a fixed threshold the cost
 * per write grows with the database. After each snapshot the module tells
 * raft (raft_set_snapshot_threshold) the interval gdb_snapshot_interval()
 * gives for it, so that the bytes of the entries between two snapshots
 * stay about a quarter of the database and the copying per written byte
 * stays flat. BASE is raft.snapshot_threshold, the smallest interval; it
 * applies at once, and 0 (the default) leaves raft's threshold alone.
 * The same share is also kept in bytes: once the entries applied since
 * the last snapshot (at least GDB_SNAPSHOT_MIN_ENTRIES of them) carry more
 * than a quarter of the database and GDB_SNAPSHOT_MIN_BYTES, raft takes
 * one after the next entry (after a failed one: once as many bytes
 * again),
 * whatever the count, so a burst of large writes does not leave a long log
 * behind it (which a joining or lagging member would receive, and a
 * restart replay, all at once). */
void gdb_set_snapshot_threshold(struct gdb *g, unsigned base);

/* The log kept after a snapshot. raft keeps a number of entries before
 * each snapshot (raft.snapshot_trailing, BASE) so that a follower a little
 * behind catches up from the log rather than from a whole snapshot; but it
 * keeps them in memory and on disk, and a restart reads them all, so with
 * entries of megabytes a count alone is gigabytes. At each snapshot the
 * module keeps at most BASE entries and at most what carries
 * max(database / GDB_SNAPSHOT_DB_SHARE, MIN_BYTES) bytes (at least one
 * entry); the daemon passes GDB_TRAIL_MIN_BYTES. BASE 0 (the default)
 * leaves raft's trailing alone. */
#define GDB_TRAIL_MIN_BYTES (64u << 20)
void gdb_set_snapshot_trailing(struct gdb *g, unsigned base,
			       uint64_t min_bytes);
/* No entry past FLOOR is dropped, whatever the above says: FLOOR is the
 * oldest last snapshot among the members heard from lately (the leader
 * works it out and sends it in its heartbeat). raft 0.15 cannot bring back
 * a member whose log was compacted past the leader's last snapshot: when
 * the leader's sends to it failed while it was down, raft probes it from
 * its first index; with no snapshot the leader sends entries from index 1,
 * which such a member refuses by stopping its raft ("No log entries found
 * at index 1"); with one, the member answers that it has a more recent
 * snapshot, reports the leader's as reached, rejects the entries after it
 * (its log no longer has them) and the two loop for ever. Unknown until
 * the first heartbeat: then only the rules above apply. */
void gdb_set_trail_floor(struct gdb *g, uint64_t floor);

/* Watch TABLE (case-insensitive; it need not exist yet): CB runs on the
 * loop, on this member, after each applied entry that changed the table's
 * rows, changed the schema (any schema statement), or replaced the
 * database (a restore, a snapshot installed); at most once per entry,
 * after the entry's transaction committed, so reads in CB see the new
 * state (entries applied on the apply thread may be reported together,
 * once). CB runs inside raft's apply or when the loop learns of the apply
 * thread's progress: it may queue requests (gdb_write, gdb_read) but must
 * not wait for them, nor close raft or this module.
 * For state kept in the global database that every member must act on:
 * cluster-wide configuration, the trust store. Watches last as long as G;
 * ARG is borrowed. */
typedef void (*gdb_watch_cb)(void *arg, const char *table);
void gdb_watch(struct gdb *g, const char *table, gdb_watch_cb cb, void *arg);

/* The interval after a snapshot of DB_BYTES when the ENTRIES entries
 * before it (barriers and other entries included) carried ENTRY_BYTES:
 * max(BASE, DB_BYTES / GDB_SNAPSHOT_DB_SHARE / average entry size), at
 * most GDB_SNAPSHOT_MAX_INTERVAL. Pure. */
#define GDB_SNAPSHOT_DB_SHARE 4
#define GDB_SNAPSHOT_MIN_BYTES (4u << 20)
#define GDB_SNAPSHOT_MIN_ENTRIES 32
/* A snapshot after the next entry applied here, if the log since the last
 * one carries GDB_SNAPSHOT_SOON_BYTES or more: before a member joins, so
 * that it receives a recent snapshot and a short log, not the log's bytes
 * in one message (raft 0.15 sends a member everything it lacks at once). */
#define GDB_SNAPSHOT_SOON_BYTES (256u << 10)
void gdb_snapshot_soon(struct gdb *g);
#define GDB_SNAPSHOT_MAX_INTERVAL 100000000u
unsigned gdb_snapshot_interval(unsigned base, uint64_t db_bytes,
			       uint64_t entry_bytes, uint64_t entries);

/* Stop proposing: writes and restores that are queued, or whose batch is
 * still running, fail with TM_SHUTDOWN (nothing proposed, nothing
 * applied), and so do requests submitted after this call. The entry
 * already proposed to raft, if any, goes on and its requests get their
 * real outcome; reads go on too. Call before gdb_close, so that what was
 * proposed can finish while raft still runs. */
void gdb_drain(struct gdb *g);

/* Close asynchronously. Requirements: raft is closed (or was never set):
 * closing raft fails the entry or barrier it still holds for us, whose
 * requests then report TM_CANCELED/TM_NOTLEADER. Requests not yet proposed
 * fail with TM_SHUTDOWN, and so do requests submitted after this call until
 * cb fires. When everything is released, G is freed and cb(arg) fires (cb
 * may be NULL). */
void gdb_close(struct gdb *g, gdb_close_cb cb, void *arg);

#endif /* TM_DB_CLUSTER_GDB_H */

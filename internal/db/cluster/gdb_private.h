/* Internals of the global database module, shared by its files only. */
#ifndef TM_DB_CLUSTER_GDB_PRIVATE_H
#define TM_DB_CLUSTER_GDB_PRIVATE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pthread.h>

#include <raft.h>
#include <sqlite3.h>
#include <uv.h>

#include "internal/db/cluster/chain.h"
#include "internal/db/cluster/entry.h"
#include "internal/db/cluster/gdb.h"
#include "internal/db/cluster/rows.h"
#include "internal/lib/pool.h"

/* Begins a read transaction pinning the state it sees (reading one page
 * of the schema starts it): snapshots, content checks. */
#define GDB_PIN_SQL "BEGIN; SELECT 1 FROM sqlite_schema LIMIT 1"

/* Page size of the database file on every member (see snapshot.c). */
#define GDB_PAGE_SIZE 4096

struct gdb_auth;

/* FIFO of requests linked through their private next field. */
struct gdb_queue {
	struct gdb_request *head;
	struct gdb_request *tail;
};

void gdb_queue_push(struct gdb_queue *q, struct gdb_request *req);
struct gdb_request *gdb_queue_pop(struct gdb_queue *q);
void gdb_queue_append(struct gdb_queue *dst, struct gdb_queue *src);
bool gdb_queue_empty(const struct gdb_queue *q);
size_t gdb_queue_len(const struct gdb_queue *q);

/* Statements prepared once per connection. */
enum gdb_sql {
	GDB_SQL_BEGIN_WRITE, /* BEGIN IMMEDIATE */
	GDB_SQL_BEGIN_READ,  /* BEGIN */
	GDB_SQL_COMMIT,
	GDB_SQL_ROLLBACK,
	GDB_SQL_SP_REQUEST, /* SAVEPOINT / ROLLBACK TO / RELEASE per request */
	GDB_SQL_RB_REQUEST,
	GDB_SQL_RL_REQUEST,
	GDB_SQL_SP_STMT, /* ... and per statement */
	GDB_SQL_RB_STMT,
	GDB_SQL_RL_STMT,
	GDB_SQL_SP_FLUSH, /* opening a savepoint makes FTS flush its buffers */
	GDB_SQL_RL_FLUSH,
	GDB_SQL_N
};

/* The statement cache (cache.c). */
#define GDB_CACHE_SIZE 64
struct gdb_cached {
	char *sql; /* owned; the key */
	size_t len;
	uint64_t hash;
	sqlite3_stmt *st; /* owned */
	uint64_t used;	  /* LRU clock */
	bool in_use;	  /* between gdb_exec_prepare and gdb_exec_release */
};
struct gdb_cache {
	struct gdb_cached v[GDB_CACHE_SIZE];
	size_t n;
	uint64_t clock;
};

/* Table shapes on one connection (shapes.c), with the statements prepared
 * for the table on it (all owned, NULL until first used): apply_one.c's
 * and apply_rows.c's on the apply connection. */
struct gdb_update_stmt {
	uint64_t mask; /* changed columns (apply_one.c) */
	sqlite3_stmt *st;
};
struct gdb_rows_update {
	uint8_t *set; /* n_cols + 1 bytes: columns set, then the rowid */
	sqlite3_stmt *st;
};
struct gdb_shape {
	char *table; /* owned */
	int n_cols;
	unsigned char *pk; /* n_cols, owned: position in the PRIMARY KEY (1..)
			      or 0, as in a changeset's table header */
	char **names;	   /* n_cols column names, owned */
	bool keyed;	   /* WITHOUT ROWID */
	int ipk; /* the INTEGER PRIMARY KEY (rowid alias) column; -1 */
	const char *rowid_name; /* how SQL names the rowid: the INTEGER
				   PRIMARY KEY column, or the first of rowid,
				   _rowid_, oid that no column hides; NULL
				   if keyed or all are hidden */
	sqlite3_stmt *insert;	/* apply connection (apply_one.c) */
	sqlite3_stmt *delete;
	struct gdb_update_stmt *updates;
	size_t n_updates;
	struct { /* apply connection (apply_rows.c) */
		sqlite3_stmt *insert;
		sqlite3_stmt *delete;
		struct gdb_rows_update *updates;
		size_t n_updates;
	} rows;
};
/* A WITHOUT ROWID table, as the recorder needs it. */
struct gdb_keyed {
	char *table; /* owned */
	unsigned n_cols;
	uint8_t *pk; /* n_cols key positions, owned */
};
struct gdb_shapes {
	sqlite3 *db; /* borrowed: the connection they describe */
	struct gdb_shape *v;
	size_t n;
	size_t cap;
	struct gdb_keyed *keyed; /* every WITHOUT ROWID table of main */
	size_t n_keyed;
	struct gdb_names *shadow; /* every shadow table of main (owned) */
	bool keyed_loaded;
};

/* The recorder of the exec connection (record.c). */
struct gdb_recorder {
	bool on;
	int rc; /* the first failure inside the hook (SQLite code) */
	struct gdb_rows_writer w;
	struct gdb_shapes *shapes;	/* of the connection */
	const struct gdb_names *only;	/* schema statement: only these... */
	const struct gdb_names *except; /* ... and not these tables */
	const char *last_table;		/* lookup cache: the hook's name */
	const struct gdb_keyed *last_keyed;
	bool last_shadow;
	bool shadow_written; /* a virtual table module wrote its tables */
};

/* Why the statement running on a connection was interrupted (conn.c). */
enum gdb_stop {
	GDB_STOP_NONE,
	GDB_STOP_TIMEOUT,  /* it ran past its deadline */
	GDB_STOP_CANCELED, /* its request was canceled (client gone) */
	GDB_STOP_SHUTDOWN, /* the module is closing or must have the lock */
	GDB_STOP_TOOBIG,   /* a write grew past max_write_bytes */
	GDB_STOP_BUDGET,   /* a batch tried on the loop ran past its budget */
};

/* A connection that runs user statements (conn.c): the exec connection
 * (the leader's write batches), the route connection (prepares statements
 * on the loop to decide read or write; never steps them) and the readers
 * (one per worker thread). Each is used by one thread at a time: the loop
 * hands it to a worker with a job and takes it back in the job's done
 * callback. */
struct gdb_conn {
	struct gdb *g; /* owner */
	sqlite3 *db;
	sqlite3_stmt *sql[GDB_SQL_N];
	struct gdb_auth *auth;	  /* the authorizer's context, or NULL */
	struct gdb_cache cache;	  /* user statements */
	struct gdb_shapes shapes; /* exec: WITHOUT ROWID tables (record.c) */
	uint64_t schema_gen;	  /* g->schema_gen when last made valid */

	/* Bounds of the running job: set by the thread that runs it, read by
	 * the progress handler on that same thread, except for STOP, which
	 * the loop may set at any time. */
	atomic_int stop;	  /* enum gdb_stop forced by the loop */
	struct gdb_request *req;  /* running; its cancel flag counts */
	uint64_t deadline_ns;	  /* monotonic; 0 = none */
	uint64_t budget_ns;	  /* a batch on the loop: stop here; 0 = none */
	bool budget_hit;	  /* ... and it was stopped */
	bool quiet;		  /* ending a transaction: never interrupt */
	unsigned timeout_ms;	  /* for messages */
	struct gdb_recorder rec;  /* exec: measured against max_write_bytes */
	uint64_t max_write_bytes; /* 0 = no bound */
	const char *length_key;	  /* config key behind the length limit */
	enum gdb_stop why;	  /* what interrupted the statement */

	/* Limits copied by the loop when it hands over a job. */
	unsigned default_timeout_ms;
	uint64_t row_budget; /* reads: max_result_bytes */

	uint64_t cache_hits; /* since the loop last collected them */
	uint64_t cache_misses;

	struct pool_work work;	 /* the job running on it */
	struct gdb_request *job; /* a read: its request */
	struct gdb_conn *next;	 /* free list of readers */
};

/* A snapshot's image in a mapped file (snapfile.c), and the trailer raft
 * stores after it (48 bytes, integers little-endian): 8 bytes of magic
 * "TMSNAPv2"; a checksum, the image's hash64 xor the hash64 of the next
 * 32 bytes; the hash chain at the snapshot (chain.h): its base (8), index
 * (8) and value (16). Snapshots of older builds end with the 16-byte
 * trailer "TMSNAPv1" and the image's hash64, without the chain. */
#define GDB_SNAPFILE_PREFIX "snapshot-copy-"
#define GDB_SNAP_TRAILER_MAGIC "TMSNAPv2"
#define GDB_SNAP_TRAILER_SIZE 48
#define GDB_SNAP_TRAILER_V1_MAGIC "TMSNAPv1"
#define GDB_SNAP_TRAILER_V1_SIZE 16
struct gdb_snap_chain {
	uint64_t base;
	uint64_t index;
	uint8_t value[GDB_CHAIN_SIZE];
};
struct gdb_snapfile {
	void *map; /* read-only mapping of the unlinked copy; NULL if none */
	size_t len;
	uint8_t trailer[GDB_SNAP_TRAILER_SIZE];
};

/* Content checks (check.c): the results of the last GDB_CHECK_KEEP CHECK
 * entries applied here, one hashed at a time on a worker. */
#define GDB_CHECK_KEEP 8
struct gdb_check_slot {
	struct gdb_check_result r;
	int status; /* 0, TM_BUSY while hashing, or why it failed */
	char errmsg[TM_ERRMSG_SIZE];
};
struct gdb_checker {
	sqlite3 *db; /* read-only; pins the state of the CHECK entry */
	struct pool_work work;
	bool running; /* a worker holds db */
	atomic_bool stop;
	struct gdb_check_slot slots[GDB_CHECK_KEEP];
	size_t next;			/* the slot to fill next */
	struct gdb_check_slot *current; /* being hashed */
	/* Written by the worker, read by the loop once it is done. */
	int work_status;
	uint8_t work_content[GDB_CHAIN_SIZE];
	char work_errmsg[TM_ERRMSG_SIZE];
};

/* Where the log stood when a snapshot was pinned (interval.c). */
struct gdb_snap_mark {
	uint64_t index;		/* raft's last applied index */
	uint64_t applied_bytes; /* g->applied_bytes */
	bool valid;
};

/* The last GDB_TRAIL_RING entries applied: their index, and applied_bytes
 * right after each (trailing.c). */
#define GDB_TRAIL_RING 4096
struct gdb_trail {
	uint64_t index[GDB_TRAIL_RING];
	uint64_t bytes[GDB_TRAIL_RING];
	unsigned next; /* where the next one goes */
	unsigned n;    /* how many are kept */
};

/* A watch (watch.c). */
struct gdb_watch {
	char *table; /* owned */
	gdb_watch_cb cb;
	void *arg;
	atomic_bool touched; /* by an entry applied (any thread) */
};

/* What the applier counts (the lane's thread or the loop, never both at
 * once); the loop reads the copy the applier published (lane.c). */
struct gdb_applied_stats {
	uint64_t changesets_direct;
	uint64_t restores_applied;
	uint64_t entries_applied;
	uint64_t row_changes_applied;
	uint64_t snapshots_restored;
};

/* The apply lane (lane.c). */
#define GDB_LANE_SPARES 16
struct gdb_lane_job;
struct gdb_lane {
	bool started; /* the thread runs: entries may go to it */
	pthread_t thread;
	pthread_mutex_t mutex; /* guards what follows, up to async */
	pthread_cond_t cond;   /* work queued; a job done; a pin */
	struct gdb_lane_job *head;
	struct gdb_lane_job *tail;
	bool busy;	     /* the thread runs a job */
	bool stop;
	uint64_t pin_at;    /* pin g->snap after the job of this seq */
	uint64_t pin_index; /* raft's index of the snapshot pinned */
	int pin_status;	 /* 0 pinned, TM_BUSY pending, or failed */
	char pin_err[TM_ERRMSG_SIZE];
	bool reserve_lost; /* the applier deleted the reserve */
	struct gdb_applied_stats published;
	struct {
		void *base;
		size_t cap;
	} spares[GDB_LANE_SPARES]; /* buffers for copies of entries */
	unsigned n_spares;
	size_t spare_bytes;
	uv_async_t async; /* the thread finished a job */

	_Atomic uint64_t applied; /* last entry in the database */
	atomic_bool abandoned;	  /* set by the thread: it stopped waiting
				     for disk space, nothing more is applied;
				     read by the loop */
	_Atomic uint64_t done;	  /* jobs the thread finished */
	uint64_t queued;	  /* jobs queued (written by the loop) */
	uint64_t inline_applied;  /* loop: entries applied on the loop */
	uint64_t turn_ms;	  /* loop: the turn inline applies count in */
	uint64_t turn_spent_ns;
};

struct gdb {
	uv_loop_t *loop; /* borrowed */
	uv_idle_t idle;	 /* runs gdb_tick() on the next loop turn */
	char *path;
	char *dir;		 /* folder holding path: where space runs out */
	uint64_t min_free_bytes; /* refuse writes below this; 0 = no check */
	atomic_bool reserve_held; /* reserve.c: DIR/global.reserve exists */
	bool reserve_released;	 /* ... was deleted for lack of space */
	uint64_t reserve_tried_ms; /* uv_now of the last try to make it */
	uv_timer_t reserve_timer;  /* tries again while it is missing */
	unsigned handles_closing;  /* gdb_close: the timer and the idle */

	sqlite3 *apply; /* applies committed entries; triggers and FKs off */
	sqlite3_stmt *apply_sql[GDB_SQL_N];
	struct gdb_shapes shapes; /* tables on apply */
	_Atomic uint64_t schema_gen; /* bumped when an entry changes the
					schema (by the applier) */

	struct gdb_conn exec;	  /* leader's batches; never commits */
	struct gdb_conn route;	  /* read-only test, on the loop */
	struct gdb_conn *readers; /* n_readers of them */
	unsigned n_readers;
	struct gdb_conn *free_readers;
	unsigned readers_busy;
	struct pool *pool; /* borrowed, from gdb_set_pool; or own inline */
	bool own_pool;
	struct gdb_limits limits;

	struct raft_fsm fsm;
	struct raft *raft;	   /* borrowed, NULL until gdb_set_raft() */
	struct gdb_lane lane;	   /* lane.c */
	struct gdb_applied_stats astats; /* the applier's */
	uint64_t inflight_index;	 /* apply_req committed at this index:
					    answered once the database has it */
	struct gdb_queue reads_after;	 /* linearizable reads confirmed,
					    waiting for the database to reach */
	uint64_t reads_after_index;	 /* ... this index */
	struct gdb_watch *watches; /* watch.c */
	size_t n_watches;

	/* Snapshots (snapshot.c, interval.c). */
	sqlite3 *snap;		       /* read-only; pins a snapshot's state */
	bool snap_pinned;	       /* snap holds a read transaction */
	struct gdb_snapfile snap_file; /* the image; set off the loop */
	struct raft_buffer snap_bufs[2]; /* image, trailer: given to raft */
	char snap_err[TM_ERRMSG_SIZE];	 /* why snapshot_async failed */
	uint64_t snap_reserve;		 /* min_free_bytes when pinned */
	uint64_t applied_bytes;		 /* of every entry applied so far */
	uint64_t snap_db_bytes;		 /* the database at the last snapshot */
	uint64_t snap_failed_bytes;	 /* applied_bytes when one last failed */
	struct gdb_snap_mark snap_at;	 /* the pinned snapshot */
	struct gdb_snap_mark snap_prev;	 /* the last one taken */
	struct gdb_snap_chain snap_chain; /* the chain at the pin */
	unsigned snap_base;   /* raft.snapshot_threshold; 0 = unset */
	unsigned snap_wanted; /* the interval the database asks for */
	unsigned trail_base;  /* raft.snapshot_trailing; 0 = unset */
	uint64_t trail_min_bytes; /* the least byte budget of the trailing */
	uint64_t trail_floor;	  /* no entry past it dropped ... */
	bool trail_floor_known;	  /* ... once a heartbeat said it */
	struct gdb_trail trail; /* trailing.c */

	/* Writes. */
	struct gdb_queue writes;  /* waiting for the next batch */
	struct gdb_queue running; /* the batch executing on the exec conn */
	bool batch_running;	  /* a worker holds the exec connection */
	bool batch_void;	  /* the exec conn was taken back from it */
	struct raft_buffer batch_buf;
	bool batch_changed;
	size_t batch_ran; /* requests of the batch that ran */
	int batch_rv;
	char batch_errmsg[TM_ERRMSG_SIZE];
	pthread_mutex_t exec_mutex; /* guards exec_busy */
	pthread_cond_t exec_cond;
	bool exec_busy;		   /* the worker has not returned yet */
	struct gdb_queue inflight; /* carried by apply_req */
	struct raft_apply apply_req;
	bool apply_inflight;
	struct raft_barrier catchup; /* brings last_applied to last_index */
	bool catchup_inflight;

	/* Reads. */
	struct gdb_queue reads;	      /* ready to run */
	struct gdb_queue lin_waiting; /* linearizable, need a barrier */
	struct gdb_queue lin_barrier; /* linearizable, wait for read_barrier */
	struct raft_barrier read_barrier;
	bool read_barrier_inflight; /* a barrier or a confirmation round */
	uint64_t barrier_term;	    /* the read barrier's term */
	gdb_confirm_fn confirm;	    /* gdb_set_confirm; may be NULL */
	void *confirm_arg;
	uint64_t confirmed_term; /* a read barrier of this term committed */
	uint64_t confirm_term;	 /* the round in flight: its term */
	uint64_t confirm_index;	 /* ... and the commit index at its start */
	bool force_barrier;	 /* the next round is a barrier */

	struct gdb_queue done; /* answered; callbacks to fire */

	/* Consistency (chain.h, check.c). */
	struct gdb_chain chain;
	bool chain_unknown; /* restored from a snapshot without the chain:
			       it restarts at the next applied index */
	struct gdb_checker check;

	bool draining; /* gdb_drain: writes not yet proposed are refused */
	bool closing;
	gdb_close_cb close_cb;
	void *close_arg;

	struct gdb_stats stats;
};

/* space.c: 0, or TM_NOSPACE with errmsg when the file system holding the
 * database has less than min_free_bytes free, plus twice ENTRY_BYTES (the
 * entry about to be proposed, in the log and then in the database; 0 before
 * its size is known). */
int gdb_space_check(const struct gdb *g, uint64_t entry_bytes, char *errmsg);
/* reserve.c: disk space held back in DIR/global.reserve for applying
 * committed entries when the disk fills. Keep: make it if it is missing
 * and there is room (at most once a second). Release: delete it; true if
 * it was there. */
#define GDB_RESERVE_BYTES (8u << 20)
void gdb_reserve_keep(struct gdb *g);
bool gdb_reserve_release(struct gdb *g);
/* On the loop: the applier released the reserve (gdb_reserve_release on
 * the lane's thread only deletes the file). */
void gdb_reserve_lost(struct gdb *g);

/* Room in DIR for a snapshot of a database of DB_BYTES, above RESERVE
 * (any thread): 0, or TM_NOSPACE with errmsg. */
int gdb_space_for_snapshot(const char *dir, uint64_t reserve, uint64_t db_bytes,
			   char *errmsg);

/* gdb.c */
void gdb_schedule(struct gdb *g);
/* Answer every request of Q with STATUS and MESSAGE (results cleared). */
void gdb_fail_queue(struct gdb *g, struct gdb_queue *q, int status,
		    const char *message);
/* Fire the callbacks of the answered requests. */
void gdb_deliver(struct gdb *g);
/* REQ is answered (status and errmsg set): fire its cb from a tick. */
void gdb_done(struct gdb *g, struct gdb_request *req);
/* Before the apply connection writes: if a write batch holds the exec
 * connection (and with it SQLite's write lock), interrupt it and wait for
 * its worker to return; the batch is then answered without being proposed.
 * Only happens after leadership changed while the batch ran. */
void gdb_exec_quiesce(struct gdb *g);
/* Run WORK(w) on a worker of g->pool and DONE(w) on the loop later; without
 * a pool (tests on raft's fixture), both right here, so DONE may run inside
 * the caller. */
void gdb_submit(struct gdb *g, struct pool_work *w, pool_work_fn work,
		pool_done_fn done);
/* While closing: free everything once no job is running any more. */
void gdb_maybe_closed(struct gdb *g);
/* Fill req's status and errmsg and move it to the done queue. */
void gdb_finish(struct gdb *g, struct gdb_request *req, int status,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* "not the leader; <what> are served by the leader (leader is X)" */
void gdb_fail_not_leader(struct gdb *g, struct gdb_request *req,
			 const char *what);

/* sql.c: cached statements and SQLite error translation. */
int gdb_sql_prepare_all(sqlite3 *db, sqlite3_stmt **stmts, char *errmsg);
void gdb_sql_finalize_all(sqlite3_stmt **stmts);
/* Run a cached statement to completion; returns the SQLite code. */
int gdb_sql_run(sqlite3_stmt **stmts, enum gdb_sql which);
/* TM_* code for a SQLite result code. */
int gdb_sqlite_status(int rc);

/* value.c */
void gdb_result_fail(struct gdb_result *res, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* auth.c: what the authorizer saw while a user statement was prepared and
 * run, and what it refused.
 *
 * The authorizer is installed once on the exec connection when it opens
 * (gdb_auth_install) and stays: sqlite3_set_authorizer() with a callback
 * expires every prepared statement of the connection, so setting it around
 * each user statement made SQLite re-prepare the cached SAVEPOINT/RELEASE
 * statements (and would defeat the statement cache) on every request. What
 * changes per statement is the context it reports to, g->auth: NULL
 * authorizes everything (internal statements, other modules' reads). */
enum gdb_exec_mode { GDB_EXEC_READ, GDB_EXEC_WRITE };
struct gdb_names {
	char **v;
	size_t n;
};
struct gdb_auth {
	enum gdb_exec_mode mode;
	bool schema; /* a schema statement (DDL, ANALYZE, ...) */
	bool denied; /* something was refused; see message */
	char message[TM_ERRMSG_SIZE];
	struct gdb_names targets; /* what a schema statement names */
	struct gdb_names checks;  /* tables created or altered: check shape */
	struct gdb_names altered; /* tables named by ALTER TABLE */
};
void gdb_auth_install(struct gdb_conn *c);
/* Start reporting to AUTH (zeroed here; borrowed until gdb_auth_end). */
void gdb_auth_begin(struct gdb_conn *c, struct gdb_auth *auth,
		    enum gdb_exec_mode mode);
/* Stop authorizing (what follows is the module's own SQL); AUTH keeps what
 * it saw. Resume reports to AUTH again, keeping what it collected. */
void gdb_auth_stop(struct gdb_conn *c);
void gdb_auth_resume(struct gdb_conn *c, struct gdb_auth *auth);
/* Stop, and free what AUTH collected. */
void gdb_auth_end(struct gdb_conn *c, struct gdb_auth *auth);
/* VACUUM gets no authorizer call: refuse it by its first word. SQL points
 * at the statement's first token. True (AUTH denied) if refused. */
bool gdb_auth_refuse_vacuum(struct gdb_auth *auth, const char *sql);
void gdb_names_add(struct gdb_names *names, const char *name);
bool gdb_names_has(const struct gdb_names *names, const char *name);
void gdb_names_clear(struct gdb_names *names);

/* cache.c: prepared user statements on the exec connection, by SQL text.
 * gdb_cache_get: the cached statement for SQL, now in use, or NULL.
 * gdb_cache_put: keep ST (just prepared from SQL, with no authorizer
 * state) as an entry in use; false if it could not be kept.
 * gdb_cache_flush: finalize every entry (none may be in use). */
sqlite3_stmt *gdb_cache_get(struct gdb_conn *c, const char *sql);
bool gdb_cache_put(struct gdb_conn *c, const char *sql, sqlite3_stmt *st);
void gdb_cache_flush(struct gdb_conn *c);
/* shapes.c: the shape of TABLE on S->db, read once and kept until
 * gdb_shapes_clear(); *out is NULL when there is no such table (borrowed:
 * valid until the next gdb_shapes_get or clear on S). Returns a SQLite
 * code. */
int gdb_shapes_get(struct gdb_shapes *s, const char *table,
		   struct gdb_shape **out);
void gdb_shapes_clear(struct gdb_shapes *s);
/* How SQL names the rowid of S (see struct gdb_shape). */
const char *gdb_shape_rowid_name(const struct gdb_shape *s);
/* Read the list of WITHOUT ROWID tables unless loaded; a SQLite code. */
int gdb_shapes_load_keyed(struct gdb_shapes *s);
/* TABLE's entry in that list, or NULL (a rowid table); *shadow says
 * whether it is the shadow table of a virtual table. No SQL runs. */
const struct gdb_keyed *gdb_shapes_keyed(const struct gdb_shapes *s,
					 const char *table, bool *shadow);
/* The database's schema changed on the apply connection (schema statement,
 * snapshot, restore): forget cached shapes and prepared statements. */
void gdb_schema_changed(struct gdb *g);

/* record.c: the row changes of the exec connection's statements as ROWS
 * items (rows.h).
 * gdb_record_install: install the hook, once, when the connection opens.
 * gdb_record_start: record the changes of the statement about to run;
 *   ONLY/EXCEPT (may be NULL) limit it to some tables (schema statements).
 * gdb_record_stop: the ROWS item (*out, tm_malloc'd; NULL when nothing
 *   changed); returns a SQLite code, not OK if recording failed.
 * gdb_record_size: bytes recorded so far by the running statement.
 * gdb_record_flush: make virtual table modules write what they buffer
 *   (FTS keeps new terms in memory until a savepoint opens or the
 *   transaction commits, which the exec connection never does), so that it
 *   is recorded with the statement that produced it. A SQLite code.
 * gdb_record_table: a ROWS item inserting every row of the rowid table S
 *   (CREATE TABLE ... AS SELECT); SQLITE_TOOBIG once it passes LIMIT bytes
 *   (0: no limit). */
void gdb_record_install(struct gdb_conn *c);
int gdb_record_start(struct gdb_conn *c, const struct gdb_names *only,
		     const struct gdb_names *except);
int gdb_record_stop(struct gdb_conn *c, uint8_t **out, size_t *len);
size_t gdb_record_size(const struct gdb_conn *c);
int gdb_record_flush(struct gdb_conn *c);
void gdb_record_release(struct gdb_conn *c);
int gdb_record_table(sqlite3 *db, const struct gdb_shape *s, uint64_t limit,
		     uint8_t **out, size_t *len);

/* snapfile.c: copy what SRC's read transaction sees into a file in DIR,
 * map it and unlink it (*out; release with gdb_snapfile_release). 0, or
 * TM_IO/TM_NOSPACE with errmsg. gdb_snap_trailer: the trailer of IMAGE. */
int gdb_snapfile_make(sqlite3 *src, const char *dir,
		      const struct gdb_snap_chain *chain,
		      struct gdb_snapfile *out, char *errmsg);
void gdb_snapfile_release(struct gdb_snapfile *f);
void gdb_snap_trailer(const void *image, size_t len,
		      const struct gdb_snap_chain *chain,
		      uint8_t trailer[GDB_SNAP_TRAILER_SIZE]);

/* watch.c: mark the watches of TABLE (or all of them) as touched by the
 * entry being applied; fire and clear the marks once it committed. */
void gdb_watch_touch(struct gdb *g, const char *table);
void gdb_watch_touch_all(struct gdb *g);
void gdb_watch_fire(struct gdb *g);
void gdb_watch_release(struct gdb *g);

/* apply_rows.c: apply a ROWS item on the apply connection, change by change
 * with statements kept in the tables' shapes. 0, or TM_CORRUPT (the item
 * does not decode) or TM_DB (a change does not apply: divergence) with
 * errmsg naming the table and the row. */
int gdb_apply_rows(struct gdb *g, const uint8_t *data, size_t len,
		   char *errmsg);

/* apply_one.c: apply the change IT points to (the only change of its
 * changeset, on a table that passed the shape check) with the table's
 * prepared statements. FALLBACK: nothing was changed, apply the changeset
 * with sqlite3changeset_apply_v2() (a conflict, or a form not handled).
 * ERROR: *rc is the SQLite code. */
enum gdb_apply_one {
	GDB_APPLY_ONE_APPLIED,
	GDB_APPLY_ONE_FALLBACK,
	GDB_APPLY_ONE_ERROR,
};
enum gdb_apply_one gdb_apply_one(struct gdb *g, sqlite3_changeset_iter *it,
				 int *rc);

/* params.c: 0 if the values of STMT fit the parameters of ST (counts,
 * names, each name given once); otherwise fills RES and returns its
 * status. */
int gdb_params_check(sqlite3_stmt *st, const struct gdb_stmt *stmt,
		     struct gdb_result *res);

/* exec.c: one user statement on the exec connection. */
/* Prepare STMT under AUTH (already begun), through the statement cache;
 * refuses trailing SQL and empty statements. On success *out is in use
 * until gdb_exec_release(). On failure fills res and returns its status. */
int gdb_exec_prepare(struct gdb_conn *c, const struct gdb_stmt *stmt,
		     struct gdb_auth *auth, sqlite3_stmt **out,
		     struct gdb_result *res);
/* Give back a statement from gdb_exec_prepare (NULL is fine): a cached one
 * is reset with its bindings cleared, a private one finalized. */
void gdb_exec_release(struct gdb_conn *c, sqlite3_stmt *st);
/* See gdb_read_only() in gdb.h, for one statement. */
bool gdb_exec_read_only(struct gdb_conn *c, const struct gdb_stmt *stmt);
/* Step to the end collecting rows and column names into res, or giving
 * rows to SINK (statement I of its request) when not NULL. ROW_BYTES, when
 * not NULL, counts the bytes of the rows kept, and the statement fails
 * with TM_TOOBIG when they pass *ROW_BUDGET (0: no bound). An interrupted
 * statement reports why (gdb_conn_stop_message). */
int gdb_exec_step(struct gdb_conn *c, sqlite3_stmt *st, struct gdb_auth *auth,
		  struct gdb_result *res);
int gdb_exec_step_rows(struct gdb_conn *c, sqlite3_stmt *st,
		       struct gdb_auth *auth, struct gdb_result *res,
		       struct gdb_sink *sink, size_t i, uint64_t *row_bytes,
		       uint64_t row_budget);

/* schema.c: what the leader checks around schema statements. */
/* Refuse tables whose rows cannot be replicated exactly (a rowid no SQL
 * name reaches, generated columns). */
int gdb_schema_check_table(sqlite3 *db, const char *table,
			   struct gdb_result *res);
/* Add the names of the tables in main to OUT; returns a SQLite code. */
int gdb_schema_tables(sqlite3 *db, struct gdb_names *out);
/* Number of columns of TABLE (0 if it does not exist); a SQLite code. */
int gdb_schema_column_count(sqlite3 *db, const char *table, int *out);
/* The statement that stores the DEFAULT of columns FROM.. of TABLE in every
 * row ("UPDATE t SET c = c"), or NULL when none of them has a non-NULL
 * default. Owned by the caller (tm_free). See schema.c. */
int gdb_schema_materialize_sql(sqlite3 *db, const char *table, int from,
			       char **out);

/* write.c: the leader's batch, on the exec connection C (on a worker).
 * Executes REQS (n of them) in one transaction, each statement bounded by
 * its request's timeout or DEFAULT_TIMEOUT_MS, fills their results, and on
 * changes returns an encoded entry in *buf (raft_malloc'd, owned by the caller)
 * with *changed = true. *N_RAN requests ran (the first ones); when SQLite
 * rolled the batch's transaction back (an interrupted write, an I/O error), the
 * others did not run and have no results. Returns 0, or a TM_* code when the
 * batch could not run at all (results unset). */
int gdb_write_batch(struct gdb_conn *c, struct gdb_request **reqs, size_t n,
		    unsigned default_timeout_ms, struct raft_buffer *buf,
		    bool *changed, size_t *n_ran, char *errmsg);

/* apply.c */
int gdb_fsm_apply(struct raft_fsm *fsm, const struct raft_buffer *buf,
		  void **result);
/* Apply a decoded entry (WRITE or RESTORE) on the apply connection; panics
 * on divergence; TM_NOSPACE as gdb_apply_buffer. */
/* check.c */
int gdb_check_open(struct gdb *g, char *errmsg);
void gdb_check_close(struct gdb *g);
/* The CHECK entry at INDEX is applied: pin the database and hash it. */
void gdb_check_begin(struct gdb *g, uint64_t index);
/* Start the chain again at INDEX, unknown before it, if it must. */
void gdb_chain_settle(struct gdb *g, uint64_t index);

int gdb_apply_entry(struct gdb *g, const struct gdb_entry *e,
		    unsigned long long index);
/* Decode and apply the entry BUF[0..len) at INDEX (the applier). 0, or
 * TM_NOSPACE: the disk is full even without the reserve, nothing of the
 * entry stayed, try again later (only once the apply thread runs; before,
 * the member stops). */
int gdb_apply_buffer(struct gdb *g, const void *buf, size_t len,
		     uint64_t index);

/* lane.c */
void gdb_lane_init(struct gdb *g);
/* Apply the entry at INDEX, on the loop or on the lane (a CHECK entry:
 * on the loop, after the lane). */
void gdb_lane_apply(struct gdb *g, const struct raft_buffer *buf,
		    uint64_t index, bool check);
/* Queue the snapshot in BUF (ours now) at INDEX; false before the lane
 * started (load it at once). */
bool gdb_lane_restore(struct gdb *g, struct raft_buffer *buf, uint64_t index);
/* Wait until the lane is idle (on the loop). */
void gdb_lane_drain(struct gdb *g);
/* Pin g->snap at the state after raft's INDEX: now, or on the lane's
 * thread once it gets there; 0 or the failure. gdb_lane_wait_pin (any
 * thread but the lane's) waits for the pin. */
int gdb_lane_pin(struct gdb *g, uint64_t index, char *errmsg);
int gdb_lane_wait_pin(struct gdb *g, char *errmsg);
/* The applier deleted the reserve: tell the loop. */
void gdb_lane_reserve_lost(struct gdb *g);
/* The applier's counters, into OUT. */
void gdb_lane_published(struct gdb *g, struct gdb_stats *out);
/* Closing: the async (after gdb_lane_stop, gdb.h). */
void gdb_lane_close(struct gdb *g, uv_close_cb cb);
void gdb_lane_free(struct gdb *g);
/* gdb.c: the database reached a new index (the loop, after the lane). */
void gdb_applied_advanced(struct gdb *g);
/* snapshot.c: load the snapshot in BUF (ours) on the applier; a damaged
 * one stops the member. */
void gdb_snapshot_install(struct gdb *g, struct raft_buffer *buf);

/* snapshot.c */
/* Open and close g->snap, the connection that pins snapshots. */
int gdb_snap_open(struct gdb *g, char *errmsg);
void gdb_snap_close(struct gdb *g);
int gdb_fsm_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[],
		     unsigned *n_bufs);
int gdb_fsm_snapshot_async(struct raft_fsm *fsm, struct raft_buffer *bufs[],
			   unsigned *n_bufs);
int gdb_fsm_snapshot_finalize(struct raft_fsm *fsm, struct raft_buffer *bufs[],
			      unsigned *n_bufs);
int gdb_fsm_restore(struct raft_fsm *fsm, struct raft_buffer *buf);
/* Replace the database content with IMAGE[0..len), a SQLite database file in
 * rollback-journal format (bytes 18-19 = 1) with GDB_PAGE_SIZE pages, in one
 * transaction on the apply connection. IMAGE is borrowed and never written.
 * Returns 0, TM_CORRUPT (not such an image), TM_NOMEM, TM_DB or TM_IO, with
 * errmsg set. */
int gdb_snapshot_load(struct gdb *g, const unsigned char *image, size_t len,
		      char *errmsg);

/* interval.c: a snapshot of DB_BYTES was taken at mark AT: tell raft the
 * interval to the next one (gdb_snapshot_interval in gdb.h). */
void gdb_interval_update(struct gdb *g, const struct gdb_snap_mark *at,
			 uint64_t db_bytes);
/* The entry at INDEX was applied (g->applied_bytes counts it): have raft
 * snapshot after it if the log since the last snapshot carries too many
 * bytes (gdb_set_snapshot_threshold in gdb.h). */
void gdb_interval_bytes(struct gdb *g, uint64_t index);
/* A snapshot's copy failed: double the interval until one succeeds. */
void gdb_interval_backoff(struct gdb *g);

/* trailing.c: the entry at INDEX was applied (g->applied_bytes counts it). */
void gdb_trail_note(struct gdb *g, uint64_t index);
/* A snapshot of the state at INDEX is being taken: tell raft how many
 * entries before it to keep (gdb_set_snapshot_trailing in gdb.h). */
void gdb_trail_set(struct gdb *g, uint64_t index);

/* restore.c: the leader's side of gdb_restore(). Check and normalise the
 * database file IMAGE[0..len) (borrowed) and encode the RESTORE entry that
 * carries it into *buf (raft_malloc'd, owned by the caller). Returns 0,
 * TM_INVALID for an image that cannot be restored, or TM_DB/TM_NOMEM when the
 * check could not run; errmsg says why. */
int gdb_restore_prepare(const void *image, size_t len, struct raft_buffer *buf,
			char *errmsg);

/* read.c: start barriers for linearizable reads, hand the reads that are
 * ready to free readers. */
void gdb_tick_reads(struct gdb *g);
/* Fail the reads still waiting (closing). */
void gdb_fail_reads(struct gdb *g, int status, const char *message);

/* conn.c */
#define GDB_BUSY_TIMEOUT_MS 1000
uint64_t gdb_now_ns(void);
/* Open PATH with FLAGS (SQLITE_OPEN_*), run SETUP, install the authorizer
 * and the progress handler, prepare the transaction statements. */
int gdb_conn_open(struct gdb_conn *c, const char *path, int flags,
		  const char *setup, char *errmsg);
void gdb_conn_close(struct gdb_conn *c); /* idempotent */
/* On the loop, with C idle: empty its caches if the schema changed. */
void gdb_conn_sync_schema(struct gdb *g, struct gdb_conn *c);
/* On the loop, with C idle: add its cache counters to g->stats. */
void gdb_conn_collect_stats(struct gdb *g, struct gdb_conn *c);
/* On the thread running a request's statements: bound what follows by
 * REQ's timeout (or DEFAULT_TIMEOUT_MS) and its cancel flag. */
void gdb_conn_bound(struct gdb_conn *c, struct gdb_request *req,
		    unsigned default_timeout_ms);
void gdb_conn_unbound(struct gdb_conn *c);
/* Run the prepared statement WHICH (a ROLLBACK) with the progress handler
 * quiet: SQLite calls the handler every GDB_PROGRESS_OPS instructions
 * counted over all the runs of a prepared statement, so a ROLLBACK run
 * while a stop, the budget or a deadline is pending would be interrupted
 * now and then, and leave the transaction open. */
int gdb_conn_run_quiet(struct gdb_conn *c, int which);
/* Did the progress handler interrupt the statement that returned RC? */
bool gdb_conn_interrupted(const struct gdb_conn *c, int rc);
/* The message and TM_* status for an interrupted statement. */
int gdb_conn_stop_message(const struct gdb_conn *c, char *buf, size_t size);

#endif /* TM_DB_CLUSTER_GDB_PRIVATE_H */

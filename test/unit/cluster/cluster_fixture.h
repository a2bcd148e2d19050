/* A cluster of gdb instances on raft's in-memory fixture (virtual time), one
 * database file per member in a temporary directory, plus a libuv loop that
 * runs gdb's deferred work between fixture steps. */
#ifndef TEST_UNIT_CLUSTER_FIXTURE_H
#define TEST_UNIT_CLUSTER_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

#include <raft.h>
#include <raft/fixture.h>
#include <sqlite3.h>
#include <uv.h>

#include "internal/db/cluster/gdb.h"

#define CF_MAX 5
#define CF_MAX_STMTS 16
#define CF_TIMEOUT_MS 20000 /* virtual milliseconds */

struct cf {
	uv_loop_t loop;
	char dir[64];
	struct raft_fixture raft;
	struct gdb *gdb[CF_MAX];
	unsigned n;
	unsigned closed;
};

/* A request with its statements and the outcome once cb fired. */
struct cf_req {
	struct gdb_request req;
	struct gdb_stmt stmts[CF_MAX_STMTS];
	bool done;
	int status;
};

/* N members, all voters, bootstrapped, started, member 0 elected. */
void cf_setup(struct cf *c, unsigned n);
/* raft first, then gdb (gdb_close's contract). */
void cf_teardown(struct cf *c);
/* cmocka group/test setup and teardown: a 3-member cluster in *state. */
int cf_setup3(void **state);
int cf_teardown_state(void **state);
/* Close raft and start closing the gdbs, without running the loop. */
void cf_close_raft_and_gdbs(struct cf *c);
/* Run the loop until every gdb is closed, then release the rest. */
void cf_finish_teardown(struct cf *c);

/* One fixture event, then one non-blocking turn of the loop. */
void cf_step(struct cf *c);
/* Step until COND holds; false after max_ms of virtual time. */
bool cf_step_until(struct cf *c, bool (*cond)(struct cf *c, void *arg),
		   void *arg, unsigned max_ms);
/* Step until every live member applied the leader's last index. */
void cf_wait_applied(struct cf *c);
unsigned cf_leader(struct cf *c);

/* Statements from SQL strings (NULL-terminated list), no parameters. */
void cf_req_init(struct cf_req *r, bool transaction, ...);
/* Submit without waiting; cb records done/status. */
void cf_submit_write(struct cf *c, unsigned i, struct cf_req *r);
void cf_submit_read(struct cf *c, unsigned i, struct cf_req *r,
		    enum gdb_read_level level);
void cf_submit_read_index(struct cf *c, unsigned i, struct cf_req *r);
/* Submit a restore of IMAGE[0..len) (borrowed until R is done). */
void cf_submit_restore(struct cf *c, unsigned i, struct cf_req *r,
		       const void *image, size_t len);
int cf_restore(struct cf *c, unsigned i, struct cf_req *r, const void *image,
	       size_t len);
/* Step until R's cb fired; returns its status. */
int cf_wait(struct cf *c, struct cf_req *r);
/* Submit and wait. */
int cf_write(struct cf *c, unsigned i, struct cf_req *r);
int cf_read(struct cf *c, unsigned i, struct cf_req *r,
	    enum gdb_read_level level);
/* One-statement write on the leader that must succeed; waits until every
 * member applied it. */
void cf_exec(struct cf *c, const char *sql);
/* Free the results of R. */
void cf_req_clear(struct cf_req *r);

/* Text dump of member I's database: every schema object, then every table's
 * rows ordered by all columns. Caller frees. */
char *cf_dump(struct cf *c, unsigned i);
/* The same for any connection. */
char *cf_dump_db(sqlite3 *db);
/* Every live member's dump equals the leader's; returns the leader's dump
 * (caller frees). */
char *cf_assert_identical(struct cf *c);
/* First column of the first row of SQL on member I's exec connection. */
long long cf_query_int(struct cf *c, unsigned i, const char *sql);
/* The same on any connection. */
long long cf_query_int_db(sqlite3 *db, const char *sql);

#endif /* TEST_UNIT_CLUSTER_FIXTURE_H */

/* Global reads that wait for a raft index before they run
 * (internal/api/sql_wait.c). */
#ifndef TM_API_SQL_WAIT_H
#define TM_API_SQL_WAIT_H

#include <stdbool.h>
#include <stdint.h>

struct daemon;
struct sql_call;

typedef void (*sql_wait_run_fn)(struct daemon *d, struct sql_call *call);

/* Run CALL with RUN once this member has applied MIN_INDEX and, if
 * READ_INDEX, the index the leader confirms as committed now; or refuse
 * it (503 no leader, 504 not reached within the call's timeout). */
void sql_wait_then_run(struct daemon *d, struct sql_call *call,
		       uint64_t min_index, bool read_index,
		       sql_wait_run_fn run);

#endif /* TM_API_SQL_WAIT_H */

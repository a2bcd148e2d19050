/* Why the raft state on disk cannot be started from, in words an operator
 * can act on. Private to internal/raft. */
#ifndef TM_RAFT_REFUSAL_H
#define TM_RAFT_REFUSAL_H

#include <raft.h>

/* raft_start() failed with RAFT_MSG: set ERRMSG to "refusing to start:
 * FILE: PROBLEM" and log what the operator can do. DIR is the raft data
 * directory, WATERMARK what this member had applied. */
void refusal_load_failed(const char *dir, const char *raft_msg,
			 raft_index watermark, char *errmsg);

/* segcheck_closed() found PROBLEM ("segment PATH: ..."). */
void refusal_segment(const char *dir, const char *problem, raft_index watermark,
		     char *errmsg);

/* The loaded log ends at LAST, below WATERMARK. */
void refusal_log_short(const char *dir, raft_index last, raft_index watermark,
		       char *errmsg);

/* Log what the operator of a standalone member can do when its raft
 * state is damaged. */
void refusal_advise(const char *dir);

#endif /* TM_RAFT_REFUSAL_H */

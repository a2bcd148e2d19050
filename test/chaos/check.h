/* The consistency checkers of the chaos workloads (doc/chaos.md). Pure
 * functions of a parsed history: they fill a report. */
#ifndef CHAOS_CHECK_H
#define CHAOS_CHECK_H

#include "test/chaos/history.h"
#include "test/chaos/report.h"

/* Bounds of the linearizability search, per key. Past either bound the
 * key (and the verdict) is unknown, never a guess. */
struct chk_limits {
	long max_states;    /* distinct (linearized set, value) states */
	size_t max_bytes;   /* memory for those states */
	double max_seconds; /* for the whole history */
};

#define CHK_LIMITS_DEFAULT                                                     \
	{                                                                      \
		.max_states = 4000000, .max_bytes = (size_t)1 << 30,           \
		.max_seconds = 120                                             \
	}

/* register: each key is a register (initially without a value: reads
 * return null); reads with consistency "none" are skipped. */
void chk_register(const struct chk_history *h, const struct chk_limits *lim,
		  struct chk_report *r);

/* bank: every ok read holds every account, sums to the total, and has no
 * negative balance; a final read must have succeeded. */
void chk_bank(const struct chk_history *h, struct chk_report *r);

/* set: the final read holds every ok add, nothing twice, nothing never
 * added, no failed add. */
void chk_set(const struct chk_history *h, struct chk_report *r);

#endif

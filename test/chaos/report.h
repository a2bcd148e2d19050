/* The outcome of a check: counts, a verdict and the anomalies found. */
#ifndef CHAOS_REPORT_H
#define CHAOS_REPORT_H

#include <stddef.h>

#include "test/chaos/history.h"

enum chk_verdict {
	CHK_VALID,
	CHK_INVALID, /* anomalies found */
	CHK_UNKNOWN, /* could not decide */
};

struct chk_anomaly {
	char *kind;   /* owned */
	char *detail; /* owned */
};

struct chk_report {
	char workload[16];
	enum chk_verdict verdict;
	long ops, ok, fail, info;
	char *why_unknown; /* owned; set with CHK_UNKNOWN */
	struct chk_anomaly *anomalies;
	size_t n_anomalies;
};

/* Zero R and count H's operations. */
void chk_report_init(struct chk_report *r, const struct chk_history *h,
		     const char *workload);

/* Record an anomaly (the verdict becomes CHK_INVALID). */
void chk_report_anomaly(struct chk_report *r, const char *kind, const char *fmt,
			...) __attribute__((format(printf, 3, 4)));

/* Cannot decide (unless anomalies were found: they win). */
void chk_report_unknown(struct chk_report *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The JSON report (doc/chaos.md); owned by the caller (free()). */
char *chk_report_json(const struct chk_report *r);

void chk_report_free(struct chk_report *r);

#endif

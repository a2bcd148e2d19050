/* A chaos history (doc/chaos.md) parsed into operations: each invocation
 * paired with its process's next completion. Pure: no I/O. */
#ifndef CHAOS_HISTORY_H
#define CHAOS_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* How an operation completed. An invocation without a completion (the
 * client was stopped) is INFO. */
enum chk_type {
	CHK_OK,
	CHK_FAIL,
	CHK_INFO,
};

enum chk_f {
	CHK_READ,
	CHK_WRITE,
	CHK_CAS,
	CHK_TRANSFER,
	CHK_ADD,
};

/* An INFO operation's completion time: after everything. */
#define CHK_NEVER INT64_MAX

struct chk_op {
	int process;
	enum chk_f f;
	int key; /* register; -1 otherwise */
	enum chk_type type;
	/* write: A; cas: A (expected) -> B (new); add: A; register read:
	 * A if HAS_VALUE, else the key had no value (null). */
	bool has_value;
	int64_t a;
	int64_t b;
	bool none;  /* a read with consistency "none" */
	bool final; /* the final read */
	int64_t invoke;
	int64_t complete; /* CHK_NEVER for INFO */
	cJSON *result;	  /* bank and set reads: the value read (owned) */
	int line;	  /* of the invocation, from 1 */
};

struct chk_history {
	char workload[16];  /* from the meta line; "" without one */
	int64_t total;	    /* bank: the constant sum; -1 if not given */
	int accounts;	    /* bank: how many accounts; -1 if not given */
	struct chk_op *ops; /* in invocation order */
	size_t n_ops;
};

/* Parse LEN bytes of JSON lines at TEXT into *H (owned: chk_history_free).
 * Returns 0, or -1 with ERRMSG saying which line is wrong and why (then
 * *H is empty). */
int chk_history_parse(const char *text, size_t len, struct chk_history *h,
		      char *errmsg, size_t errmsg_size);

void chk_history_free(struct chk_history *h);

/* "read", "write", ... */
const char *chk_f_name(enum chk_f f);

#endif

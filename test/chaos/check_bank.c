/* The bank checker: transfers keep the total; every read that succeeded
 * (whatever its consistency: each read sees one committed state) must
 * hold every account, sum to the total, and show no negative balance. */
#include <stdio.h>

#include "test/chaos/check.h"

#define MAX_REPORTED 20

/* The problem with read OP, or NULL; WHY is scratch space. */
static const char *bad_read(const struct chk_history *h,
			    const struct chk_op *op, char *why, size_t size)
{
	int64_t sum = 0;
	int n = 0;
	const cJSON *pair;
	cJSON_ArrayForEach(pair, op->result)
	{
		const cJSON *id = cJSON_GetArrayItem(pair, 0);
		const cJSON *bal = cJSON_GetArrayItem(pair, 1);
		if (cJSON_GetArraySize(pair) != 2 || !cJSON_IsNumber(id) ||
		    !cJSON_IsNumber(bal)) {
			snprintf(why, size, "a malformed [id, balance] pair");
			return why;
		}
		if (bal->valuedouble < 0) {
			snprintf(why, size, "account %d has balance %lld",
				 id->valueint, (long long)bal->valuedouble);
			return why;
		}
		sum += (int64_t)bal->valuedouble;
		n++;
	}
	if (h->accounts >= 0 && n != h->accounts) {
		snprintf(why, size, "%d accounts instead of %d", n,
			 h->accounts);
		return why;
	}
	if (sum != h->total) {
		snprintf(why, size, "the balances sum to %lld instead of %lld",
			 (long long)sum, (long long)h->total);
		return why;
	}
	return NULL;
}

void chk_bank(const struct chk_history *h, struct chk_report *r)
{
	if (h->total < 0) {
		chk_report_unknown(r, "the history does not give the bank's "
				      "total (no meta line with \"total\")");
		return;
	}
	long bad = 0;
	bool final = false;
	for (size_t i = 0; i < h->n_ops; i++) {
		const struct chk_op *op = &h->ops[i];
		if (op->f != CHK_READ || op->type != CHK_OK) {
			continue;
		}
		final = final || op->final;
		char why[160];
		char *text = NULL;
		if (bad_read(h, op, why, sizeof why) == NULL) {
			continue;
		}
		if (++bad > MAX_REPORTED) {
			continue;
		}
		text = cJSON_PrintUnformatted(op->result);
		chk_report_anomaly(r, op->final ? "bad-final-read" : "bad-read",
				   "%s read of process %d (line %d): %s: %s",
				   op->none ? "none" : "linearizable",
				   op->process, op->line, why, text);
		cJSON_free(text);
	}
	if (bad > MAX_REPORTED) {
		chk_report_anomaly(r, "bad-read", "%ld more bad reads",
				   bad - MAX_REPORTED);
	}
	if (!final) {
		chk_report_unknown(r, "no final read succeeded");
	}
}

/* The set checker: the final read (the last one that succeeded) must hold
 * every acknowledged add, no value twice, no value never added, and no
 * value whose add failed (a failure means nothing was applied). Adds with
 * unknown outcomes may be present or absent. */
#include <stdio.h>
#include <stdlib.h>

#include "test/chaos/check.h"

#define LISTED 10

struct elem {
	int64_t v;
	int added; /* enum chk_type + 1 of its add; 0: never attempted */
	int seen;  /* times in the final read */
};

static int cmp_elem(const void *a, const void *b)
{
	int64_t x = ((const struct elem *)a)->v;
	int64_t y = ((const struct elem *)b)->v;
	return x < y ? -1 : x > y;
}

static struct elem *find(struct elem *e, size_t n, int64_t v)
{
	struct elem key = {.v = v};
	return bsearch(&key, e, n, sizeof *e, cmp_elem);
}

/* A list of the values of E (of N) matching PRED, as "1, 2, ...". */
static void list(const struct elem *e, size_t n,
		 bool (*pred)(const struct elem *), long *count, char *buf,
		 size_t size)
{
	size_t len = 0;
	*count = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (!pred(&e[i])) {
			continue;
		}
		if (++*count <= LISTED && len < size) {
			len += (size_t)snprintf(buf + len, size - len, "%s%lld",
						*count > 1 ? ", " : "",
						(long long)e[i].v);
		} else if (*count == LISTED + 1 && len < size) {
			len += (size_t)snprintf(buf + len, size - len, ", ...");
		}
	}
}

static bool lost(const struct elem *e)
{
	return e->added == CHK_OK + 1 && e->seen == 0;
}
static bool twice(const struct elem *e) { return e->seen > 1; }
static bool invented(const struct elem *e)
{
	return e->added == 0 && e->seen > 0;
}
static bool failed_present(const struct elem *e)
{
	return e->added == CHK_FAIL + 1 && e->seen > 0;
}

static const struct chk_op *final_read(const struct chk_history *h)
{
	const struct chk_op *last = NULL;
	for (size_t i = 0; i < h->n_ops; i++) {
		const struct chk_op *op = &h->ops[i];
		if (op->f == CHK_READ && op->type == CHK_OK && op->final) {
			last = op;
		}
	}
	return last;
}

void chk_set(const struct chk_history *h, struct chk_report *r)
{
	const struct chk_op *fin = final_read(h);
	if (fin == NULL) {
		chk_report_unknown(r, "no final read succeeded");
		return;
	}
	size_t n_read = (size_t)cJSON_GetArraySize(fin->result);
	struct elem *e = calloc(h->n_ops + n_read + 1, sizeof *e);
	size_t n = 0;
	for (size_t i = 0; i < h->n_ops; i++) {
		if (h->ops[i].f == CHK_ADD) {
			e[n++] = (struct elem){h->ops[i].a,
					       (int)h->ops[i].type + 1, 0};
		}
	}
	qsort(e, n, sizeof *e, cmp_elem);
	size_t n_added = n;
	const cJSON *item;
	cJSON_ArrayForEach(item, fin->result)
	{
		int64_t v = (int64_t)item->valuedouble;
		struct elem *x = find(e, n_added, v);
		if (x == NULL) {
			/* Not attempted: collected after the adds. */
			e[n++] = (struct elem){v, 0, 1};
		} else {
			x->seen++;
		}
	}
	qsort(e, n, sizeof *e, cmp_elem);
	/* Merge repeated never-added values so they count as twice too. */
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (m > 0 && e[m - 1].v == e[i].v && e[i].added == 0 &&
		    e[m - 1].added == 0) {
			e[m - 1].seen += e[i].seen;
		} else {
			e[m++] = e[i];
		}
	}
	static const struct {
		const char *kind;
		const char *what;
		bool (*pred)(const struct elem *);
	} rules[] = {
	    {"lost", "acknowledged adds missing from the final read", lost},
	    {"duplicated", "values more than once in the final read", twice},
	    {"invented", "values in the final read that were never added",
	     invented},
	    {"failed-present", "values whose add failed in the final read",
	     failed_present},
	};
	for (size_t k = 0; k < sizeof rules / sizeof rules[0]; k++) {
		long count;
		char values[400];
		list(e, m, rules[k].pred, &count, values, sizeof values);
		if (count > 0) {
			chk_report_anomaly(r, rules[k].kind,
					   "%ld %s (final read of line %d): %s",
					   count, rules[k].what, fin->line,
					   values);
		}
	}
	free(e);
}

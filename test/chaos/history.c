/* Parsing of chaos histories; see history.h. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test/chaos/history.h"

#define MAX_PROCESS 100000

struct parser {
	struct chk_history *h;
	size_t cap;
	long *pending; /* per process: index of its open op, or -1 */
	int n_processes;
	int line;
	char *errmsg;
	size_t errmsg_size;
};

static int fail(struct parser *p, const char *fmt, ...)
{
	int n = snprintf(p->errmsg, p->errmsg_size, "line %d: ", p->line);
	va_list ap;
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < p->errmsg_size) {
		vsnprintf(p->errmsg + n, p->errmsg_size - (size_t)n, fmt, ap);
	}
	va_end(ap);
	return -1;
}

static bool get_int(const cJSON *item, int64_t *out)
{
	if (!cJSON_IsNumber(item)) {
		return false;
	}
	double d = item->valuedouble;
	if (!isfinite(d) || d - floor(d) > 0 || fabs(d) > 9007199254740992.0) {
		return false;
	}
	*out = (int64_t)d;
	return true;
}

static const char *const f_names[] = {"read", "write", "cas", "transfer",
				      "add"};

const char *chk_f_name(enum chk_f f) { return f_names[f]; }

static bool parse_f(const char *s, enum chk_f *out)
{
	for (int i = 0; i < 5; i++) {
		if (strcmp(s, f_names[i]) == 0) {
			*out = (enum chk_f)i;
			return true;
		}
	}
	return false;
}

static int parse_meta(struct parser *p, const cJSON *ev)
{
	const cJSON *w = cJSON_GetObjectItemCaseSensitive(ev, "workload");
	if (!cJSON_IsString(w) || strlen(w->valuestring) >= 16) {
		return fail(p, "meta without a workload");
	}
	snprintf(p->h->workload, sizeof p->h->workload, "%s", w->valuestring);
	int64_t v;
	if (get_int(cJSON_GetObjectItemCaseSensitive(ev, "total"), &v)) {
		p->h->total = v;
	}
	if (get_int(cJSON_GetObjectItemCaseSensitive(ev, "accounts"), &v)) {
		p->h->accounts = (int)v;
	}
	return 0;
}

/* The invocation's value: write/add A, cas [A, B]. */
static int parse_args(struct parser *p, const cJSON *value, struct chk_op *op)
{
	switch (op->f) {
	case CHK_WRITE:
	case CHK_ADD:
		if (!get_int(value, &op->a)) {
			return fail(p, "%s without an integer value",
				    chk_f_name(op->f));
		}
		op->has_value = true;
		return 0;
	case CHK_CAS:
		if (cJSON_GetArraySize(value) != 2 ||
		    !get_int(cJSON_GetArrayItem(value, 0), &op->a) ||
		    !get_int(cJSON_GetArrayItem(value, 1), &op->b)) {
			return fail(p, "cas without a value [old, new]");
		}
		op->has_value = true;
		return 0;
	default:
		return 0;
	}
}

static int parse_invoke(struct parser *p, const cJSON *ev, int process,
			enum chk_f f, int64_t time)
{
	if (p->pending[process] >= 0) {
		return fail(p,
			    "process %d invokes %s while its operation of "
			    "line %d is open",
			    process, chk_f_name(f),
			    p->h->ops[p->pending[process]].line);
	}
	if (p->h->n_ops == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 1024;
		p->h->ops = realloc(p->h->ops, p->cap * sizeof *p->h->ops);
	}
	struct chk_op *op = &p->h->ops[p->h->n_ops];
	memset(op, 0, sizeof *op);
	op->process = process;
	op->f = f;
	op->key = -1;
	op->type = CHK_INFO;
	op->invoke = time;
	op->complete = CHK_NEVER;
	op->line = p->line;
	const cJSON *key = cJSON_GetObjectItemCaseSensitive(ev, "key");
	int64_t k;
	if (key != NULL) {
		if (!get_int(key, &k) || k < 0 || k >= 1000000) {
			return fail(p, "bad \"key\"");
		}
		op->key = (int)k;
	} else if (f == CHK_WRITE || f == CHK_CAS) {
		return fail(p, "%s without a \"key\"", chk_f_name(f));
	}
	const cJSON *cons = cJSON_GetObjectItemCaseSensitive(ev, "consistency");
	op->none =
	    cJSON_IsString(cons) && strcmp(cons->valuestring, "none") == 0;
	op->final = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ev, "final"));
	if (parse_args(p, cJSON_GetObjectItemCaseSensitive(ev, "value"), op) !=
	    0) {
		return -1;
	}
	p->pending[process] = (long)p->h->n_ops++;
	return 0;
}

static int parse_complete(struct parser *p, const cJSON *ev, int process,
			  enum chk_f f, int64_t time, enum chk_type type)
{
	long i = p->pending[process];
	if (i < 0) {
		return fail(p, "process %d completes %s without an invocation",
			    process, chk_f_name(f));
	}
	struct chk_op *op = &p->h->ops[i];
	if (op->f != f) {
		return fail(p,
			    "process %d completes %s but invoked %s at "
			    "line %d",
			    process, chk_f_name(f), chk_f_name(op->f),
			    op->line);
	}
	if (time < op->invoke) {
		return fail(p, "completion before its invocation (line %d)",
			    op->line);
	}
	p->pending[process] = -1;
	op->type = type;
	op->complete = type == CHK_INFO ? CHK_NEVER : time;
	if (type != CHK_OK || f != CHK_READ) {
		return 0;
	}
	const cJSON *value = cJSON_GetObjectItemCaseSensitive(ev, "value");
	if (op->key >= 0) {
		if (value == NULL || cJSON_IsNull(value)) {
			op->has_value = false;
		} else if (get_int(value, &op->a)) {
			op->has_value = true;
		} else {
			return fail(p,
				    "read of key %d with a value that is "
				    "neither null nor an integer",
				    op->key);
		}
	} else {
		if (!cJSON_IsArray(value)) {
			return fail(p, "read without an array value");
		}
		op->result = cJSON_Duplicate(value, true);
	}
	return 0;
}

static int parse_event(struct parser *p, const cJSON *ev)
{
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(ev, "type");
	if (!cJSON_IsString(type)) {
		return fail(p, "no \"type\"");
	}
	if (strcmp(type->valuestring, "meta") == 0) {
		return parse_meta(p, ev);
	}
	int64_t process;
	int64_t time;
	enum chk_f f;
	const cJSON *fj = cJSON_GetObjectItemCaseSensitive(ev, "f");
	if (!get_int(cJSON_GetObjectItemCaseSensitive(ev, "process"),
		     &process) ||
	    process < 0 || process >= MAX_PROCESS) {
		return fail(p, "bad or missing \"process\"");
	}
	if (!get_int(cJSON_GetObjectItemCaseSensitive(ev, "time"), &time)) {
		return fail(p, "bad or missing \"time\"");
	}
	if (!cJSON_IsString(fj) || !parse_f(fj->valuestring, &f)) {
		return fail(p, "bad or missing \"f\"");
	}
	if (process >= p->n_processes) {
		int n = (int)process + 1;
		p->pending =
		    realloc(p->pending, (size_t)n * sizeof *p->pending);
		for (int i = p->n_processes; i < n; i++) {
			p->pending[i] = -1;
		}
		p->n_processes = n;
	}
	const char *t = type->valuestring;
	if (strcmp(t, "invoke") == 0) {
		return parse_invoke(p, ev, (int)process, f, time);
	}
	enum chk_type ct;
	if (strcmp(t, "ok") == 0) {
		ct = CHK_OK;
	} else if (strcmp(t, "fail") == 0) {
		ct = CHK_FAIL;
	} else if (strcmp(t, "info") == 0) {
		ct = CHK_INFO;
	} else {
		return fail(p, "unknown type \"%s\"", t);
	}
	return parse_complete(p, ev, (int)process, f, time, ct);
}

int chk_history_parse(const char *text, size_t len, struct chk_history *h,
		      char *errmsg, size_t errmsg_size)
{
	memset(h, 0, sizeof *h);
	h->total = -1;
	h->accounts = -1;
	struct parser p = {
	    .h = h, .errmsg = errmsg, .errmsg_size = errmsg_size};
	size_t pos = 0;
	int rv = 0;
	while (pos < len && rv == 0) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl != NULL ? (size_t)(nl - text) : len;
		p.line++;
		if (end > pos) {
			cJSON *ev =
			    cJSON_ParseWithLength(text + pos, end - pos);
			if (!cJSON_IsObject(ev)) {
				rv = fail(&p, "not a JSON object");
			} else {
				rv = parse_event(&p, ev);
			}
			cJSON_Delete(ev);
		}
		pos = end + 1;
	}
	free(p.pending);
	if (rv != 0) {
		chk_history_free(h);
		h->total = -1;
		h->accounts = -1;
	}
	return rv;
}

void chk_history_free(struct chk_history *h)
{
	for (size_t i = 0; i < h->n_ops; i++) {
		cJSON_Delete(h->ops[i].result);
	}
	free(h->ops);
	memset(h, 0, sizeof *h);
}

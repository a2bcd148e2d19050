/* Linearizability of registers: the Wing-Gong search with Lowe's
 * just-in-time linearization and memoization of (linearized set, value),
 * as in Knossos and porcupine.
 *
 * Each key is checked alone (a register per key; linearizability is
 * compositional). Its operations become a list of call and return
 * entries in time order; an operation whose outcome is unknown (info)
 * has its return after everything, so it may take effect at any time
 * after its call, or never. Failed operations never took effect and
 * reads with unknown results or consistency "none" say nothing: they are
 * left out. So are info writes and cas whose value nothing needed (no ok
 * read returned it, no ok cas expected it, no needed info cas replaced
 * it): placing such an operation or not changes nothing anyone saw,
 * while each of them would double the states the search may visit (the
 * writes lost with a crashed leader are the common case).
 *
 * The search walks the list: at a call it tries to linearize that
 * operation now (the register must allow it, and the resulting state must
 * not have been seen before); at a return it has found an operation that
 * completed without being linearized, so it backtracks to the last choice.
 * Reaching the end, or the return of an info operation (only those are
 * left then), means every completed operation is placed: linearizable.
 * Running out of choices means it is not. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test/chaos/check.h"

#define NIL INT64_MIN /* the register has no value */
#define MAX_IN_FLIGHT 8

struct node {
	int op; /* index into the key's ops */
	bool call;
	int64_t time;
	struct node *match;
	struct node *prev;
	struct node *next;
};

/* Seen states: open addressing over (hash, value, bitset). */
struct cache {
	size_t words; /* per bitset */
	uint64_t *hashes;
	int64_t *values;
	uint64_t *bits; /* count * words */
	size_t count;
	size_t allocated; /* states the arrays hold */
	size_t cap_states;
	uint32_t *slots; /* index + 1, 0 empty */
	size_t n_slots;
};

struct dead_end {
	long depth;
	int blocked;   /* op that completed without a place */
	int64_t value; /* register value then */
	int last;      /* op linearized last, or -1 */
};

struct search {
	const struct chk_history *h;
	const int *ops; /* history indices of this key's ops */
	int n;
	uint64_t *zobrist; /* per op */
	struct cache cache;
	struct dead_end best;
	long states_limit;
	double deadline;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static const struct chk_op *op_of(const struct search *s, int i)
{
	return &s->h->ops[s->ops[i]];
}

/* The register's step: may OP happen in state V, and into what state. */
static bool step(const struct chk_op *op, int64_t v, int64_t *next)
{
	switch (op->f) {
	case CHK_READ:
		*next = v;
		return op->has_value ? v == op->a : v == NIL;
	case CHK_WRITE:
		*next = op->a;
		return true;
	case CHK_CAS:
		*next = op->b;
		return v == op->a;
	default:
		return false;
	}
}

static bool cache_grow(struct cache *c)
{
	size_t n = c->n_slots ? 2 * c->n_slots : 1024;
	uint32_t *slots = calloc(n, sizeof *slots);
	if (slots == NULL) {
		return false;
	}
	for (size_t i = 0; i < c->count; i++) {
		size_t j = c->hashes[i] & (n - 1);
		while (slots[j] != 0) {
			j = (j + 1) & (n - 1);
		}
		slots[j] = (uint32_t)(i + 1);
	}
	free(c->slots);
	c->slots = slots;
	c->n_slots = n;
	return true;
}

/* Room for more states, up to the budget. */
static bool cache_reserve(struct cache *c)
{
	size_t n = c->allocated ? 2 * c->allocated : 4096;
	if (n > c->cap_states) {
		n = c->cap_states;
	}
	if (n <= c->allocated) {
		return false;
	}
	uint64_t *hashes = realloc(c->hashes, n * sizeof *hashes);
	if (hashes != NULL) {
		c->hashes = hashes;
	}
	int64_t *values = realloc(c->values, n * sizeof *values);
	if (values != NULL) {
		c->values = values;
	}
	uint64_t *bits = realloc(c->bits, n * c->words * sizeof *bits);
	if (bits != NULL) {
		c->bits = bits;
	}
	if (hashes == NULL || values == NULL || bits == NULL) {
		return false;
	}
	c->allocated = n;
	return true;
}

/* Add the state; 1 if new, 0 if seen, -1 if over budget. */
static int cache_add(struct cache *c, const uint64_t *bits, uint64_t zob,
		     int64_t value)
{
	uint64_t h = mix(zob ^ mix((uint64_t)value));
	size_t mask = c->n_slots - 1;
	size_t j = h & mask;
	for (uint32_t k; (k = c->slots[j]) != 0; j = (j + 1) & mask) {
		size_t i = k - 1;
		if (c->hashes[i] == h && c->values[i] == value &&
		    memcmp(&c->bits[i * c->words], bits,
			   c->words * sizeof *bits) == 0) {
			return 0;
		}
	}
	if (c->count == c->allocated && !cache_reserve(c)) {
		return -1;
	}
	size_t i = c->count++;
	c->hashes[i] = h;
	c->values[i] = value;
	memcpy(&c->bits[i * c->words], bits, c->words * sizeof *bits);
	c->slots[j] = (uint32_t)(i + 1);
	if (2 * c->count > c->n_slots && !cache_grow(c)) {
		return -1;
	}
	return 1;
}

static int cmp_node(const void *pa, const void *pb)
{
	const struct node *a = pa;
	const struct node *b = pb;
	if (a->time != b->time) {
		return a->time < b->time ? -1 : 1;
	}
	if (a->call != b->call) {
		return a->call ? -1 : 1; /* equal times overlap */
	}
	return a->op - b->op;
}

static void lift(struct node *e)
{
	e->prev->next = e->next;
	if (e->next != NULL) {
		e->next->prev = e->prev;
	}
	struct node *m = e->match;
	m->prev->next = m->next;
	if (m->next != NULL) {
		m->next->prev = m->prev;
	}
}

static void unlift(struct node *e)
{
	struct node *m = e->match;
	m->prev->next = m;
	if (m->next != NULL) {
		m->next->prev = m;
	}
	e->prev->next = e;
	if (e->next != NULL) {
		e->next->prev = e;
	}
}

/* The list of entries, in time order, after the sentinel HEAD. */
static struct node *build_list(struct search *s, struct node *head)
{
	struct node *nodes = calloc(2 * (size_t)s->n, sizeof *nodes);
	for (int i = 0; i < s->n; i++) {
		const struct chk_op *op = op_of(s, i);
		nodes[2 * i] =
		    (struct node){.op = i, .call = true, .time = op->invoke};
		nodes[2 * i + 1] =
		    (struct node){.op = i, .call = false, .time = op->complete};
	}
	qsort(nodes, 2 * (size_t)s->n, sizeof *nodes, cmp_node);
	int *where = malloc(2 * (size_t)s->n * sizeof *where);
	for (int i = 0; i < 2 * s->n; i++) {
		where[2 * nodes[i].op + (nodes[i].call ? 0 : 1)] = i;
	}
	for (int i = 0; i < s->n; i++) {
		nodes[where[2 * i]].match = &nodes[where[2 * i + 1]];
		nodes[where[2 * i + 1]].match = &nodes[where[2 * i]];
	}
	free(where);
	struct node *prev = head;
	for (int i = 0; i < 2 * s->n; i++) {
		nodes[i].prev = prev;
		prev->next = &nodes[i];
		prev = &nodes[i];
	}
	prev->next = NULL;
	return nodes;
}

static void note_dead_end(struct search *s, struct node *blocked, long depth,
			  int64_t value, int last)
{
	if (depth < s->best.depth) {
		return;
	}
	struct dead_end *d = &s->best;
	d->depth = depth + 1;
	d->blocked = blocked->op;
	d->value = value;
	d->last = last;
}

enum outcome { LINEARIZABLE, NOT_LINEARIZABLE, TOO_COSTLY };

struct frame {
	struct node *entry;
	int64_t value;
};

static enum outcome search_run(struct search *s)
{
	struct node head = {0};
	struct node *nodes = build_list(s, &head);
	uint64_t *bits = calloc(s->cache.words, sizeof *bits);
	struct frame *stack = malloc((size_t)s->n * sizeof *stack);
	long depth = 0;
	uint64_t zob = 0;
	int64_t value = NIL;
	enum outcome result = LINEARIZABLE;
	long steps = 0;
	struct node *e = head.next;
	while (head.next != NULL) {
		if ((++steps & 4095) == 0 && now_s() > s->deadline) {
			result = TOO_COSTLY;
			break;
		}
		const struct chk_op *op = op_of(s, e->op);
		if (!e->call) {
			if (op->type == CHK_INFO) {
				break; /* only unknown operations are left */
			}
			note_dead_end(s, e, depth, value,
				      depth > 0 ? stack[depth - 1].entry->op
						: -1);
			if (depth == 0) {
				result = NOT_LINEARIZABLE;
				break;
			}
			struct frame f = stack[--depth];
			e = f.entry;
			value = f.value;
			bits[e->op / 64] &= ~(1ull << (e->op % 64));
			zob ^= s->zobrist[e->op];
			unlift(e);
			e = e->next;
			continue;
		}
		int64_t next;
		if (step(op, value, &next)) {
			bits[e->op / 64] |= 1ull << (e->op % 64);
			zob ^= s->zobrist[e->op];
			int added = cache_add(&s->cache, bits, zob, next);
			if (added < 0) {
				result = TOO_COSTLY;
				break;
			}
			if (added > 0) {
				stack[depth++] = (struct frame){e, value};
				value = next;
				lift(e);
				e = head.next;
				continue;
			}
			bits[e->op / 64] &= ~(1ull << (e->op % 64));
			zob ^= s->zobrist[e->op];
		}
		e = e->next;
	}
	free(stack);
	free(bits);
	free(nodes);
	return result;
}

static void describe(const struct search *s, int i, char *buf, size_t size)
{
	const struct chk_op *op = op_of(s, i);
	int n = 0;
	switch (op->f) {
	case CHK_READ:
		n = op->has_value
			? snprintf(buf, size, "read -> %lld", (long long)op->a)
			: snprintf(buf, size, "read -> null");
		break;
	case CHK_WRITE:
		n = snprintf(buf, size, "write %lld", (long long)op->a);
		break;
	default:
		n = snprintf(buf, size, "cas %lld -> %lld", (long long)op->a,
			     (long long)op->b);
		break;
	}
	if (n >= 0 && (size_t)n < size) {
		snprintf(buf + n, size - (size_t)n, " (process %d, line %d%s)",
			 op->process, op->line,
			 op->type == CHK_INFO ? ", unknown outcome" : "");
	}
}

/* The operations of the key that overlap op B in time, as text: those
 * that completed first, then those of unknown outcome. */
static int overlapping(const struct search *s, int b, char *buf, size_t size)
{
	const struct chk_op *ob = op_of(s, b);
	size_t len = 0;
	int count = 0;
	buf[0] = '\0';
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < s->n; i++) {
			const struct chk_op *o = op_of(s, i);
			if (i == b || o->invoke > ob->complete ||
			    o->complete < ob->invoke ||
			    (o->type == CHK_INFO) != (pass == 1)) {
				continue;
			}
			if (++count <= MAX_IN_FLIGHT && len < size) {
				char one[160];
				describe(s, i, one, sizeof one);
				len += (size_t)snprintf(
				    buf + len, size - len, "%s%s",
				    count > 1 ? "; " : "", one);
			}
		}
	}
	if (count > MAX_IN_FLIGHT && len < size) {
		snprintf(buf + len, size - len, "; %d more",
			 count - MAX_IN_FLIGHT);
	}
	return count;
}

static void report_dead_end(const struct search *s, int key,
			    struct chk_report *r)
{
	const struct dead_end *d = &s->best;
	char blocked[160];
	char last[160] = "no operation";
	char value[32] = "null";
	char flight[MAX_IN_FLIGHT * 170];
	describe(s, d->blocked, blocked, sizeof blocked);
	if (d->last >= 0) {
		describe(s, d->last, last, sizeof last);
	}
	if (d->value != NIL) {
		snprintf(value, sizeof value, "%lld", (long long)d->value);
	}
	int n = overlapping(s, d->blocked, flight, sizeof flight);
	chk_report_anomaly(
	    r, "not-linearizable",
	    "key %d: %d operations admit no linearization. Deepest attempt: "
	    "%ld operations placed, the register holding %s (set by %s); "
	    "then %s completed and could not be placed. Concurrent with it: "
	    "%s",
	    key, s->n, d->depth - 1, value, last, blocked,
	    n > 0 ? flight : "nothing");
}

/* Check one key's operations (history indices OPS[0..N)). */
static enum outcome check_key(const struct chk_history *h, int key,
			      const int *ops, int n,
			      const struct chk_limits *lim, double deadline,
			      struct chk_report *r)
{
	struct search s = {.h = h, .ops = ops, .n = n, .deadline = deadline};
	s.zobrist = malloc((size_t)n * sizeof *s.zobrist);
	for (int i = 0; i < n; i++) {
		s.zobrist[i] = mix(0x5851F42D4C957F2Dull * (uint64_t)(i + 1));
	}
	struct cache *c = &s.cache;
	c->words = ((size_t)n + 63) / 64;
	size_t per = c->words * 8 + 16 + 8;
	c->cap_states = lim->max_bytes / per;
	if (c->cap_states > (size_t)lim->max_states) {
		c->cap_states = (size_t)lim->max_states;
	}
	if (c->cap_states > UINT32_MAX / 4) {
		c->cap_states = UINT32_MAX / 4;
	}
	enum outcome out = TOO_COSTLY;
	if (cache_grow(c)) {
		out = search_run(&s);
	}
	if (out == NOT_LINEARIZABLE) {
		report_dead_end(&s, key, r);
	} else if (out == TOO_COSTLY) {
		chk_report_unknown(r,
				   "key %d: the search gave up after %zu "
				   "states (%d operations): budget exceeded",
				   key, c->count, n);
	}
	free(c->hashes);
	free(c->values);
	free(c->bits);
	free(c->slots);
	free(s.zobrist);
	return out;
}

/* Does OP say anything about the register? */
static bool counts(const struct chk_op *op)
{
	if (op->key < 0 || op->type == CHK_FAIL) {
		return false;
	}
	switch (op->f) {
	case CHK_READ:
		return op->type == CHK_OK && !op->none;
	case CHK_WRITE:
	case CHK_CAS:
		return true;
	default:
		return false;
	}
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a;
	int64_t y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static bool has(const int64_t *set, size_t n, int64_t v)
{
	return bsearch(&v, set, n, sizeof v, cmp_i64) != NULL;
}

/* The value an operation leaves in the register, if it writes. */
static bool writes(const struct chk_op *op, int64_t *v)
{
	*v = op->f == CHK_WRITE ? op->a : op->b;
	return op->f == CHK_WRITE || op->f == CHK_CAS;
}

/* Drop the info writes and cas of OPS (of N) whose value nothing needs
 * (see the top of the file); returns how many are kept. Values are
 * unique per write, so a value names the operation that wrote it. */
static int prune_unobserved(const struct chk_history *h, int *ops, int n)
{
	int64_t *needed = malloc(((size_t)n + 1) * sizeof *needed);
	size_t n_needed = 0;
	for (int i = 0; i < n; i++) {
		const struct chk_op *op = &h->ops[ops[i]];
		if (op->type != CHK_OK) {
			continue;
		}
		if (op->f == CHK_READ && op->has_value) {
			needed[n_needed++] = op->a;
		} else if (op->f == CHK_CAS) {
			needed[n_needed++] = op->a;
		}
	}
	qsort(needed, n_needed, sizeof *needed, cmp_i64);
	/* An info cas whose value is needed needs its expected value. */
	for (bool grew = true; grew;) {
		grew = false;
		for (int i = 0; i < n; i++) {
			const struct chk_op *op = &h->ops[ops[i]];
			if (op->type == CHK_INFO && op->f == CHK_CAS &&
			    has(needed, n_needed, op->b) &&
			    !has(needed, n_needed, op->a)) {
				needed[n_needed++] = op->a;
				qsort(needed, n_needed, sizeof *needed,
				      cmp_i64);
				grew = true;
			}
		}
	}
	int kept = 0;
	for (int i = 0; i < n; i++) {
		const struct chk_op *op = &h->ops[ops[i]];
		int64_t v;
		if (op->type == CHK_INFO && writes(op, &v) &&
		    !has(needed, n_needed, v)) {
			continue;
		}
		ops[kept++] = ops[i];
	}
	free(needed);
	return kept;
}

static int cmp_by_key(const void *a, const void *b, void *arg)
{
	const struct chk_history *h = arg;
	int x = *(const int *)a;
	int y = *(const int *)b;
	int kx = h->ops[x].key;
	int ky = h->ops[y].key;
	return kx != ky ? (kx < ky ? -1 : 1) : (x > y) - (x < y);
}

void chk_register(const struct chk_history *h, const struct chk_limits *lim,
		  struct chk_report *r)
{
	int *ops = malloc((h->n_ops + 1) * sizeof *ops);
	int n = 0;
	for (size_t i = 0; i < h->n_ops; i++) {
		if (counts(&h->ops[i])) {
			ops[n++] = (int)i;
		}
	}
	/* Grouped by key, in history order within a key. */
	qsort_r(ops, (size_t)n, sizeof *ops, cmp_by_key, (void *)h);
	double deadline = now_s() + lim->max_seconds;
	for (int start = 0, end; start < n; start = end) {
		int key = h->ops[ops[start]].key;
		for (end = start; end < n && h->ops[ops[end]].key == key;
		     end++) {
		}
		int kept = prune_unobserved(h, ops + start, end - start);
		if (kept > 0) {
			check_key(h, key, ops + start, kept, lim, deadline, r);
		}
	}
	free(ops);
}

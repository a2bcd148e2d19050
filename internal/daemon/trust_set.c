/* The trust store in memory: a sorted array (trust_set.h). A cluster
 * trusts a handful of certificates, so rebuilding it whole when the table
 * changes costs less than keeping it in step row by row. */
#include "internal/daemon/trust_set.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "internal/lib/assert.h"
#include "internal/lib/err.h"
#include "internal/lib/mem.h"

void trust_set_init(struct trust_set *s)
{
	memset(s, 0, sizeof *s);
	s->sorted = true;
}

static void cert_clear(struct trust_cert *c)
{
	tm_free(c->name);
	tm_free(c->type);
	tm_free(c->certificate);
}

void trust_set_clear(struct trust_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		cert_clear(&s->v[i]);
	}
	tm_free(s->v);
	trust_set_init(s);
}

bool trust_fp_normalize(const char *in, bool prefix, char *out)
{
	if (in == NULL) {
		return false;
	}
	size_t len = strnlen(in, TRUST_FP_LEN + 1);
	if (len == 0 || len > TRUST_FP_LEN ||
	    (!prefix && len != TRUST_FP_LEN)) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (!isxdigit(c)) {
			return false;
		}
		out[i] = (char)tolower(c);
	}
	out[len] = '\0';
	return true;
}

static bool type_valid(const char *type)
{
	return type != NULL &&
	       (strcmp(type, "client") == 0 || strcmp(type, "server") == 0);
}

bool trust_set_add(struct trust_set *s, const char *fp, const char *name,
		   const char *type, const char *certificate, int64_t added_at)
{
	char norm[TRUST_FP_LEN + 1];
	if (!trust_fp_normalize(fp, false, norm) || !type_valid(type)) {
		return false;
	}
	if (s->n == s->cap) {
		s->cap = s->cap == 0 ? 8 : 2 * s->cap;
		s->v = tm_realloc(s->v, s->cap * sizeof *s->v);
	}
	struct trust_cert *c = &s->v[s->n++];
	memcpy(c->fingerprint, norm, sizeof norm);
	c->name = tm_strdup(name != NULL ? name : "");
	c->type = tm_strdup(type);
	c->certificate = tm_strdup(certificate != NULL ? certificate : "");
	c->added_at = added_at;
	s->sorted = false;
	return true;
}

static int compare_certs(const void *a, const void *b)
{
	const struct trust_cert *x = a;
	const struct trust_cert *y = b;
	return strcmp(x->fingerprint, y->fingerprint);
}

void trust_set_seal(struct trust_set *s)
{
	/* qsort is not stable: a duplicate keeps whichever sorts first, and
	 * the table's primary key means there is none anyway. */
	if (s->n > 0) { /* qsort's array may not be NULL, even empty */
		qsort(s->v, s->n, sizeof *s->v, compare_certs);
	}
	size_t kept = 0;
	for (size_t i = 0; i < s->n; i++) {
		if (kept > 0 && strcmp(s->v[kept - 1].fingerprint,
				       s->v[i].fingerprint) == 0) {
			cert_clear(&s->v[i]);
			continue;
		}
		s->v[kept++] = s->v[i];
	}
	s->n = kept;
	s->sorted = true;
}

/* Index of the first certificate whose fingerprint is >= KEY. */
static size_t lower_bound(const struct trust_set *s, const char *key)
{
	size_t lo = 0;
	size_t hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(s->v[mid].fingerprint, key) < 0) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return lo;
}

const struct trust_cert *trust_set_find(const struct trust_set *s,
					const char *fp, const char *type)
{
	PRE(s->sorted);
	char norm[TRUST_FP_LEN + 1];
	if (!trust_fp_normalize(fp, false, norm)) {
		return NULL;
	}
	size_t i = lower_bound(s, norm);
	if (i == s->n || strcmp(s->v[i].fingerprint, norm) != 0) {
		return NULL;
	}
	if (type != NULL && strcmp(s->v[i].type, type) != 0) {
		return NULL;
	}
	return &s->v[i];
}

int trust_set_prefix(const struct trust_set *s, const char *prefix,
		     const struct trust_cert **out, char *errmsg)
{
	PRE(s->sorted);
	char norm[TRUST_FP_LEN + 1];
	if (!trust_fp_normalize(prefix, true, norm)) {
		tm_errmsg_printf(errmsg,
				 "invalid fingerprint \"%.64s\": expected 1 "
				 "to 64 hex digits",
				 prefix != NULL ? prefix : "");
		return TM_INVALID;
	}
	size_t len = strlen(norm);
	size_t i = lower_bound(s, norm);
	if (i == s->n || strncmp(s->v[i].fingerprint, norm, len) != 0) {
		tm_errmsg_printf(errmsg,
				 "no certificate with fingerprint "
				 "\"%s\"",
				 norm);
		return TM_NOTFOUND;
	}
	if (i + 1 < s->n && strncmp(s->v[i + 1].fingerprint, norm, len) == 0) {
		tm_errmsg_printf(errmsg, "ambiguous fingerprint prefix \"%s\"",
				 norm);
		return TM_INVALID;
	}
	*out = &s->v[i];
	return 0;
}

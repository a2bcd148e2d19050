/* The workloads' operations: each records its invocation, sends one SQL
 * request, and records its completion (ok, fail or info: classify.h). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test/chaos/client.h"

uint64_t chaos_rand(struct worker *w)
{
	/* splitmix64: reproducible from --seed and the process number. */
	uint64_t z = (w->rng += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static void pause_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

cJSON *chaos_event(struct worker *w, const char *type, const char *f, int key,
		   cJSON *value)
{
	cJSON *ev = cJSON_CreateObject();
	cJSON_AddNumberToObject(ev, "process", w->process);
	cJSON_AddStringToObject(ev, "type", type);
	cJSON_AddStringToObject(ev, "f", f);
	if (key >= 0) {
		cJSON_AddNumberToObject(ev, "key", key);
	}
	cJSON_AddItemToObject(ev, "value",
			      value != NULL ? value : cJSON_CreateNull());
	return ev;
}

/* Add "time" and record. */
static void record(struct worker *w, cJSON *ev)
{
	cJSON_AddNumberToObject(ev, "time", (double)chaos_now_ns());
	chaos_record(w->c, ev);
}

static int connect_member(struct worker *w)
{
	if (w->tc != NULL) {
		return 0;
	}
	struct chaos *c = w->c;
	int rc = thermionic_connect_https(c->members[w->member], c->cert,
					  c->key, c->pin, &w->tc);
	if (rc == 0) {
		thermionic_set_timeout(w->tc, c->op_timeout_ms);
		w->reused = false;
	}
	return rc;
}

static void next_member(struct worker *w)
{
	thermionic_close(w->tc);
	w->tc = NULL;
	w->member = (w->member + 1) % w->c->n_members;
}

int chaos_sql(struct worker *w, const struct thermionic_sql_request *req,
	      bool write, struct thermionic_sql_result **res, size_t *n,
	      enum chaos_outcome *outcome, char *errmsg, size_t errmsg_size)
{
	*res = NULL;
	*n = 0;
	int rc = connect_member(w);
	if (rc != 0) {
		snprintf(errmsg, errmsg_size, "client: %s",
			 thermionic_strerror(rc));
		*outcome = CHAOS_FAIL; /* nothing sent */
		w->backoff = true;
		next_member(w);
		return rc;
	}
	bool reused = w->reused;
	w->reused = true;
	rc = thermionic_sql(w->tc, req, res, n);
	if (rc == THERMIONIC_OK) {
		*outcome = CHAOS_OK;
		/* With "transaction" a failed statement fails the request;
		 * a per-statement error should not happen, but if it does
		 * the outcome is not known for a write. */
		for (size_t i = 0; i < *n; i++) {
			if ((*res)[i].error != NULL) {
				snprintf(errmsg, errmsg_size,
					 "statement %zu: %s", i + 1,
					 (*res)[i].error);
				*outcome = write ? CHAOS_INFO : CHAOS_FAIL;
				return THERMIONIC_ERR_PROTO;
			}
		}
		return 0;
	}
	w->backoff = true;
	int status = thermionic_status(w->tc);
	snprintf(errmsg, errmsg_size, "%s (HTTP %d, %s)",
		 thermionic_errmsg(w->tc), status, thermionic_strerror(rc));
	*outcome =
	    chaos_classify(rc, status, thermionic_errmsg(w->tc), write, reused);
	if (rc != THERMIONIC_ERR_HTTP || status == 503) {
		next_member(w);
	}
	return rc;
}

/* Complete the operation whose invocation was INVOKE's (F, KEY) with
 * OUTCOME; VALUE (consumed) is the completion's value. */
static void complete(struct worker *w, const char *f, int key, cJSON *value,
		     enum chaos_outcome outcome, const char *errmsg,
		     const char *consistency, bool final)
{
	cJSON *ev = chaos_event(w, chaos_outcome_name(outcome), f, key, value);
	if (consistency != NULL) {
		cJSON_AddStringToObject(ev, "consistency", consistency);
	}
	if (final) {
		cJSON_AddBoolToObject(ev, "final", true);
	}
	if (outcome != CHAOS_OK && errmsg != NULL) {
		cJSON_AddStringToObject(ev, "error", errmsg);
	}
	record(w, ev);
	if (w->backoff) {
		/* Do not spin while there is no leader. */
		w->backoff = false;
		pause_ms(20);
	}
}

static void invoke(struct worker *w, const char *f, int key, cJSON *value,
		   const char *consistency, bool final)
{
	cJSON *ev = chaos_event(w, "invoke", f, key, value);
	if (consistency != NULL) {
		cJSON_AddStringToObject(ev, "consistency", consistency);
	}
	if (final) {
		cJSON_AddBoolToObject(ev, "final", true);
	}
	record(w, ev);
}

static int64_t unique_value(struct worker *w)
{
	return atomic_fetch_add(&w->c->next_value, 1) + 1;
}

static struct thermionic_sql_request
one(const struct thermionic_sql_statement *s, bool transaction,
    bool linearizable)
{
	struct thermionic_sql_request r = {
	    .statements = s,
	    .n_statements = 1,
	    .transaction = transaction,
	    .consistency = linearizable ? THERMIONIC_SQL_LINEARIZABLE
					: THERMIONIC_SQL_CONSISTENCY_NONE,
	};
	return r;
}

/* ---- register ---- */

static void reg_read(struct worker *w, int key)
{
	const char *cons = w->c->linearizable ? "linearizable" : "none";
	struct thermionic_value p[] = {thermionic_value_int(key)};
	struct thermionic_sql_statement s = {"SELECT v FROM reg WHERE k = ?", p,
					     NULL, 1};
	struct thermionic_sql_request r = one(&s, false, w->c->linearizable);
	struct thermionic_sql_result *res;
	size_t n;
	enum chaos_outcome out;
	char err[512];
	invoke(w, "read", key, NULL, cons, false);
	chaos_sql(w, &r, false, &res, &n, &out, err, sizeof err);
	cJSON *value = NULL;
	if (out == CHAOS_OK) {
		if (res[0].n_rows == 1 && res[0].n_columns == 1 &&
		    thermionic_sql_cell(&res[0], 0, 0)->type ==
			THERMIONIC_INTEGER) {
			int64_t v = thermionic_sql_cell(&res[0], 0, 0)->integer;
			value = cJSON_CreateNumber((double)v);
			w->last[key] = v;
			w->known[key] = true;
		} else if (res[0].n_rows != 0) {
			out = CHAOS_FAIL;
			snprintf(err, sizeof err, "unexpected result shape");
		}
	}
	complete(w, "read", key, value, out, err, cons, false);
	thermionic_sql_results_free(res, n);
}

static void reg_write(struct worker *w, int key)
{
	int64_t v = unique_value(w);
	struct thermionic_value p[] = {thermionic_value_int(key),
				       thermionic_value_int(v)};
	struct thermionic_sql_statement s = {
	    "INSERT INTO reg(k, v) VALUES (?, ?) "
	    "ON CONFLICT(k) DO UPDATE SET v = excluded.v",
	    p, NULL, 2};
	struct thermionic_sql_request r = one(&s, true, false);
	struct thermionic_sql_result *res;
	size_t n;
	enum chaos_outcome out;
	char err[512];
	invoke(w, "write", key, cJSON_CreateNumber((double)v), NULL, false);
	chaos_sql(w, &r, true, &res, &n, &out, err, sizeof err);
	if (out == CHAOS_OK) {
		w->last[key] = v;
		w->known[key] = true;
	}
	complete(w, "write", key, cJSON_CreateNumber((double)v), out, err, NULL,
		 false);
	thermionic_sql_results_free(res, n);
}

static cJSON *pair(int64_t a, int64_t b)
{
	cJSON *arr = cJSON_CreateArray();
	cJSON_AddItemToArray(arr, cJSON_CreateNumber((double)a));
	cJSON_AddItemToArray(arr, cJSON_CreateNumber((double)b));
	return arr;
}

static void reg_cas(struct worker *w, int key)
{
	int64_t old = w->last[key];
	int64_t v = unique_value(w);
	struct thermionic_value p[] = {thermionic_value_int(v),
				       thermionic_value_int(key),
				       thermionic_value_int(old)};
	struct thermionic_sql_statement s = {
	    "UPDATE reg SET v = ? WHERE k = ? AND v = ?", p, NULL, 3};
	struct thermionic_sql_request r = one(&s, true, false);
	struct thermionic_sql_result *res;
	size_t n;
	enum chaos_outcome out;
	char err[512];
	invoke(w, "cas", key, pair(old, v), NULL, false);
	chaos_sql(w, &r, true, &res, &n, &out, err, sizeof err);
	if (out == CHAOS_OK && res[0].rows_affected != 1) {
		out = CHAOS_FAIL;
		snprintf(err, sizeof err, "%lld rows changed",
			 (long long)res[0].rows_affected);
	}
	if (out == CHAOS_OK) {
		w->last[key] = v;
	}
	complete(w, "cas", key, pair(old, v), out, err, NULL, false);
	thermionic_sql_results_free(res, n);
}

/* ---- bank ---- */

static void bank_transfer(struct worker *w)
{
	int from = (int)(chaos_rand(w) % BANK_ACCOUNTS);
	int to = (from + 1 + (int)(chaos_rand(w) % (BANK_ACCOUNTS - 1))) %
		 BANK_ACCOUNTS;
	int amount = 1 + (int)(chaos_rand(w) % 30);
	struct thermionic_value debit[] = {thermionic_value_int(amount),
					   thermionic_value_int(from)};
	struct thermionic_value credit[] = {thermionic_value_int(amount),
					    thermionic_value_int(to)};
	/* CHECK (bal >= 0) fails the debit that would overdraw: the
	 * transaction is rolled back (409) and nothing moves. */
	struct thermionic_sql_statement s[] = {
	    {"UPDATE acct SET bal = bal - ? WHERE id = ?", debit, NULL, 2},
	    {"UPDATE acct SET bal = bal + ? WHERE id = ?", credit, NULL, 2}};
	struct thermionic_sql_request r = {
	    .statements = s, .n_statements = 2, .transaction = true};
	struct thermionic_sql_result *res;
	size_t n;
	enum chaos_outcome out;
	char err[512];
	cJSON *v = cJSON_CreateObject();
	cJSON_AddNumberToObject(v, "from", from);
	cJSON_AddNumberToObject(v, "to", to);
	cJSON_AddNumberToObject(v, "amount", amount);
	invoke(w, "transfer", -1, cJSON_Duplicate(v, true), NULL, false);
	chaos_sql(w, &r, true, &res, &n, &out, err, sizeof err);
	if (out == CHAOS_OK &&
	    (res[0].rows_affected != 1 || res[1].rows_affected != 1)) {
		out = CHAOS_INFO; /* accounts missing: should not happen */
		snprintf(err, sizeof err, "rows changed: %lld, %lld",
			 (long long)res[0].rows_affected,
			 (long long)res[1].rows_affected);
	}
	complete(w, "transfer", -1, v, out, err, NULL, false);
	thermionic_sql_results_free(res, n);
}

/* A read of every balance: [[id, bal], ...] in id order. */
static enum chaos_outcome bank_read(struct worker *w, bool linearizable,
				    bool final)
{
	const char *cons = linearizable ? "linearizable" : "none";
	struct thermionic_sql_statement s = {
	    "SELECT id, bal FROM acct ORDER BY id", NULL, NULL, 0};
	struct thermionic_sql_request r = one(&s, false, linearizable);
	struct thermionic_sql_result *res;
	size_t n;
	enum chaos_outcome out;
	char err[512];
	invoke(w, "read", -1, NULL, cons, final);
	chaos_sql(w, &r, false, &res, &n, &out, err, sizeof err);
	cJSON *value = NULL;
	if (out == CHAOS_OK) {
		value = cJSON_CreateArray();
		for (size_t i = 0; i < res[0].n_rows; i++) {
			const struct thermionic_value *id =
			    thermionic_sql_cell(&res[0], i, 0);
			const struct thermionic_value *bal =
			    thermionic_sql_cell(&res[0], i, 1);
			cJSON_AddItemToArray(value,
					     pair(id->integer, bal->integer));
		}
	}
	complete(w, "read", -1, value, out, err, cons, final);
	thermionic_sql_results_free(res, n);
	return out;
}

/* ---- set ---- */

static void set_add(struct worker *w)
{
	int64_t v = unique_value(w);
	struct thermionic_value p[] = {thermionic_value_int(v)};
	struct thermionic_sql_statement s = {"INSERT INTO elems(v) VALUES (?)",
					     p, NULL, 1};
	struct thermionic_sql_request r = one(&s, true, false);
	struct thermionic_sql_result *res;
	size_t n;
	enum chaos_outcome out;
	char err[512];
	invoke(w, "add", -1, cJSON_CreateNumber((double)v), NULL, false);
	chaos_sql(w, &r, true, &res, &n, &out, err, sizeof err);
	complete(w, "add", -1, cJSON_CreateNumber((double)v), out, err, NULL,
		 false);
	thermionic_sql_results_free(res, n);
}

static enum chaos_outcome set_read(struct worker *w)
{
	struct thermionic_sql_statement s = {"SELECT v FROM elems ORDER BY v",
					     NULL, NULL, 0};
	struct thermionic_sql_request r = one(&s, false, true);
	struct thermionic_sql_result *res;
	size_t n;
	enum chaos_outcome out;
	char err[512];
	invoke(w, "read", -1, NULL, "linearizable", true);
	chaos_sql(w, &r, false, &res, &n, &out, err, sizeof err);
	cJSON *value = NULL;
	if (out == CHAOS_OK) {
		value = cJSON_CreateArray();
		for (size_t i = 0; i < res[0].n_rows; i++) {
			cJSON_AddItemToArray(
			    value,
			    cJSON_CreateNumber(
				(double)thermionic_sql_cell(&res[0], i, 0)
				    ->integer));
		}
	}
	complete(w, "read", -1, value, out, err, "linearizable", true);
	thermionic_sql_results_free(res, n);
	return out;
}

/* ---- dispatch ---- */

void chaos_op(struct worker *w)
{
	uint64_t r = chaos_rand(w) % 100;
	switch (w->c->workload) {
	case WL_REGISTER: {
		int key = (int)(chaos_rand(w) % REG_KEYS);
		if (r < 50) {
			reg_read(w, key);
		} else if (r < 75 || !w->known[key]) {
			reg_write(w, key);
		} else {
			reg_cas(w, key);
		}
		break;
	}
	case WL_BANK:
		if (r < 70) {
			bank_transfer(w);
		} else {
			bank_read(w, w->c->linearizable, false);
		}
		break;
	case WL_SET:
		set_add(w);
		break;
	}
}

int chaos_final_read(struct worker *w)
{
	int64_t deadline = chaos_now_ns() + 60ll * 1000000000;
	while (chaos_now_ns() < deadline && !chaos_signalled(w->c)) {
		enum chaos_outcome out = w->c->workload == WL_BANK
					     ? bank_read(w, true, true)
					     : set_read(w);
		if (out == CHAOS_OK) {
			return 0;
		}
		pause_ms(200);
	}
	fprintf(stderr, "chaos_client: no final read succeeded%s\n",
		atomic_load(&w->c->signalled) ? " before the signal"
					      : " in 60 s");
	return -1;
}

/* ---- setup ---- */

static const char *const reg_setup[] = {
    "CREATE TABLE IF NOT EXISTS reg(k INTEGER PRIMARY KEY, v INTEGER)",
    "DELETE FROM reg"};
static const char *const bank_setup[] = {
    "CREATE TABLE IF NOT EXISTS acct(id INTEGER PRIMARY KEY, "
    "bal INTEGER NOT NULL CHECK (bal >= 0))",
    "DELETE FROM acct",
    "INSERT INTO acct(id, bal) SELECT value, 100 FROM "
    "(WITH RECURSIVE c(value) AS (SELECT 0 UNION ALL SELECT value + 1 "
    "FROM c WHERE value < 4) SELECT value FROM c)"};
static const char *const set_setup[] = {
    "CREATE TABLE IF NOT EXISTS elems(v INTEGER PRIMARY KEY)",
    "DELETE FROM elems"};

int chaos_setup(struct worker *w)
{
	const char *const *sql = reg_setup;
	size_t n_sql = 2;
	if (w->c->workload == WL_BANK) {
		sql = bank_setup;
		n_sql = 3;
	} else if (w->c->workload == WL_SET) {
		sql = set_setup;
	}
	struct thermionic_sql_statement s[3] = {{0}};
	for (size_t i = 0; i < n_sql; i++) {
		s[i].sql = sql[i];
	}
	struct thermionic_sql_request r = {
	    .statements = s, .n_statements = n_sql, .transaction = true};
	int64_t deadline = chaos_now_ns() + 60ll * 1000000000;
	char err[512] = "signalled";
	while (chaos_now_ns() < deadline && !chaos_signalled(w->c)) {
		struct thermionic_sql_result *res;
		size_t n;
		enum chaos_outcome out;
		chaos_sql(w, &r, true, &res, &n, &out, err, sizeof err);
		thermionic_sql_results_free(res, n);
		if (out == CHAOS_OK) {
			return 0;
		}
		if (out == CHAOS_FAIL && strstr(err, "HTTP 400") != NULL) {
			break; /* the SQL itself is refused */
		}
		next_member(w);
		pause_ms(200);
	}
	fprintf(stderr, "chaos_client: setting up the tables failed: %s\n",
		err);
	return -1;
}

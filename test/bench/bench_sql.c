/* bench-sql: write throughput and latency of POST /1.0/sql over mutual TLS
 * with keep-alive, at several concurrency levels, next to the rate of raw
 * SQLite doing one durable transaction per insert on the same disk.
 *
 * Every run is bounded by a request count and a time limit. Each level is
 * run several times and the median run is reported.
 *
 * Keep-alive is what is measured: before the clock starts, each of the
 * CONCURRENCY connections is opened (TLS handshake) and carries one
 * request; the timed requests then reuse them. --no-warmup times the
 * handshakes too (64 of them at once cost tens of milliseconds, which
 * otherwise dominate p99 at concurrency 64).
 *
 * With --server-pid, the member's CPU time (user + system, from
 * /proc/PID/stat) over each timed run is reported per request: a figure
 * that shared machines disturb far less than throughput.
 *
 * Modes (--mode): "insert" (the default, as above); "read", reads of one
 * row by key with --consistency (linearizable by default), timed the same
 * way; "failover", one writer that SIGKILLs --kill-pid (the leader) after
 * --kill-after seconds, between two writes, and reports how long after
 * the kill the first write was acknowledged (run-cluster-bench.sh).
 *
 * Targets (--target): "thermionic" (the default), POST /1.0/sql; "etcd",
 * the same loads on an etcd member through its v3 JSON gateway over
 * mutual TLS, as a baseline: an insert is a put of a fresh key
 * (POST /v3/kv/put), a read a linearizable range of one of 1,000 keys
 * written before the clock starts (POST /v3/kv/range). An etcd answer
 * counts only with HTTP 200 and a body that holds what was asked. */
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sqlite3.h>

#include "bench_etcd.h"

enum mode { MODE_INSERT, MODE_READ, MODE_FAILOVER };
enum target { TARGET_THERMIONIC, TARGET_ETCD };

struct opts {
	enum mode mode;
	enum target target;
	const char *consistency; /* of reads */
	bool baseline;		 /* run raw SQLite too (inserts) */
	long kill_pid;		 /* failover: the leader */
	double kill_after;	 /* failover: seconds of writes first */
	double request_timeout;	 /* failover: seconds per request */
	const char *address;
	const char *cert;
	const char *key;
	const char *dir;
	int levels[8];
	int n_levels;
	long requests;
	double max_seconds;
	int runs;
	bool json;
	bool warmup;
	long server_pid; /* 0: not measured */
};

struct run {
	double seconds;
	long done;
	long errors;
	double writes_per_s; /* requests per second: reads in read mode */
	double p50_ms;
	double p99_ms;
	double server_us; /* member CPU per request, or -1 */
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a;
	double y = *(const double *)b;
	return x < y ? -1 : x > y ? 1 : 0;
}

static int cmp_run(const void *a, const void *b)
{
	return cmp_double(&((const struct run *)a)->writes_per_s,
			  &((const struct run *)b)->writes_per_s);
}

static void summarise(struct run *r, double *lat, long n)
{
	qsort(lat, (size_t)n, sizeof *lat, cmp_double);
	r->writes_per_s = r->seconds > 0 ? (double)r->done / r->seconds : 0;
	r->p50_ms = n > 0 ? lat[n / 2] * 1e3 : 0;
	r->p99_ms = n > 0 ? lat[(n * 99) / 100] * 1e3 : 0;
}

/* CPU seconds (user + system) used so far by process PID, or -1. */
static double proc_cpu_s(long pid)
{
	char path[64];
	char buf[1024];
	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		return -1;
	}
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* Fields 14 and 15 (utime, stime) follow the ")" that ends comm. */
	char *p = strrchr(buf, ')');
	unsigned long long utime = 0;
	unsigned long long stime = 0;
	if (p == NULL || sscanf(p + 2,
				"%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u "
				"%*u %llu %llu",
				&utime, &stime) != 2) {
		return -1;
	}
	return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

/* ---- HTTP client side ---- */

/* The start of an answer's body (what is checked, and what the failover
 * writer lists). */
struct answer {
	char body[512];
	size_t len;
};

struct slot {
	CURL *easy;
	char body[256];
	char url[300];
	double started;
	struct curl_slist *headers;
	struct answer answer;
};

static size_t keep_body(char *p, size_t size, size_t n, void *ud)
{
	struct answer *a = ud;
	size_t len = size * n;
	size_t room = sizeof a->body - 1 - a->len;
	size_t take = len < room ? len : room;
	memcpy(a->body + a->len, p, take);
	a->len += take;
	a->body[a->len] = '\0';
	return len;
}

static long counter;

/* The next request's body: an insert, or a read of one of the first
 * 1,000 rows (keys). */
static void slot_prepare(struct slot *s, const struct opts *o)
{
	long n = counter++;
	if (o->target == TARGET_ETCD && o->mode == MODE_READ) {
		etcd_range_body(s->body, sizeof s->body, n % ETCD_READ_KEYS + 1,
				strcmp(o->consistency, "none") == 0);
	} else if (o->target == TARGET_ETCD) {
		etcd_put_body(s->body, sizeof s->body, n);
	} else if (o->mode == MODE_READ) {
		snprintf(
		    s->body, sizeof s->body,
		    "{\"consistency\":\"%s\",\"statements\":[{\"sql\":"
		    "\"SELECT v FROM bench WHERE id = ?\",\"params\":[%ld]}]}",
		    o->consistency, n % 1000 + 1);
	} else {
		snprintf(s->body, sizeof s->body,
			 "{\"statements\":[{\"sql\":\"INSERT INTO bench(v) "
			 "VALUES (?)\",\"params\":[\"value-%ld\"]}]}",
			 n);
	}
	s->answer.len = 0;
	s->answer.body[0] = '\0';
	curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, s->body);
}

/* Where the requests of this mode go. */
static const char *request_path(const struct opts *o)
{
	if (o->target == TARGET_THERMIONIC) {
		return "/1.0/sql";
	}
	return o->mode == MODE_READ ? "/v3/kv/range" : "/v3/kv/put";
}

/* Whether an answer counts as done. thermionic's: HTTP 200, as its
 * figures have always been counted; etcd's: HTTP 200 and the body asked
 * for (etcd_answer_ok). */
static bool answer_ok(const struct opts *o, CURLcode rc, long status,
		      const char *body)
{
	if (rc != CURLE_OK || status != 200) {
		return false;
	}
	if (o->target == TARGET_THERMIONIC) {
		return true;
	}
	return etcd_answer_ok(o->mode == MODE_READ, body);
}

static CURL *make_easy(const struct opts *o, struct slot *s, const char *path)
{
	CURL *e = curl_easy_init();
	snprintf(s->url, sizeof s->url, "https://%s%s", o->address, path);
	curl_easy_setopt(e, CURLOPT_URL, s->url);
	curl_easy_setopt(e, CURLOPT_SSLCERT, o->cert);
	curl_easy_setopt(e, CURLOPT_SSLKEY, o->key);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(e, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_3);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, keep_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &s->answer);
	curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
	s->headers = curl_slist_append(NULL, "Content-Type: application/json");
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, s->headers);
	curl_easy_setopt(e, CURLOPT_PRIVATE, s);
	s->easy = e;
	return e;
}

/* One untimed request to PATH; its answer must be HTTP 200 and hold
 * EXPECT (NULL: anything). */
static int post_once(const struct opts *o, const char *path, const char *body,
		     const char *expect)
{
	struct slot s = {0};
	CURL *e = make_easy(o, &s, path);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	CURLcode rc = curl_easy_perform(e);
	long status = 0;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(e);
	curl_slist_free_all(s.headers);
	if (rc != CURLE_OK || status != 200 ||
	    (expect != NULL && strstr(s.answer.body, expect) == NULL)) {
		fprintf(stderr,
			"bench-sql: setup request failed: %s (HTTP %ld) %s\n",
			curl_easy_strerror(rc), status, s.answer.body);
		return -1;
	}
	return 0;
}

/* etcd's keys for reads, written in transactions of 100 puts. */
static int etcd_fill(const struct opts *o)
{
	static char body[100 * 96];
	for (long first = 1; first <= ETCD_READ_KEYS; first += 100) {
		if (etcd_txn_body(body, sizeof body, first, 100) != 0 ||
		    post_once(o, "/v3/kv/txn", body, "\"succeeded\":true") !=
			0) {
			return -1;
		}
	}
	return 0;
}

/* Before the clock starts: thermionic's table; for etcd, the keys reads
 * read, or one put that shows the member answers. */
static int setup(const struct opts *o)
{
	if (o->target == TARGET_THERMIONIC) {
		return post_once(o, "/1.0/sql",
				 "{\"statements\":[{\"sql\":\"CREATE TABLE IF "
				 "NOT EXISTS bench(id INTEGER PRIMARY KEY, v "
				 "TEXT)\"}]}",
				 NULL);
	}
	if (o->mode == MODE_READ) {
		return etcd_fill(o);
	}
	char body[256];
	etcd_put_body(body, sizeof body, -1);
	return post_once(o, "/v3/kv/put", body, "\"revision\":\"");
}

/* Open every connection and send one untimed request on each. */
static long warm_up(const struct opts *o, CURLM *multi, struct slot *slots,
		    int concurrency)
{
	long errors = 0;
	int running = 0;
	for (int i = 0; i < concurrency; i++) {
		curl_multi_add_handle(multi, slots[i].easy);
	}
	do {
		curl_multi_perform(multi, &running);
		CURLMsg *m;
		int left;
		while ((m = curl_multi_info_read(multi, &left)) != NULL) {
			if (m->msg != CURLMSG_DONE) {
				continue;
			}
			struct slot *s;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &s);
			long status = 0;
			curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE,
					  &status);
			if (!answer_ok(o, m->data.result, status,
				       s->answer.body)) {
				errors++;
			}
			curl_multi_remove_handle(multi, s->easy);
		}
		if (running > 0) {
			curl_multi_poll(multi, NULL, 0, 100, NULL);
		}
	} while (running > 0);
	return errors;
}

static struct run http_run(const struct opts *o, int concurrency)
{
	struct run r = {.server_us = -1};
	CURLM *multi = curl_multi_init();
	/* Keep every connection while handles come and go (the default
	 * cache shrinks with the number of handles added). */
	curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)concurrency);
	struct slot *slots = calloc((size_t)concurrency, sizeof *slots);
	double *lat = malloc(sizeof *lat * (size_t)o->requests);
	long issued = 0;
	for (int i = 0; i < concurrency; i++) {
		make_easy(o, &slots[i], request_path(o));
		slot_prepare(&slots[i], o);
	}
	if (o->warmup && warm_up(o, multi, slots, concurrency) != 0) {
		fprintf(stderr, "bench-sql: warm-up requests failed\n");
	}
	double cpu0 = o->server_pid > 0 ? proc_cpu_s(o->server_pid) : -1;
	for (int i = 0; i < concurrency && issued < o->requests; i++) {
		slot_prepare(&slots[i], o);
		slots[i].started = now_s();
		curl_multi_add_handle(multi, slots[i].easy);
		issued++;
	}
	double start = now_s();
	double deadline = start + o->max_seconds;
	int running = 1;
	while (running > 0) {
		curl_multi_perform(multi, &running);
		CURLMsg *m;
		int left;
		while ((m = curl_multi_info_read(multi, &left)) != NULL) {
			if (m->msg != CURLMSG_DONE) {
				continue;
			}
			struct slot *s;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &s);
			long status = 0;
			curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE,
					  &status);
			double t = now_s();
			if (answer_ok(o, m->data.result, status,
				      s->answer.body)) {
				lat[r.done++] = t - s->started;
			} else {
				r.errors++;
			}
			curl_multi_remove_handle(multi, s->easy);
			if (issued < o->requests && t < deadline) {
				slot_prepare(s, o);
				s->started = now_s();
				curl_multi_add_handle(multi, s->easy);
				issued++;
				running++;
			}
		}
		if (running > 0) {
			curl_multi_poll(multi, NULL, 0, 100, NULL);
		}
	}
	r.seconds = now_s() - start;
	double cpu1 = o->server_pid > 0 ? proc_cpu_s(o->server_pid) : -1;
	if (cpu0 >= 0 && cpu1 >= 0 && r.done > 0) {
		r.server_us = (cpu1 - cpu0) * 1e6 / (double)r.done;
	}
	summarise(&r, lat, r.done);
	for (int i = 0; i < concurrency; i++) {
		if (slots[i].easy != NULL) {
			curl_easy_cleanup(slots[i].easy);
			curl_slist_free_all(slots[i].headers);
		}
	}
	curl_multi_cleanup(multi);
	free(slots);
	free(lat);
	return r;
}

/* ---- failover ---- */

/* The failures the failover writer saw: each distinct answer (the
 * response body, or curl's error), how often, first and last seen. */
struct failure {
	char what[160];
	long count;
	double first, last; /* seconds after the kill */
};

static void note_failure(struct failure *f, int *n, const char *answer,
			 double at)
{
	char what[sizeof f->what];
	snprintf(what, sizeof what, "%.*s", (int)sizeof what - 1, answer);
	int i = 0;
	while (i < *n && strcmp(f[i].what, what) != 0) {
		i++;
	}
	if (i == *n) {
		if (*n == 8) {
			return;
		}
		snprintf(f[i].what, sizeof f[i].what, "%s", what);
		f[i].count = 0;
		f[i].first = at;
		(*n)++;
	}
	f[i].count++;
	f[i].last = at;
}

/* One write at a time on o->address (a follower). After o->kill_after
 * seconds, between two writes, SIGKILL o->kill_pid (the leader); then
 * write until one is acknowledged, for at most o->max_seconds. Each
 * request may take o->request_timeout (5 s by default: a client that
 * gives up sooner has one in flight at the kill cut short and retried);
 * a failed one is retried after 5 ms. Prints the
 * time from the kill to that acknowledgement; 0 if there was one. */
static int failover_run(const struct opts *o)
{
	struct slot s;
	CURL *e = make_easy(o, &s, request_path(o));
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
			 (long)(o->request_timeout * 1000));
	struct failure failures[8];
	int n_failures = 0;
	double start = now_s();
	bool killed = false;
	bool acked = false;
	double killed_at = 0;
	double acked_at = 0;
	long before = 0;
	long failed = 0;
	while (!acked) {
		double t = now_s();
		if (!killed && t - start >= o->kill_after) {
			if (kill((pid_t)o->kill_pid, SIGKILL) != 0) {
				perror("bench-sql: kill");
				break;
			}
			killed = true;
			killed_at = now_s();
		} else if (killed && t - killed_at > o->max_seconds) {
			break;
		}
		slot_prepare(&s, o);
		CURLcode rc = curl_easy_perform(e);
		long status = 0;
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
		bool ok = answer_ok(o, rc, status, s.answer.body);
		if (ok && killed) {
			acked = true;
			acked_at = now_s();
		} else if (ok) {
			before++;
		} else {
			failed += killed;
			if (killed) {
				note_failure(failures, &n_failures,
					     rc != CURLE_OK
						 ? curl_easy_strerror(rc)
						 : s.answer.body,
					     now_s() - killed_at);
			}
			usleep(5000);
		}
	}
	curl_easy_cleanup(e);
	curl_slist_free_all(s.headers);
	if (o->json) {
		printf("{\"failover_s\":%.3f,\"writes_before\":%ld,"
		       "\"failed_after\":%ld}\n",
		       acked ? acked_at - killed_at : -1.0, before, failed);
	} else if (acked) {
		printf("failover: first write acknowledged %.3f s after the "
		       "kill (%ld writes before it, %ld failed after it)\n",
		       acked_at - killed_at, before, failed);
	} else {
		printf("failover: no write acknowledged within %.0f s of the "
		       "kill (%ld failed)\n",
		       o->max_seconds, failed);
	}
	for (int i = 0; i < n_failures && !o->json; i++) {
		printf("  %ld x from %.3f to %.3f s: %s\n", failures[i].count,
		       failures[i].first, failures[i].last, failures[i].what);
	}
	return acked ? 0 : -1;
}

/* ---- raw SQLite baseline ---- */

static struct run sqlite_run(const struct opts *o, int index)
{
	struct run r = {.server_us = -1};
	char path[512];
	snprintf(path, sizeof path, "%s/bench-baseline-%d-%d.db", o->dir,
		 (int)getpid(), index);
	sqlite3 *db;
	sqlite3_open(path, &db);
	sqlite3_exec(db,
		     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
		     "CREATE TABLE bench(id INTEGER PRIMARY KEY, v TEXT);",
		     NULL, NULL, NULL);
	sqlite3_stmt *ins;
	sqlite3_prepare_v2(db, "INSERT INTO bench(v) VALUES (?)", -1, &ins,
			   NULL);
	double *lat = malloc(sizeof *lat * (size_t)o->requests);
	double start = now_s();
	double deadline = start + o->max_seconds;
	char value[64];
	for (long i = 0; i < o->requests && now_s() < deadline; i++) {
		double t0 = now_s();
		snprintf(value, sizeof value, "value-%ld", i);
		sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
		sqlite3_bind_text(ins, 1, value, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(ins) != SQLITE_DONE) {
			r.errors++;
		}
		sqlite3_reset(ins);
		if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK) {
			lat[r.done++] = now_s() - t0;
		}
	}
	r.seconds = now_s() - start;
	summarise(&r, lat, r.done);
	free(lat);
	sqlite3_finalize(ins);
	sqlite3_close(db);
	unlink(path);
	char side[600];
	snprintf(side, sizeof side, "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof side, "%s-shm", path);
	unlink(side);
	return r;
}

static void report(const struct opts *o, const char *what, int concurrency,
		   struct run *runs, bool last)
{
	qsort(runs, (size_t)o->runs, sizeof *runs, cmp_run);
	struct run *m = &runs[o->runs / 2];
	/* The median of the server's CPU per request, on its own. */
	double cpu[15];
	for (int i = 0; i < o->runs; i++) {
		cpu[i] = runs[i].server_us;
	}
	qsort(cpu, (size_t)o->runs, sizeof *cpu, cmp_double);
	double server_us = cpu[o->runs / 2];
	if (o->json) {
		printf("  {\"target\":\"%s\",\"concurrency\":%d,\"runs\":%d,"
		       "\"%s\":%.0f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,"
		       "\"requests\":%ld,\"errors\":%ld,"
		       "\"server_cpu_us\":%.1f}%s\n",
		       what, concurrency, o->runs,
		       o->mode == MODE_READ ? "reads_per_s" : "writes_per_s",
		       m->writes_per_s, m->p50_ms, m->p99_ms, m->done,
		       m->errors, server_us, last ? "" : ",");
	} else if (server_us >= 0) {
		printf("%-16s %11d %12.0f %10.3f %10.3f %9ld %7ld %11.1f\n",
		       what, concurrency, m->writes_per_s, m->p50_ms, m->p99_ms,
		       m->done, m->errors, server_us);
	} else {
		printf("%-16s %11d %12.0f %10.3f %10.3f %9ld %7ld %11s\n", what,
		       concurrency, m->writes_per_s, m->p50_ms, m->p99_ms,
		       m->done, m->errors, "-");
	}
}

/* The target column: what was measured. */
static const char *target_name(const struct opts *o)
{
	if (o->target == TARGET_ETCD) {
		return o->mode == MODE_READ ? "etcd-read" : "etcd";
	}
	return o->mode == MODE_READ ? "thermionic-read" : "thermionic";
}

static const char usage[] =
    "Usage: bench-sql --address HOST:PORT --cert FILE --key FILE [options]\n"
    "\n"
    "Measure INSERTs through POST /1.0/sql (TLS, keep-alive) against a\n"
    "running member whose trust store holds the given client certificate,\n"
    "and raw SQLite (WAL, synchronous=FULL, one transaction per insert)\n"
    "in DIR as a baseline. Reports the median of --runs runs.\n"
    "\n"
    "  --target T           thermionic (default), or etcd: the same loads\n"
    "                       on an etcd member's v3 JSON gateway (a put of\n"
    "                       a fresh key per insert, a range of one key per\n"
    "                       read), with a client certificate its CA signed\n"
    "  --mode MODE          insert (default); read: reads of one row by\n"
    "                       key; failover: one writer, see --kill-pid\n"
    "  --consistency C      of reads: linearizable (default) or none\n"
    "                       (etcd: a serializable range)\n"
    "  --no-baseline        skip the raw SQLite runs\n"
    "  --kill-pid PID       failover: SIGKILL PID (the leader) after\n"
    "                       --kill-after S seconds of writes (default 1),\n"
    "                       then report how long after the kill the first\n"
    "                       write was acknowledged (at most --max-seconds)\n"
    "  --request-timeout S  failover: each write's time limit (default 5)\n"
    "  --concurrency LIST   comma-separated levels (default 1,64)\n"
    "  --requests N         requests per run (default 5000)\n"
    "  --max-seconds S      time limit per run (default 20)\n"
    "  --runs R             runs per level (default 3)\n"
    "  --dir DIR            where the baseline database goes (default /tmp)\n"
    "  --no-warmup          time the TLS handshakes of the connections too\n"
    "  --server-pid PID     report the member's CPU time per request\n"
    "  --format json        machine-readable output\n";

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option options[] = {
	    {"address", required_argument, NULL, 'a'},
	    {"cert", required_argument, NULL, 'c'},
	    {"key", required_argument, NULL, 'k'},
	    {"concurrency", required_argument, NULL, 'C'},
	    {"requests", required_argument, NULL, 'n'},
	    {"max-seconds", required_argument, NULL, 't'},
	    {"runs", required_argument, NULL, 'r'},
	    {"dir", required_argument, NULL, 'd'},
	    {"format", required_argument, NULL, 'f'},
	    {"no-warmup", no_argument, NULL, 'W'},
	    {"server-pid", required_argument, NULL, 'p'},
	    {"mode", required_argument, NULL, 'm'},
	    {"consistency", required_argument, NULL, 'L'},
	    {"no-baseline", no_argument, NULL, 'B'},
	    {"kill-pid", required_argument, NULL, 'K'},
	    {"kill-after", required_argument, NULL, 'A'},
	    {"request-timeout", required_argument, NULL, 'R'},
	    {"target", required_argument, NULL, 'T'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	*o = (struct opts){.requests = 5000,
			   .max_seconds = 20,
			   .runs = 3,
			   .dir = "/tmp",
			   .levels = {1, 64},
			   .n_levels = 2,
			   .warmup = true,
			   .baseline = true,
			   .consistency = "linearizable",
			   .kill_after = 1,
			   .request_timeout = 5};
	int c;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'a':
			o->address = optarg;
			break;
		case 'c':
			o->cert = optarg;
			break;
		case 'k':
			o->key = optarg;
			break;
		case 'n':
			o->requests = atol(optarg);
			break;
		case 't':
			o->max_seconds = atof(optarg);
			break;
		case 'r':
			o->runs = atoi(optarg);
			break;
		case 'd':
			o->dir = optarg;
			break;
		case 'f':
			o->json = strcmp(optarg, "json") == 0;
			break;
		case 'W':
			o->warmup = false;
			break;
		case 'p':
			o->server_pid = atol(optarg);
			break;
		case 'm':
			if (strcmp(optarg, "insert") == 0) {
				o->mode = MODE_INSERT;
			} else if (strcmp(optarg, "read") == 0) {
				o->mode = MODE_READ;
			} else if (strcmp(optarg, "failover") == 0) {
				o->mode = MODE_FAILOVER;
			} else {
				fputs(usage, stderr);
				return -1;
			}
			break;
		case 'L':
			o->consistency = optarg;
			break;
		case 'T':
			if (strcmp(optarg, "thermionic") == 0) {
				o->target = TARGET_THERMIONIC;
			} else if (strcmp(optarg, "etcd") == 0) {
				o->target = TARGET_ETCD;
			} else {
				fputs(usage, stderr);
				return -1;
			}
			break;
		case 'B':
			o->baseline = false;
			break;
		case 'K':
			o->kill_pid = atol(optarg);
			break;
		case 'R':
			o->request_timeout = atof(optarg);
			break;
		case 'A':
			o->kill_after = atof(optarg);
			break;
		case 'C': {
			o->n_levels = 0;
			for (char *tok = strtok(optarg, ",");
			     tok != NULL && o->n_levels < 8;
			     tok = strtok(NULL, ",")) {
				o->levels[o->n_levels++] = atoi(tok);
			}
			break;
		}
		case 'h':
			fputs(usage, stdout);
			exit(0);
		default:
			fputs(usage, stderr);
			return -1;
		}
	}
	if (o->address == NULL || o->cert == NULL || o->key == NULL ||
	    o->requests < 1 || o->runs < 1 || o->runs > 15 ||
	    o->max_seconds <= 0 || o->request_timeout <= 0 ||
	    (o->mode == MODE_FAILOVER && o->kill_pid <= 0)) {
		fputs(usage, stderr);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	if (parse(argc, argv, &o) != 0) {
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (setup(&o) != 0) {
		return 1;
	}
	if (o.mode == MODE_FAILOVER) {
		int rv = failover_run(&o);
		curl_global_cleanup();
		return rv == 0 ? 0 : 1;
	}
	bool baseline = o.baseline && o.mode == MODE_INSERT;
	struct run runs[15];
	if (o.json) {
		printf("[\n");
	} else {
		printf("%-16s %11s %12s %10s %10s %9s %7s %11s\n", "target",
		       "concurrency",
		       o.mode == MODE_READ ? "reads/s" : "writes/s", "p50 ms",
		       "p99 ms", "requests", "errors", "srv us/req");
	}
	for (int r = 0; baseline && r < o.runs; r++) {
		runs[r] = sqlite_run(&o, r);
	}
	if (baseline) {
		report(&o, "sqlite-raw", 1, runs, false);
	}
	for (int l = 0; l < o.n_levels; l++) {
		for (int r = 0; r < o.runs; r++) {
			runs[r] = http_run(&o, o.levels[l]);
		}
		report(&o, target_name(&o), o.levels[l], runs,
		       l == o.n_levels - 1);
	}
	if (o.json) {
		printf("]\n");
	}
	curl_global_cleanup();
	return 0;
}

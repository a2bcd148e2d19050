/* bench-soak: a long mixed load on one member (issue 8's soak): writes at
 * one concurrency, linearizable reads at another, and a backup
 * (GET /1.0/sql/backup) every --backup-every seconds, for --duration
 * seconds. Reports, per minute: writes/s, write p99 and p99.9, the largest
 * write latency (the largest stall) and read p99; then the backups (time,
 * bytes, the largest write latency while each ran), the member's RSS at the
 * end and its peaks, anonymous and file-backed, sampled every second
 * (--server-pid), the database size (--db FILE), and the member's loop lag
 * since it started (GET /1.0).
 *
 * Every request has a 60 s timeout; the run ends after --duration whatever
 * is in flight (in-flight requests are not counted). */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#define MAX_MINUTES 240
#define MAX_BACKUPS 128

struct opts {
	const char *address, *cert, *key, *db;
	double duration, backup_every;
	int writers, readers, row_bytes;
	long server_pid;
};

enum kind { WRITE, READ, BACKUP };

struct slot {
	CURL *easy;
	enum kind kind;
	double started;
	char url[300];
	char *body;
	struct curl_slist *headers;
	long bytes; /* received */
};

struct lats {
	double *v;
	size_t n, cap;
};

struct backup {
	double start, seconds, max_write_ms;
	long bytes;
	bool ok, done;
};

static struct lats writes[MAX_MINUTES], reads[MAX_MINUTES];
static struct backup backups[MAX_BACKUPS];
static int n_backups;
static long errors;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void lats_add(struct lats *l, double v)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 4096;
		l->v = realloc(l->v, l->cap * sizeof *l->v);
	}
	l->v[l->n++] = v;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(struct lats *l, double p)
{
	if (l->n == 0) {
		return 0;
	}
	size_t i = (size_t)((double)(l->n - 1) * p);
	return l->v[i] * 1e3;
}

static size_t count(char *p, size_t size, size_t n, void *ud)
{
	(void)p;
	((struct slot *)ud)->bytes += (long)(size * n);
	return size * n;
}

static long counter;

struct text {
	char buf[8192];
	size_t len;
};

static size_t keep(char *p, size_t size, size_t n, void *ud)
{
	struct text *t = ud;
	size_t take = size * n;
	if (take > sizeof t->buf - 1 - t->len) {
		take = sizeof t->buf - 1 - t->len;
	}
	memcpy(t->buf + t->len, p, take);
	t->len += take;
	t->buf[t->len] = '\0';
	return size * n;
}

/* The member's own loop lag (GET /1.0, "loop_lag"), printed as it is. */
static void print_loop_lag(const struct opts *o)
{
	struct text t = {.len = 0};
	char url[300];
	CURL *e = curl_easy_init();
	snprintf(url, sizeof url, "https://%s/1.0", o->address);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_SSLCERT, o->cert);
	curl_easy_setopt(e, CURLOPT_SSLKEY, o->key);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, keep);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
	t.buf[0] = '\0';
	if (curl_easy_perform(e) == CURLE_OK) {
		const char *lag = strstr(t.buf, "\"loop_lag\"");
		const char *end = lag != NULL ? strchr(lag, '}') : NULL;
		if (end != NULL) {
			printf("member's loop lag since start: %.*s\n",
			       (int)(end + 1 - lag), lag);
		}
	}
	curl_easy_cleanup(e);
}

static void slot_init(struct slot *s, const struct opts *o, enum kind k)
{
	memset(s, 0, sizeof *s);
	s->kind = k;
	s->easy = curl_easy_init();
	snprintf(s->url, sizeof s->url, "https://%s%s", o->address,
		 k == BACKUP ? "/1.0/sql/backup" : "/1.0/sql");
	curl_easy_setopt(s->easy, CURLOPT_URL, s->url);
	curl_easy_setopt(s->easy, CURLOPT_SSLCERT, o->cert);
	curl_easy_setopt(s->easy, CURLOPT_SSLKEY, o->key);
	curl_easy_setopt(s->easy, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(s->easy, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(s->easy, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(s->easy, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, count);
	curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(s->easy, CURLOPT_PRIVATE, s);
	if (k != BACKUP) {
		s->headers =
		    curl_slist_append(NULL, "Content-Type: application/json");
		curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, s->headers);
		s->body = malloc((size_t)o->row_bytes + 256);
	}
}

static void slot_start(CURLM *m, struct slot *s, const struct opts *o)
{
	if (s->kind == WRITE) {
		int n = sprintf(s->body,
				"{\"statements\":[{\"sql\":\"INSERT INTO "
				"soak(v) VALUES (?)\",\"params\":[\"%ld-",
				counter++);
		memset(s->body + n, 'x', (size_t)o->row_bytes);
		strcpy(s->body + n + o->row_bytes, "\"]}]}");
	} else if (s->kind == READ) {
		sprintf(s->body,
			"{\"consistency\":\"linearizable\",\"statements\":"
			"[{\"sql\":\"SELECT v FROM soak WHERE id = ?\","
			"\"params\":[%ld]}]}",
			counter / 2 + 1);
	}
	if (s->body != NULL) {
		curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, s->body);
	}
	s->bytes = 0;
	s->started = now_s();
	curl_multi_add_handle(m, s->easy);
}

/* A field of /proc/PID/status, in MB; -1 if missing. */
static double status_mb(long pid, const char *field)
{
	char path[64], line[256];
	double kb = -1;
	size_t n = strlen(field);
	snprintf(path, sizeof path, "/proc/%ld/status", pid);
	FILE *f = fopen(path, "r");
	while (f != NULL && fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, field, n) == 0 && line[n] == ':' &&
		    sscanf(line + n + 1, "%lf", &kb) == 1) {
			break;
		}
	}
	if (f != NULL) {
		fclose(f);
	}
	return kb < 0 ? -1 : kb / 1024;
}

static double rss_mb(long pid) { return status_mb(pid, "VmRSS"); }

/* Largest anonymous (heap) and file-backed (mapped files: the page
 * cache, which the kernel can drop) resident memory, sampled every
 * second. */
static double peak_anon_mb, peak_file_mb;

static void sample_memory(long pid)
{
	double anon = status_mb(pid, "RssAnon");
	double file = status_mb(pid, "RssFile");
	peak_anon_mb = anon > peak_anon_mb ? anon : peak_anon_mb;
	peak_file_mb = file > peak_file_mb ? file : peak_file_mb;
}

/* A request ended at T0-relative time T after LAT seconds. */
static void record(struct slot *s, bool ok, double t0, double t, double lat)
{
	int minute = (int)((t - t0) / 60);
	if (minute >= MAX_MINUTES) {
		minute = MAX_MINUTES - 1;
	}
	if (s->kind == BACKUP) {
		struct backup *b = &backups[n_backups - 1];
		b->seconds = lat;
		b->bytes = s->bytes;
		b->ok = ok;
		b->done = true;
		return;
	}
	if (!ok) {
		errors++;
		return;
	}
	lats_add(s->kind == WRITE ? &writes[minute] : &reads[minute], lat);
	if (s->kind == WRITE && n_backups > 0) {
		struct backup *b = &backups[n_backups - 1];
		if (!b->done && s->started >= b->start &&
		    lat * 1e3 > b->max_write_ms) {
			b->max_write_ms = lat * 1e3;
		}
	}
}

static void run(const struct opts *o)
{
	int n = o->writers + o->readers;
	struct slot *slots = calloc((size_t)n + 1, sizeof *slots);
	CURLM *m = curl_multi_init();
	curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)n + 1);
	for (int i = 0; i < n; i++) {
		slot_init(&slots[i], o, i < o->writers ? WRITE : READ);
		slot_start(m, &slots[i], o);
	}
	struct slot *bk = &slots[n];
	slot_init(bk, o, BACKUP);
	bool bk_running = false;
	double t0 = now_s(), next_backup = t0 + o->backup_every;
	int running = 1;
	double next_sample = t0;
	while (now_s() - t0 < o->duration) {
		curl_multi_perform(m, &running);
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			struct slot *s;
			long status = 0;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
					  &s);
			curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE,
					  &status);
			double t = now_s();
			record(s, msg->data.result == CURLE_OK && status == 200,
			       t0, t, t - s->started);
			curl_multi_remove_handle(m, s->easy);
			if (s->kind == BACKUP) {
				bk_running = false;
			} else {
				slot_start(m, s, o);
			}
		}
		double t = now_s();
		/* A backup that could not finish before the end would count
		 * as failed: none starts in the last 5 s. */
		if (!bk_running && t >= next_backup &&
		    t + 5 < t0 + o->duration && n_backups < MAX_BACKUPS) {
			backups[n_backups++] = (struct backup){.start = t};
			slot_start(m, bk, o);
			bk_running = true;
			next_backup += o->backup_every;
		}
		if (o->server_pid > 0 && t >= next_sample) {
			sample_memory(o->server_pid);
			next_sample = t + 1;
		}
		curl_multi_poll(m, NULL, 0, 20, NULL);
	}
	double rss = o->server_pid > 0 ? rss_mb(o->server_pid) : -1;
	struct stat st;
	double db_mb = o->db != NULL && stat(o->db, &st) == 0
			   ? (double)st.st_size / 1048576
			   : -1;
	printf("%-6s %9s %9s %9s %11s %9s\n", "minute", "writes/s", "p99 ms",
	       "p99.9 ms", "max ms", "read p99");
	int minutes = (int)(o->duration / 60 + 0.999);
	for (int i = 0; i < minutes && i < MAX_MINUTES; i++) {
		struct lats *w = &writes[i], *r = &reads[i];
		qsort(w->v, w->n, sizeof *w->v, cmp);
		qsort(r->v, r->n, sizeof *r->v, cmp);
		double secs =
		    o->duration - 60 * i < 60 ? o->duration - 60 * i : 60;
		printf("%-6d %9.0f %9.2f %9.2f %11.2f %9.2f\n", i + 1,
		       (double)w->n / secs, pct(w, 0.99), pct(w, 0.999),
		       pct(w, 1.0), pct(r, 0.99));
	}
	for (int i = 0; i < n_backups; i++) {
		struct backup *b = &backups[i];
		printf("backup %d at %.0f s: %s, %.2f s, %.1f MB, largest "
		       "write latency meanwhile %.2f ms\n",
		       i + 1, b->start - t0, b->ok ? "ok" : "FAILED",
		       b->seconds, (double)b->bytes / 1048576, b->max_write_ms);
	}
	printf("errors %ld, RSS at the end %.1f MB, database %.1f MB\n", errors,
	       rss, db_mb);
	print_loop_lag(o);
	if (o->server_pid > 0) {
		printf("peak resident memory, sampled every second: anonymous "
		       "%.1f MB, mapped files %.1f MB; VmHWM %.1f MB\n",
		       peak_anon_mb, peak_file_mb,
		       status_mb(o->server_pid, "VmHWM"));
	}
	curl_multi_cleanup(m);
}

static const char usage[] =
    "Usage: bench-soak --address HOST:PORT --cert FILE --key FILE\n"
    "  [--duration S (600)] [--backup-every S (120)] [--writers N (8)]\n"
    "  [--readers N (8)] [--row-bytes N (200)] [--server-pid PID]\n"
    "  [--db FILE]\n";

int main(int argc, char **argv)
{
	static const struct option options[] = {
	    {"address", required_argument, NULL, 'a'},
	    {"cert", required_argument, NULL, 'c'},
	    {"key", required_argument, NULL, 'k'},
	    {"duration", required_argument, NULL, 't'},
	    {"backup-every", required_argument, NULL, 'b'},
	    {"writers", required_argument, NULL, 'w'},
	    {"readers", required_argument, NULL, 'r'},
	    {"row-bytes", required_argument, NULL, 'n'},
	    {"server-pid", required_argument, NULL, 'p'},
	    {"db", required_argument, NULL, 'd'},
	    {NULL, 0, NULL, 0},
	};
	struct opts o = {.duration = 600,
			 .backup_every = 120,
			 .writers = 8,
			 .readers = 8,
			 .row_bytes = 200};
	int c;
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (c) {
		case 'a':
			o.address = optarg;
			break;
		case 'c':
			o.cert = optarg;
			break;
		case 'k':
			o.key = optarg;
			break;
		case 't':
			o.duration = atof(optarg);
			break;
		case 'b':
			o.backup_every = atof(optarg);
			break;
		case 'w':
			o.writers = atoi(optarg);
			break;
		case 'r':
			o.readers = atoi(optarg);
			break;
		case 'n':
			o.row_bytes = atoi(optarg);
			break;
		case 'p':
			o.server_pid = atol(optarg);
			break;
		case 'd':
			o.db = optarg;
			break;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (o.address == NULL || o.cert == NULL || o.key == NULL ||
	    o.duration <= 0 || o.backup_every <= 0 || o.writers < 1 ||
	    o.readers < 0 || o.row_bytes < 1 || o.row_bytes > 100000) {
		fputs(usage, stderr);
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	run(&o);
	curl_global_cleanup();
	return 0;
}

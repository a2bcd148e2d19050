/* chaos_client: drives a cluster through the SQL API from several worker
 * threads and records every operation's invocation and completion as a
 * JSON-lines history for chaos_check (format in doc/chaos.md).
 *
 * Flow: parse options -> set up the workload's tables (any member,
 * retried) -> CLIENTS workers run operations until --time passes or
 * --max-ops have started -> the bank and set workloads do a final
 * linearizable read, retried on any member for up to 60 s -> flush.
 * SIGTERM or SIGINT stops the workers; what is recorded is flushed (an
 * operation still in flight keeps its invocation only, which the checker
 * reads as unknown). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "test/chaos/client.h"

#define FINAL_READ_SECONDS 60

static const char usage[] =
    "usage: chaos_client --workload register|bank|set --members URL[,URL...]\n"
    "         --cert CERT --key KEY --server-cert SERVERCERT\n"
    "         --clients N --time SECONDS --seed N --history FILE\n"
    "         [--consistency linearizable|none] [--op-timeout SECONDS]\n"
    "         [--max-ops N]\n"
    "\n"
    "Runs N worker threads, each one process of the history, doing one\n"
    "operation at a time through POST /1.0/sql on the members (worker i\n"
    "starts on member i %% n and moves to the next after a connection\n"
    "error or a 503), for SECONDS seconds or until N operations in all\n"
    "have started (--max-ops, default 200000). The bank and set workloads\n"
    "then read the final state (linearizable, retried on any member for\n"
    "up to 60 s). Every invocation and completion goes to FILE as one JSON\n"
    "line (doc/chaos.md); check it with chaos_check.\n"
    "\n"
    "  --workload       register: read/write/cas on 5 keys of reg(k, v);\n"
    "                   bank: transfers between 5 accounts of acct(id, bal)\n"
    "                   and reads of all balances; set: inserts of unique\n"
    "                   values into elems(v). The client creates the table\n"
    "                   and empties it (bank: 5 accounts of 100) first.\n"
    "  --members        https URLs of the members\n"
    "  --cert, --key    the client certificate (trusted by the cluster)\n"
    "  --server-cert    the cluster certificate the members present; the\n"
    "                   connection is pinned to its fingerprint\n"
    "  --consistency    of reads (default linearizable); reads with none\n"
    "                   are recorded as such and exempt from the register\n"
    "                   checker\n"
    "  --op-timeout     seconds each request may take (default 5); a\n"
    "                   timeout is an unknown (info) result\n"
    "  --max-ops        operations in all before stopping early\n"
    "\n"
    "Exit status: 0 after a run (even one whose final read never\n"
    "succeeded: chaos_check then says unknown), 1 if the tables could not\n"
    "be set up, 2 for bad arguments or unreadable files.\n";

int64_t chaos_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

bool chaos_signalled(struct chaos *c)
{
	sigset_t pending;
	if (sigpending(&pending) == 0 && (sigismember(&pending, SIGTERM) == 1 ||
					  sigismember(&pending, SIGINT) == 1)) {
		atomic_store(&c->signalled, true);
	}
	return atomic_load(&c->signalled);
}

void chaos_record(struct chaos *c, cJSON *ev)
{
	char *line = cJSON_PrintUnformatted(ev);
	cJSON_Delete(ev);
	if (line == NULL) {
		fprintf(stderr, "chaos_client: out of memory\n");
		abort();
	}
	pthread_mutex_lock(&c->lock);
	fputs(line, c->history);
	fputc('\n', c->history);
	fflush(c->history);
	pthread_mutex_unlock(&c->lock);
	free(line);
}

static bool parse_workload(const char *s, enum chaos_workload *out)
{
	static const char *names[] = {"register", "bank", "set"};
	for (int i = 0; i < 3; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (enum chaos_workload)i;
			return true;
		}
	}
	return false;
}

static const char *workload_name(enum chaos_workload w)
{
	return w == WL_REGISTER ? "register" : w == WL_BANK ? "bank" : "set";
}

/* "https://host:port[/]" (or "host:port") -> "host:port". */
static int parse_members(struct chaos *c, const char *list)
{
	char *copy = strdup(list);
	char *save = NULL;
	for (char *t = strtok_r(copy, ",", &save); t != NULL;
	     t = strtok_r(NULL, ",", &save)) {
		if (strncmp(t, "https://", 8) == 0) {
			t += 8;
		}
		size_t len = strcspn(t, "/");
		if (len == 0) {
			free(copy);
			return -1;
		}
		c->members =
		    realloc(c->members,
			    sizeof *c->members * (size_t)(c->n_members + 1));
		c->members[c->n_members++] = strndup(t, len);
	}
	free(copy);
	return c->n_members > 0 ? 0 : -1;
}

/* The SHA-256 fingerprint of the PEM certificate at PATH. */
static int cert_fingerprint(const char *path, char *out)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		fprintf(stderr, "chaos_client: %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	int rv = -1;
	if (x != NULL && X509_digest(x, EVP_sha256(), md, &len) == 1) {
		for (unsigned i = 0; i < len; i++) {
			snprintf(out + 2 * i, 3, "%02x", md[i]);
		}
		rv = 0;
	} else {
		fprintf(stderr, "chaos_client: %s: not a PEM certificate\n",
			path);
	}
	X509_free(x);
	return rv;
}

static bool parse_number(const char *s, double min, double *out)
{
	char *end = NULL;
	errno = 0;
	double v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= min)) {
		return false;
	}
	*out = v;
	return true;
}

static int parse_options(struct chaos *c, int argc, char **argv,
			 const char **history, const char **server_cert)
{
	static const struct option opts[] = {
	    {"workload", required_argument, NULL, 'w'},
	    {"members", required_argument, NULL, 'm'},
	    {"cert", required_argument, NULL, 'c'},
	    {"key", required_argument, NULL, 'k'},
	    {"server-cert", required_argument, NULL, 's'},
	    {"clients", required_argument, NULL, 'n'},
	    {"time", required_argument, NULL, 't'},
	    {"seed", required_argument, NULL, 'S'},
	    {"history", required_argument, NULL, 'H'},
	    {"consistency", required_argument, NULL, 'C'},
	    {"op-timeout", required_argument, NULL, 'o'},
	    {"max-ops", required_argument, NULL, 'M'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	bool have_workload = false;
	double v = 0;
	int o;
	int index = 0;
	while ((o = getopt_long(argc, argv, "h", opts, &index)) != -1) {
		switch (o) {
		case 'w':
			if (!parse_workload(optarg, &c->workload)) {
				fprintf(stderr,
					"chaos_client: unknown "
					"workload \"%s\"\n",
					optarg);
				return -1;
			}
			have_workload = true;
			break;
		case 'm':
			if (parse_members(c, optarg) != 0) {
				fprintf(stderr,
					"chaos_client: bad --members "
					"\"%s\"\n",
					optarg);
				return -1;
			}
			break;
		case 'c':
			c->cert = optarg;
			break;
		case 'k':
			c->key = optarg;
			break;
		case 's':
			*server_cert = optarg;
			break;
		case 'n':
			if (!parse_number(optarg, 1, &v) || v > 1000) {
				goto bad;
			}
			c->clients = (int)v;
			break;
		case 't':
			if (!parse_number(optarg, 0, &c->seconds)) {
				goto bad;
			}
			break;
		case 'S':
			if (!parse_number(optarg, 0, &v)) {
				goto bad;
			}
			c->seed = (unsigned long)v;
			break;
		case 'H':
			*history = optarg;
			break;
		case 'C':
			if (strcmp(optarg, "linearizable") != 0 &&
			    strcmp(optarg, "none") != 0) {
				goto bad;
			}
			c->linearizable = strcmp(optarg, "none") != 0;
			break;
		case 'o':
			if (!parse_number(optarg, 0.001, &v) || v > 3600) {
				goto bad;
			}
			c->op_timeout_ms = (unsigned)(v * 1000);
			break;
		case 'M':
			if (!parse_number(optarg, 1, &v)) {
				goto bad;
			}
			c->max_ops = (long)v;
			break;
		case 'h':
			fputs(usage, stdout);
			exit(0);
		default:
			fputs(usage, stderr);
			return -1;
		}
	}
	if (optind != argc || !have_workload || c->n_members == 0 ||
	    c->cert == NULL || c->key == NULL || *server_cert == NULL ||
	    *history == NULL) {
		fprintf(stderr, "chaos_client: --workload, --members, --cert, "
				"--key, --server-cert and --history are "
				"required\n");
		fputs(usage, stderr);
		return -1;
	}
	return 0;
bad:
	fprintf(stderr, "chaos_client: bad value \"%s\" for --%s\n", optarg,
		opts[index].name);
	return -1;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct chaos *c = w->c;
	int64_t end = c->t0 + (int64_t)(c->seconds * 1e9);
	while (!atomic_load(&c->stop) && chaos_now_ns() < end &&
	       atomic_fetch_add(&c->ops, 1) < c->max_ops) {
		chaos_op(w);
	}
	return NULL;
}

static void worker_init(struct worker *w, struct chaos *c, int process)
{
	memset(w, 0, sizeof *w);
	w->c = c;
	w->process = process;
	w->member = process % c->n_members;
	w->rng = (c->seed + 1) * 0x9E3779B97F4A7C15ull + (uint64_t)process;
}

static void record_meta(struct chaos *c)
{
	cJSON *m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "type", "meta");
	cJSON_AddStringToObject(m, "workload", workload_name(c->workload));
	cJSON_AddNumberToObject(m, "clients", c->clients);
	cJSON_AddNumberToObject(m, "seed", (double)c->seed);
	cJSON_AddStringToObject(m, "consistency",
				c->linearizable ? "linearizable" : "none");
	if (c->workload == WL_BANK) {
		cJSON_AddNumberToObject(m, "accounts", BANK_ACCOUNTS);
		cJSON_AddNumberToObject(m, "total",
					BANK_ACCOUNTS * BANK_INITIAL);
	}
	cJSON_AddNumberToObject(m, "time", (double)chaos_now_ns());
	chaos_record(c, m);
}

/* Wait until the run's time is over or a signal asks to stop. */
static bool wait_run(struct chaos *c, sigset_t *signals)
{
	int64_t end = c->t0 + (int64_t)(c->seconds * 1e9);
	for (;;) {
		int64_t left = end - chaos_now_ns();
		if (left <= 0) {
			return false;
		}
		struct timespec ts = {left / 1000000000, left % 1000000000};
		int sig = sigtimedwait(signals, NULL, &ts);
		if (sig > 0) {
			fprintf(stderr, "chaos_client: signal %d: stopping\n",
				sig);
			atomic_store(&c->signalled, true);
			return true;
		}
	}
}

/* Join the workers, waiting for each at most until DEADLINE (ns) when
 * SIGNALLED; a worker still in a request is abandoned. */
static bool join_workers(pthread_t *threads, int n, bool signalled)
{
	bool all = true;
	int64_t deadline = chaos_now_ns() + 2000000000ll;
	for (int i = 0; i < n; i++) {
		if (!signalled) {
			pthread_join(threads[i], NULL);
			continue;
		}
		int64_t left = deadline - chaos_now_ns();
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		if (left > 0) {
			ts.tv_sec += left / 1000000000;
			ts.tv_nsec += left % 1000000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
		}
		if (pthread_timedjoin_np(threads[i], NULL, &ts) != 0) {
			all = false;
		}
	}
	return all;
}

int main(int argc, char **argv)
{
	static struct chaos c = {
	    .clients = 4,
	    .seconds = 10,
	    .max_ops = 200000,
	    .linearizable = true,
	    .op_timeout_ms = 5000,
	    .lock = PTHREAD_MUTEX_INITIALIZER,
	};
	const char *history = NULL;
	const char *server_cert = NULL;
	if (parse_options(&c, argc, argv, &history, &server_cert) != 0) {
		return 2;
	}
	if (cert_fingerprint(server_cert, c.pin) != 0) {
		return 2;
	}
	c.history = fopen(history, "w");
	if (c.history == NULL) {
		fprintf(stderr, "chaos_client: %s: %s\n", history,
			strerror(errno));
		return 2;
	}
	/* Signals are taken by the main thread only (sigtimedwait). */
	sigset_t signals;
	sigemptyset(&signals);
	sigaddset(&signals, SIGTERM);
	sigaddset(&signals, SIGINT);
	pthread_sigmask(SIG_BLOCK, &signals, NULL);
	curl_global_init(CURL_GLOBAL_DEFAULT);

	struct worker *workers = calloc((size_t)c.clients + 1, sizeof *workers);
	pthread_t *threads = calloc((size_t)c.clients, sizeof *threads);
	c.t0 = chaos_now_ns();
	worker_init(&workers[c.clients], &c, c.clients);
	if (chaos_setup(&workers[c.clients]) != 0) {
		return 1;
	}
	record_meta(&c);
	c.t0 = chaos_now_ns();
	for (int i = 0; i < c.clients; i++) {
		worker_init(&workers[i], &c, i);
		pthread_create(&threads[i], NULL, worker_main, &workers[i]);
	}
	bool signalled = wait_run(&c, &signals);
	atomic_store(&c.stop, true);
	bool joined = join_workers(threads, c.clients, signalled);
	if (!signalled && c.workload != WL_REGISTER) {
		/* No final read: the checker answers "unknown". */
		(void)chaos_final_read(&workers[c.clients]);
	}
	pthread_mutex_lock(&c.lock);
	fflush(c.history);
	fsync(fileno(c.history));
	if (!joined) {
		/* Workers still in a request: leave without waiting. */
		_exit(0);
	}
	fclose(c.history);
	pthread_mutex_unlock(&c.lock);
	for (int i = 0; i <= c.clients; i++) {
		thermionic_close(workers[i].tc);
	}
	for (int i = 0; i < c.n_members; i++) {
		free(c.members[i]);
	}
	free(c.members);
	free(workers);
	free(threads);
	curl_global_cleanup();
	return 0;
}

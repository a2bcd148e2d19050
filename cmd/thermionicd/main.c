/* thermionicd: one member of a thermionic cluster. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <sqlite3.h>
#include <uv.h>

#include "cmd/thermionicd/recover.h"
#include "internal/daemon/daemon.h"
#include "internal/lib/log.h"
#include "internal/lib/prio.h"

static const char usage[] =
	"Usage: thermionicd [OPTIONS]\n"
	"       thermionicd recover --dir DIR ...   (see recover --help)\n"
	"\n"
	"Run one member of a thermionic cluster in the foreground.\n"
	"\n"
	"Options:\n"
	"  -d, --dir DIR   state directory (default: $THERMIONIC_DIR or\n"
	"                  /var/lib/thermionic); created with mode 0700\n"
	"      --verbose   log informational messages\n"
	"      --debug     log debug messages (THERMIONIC_TRACE=1 for more)\n"
	"  -h, --help      show this help\n"
	"      --version   print the version\n"
	"\n"
	"The member is reachable on DIR/unix.socket (root only) and, once\n"
	"core.https_address is set, over mutual TLS on that address.\n"
	"Stop it with SIGTERM, SIGINT or `therm daemon shutdown`.\n"
	"\n"
	"`thermionicd recover` recovers a cluster that lost its quorum, on a\n"
	"stopped member.\n";

/* Process-wide SQLite settings, before any other SQLite call.
 *
 * MULTITHREAD: SQLite is used from the loop thread only (raft's libuv
 * threadpool writes raft's own files and never calls SQLite), so the
 * per-connection mutexes of the default serialized mode are pure cost.
 * MEMSTATUS off: the allocation statistics need a global mutex around
 * every sqlite3_malloc/free and nothing reads them. Together they removed
 * about 8% of the daemon's CPU time under write load (doc/benchmarks.md). */
static int configure_sqlite(void)
{
	int rc = sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
	if (rc == SQLITE_OK) {
		rc = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	}
	if (rc == SQLITE_OK) {
		rc = sqlite3_initialize();
	}
	if (rc != SQLITE_OK) {
		fprintf(stderr, "thermionicd: configuring SQLite: %s\n",
			sqlite3_errstr(rc));
		return -1;
	}
	return 0;
}

/* thermionicd recover ...: offline, on a stopped member. */
static int recover(int argc, char *argv[])
{
	if (configure_sqlite() != 0) {
		return 1;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "thermionicd: curl_global_init failed\n");
		return 1;
	}
	int code = recover_main(argc, argv);
	curl_global_cleanup();
	return code;
}

int main(int argc, char *argv[])
{
	if (argc > 1 && strcmp(argv[1], "recover") == 0) {
		return recover(argc - 1, argv + 1);
	}
	enum { OPT_VERBOSE = 256, OPT_DEBUG, OPT_VERSION };
	static const struct option options[] = {
		{"dir", required_argument, NULL, 'd'},
		{"verbose", no_argument, NULL, OPT_VERBOSE},
		{"debug", no_argument, NULL, OPT_DEBUG},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, OPT_VERSION},
		{NULL, 0, NULL, 0},
	};
	const char *dir = getenv("THERMIONIC_DIR");
	if (dir == NULL || dir[0] == '\0') {
		dir = "/var/lib/thermionic";
	}
	enum log_level level = LOG_WARN;
	int opt;
	while ((opt = getopt_long(argc, argv, "d:h", options, NULL)) != -1) {
		switch (opt) {
		case 'd':
			dir = optarg;
			break;
		case OPT_VERBOSE:
			level = LOG_INFO;
			break;
		case OPT_DEBUG:
			level = LOG_DEBUG;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		case OPT_VERSION:
			printf("%s\n", THERMIONIC_VERSION);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "thermionicd: unexpected argument \"%s\"\n%s",
			argv[optind], usage);
		return 2;
	}
	log_set_level(level);
	log_init_from_env();
	if (configure_sqlite() != 0) {
		return 1;
	}
	/* A peer that goes away mid-write must cost an error, not the
	 * process. */
	signal(SIGPIPE, SIG_IGN);

	/* The loop before SQL workers and snapshots (prio.h); threads made
	 * from here on start at the loop's priority, the pool's lower it. */
	if (prio_raise_loop()) {
		LOGD("daemon: the loop runs at nice %d", PRIO_LOOP_NICE);
	} else {
		LOGD("daemon: the loop runs at the process's priority (a higher "
		     "one needs CAP_SYS_NICE, or TM_PRIORITIES=off)");
	}
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct daemon *d;
	char errmsg[TM_ERRMSG_SIZE] = "";
	daemon_init(&d, &loop, dir, errmsg);
	int rv = daemon_start(d, errmsg);
	if (rv != 0) {
		fprintf(stderr, "thermionicd: %s\n", errmsg);
	}
	uv_run(&loop, UV_RUN_DEFAULT);
	int code = rv != 0 ? 1 : daemon_exit_code(d);
	daemon_free(d);
	if (uv_loop_close(&loop) != 0) {
		fprintf(stderr, "thermionicd: handles left open at exit\n");
		code = code != 0 ? code : 1;
	}
	return code;
}

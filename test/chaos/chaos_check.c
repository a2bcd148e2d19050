/* chaos_check: checks a history written by chaos_client and says whether
 * it is consistent (doc/chaos.md). Exit 0 valid, 1 anomalies found, 2
 * could not decide (search budget exceeded, no final read, or a
 * malformed history: the message says where). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test/chaos/check.h"

static const char usage[] =
    "usage: chaos_check --workload register|bank|set --history FILE\n"
    "         [--report FILE.json] [--max-states N] [--max-seconds S]\n"
    "\n"
    "Checks a chaos_client history and prints one summary line, then one\n"
    "line per anomaly. register: every key must be linearizable (reads\n"
    "with consistency none are skipped); bank: every read sums to the\n"
    "total with no negative balance; set: the final read holds every\n"
    "acknowledged add, nothing twice, nothing never added.\n"
    "\n"
    "  --report       also write the verdict as JSON to this file\n"
    "  --max-states   budget of the linearizability search per key\n"
    "                 (default 4000000 states; also bounded to 1 GiB)\n"
    "  --max-seconds  budget of time for the whole search (default 120)\n"
    "\n"
    "Exit status: 0 valid, 1 anomalies found, 2 could not decide (budget\n"
    "exceeded, no final read, malformed history or bad arguments).\n";

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		return NULL;
	}
	size_t cap = 1 << 16;
	char *buf = malloc(cap);
	*len = 0;
	size_t n;
	while ((n = fread(buf + *len, 1, cap - *len, f)) > 0) {
		*len += n;
		if (*len == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
	}
	int err = ferror(f);
	fclose(f);
	if (err) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int write_report(const char *path, const struct chk_report *r)
{
	char *json = chk_report_json(r);
	FILE *f = fopen(path, "w");
	int rv = 0;
	if (f == NULL || fputs(json, f) < 0 || fputc('\n', f) < 0) {
		rv = -1;
	}
	if (f != NULL && fclose(f) != 0) {
		rv = -1;
	}
	if (rv != 0) {
		fprintf(stderr, "chaos_check: %s: %s\n", path, strerror(errno));
	}
	free(json);
	return rv;
}

static void summarise(const struct chk_report *r)
{
	const char *verdict = r->verdict == CHK_VALID	  ? "valid"
			      : r->verdict == CHK_INVALID ? "INVALID"
							  : "unknown";
	printf("%s: %s (%ld ops: %ld ok, %ld fail, %ld info; %zu anomalies)"
	       "%s%s\n",
	       r->workload, verdict, r->ops, r->ok, r->fail, r->info,
	       r->n_anomalies, r->why_unknown ? ": " : "",
	       r->why_unknown ? r->why_unknown : "");
	for (size_t i = 0; i < r->n_anomalies; i++) {
		printf("  %s: %s\n", r->anomalies[i].kind,
		       r->anomalies[i].detail);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"workload", required_argument, NULL, 'w'},
	    {"history", required_argument, NULL, 'H'},
	    {"report", required_argument, NULL, 'r'},
	    {"max-states", required_argument, NULL, 's'},
	    {"max-seconds", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	const char *workload = NULL;
	const char *path = NULL;
	const char *report = NULL;
	struct chk_limits lim = CHK_LIMITS_DEFAULT;
	int o;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'w':
			workload = optarg;
			break;
		case 'H':
			path = optarg;
			break;
		case 'r':
			report = optarg;
			break;
		case 's':
			lim.max_states = atol(optarg);
			break;
		case 't':
			lim.max_seconds = atof(optarg);
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (workload == NULL || path == NULL || optind != argc ||
	    (strcmp(workload, "register") != 0 &&
	     strcmp(workload, "bank") != 0 && strcmp(workload, "set") != 0) ||
	    lim.max_states <= 0 || !(lim.max_seconds > 0)) {
		fputs(usage, stderr);
		return 2;
	}
	struct chk_report r;
	struct chk_history h;
	chk_report_init(&r, NULL, workload);
	size_t len = 0;
	char *text = read_all(path, &len);
	char errmsg[512];
	if (text == NULL) {
		chk_report_unknown(&r, "%s: %s", path, strerror(errno));
	} else if (chk_history_parse(text, len, &h, errmsg, sizeof errmsg) !=
		   0) {
		chk_report_unknown(&r, "%s: malformed history: %s", path,
				   errmsg);
	} else if (h.workload[0] != '\0' && strcmp(h.workload, workload) != 0) {
		chk_report_unknown(&r, "%s is a %s history, not %s", path,
				   h.workload, workload);
		chk_history_free(&h);
	} else {
		chk_report_init(&r, &h, workload);
		if (strcmp(workload, "register") == 0) {
			chk_register(&h, &lim, &r);
		} else if (strcmp(workload, "bank") == 0) {
			chk_bank(&h, &r);
		} else {
			chk_set(&h, &r);
		}
		if (r.ok == 0) {
			/* A run in which nothing succeeded proves nothing. */
			chk_report_unknown(&r, "no operation succeeded");
		}
		chk_history_free(&h);
	}
	free(text);
	summarise(&r);
	int rv = r.verdict == CHK_VALID ? 0 : r.verdict == CHK_INVALID ? 1 : 2;
	if (report != NULL && write_report(report, &r) != 0) {
		rv = 2;
	}
	chk_report_free(&r);
	return rv;
}

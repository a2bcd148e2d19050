/* thermionicd recover: recovery from a lost quorum (doc/clustering.md,
 * "Recovering from a lost quorum").
 *
 * lock DIR (refused while a daemon runs on it) -> read local.db (who this
 * member is, its member list) and the raft log (from a copy) -> ask every
 * other member whether it answers -> without an action: show it all;
 * with one: make the plan, refuse while a member left out answers, show
 * the plan and stop unless --yes -> back up -> raft_recover -> update the
 * local member list (and this member's address if --address named it). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "cmd/therm/output.h"
#include "cmd/thermionicd/recover.h"
#include "internal/lib/err.h"
#include "internal/lib/fs.h"
#include "internal/lib/mem.h"

static const char usage[] =
    "Usage: thermionicd recover --dir DIR [--format table|json|yaml]\n"
    "       thermionicd recover --dir DIR [--survivors NAME[,NAME...]]\n"
    "                           [--address NAME=HOST:PORT ...] [--yes]\n"
    "\n"
    "Recover a cluster that lost its quorum, on a member whose daemon is\n"
    "stopped (refused while a thermionicd runs on DIR).\n"
    "\n"
    "Without --survivors, --address or --yes, only show this member's\n"
    "name and id, the last index and term of its raft log (and of its\n"
    "snapshot), the raft configuration it has, and whether each other\n"
    "member answers now (HTTPS, 2 s at most). Nothing is changed. Run it\n"
    "on every surviving member and pick the one with the highest last\n"
    "term, then last index.\n"
    "\n"
    "With an action, force a new raft configuration made of the\n"
    "survivors, all voters:\n"
    "  1. refused if a member that is not among the survivors answers\n"
    "     (recovering then would split the cluster);\n"
    "  2. DIR/global and DIR/local.db are copied to\n"
    "     DIR/recover-backup-TIMESTAMP/ (fsync'd) first;\n"
    "  3. the configuration is appended to this member's raft log, and\n"
    "     the local member list (and this member's core.https_address if\n"
    "     --address names it) updated.\n"
    "Run it with the same --survivors and --address on every survivor\n"
    "(the order of the names does not matter), then start them. Name\n"
    "several survivors only if their last index and term are the same\n"
    "(the longest log wins the next election); otherwise recover the most\n"
    "up-to-date one alone and have the others join again. The lost\n"
    "members stay in the member list, OFFLINE, until removed with\n"
    "`therm cluster remove --force NAME`; new members join by token.\n"
    "\n"
    "Options:\n"
    "  -d, --dir DIR              the member's state directory (required)\n"
    "      --survivors NAMES      members that survive, comma-separated;\n"
    "                             must include this member (default: this\n"
    "                             member alone)\n"
    "      --address NAME=HOST:PORT\n"
    "                             a survivor's new address (repeatable);\n"
    "                             for this member it also sets its\n"
    "                             core.https_address. Usable without a\n"
    "                             quorum loss: name every member survivor\n"
    "      --yes                  do it (without it: show the plan and\n"
    "                             exit 1, nothing changed)\n"
    "  -f, --format FORMAT        table (default), json or yaml\n"
    "  -h, --help                 show this help\n"
    "\n"
    "Exit status: 0 done (or shown), 1 refused or failed, 2 bad usage.\n";

static int usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	fputs("thermionicd recover: ", stderr);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(see thermionicd recover --help)\n", stderr);
	return 2;
}

static int parse_move(struct recover_opts *o, char *arg)
{
	char *eq = strchr(arg, '=');
	if (eq == NULL || eq == arg || eq[1] == '\0') {
		return usage_error("--address takes NAME=HOST:PORT, not \"%s\"",
				   arg);
	}
	if (o->n_moves == RECOVER_MAX_MOVES) {
		return usage_error("too many --address options");
	}
	*eq = '\0';
	o->moves[o->n_moves++] = (struct recover_move){arg, eq + 1};
	return 0;
}

static int parse(int argc, char *argv[], struct recover_opts *o)
{
	enum { OPT_SURVIVORS = 256, OPT_ADDRESS, OPT_YES };
	static const struct option options[] = {
	    {"dir", required_argument, NULL, 'd'},
	    {"survivors", required_argument, NULL, OPT_SURVIVORS},
	    {"address", required_argument, NULL, OPT_ADDRESS},
	    {"yes", no_argument, NULL, OPT_YES},
	    {"format", required_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	o->format = THERM_FORMAT_TABLE;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "d:f:h", options, NULL)) != -1) {
		int rv = 0;
		switch (opt) {
		case 'd':
			o->dir = optarg;
			break;
		case OPT_SURVIVORS:
			o->survivors = optarg;
			break;
		case OPT_ADDRESS:
			rv = parse_move(o, optarg);
			break;
		case OPT_YES:
			o->yes = true;
			break;
		case 'f':
			if (therm_format_parse(optarg, &o->format) != 0 ||
			    (o->format & THERM_FORMATS_OBJECT) == 0) {
				rv = usage_error("--format is table, json or "
						 "yaml, not \"%s\"",
						 optarg);
			}
			break;
		case 'h':
			fputs(usage, stdout);
			return -1;
		default:
			return usage_error("%s", "bad option");
		}
		if (rv != 0) {
			return rv;
		}
	}
	if (optind < argc) {
		return usage_error("unexpected argument \"%s\"", argv[optind]);
	}
	if (o->dir == NULL) {
		return usage_error("%s", "--dir DIR is required: the state "
					 "directory of the member to recover");
	}
	return 0;
}

/* Held until the process exits: no daemon can start on DIR meanwhile. */
static int lock_dir(const char *dir)
{
	char *local = tm_asprintf("%s/%s", dir, NODEDB_FILE);
	bool ok = fs_exists(local);
	tm_free(local);
	if (!ok) {
		fprintf(stderr,
			"thermionicd recover: %s is no member's state "
			"directory (it holds no %s)\n",
			dir, NODEDB_FILE);
		return 1;
	}
	char *path = tm_asprintf("%s/daemon.lock", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "thermionicd recover: open %s: %s\n", path,
			strerror(errno));
		tm_free(path);
		return 1;
	}
	tm_free(path);
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		fprintf(stderr,
			"thermionicd recover: a thermionicd is running with "
			"state directory %s: stop it first (the recovery "
			"works on a stopped member)\n",
			dir);
		close(fd);
		return 1;
	}
	return 0; /* fd stays open: the lock lasts until exit */
}

static int load_local(struct recover_state *s, char *errmsg)
{
	struct nodedb *db;
	int rv = nodedb_open(s->dir, &db, errmsg);
	if (rv != 0) {
		return rv;
	}
	bool found = false;
	cJSON *config = NULL;
	rv = nodedb_member_get(db, &s->self, &found);
	if (rv == 0) {
		rv = nodedb_raft_nodes_get(db, &s->list, &s->n_list);
	}
	if (rv == 0) {
		rv = nodedb_config_load(db, &config);
	}
	if (rv != 0) {
		tm_errmsg_printf(errmsg, "%s", nodedb_errmsg(db));
	} else if (!found || !s->self.clustered) {
		tm_errmsg_printf(errmsg,
				 "this member is not part of a cluster: "
				 "nothing to recover");
		rv = TM_INVALID;
	}
	const cJSON *a =
	    cJSON_GetObjectItemCaseSensitive(config, "core.https_address");
	if (cJSON_IsString(a)) {
		s->self_address = tm_strdup(a->valuestring);
	}
	cJSON_Delete(config);
	nodedb_close(db);
	return rv;
}

int recover_print(FILE *out, enum therm_format format, const cJSON *report,
		  const char *members_key)
{
	char errmsg[TM_ERRMSG_SIZE] = "";
	if (format != THERM_FORMAT_TABLE) {
		return format == THERM_FORMAT_JSON
			   ? therm_json_write(out, report)
			   : therm_yaml_write(out, report, errmsg);
	}
	/* The plan's rows have the first four only. */
	static const struct therm_column cols[] = {
	    {"NAME", "name", THERM_CELL_TEXT},
	    {"ID", "id", THERM_CELL_TEXT},
	    {"ADDRESS", "address", THERM_CELL_TEXT},
	    {"ROLE", "role", THERM_CELL_TEXT},
	    {"ANSWERS", "answers", THERM_CELL_TEXT},
	    {"PROBE", "probe", THERM_CELL_TEXT},
	};
	size_t n_cols = strcmp(members_key, "members") == 0 ? 6 : 4;
	cJSON *head = cJSON_Duplicate(report, true);
	cJSON *rows = cJSON_DetachItemFromObject(head, members_key);
	int rv = therm_print_object(out, format, head, errmsg);
	if (rv == 0 && rows != NULL) {
		fprintf(out, "\n%s:\n", members_key);
		rv = therm_print_list(out, format, cols, n_cols, rows, errmsg);
	}
	cJSON_Delete(rows);
	cJSON_Delete(head);
	return rv;
}

int recover_main(int argc, char *argv[])
{
	struct recover_opts o = {0};
	int rv = parse(argc, argv, &o);
	if (rv != 0) {
		return rv < 0 ? 0 : rv;
	}
	if (lock_dir(o.dir) != 0) {
		return 1;
	}
	struct recover_state s = {.dir = o.dir};
	char errmsg[TM_ERRMSG_SIZE] = "";
	rv = load_local(&s, errmsg);
	if (rv == 0) {
		rv = recover_log_read(o.dir, &s.log, errmsg);
	}
	if (rv != 0) {
		fprintf(stderr, "thermionicd recover: %s\n", errmsg);
		recover_state_clear(&s);
		return 1;
	}
	recover_state_probe(&s);
	if (o.survivors == NULL && o.n_moves == 0 && !o.yes) {
		cJSON *report = recover_report(&s);
		rv = recover_print(stdout, o.format, report, "members");
		cJSON_Delete(report);
		recover_state_clear(&s);
		return rv == 0 ? 0 : 1;
	}
	rv = recover_act(&s, &o);
	recover_state_clear(&s);
	return rv;
}

/* thermionicd recover: recovery from a lost quorum, offline. */
#ifndef THERMIONICD_RECOVER_H
#define THERMIONICD_RECOVER_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include <stdio.h>

#include "cmd/therm/output.h"
#include "internal/recover/recover.h"

#define RECOVER_MAX_MOVES 64

/* The command line (recover.c). */
struct recover_opts {
	const char *dir;
	const char *survivors;
	struct recover_move moves[RECOVER_MAX_MOVES];
	size_t n_moves;
	bool yes;
	enum therm_format format;
};

/* The recover subcommand; ARGV[0] is "recover". Returns the exit code. */
int recover_main(int argc, char *argv[]);

/* What this member knows, for showing and for the plan
 * (recover_report.c). */
struct recover_state {
	const char *dir;
	struct nodedb_member self;
	char *self_address; /* core.https_address; owned */
	struct nodedb_raft_node *list;
	size_t n_list;
	struct recover_log log;
	struct recover_probe *probes; /* one per other member's address */
	size_t n_probes;
};

/* Probe every address of the other members (list and configuration). */
void recover_state_probe(struct recover_state *s);
/* The probe of ADDRESS, or NULL if it was not probed. */
const struct recover_probe *
recover_state_probe_of(const struct recover_state *s, const char *address);
void recover_state_clear(struct recover_state *s);

/* The report of `recover --dir DIR`: member, log, configuration (with
 * each other member's answer). Owned by the caller. */
cJSON *recover_report(const struct recover_state *s);
/* Members of the configuration as rows for a table. Owned. */
cJSON *recover_report_members(const struct recover_state *s);

/* Print REPORT; in a table, its MEMBERS_KEY array as a table after the
 * other fields. 0 or TM_IO. */
int recover_print(FILE *out, enum therm_format format, const cJSON *report,
		  const char *members_key);

/* With an action (recover_act.c): plan, refuse, back up, recover.
 * Returns the exit code. */
int recover_act(struct recover_state *s, const struct recover_opts *o);

#endif /* THERMIONICD_RECOVER_H */

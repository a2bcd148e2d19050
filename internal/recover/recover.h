/* Recovery from a lost quorum (`thermionicd recover`, doc/clustering.md,
 * "Recovering from a lost quorum").
 *
 * Everything here runs offline, in the recover command, while the daemon
 * is stopped (the command holds DIR/daemon.lock), and blocks:
 *
 *   recover_log_read   this member's raft state, read from a copy of
 *                      DIR/global so that the log itself is never changed
 *   recover_probe_all  whether the other members answer on HTTPS now
 *   recover_plan_make  the new configuration from --survivors and
 *                      --address (pure: unit-tested)
 *   recover_backup     DIR/global and DIR/local.db copied, fsync'd, into
 *                      DIR/recover-backup-TIMESTAMP/
 *   recover_apply      raft_recover on DIR/global with the new
 *                      configuration (one entry appended, nothing removed)
 *
 * Functions return 0 or a TM_* code with ERRMSG (TM_ERRMSG_SIZE bytes). */
#ifndef TM_RECOVER_H
#define TM_RECOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <raft.h>

#include "internal/db/node/nodedb.h"

/* ---- the log ---- */

struct recover_log {
	raft_term term;		   /* current term, from the metadata */
	raft_id voted_for;	   /* 0: none */
	raft_index first_index;	   /* of the entries after the snapshot */
	raft_index last_index;	   /* last entry (the snapshot's if none) */
	raft_term last_term;	   /* term of that entry */
	raft_index snapshot_index; /* 0: no snapshot */
	raft_term snapshot_term;
	raft_index watermark; /* DIR/global/watermark (storage.md) */
	/* The configuration in force on this member: the last one in the
	 * log, else the snapshot's. CONF_INDEX is the entry it comes from. */
	raft_index conf_index;
	struct raft_configuration conf; /* owned: recover_log_clear */
};

/* Read DIR/global: the closed segments are checked (segcheck.h), then the
 * directory is copied to DIR/recover-inspect.XXXXXX, loaded there with
 * raft's own loader (which finalizes open segments: only the copy is
 * touched) and the copy removed. OUT is zeroed first. */
int recover_log_read(const char *dir, struct recover_log *out, char *errmsg);
void recover_log_clear(struct recover_log *log);

/* Decode a configuration entry's payload (raft 0.15's encoding, see
 * conf.c) into OUT (initialized here; raft_configuration_close it).
 * TM_CORRUPT on malformed bytes. */
int recover_conf_decode(const void *buf, size_t len,
			struct raft_configuration *out, char *errmsg);

/* ---- the other members ---- */

struct recover_probe {
	const char *address; /* borrowed, "host:port" */
	bool answers;	     /* an HTTP answer came back */
	char problem[128];   /* why not, when it did not */
};

/* GET https://ADDRESS/1.0 for each of the N probes at once, presenting
 * DIR/server.crt, each given up after TIMEOUT_MS. Any HTTP answer counts
 * as "answers". */
void recover_probe_all(const char *dir, struct recover_probe *probes, size_t n,
		       long timeout_ms);

/* ---- the plan ---- */

/* A new address for a member: --address NAME=HOST:PORT. */
struct recover_move {
	const char *name;    /* borrowed */
	const char *address; /* borrowed */
};

struct recover_plan {
	/* Survivors, all voters, at their (new) addresses; owned. */
	struct raft_configuration conf;
	/* The local member list after recovery: the survivors with their
	 * names and fingerprints; owned (nodedb_raft_nodes_free). */
	struct nodedb_raft_node *nodes;
	size_t n_nodes;
	/* Members of the old configuration or list left out; owned. */
	struct nodedb_raft_node *lost;
	size_t n_lost;
	/* This member's new address, if --address named it; owned. */
	char *self_address;
};

/* From this member's id SELF, its local list (LIST, N_LIST), the
 * configuration in force (CONF), SURVIVORS ("a,b,c"; NULL: this member
 * alone) and MOVES: the plan. TM_INVALID with a message naming the
 * problem: an unknown or repeated name, this member not among the
 * survivors, a bad address or one that is another member's. */
int recover_plan_make(uint64_t self, const struct nodedb_raft_node *list,
		      size_t n_list, const struct raft_configuration *conf,
		      const char *survivors, const struct recover_move *moves,
		      size_t n_moves, struct recover_plan *out, char *errmsg);
void recover_plan_clear(struct recover_plan *plan);

/* ---- the changes ---- */

/* Copy DIR/global and DIR/local.db into DIR/recover-backup-TIMESTAMP/
 * (UTC, seconds), every file and directory fsync'd. *PATH owned. */
int recover_backup(const char *dir, char **path, char *errmsg);

/* Copy the tree SRC (regular files and directories) to DST, which must
 * not exist, fsyncing every file and directory. */
int recover_copy_tree(const char *src, const char *dst, char *errmsg);

/* Append CONF to DIR/global as the configuration in force (raft_recover):
 * at the next start raft uses it. */
int recover_apply(const char *dir, const struct raft_configuration *conf,
		  char *errmsg);

#endif /* TM_RECOVER_H */

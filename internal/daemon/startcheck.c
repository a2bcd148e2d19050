/* Start-up checks of the state directory, run under the daemon's lock,
 * before anything in it is opened or created.
 *
 * - DIR/backup-* and DIR/snapshot-copy-* files are what a backup or a
 *   snapshot leaves behind when the process dies mid-copy (the normal
 *   paths unlink them at once): removed, logged.
 * - DIR/local.db missing, empty, or holding no raft member while
 *   DIR/global holds raft state: refused. Going on would create a new
 *   local database, i.e. a new member with a default address, settings and
 *   trust store, on top of the old member's raft log.
 * - DIR/local.db that cannot be opened (damaged): refused with what to do.
 *
 * Each refusal sets errmsg to "refusing to start: FILE: PROBLEM" and logs
 * what the operator can do. The raft files themselves are checked when
 * raft loads them (internal/raft/raftnode.c, refusal.c). */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal/daemon/daemon_priv.h"
#include "internal/db/node/nodedb.h"
#include "internal/lib/err.h"
#include "internal/lib/fs.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"

static const char *const leftovers[][2] = {
    {"backup-", "a backup"},
    {"snapshot-copy-", "a snapshot"},
};

/* The kind of leftover NAME is, or NULL. */
static const char *leftover_kind(const char *name)
{
	for (size_t i = 0; i < sizeof leftovers / sizeof *leftovers; i++) {
		if (strncmp(name, leftovers[i][0], strlen(leftovers[i][0])) ==
		    0) {
			return leftovers[i][1];
		}
	}
	return NULL;
}

void daemon_remove_backup_leftovers(struct daemon *d)
{
	DIR *dir = opendir(d->dir);
	if (dir == NULL) {
		return;
	}
	struct dirent *e;
	while ((e = readdir(dir)) != NULL) {
		const char *kind = leftover_kind(e->d_name);
		if (kind == NULL) {
			continue;
		}
		char *path = tm_asprintf("%s/%s", d->dir, e->d_name);
		struct stat st;
		if (lstat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			if (unlink(path) == 0) {
				LOGI("daemon: removed %s (%lld bytes), left "
				     "by %s that did not finish",
				     path, (long long)st.st_size, kind);
			} else {
				LOGW("daemon: cannot remove %s, left by %s "
				     "that did not finish: %s",
				     path, kind, strerror(errno));
			}
		}
		tm_free(path);
	}
	closedir(dir);
}

/* Whether DIR/global holds any file: raft metadata, segments, snapshots
 * or the watermark. */
static bool raft_state_exists(struct daemon *d)
{
	char *path = tm_asprintf("%s/global", d->dir);
	DIR *dir = opendir(path);
	tm_free(path);
	if (dir == NULL) {
		return false;
	}
	bool found = false;
	struct dirent *e;
	while (!found && (e = readdir(dir)) != NULL) {
		found = e->d_name[0] != '.';
	}
	closedir(dir);
	return found;
}

/* What to do about a missing or unusable local database. */
static void advise_local_db(struct daemon *d)
{
	char *bak = tm_asprintf("%s/%s", d->dir, NODEDB_BACKUP_FILE);
	bool have_bak = fs_exists(bak);
	LOGE("daemon: what to do: %s/%s holds this member's address, raft "
	     "identity, settings and trust store, and %s/global its raft log. "
	     "Put back a copy of %s taken while the member was stopped%s%s%s. "
	     "Or start this member anew: move %s/global, %s/global.db and "
	     "%s aside, start it, set its address and trust again, and load "
	     "the global data from a 'therm backup' file with 'therm restore "
	     "FILE'.",
	     d->dir, NODEDB_FILE, d->dir, NODEDB_FILE, have_bak ? " (" : "",
	     have_bak ? bak : "",
	     have_bak ? " is a copy made before the last schema update)" : "",
	     d->dir, d->dir, NODEDB_FILE);
	tm_free(bak);
}

int daemon_check_local_db(struct daemon *d, char *errmsg)
{
	if (!raft_state_exists(d)) {
		return 0;
	}
	char *path = tm_asprintf("%s/%s", d->dir, NODEDB_FILE);
	struct stat st;
	const char *problem = NULL;
	if (lstat(path, &st) != 0) {
		problem = errno == ENOENT ? "missing" : strerror(errno);
	} else if (st.st_size == 0) {
		problem = "empty";
	}
	if (problem != NULL) {
		tm_errmsg_printf(errmsg,
				 "refusing to start: %s is %s, but %s/global "
				 "holds this member's raft state",
				 path, problem, d->dir);
		advise_local_db(d);
	}
	tm_free(path);
	return problem != NULL ? TM_CORRUPT : 0;
}

int daemon_check_raft_member(struct daemon *d, char *errmsg)
{
	struct nodedb_raft_node *nodes;
	size_t n;
	if (nodedb_raft_nodes_get(d->nodedb, &nodes, &n) != 0) {
		tm_errmsg_printf(errmsg, "refusing to start: %s/%s: %s", d->dir,
				 NODEDB_FILE, nodedb_errmsg(d->nodedb));
		advise_local_db(d);
		return TM_DB;
	}
	nodedb_raft_nodes_free(nodes, n);
	struct nodedb_member self;
	bool found = false;
	if (nodedb_member_get(d->nodedb, &self, &found) != 0) {
		tm_errmsg_printf(errmsg, "refusing to start: %s/%s: %s", d->dir,
				 NODEDB_FILE, nodedb_errmsg(d->nodedb));
		advise_local_db(d);
		return TM_DB;
	}
	if (n > 0 || found || !raft_state_exists(d)) {
		return 0;
	}
	tm_errmsg_printf(errmsg,
			 "refusing to start: %s/%s names no raft member, but "
			 "%s/global holds this member's raft state",
			 d->dir, NODEDB_FILE, d->dir);
	advise_local_db(d);
	return TM_CORRUPT;
}

void daemon_local_db_failed(struct daemon *d, char *errmsg)
{
	tm_errmsg_wrapf(errmsg, "refusing to start");
	advise_local_db(d);
}

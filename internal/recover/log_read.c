/* Reading this member's raft state without changing it.
 *
 * check closed segments (segcheck) -> copy DIR/global to
 * DIR/recover-inspect.XXXXXX -> raft_uv on the copy: init, load (raft's
 * own loader, the same as at start; it finalizes open segments, in the
 * copy) -> the last entry, the snapshot and the configuration in force ->
 * close raft_uv (a private loop runs until it has) -> remove the copy.
 * Failures: a damaged closed segment, a watermark that cannot be read, a
 * copy that fails (disk full), raft's loader refusing the log. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <raft/uv.h>

#include "internal/lib/err.h"
#include "internal/lib/fs.h"
#include "internal/lib/mem.h"
#include "internal/raft/segcheck.h"
#include "internal/raft/watermark.h"
#include "internal/recover/recover.h"
#include "internal/recover/uvio.h"

/* Any id and address: the copy is only loaded, never started. */
#define INSPECT_ID 1
#define INSPECT_ADDRESS "recover"

static void free_entries(struct raft_entry *entries, size_t n)
{
	void *batch = NULL;
	for (size_t i = 0; i < n; i++) {
		if (entries[i].batch != batch) {
			batch = entries[i].batch;
			raft_free(batch);
		}
	}
	raft_free(entries);
}

static void free_snapshot(struct raft_snapshot *s)
{
	if (s == NULL) {
		return;
	}
	raft_configuration_close(&s->configuration);
	for (unsigned i = 0; i < s->n_bufs; i++) {
		raft_free(s->bufs[i].base);
	}
	raft_free(s->bufs);
	raft_free(s);
}

/* The last configuration entry among ENTRIES, else the snapshot's. */
static int find_conf(struct recover_log *out, const struct raft_snapshot *s,
		     const struct raft_entry *entries, size_t n, char *errmsg)
{
	for (size_t i = n; i > 0; i--) {
		if (entries[i - 1].type == RAFT_CHANGE) {
			out->conf_index = out->first_index + i - 1;
			return recover_conf_decode(entries[i - 1].buf.base,
						   entries[i - 1].buf.len,
						   &out->conf, errmsg);
		}
	}
	raft_configuration_init(&out->conf);
	if (s == NULL) {
		tm_errmsg_printf(errmsg, "the raft log holds no configuration");
		return TM_CORRUPT;
	}
	out->conf_index = s->configuration_index;
	for (unsigned i = 0; i < s->configuration.n; i++) {
		const struct raft_server *srv = &s->configuration.servers[i];
		if (raft_configuration_add(&out->conf, srv->id, srv->address,
					   srv->role) != 0) {
			return TM_NOMEM;
		}
	}
	return 0;
}

/* Load the raft directory COPY with raft_uv on a private loop. */
static int load(const char *copy, struct recover_log *out, char *errmsg)
{
	struct recover_uvio u;
	struct raft_snapshot *snapshot = NULL;
	struct raft_entry *entries = NULL;
	size_t n = 0;
	raft_index start = 0;
	int rv = recover_uvio_open(&u, copy, INSPECT_ID, INSPECT_ADDRESS,
				   errmsg);
	if (rv != 0) {
		recover_uvio_close(&u);
		return rv;
	}
	if (u.io.load(&u.io, &out->term, &out->voted_for, &snapshot, &start,
		      &entries, &n) != 0) {
		tm_errmsg_printf(errmsg, "load the raft log: %s", u.io.errmsg);
		rv = TM_CORRUPT;
	} else {
		out->first_index = n > 0 ? start : 0;
		if (snapshot != NULL) {
			out->snapshot_index = snapshot->index;
			out->snapshot_term = snapshot->term;
		}
		out->last_index = n > 0 ? start + n - 1 : out->snapshot_index;
		out->last_term =
		    n > 0 ? entries[n - 1].term : out->snapshot_term;
		rv = find_conf(out, snapshot, entries, n, errmsg);
	}
	free_entries(entries, n);
	free_snapshot(snapshot);
	recover_uvio_close(&u);
	return rv;
}

int recover_log_read(const char *dir, struct recover_log *out, char *errmsg)
{
	memset(out, 0, sizeof *out);
	raft_configuration_init(&out->conf);
	char *global = tm_asprintf("%s/global", dir);
	char *copy = tm_asprintf("%s/recover-inspect.XXXXXX", dir);
	int rv = fs_exists(global) ? 0 : TM_NOTFOUND;
	if (rv != 0) {
		tm_errmsg_printf(errmsg, "%s does not exist: no raft log",
				 global);
	}
	if (rv == 0) {
		rv = watermark_read(global, &out->watermark, errmsg);
	}
	if (rv == 0) {
		rv = segcheck_closed(global, errmsg);
	}
	if (rv == 0 && mkdtemp(copy) == NULL) {
		tm_errmsg_printf(errmsg, "create %s: %s", copy,
				 strerror(errno));
		rv = TM_IO;
	}
	if (rv == 0) {
		/* mkdtemp made it; recover_copy_tree makes its own. */
		fs_remove_tree(copy, errmsg);
		rv = recover_copy_tree(global, copy, errmsg);
		if (rv == 0) {
			rv = load(copy, out, errmsg);
		}
		char ignored[TM_ERRMSG_SIZE];
		fs_remove_tree(copy, ignored);
	}
	tm_free(global);
	tm_free(copy);
	return rv;
}

void recover_log_clear(struct recover_log *log)
{
	raft_configuration_close(&log->conf);
	raft_configuration_init(&log->conf);
}

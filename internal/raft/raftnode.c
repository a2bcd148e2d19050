/* Lifecycle of the member's raft instance.
 *
 * init:  raft_uv I/O in DIR + our transport + raft_init.
 * start: raft_bootstrap (only succeeds on an empty directory) + raft_start.
 * close: raft_close -> (raft closed) raft_uv_close, transport_free, free,
 *        user callback last. */
#include "internal/raft/raftnode.h"

#include <raft/uv.h>

#include "internal/lib/err.h"
#include "internal/lib/fs.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"
#include "internal/raft/transport.h"

#define RAFTNODE_SEGMENT_SIZE (32 * 1024 * 1024)

struct raftnode {
	struct raft raft;
	struct raft_io io;
	struct raft_uv_transport transport;
	raft_id id;
	char *address;
	bool started;
	void (*close_cb)(void *data);
	void *close_data;
};

int raftnode_init(struct raftnode **out, uv_loop_t *loop, const char *dir,
		  const struct raftnode_options *opts, struct raft_fsm *fsm,
		  char *errmsg)
{
	int rv = fs_ensure_dir(dir, 0700, errmsg);
	if (rv != 0) {
		return rv;
	}
	struct raftnode *n = tm_calloc(1, sizeof *n);
	n->id = opts->id;
	n->address = tm_strdup(opts->address);
	transport_init(&n->transport, loop);
	rv = raft_uv_init(&n->io, loop, dir, &n->transport);
	if (rv != 0) {
		tm_errmsg_printf(errmsg, "raft I/O in %s: %s", dir,
				 n->io.errmsg);
		goto err_after_transport;
	}
	/* An entry must fit in one segment: 32 MiB leaves room for the
	 * largest default request body (8 MiB) and a restored image. */
	raft_uv_set_segment_size(&n->io, RAFTNODE_SEGMENT_SIZE);
	rv = raft_init(&n->raft, &n->io, fsm, n->id, n->address);
	if (rv != 0) {
		tm_errmsg_printf(errmsg, "raft: %s", raft_errmsg(&n->raft));
		goto err_after_io;
	}
	raftnode_set_snapshot(n, opts->snapshot_threshold,
			      opts->snapshot_trailing);
	*out = n;
	return 0;

err_after_io:
	raft_uv_close(&n->io);
err_after_transport:
	transport_free(&n->transport);
	tm_free(n->address);
	tm_free(n);
	return TM_IO;
}

void raftnode_set_snapshot(struct raftnode *n, unsigned threshold,
			   unsigned trailing)
{
	raft_set_snapshot_threshold(&n->raft, threshold);
	raft_set_snapshot_trailing(&n->raft, trailing);
}

int raftnode_start(struct raftnode *n, char *errmsg)
{
	struct raft_configuration conf;
	raft_configuration_init(&conf);
	int rv = raft_configuration_add(&conf, n->id, n->address, RAFT_VOTER);
	if (rv == 0) {
		rv = raft_bootstrap(&n->raft, &conf);
		if (rv == 0) {
			LOGI("raft: bootstrapped as the single voter (id %llu)",
			     (unsigned long long)n->id);
		} else if (rv == RAFT_CANTBOOTSTRAP) {
			rv = 0; /* existing state: recover it */
		}
	}
	raft_configuration_close(&conf);
	if (rv != 0) {
		tm_errmsg_printf(errmsg, "raft bootstrap: %s",
				 raft_errmsg(&n->raft));
		return TM_IO;
	}
	rv = raft_start(&n->raft);
	if (rv != 0) {
		tm_errmsg_printf(errmsg, "raft start: %s",
				 raft_errmsg(&n->raft));
		return TM_IO;
	}
	n->started = true;
	return 0;
}

struct raft *raftnode_raft(struct raftnode *n)
{
	return &n->raft;
}

static void raft_closed_cb(struct raft *r)
{
	struct raftnode *n = r->data;
	void (*cb)(void *data) = n->close_cb;
	void *data = n->close_data;
	raft_uv_close(&n->io);
	transport_free(&n->transport);
	tm_free(n->address);
	tm_free(n);
	if (cb != NULL) {
		cb(data);
	}
}

void raftnode_close(struct raftnode *n, void (*cb)(void *data), void *data)
{
	n->close_cb = cb;
	n->close_data = data;
	n->raft.data = n;
	raft_close(&n->raft, raft_closed_cb);
}

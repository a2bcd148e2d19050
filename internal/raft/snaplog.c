/* Logging the snapshots raft stores: see snaplog.h. */
#include "internal/raft/snaplog.h"

#include <string.h>
#include <time.h>

#include "internal/lib/log.h"
#include "internal/lib/mem.h"

struct put {
	struct raft_io_snapshot_put req; /* ours, handed to raft_uv */
	struct raft_io_snapshot_put *raft_req;
	raft_io_snapshot_put_cb raft_cb;
	struct raft_io *io;
	unsigned long long index;
	size_t bytes;
	bool install; /* sent by the leader, not taken here */
	double started;
};

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static const char *what(const struct put *p)
{
	return p->install ? "installing the snapshot received"
			  : "storing the snapshot taken";
}

static void put_cb(struct raft_io_snapshot_put *req, int status)
{
	struct put *p = req->data;
	if (status != 0) {
		LOGE("raft: %s at index %llu (%zu bytes) failed: %s%s%s; the "
		     "log keeps every entry until a snapshot is stored",
		     what(p), p->index, p->bytes, raft_strerror(status),
		     p->io->errmsg[0] != '\0' ? ": " : "", p->io->errmsg);
	} else {
		LOGD("raft: %s at index %llu (%zu bytes): %.1f ms", what(p),
		     p->index, p->bytes, now_ms() - p->started);
	}
	struct raft_io_snapshot_put *raft_req = p->raft_req;
	raft_io_snapshot_put_cb cb = p->raft_cb;
	tm_free(p);
	if (cb != NULL) {
		cb(raft_req, status);
	}
}

int snaplog_put(snaplog_put_fn put, struct raft_io *io, unsigned trailing,
		struct raft_io_snapshot_put *req,
		const struct raft_snapshot *snapshot,
		raft_io_snapshot_put_cb cb)
{
	struct put *p = tm_calloc(1, sizeof *p);
	p->req.data = p;
	p->raft_req = req;
	p->raft_cb = cb;
	p->io = io;
	p->index = (unsigned long long)snapshot->index;
	for (unsigned i = 0; i < snapshot->n_bufs; i++) {
		p->bytes += snapshot->bufs[i].len;
	}
	p->install = trailing == 0;
	p->started = now_ms();
	req->cb = cb; /* as raft_uv would have set it */
	io->errmsg[0] = '\0';
	int rv = put(io, trailing, &p->req, snapshot, put_cb);
	if (rv != 0) {
		LOGE("raft: %s at index %llu (%zu bytes) could not start: "
		     "%s%s%s",
		     what(p), p->index, p->bytes, raft_strerror(rv),
		     io->errmsg[0] != '\0' ? ": " : "", io->errmsg);
		tm_free(p);
	}
	return rv;
}

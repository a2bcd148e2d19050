/* raft_uv on a raft directory, on a private loop, for recover's offline
 * reading and writing (log_read.c, apply.c). */
#ifndef TM_RECOVER_UVIO_H
#define TM_RECOVER_UVIO_H

#include <stdbool.h>

#include <raft.h>
#include <raft/uv.h>
#include <uv.h>

struct recover_uvio {
	uv_loop_t loop;
	struct raft_uv_transport transport;
	struct raft_io io;
	bool opened; /* raft_uv_init succeeded */
	bool inited; /* io.init succeeded */
};

/* raft_uv on DIR (auto-recovery off), then io.init as ID at ADDRESS: 0,
 * or TM_IO with ERRMSG. recover_uvio_close in either case. */
int recover_uvio_open(struct recover_uvio *u, const char *dir, raft_id id,
		      const char *address, char *errmsg);
void recover_uvio_close(struct recover_uvio *u);

#endif

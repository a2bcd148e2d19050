/* raft_uv on a private loop (uvio.h). */
#include "internal/recover/uvio.h"

#include "internal/lib/err.h"
#include "internal/raft/transport.h"

static void closed_cb(struct raft_io *io) { (void)io; }

int recover_uvio_open(struct recover_uvio *u, const char *dir, raft_id id,
		      const char *address, char *errmsg)
{
	u->opened = false;
	u->inited = false;
	uv_loop_init(&u->loop);
	transport_init(&u->transport, &u->loop, NULL);
	int rv = raft_uv_init(&u->io, &u->loop, dir, &u->transport);
	if (rv != 0) {
		tm_errmsg_printf(errmsg, "raft I/O: %s", u->io.errmsg);
		transport_free(&u->transport);
		uv_loop_close(&u->loop);
		return TM_IO;
	}
	u->opened = true;
	raft_uv_set_auto_recovery(&u->io, false);
	if (u->io.init(&u->io, id, address) != 0) {
		tm_errmsg_printf(errmsg, "raft I/O: %s", u->io.errmsg);
		return TM_IO;
	}
	u->inited = true;
	return 0;
}

void recover_uvio_close(struct recover_uvio *u)
{
	if (!u->opened) {
		return;
	}
	if (u->inited) {
		u->io.close(&u->io, closed_cb);
		uv_run(&u->loop, UV_RUN_DEFAULT);
	}
	raft_uv_close(&u->io);
	transport_free(&u->transport);
	uv_run(&u->loop, UV_RUN_DEFAULT);
	uv_loop_close(&u->loop);
}

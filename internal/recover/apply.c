/* The new configuration, written: raft_uv on DIR/global, init, then
 * raft's recover (it loads the log, finalizing an open segment as a start
 * would, and appends one closed segment holding the configuration entry;
 * nothing is removed or truncated), then close on a private loop. */
#include <stdbool.h>

#include <raft/uv.h>
#include <uv.h>

#include "internal/lib/assert.h"
#include "internal/lib/err.h"
#include "internal/lib/mem.h"
#include "internal/raft/transport.h"
#include "internal/recover/recover.h"

static void closed_cb(struct raft_io *io) { (void)io; }

int recover_apply(const char *dir, const struct raft_configuration *conf,
		  char *errmsg)
{
	PRE(conf->n > 0);
	char *global = tm_asprintf("%s/global", dir);
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct raft_uv_transport transport;
	struct raft_io io;
	transport_init(&transport, &loop, NULL);
	int rv = raft_uv_init(&io, &loop, global, &transport);
	tm_free(global);
	if (rv != 0) {
		tm_errmsg_printf(errmsg, "raft I/O: %s", io.errmsg);
		transport_free(&transport);
		uv_loop_close(&loop);
		return TM_IO;
	}
	raft_uv_set_auto_recovery(&io, false);
	bool inited = false;
	rv = io.init(&io, conf->servers[0].id, conf->servers[0].address);
	if (rv == 0) {
		inited = true;
		rv = io.recover(&io, conf);
	}
	if (rv != 0) {
		tm_errmsg_printf(errmsg, "raft recover: %s", io.errmsg);
		rv = TM_IO;
	}
	if (inited) {
		io.close(&io, closed_cb);
		uv_run(&loop, UV_RUN_DEFAULT);
	}
	raft_uv_close(&io);
	transport_free(&transport);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	return rv;
}

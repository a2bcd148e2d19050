/* The new configuration, written: raft_uv on DIR/global, init, then
 * raft's recover (it loads the log, finalizing an open segment as a start
 * would, and appends one closed segment holding the configuration entry;
 * nothing is removed or truncated), then close on a private loop. */
#include <stdbool.h>

#include <raft/uv.h>

#include "internal/lib/assert.h"
#include "internal/lib/err.h"
#include "internal/lib/mem.h"
#include "internal/recover/recover.h"
#include "internal/recover/uvio.h"

int recover_apply(const char *dir, const struct raft_configuration *conf,
		  char *errmsg)
{
	PRE(conf->n > 0);
	char *global = tm_asprintf("%s/global", dir);
	struct recover_uvio u;
	int rv = recover_uvio_open(&u, global, conf->servers[0].id,
				   conf->servers[0].address, errmsg);
	tm_free(global);
	if (rv == 0 && u.io.recover(&u.io, conf) != 0) {
		tm_errmsg_printf(errmsg, "raft recover: %s", u.io.errmsg);
		rv = TM_IO;
	}
	recover_uvio_close(&u);
	return rv;
}

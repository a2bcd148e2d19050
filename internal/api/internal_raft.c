/* GET /internal/raft: another member opens a raft connection
 * (doc/raft-transport.md). The transport does the checking. */
#include "internal/api/api.h"
#include "internal/daemon/daemon.h"
#include "internal/raft/transport.h"

void api_internal_raft_get(struct rest_request *req)
{
	struct daemon *d = rest_server_data(req);
	struct raft_uv_transport *t = daemon_raft_transport(d);
	if (t == NULL) {
		rest_respond_error(req, 503,
				   "raft is not running on this member");
		return;
	}
	transport_accept(t, req);
}

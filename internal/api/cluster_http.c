/* The HTTP side of cluster operations: status codes, and requests that
 * need the raft leader relayed to it from a follower
 * (internal/api/forward.h). */
#include "internal/api/api.h"
#include "internal/api/cluster_http.h"
#include "internal/api/forward.h"
#include "internal/daemon/cluster.h"
#include "internal/daemon/daemon.h"

int api_cluster_http_status(int status)
{
	switch (status) {
	case TM_INVALID:
	case TM_PROTO:
		return 400;
	case TM_PERM:
		return 403;
	case TM_NOTFOUND:
		return 404;
	case TM_EXISTS:
	case TM_CONFLICT:
		return 409;
	case TM_BUSY:
	case TM_NOTLEADER:
	case TM_SHUTDOWN:
	case TM_CANCELED:
		return 503;
	case TM_TIMEOUT:
		return 504;
	case TM_NOSPACE:
		return 507;
	default:
		return 500;
	}
}

bool api_to_leader(struct rest_request *req)
{
	struct daemon *d = rest_server_data(req);
	if (!cluster_follows(d) || api_forwarded(req) ||
	    daemon_hclient(d) == NULL) {
		return false;
	}
	const char *leader = cluster_leader_address(d);
	if (leader == NULL) {
		rest_respond_error(req, 503,
				   "no leader known: this member is part of a "
				   "cluster but has not heard from a leader "
				   "(an election may be under way, or too few "
				   "members are reachable); retry shortly");
		return true;
	}
	api_forward(req, daemon_hclient(d), leader, cluster_fingerprint(d),
		    cluster_member_name(d));
	return true;
}

void api_cluster_fail(struct rest_request *req, int status,
		      const char *errmsg)
{
	if (status == TM_NOTLEADER && api_to_leader(req)) {
		return;
	}
	rest_respond_error(req, api_cluster_http_status(status), "%s",
			   errmsg);
}


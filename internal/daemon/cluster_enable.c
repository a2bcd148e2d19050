/* Enable: a standalone member becomes a cluster of one.
 *
 * checks -> new cluster certificate (DIR/cluster.crt, cluster.key) -> one
 * replicated write: this member's row in members and its certificate in
 * certificates -> local identity (clustered, name) and member list ->
 * the HTTPS port serves the cluster certificate -> the global part
 * restarts with raft's configuration recovered to this member at its
 * real address (it recorded "standalone", or the address of its first
 * start). */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal/api/api.h"
#include "internal/config/config.h"
#include "internal/daemon/cluster_internal.h"
#include "internal/daemon/daemon_priv.h"
#include "internal/db/cluster/gdb.h"
#include "internal/db/cluster/global_schema.h"
#include "internal/db/schema/schema.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"
#include "internal/membership/name.h"
#include "internal/tls/tls.h"

struct enable {
	struct daemon *d;
	cluster_done_cb cb;
	void *arg;
	char name[MEMBER_NAME_MAX + 1];
	char *address;
	struct gdb_request req;
	struct gdb_stmt stmts[2];
	struct gdb_value member[6];
	struct gdb_value cert[4];
};

int cluster_api_extensions(void)
{
	int n = 0;
	while (api_extensions[n] != NULL) {
		n++;
	}
	return n;
}

/* An address other members can reach: not a wildcard. */
int cluster_check_address(const char *address, char *errmsg)
{
	if (address[0] == '\0') {
		tm_errmsg_printf(errmsg,
				 "core.https_address is not set: the other "
				 "members need an address to reach this one; "
				 "set it first with: therm config set "
				 "core.https_address HOST:PORT");
		return TM_INVALID;
	}
	if (strncmp(address, "0.0.0.0:", 8) == 0 ||
	    strncmp(address, "[::]:", 5) == 0) {
		tm_errmsg_printf(errmsg,
				 "core.https_address %s listens on every "
				 "interface, which is no address the other "
				 "members can reach; set the member's own "
				 "address, e.g. therm config set "
				 "core.https_address 10.0.0.1:8443",
				 address);
		return TM_INVALID;
	}
	return 0;
}

static void enable_free(struct enable *e)
{
	e->d->enabling = false;
	gdb_request_clear(&e->req);
	tm_free(e->address);
	tm_free(e);
}

static void ready(struct daemon *d, void *arg, int status, const char *errmsg)
{
	struct enable *e = arg;
	if (status == 0) {
		LOGI("cluster: enabled, this member is %s at %s", d->self.name,
		     e->address);
	}
	e->cb(e->arg, status, errmsg);
	enable_free(e);
}

/* Answer once the member is READY again, so that what the client sends
 * next (cluster add) finds it serving. */
static void reopened(struct daemon *d, void *arg, int status,
		     const char *errmsg)
{
	if (status != 0) {
		ready(d, arg, status, errmsg);
		return;
	}
	daemon_when_ready(d, ready, arg);
}

static int nothing_to_prepare(struct daemon *d, void *arg, char *errmsg)
{
	(void)d;
	(void)arg;
	(void)errmsg;
	return 0;
}

static void written(struct gdb_request *req, int status)
{
	struct enable *e = req->data;
	struct daemon *d = e->d;
	char errmsg[TM_ERRMSG_SIZE];
	if (status != 0) {
		e->cb(e->arg, status, req->errmsg);
		enable_free(e);
		return;
	}
	struct nodedb_member self = d->self;
	snprintf(self.name, sizeof self.name, "%s", e->name);
	self.clustered = true;
	struct nodedb_raft_node node = {
	    .id = self.id,
	    .address = e->address,
	    .role = RAFT_VOTER,
	    .name = e->name,
	    .fingerprint = d->fingerprint,
	};
	if (nodedb_raft_nodes_replace(d->nodedb, &node, 1) != 0 ||
	    nodedb_member_set(d->nodedb, &self) != 0) {
		tm_errmsg_printf(errmsg, "store identity: %s",
				 nodedb_errmsg(d->nodedb));
		e->cb(e->arg, TM_DB, errmsg);
		enable_free(e);
		return;
	}
	d->self = self;
	cluster_load_fingerprints(d);
	if (cluster_use_certificate(d, errmsg) != 0) {
		/* The member row is written: report it; the next start
		 * refuses with what to do. */
		LOGE("cluster: %s", errmsg);
		e->cb(e->arg, TM_TLS, errmsg);
		enable_free(e);
		return;
	}
	d->phase = CLUSTER_MEMBER;
	d->recover_at_open = true;
	cluster_reopen(d, nothing_to_prepare, reopened, e);
}

static int new_certificate(struct daemon *d, char *errmsg)
{
	char *cert = tm_asprintf("%s/cluster.crt", d->dir);
	char *key = tm_asprintf("%s/cluster.key", d->dir);
	/* Left by an earlier cluster this member was removed from. */
	unlink(cert);
	unlink(key);
	int rv =
	    tls_ensure_keypair(cert, key, "thermionic cluster", true, errmsg);
	tm_free(key);
	tm_free(cert);
	return rv;
}

int cluster_enable(struct daemon *d, const char *name, cluster_done_cb cb,
		   void *arg, char *errmsg)
{
	if (d->self.clustered || d->phase != CLUSTER_STANDALONE) {
		tm_errmsg_printf(errmsg,
				 "this member is already part of a cluster, "
				 "as \"%s\"",
				 d->self.name);
		return TM_EXISTS;
	}
	if (d->state != DAEMON_READY || d->gdb == NULL || d->enabling) {
		tm_errmsg_printf(errmsg, d->enabling
					     ? "clustering is being enabled "
					       "already"
					     : "the member is not ready yet");
		return TM_BUSY;
	}
	int rv = member_name_check(name, errmsg);
	if (rv == 0) {
		rv = cluster_check_address(
		    config_get(d->config, "core.https_address"), errmsg);
	}
	if (rv == 0) {
		rv = new_certificate(d, errmsg);
	}
	if (rv != 0) {
		return rv;
	}
	struct enable *e = tm_calloc(1, sizeof *e);
	e->d = d;
	d->enabling = true;
	e->cb = cb;
	e->arg = arg;
	snprintf(e->name, sizeof e->name, "%s", name);
	e->address = tm_strdup(config_get(d->config, "core.https_address"));
	cluster_int(&e->member[0], (int64_t)d->self.id);
	cluster_text(&e->member[1], e->name);
	cluster_text(&e->member[2], e->address);
	cluster_int(&e->member[3], (int64_t)global_schema()->n_updates);
	cluster_int(&e->member[4], cluster_api_extensions());
	cluster_text(&e->member[5], d->fingerprint);
	e->stmts[0].sql =
	    (char *)"INSERT INTO members(id, name, address, role, "
		    "schema_version, api_extensions, fingerprint) "
		    "VALUES(?, ?, ?, 'voter', ?, ?, ?)";
	e->stmts[0].params = e->member;
	e->stmts[0].n_params = 6;
	cluster_text(&e->cert[0], d->fingerprint);
	cluster_text(&e->cert[1], e->name);
	cluster_text(&e->cert[2], d->cert_pem);
	cluster_int(&e->cert[3], (int64_t)time(NULL));
	e->stmts[1].sql =
	    (char *)"INSERT OR REPLACE INTO certificates(fingerprint, "
		    "name, type, certificate, added_at) "
		    "VALUES(?, ?, 'server', ?, ?)";
	e->stmts[1].params = e->cert;
	e->stmts[1].n_params = 4;
	e->req.data = e;
	e->req.stmts = e->stmts;
	e->req.n_stmts = 2;
	e->req.transaction = true;
	gdb_write(d->gdb, &e->req, written);
	return 0;
}

/* Removing, renaming and describing members (on the leader), and the
 * removed member's return to standalone.
 *
 * remove NAME: raft_remove -> one replicated write deleting its row and
 * its certificate (from then on no member admits it) -> unless forced,
 * tell it (POST /internal/cluster/reset), and it wipes its cluster state
 * and starts again as a standalone member -> the rebalance fills the role
 * it held. A leader asked to remove itself hands leadership over and
 * passes the request to the new leader. */
#include <string.h>

#include "internal/config/config.h"
#include "internal/daemon/cluster_internal.h"
#include "internal/daemon/daemon_priv.h"
#include "internal/lib/fs.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"
#include "internal/raft/raftnode.h"

struct manage {
	struct daemon *d;
	cluster_result_cb cb;
	void *arg;
	struct cluster_row row;
	bool force;
	bool removing;
	char new_name[MEMBER_NAME_MAX + 1];
	char *path; /* for a request passed to the new leader */
	struct raft_change change;
	struct raft_transfer transfer;
	struct gdb_request req;
	struct gdb_stmt stmts[2];
	struct gdb_value params[4];
};

static void manage_free(struct manage *m)
{
	gdb_request_clear(&m->req);
	tm_free(m->path);
	tm_free(m);
}

static void finish(struct manage *m, int status, const char *errmsg,
		   cJSON *meta)
{
	m->cb(m->arg, status, errmsg, meta);
	manage_free(m);
}

/* The leader's row for NAME into M->row. */
static int find(struct daemon *d, const char *name, struct manage *m,
		char *errmsg)
{
	int rv = cluster_check_ready(d, errmsg);
	if (rv != 0) {
		return rv;
	}
	if (raft_state(raftnode_raft(d->raftnode)) != RAFT_LEADER) {
		tm_errmsg_printf(errmsg, "this member is not the leader");
		return TM_NOTLEADER;
	}
	struct cluster_row *rows;
	size_t n;
	rv = cluster_rows(d, &rows, &n, errmsg);
	if (rv != 0) {
		return rv;
	}
	rv = TM_NOTFOUND;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(rows[i].name, name) == 0) {
			m->row = rows[i];
			rv = 0;
		}
	}
	if (rv != 0) {
		tm_errmsg_printf(errmsg, "no member named \"%s\"", name);
	} else if (n == 1 && m->removing) {
		tm_errmsg_printf(errmsg,
				 "\"%s\" is the only member: a cluster "
				 "cannot remove its last member",
				 name);
		rv = TM_INVALID;
	}
	tm_free(rows);
	return rv;
}

/* ---- remove ---- */

static void told(void *arg, int status, const char *errmsg, cJSON *meta)
{
	struct manage *m = arg;
	cJSON_Delete(meta);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", m->row.name);
	if (status != 0) {
		char *warning = tm_asprintf(
		    "removed, but the member could not be told to leave (%s): "
		    "it will be refused if it comes back; wipe its state "
		    "before reusing it",
		    errmsg);
		cJSON_AddStringToObject(o, "warning", warning);
		LOGW("cluster: %s", warning);
		tm_free(warning);
	}
	finish(m, 0, "", o);
}

static void rows_deleted(struct gdb_request *req, int status)
{
	struct manage *m = req->data;
	struct daemon *d = m->d;
	if (status != 0) {
		finish(m, status, req->errmsg, NULL);
		return;
	}
	LOGI("cluster: member %s (raft id %llu) removed%s", m->row.name,
	     (unsigned long long)m->row.id, m->force ? " by force" : "");
	cluster_rebalance_soon(d);
	if (m->force) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", m->row.name);
		finish(m, 0, "", o);
		return;
	}
	if (cluster_call(d, m->row.address, "POST", "/internal/cluster/reset",
			 "{}", told, m) != 0) {
		told(m, TM_SHUTDOWN, "the member is stopping", NULL);
	}
}

static void delete_rows(struct manage *m)
{
	cluster_int(&m->params[0], (int64_t)m->row.id);
	cluster_text(&m->params[1], m->row.fingerprint);
	m->stmts[0].sql = (char *)"DELETE FROM members WHERE id = ?";
	m->stmts[0].params = &m->params[0];
	m->stmts[0].n_params = 1;
	m->stmts[1].sql = (char *)"DELETE FROM certificates WHERE type = "
				  "'server' AND fingerprint = ?";
	m->stmts[1].params = &m->params[1];
	m->stmts[1].n_params = 1;
	m->req.data = m;
	m->req.stmts = m->stmts;
	m->req.n_stmts = 2;
	m->req.transaction = true;
	gdb_write(m->d->gdb, &m->req, rows_deleted);
}

static void removed(struct raft_change *change, int status)
{
	struct manage *m = change->data;
	if (status != 0 && status != RAFT_BADID) {
		char errmsg[TM_ERRMSG_SIZE];
		tm_errmsg_printf(errmsg, "remove %s from raft: %s", m->row.name,
				 raft_strerror(status));
		finish(m, status == RAFT_NOTLEADER ? TM_NOTLEADER : TM_BUSY,
		       errmsg, NULL);
		return;
	}
	if (m->d->gdb == NULL) {
		finish(m, TM_SHUTDOWN, "the member is stopping", NULL);
		return;
	}
	delete_rows(m);
}

static void passed_on(void *arg, int status, const char *errmsg, cJSON *meta)
{
	struct manage *m = arg;
	finish(m, status, errmsg, meta);
}

/* Removing the leader itself: hand leadership over, then ask the new
 * leader. */
static void handed_over(struct raft_transfer *req)
{
	struct manage *m = req->data;
	struct daemon *d = m->d;
	raft_id id = 0;
	const char *address = NULL;
	if (d->raftnode != NULL) {
		raft_leader(raftnode_raft(d->raftnode), &id, &address);
	}
	if (id == 0 || id == d->self.id) {
		finish(m, TM_BUSY,
		       "this member leads and could not hand leadership over "
		       "to another voter; retry",
		       NULL);
		return;
	}
	if (cluster_call(d, address, "DELETE", m->path, NULL, passed_on, m) !=
	    0) {
		finish(m, TM_SHUTDOWN, "the member is stopping", NULL);
	}
}

int cluster_member_remove(struct daemon *d, const char *name, bool force,
			  cluster_result_cb cb, void *arg, char *errmsg)
{
	struct manage *m = tm_calloc(1, sizeof *m);
	m->d = d;
	m->force = force;
	m->removing = true;
	m->path = tm_asprintf("/1.0/cluster/members/%s%s", name,
			      force ? "?force=1" : "");
	int rv = find(d, name, m, errmsg);
	if (rv != 0) {
		manage_free(m);
		return rv;
	}
	m->cb = cb;
	m->arg = arg;
	struct raft *r = raftnode_raft(d->raftnode);
	if (m->row.id == d->self.id) {
		m->transfer.data = m;
		cluster_lease_drop(d);
		rv = raft_transfer(r, &m->transfer, 0, handed_over);
		if (rv != 0) {
			tm_errmsg_printf(errmsg,
					 "this member leads, and no other "
					 "voter can take over: %s",
					 raft_strerror(rv));
			manage_free(m);
			return TM_BUSY;
		}
		return 0;
	}
	m->change.data = m;
	rv = raft_remove(r, &m->change, m->row.id, removed);
	if (rv == RAFT_BADID) {
		/* Not in raft's configuration (a join that did not
		 * complete): only the rows remain. */
		delete_rows(m);
		return 0;
	}
	if (rv != 0) {
		tm_errmsg_printf(errmsg, "remove %s from raft: %s", name,
				 raft_strerror(rv));
		manage_free(m);
		return rv == RAFT_CANTCHANGE ? TM_BUSY : TM_IO;
	}
	return 0;
}

/* ---- rename, describe ---- */

static void updated(struct gdb_request *req, int status)
{
	struct manage *m = req->data;
	if (status == TM_CONFLICT) {
		char errmsg[TM_ERRMSG_SIZE];
		tm_errmsg_printf(errmsg, "a member named \"%s\" already exists",
				 m->new_name);
		finish(m, TM_EXISTS, errmsg, NULL);
		return;
	}
	if (status != 0) {
		finish(m, status, req->errmsg, NULL);
		return;
	}
	finish(m, 0, "", NULL);
}

static void submit_update(struct manage *m, size_t n)
{
	m->req.data = m;
	m->req.stmts = m->stmts;
	m->req.n_stmts = n;
	m->req.transaction = true;
	gdb_write(m->d->gdb, &m->req, updated);
}

int cluster_member_rename(struct daemon *d, const char *name,
			  const char *new_name, cluster_result_cb cb, void *arg,
			  char *errmsg)
{
	int rv = member_name_check(new_name, errmsg);
	if (rv != 0) {
		return rv;
	}
	struct manage *m = tm_calloc(1, sizeof *m);
	m->d = d;
	snprintf(m->new_name, sizeof m->new_name, "%s", new_name);
	rv = find(d, name, m, errmsg);
	if (rv != 0) {
		manage_free(m);
		return rv;
	}
	m->cb = cb;
	m->arg = arg;
	cluster_text(&m->params[0], m->new_name);
	cluster_text(&m->params[1], m->row.name);
	m->stmts[0].sql = (char *)"UPDATE members SET name = ? WHERE name = ?";
	m->stmts[1].sql = (char *)"UPDATE certificates SET name = ? WHERE "
				  "type = 'server' AND name = ?";
	for (int i = 0; i < 2; i++) {
		m->stmts[i].params = m->params;
		m->stmts[i].n_params = 2;
	}
	submit_update(m, 2);
	LOGI("cluster: renaming member %s to %s", name, new_name);
	return 0;
}

int cluster_member_patch(struct daemon *d, const char *name,
			 const char *failure_domain, const char *description,
			 cluster_result_cb cb, void *arg, char *errmsg)
{
	if (failure_domain != NULL && failure_domain[0] != '\0' &&
	    member_name_check(failure_domain, errmsg) != 0) {
		tm_errmsg_wrapf(errmsg, "failure_domain (same rules as a "
					"member name)");
		return TM_INVALID;
	}
	if (description != NULL && strlen(description) > 255) {
		tm_errmsg_printf(errmsg, "description is longer than 255 "
					 "bytes");
		return TM_INVALID;
	}
	struct manage *m = tm_calloc(1, sizeof *m);
	m->d = d;
	int rv = find(d, name, m, errmsg);
	if (rv != 0) {
		manage_free(m);
		return rv;
	}
	m->cb = cb;
	m->arg = arg;
	snprintf(m->row.failure_domain, sizeof m->row.failure_domain, "%s",
		 failure_domain != NULL ? failure_domain
					: m->row.failure_domain);
	snprintf(m->row.description, sizeof m->row.description, "%s",
		 description != NULL ? description : m->row.description);
	cluster_text(&m->params[0], m->row.failure_domain);
	cluster_text(&m->params[1], m->row.name);
	cluster_text(&m->params[2], m->row.description);
	cluster_text(&m->params[3], m->row.name);
	m->stmts[0].sql = (char *)"UPDATE members SET failure_domain = ? "
				  "WHERE name = ?";
	m->stmts[1].sql = (char *)"UPDATE members SET description = ? "
				  "WHERE name = ?";
	m->stmts[0].params = &m->params[0];
	m->stmts[0].n_params = 2;
	m->stmts[1].params = &m->params[2];
	m->stmts[1].n_params = 2;
	submit_update(m, 2);
	return 0;
}

/* ---- the removed member ---- */

static int leave_prepare(struct daemon *d, void *arg, char *errmsg)
{
	(void)arg;
	char *dir = tm_asprintf("%s/global", d->dir);
	char *cert = tm_asprintf("%s/cluster.crt", d->dir);
	char *key = tm_asprintf("%s/cluster.key", d->dir);
	char *own_cert = tm_asprintf("%s/server.crt", d->dir);
	char *own_key = tm_asprintf("%s/server.key", d->dir);
	int rv = fs_remove_tree(dir, errmsg);
	if (rv == 0) {
		rv = fs_remove_tree(cert, errmsg);
	}
	if (rv == 0) {
		rv = fs_remove_tree(key, errmsg);
	}
	struct nodedb_member self = {.id = 1};
	if (rv == 0 && (nodedb_raft_nodes_replace(d->nodedb, NULL, 0) != 0 ||
			nodedb_member_set(d->nodedb, &self) != 0)) {
		tm_errmsg_printf(errmsg, "reset identity: %s",
				 nodedb_errmsg(d->nodedb));
		rv = TM_DB;
	}
	if (rv == 0) {
		d->self = self;
		d->phase = CLUSTER_STANDALONE;
		d->cluster_fingerprint[0] = '\0';
		d->join_target = 0;
		cluster_load_fingerprints(d);
		rv = tls_ctx_use_keypair(d->tls_ctx, own_cert, own_key, errmsg);
	}
	tm_free(own_key);
	tm_free(own_cert);
	tm_free(key);
	tm_free(cert);
	tm_free(dir);
	return rv;
}

static void left(struct daemon *d, void *arg, int status, const char *errmsg)
{
	(void)d;
	(void)arg;
	if (status == 0) {
		LOGI("cluster: removed from the cluster: standalone again");
	} else {
		LOGE("cluster: leave: %s", errmsg);
	}
}

int cluster_leave(struct daemon *d, const char *peer_fp, char *errmsg)
{
	if (!d->self.clustered || d->state != DAEMON_READY) {
		tm_errmsg_printf(errmsg,
				 "this member is not part of a cluster");
		return TM_NOTFOUND;
	}
	if (!cluster_is_member_fingerprint(d, peer_fp) ||
	    strcmp(peer_fp, d->fingerprint) == 0) {
		tm_errmsg_printf(errmsg, "only another member of the cluster "
					 "can tell this one to leave");
		return TM_PERM;
	}
	LOGI("cluster: told to leave the cluster; wiping its state");
	cluster_reopen(d, leave_prepare, left, NULL);
	return 0;
}

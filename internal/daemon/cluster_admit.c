/* The leader's side of a join (POST /internal/cluster/join).
 *
 * checks (the token by the hash of its secret, the name, address and
 * certificate unique, the same schema and API) -> one replicated write:
 * the member's row and certificate, the token deleted, each conditional
 * on the token still being there (two joins racing for one token: one
 * wins) -> raft_add as a spare -> answer with the cluster certificate and
 * key, the member list and the index to catch up to. The rebalance then
 * gives the new member its role (cluster_members.c). */
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "internal/config/config.h"
#include "internal/daemon/cluster_internal.h"
#include "internal/daemon/daemon_priv.h"
#include "internal/db/cluster/global_schema.h"
#include "internal/lib/fs.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"
#include "internal/membership/join_request.h"
#include "internal/raft/raftnode.h"

struct admit {
	struct daemon *d;
	cluster_result_cb cb;
	void *arg;
	uint64_t id;
	char name[MEMBER_NAME_MAX + 1];
	char *address;
	char fingerprint[TLS_FINGERPRINT_LEN + 1];
	char *pem;
	char hash[2 * TOKEN_SECRET_SIZE + 1];
	struct gdb_request req;
	struct gdb_stmt stmts[3];
	struct gdb_value params[10];
	struct raft_change change;
};

static void admit_free(struct admit *a)
{
	gdb_request_clear(&a->req);
	tm_free(a->address);
	tm_free(a->pem);
	tm_free(a);
}

/* The token: known, for this name, not expired. */
static int check_token(struct daemon *d, struct admit *a, char *errmsg)
{
	sqlite3_stmt *st;
	sqlite3 *db = gdb_exec_conn(d->gdb);
	if (sqlite3_prepare_v2(db,
			       "SELECT name, expires_at FROM join_tokens "
			       "WHERE secret_hash = ?",
			       -1, &st, NULL) != SQLITE_OK) {
		tm_errmsg_printf(errmsg, "read join tokens: %s",
				 sqlite3_errmsg(db));
		return TM_DB;
	}
	sqlite3_bind_text(st, 1, a->hash, -1, SQLITE_STATIC);
	int rv = 0;
	if (sqlite3_step(st) != SQLITE_ROW) {
		tm_errmsg_printf(errmsg,
				 "the join token is not valid in this cluster: "
				 "it was already used, revoked, or issued by "
				 "another cluster; ask for a new one with: "
				 "therm cluster add %s",
				 a->name);
		rv = TM_PERM;
	} else if (strcmp((const char *)sqlite3_column_text(st, 0), a->name) !=
		   0) {
		tm_errmsg_printf(errmsg,
				 "the join token was issued for \"%s\", not "
				 "\"%s\"",
				 (const char *)sqlite3_column_text(st, 0),
				 a->name);
		rv = TM_PERM;
	} else if (sqlite3_column_int64(st, 1) <= (int64_t)time(NULL)) {
		char when[32];
		token_time_text(sqlite3_column_int64(st, 1), when);
		tm_errmsg_printf(errmsg,
				 "the join token expired at %s; ask for a new "
				 "one with: therm cluster revoke-token %s && "
				 "therm cluster add %s",
				 when, a->name, a->name);
		rv = TM_PERM;
	}
	sqlite3_finalize(st);
	return rv;
}

/* Name, address and certificate are not already a member's. */
static int check_unique(struct daemon *d, struct admit *a, char *errmsg)
{
	struct cluster_row *rows;
	size_t n;
	int rv = cluster_rows(d, &rows, &n, errmsg);
	for (size_t i = 0; rv == 0 && i < n; i++) {
		if (strcmp(rows[i].name, a->name) == 0) {
			tm_errmsg_printf(errmsg,
					 "a member named \"%s\" already exists",
					 a->name);
			rv = TM_EXISTS;
		} else if (strcmp(rows[i].address, a->address) == 0) {
			tm_errmsg_printf(
			    errmsg, "address %s is already member \"%s\"'s",
			    a->address, rows[i].name);
			rv = TM_EXISTS;
		} else if (strcmp(rows[i].fingerprint, a->fingerprint) == 0) {
			tm_errmsg_printf(errmsg,
					 "this certificate is already member "
					 "\"%s\"'s",
					 rows[i].name);
			rv = TM_EXISTS;
		} else if (rows[i].id == a->id) {
			rv = TM_BUSY; /* drew an id in use: draw again */
		}
	}
	tm_free(rows);
	return rv;
}

static int check_versions(int schema, int api, char *errmsg)
{
	int our_schema = (int)global_schema()->n_updates;
	int our_api = cluster_api_extensions();
	if (schema != our_schema || api != our_api) {
		tm_errmsg_printf(errmsg,
				 "version mismatch: the cluster runs global "
				 "schema %d with %d API extensions, the "
				 "joining member %d with %d; run the same "
				 "thermionicd version on both",
				 our_schema, our_api, schema, api);
		return TM_CONFLICT;
	}
	return 0;
}

static cJSON *members_json(struct daemon *d)
{
	cJSON *list = cJSON_CreateArray();
	struct cluster_row *rows;
	size_t n;
	char errmsg[TM_ERRMSG_SIZE];
	if (cluster_rows(d, &rows, &n, errmsg) != 0) {
		return list;
	}
	for (size_t i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "id", (double)rows[i].id);
		cJSON_AddStringToObject(o, "name", rows[i].name);
		cJSON_AddStringToObject(o, "address", rows[i].address);
		cJSON_AddStringToObject(o, "role", rows[i].role);
		cJSON_AddStringToObject(o, "fingerprint", rows[i].fingerprint);
		cJSON_AddItemToArray(list, o);
	}
	tm_free(rows);
	return list;
}

static void added(struct raft_change *change, int status)
{
	struct admit *a = change->data;
	struct daemon *d = a->d;
	char errmsg[TM_ERRMSG_SIZE];
	if (status != 0 || d->raftnode == NULL) {
		tm_errmsg_printf(errmsg, "add %s to raft: %s", a->name,
				 raft_strerror(status));
		LOGE("cluster: %s", errmsg);
		a->cb(a->arg, status == RAFT_NOTLEADER ? TM_NOTLEADER : TM_IO,
		      errmsg, NULL);
		admit_free(a);
		return;
	}
	char *cert_path = tm_asprintf("%s/cluster.crt", d->dir);
	char *key_path = tm_asprintf("%s/cluster.key", d->dir);
	char *cert = NULL;
	char *key = NULL;
	int rv = fs_read_all(cert_path, 1 << 20, &cert, NULL, errmsg);
	if (rv == 0) {
		rv = fs_read_all(key_path, 1 << 20, &key, NULL, errmsg);
	}
	tm_free(cert_path);
	tm_free(key_path);
	if (rv != 0) {
		a->cb(a->arg, rv, errmsg, NULL);
	} else {
		struct raft *r = raftnode_raft(d->raftnode);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "id", (double)a->id);
		cJSON_AddStringToObject(o, "name", a->name);
		cJSON_AddStringToObject(o, "cluster_certificate", cert);
		cJSON_AddStringToObject(o, "cluster_key", key);
		cJSON_AddItemToObject(o, "members", members_json(d));
		cJSON_AddNumberToObject(o, "target_index",
					(double)raft_last_index(r));
		LOGI("cluster: %s (raft id %llu) joined at %s", a->name,
		     (unsigned long long)a->id, a->address);
		a->cb(a->arg, 0, "", o);
	}
	if (key != NULL) {
		OPENSSL_cleanse(key, strlen(key));
	}
	tm_free(key);
	tm_free(cert);
	admit_free(a);
	cluster_rebalance_soon(d);
}

static void written(struct gdb_request *req, int status)
{
	struct admit *a = req->data;
	struct daemon *d = a->d;
	char errmsg[TM_ERRMSG_SIZE];
	if (status == TM_CONFLICT) {
		tm_errmsg_printf(errmsg,
				 "the name, address or certificate of \"%s\" "
				 "was taken meanwhile: %s",
				 a->name, req->errmsg);
		a->cb(a->arg, TM_EXISTS, errmsg, NULL);
		admit_free(a);
		return;
	}
	if (status != 0) {
		a->cb(a->arg, status, req->errmsg, NULL);
		admit_free(a);
		return;
	}
	if (req->results[0].rows_affected != 1) {
		tm_errmsg_printf(errmsg, "the join token was used meanwhile");
		a->cb(a->arg, TM_PERM, errmsg, NULL);
		admit_free(a);
		return;
	}
	if (d->raftnode == NULL) {
		a->cb(a->arg, TM_SHUTDOWN, "the member is stopping", NULL);
		admit_free(a);
		return;
	}
	/* The new member will receive the latest snapshot and the log
	 * after it: make that log short (its configuration entry applied
	 * here triggers the snapshot). */
	if (d->gdb != NULL) {
		gdb_snapshot_soon(d->gdb);
	}
	a->change.data = a;
	int rv = raft_add(raftnode_raft(d->raftnode), &a->change, a->id,
			  a->address, added);
	if (rv != 0) {
		added(&a->change, rv);
	}
}

static void submit(struct daemon *d, struct admit *a)
{
	cluster_int(&a->params[0], (int64_t)a->id);
	cluster_text(&a->params[1], a->name);
	cluster_text(&a->params[2], a->address);
	cluster_text(&a->params[3], "spare");
	cluster_int(&a->params[4], (int64_t)global_schema()->n_updates);
	cluster_int(&a->params[5], cluster_api_extensions());
	cluster_text(&a->params[6], a->fingerprint);
	cluster_text(&a->params[7], a->hash);
	cluster_int(&a->params[8], (int64_t)time(NULL));
	cluster_text(&a->params[9], a->pem);
	a->stmts[0].sql =
	    (char *)"INSERT INTO members(id, name, address, role, "
		    "schema_version, api_extensions, fingerprint) "
		    "SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 FROM join_tokens "
		    "WHERE secret_hash = ?8 AND name = ?2 AND expires_at > ?9";
	a->stmts[0].n_params = 9;
	a->stmts[1].sql =
	    (char *)"INSERT OR REPLACE INTO certificates(fingerprint, name, "
		    "type, certificate, added_at) "
		    "SELECT ?7, ?2, 'server', ?10, ?9 FROM join_tokens "
		    "WHERE secret_hash = ?8 AND name = ?2 AND expires_at > ?9";
	a->stmts[1].n_params = 10;
	a->stmts[2].sql =
	    (char *)"DELETE FROM join_tokens WHERE secret_hash = ?8 "
		    "AND ?1 IS NOT NULL AND ?2 IS NOT NULL AND ?3 IS NOT NULL "
		    "AND ?4 IS NOT NULL AND ?5 IS NOT NULL AND ?6 IS NOT NULL "
		    "AND ?7 IS NOT NULL";
	a->stmts[2].n_params = 8;
	for (int i = 0; i < 3; i++) {
		a->stmts[i].params = a->params;
	}
	a->req.data = a;
	a->req.stmts = a->stmts;
	a->req.n_stmts = 3;
	a->req.transaction = true;
	gdb_write(d->gdb, &a->req, written);
}

/* Parse and check the request into A. */
static int parse(struct admit *a, const char *body, size_t len,
		 const char *peer_fp, char *errmsg)
{
	struct join_request r;
	int rv = join_request_parse(body, len, &r, errmsg);
	if (rv != 0) {
		return rv;
	}
	snprintf(a->name, sizeof a->name, "%s", r.name);
	a->address = tm_strdup(r.address);
	a->pem = r.certificate;
	r.certificate = NULL;
	snprintf(a->fingerprint, sizeof a->fingerprint, "%s", r.fingerprint);
	token_secret_hash(r.secret, a->hash);
	rv = cluster_check_address(a->address, errmsg);
	if (rv == 0 &&
	    (peer_fp == NULL || strcmp(peer_fp, r.fingerprint) != 0)) {
		tm_errmsg_printf(errmsg,
				 "the joining member must connect with the "
				 "certificate it sends");
		rv = TM_PERM;
	}
	if (rv == 0) {
		rv = check_versions(r.schema_version, r.api_extensions, errmsg);
	}
	join_request_clear(&r);
	return rv;
}

int cluster_admit(struct daemon *d, const char *body, size_t len,
		  const char *peer_fp, cluster_result_cb cb, void *arg,
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
	struct admit *a = tm_calloc(1, sizeof *a);
	a->d = d;
	rv = parse(a, body, len, peer_fp, errmsg);
	if (rv == 0) {
		rv = check_token(d, a, errmsg);
	}
	for (int tries = 0; rv == 0 && tries < 8; tries++) {
		uint64_t id = 0;
		RAND_bytes((unsigned char *)&id, sizeof id);
		/* 2^32 and more, below 2^48: never 1 (a standalone
		 * member's), and at most 15 digits, which cJSON prints
		 * exactly (it prints 15 significant digits when they read
		 * back within an epsilon, which loses the last digit of
		 * larger ids). */
		a->id = (id & ((UINT64_C(1) << 48) - 1)) | (UINT64_C(1) << 32);
		rv = check_unique(d, a, errmsg);
		if (rv == TM_BUSY && tries < 7) {
			rv = 0;
			continue;
		}
		break;
	}
	if (rv != 0) {
		admit_free(a);
		return rv;
	}
	a->cb = cb;
	a->arg = arg;
	submit(d, a);
	return 0;
}

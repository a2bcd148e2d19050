/* The joining member's side of a join.
 *
 * checks here (token well formed and not expired, an address, no user
 * tables unless forced) -> JOINING -> on a worker thread: POST
 * /internal/cluster/join to the token's addresses in turn, pinned to the
 * token's fingerprint (never trust on first use) and presenting this
 * member's own certificate, and store the cluster certificate it hands
 * over -> on the loop: store identity and member list -> the global part
 * restarts empty with the new raft id and no bootstrap -> the leader
 * sends the log (or a snapshot) -> caught up: READY (global.c,
 * follower_check).
 *
 * A failure before the restart leaves the member standalone as it was,
 * with the reason in GET /1.0/cluster's message. */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "internal/config/config.h"
#include "internal/daemon/cluster_internal.h"
#include "internal/daemon/daemon_priv.h"
#include "internal/db/cluster/global_schema.h"
#include "internal/lib/fs.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"
#include "internal/lib/pool.h"
#include "pkg/thermionic.h"

/* A join call to one member, connection and all. */
#define JOIN_TIMEOUT_MS 15000

struct join {
	struct daemon *d;
	struct pool_work work;
	struct token token;
	char *address;
	char *body;	 /* the request, JSON */
	char *cert_path; /* this member's own certificate */
	char *key_path;
	/* Worker's result. */
	int status;
	cJSON *answer;
	char errmsg[TM_ERRMSG_SIZE];
};

static void join_free(struct join *j)
{
	if (j->body != NULL) {
		OPENSSL_cleanse(j->body, strlen(j->body));
	}
	OPENSSL_cleanse(&j->token, sizeof j->token);
	tm_free(j->body);
	tm_free(j->address);
	tm_free(j->cert_path);
	tm_free(j->key_path);
	cJSON_Delete(j->answer);
	tm_free(j);
}

/* Ask one member. 0 with the answer; TM_NOTLEADER to try the next one;
 * anything else is final. */
static int ask(struct join *j, const char *address, char *errmsg)
{
	struct thermionic_client *c;
	int rv = thermionic_connect_https(address, j->cert_path, j->key_path,
					  j->token.fingerprint, &c);
	if (rv != 0) {
		tm_errmsg_printf(errmsg, "%s: cannot set up a client", address);
		return TM_IO;
	}
	thermionic_set_timeout(c, JOIN_TIMEOUT_MS);
	struct thermionic_response resp;
	rv = thermionic_request(c, "POST", "/internal/cluster/join", j->body,
				NULL, &resp);
	int http = thermionic_status(c);
	if (rv == 0) {
		j->answer = resp.metadata;
		resp.metadata = NULL;
	} else if (rv == THERMIONIC_ERR_PIN) {
		tm_errmsg_printf(errmsg,
				 "%s does not present the certificate the "
				 "token names (%.16s...): refusing to join a "
				 "cluster that may be an impostor (%s)",
				 address, j->token.fingerprint,
				 thermionic_errmsg(c));
		rv = TM_PERM;
	} else if (rv == THERMIONIC_ERR_HTTP) {
		tm_errmsg_printf(errmsg, "%s: %s", address,
				 thermionic_errmsg(c));
		rv = http == 503 || http == 404 ? TM_NOTLEADER
		     : http == 403		? TM_PERM
		     : http == 409		? TM_EXISTS
						: TM_INVALID;
	} else {
		tm_errmsg_printf(errmsg, "%s: %s", address,
				 thermionic_errmsg(c));
		rv = TM_NOTLEADER; /* unreachable: try the next one */
	}
	thermionic_response_clear(&resp);
	thermionic_close(c);
	return rv;
}

static const char *string_of(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The cluster certificate and key of the answer, written and fsync'd (on
 * the worker: two files, four fsyncs, which held the loop ~10 ms). */
static int store_certificate(const char *dir, const char *fingerprint,
			     const cJSON *answer, char *errmsg)
{
	const char *cert = string_of(answer, "cluster_certificate");
	const char *key = string_of(answer, "cluster_key");
	if (cert == NULL || key == NULL) {
		tm_errmsg_printf(errmsg, "the cluster sent no certificate");
		return TM_PROTO;
	}
	char fp[TLS_FINGERPRINT_LEN + 1];
	int rv = tls_fingerprint_pem(cert, fp, errmsg);
	if (rv == 0 && strcmp(fp, fingerprint) != 0) {
		tm_errmsg_printf(errmsg, "the cluster sent a certificate "
					 "other than the one it serves");
		rv = TM_PERM;
	}
	char *cert_path = tm_asprintf("%s/cluster.crt", dir);
	char *key_path = tm_asprintf("%s/cluster.key", dir);
	if (rv == 0) {
		rv = fs_write_atomic(key_path, key, strlen(key), 0600, errmsg);
	}
	if (rv == 0) {
		rv = fs_write_atomic(cert_path, cert, strlen(cert), 0644,
				     errmsg);
	}
	tm_free(cert_path);
	tm_free(key_path);
	return rv;
}

static void work(struct pool_work *w)
{
	struct join *j = w->data;
	char all[TM_ERRMSG_SIZE] = "";
	j->status = TM_NOTLEADER;
	for (size_t i = 0; i < j->token.n_addresses; i++) {
		char errmsg[TM_ERRMSG_SIZE];
		j->status = ask(j, j->token.addresses[i], errmsg);
		if (j->status == 0) {
			j->status = store_certificate(j->d->dir,
						      j->token.fingerprint,
						      j->answer, errmsg);
		}
		if (j->status != TM_NOTLEADER) {
			snprintf(j->errmsg, sizeof j->errmsg, "%s", errmsg);
			return;
		}
		size_t len = strlen(all);
		if (len + 2 < sizeof all) {
			snprintf(all + len, sizeof all - len, "%s%.*s",
				 len ? "; " : "", (int)(sizeof all - len - 3),
				 errmsg);
		}
	}
	tm_errmsg_printf(j->errmsg,
			 "no member of the cluster could admit "
			 "this one: %s",
			 all);
	j->status = TM_IO;
}

static void failed(struct daemon *d, const char *errmsg)
{
	LOGE("cluster: join failed: %s", errmsg);
	d->phase = CLUSTER_STANDALONE;
	d->cluster_fingerprint[0] = '\0';
	d->join_target = 0;
	tm_errmsg_printf(d->cluster_message, "join failed: %s", errmsg);
}

/* The member list of the answer into the local database. */
static int store_members(struct daemon *d, const cJSON *members, char *errmsg)
{
	size_t n = (size_t)cJSON_GetArraySize(members);
	struct nodedb_raft_node *nodes = tm_calloc(n + 1, sizeof *nodes);
	size_t k = 0;
	const cJSON *m;
	cJSON_ArrayForEach(m, members)
	{
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(m, "id");
		const char *role = string_of(m, "role");
		if (!cJSON_IsNumber(id) || string_of(m, "address") == NULL) {
			continue;
		}
		nodes[k].id = (uint64_t)id->valuedouble;
		nodes[k].address = (char *)string_of(m, "address");
		nodes[k].name = (char *)string_of(m, "name");
		nodes[k].fingerprint = (char *)string_of(m, "fingerprint");
		nodes[k].role = role != NULL && strcmp(role, "voter") == 0
				    ? RAFT_VOTER
				    : RAFT_SPARE;
		k++;
	}
	int rv = nodedb_raft_nodes_replace(d->nodedb, nodes, k);
	tm_free(nodes);
	if (rv != 0) {
		tm_errmsg_printf(errmsg, "store members: %s",
				 nodedb_errmsg(d->nodedb));
	}
	return rv;
}

/* Before the global part opens again: no raft state of the standalone
 * member must remain (its log would make raft refuse the leader's). */
static int wipe(struct daemon *d, void *arg, char *errmsg)
{
	(void)arg;
	char *dir = tm_asprintf("%s/global", d->dir);
	int rv = fs_remove_tree(dir, errmsg);
	tm_free(dir);
	return rv;
}

static void reopened(struct daemon *d, void *arg, int status,
		     const char *errmsg)
{
	(void)arg;
	if (status != 0) {
		/* Identity is stored: the member is the cluster's now, and
		 * the next start retries from the local member list. */
		tm_errmsg_printf(d->cluster_message,
				 "joined, but the global database did not "
				 "start: %s",
				 errmsg);
		return;
	}
	tm_errmsg_printf(d->cluster_message, "catching up");
}

static void done(struct pool_work *w)
{
	struct join *j = w->data;
	struct daemon *d = j->d;
	char errmsg[TM_ERRMSG_SIZE];
	if (d->state != DAEMON_READY) {
		failed(d, "the member stopped");
		join_free(j);
		return;
	}
	if (j->status != 0) {
		failed(d, j->errmsg);
		join_free(j);
		return;
	}
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(j->answer, "id");
	const cJSON *target =
	    cJSON_GetObjectItemCaseSensitive(j->answer, "target_index");
	const cJSON *members =
	    cJSON_GetObjectItemCaseSensitive(j->answer, "members");
	if (!cJSON_IsNumber(id) || id->valuedouble < 2 ||
	    !cJSON_IsArray(members)) {
		failed(d, "the cluster's answer is malformed");
		join_free(j);
		return;
	}
	snprintf(d->cluster_fingerprint, sizeof d->cluster_fingerprint, "%s",
		 j->token.fingerprint);
	struct nodedb_member self = {.id = (uint64_t)id->valuedouble,
				     .clustered = true};
	snprintf(self.name, sizeof self.name, "%s", j->token.name);
	int rv = store_members(d, members, errmsg);
	if (rv == 0 && nodedb_member_set(d->nodedb, &self) != 0) {
		tm_errmsg_printf(errmsg, "store identity: %s",
				 nodedb_errmsg(d->nodedb));
		rv = TM_DB;
	}
	if (rv == 0) {
		rv = cluster_use_certificate(d, errmsg);
	}
	if (rv != 0) {
		failed(d, errmsg);
		join_free(j);
		return;
	}
	d->self = self;
	d->join_target =
	    cJSON_IsNumber(target) ? (uint64_t)target->valuedouble : 0;
	cluster_load_fingerprints(d);
	LOGI("cluster: admitted as %s (raft id %llu); catching up to index "
	     "%llu",
	     self.name, (unsigned long long)self.id,
	     (unsigned long long)d->join_target);
	tm_errmsg_printf(d->cluster_message, "restarting the global database");
	join_free(j);
	cluster_reopen(d, wipe, reopened, NULL);
}

/* User tables in this member's global database, which joining discards. */
static int user_tables(struct daemon *d, char *list, size_t size)
{
	sqlite3_stmt *st;
	int n = 0;
	list[0] = '\0';
	if (sqlite3_prepare_v2(gdb_exec_conn(d->gdb),
			       "SELECT name FROM sqlite_schema WHERE type = "
			       "'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE "
			       "'\\' AND name NOT IN ('schema', 'members', "
			       "'config', 'certificates', 'operations', "
			       "'join_tokens') ORDER BY name",
			       -1, &st, NULL) != SQLITE_OK) {
		return 0;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		size_t len = strlen(list);
		if (n < 5) {
			snprintf(list + len, size - len, "%s%s", n ? ", " : "",
				 (const char *)sqlite3_column_text(st, 0));
		}
		n++;
	}
	sqlite3_finalize(st);
	return n;
}

static int check_joinable(struct daemon *d, const char *address, bool force,
			  char *errmsg)
{
	if (d->self.clustered || d->phase != CLUSTER_STANDALONE ||
	    d->enabling) {
		tm_errmsg_printf(errmsg,
				 d->enabling ? "clustering is being enabled on "
					       "this member"
				 : d->phase == CLUSTER_JOINING
				     ? "this member is already joining a "
				       "cluster"
				     : "this member is already part of a "
				       "cluster, as \"%s\"",
				 d->self.name);
		return TM_EXISTS;
	}
	if (d->state != DAEMON_READY || d->gdb == NULL) {
		tm_errmsg_printf(errmsg, "the member is not ready yet");
		return TM_BUSY;
	}
	const char *https = config_get(d->config, "core.https_address");
	if (address[0] != '\0' && strcmp(address, https) != 0) {
		tm_errmsg_printf(errmsg,
				 "the address to join with (%s) is not this "
				 "member's core.https_address (%s): set it "
				 "first with: therm config set "
				 "core.https_address %s",
				 address, https[0] ? https : "not set",
				 address);
		return TM_INVALID;
	}
	int rv = cluster_check_address(https, errmsg);
	if (rv != 0) {
		return rv;
	}
	char tables[512];
	int n = user_tables(d, tables, sizeof tables);
	if (n > 0 && !force) {
		tm_errmsg_printf(
		    errmsg,
		    "this member's global database holds %d user "
		    "table(s) (%s%s): joining replaces it with the "
		    "cluster's, and they would be discarded; back "
		    "them up (therm backup) and join with --force "
		    "to discard them",
		    n, tables, n > 5 ? ", ..." : "");
		return TM_CONFLICT;
	}
	return 0;
}

int cluster_join(struct daemon *d, const char *text, const char *address,
		 bool force, char *errmsg)
{
	char *normal = NULL;
	if (address[0] != '\0') {
		char reason[TM_ERRMSG_SIZE];
		if (config_address_normalize(address, &normal, reason) != 0) {
			tm_errmsg_printf(errmsg, "address \"%.64s\": %s",
					 address, reason);
			return TM_INVALID;
		}
	}
	int rv = check_joinable(d, normal != NULL ? normal : "", force, errmsg);
	tm_free(normal);
	if (rv != 0) {
		return rv;
	}
	struct join *j = tm_calloc(1, sizeof *j);
	rv = token_decode(text, (int64_t)time(NULL), &j->token, errmsg);
	if (rv != 0) {
		tm_errmsg_wrapf(errmsg, "join token");
		join_free(j);
		return rv == TM_TIMEOUT ? TM_PERM : TM_INVALID;
	}
	j->d = d;
	j->address = tm_strdup(config_get(d->config, "core.https_address"));
	j->cert_path = tm_asprintf("%s/server.crt", d->dir);
	j->key_path = tm_asprintf("%s/server.key", d->dir);
	char secret[2 * TOKEN_SECRET_SIZE + 1];
	token_secret_hex(j->token.secret, secret);
	cJSON *body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "name", j->token.name);
	cJSON_AddStringToObject(body, "address", j->address);
	cJSON_AddStringToObject(body, "secret", secret);
	cJSON_AddStringToObject(body, "certificate", d->cert_pem);
	cJSON_AddNumberToObject(body, "schema_version",
				(double)global_schema()->n_updates);
	cJSON_AddNumberToObject(body, "api_extensions",
				cluster_api_extensions());
	j->body = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	OPENSSL_cleanse(secret, sizeof secret);
	d->phase = CLUSTER_JOINING;
	tm_errmsg_printf(d->cluster_message, "asking the cluster to admit %s",
			 j->token.name);
	LOGI("cluster: joining as %s through %s", j->token.name,
	     j->token.addresses[0]);
	j->work.data = j;
	pool_submit(d->api_pool, &j->work, work, done);
	return 0;
}

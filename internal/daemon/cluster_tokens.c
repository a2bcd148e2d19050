/* Join tokens: issued by `therm cluster add NAME` on any member (the
 * write goes to the leader), listed and revoked. The token text is
 * shown once; the cluster keeps only the SHA-256 of its secret. */
#include <string.h>
#include <time.h>

#include "internal/daemon/cluster_internal.h"
#include "internal/daemon/daemon_priv.h"
#include "internal/db/cluster/gdb.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"
#include "internal/membership/token.h"

struct token_add {
	cluster_result_cb cb;
	void *arg;
	struct token token;
	char *text;
	char hash[2 * TOKEN_SECRET_SIZE + 1];
	char *addresses_json;
	struct gdb_request req;
	struct gdb_stmt stmt;
	struct gdb_value params[6];
};

static void token_add_free(struct token_add *t)
{
	gdb_request_clear(&t->req);
	tm_free(t->text);
	tm_free(t->addresses_json);
	OPENSSL_cleanse(&t->token, sizeof t->token);
	tm_free(t);
}

static cJSON *token_json(const struct token *t, const char *text)
{
	cJSON *o = cJSON_CreateObject();
	char when[32];
	token_time_text(t->expires_at, when);
	cJSON_AddStringToObject(o, "name", t->name);
	if (text != NULL) {
		cJSON_AddStringToObject(o, "token", text);
	}
	cJSON *list = cJSON_AddArrayToObject(o, "addresses");
	for (size_t i = 0; i < t->n_addresses; i++) {
		cJSON_AddItemToArray(list, cJSON_CreateString(t->addresses[i]));
	}
	cJSON_AddStringToObject(o, "fingerprint", t->fingerprint);
	cJSON_AddStringToObject(o, "expires_at", when);
	return o;
}

static void token_written(struct gdb_request *req, int status)
{
	struct token_add *t = req->data;
	if (status == TM_CONFLICT) {
		char errmsg[TM_ERRMSG_SIZE];
		tm_errmsg_printf(errmsg,
				 "a join token for \"%s\" is already pending; "
				 "revoke it first with: therm cluster "
				 "revoke-token %s",
				 t->token.name, t->token.name);
		t->cb(t->arg, TM_EXISTS, errmsg, NULL);
	} else if (status != 0) {
		t->cb(t->arg, status, req->errmsg, NULL);
	} else {
		LOGI("cluster: join token issued for %s, expires in %lld s",
		     t->token.name,
		     (long long)(t->token.expires_at - time(NULL)));
		t->cb(t->arg, 0, "", token_json(&t->token, t->text));
	}
	token_add_free(t);
}

/* The members' addresses, this member's first (the joiner tries them in
 * order), at most TOKEN_MAX_ADDRESSES. */
static int member_addresses(struct daemon *d, struct token *t, char *errmsg)
{
	struct cluster_row *rows;
	size_t n;
	int rv = cluster_rows(d, &rows, &n, errmsg);
	if (rv != 0) {
		return rv;
	}
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < n; i++) {
			bool self = rows[i].id == d->self.id;
			if ((pass == 0) != self ||
			    t->n_addresses == TOKEN_MAX_ADDRESSES) {
				continue;
			}
			snprintf(t->addresses[t->n_addresses++],
				 sizeof t->addresses[0], "%s", rows[i].address);
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (strcmp(rows[i].name, t->name) == 0) {
			tm_errmsg_printf(errmsg,
					 "a member named \"%s\" already "
					 "exists",
					 t->name);
			rv = TM_EXISTS;
		}
	}
	tm_free(rows);
	return rv;
}

int cluster_token_add(struct daemon *d, const char *name, int64_t expiry,
		      cluster_result_cb cb, void *arg, char *errmsg)
{
	int rv = cluster_check_leader(d, errmsg);
	if (rv != 0) {
		return rv;
	}
	rv = member_name_check(name, errmsg);
	if (rv != 0) {
		return rv;
	}
	if (expiry <= 0) {
		tm_errmsg_printf(errmsg, "expiry must be positive");
		return TM_INVALID;
	}
	struct token_add *t = tm_calloc(1, sizeof *t);
	snprintf(t->token.name, sizeof t->token.name, "%s", name);
	snprintf(t->token.fingerprint, sizeof t->token.fingerprint, "%s",
		 d->cluster_fingerprint);
	t->token.expires_at = (int64_t)time(NULL) + expiry;
	rv = member_addresses(d, &t->token, errmsg);
	if (rv == 0) {
		rv = token_secret_new(t->token.secret, errmsg);
	}
	if (rv == 0) {
		rv = token_encode(&t->token, &t->text, errmsg);
	}
	if (rv != 0) {
		token_add_free(t);
		return rv;
	}
	token_secret_hash(t->token.secret, t->hash);
	cJSON *list = cJSON_CreateArray();
	for (size_t i = 0; i < t->token.n_addresses; i++) {
		cJSON_AddItemToArray(list,
				     cJSON_CreateString(t->token.addresses[i]));
	}
	t->addresses_json = cJSON_PrintUnformatted(list);
	cJSON_Delete(list);
	t->cb = cb;
	t->arg = arg;
	cluster_text(&t->params[0], t->hash);
	cluster_text(&t->params[1], t->token.name);
	cluster_text(&t->params[2], t->addresses_json);
	cluster_text(&t->params[3], t->token.fingerprint);
	cluster_int(&t->params[4], (int64_t)time(NULL));
	cluster_int(&t->params[5], t->token.expires_at);
	t->stmt.sql = (char *)"INSERT INTO join_tokens(secret_hash, name, "
			      "addresses, fingerprint, created_at, "
			      "expires_at) VALUES(?, ?, ?, ?, ?, ?)";
	t->stmt.params = t->params;
	t->stmt.n_params = 6;
	t->req.data = t;
	t->req.stmts = &t->stmt;
	t->req.n_stmts = 1;
	t->req.transaction = true;
	gdb_write(d->gdb, &t->req, token_written);
	return 0;
}

cJSON *cluster_token_list(struct daemon *d, char *errmsg)
{
	if (cluster_check_ready(d, errmsg) != 0) {
		return NULL;
	}
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(gdb_exec_conn(d->gdb),
			       "SELECT name, addresses, fingerprint, "
			       "created_at, expires_at FROM join_tokens "
			       "ORDER BY name",
			       -1, &st, NULL) != SQLITE_OK) {
		tm_errmsg_printf(errmsg, "read join tokens: %s",
				 sqlite3_errmsg(gdb_exec_conn(d->gdb)));
		return NULL;
	}
	cJSON *list = cJSON_CreateArray();
	while (sqlite3_step(st) == SQLITE_ROW) {
		cJSON *o = cJSON_CreateObject();
		char when[32];
		cJSON_AddStringToObject(
		    o, "name", (const char *)sqlite3_column_text(st, 0));
		cJSON *addresses =
		    cJSON_Parse((const char *)sqlite3_column_text(st, 1));
		cJSON_AddItemToObject(o, "addresses",
				      addresses != NULL ? addresses
							: cJSON_CreateArray());
		cJSON_AddStringToObject(
		    o, "fingerprint", (const char *)sqlite3_column_text(st, 2));
		token_time_text(sqlite3_column_int64(st, 3), when);
		cJSON_AddStringToObject(o, "created_at", when);
		token_time_text(sqlite3_column_int64(st, 4), when);
		cJSON_AddStringToObject(o, "expires_at", when);
		cJSON_AddBoolToObject(o, "expired",
				      sqlite3_column_int64(st, 4) <=
					  (int64_t)time(NULL));
		cJSON_AddItemToArray(list, o);
	}
	sqlite3_finalize(st);
	return list;
}

struct token_revoke {
	cluster_result_cb cb;
	void *arg;
	char name[MEMBER_NAME_MAX + 1];
	struct gdb_request req;
	struct gdb_stmt stmt;
	struct gdb_value param;
};

static void token_revoked(struct gdb_request *req, int status)
{
	struct token_revoke *t = req->data;
	char errmsg[TM_ERRMSG_SIZE];
	if (status == 0 && req->results[0].rows_affected == 0) {
		tm_errmsg_printf(errmsg, "no pending join token for \"%s\"",
				 t->name);
		t->cb(t->arg, TM_NOTFOUND, errmsg, NULL);
	} else if (status != 0) {
		t->cb(t->arg, status, req->errmsg, NULL);
	} else {
		LOGI("cluster: join token for %s revoked", t->name);
		t->cb(t->arg, 0, "", NULL);
	}
	gdb_request_clear(&t->req);
	tm_free(t);
}

int cluster_token_revoke(struct daemon *d, const char *name,
			 cluster_result_cb cb, void *arg, char *errmsg)
{
	int rv = cluster_check_leader(d, errmsg);
	if (rv != 0) {
		return rv;
	}
	struct token_revoke *t = tm_calloc(1, sizeof *t);
	snprintf(t->name, sizeof t->name, "%s", name);
	t->cb = cb;
	t->arg = arg;
	cluster_text(&t->param, t->name);
	t->stmt.sql = (char *)"DELETE FROM join_tokens WHERE name = ?";
	t->stmt.params = &t->param;
	t->stmt.n_params = 1;
	t->req.data = t;
	t->req.stmts = &t->stmt;
	t->req.n_stmts = 1;
	t->req.transaction = true;
	gdb_write(d->gdb, &t->req, token_revoked);
	return 0;
}

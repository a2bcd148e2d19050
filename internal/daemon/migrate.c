/* Moving what older versions kept in local.db to the global database:
 * the values of cluster-wide config keys and the trusted certificates.
 *
 * Happy path, once the global schema is up to date at start: one
 * replicated transaction inserts them (a key or certificate the global
 * database already has keeps its value there), then they are removed from
 * local.db, the move is logged, and the member becomes READY.
 *
 * Failure modes: the write fails (this member lost leadership, the disk
 * is short, the daemon stops): logged; local.db keeps the rows, the
 * legacy config values stay in effect on this member, and the move is
 * tried again at the next start. local.db cannot be updated after the
 * write: logged; the rows are inserted again, to no effect, at the next
 * start. Either way the member goes on to READY. */
#include <string.h>

#include "internal/config/config.h"
#include "internal/daemon/daemon_priv.h"
#include "internal/db/cluster/gdb.h"
#include "internal/db/node/nodedb.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"

struct daemon_migration {
	struct daemon *d;
	struct gdb_request req;
	struct gdb_stmt *stmts;
	size_t n;
	size_t n_keys;
	struct nodedb_cert *certs; /* owned */
	size_t n_certs;
};

static const char *const insert_key =
    "INSERT INTO config (key, value) VALUES (?, ?) "
    "ON CONFLICT (key) DO NOTHING";
static const char *const insert_cert =
    "INSERT INTO certificates (fingerprint, name, type, certificate, "
    "added_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (fingerprint) DO NOTHING";

static void set_text(struct gdb_value *v, const char *text)
{
	v->type = GDB_TEXT;
	v->p = tm_strdup(text);
	v->n = strlen(text);
}

static struct gdb_stmt *add_stmt(struct daemon_migration *m, const char *sql,
				 size_t n_params)
{
	struct gdb_stmt *st = &m->stmts[m->n++];
	st->sql = (char *)sql; /* static; never freed */
	st->params = tm_calloc(n_params, sizeof *st->params);
	st->n_params = n_params;
	return st;
}

static void migration_free(struct daemon_migration *m)
{
	gdb_request_clear(&m->req);
	for (size_t i = 0; i < m->n; i++) {
		for (size_t j = 0; j < m->stmts[i].n_params; j++) {
			gdb_value_clear(&m->stmts[i].params[j]);
		}
		tm_free(m->stmts[i].params);
	}
	tm_free(m->stmts);
	nodedb_cert_list_free(m->certs, m->n_certs);
	tm_free(m);
}

/* The write is applied: remove the rows from local.db. */
static void forget_local(struct daemon_migration *m)
{
	struct daemon *d = m->d;
	cJSON *legacy = d->legacy_global;
	d->legacy_global = NULL;
	int rv = nodedb_config_replace(d->nodedb, d->local_config);
	for (size_t i = 0; rv == 0 && i < m->n_certs; i++) {
		rv = nodedb_cert_remove(d->nodedb, m->certs[i].fingerprint);
	}
	char *names = legacy != NULL ? cJSON_PrintUnformatted(legacy) : NULL;
	LOGI("daemon: moved %zu cluster-wide config value(s)%s%s and %zu "
	     "trusted certificate(s) from local.db to the global database",
	     m->n_keys, names != NULL ? " " : "", names != NULL ? names : "",
	     m->n_certs);
	if (rv != 0) {
		LOGE("daemon: could not remove them from local.db: %s (they "
		     "are moved again, to no effect, at the next start)",
		     nodedb_errmsg(d->nodedb));
	}
	cJSON_free(names);
	cJSON_Delete(legacy);
	daemon_config_refresh(d);
}

static void write_cb(struct gdb_request *req, int status)
{
	struct daemon_migration *m = req->data;
	struct daemon *d = m->d;
	d->migration = NULL;
	if (status == 0) {
		forget_local(m);
	} else {
		LOGE("daemon: could not move %zu cluster-wide config value(s) "
		     "and %zu trusted certificate(s) from local.db to the "
		     "global database: %s (they stay in local.db and are moved "
		     "at the next start; until then those certificates are "
		     "not trusted)",
		     m->n_keys, m->n_certs, req->errmsg);
	}
	migration_free(m);
	daemon_global_migrated(d);
}

/* Statements for the legacy config keys and the certificates. */
static void build(struct daemon_migration *m)
{
	struct daemon *d = m->d;
	m->n_keys = (size_t)cJSON_GetArraySize(d->legacy_global);
	m->stmts = tm_calloc(m->n_keys + m->n_certs, sizeof *m->stmts);
	const cJSON *item;
	cJSON_ArrayForEach(item, d->legacy_global)
	{
		struct gdb_stmt *st = add_stmt(m, insert_key, 2);
		set_text(&st->params[0], item->string);
		set_text(&st->params[1], item->valuestring);
	}
	for (size_t i = 0; i < m->n_certs; i++) {
		const struct nodedb_cert *c = &m->certs[i];
		struct gdb_stmt *st = add_stmt(m, insert_cert, 5);
		set_text(&st->params[0], c->fingerprint);
		set_text(&st->params[1], c->name);
		set_text(&st->params[2], c->type);
		set_text(&st->params[3], c->certificate);
		st->params[4].type = GDB_INT;
		st->params[4].i = c->added_at;
	}
}

void daemon_migrate(struct daemon *d)
{
	struct daemon_migration *m = tm_calloc(1, sizeof *m);
	m->d = d;
	if (nodedb_cert_list(d->nodedb, &m->certs, &m->n_certs) != 0) {
		LOGE("daemon: local.db: cannot list the certificates to move "
		     "to the global database: %s",
		     nodedb_errmsg(d->nodedb));
		m->certs = NULL;
		m->n_certs = 0;
	}
	if (d->legacy_global == NULL && m->n_certs == 0) {
		migration_free(m);
		daemon_global_migrated(d);
		return;
	}
	build(m);
	m->req.data = m;
	m->req.stmts = m->stmts;
	m->req.n_stmts = m->n;
	m->req.transaction = true;
	d->migration = m;
	LOGI("daemon: moving %zu cluster-wide config value(s) and %zu trusted "
	     "certificate(s) from local.db to the global database",
	     m->n_keys, m->n_certs);
	gdb_write(d->gdb, &m->req, write_cb);
}

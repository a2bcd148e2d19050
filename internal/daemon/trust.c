/* The trust store: the global database's certificates table, held in
 * memory (trust_set.h) so that the check made for each TLS request costs
 * no SQL.
 *
 * The set is rebuilt whole when an applied entry changes the table
 * (gdb_watch: "therm trust" on any member, a member joining, a SQL write,
 * a restore, an installed snapshot) and when the global database becomes
 * ready; until the table has been read it is empty, so TLS clients get
 * 403 while the unix socket works (members of the local member list are
 * let in until the member is ready: daemon_trust_cb). After each rebuild the REST server
 * closes the connections whose certificate is no longer trusted, so a
 * removal takes effect everywhere at once, open connections included. */
#include "internal/daemon/daemon_priv.h"
#include "internal/db/cluster/gdb.h"
#include "internal/lib/log.h"
#include "internal/rest/rest.h"

/* The table's rows into OUT; false if it cannot be read (no table yet:
 * the global schema is updated at start). */
static bool read_table(struct gdb *g, struct trust_set *out)
{
	sqlite3 *db = gdb_exec_conn(g);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db,
			       "SELECT fingerprint, name, type, certificate, "
			       "added_at FROM certificates",
			       -1, &st, NULL) != SQLITE_OK) {
		LOGD("daemon: certificates table: %s", sqlite3_errmsg(db));
		return false;
	}
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *fp = (const char *)sqlite3_column_text(st, 0);
		if (!trust_set_add(out, fp,
				   (const char *)sqlite3_column_text(st, 1),
				   (const char *)sqlite3_column_text(st, 2),
				   (const char *)sqlite3_column_text(st, 3),
				   sqlite3_column_int64(st, 4))) {
			LOGW("daemon: certificates table: ignoring the row of "
			     "fingerprint \"%.64s\" (bad fingerprint or type)",
			     fp != NULL ? fp : "");
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		LOGE("daemon: certificates table: %s", sqlite3_errmsg(db));
		return false;
	}
	trust_set_seal(out);
	return true;
}

void daemon_trust_reload(struct daemon *d)
{
	if (d->gdb == NULL) {
		return;
	}
	struct trust_set next;
	trust_set_init(&next);
	if (!read_table(d->gdb, &next)) {
		trust_set_clear(&next);
		return;
	}
	size_t before = d->trust.n;
	trust_set_clear(&d->trust);
	d->trust = next;
	if (before != d->trust.n) {
		LOGI("daemon: trust store: %zu certificate(s)", d->trust.n);
	}
	if (d->rest != NULL) {
		size_t closed = rest_server_revalidate(d->rest);
		if (closed > 0) {
			LOGI("daemon: closed %zu connection(s) of certificates "
			     "no longer trusted",
			     closed);
		}
	}
}

void daemon_trust_watch_cb(void *arg, const char *table)
{
	(void)table;
	daemon_trust_reload(arg);
}

bool daemon_trust_client(struct daemon *d, const char *fp)
{
	return trust_set_find(&d->trust, fp, "client") != NULL;
}

bool daemon_trust_member(struct daemon *d, const char *fp)
{
	return trust_set_find(&d->trust, fp, "server") != NULL;
}

bool daemon_trust_cb(void *data, const char *fingerprint)
{
	struct daemon *d = data;
	/* Members call each other's API with their own certificate. Until
	 * this member is ready the table may not be read yet (a restarted
	 * member applies its log once a leader confirms it, and may be that
	 * leader): the members of its local list are let in meanwhile, as
	 * raft's transport lets them in, so that what they relay to it
	 * reaches the handlers, which wait until it is ready
	 * (api/global_wait.h). Connections let in so are checked against
	 * the table once it is ready (daemon_global_migrated). */
	if (trust_set_find(&d->trust, fingerprint, NULL) != NULL) {
		return true;
	}
	return d->state != DAEMON_READY && d->phase != CLUSTER_STANDALONE &&
	       cluster_is_member_fingerprint(d, fingerprint);
}

const struct trust_set *daemon_trust_store(struct daemon *d)
{
	return &d->trust;
}

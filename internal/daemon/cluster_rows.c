/* Reading the members table on the loop (a few rows, from this member's
 * copy), and small helpers for the cluster's replicated writes. */
#include <stdio.h>
#include <string.h>

#include "internal/daemon/cluster_internal.h"
#include "internal/daemon/daemon_priv.h"
#include "internal/lib/mem.h"

void cluster_text(struct gdb_value *v, const char *s)
{
	v->type = GDB_TEXT;
	v->p = (char *)s;
	v->n = strlen(s);
}

void cluster_int(struct gdb_value *v, int64_t i)
{
	v->type = GDB_INT;
	v->i = i;
}

int cluster_check_ready(struct daemon *d, char *errmsg)
{
	if (!d->self.clustered) {
		tm_errmsg_printf(errmsg,
				 "this member is not part of a cluster: "
				 "create one with: therm cluster enable NAME, "
				 "or join one with: therm cluster join TOKEN");
		return TM_INVALID;
	}
	if (d->state != DAEMON_READY || d->gdb == NULL) {
		tm_errmsg_printf(errmsg, "the member is not ready yet%s%s",
				 d->cluster_message[0] != '\0' ? ": " : "",
				 d->cluster_message);
		return TM_BUSY;
	}
	return 0;
}

int cluster_check_leader(struct daemon *d, char *errmsg)
{
	int rv = cluster_check_ready(d, errmsg);
	if (rv == 0 && cluster_follows(d)) {
		tm_errmsg_printf(errmsg, "this member is not the leader");
		rv = TM_NOTLEADER;
	}
	return rv;
}

static void copy(char *dst, size_t size, sqlite3_stmt *st, int col)
{
	const char *s = (const char *)sqlite3_column_text(st, col);
	snprintf(dst, size, "%s", s != NULL ? s : "");
}

int cluster_rows(struct daemon *d, struct cluster_row **out, size_t *n,
		 char *errmsg)
{
	*out = NULL;
	*n = 0;
	sqlite3 *db = gdb_exec_conn(d->gdb);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db,
			       "SELECT id, name, address, role, fingerprint, "
			       "failure_domain, description, schema_version, "
			       "api_extensions FROM members ORDER BY name",
			       -1, &st, NULL) != SQLITE_OK) {
		tm_errmsg_printf(errmsg, "read members: %s",
				 sqlite3_errmsg(db));
		return TM_DB;
	}
	size_t cap = 0;
	struct cluster_row *rows = NULL;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap == 0 ? 8 : 2 * cap;
			rows = tm_realloc(rows, cap * sizeof *rows);
		}
		struct cluster_row *r = &rows[(*n)++];
		memset(r, 0, sizeof *r);
		r->id = (uint64_t)sqlite3_column_int64(st, 0);
		copy(r->name, sizeof r->name, st, 1);
		copy(r->address, sizeof r->address, st, 2);
		copy(r->role, sizeof r->role, st, 3);
		copy(r->fingerprint, sizeof r->fingerprint, st, 4);
		copy(r->failure_domain, sizeof r->failure_domain, st, 5);
		copy(r->description, sizeof r->description, st, 6);
		r->schema_version = sqlite3_column_int(st, 7);
		r->api_extensions = sqlite3_column_int(st, 8);
	}
	sqlite3_finalize(st);
	*out = rows;
	return 0;
}

/* Cluster events from the members table: every member keeps the table as
 * it last saw it (d->ev_members) and compares when an applied entry
 * changes it; the leader, which applied the change as every member did,
 * is the one that tells (location: the leader), so that each change is
 * told once. Joined, removed, renamed and role changed. The first read,
 * when the global database becomes ready, tells nothing. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "internal/daemon/cluster_internal.h"
#include "internal/daemon/daemon_priv.h"
#include "internal/daemon/events_internal.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"
#include "internal/raft/raftnode.h"

static const struct ev_member *find(const struct ev_member *list, size_t n,
				    uint64_t id)
{
	for (size_t i = 0; i < n; i++) {
		if (list[i].id == id) {
			return &list[i];
		}
	}
	return NULL;
}

static void tell(struct daemon *d, const char *action, const char *name,
		 const char *key, const char *old, const char *value)
{
	cJSON *meta = cJSON_CreateObject();
	cJSON_AddStringToObject(meta, "action", action);
	cJSON_AddStringToObject(meta, "name", name);
	if (key != NULL) {
		char *old_key = tm_asprintf("old_%s", key);
		if (old != NULL) {
			cJSON_AddStringToObject(meta, old_key, old);
		}
		cJSON_AddStringToObject(meta, key, value);
		tm_free(old_key);
	}
	daemon_emit(d, EVENTS_CLUSTER, LOG_INFO, meta);
}

static void compare(struct daemon *d, const struct ev_member *old, size_t n_old,
		    const struct ev_member *now, size_t n_now)
{
	for (size_t i = 0; i < n_now; i++) {
		const struct ev_member *m = &now[i];
		const struct ev_member *o = find(old, n_old, m->id);
		if (o == NULL) {
			tell(d, "member-joined", m->name, "address", NULL,
			     m->address);
			continue;
		}
		if (strcmp(o->name, m->name) != 0) {
			tell(d, "member-renamed", m->name, "name", o->name,
			     m->name);
		}
		if (strcmp(o->role, m->role) != 0) {
			tell(d, "member-role-changed", m->name, "role", o->role,
			     m->role);
		}
	}
	for (size_t i = 0; i < n_old; i++) {
		if (find(now, n_now, old[i].id) == NULL) {
			tell(d, "member-removed", old[i].name, NULL, NULL,
			     NULL);
		}
	}
}

static bool leads(struct daemon *d)
{
	return d->raftnode != NULL && !d->raft_closing &&
	       raft_state(raftnode_raft(d->raftnode)) == RAFT_LEADER;
}

void daemon_events_members_changed(struct daemon *d)
{
	if (d->gdb == NULL) {
		return;
	}
	struct cluster_row *rows;
	size_t n;
	char errmsg[TM_ERRMSG_SIZE];
	if (cluster_rows(d, &rows, &n, errmsg) != 0) {
		return; /* no members table yet */
	}
	struct ev_member *now = tm_calloc(n + 1, sizeof *now);
	for (size_t i = 0; i < n; i++) {
		now[i].id = rows[i].id;
		snprintf(now[i].name, sizeof now[i].name, "%s", rows[i].name);
		snprintf(now[i].address, sizeof now[i].address, "%s",
			 rows[i].address);
		snprintf(now[i].role, sizeof now[i].role, "%s", rows[i].role);
	}
	tm_free(rows);
	if (d->ev_members_loaded && d->state == DAEMON_READY && leads(d)) {
		compare(d, d->ev_members, d->n_ev_members, now, n);
	}
	tm_free(d->ev_members);
	d->ev_members = now;
	d->n_ev_members = n;
	d->ev_members_loaded = true;
}

void daemon_events_member_state(struct daemon *d, const char *name,
				const char *old_state, const char *new_state,
				const char *message)
{
	/* "member-online", "member-offline", "member-blocked". */
	char action[32];
	int n = snprintf(action, sizeof action, "member-%s", new_state);
	for (int i = 0; i < n && (size_t)i < sizeof action; i++) {
		action[i] = (char)tolower((unsigned char)action[i]);
	}
	cJSON *meta = cJSON_CreateObject();
	cJSON_AddStringToObject(meta, "action", action);
	cJSON_AddStringToObject(meta, "name", name);
	cJSON_AddStringToObject(meta, "old_state", old_state);
	cJSON_AddStringToObject(meta, "state", new_state);
	cJSON_AddStringToObject(meta, "message",
				message != NULL ? message : "");
	daemon_emit(d, EVENTS_CLUSTER, LOG_INFO, meta);
}

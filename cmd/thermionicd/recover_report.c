/* What `thermionicd recover --dir DIR` shows: this member, its log and
 * the configuration it has, each other member with whether it answers. */
#include <string.h>

#include "cmd/thermionicd/recover.h"
#include "internal/lib/mem.h"

#define PROBE_TIMEOUT_MS 2000

static const char *role_name(int role)
{
	switch (role) {
	case RAFT_VOTER:
		return "voter";
	case RAFT_STANDBY:
		return "standby";
	case RAFT_SPARE:
		return "spare";
	default:
		return "";
	}
}

static const struct nodedb_raft_node *listed(const struct recover_state *s,
					     uint64_t id)
{
	for (size_t i = 0; i < s->n_list; i++) {
		if (s->list[i].id == id) {
			return &s->list[i];
		}
	}
	return NULL;
}

static void add_probe(struct recover_state *s, size_t *cap, const char *address)
{
	if (address == NULL || address[0] == '\0' ||
	    recover_state_probe_of(s, address) != NULL ||
	    (s->self_address != NULL &&
	     strcmp(address, s->self_address) == 0)) {
		return;
	}
	if (s->n_probes == *cap) {
		*cap = *cap * 2 + 4;
		s->probes = tm_realloc(s->probes, *cap * sizeof *s->probes);
	}
	memset(&s->probes[s->n_probes], 0, sizeof *s->probes);
	s->probes[s->n_probes++].address = address;
}

void recover_state_probe(struct recover_state *s)
{
	size_t cap = 0;
	for (size_t i = 0; i < s->n_list; i++) {
		if (s->list[i].id != s->self.id) {
			add_probe(s, &cap, s->list[i].address);
		}
	}
	for (unsigned i = 0; i < s->log.conf.n; i++) {
		if (s->log.conf.servers[i].id != s->self.id) {
			add_probe(s, &cap, s->log.conf.servers[i].address);
		}
	}
	recover_probe_all(s->dir, s->probes, s->n_probes, PROBE_TIMEOUT_MS);
}

const struct recover_probe *
recover_state_probe_of(const struct recover_state *s, const char *address)
{
	for (size_t i = 0; i < s->n_probes; i++) {
		if (strcmp(s->probes[i].address, address) == 0) {
			return &s->probes[i];
		}
	}
	return NULL;
}

void recover_state_clear(struct recover_state *s)
{
	tm_free(s->self_address);
	nodedb_raft_nodes_free(s->list, s->n_list);
	recover_log_clear(&s->log);
	tm_free(s->probes);
	memset(s, 0, sizeof *s);
}

static cJSON *member_row(const struct recover_state *s, uint64_t id,
			 const char *name, const char *address, int role)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddNumberToObject(o, "id", (double)id);
	cJSON_AddStringToObject(o, "address", address);
	cJSON_AddStringToObject(o, "role", role_name(role));
	cJSON_AddBoolToObject(o, "in_configuration", role >= 0);
	if (id == s->self.id) {
		cJSON_AddStringToObject(o, "answers", "this member");
		return o;
	}
	const struct recover_probe *p = recover_state_probe_of(s, address);
	cJSON_AddStringToObject(o, "answers",
				p == NULL    ? "not asked"
				: p->answers ? "yes"
					     : "no");
	cJSON_AddStringToObject(o, "probe", p != NULL ? p->problem : "");
	return o;
}

cJSON *recover_report_members(const struct recover_state *s)
{
	cJSON *rows = cJSON_CreateArray();
	const struct raft_configuration *c = &s->log.conf;
	for (unsigned i = 0; i < c->n; i++) {
		const struct nodedb_raft_node *n = listed(s, c->servers[i].id);
		/* The list's address is the freshest (a member that moved
		 * keeps its raft address), and the one probed first. */
		const char *address =
		    n != NULL ? n->address : c->servers[i].address;
		cJSON_AddItemToArray(rows,
				     member_row(s, c->servers[i].id,
						n != NULL ? n->name : "",
						address, c->servers[i].role));
		if (strcmp(address, c->servers[i].address) != 0) {
			cJSON *last = cJSON_GetArrayItem(
			    rows, cJSON_GetArraySize(rows) - 1);
			cJSON_AddStringToObject(last, "raft_address",
						c->servers[i].address);
		}
	}
	for (size_t i = 0; i < s->n_list; i++) {
		bool in_conf = false;
		for (unsigned j = 0; j < c->n; j++) {
			in_conf |= c->servers[j].id == s->list[i].id;
		}
		if (!in_conf) {
			cJSON_AddItemToArray(
			    rows, member_row(s, s->list[i].id, s->list[i].name,
					     s->list[i].address, -1));
		}
	}
	return rows;
}

cJSON *recover_report(const struct recover_state *s)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *m = cJSON_AddObjectToObject(o, "member");
	cJSON_AddStringToObject(m, "name", s->self.name);
	cJSON_AddNumberToObject(m, "id", (double)s->self.id);
	cJSON_AddStringToObject(m, "address",
				s->self_address != NULL ? s->self_address : "");
	cJSON *l = cJSON_AddObjectToObject(o, "log");
	const struct recover_log *g = &s->log;
	cJSON_AddNumberToObject(l, "last_index", (double)g->last_index);
	cJSON_AddNumberToObject(l, "last_term", (double)g->last_term);
	cJSON_AddNumberToObject(l, "first_index", (double)g->first_index);
	cJSON_AddNumberToObject(l, "snapshot_index", (double)g->snapshot_index);
	cJSON_AddNumberToObject(l, "snapshot_term", (double)g->snapshot_term);
	cJSON_AddNumberToObject(l, "term", (double)g->term);
	cJSON_AddNumberToObject(l, "voted_for", (double)g->voted_for);
	cJSON_AddNumberToObject(l, "watermark", (double)g->watermark);
	cJSON_AddNumberToObject(l, "configuration_index",
				(double)g->conf_index);
	cJSON_AddItemToObject(o, "members", recover_report_members(s));
	return o;
}

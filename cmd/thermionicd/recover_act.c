/* thermionicd recover with an action: the plan -> refused while a member
 * left out answers -> shown and stopped without --yes -> backup ->
 * raft_recover -> the local member list and this member's address. */
#include <stdio.h>
#include <string.h>

#include "cmd/thermionicd/recover.h"
#include "internal/lib/err.h"
#include "internal/lib/mem.h"

static const char *raft_address(const struct recover_state *s, uint64_t id)
{
	for (unsigned i = 0; i < s->log.conf.n; i++) {
		if (s->log.conf.servers[i].id == id) {
			return s->log.conf.servers[i].address;
		}
	}
	return NULL;
}

/* 1 if a lost member answers at its listed or its raft address. */
static int refuse_answering(const struct recover_state *s,
			    const struct recover_plan *p)
{
	int refused = 0;
	for (size_t i = 0; i < p->n_lost; i++) {
		const char *addresses[2] = {p->lost[i].address,
					    raft_address(s, p->lost[i].id)};
		for (int k = 0; k < 2; k++) {
			const struct recover_probe *probe =
			    addresses[k] != NULL
				? recover_state_probe_of(s, addresses[k])
				: NULL;
			if (probe == NULL || !probe->answers) {
				continue;
			}
			fprintf(stderr,
				"thermionicd recover: %s at %s still "
				"answers: recovering now would split the "
				"cluster; stop it for good, or name it among "
				"the survivors\n",
				p->lost[i].name[0] != '\0' ? p->lost[i].name
							   : "a member",
				addresses[k]);
			refused = 1;
			break;
		}
	}
	return refused;
}

static cJSON *node_json(const struct nodedb_raft_node *n, bool voter)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", n->name);
	cJSON_AddNumberToObject(o, "id", (double)n->id);
	cJSON_AddStringToObject(o, "address", n->address);
	cJSON_AddStringToObject(o, "role", voter ? "voter" : "lost");
	return o;
}

static char *survivor_names(const struct recover_plan *p)
{
	char *names = tm_strdup("");
	for (size_t i = 0; i < p->n_nodes; i++) {
		char *more = tm_asprintf("%s%s%s", names, i > 0 ? "," : "",
					 p->nodes[i].name);
		tm_free(names);
		names = more;
	}
	return names;
}

static cJSON *plan_json(const struct recover_state *s,
			const struct recover_plan *p, const char *backup)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "member", s->self.name);
	cJSON_AddNumberToObject(o, "last_index", (double)s->log.last_index);
	cJSON_AddNumberToObject(o, "last_term", (double)s->log.last_term);
	cJSON_AddBoolToObject(o, "recovered", backup != NULL);
	cJSON_AddStringToObject(o, "backup", backup != NULL ? backup : "");
	char *names = survivor_names(p);
	char *note = tm_asprintf(
	    "run the recovery with --survivors %s (any order) and the same "
	    "--address options on every survivor; several survivors only if "
	    "their last index and term are the same, else recover the most "
	    "up-to-date alone and have the others join again",
	    names);
	cJSON_AddStringToObject(o, "survivors", names);
	cJSON_AddStringToObject(o, "note", note);
	tm_free(note);
	tm_free(names);
	cJSON *rows = cJSON_AddArrayToObject(o, "configuration");
	for (size_t i = 0; i < p->n_nodes; i++) {
		cJSON_AddItemToArray(rows, node_json(&p->nodes[i], true));
	}
	for (size_t i = 0; i < p->n_lost; i++) {
		cJSON_AddItemToArray(rows, node_json(&p->lost[i], false));
	}
	return o;
}

/* The local member list and, if it moved, this member's address. */
static int update_local(const struct recover_state *s,
			const struct recover_plan *p, char *errmsg)
{
	struct nodedb *db;
	int rv = nodedb_open(s->dir, &db, errmsg);
	if (rv != 0) {
		return rv;
	}
	rv = nodedb_raft_nodes_replace(db, p->nodes, p->n_nodes);
	cJSON *config = NULL;
	if (rv == 0 && p->self_address != NULL) {
		rv = nodedb_config_load(db, &config);
		if (rv == 0) {
			cJSON_DeleteItemFromObjectCaseSensitive(
			    config, "core.https_address");
			cJSON_AddStringToObject(config, "core.https_address",
						p->self_address);
			rv = nodedb_config_replace(db, config);
		}
	}
	if (rv != 0) {
		tm_errmsg_printf(errmsg, "update %s: %s", NODEDB_FILE,
				 nodedb_errmsg(db));
	}
	cJSON_Delete(config);
	nodedb_close(db);
	return rv;
}

static int change(struct recover_state *s, const struct recover_plan *p,
		  char **backup, char *errmsg)
{
	int rv = recover_backup(s->dir, backup, errmsg);
	if (rv != 0) {
		tm_errmsg_wrapf(errmsg, "backup (nothing was changed)");
		return rv;
	}
	rv = recover_apply(s->dir, &p->conf, errmsg);
	if (rv == 0) {
		rv = update_local(s, p, errmsg);
	}
	if (rv != 0) {
		tm_errmsg_wrapf(errmsg,
				"the state before the recovery is in %s; put "
				"it back before trying again",
				*backup);
	}
	return rv;
}

int recover_act(struct recover_state *s, const struct recover_opts *o)
{
	struct recover_plan plan;
	char errmsg[TM_ERRMSG_SIZE] = "";
	int rv = recover_plan_make(s->self.id, s->list, s->n_list, &s->log.conf,
				   o->survivors, o->moves, o->n_moves, &plan,
				   errmsg);
	if (rv != 0) {
		fprintf(stderr, "thermionicd recover: %s\n", errmsg);
		return 2;
	}
	if (refuse_answering(s, &plan)) {
		recover_plan_clear(&plan);
		return 1;
	}
	char *backup = NULL;
	if (o->yes) {
		rv = change(s, &plan, &backup, errmsg);
		if (rv != 0) {
			fprintf(stderr, "thermionicd recover: %s\n", errmsg);
			tm_free(backup);
			recover_plan_clear(&plan);
			return 1;
		}
	}
	cJSON *report = plan_json(s, &plan, backup);
	rv = recover_print(stdout, o->format, report, "configuration");
	cJSON_Delete(report);
	if (!o->yes) {
		fprintf(stderr, "thermionicd recover: nothing was changed: add "
				"--yes to recover\n");
	} else {
		fprintf(stderr,
			"thermionicd recover: done; the state before it is in "
			"%s; start thermionicd, then remove the lost members "
			"with: therm cluster remove --force NAME\n",
			backup);
	}
	tm_free(backup);
	recover_plan_clear(&plan);
	return rv == 0 && o->yes ? 0 : 1;
}

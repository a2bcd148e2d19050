/* The new configuration from --survivors and --address: pure, no I/O.
 *
 * Members are known by the union of the configuration in force and the
 * local member list (which holds names, fingerprints and the freshest
 * addresses). Survivors become voters at their listed address, or the
 * one --address gives; everything else known is lost. */
#include <stdio.h>
#include <string.h>

#include "internal/config/config.h"
#include "internal/lib/err.h"
#include "internal/lib/mem.h"
#include "internal/recover/recover.h"

#define PLAN_MAX_SURVIVORS 64

struct known {
	uint64_t id;
	const char *name;	 /* "" when only raft knows it */
	const char *address;	 /* list's, else raft's */
	const char *fingerprint; /* "" when unknown */
	bool survives;
	char *moved_to; /* owned, NULL: unchanged */
};

static struct known *known_find(struct known *k, size_t n, uint64_t id)
{
	for (size_t i = 0; i < n; i++) {
		if (k[i].id == id) {
			return &k[i];
		}
	}
	return NULL;
}

static struct known *known_named(struct known *k, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (name[0] != '\0' && strcmp(k[i].name, name) == 0) {
			return &k[i];
		}
	}
	return NULL;
}

static size_t known_make(const struct nodedb_raft_node *list, size_t n_list,
			 const struct raft_configuration *conf, struct known *k)
{
	size_t n = 0;
	for (size_t i = 0; i < n_list; i++) {
		k[n++] = (struct known){list[i].id,	 list[i].name,
					list[i].address, list[i].fingerprint,
					false,		 NULL};
	}
	for (unsigned i = 0; i < conf->n; i++) {
		const struct raft_server *s = &conf->servers[i];
		if (known_find(k, n, s->id) == NULL) {
			k[n++] = (struct known){s->id, "",    s->address,
						"",    false, NULL};
		}
	}
	return n;
}

static void known_names(const struct known *k, size_t n, char *buf, size_t size)
{
	size_t len = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n && len < size; i++) {
		if (k[i].name[0] == '\0') {
			continue;
		}
		int w = snprintf(buf + len, size - len, "%s%s",
				 len > 0 ? ", " : "", k[i].name);
		len += w > 0 ? (size_t)w : 0;
	}
}

static int mark_survivors(struct known *k, size_t n, uint64_t self,
			  const char *survivors, char *errmsg)
{
	struct known *me = known_find(k, n, self);
	if (survivors == NULL) {
		if (me != NULL) {
			me->survives = true;
		}
		return 0;
	}
	char *copy = tm_strdup(survivors);
	char *save = NULL;
	int rv = 0;
	for (char *name = strtok_r(copy, ",", &save); rv == 0 && name != NULL;
	     name = strtok_r(NULL, ",", &save)) {
		struct known *m = known_named(k, n, name);
		if (m == NULL) {
			char names[160];
			known_names(k, n, names, sizeof names);
			tm_errmsg_printf(errmsg,
					 "no member named \"%s\" in this "
					 "member's list (members: %s)",
					 name, names);
			rv = TM_INVALID;
		} else if (m->survives) {
			tm_errmsg_printf(errmsg, "\"%s\" is named twice", name);
			rv = TM_INVALID;
		}
		if (rv == 0) {
			m->survives = true;
		}
	}
	tm_free(copy);
	return rv;
}

static int apply_moves(struct known *k, size_t n,
		       const struct recover_move *moves, size_t n_moves,
		       char *errmsg)
{
	for (size_t i = 0; i < n_moves; i++) {
		struct known *m = known_named(k, n, moves[i].name);
		char reason[TM_ERRMSG_SIZE];
		char *address = NULL;
		if (m == NULL || !m->survives) {
			tm_errmsg_printf(errmsg, "--address %s: %s",
					 moves[i].name,
					 m == NULL ? "no member of that name"
						   : "not among the survivors");
			return TM_INVALID;
		}
		if (m->moved_to != NULL) {
			tm_errmsg_printf(errmsg, "--address %s given twice",
					 moves[i].name);
			return TM_INVALID;
		}
		if (config_address_normalize(moves[i].address, &address,
					     reason) != 0) {
			tm_errmsg_printf(errmsg, "--address %s=%s: %s",
					 moves[i].name, moves[i].address,
					 reason);
			return TM_INVALID;
		}
		if (strncmp(address, "0.0.0.0:", 8) == 0 ||
		    strncmp(address, "[::]:", 5) == 0) {
			tm_errmsg_printf(errmsg,
					 "--address %s=%s: a wildcard is no "
					 "address the other members can reach",
					 moves[i].name, address);
			tm_free(address);
			return TM_INVALID;
		}
		m->moved_to = address;
	}
	return 0;
}

static const char *address_of(const struct known *m)
{
	return m->moved_to != NULL ? m->moved_to : m->address;
}

/* No two survivors at one address. */
static int check_addresses(const struct known *k, size_t n, char *errmsg)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = i + 1; k[i].survives && j < n; j++) {
			if (k[j].survives &&
			    strcmp(address_of(&k[i]), address_of(&k[j])) == 0) {
				tm_errmsg_printf(errmsg,
						 "\"%s\" and \"%s\" would both "
						 "be at %s",
						 k[i].name, k[j].name,
						 address_of(&k[i]));
				return TM_INVALID;
			}
		}
	}
	return 0;
}

static void fill(struct recover_plan *out, const struct known *k, size_t n,
		 uint64_t self)
{
	out->nodes = tm_calloc(n + 1, sizeof *out->nodes);
	out->lost = tm_calloc(n + 1, sizeof *out->lost);
	for (size_t i = 0; i < n; i++) {
		struct nodedb_raft_node node = {
		    k[i].id, tm_strdup(address_of(&k[i])), RAFT_VOTER,
		    tm_strdup(k[i].name), tm_strdup(k[i].fingerprint)};
		if (k[i].survives) {
			raft_configuration_add(&out->conf, k[i].id,
					       node.address, RAFT_VOTER);
			out->nodes[out->n_nodes++] = node;
			if (k[i].id == self && k[i].moved_to != NULL) {
				out->self_address = tm_strdup(k[i].moved_to);
			}
		} else {
			node.role = -1;
			out->lost[out->n_lost++] = node;
		}
	}
}

int recover_plan_make(uint64_t self, const struct nodedb_raft_node *list,
		      size_t n_list, const struct raft_configuration *conf,
		      const char *survivors, const struct recover_move *moves,
		      size_t n_moves, struct recover_plan *out, char *errmsg)
{
	memset(out, 0, sizeof *out);
	raft_configuration_init(&out->conf);
	struct known *k = tm_calloc(n_list + conf->n + 1, sizeof *k);
	size_t n = known_make(list, n_list, conf, k);
	int rv = mark_survivors(k, n, self, survivors, errmsg);
	struct known *me = known_find(k, n, self);
	if (rv == 0 && (me == NULL || !me->survives)) {
		tm_errmsg_printf(errmsg,
				 "this member (%s) must be among the "
				 "survivors: run the recovery on each "
				 "survivor",
				 me != NULL ? me->name : "unknown");
		rv = TM_INVALID;
	}
	if (rv == 0) {
		rv = apply_moves(k, n, moves, n_moves, errmsg);
	}
	if (rv == 0) {
		rv = check_addresses(k, n, errmsg);
	}
	if (rv == 0) {
		fill(out, k, n, self);
	}
	for (size_t i = 0; i < n; i++) {
		tm_free(k[i].moved_to);
	}
	tm_free(k);
	return rv;
}

void recover_plan_clear(struct recover_plan *plan)
{
	raft_configuration_close(&plan->conf);
	nodedb_raft_nodes_free(plan->nodes, plan->n_nodes);
	nodedb_raft_nodes_free(plan->lost, plan->n_lost);
	tm_free(plan->self_address);
	memset(plan, 0, sizeof *plan);
	raft_configuration_init(&plan->conf);
}

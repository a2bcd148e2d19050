/* Where a cluster-wide configuration change is in force
 * (config_inforce.h).
 *
 * Happy path: the member list (global database) -> one notifier call,
 * GET /internal/cluster/applied?index=N&wait_ms=W to every member, this
 * one included, pinned to the cluster certificate -> each member answers
 * once it has applied N -> each is reported in force.
 *
 * Failure modes, reported per member and never failing the change: a
 * member down (connection refused), unreachable or silent (the request's
 * timeout), or not at N within W (its 504 says how far it got); the
 * member list cannot be read (this member alone is reported, with why);
 * the loop client is closed (the daemon stops: each member "not
 * reached"). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "internal/api/config_inforce.h"
#include "internal/client/hclient.h"
#include "internal/daemon/cluster.h"
#include "internal/daemon/daemon.h"
#include "internal/lib/mem.h"
#include "internal/notify/notify.h"

/* The request's own bound: the wait, and time to connect and answer. */
#define REQUEST_TIMEOUT_MS (CONFIG_INFORCE_WAIT_MS + 1000)

struct inforce {
	struct notify_req nreq;
	uint64_t index;
	char *path;
	cJSON *list; /* the member list, owned: names and addresses */
	config_inforce_cb cb;
	void *arg;
};

static cJSON *member_entry(const char *name, const char *address, bool in_force,
			   const char *message)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddStringToObject(o, "address", address);
	cJSON_AddBoolToObject(o, "in_force", in_force);
	cJSON_AddStringToObject(o, "message", message);
	return o;
}

/* One member's line from its result. */
static cJSON *result_entry(const struct inforce *f,
			   const struct notify_result *r)
{
	uint64_t applied = 0;
	if (r->ok &&
	    config_answer_index(r->body, r->body_len, "applied_index",
				&applied) &&
	    applied >= f->index) {
		return member_entry(r->name, r->address, true, "");
	}
	char message[TM_ERRMSG_SIZE];
	if (r->ok) {
		snprintf(message, sizeof message,
			 "%s: answered without the index it applied", r->name);
	} else {
		snprintf(message, sizeof message, "%s", r->errmsg);
	}
	/* "node2: connection refused": the name is the entry's already. */
	size_t n = strlen(r->name);
	const char *why = strncmp(message, r->name, n) == 0 &&
				  strncmp(message + n, ": ", 2) == 0
			      ? message + n + 2
			      : message;
	return member_entry(r->name, r->address, false, why);
}

static void called_cb(struct notify_req *nreq)
{
	struct inforce *f = nreq->data;
	cJSON *out = cJSON_CreateArray();
	for (size_t i = 0; i < nreq->n_results; i++) {
		cJSON_AddItemToArray(out, result_entry(f, &nreq->results[i]));
	}
	notify_req_clear(nreq);
	f->cb(f->arg, out);
	cJSON_Delete(f->list);
	tm_free(f->path);
	tm_free(f);
}

/* This member alone: not clustered, or the member list is unreadable. */
static void self_only(struct daemon *d, const char *message,
		      config_inforce_cb cb, void *arg)
{
	const char *name = cluster_member_name(d);
	cJSON *out = cJSON_CreateArray();
	cJSON_AddItemToArray(
	    out, member_entry(name[0] != '\0' ? name : "this member", "",
			      message[0] == '\0', message));
	cb(arg, out);
}

void config_inforce(struct daemon *d, uint64_t index, config_inforce_cb cb,
		    void *arg)
{
	const char *pin = cluster_fingerprint(d);
	if (pin[0] == '\0') {
		self_only(d, "", cb, arg); /* the write was applied here */
		return;
	}
	char errmsg[TM_ERRMSG_SIZE] = "";
	cJSON *list = cluster_member_list(d, true, errmsg);
	struct hclient *client = daemon_hclient(d);
	if (list == NULL || client == NULL) {
		cJSON_Delete(list);
		self_only(d, client == NULL ? "the member is stopping" : errmsg,
			  cb, arg);
		return;
	}
	size_t n = (size_t)cJSON_GetArraySize(list);
	struct notify_member *members = tm_calloc(n + 1, sizeof *members);
	size_t i = 0;
	const cJSON *m;
	cJSON_ArrayForEach(m, list)
	{
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(m, "name");
		const cJSON *address =
		    cJSON_GetObjectItemCaseSensitive(m, "address");
		if (cJSON_IsString(name) && cJSON_IsString(address)) {
			members[i++] = (struct notify_member){
			    name->valuestring, address->valuestring, pin};
		}
	}
	struct inforce *f = tm_calloc(1, sizeof *f);
	f->index = index;
	f->list = list;
	f->cb = cb;
	f->arg = arg;
	f->path = tm_asprintf("/internal/cluster/applied?index=%" PRIu64
			      "&wait_ms=%d",
			      index, CONFIG_INFORCE_WAIT_MS);
	f->nreq.data = f;
	f->nreq.method = "GET";
	f->nreq.path = f->path;
	f->nreq.timeout_ms = REQUEST_TIMEOUT_MS;
	f->nreq.policy = NOTIFY_TRY_ALL;
	f->nreq.max_concurrent = 64; /* each mostly waits */
	int rv = notify_call(client, &f->nreq, members, i, called_cb);
	tm_free(members);
	if (rv != 0) {
		char why[TM_ERRMSG_SIZE];
		snprintf(why, sizeof why, "%s", f->nreq.errmsg);
		cJSON_Delete(list);
		tm_free(f->path);
		tm_free(f);
		self_only(d, why, cb, arg);
	}
}

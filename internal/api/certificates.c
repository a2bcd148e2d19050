/* /1.0/certificates: the cluster's trust store, the global database's
 * certificates table. A client whose TLS certificate is there with type
 * "client" may use the whole API on every member; type "server" is a
 * member's own certificate (written by the clustering code).
 *
 * Reads are served from the member's copy in memory (daemon_trust_store);
 * adding and removing are replicated writes, answered once applied on the
 * leader: a follower relays them there (api_to_leader), waiting for one if
 * none is known. Every member rebuilds its copy when the write is applied,
 * and closes the connections of a certificate removed. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal/api/api.h"
#include "internal/api/cluster_http.h"
#include "internal/api/global_wait.h"
#include "internal/api/write.h"
#include "internal/daemon/daemon.h"
#include "internal/daemon/trust_set.h"
#include "internal/lib/mem.h"
#include "internal/tls/tls.h"

static cJSON *cert_json(const char *fp, const char *name, const char *type,
			const char *pem, int64_t added_at)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "fingerprint", fp);
	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddStringToObject(o, "type", type);
	cJSON_AddStringToObject(o, "certificate", pem);
	cJSON_AddNumberToObject(o, "added_at", (double)added_at);
	return o;
}

static cJSON *trusted_json(const struct trust_cert *c)
{
	return cert_json(c->fingerprint, c->name, c->type, c->certificate,
			 c->added_at);
}

static const struct trust_set *store(struct rest_request *req)
{
	return daemon_trust_store(rest_server_data(req));
}

/* Listed by name, then fingerprint. */
static int by_name(const void *a, const void *b)
{
	const struct trust_cert *x = *(const struct trust_cert *const *)a;
	const struct trust_cert *y = *(const struct trust_cert *const *)b;
	int c = strcmp(x->name, y->name);
	return c != 0 ? c : strcmp(x->fingerprint, y->fingerprint);
}

void api_certificates_get(struct rest_request *req)
{
	const struct trust_set *s = store(req);
	const struct trust_cert **sorted = tm_calloc(s->n + 1, sizeof *sorted);
	for (size_t i = 0; i < s->n; i++) {
		sorted[i] = &s->v[i];
	}
	qsort(sorted, s->n, sizeof *sorted, by_name);
	cJSON *list = cJSON_CreateArray();
	for (size_t i = 0; i < s->n; i++) {
		cJSON_AddItemToArray(list, trusted_json(sorted[i]));
	}
	tm_free(sorted);
	rest_respond_sync(req, list, NULL);
}

static const char *const post_fields[] = {"certificate", "name", "type", NULL};

/* The certificate being added, answered once the write is applied. */
struct add {
	char fingerprint[TLS_FINGERPRINT_LEN + 1];
	char *name;	   /* owned */
	char *certificate; /* owned, canonical PEM */
	int64_t added_at;
};

static void add_free(struct add *a)
{
	tm_free(a->name);
	tm_free(a->certificate);
	tm_free(a);
}

static void add_done_cb(struct api_write *w, int status)
{
	struct add *a = w->data;
	if (api_write_conflict(w, 0)) {
		rest_respond_error(w->req, 409,
				   "certificate %s is already trusted",
				   a->fingerprint);
	} else if (status != 0) {
		api_write_fail(w, status, "add certificate");
	} else {
		rest_respond_sync(w->req,
				  cert_json(a->fingerprint, a->name, "client",
					    a->certificate, a->added_at),
				  NULL);
	}
	api_write_free(w);
	add_free(a);
}

/* The body's fields, checked; answers 400 itself and returns NULL. */
static struct add *parse_add(struct rest_request *req, const cJSON *body)
{
	char errmsg[TM_ERRMSG_SIZE];
	if (!api_check_fields(req, body, post_fields)) {
		return NULL;
	}
	const cJSON *pem =
	    cJSON_GetObjectItemCaseSensitive(body, "certificate");
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(body, "name");
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(body, "type");
	if (!cJSON_IsString(pem)) {
		rest_respond_error(
		    req, 400, "field \"certificate\" (PEM text) is required");
		return NULL;
	}
	if (name != NULL && !cJSON_IsString(name)) {
		rest_respond_error(req, 400, "field \"name\" must be a string");
		return NULL;
	}
	if (type != NULL && (!cJSON_IsString(type) ||
			     strcmp(type->valuestring, "client") != 0)) {
		rest_respond_error(req, 400,
				   "field \"type\" must be \"client\"");
		return NULL;
	}
	struct add *a = tm_calloc(1, sizeof *a);
	char *cn = NULL;
	if (tls_cert_parse(pem->valuestring, &a->certificate, a->fingerprint,
			   &cn, errmsg) != 0) {
		rest_respond_error(req, 400, "invalid certificate: %s", errmsg);
		add_free(a);
		return NULL;
	}
	a->name = tm_strdup(name != NULL && name->valuestring[0] != '\0'
				? name->valuestring
				: cn);
	tm_free(cn);
	if (a->name[0] == '\0') {
		rest_respond_error(req, 400,
				   "the certificate has no common name: give "
				   "field \"name\"");
		add_free(a);
		return NULL;
	}
	a->added_at = (int64_t)time(NULL);
	return a;
}

void api_certificates_post(struct rest_request *req)
{
	if (daemon_gdb(rest_server_data(req)) == NULL && api_global_wait(req)) {
		return; /* the trust store is read once ready */
	}
	if (api_to_leader(req)) {
		return; /* a follower: the leader writes it */
	}
	cJSON *body = rest_body_json(req);
	if (body == NULL) {
		return;
	}
	struct add *a = parse_add(req, body);
	cJSON_Delete(body);
	if (a == NULL) {
		return;
	}
	if (trust_set_find(store(req), a->fingerprint, NULL) != NULL) {
		rest_respond_error(req, 409,
				   "certificate %s is already trusted",
				   a->fingerprint);
		add_free(a);
		return;
	}
	struct api_write *w = api_write_new(req, a);
	size_t i = api_write_stmt(w,
				  "INSERT INTO certificates (fingerprint, "
				  "name, type, certificate, added_at) "
				  "VALUES (?, ?, 'client', ?, ?)",
				  4);
	api_write_text(w, i, 0, a->fingerprint);
	api_write_text(w, i, 1, a->name);
	api_write_text(w, i, 2, a->certificate);
	api_write_int(w, i, 3, a->added_at);
	if (!api_write_submit(w, add_done_cb)) {
		add_free(a);
	}
}

/* The certificate named by the path; answers the error itself. */
static const struct trust_cert *lookup(struct rest_request *req)
{
	char errmsg[TM_ERRMSG_SIZE];
	const char *fp = rest_path_param(req);
	const struct trust_cert *c = NULL;
	int rv = trust_set_prefix(store(req), fp, &c, errmsg);
	if (rv == TM_NOTFOUND) {
		rest_respond_error(req, 404, "certificate %s not found", fp);
	} else if (rv != 0) {
		rest_respond_error(req, 400, "%s", errmsg);
	}
	return rv == 0 ? c : NULL;
}

void api_certificate_get(struct rest_request *req)
{
	const struct trust_cert *c = lookup(req);
	if (c != NULL) {
		rest_respond_sync(req, trusted_json(c), NULL);
	}
}

static void delete_done_cb(struct api_write *w, int status)
{
	if (status != 0) {
		api_write_fail(w, status, "remove certificate");
	} else {
		rest_respond_sync(w->req, NULL, NULL);
	}
	api_write_free(w);
}

void api_certificate_delete(struct rest_request *req)
{
	if (daemon_gdb(rest_server_data(req)) == NULL && api_global_wait(req)) {
		return;
	}
	if (api_to_leader(req)) {
		return; /* a follower: the leader removes it */
	}
	const struct trust_cert *c = lookup(req);
	if (c == NULL) {
		return;
	}
	if (strcmp(c->type, "client") != 0) {
		rest_respond_error(req, 400,
				   "certificate %s is the certificate of a "
				   "cluster member (%s): remove the member "
				   "instead",
				   c->fingerprint, c->name);
		return;
	}
	struct api_write *w = api_write_new(req, NULL);
	size_t i = api_write_stmt(
	    w, "DELETE FROM certificates WHERE fingerprint = ?", 1);
	api_write_text(w, i, 0, c->fingerprint);
	api_write_submit(w, delete_done_cb);
}

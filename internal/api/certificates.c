/* /1.0/certificates: the trust store of client certificates. A client
 * whose TLS certificate has its fingerprint here may use the whole API. */
#include <string.h>
#include <time.h>

#include "internal/api/api.h"
#include "internal/daemon/daemon.h"
#include "internal/db/node/nodedb.h"
#include "internal/lib/mem.h"
#include "internal/tls/tls.h"

static cJSON *cert_json(const struct nodedb_cert *c)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "fingerprint", c->fingerprint);
	cJSON_AddStringToObject(o, "name", c->name);
	cJSON_AddStringToObject(o, "type", c->type);
	cJSON_AddStringToObject(o, "certificate", c->certificate);
	cJSON_AddNumberToObject(o, "added_at", (double)c->added_at);
	return o;
}

void api_certificates_get(struct rest_request *req)
{
	struct nodedb *db = daemon_nodedb(rest_server_data(req));
	struct nodedb_cert *certs;
	size_t n;
	if (nodedb_cert_list(db, &certs, &n) != 0) {
		rest_respond_error(req, 500, "list certificates: %s",
				   nodedb_errmsg(db));
		return;
	}
	cJSON *list = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++) {
		cJSON_AddItemToArray(list, cert_json(&certs[i]));
	}
	nodedb_cert_list_free(certs, n);
	rest_respond_sync(req, list, NULL);
}

static const char *const post_fields[] = {"certificate", "name", "type", NULL};

void api_certificates_post(struct rest_request *req)
{
	struct nodedb *db = daemon_nodedb(rest_server_data(req));
	char errmsg[TM_ERRMSG_SIZE];
	cJSON *body = rest_body_json(req);
	if (body == NULL) {
		return;
	}
	if (!api_check_fields(req, body, post_fields)) {
		goto out;
	}
	const cJSON *pem = cJSON_GetObjectItemCaseSensitive(body, "certificate");
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(body, "name");
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(body, "type");
	if (!cJSON_IsString(pem)) {
		rest_respond_error(req, 400,
				   "field \"certificate\" (PEM text) is required");
		goto out;
	}
	if (name != NULL && !cJSON_IsString(name)) {
		rest_respond_error(req, 400, "field \"name\" must be a string");
		goto out;
	}
	if (type != NULL &&
	    (!cJSON_IsString(type) || strcmp(type->valuestring, "client") != 0)) {
		rest_respond_error(req, 400,
				   "field \"type\" must be \"client\"");
		goto out;
	}
	struct nodedb_cert cert = {0};
	char *canonical = NULL;
	char *cn = NULL;
	if (tls_cert_parse(pem->valuestring, &canonical, cert.fingerprint, &cn,
			   errmsg) != 0) {
		rest_respond_error(req, 400, "invalid certificate: %s", errmsg);
		goto out;
	}
	cert.certificate = canonical;
	cert.name = name != NULL && name->valuestring[0] != '\0'
			    ? name->valuestring
			    : cn;
	cert.type = "client";
	cert.added_at = (int64_t)time(NULL);
	int rv = nodedb_cert_add(db, &cert);
	if (rv == TM_EXISTS) {
		rest_respond_error(req, 409,
				   "certificate %s is already trusted",
				   cert.fingerprint);
	} else if (rv != 0) {
		rest_respond_error(req, 500, "add certificate: %s",
				   nodedb_errmsg(db));
	} else {
		rest_respond_sync(req, cert_json(&cert), NULL);
	}
	tm_free(canonical);
	tm_free(cn);
out:
	cJSON_Delete(body);
}

/* Look up the certificate named by the path; answers the error itself. */
static int lookup(struct rest_request *req, struct nodedb_cert *out)
{
	struct nodedb *db = daemon_nodedb(rest_server_data(req));
	const char *fp = rest_path_param(req);
	int rv = nodedb_cert_get(db, fp, out);
	if (rv == TM_NOTFOUND) {
		rest_respond_error(req, 404, "certificate %s not found", fp);
	} else if (rv == TM_INVALID) {
		rest_respond_error(req, 400, "%s", nodedb_errmsg(db));
	} else if (rv != 0) {
		rest_respond_error(req, 500, "get certificate: %s",
				   nodedb_errmsg(db));
	}
	return rv;
}

void api_certificate_get(struct rest_request *req)
{
	struct nodedb_cert cert;
	if (lookup(req, &cert) != 0) {
		return;
	}
	rest_respond_sync(req, cert_json(&cert), NULL);
	nodedb_cert_clear(&cert);
}

void api_certificate_delete(struct rest_request *req)
{
	struct nodedb *db = daemon_nodedb(rest_server_data(req));
	struct nodedb_cert cert;
	if (lookup(req, &cert) != 0) {
		return;
	}
	int rv = nodedb_cert_remove(db, cert.fingerprint);
	if (rv != 0) {
		rest_respond_error(req, 500, "remove certificate: %s",
				   nodedb_errmsg(db));
	} else {
		rest_respond_sync(req, NULL, NULL);
	}
	nodedb_cert_clear(&cert);
}

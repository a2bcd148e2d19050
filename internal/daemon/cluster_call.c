/* One call from this member to another one's API, for membership
 * operations (rare, small): made with the public client library on a
 * worker of the API pool, so that the loop never waits on the network.
 * The member presents its own certificate and pins the cluster's. */
#include <string.h>

#include "internal/daemon/cluster_internal.h"
#include "internal/daemon/daemon_priv.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"
#include "internal/lib/pool.h"
#include "pkg/thermionic.h"

#define CALL_TIMEOUT_MS 10000

struct cluster_call {
	struct daemon *d;
	struct pool_work work;
	char *address;
	char *method;
	char *path;
	char *body;
	char *cert_path;
	char *key_path;
	char pin[TLS_FINGERPRINT_LEN + 1];
	cluster_result_cb cb;
	void *arg;
	int status;
	int http;
	cJSON *meta;
	char errmsg[TM_ERRMSG_SIZE];
};

static void work(struct pool_work *w)
{
	struct cluster_call *c = w->data;
	struct thermionic_client *client;
	if (thermionic_connect_https(c->address, c->cert_path, c->key_path,
				     c->pin, &client) != 0) {
		c->status = TM_IO;
		tm_errmsg_printf(c->errmsg, "%s: cannot set up a client",
				 c->address);
		return;
	}
	thermionic_set_timeout(client, CALL_TIMEOUT_MS);
	struct thermionic_response resp;
	int rv = thermionic_request(client, c->method, c->path, c->body, NULL,
				    &resp);
	c->http = thermionic_status(client);
	if (rv == 0) {
		c->status = 0;
		c->meta = resp.metadata;
		resp.metadata = NULL;
	} else {
		c->status = rv == THERMIONIC_ERR_HTTP && c->http == 404
				? TM_NOTFOUND
			    : rv == THERMIONIC_ERR_HTTP ? TM_INVALID
							: TM_IO;
		tm_errmsg_printf(c->errmsg, "%s: %s", c->address,
				 thermionic_errmsg(client));
	}
	thermionic_response_clear(&resp);
	thermionic_close(client);
}

static void done(struct pool_work *w)
{
	struct cluster_call *c = w->data;
	c->cb(c->arg, c->status, c->errmsg, c->meta);
	tm_free(c->address);
	tm_free(c->method);
	tm_free(c->path);
	tm_free(c->body);
	tm_free(c->cert_path);
	tm_free(c->key_path);
	tm_free(c);
}

int cluster_call(struct daemon *d, const char *address, const char *method,
		 const char *path, const char *body, cluster_result_cb cb,
		 void *arg)
{
	if (d->api_pool == NULL) {
		return TM_SHUTDOWN;
	}
	struct cluster_call *c = tm_calloc(1, sizeof *c);
	c->d = d;
	c->address = tm_strdup(address);
	c->method = tm_strdup(method);
	c->path = tm_strdup(path);
	c->body = body != NULL ? tm_strdup(body) : NULL;
	c->cert_path = tm_asprintf("%s/server.crt", d->dir);
	c->key_path = tm_asprintf("%s/server.key", d->dir);
	snprintf(c->pin, sizeof c->pin, "%s", d->cluster_fingerprint);
	c->cb = cb;
	c->arg = arg;
	c->work.data = c;
	pool_submit(d->api_pool, &c->work, work, done);
	return 0;
}

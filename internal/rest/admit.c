/* Admission: who sent a request and whether it may go on, decided from its
 * headers, before any body byte is read.
 *
 * A client that may not use a route must not make the server buffer a
 * body for it (up to max_body_bytes per connection). So, once a request's
 * headers are complete:
 *
 *   unix peer, root or our own uid     -> local, any body
 *   unix peer, another uid             -> 403
 *   TLS, certificate in the trust store -> trusted, any body, unless its
 *     key is too weak (conn_peer_key_weakness): then untrusted
 *   anyone else (untrusted):
 *     unknown path                     -> 404
 *     not a GET of a public route      -> 403
 *     a public GET with a body         -> 413 (untrusted clients send none)
 *
 * A refused request that announces a body is answered and the connection
 * closed at once, without reading the body (the parser fails with the
 * status). One without a body is parsed to its end and answered by
 * rest_dispatch, keeping the connection. Either way an untrusted
 * connection holds at most its headers. Authorisation is evaluated per
 * request, so a certificate removed from the trust store stops working on
 * keep-alive connections too; rest_server_revalidate closes them at once. */
#include <string.h>
#include <unistd.h>

#include "internal/lib/mem.h"
#include "internal/rest/internal.h"
#include "internal/rest/route.h"

void rest_admission_clear(struct rest_admission *a)
{
	tm_free(a->fingerprint);
	memset(a, 0, sizeof *a);
}

static void admit_refuse(struct rest_admission *a, int status, const char *msg)
{
	a->status = status;
	tm_errmsg_printf(a->message, "%s", msg);
}

static void admit_identify(struct rest_admission *a, struct rest_conn *rc,
			   const struct rest_server *s)
{
	struct conn *c = rc->conn;
	uid_t uid;
	if (conn_peer_uid(c, &uid)) {
		a->auth = REST_AUTH_LOCAL;
		if (uid != 0 && uid != geteuid()) {
			admit_refuse(a, 403,
				     "unix socket access is restricted to "
				     "root");
		}
		return;
	}
	const char *fp = conn_is_tls(c) ? conn_peer_fingerprint(c) : NULL;
	a->auth = REST_AUTH_UNTRUSTED;
	if (fp != NULL) {
		a->fingerprint = tm_strdup(fp);
		a->weak_key = conn_peer_key_weakness(c);
		if (a->weak_key == NULL && s->trust_cb != NULL &&
		    s->trust_cb(s->data, fp)) {
			a->auth = REST_AUTH_TRUSTED;
			rc->trusted = true;
		}
	}
}

/* What an untrusted client may do: public GETs without a body, public
 * POSTs. */
static void admit_untrusted(struct rest_admission *a,
			    const struct rest_server *s,
			    const struct rest_message *m)
{
	char *param = NULL;
	const struct rest_route *route =
	    rest_route_find(s->routes, s->n_routes, m->raw_path, &param);
	tm_free(param);
	if (route == NULL) {
		admit_refuse(a, 404, "not found");
	} else if (route->public_post && m->method == HTTP_POST) {
		return; /* the handler authenticates it */
	} else if (!(route->public_get && m->method == HTTP_GET)) {
		a->status = 403;
		if (a->weak_key != NULL) {
			tm_errmsg_printf(a->message,
					 "not authorized: client certificate "
					 "refused: %s",
					 a->weak_key);
		} else {
			tm_errmsg_printf(a->message, "not authorized: %s",
					 a->fingerprint != NULL
					     ? "client certificate not trusted"
					     : "no client certificate "
					       "presented");
		}
	} else if (m->has_body) {
		admit_refuse(a, 413,
			     "request body not accepted without a trusted "
			     "client certificate");
	}
}

int rest_admit_headers_cb(void *arg, const struct rest_message *m,
			  size_t *max_body, char *errmsg)
{
	struct rest_conn *rc = arg;
	struct rest_admission *a = &rc->admission;
	rest_admission_clear(a);
	admit_identify(a, rc, rc->server);
	if (a->status == 0 && a->auth == REST_AUTH_UNTRUSTED) {
		admit_untrusted(a, rc->server, m);
	}
	if (a->status == 0) {
		return 0;
	}
	*max_body = 0;
	if (!m->has_body) {
		return 0; /* answered by rest_dispatch, keeping the conn */
	}
	tm_errmsg_printf(errmsg, "%s", a->message);
	return a->status;
}

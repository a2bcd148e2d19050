/* Setting up an HTTPS client: key pair, pin, connect; saving a new pin. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/therm/remote.h"
#include "internal/lib/err.h"
#include "internal/lib/fs.h"
#include "internal/lib/mem.h"
#include "internal/tls/tls.h"

static int remote_keypair(struct therm_remote *r, FILE *err, char **cert,
			  char **key, char *errmsg)
{
	char hostname[256] = "localhost";
	struct stat st;
	char *cn;
	int rv;

	*cert = tm_asprintf("%s/client.crt", r->config_dir);
	*key = tm_asprintf("%s/client.key", r->config_dir);
	if (gethostname(hostname, sizeof hostname - 1) != 0) {
		strcpy(hostname, "localhost");
	}
	cn = tm_asprintf("therm@%s", hostname);
	rv = tls_ensure_keypair(*cert, *key, cn, false, errmsg);
	tm_free(cn);
	if (rv != 0) {
		tm_errmsg_wrapf(errmsg, "client certificate");
		return rv;
	}
	if (stat(*key, &st) == 0 && (st.st_mode & 077) != 0) {
		fprintf(err,
			"therm: warning: %s is accessible by other users "
			"(chmod 600 it)\n",
			*key);
	}
	return 0;
}

int therm_remote_connect(struct therm_remote *r, const char *address,
			 const char *explicit_fp, FILE *err,
			 struct thermionic_client **out, char *errmsg)
{
	char *cert = NULL;
	char *key = NULL;
	char *host = NULL;
	const char *pin = NULL;
	unsigned port;
	int rv;

	memset(r, 0, sizeof *r);
	*out = NULL;
	rv =
	    therm_address_normalize(address, &r->address, &host, &port, errmsg);
	if (rv != 0) {
		return rv;
	}
	r->config_dir = therm_config_dir(errmsg);
	if (r->config_dir == NULL) {
		rv = TM_INVALID;
		goto out;
	}
	r->pin_path = therm_pin_path(r->config_dir, host, port);
	rv = fs_ensure_dir(r->config_dir, 0700, errmsg);
	if (rv != 0) {
		goto out;
	}
	rv = remote_keypair(r, err, &cert, &key, errmsg);
	if (rv != 0) {
		goto out;
	}
	rv = therm_pin_read(r->pin_path, r->stored, &r->have_stored, errmsg);
	if (rv == TM_CORRUPT) {
		tm_errmsg_printf(errmsg,
				 "pin file %s does not hold a certificate "
				 "fingerprint: delete it to pin the server "
				 "again",
				 r->pin_path);
	}
	if (rv != 0) {
		goto out;
	}
	if (explicit_fp != NULL) {
		r->have_explicit = true;
		memcpy(r->explicit_fp, explicit_fp, sizeof r->explicit_fp);
		pin = r->explicit_fp;
	} else if (r->have_stored) {
		pin = r->stored;
	}
	rv = thermionic_connect_https(r->address, cert, key, pin, out);
	if (rv != THERMIONIC_OK) {
		tm_errmsg_printf(errmsg, "connect to %s: %s", r->address,
				 thermionic_strerror(rv));
		rv = TM_INVALID;
		goto out;
	}
	r->active = true;
out:
	tm_free(host);
	tm_free(cert);
	tm_free(key);
	return rv;
}

int therm_remote_finish(struct therm_remote *r,
			const struct thermionic_client *client, FILE *err,
			char *errmsg)
{
	const char *seen;
	int rv;

	if (!r->active || client == NULL) {
		return 0;
	}
	seen = thermionic_server_fingerprint(client);
	if (seen == NULL || (r->have_stored && strcmp(seen, r->stored) == 0)) {
		return 0;
	}
	rv = therm_pin_write(r->pin_path, seen, errmsg);
	if (rv != 0) {
		tm_errmsg_wrapf(errmsg, "cannot pin the server certificate");
		return rv;
	}
	memcpy(r->stored, seen, sizeof r->stored);
	r->have_stored = true;
	fprintf(err, "Pinned certificate %s for %s\n", seen, r->address);
	return 0;
}

void therm_remote_close(struct therm_remote *r)
{
	tm_free(r->address);
	tm_free(r->config_dir);
	tm_free(r->pin_path);
	memset(r, 0, sizeof *r);
}

/* Classification of failed requests; see classify.h. */
#include <string.h>

#include "pkg/thermionic.h"
#include "test/chaos/classify.h"

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* An error envelope: the server answered, so its words count. */
static enum chaos_outcome classify_http(int status, const char *msg)
{
	if (strstr(msg, "may or may not") != NULL) {
		return CHAOS_INFO;
	}
	switch (status) {
	case 400: /* a refused request or a failed statement, rolled back */
	case 409: /* a constraint failed: transaction rolled back */
	case 413: /* body too large: not run */
		return CHAOS_FAIL;
	case 503:
		/* Nothing was relayed or proposed. */
		if (starts_with(msg, "no leader") ||
		    starts_with(msg, "not the leader") ||
		    starts_with(msg, "this member is not the leader") ||
		    starts_with(msg, "global database not available") ||
		    strcmp(msg, "shutting down") == 0 ||
		    starts_with(msg, "shutting down: the daemon is stopping "
				     "and took no new requests")) {
			return CHAOS_FAIL;
		}
		return CHAOS_INFO;
	default:
		/* 504 and 507 say so when nothing was applied. */
		if (strstr(msg, "nothing applied") != NULL ||
		    (status == 507 && strstr(msg, "core.min_free_space"))) {
			return CHAOS_FAIL;
		}
		return CHAOS_INFO;
	}
}

enum chaos_outcome chaos_classify(int rc, int http_status, const char *errmsg,
				  bool write, bool reused)
{
	if (!write || rc == THERMIONIC_OK) {
		return rc == THERMIONIC_OK ? CHAOS_OK : CHAOS_FAIL;
	}
	if (errmsg == NULL) {
		errmsg = "";
	}
	switch (rc) {
	case THERMIONIC_ERR_HTTP:
		return http_status > 0 ? classify_http(http_status, errmsg)
				       : CHAOS_INFO;
	case THERMIONIC_ERR_INVALID: /* not sent */
	case THERMIONIC_ERR_PIN:     /* handshake aborted before HTTP */
		return CHAOS_FAIL;
	case THERMIONIC_ERR_CONNECT:
		/* Refused at the first connect: nothing was sent. */
		if (!reused && starts_with(errmsg, "cannot connect to") &&
		    strstr(errmsg, "Connection refused") != NULL) {
			return CHAOS_FAIL;
		}
		return CHAOS_INFO;
	default: /* timeouts, TLS errors mid-way, odd answers */
		return CHAOS_INFO;
	}
}

const char *chaos_outcome_name(enum chaos_outcome o)
{
	switch (o) {
	case CHAOS_OK:
		return "ok";
	case CHAOS_FAIL:
		return "fail";
	default:
		return "info";
	}
}

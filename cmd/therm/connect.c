/* The connection a command uses: the local unix socket, one --address, or
 * the first of several comma-separated --address entries that answers.
 *
 * With several entries each is tried in order: the client is set up (its
 * own pin file, as for a single address) and GET /1.0 is sent. A
 * connection failure or time-out moves on to the next entry; any answer,
 * even an HTTP error, or a TLS or pin failure, settles on that entry, and
 * the command runs against it alone (its requests are not retried
 * elsewhere: they may not be idempotent). */
#include <stdlib.h>
#include <string.h>

#include "cmd/therm/cli.h"
#include "internal/lib/err.h"
#include "internal/lib/mem.h"

#define THERM_DEFAULT_DIR "/var/lib/thermionic"

/* The unix socket: "unix:PATH" from --address, else the state directory's.
 * Owned (tm_free). */
static char *socket_path(const char *address)
{
	const char *dir = getenv("THERMIONIC_DIR");
	if (address != NULL) {
		return tm_strdup(address + strlen("unix:"));
	}
	if (dir == NULL || dir[0] == '\0') {
		dir = THERM_DEFAULT_DIR;
	}
	return tm_asprintf("%s/unix.socket", dir);
}

/* Set up ctx->client (and ctx->remote) for one ADDRESS (NULL: the local
 * socket). No I/O. */
static int connect_one(struct therm_ctx *ctx, const char *address)
{
	char errmsg[TM_ERRMSG_SIZE];
	char *path;
	int rv;

	if (address == NULL || strncmp(address, "unix:", 5) == 0) {
		path = socket_path(address);
		rv = thermionic_connect_unix(path, &ctx->client);
		if (rv != THERMIONIC_OK) {
			therm_fail(ctx, "unix socket %s: %s", path,
				   thermionic_strerror(rv));
		}
		tm_free(path);
		return rv == THERMIONIC_OK ? 0 : THERM_EXIT_ERROR;
	}
	rv = therm_remote_connect(&ctx->remote, address, ctx->fingerprint,
				  ctx->err, &ctx->client, errmsg);
	if (rv != 0) {
		therm_remote_close(&ctx->remote);
		return therm_fail(ctx, "%s", errmsg);
	}
	return 0;
}

/* Drop the client of an entry that did not answer. */
static void connect_drop(struct therm_ctx *ctx)
{
	thermionic_close(ctx->client);
	ctx->client = NULL;
	therm_remote_close(&ctx->remote);
}

/* Try each entry of the comma-separated LIST (a modifiable copy). */
static int connect_first(struct therm_ctx *ctx, char *list)
{
	char tried[THERM_ERRMSG_SIZE] = "";
	size_t used = 0;
	char *save = NULL;

	for (char *a = strtok_r(list, ",", &save); a != NULL;
	     a = strtok_r(NULL, ",", &save)) {
		cJSON *info = NULL;
		int rv;

		if (connect_one(ctx, a) != 0) {
			return THERM_EXIT_ERROR;
		}
		rv = thermionic_server_info(ctx->client, &info);
		cJSON_Delete(info);
		if (rv != THERMIONIC_ERR_CONNECT &&
		    rv != THERMIONIC_ERR_TIMEOUT) {
			return 0;
		}
		if (used < sizeof tried) {
			used += (size_t)snprintf(
			    tried + used, sizeof tried - used, "\n  %s",
			    thermionic_errmsg(ctx->client));
		}
		connect_drop(ctx);
	}
	return therm_fail(ctx, "no daemon of --address answered:%s", tried);
}

int therm_client(struct therm_ctx *ctx, struct thermionic_client **out)
{
	const char *address = ctx->address;
	char *list;
	int rv;

	*out = NULL;
	if (ctx->client != NULL) {
		*out = ctx->client;
		return 0;
	}
	if (address == NULL || strchr(address, ',') == NULL) {
		rv = connect_one(ctx, address);
	} else {
		if (address[0] == ',' || address[strlen(address) - 1] == ',' ||
		    strstr(address, ",,") != NULL) {
			return therm_fail(ctx,
					  "--address \"%s\": empty entry in "
					  "the list",
					  address);
		}
		list = tm_strdup(address);
		rv = connect_first(ctx, list);
		tm_free(list);
	}
	if (rv != 0) {
		return THERM_EXIT_ERROR;
	}
	*out = ctx->client;
	return 0;
}

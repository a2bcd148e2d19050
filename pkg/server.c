/* Server-level helpers: info, readiness, shutdown, and the two waits. */
#include <stdio.h>
#include <string.h>

#include "pkg/internal.h"

int thermionic_server_info(struct thermionic_client *client, cJSON **info)
{
	int rv;
	if (info == NULL) {
		return THERMIONIC_ERR_INVALID;
	}
	*info = NULL;
	if (client == NULL) {
		return THERMIONIC_ERR_INVALID;
	}
	rv = tmc_call(client, "GET", "/1.0", NULL, NULL, info, NULL);
	if (rv == THERMIONIC_OK && !cJSON_IsObject(*info)) {
		cJSON_Delete(*info);
		*info = NULL;
		return tmc_fail(client, THERMIONIC_ERR_PROTO,
				"malformed response from %s: /1.0 metadata "
				"is not an object",
				client->target);
	}
	return rv;
}

/* One readiness check. A 503 is "not ready" (0, *READY false) and leaves
 * the server's message in errmsg for the caller's reporting. */
static int ready_once(struct thermionic_client *c, bool *ready)
{
	cJSON *metadata = NULL;
	int rv;

	*ready = false;
	rv = tmc_call(c, "GET", "/1.0/ready", NULL, NULL, &metadata, NULL);
	if (rv == THERMIONIC_ERR_HTTP && c->status == 503) {
		return THERMIONIC_OK;
	}
	if (rv != THERMIONIC_OK) {
		return rv;
	}
	if (!cJSON_IsObject(metadata)) {
		cJSON_Delete(metadata);
		return tmc_fail(c, THERMIONIC_ERR_PROTO,
				"malformed response from %s: /1.0/ready "
				"metadata is not an object",
				c->target);
	}
	*ready =
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(metadata, "ready"));
	if (!*ready) {
		tmc_fail(c, THERMIONIC_OK, "daemon not ready");
	}
	cJSON_Delete(metadata);
	return THERMIONIC_OK;
}

int thermionic_ready(struct thermionic_client *client, bool *ready)
{
	int rv;
	if (ready == NULL) {
		return THERMIONIC_ERR_INVALID;
	}
	*ready = false;
	if (client == NULL) {
		return THERMIONIC_ERR_INVALID;
	}
	rv = ready_once(client, ready);
	if (rv == THERMIONIC_OK) {
		tmc_clear_error(client);
	}
	return rv;
}

/* Timeout for one poll: the time left, but at least one poll interval,
 * and never more than the client's own limit. */
static unsigned poll_timeout(unsigned client_timeout, unsigned long long left)
{
	unsigned long long t = left;
	if (t < THERMIONIC_POLL_INTERVAL_MS) {
		t = THERMIONIC_POLL_INTERVAL_MS;
	}
	if (client_timeout != 0 && t > client_timeout) {
		t = client_timeout;
	}
	return (unsigned)t;
}

/* Sleep until the next poll; false if the deadline has passed. */
static bool poll_pause(unsigned long long deadline)
{
	unsigned long long now = tmc_now_ms();
	unsigned long long left;
	if (now >= deadline) {
		return false;
	}
	left = deadline - now;
	tmc_sleep_ms(left < THERMIONIC_POLL_INTERVAL_MS
			 ? (unsigned)left
			 : THERMIONIC_POLL_INTERVAL_MS);
	return true;
}

int thermionic_wait_ready(struct thermionic_client *client, unsigned timeout_ms)
{
	unsigned long long deadline;
	char last[TMC_ERRMSG_SIZE] = "no answer";
	unsigned saved;
	bool ready;
	int rv;

	if (client == NULL) {
		return THERMIONIC_ERR_INVALID;
	}
	saved = client->timeout_ms;
	deadline = tmc_now_ms() + timeout_ms;
	for (;;) {
		unsigned long long now = tmc_now_ms();
		client->timeout_ms =
		    poll_timeout(saved, deadline > now ? deadline - now : 0);
		rv = ready_once(client, &ready);
		if (rv == THERMIONIC_OK && ready) {
			break;
		}
		if (rv != THERMIONIC_OK && rv != THERMIONIC_ERR_CONNECT &&
		    rv != THERMIONIC_ERR_TIMEOUT) {
			break;
		}
		snprintf(last, sizeof last, "%s", client->errmsg);
		if (!poll_pause(deadline)) {
			rv = tmc_fail(client, THERMIONIC_ERR_TIMEOUT,
				      "daemon at %s not ready after %u ms "
				      "(%s)",
				      client->target, timeout_ms, last);
			break;
		}
	}
	client->timeout_ms = saved;
	if (rv == THERMIONIC_OK) {
		tmc_clear_error(client);
	}
	return rv;
}

int thermionic_shutdown(struct thermionic_client *client)
{
	if (client == NULL) {
		return THERMIONIC_ERR_INVALID;
	}
	return tmc_call(client, "PUT", "/1.0/shutdown", NULL, NULL, NULL, NULL);
}

int thermionic_wait_stopped(struct thermionic_client *client,
			    unsigned timeout_ms)
{
	unsigned long long deadline;
	unsigned saved;
	int rv;

	if (client == NULL) {
		return THERMIONIC_ERR_INVALID;
	}
	saved = client->timeout_ms;
	deadline = tmc_now_ms() + timeout_ms;
	for (;;) {
		unsigned long long now = tmc_now_ms();
		client->timeout_ms =
		    poll_timeout(saved, deadline > now ? deadline - now : 0);
		rv = tmc_call(client, "GET", "/1.0", NULL, NULL, NULL, NULL);
		if (rv == THERMIONIC_ERR_CONNECT || rv == THERMIONIC_ERR_TLS) {
			rv = THERMIONIC_OK;
			break;
		}
		if (rv == THERMIONIC_ERR_PIN || rv == THERMIONIC_ERR_INVALID ||
		    rv == THERMIONIC_ERR_NOMEM) {
			break;
		}
		if (!poll_pause(deadline)) {
			rv = tmc_fail(client, THERMIONIC_ERR_TIMEOUT,
				      "daemon at %s still answering after %u "
				      "ms",
				      client->target, timeout_ms);
			break;
		}
	}
	client->timeout_ms = saved;
	if (rv == THERMIONIC_OK) {
		tmc_clear_error(client);
	}
	return rv;
}

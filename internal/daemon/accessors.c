#include <stdio.h>

#include "internal/daemon/daemon_priv.h"
#include "internal/net/listener.h"
#include "internal/raft/raftnode.h"

uv_loop_t *daemon_loop(struct daemon *d) { return d->loop; }

struct nodedb *daemon_nodedb(struct daemon *d) { return d->nodedb; }

struct gdb *daemon_gdb(struct daemon *d)
{
	return d->state == DAEMON_READY ? d->gdb : NULL;
}

struct raft_uv_transport *daemon_raft_transport(struct daemon *d)
{
	if (d->raftnode == NULL || d->raft_closing) {
		return NULL;
	}
	return raftnode_transport(d->raftnode);
}

struct pool *daemon_pool(struct daemon *d)
{
	return d->state == DAEMON_READY ? d->api_pool : NULL;
}

const char *daemon_dir(const struct daemon *d) { return d->dir; }

const char *daemon_cert_pem(const struct daemon *d) { return d->cert_pem; }

const char *daemon_fingerprint(const struct daemon *d)
{
	return d->fingerprint;
}

const char *daemon_server_name(const struct daemon *d)
{
	return d->server_name;
}

const cJSON *daemon_config(const struct daemon *d) { return d->config; }

cJSON *daemon_addresses(const struct daemon *d)
{
	cJSON *list = cJSON_CreateArray();
	if (d->https_listener != NULL) {
		cJSON_AddItemToArray(list, cJSON_CreateString(listener_address(
					       d->https_listener)));
	}
	return list;
}

static void add_buckets(cJSON *h, const uint64_t *buckets)
{
	for (size_t b = 0; b < LOOPLAG_BUCKETS; b++) {
		if (buckets[b] != 0) {
			char key[16];
			snprintf(key, sizeof key, "%zu", b);
			cJSON_AddNumberToObject(h, key, (double)buckets[b]);
		}
	}
}

cJSON *daemon_loop_lag(struct daemon *d)
{
	struct looplag_stats st;
	cJSON *o = cJSON_CreateObject();
	looplag_get(&d->lag, &st);
	cJSON_AddNumberToObject(o, "samples", (double)st.samples);
	cJSON_AddNumberToObject(o, "p50_ms", st.p50_ms);
	cJSON_AddNumberToObject(o, "p99_ms", st.p99_ms);
	cJSON_AddNumberToObject(o, "p999_ms", st.p999_ms);
	cJSON_AddNumberToObject(o, "max_ms", st.max_ms);
	/* The same lags less the time the loop thread waited for a CPU: what
	 * the daemon itself held the loop for. */
	cJSON_AddNumberToObject(o, "held_p999_ms", st.held_p999_ms);
	cJSON_AddNumberToObject(o, "held_max_ms", st.held_max_ms);
	/* The histogram itself, non-empty buckets only ("index": count;
	 * bucket i holds lags in [i, i + 1) tenths of a millisecond, the
	 * last one everything longer), so that a client can tell the lag
	 * over a window from two readings. */
	cJSON_AddNumberToObject(o, "bucket_ms", 0.1);
	add_buckets(cJSON_AddObjectToObject(o, "buckets"), d->lag.buckets);
	add_buckets(cJSON_AddObjectToObject(o, "held_buckets"), d->lag.held);
	return o;
}

struct hclient *daemon_hclient(struct daemon *d) { return d->hclient; }

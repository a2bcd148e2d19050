/* A follower's SQL writes relayed in batches (cluster_relay.c). */
#ifndef TM_DAEMON_CLUSTER_RELAY_H
#define TM_DAEMON_CLUSTER_RELAY_H

#include <stdint.h>

/* A follower's SQL writes waiting to be relayed (cluster_relay.c). */
struct relay_write;
struct relay_batch;
struct cluster_relay {
	struct relay_write *head; /* waiting for the next batch */
	struct relay_write *tail;
	struct relay_batch *inflight;
	uint64_t writes;  /* relayed since start */
	uint64_t batches; /* ... in this many batches */
};

#endif /* TM_DAEMON_CLUSTER_RELAY_H */

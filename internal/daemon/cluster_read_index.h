/* A follower's read indexes, one ask at a time (cluster_read_index.c). */
#ifndef TM_DAEMON_CLUSTER_READ_INDEX_H
#define TM_DAEMON_CLUSTER_READ_INDEX_H

#include <stdint.h>

#include "internal/client/hclient.h"
#include "internal/daemon/cluster.h"

struct cluster_read_index {
	struct hclient_request ask; /* in flight while asking */
	char *leader;		    /* whom ASK went to; owned */
	bool asking;
	struct cluster_read_index_wait *current; /* share ASK's answer */
	struct cluster_read_index_wait *next;	 /* arrived during ASK */
	uint64_t asks;				 /* sent since start */
};

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

#endif /* TM_DAEMON_CLUSTER_READ_INDEX_H */

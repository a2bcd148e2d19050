/* A follower's read indexes, one ask at a time (cluster_read_index.c). */
#ifndef TM_DAEMON_CLUSTER_READ_INDEX_H
#define TM_DAEMON_CLUSTER_READ_INDEX_H

#include <stdint.h>

#include "internal/client/hclient.h"
#include "internal/daemon/cluster.h"

struct cluster_read_index {
	struct hclient_request ask; /* in flight while asking */
	char *leader;		    /* whom ASK went to; owned */
	char path[96];		    /* ASK's, with this member's term and id */
	bool asking;
	bool asked_again; /* CURRENT's ask went to a second leader */
	struct cluster_read_index_wait *current; /* share ASK's answer */
	struct cluster_read_index_wait *next;	 /* arrived during ASK */
	uint64_t asks;				 /* sent since start */
	uint64_t answered_now; /* leader: asks answered without a round */
};

#endif /* TM_DAEMON_CLUSTER_READ_INDEX_H */

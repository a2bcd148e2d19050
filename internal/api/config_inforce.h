/* Where a cluster-wide configuration change is in force
 * (internal/api/config_inforce.c), private to internal/api. */
#ifndef TM_API_CONFIG_INFORCE_H
#define TM_API_CONFIG_INFORCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct daemon;

/* How long the member that handled a change waits for the others. */
#define CONFIG_INFORCE_WAIT_MS 5000

/* After the write of a cluster-wide change committed at raft index
 * INDEX: ask every member (this one too) whether it applied INDEX,
 * waiting up to CONFIG_INFORCE_WAIT_MS, all members at once (the
 * notifier, NOTIFY_TRY_ALL: a member that is down is reported, it does
 * not hold up the others). CB runs once with an array (owned) of
 * {name, address, in_force, message} in member name order; on a member
 * that is not clustered, this member alone, in force (the write was
 * applied here). CB may run inside this call. */
typedef void (*config_inforce_cb)(void *arg, cJSON *members);
void config_inforce(struct daemon *d, uint64_t index, config_inforce_cb cb,
		    void *arg);

/* The non-negative integer metadata.NAME of the JSON envelope BODY (LEN
 * bytes, from the network) into *OUT: a member's applied index
 * (GET /internal/cluster/applied), the index of the leader's write
 * (PATCH /1.0/config relayed). False if BODY is no such envelope. */
bool config_answer_index(const char *body, size_t len, const char *name,
			 uint64_t *out);

#endif /* TM_API_CONFIG_INFORCE_H */

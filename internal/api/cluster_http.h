/* Shared by the /1.0/cluster handlers. */
#ifndef TM_API_CLUSTER_HTTP_H
#define TM_API_CLUSTER_HTTP_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "internal/rest/rest.h"

/* How long a request that needs the leader waits for one to be known
 * (an election takes about a second), and one that needs the global
 * database waits for a starting member to serve it (global_wait.h). */
#define API_LEADER_WAIT_MS 5000

/* The HTTP status for a TM_* error of a cluster operation. */
int api_cluster_http_status(int status);

/* A cluster_result_cb answering the rest_request ARG. */
void api_cluster_answer(void *arg, int status, const char *errmsg, cJSON *meta);

/* REQ needs the leader and this member follows: relay it to the leader
 * (or answer 503 if none is known) and return true; false if this
 * member must answer it itself (it leads, is standalone, or REQ was
 * relayed already). */
bool api_to_leader(struct rest_request *req);

/* For reads of cluster state (member list, tokens): relay REQ to the
 * leader if one is known and return true; if the leader cannot be
 * reached, LOCAL answers it from this member's copy. False when this
 * member answers it itself at once (it leads, knows no leader, ...).
 * Listing never waits on a dead member. */
bool api_view_from_leader(struct rest_request *req, rest_handler local);

/* Answer REQ with an error, or relay it to the leader for TM_NOTLEADER
 * (nothing was done here). */
void api_cluster_fail(struct rest_request *req, int status, const char *errmsg);

#endif /* TM_API_CLUSTER_HTTP_H */

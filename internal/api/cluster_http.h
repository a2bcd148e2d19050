/* Shared by the /1.0/cluster handlers. */
#ifndef TM_API_CLUSTER_HTTP_H
#define TM_API_CLUSTER_HTTP_H

#include <cjson/cJSON.h>

/* The HTTP status for a TM_* error of a cluster operation. */
int api_cluster_http_status(int status);

/* A cluster_result_cb answering the rest_request ARG. */
void api_cluster_answer(void *arg, int status, const char *errmsg,
			cJSON *meta);

#endif /* TM_API_CLUSTER_HTTP_H */

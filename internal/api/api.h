/* The daemon's REST endpoints. Each file holds one resource; this header
 * gathers their handlers into the route table given to the REST server.
 * Handlers reach the daemon through rest_server_data(req). */
#ifndef TM_API_H
#define TM_API_H

#include <stddef.h>

#include "internal/rest/rest.h"

struct daemon;

/* The route table (static storage). */
const struct rest_route *api_routes(size_t *n);

/* API extensions advertised in GET /1.0 (NULL-terminated). */
extern const char *const api_extensions[];

/* Handlers, by resource. */
void api_root_get(struct rest_request *req);
void api_config_get(struct rest_request *req);
void api_config_put(struct rest_request *req);
void api_config_patch(struct rest_request *req);
void api_certificates_get(struct rest_request *req);
void api_certificates_post(struct rest_request *req);
void api_certificate_get(struct rest_request *req);
void api_certificate_delete(struct rest_request *req);
void api_ready_get(struct rest_request *req);
void api_shutdown_put(struct rest_request *req);
/* SQL (internal/api/sql.c, doc/sql-api.md). */
void api_sql_post(struct rest_request *req);
void api_sql_backup_get(struct rest_request *req);
void api_sql_restore_post(struct rest_request *req);

/* Cluster (internal/api/cluster*.c, doc/clustering.md). */
void api_cluster_get(struct rest_request *req);
void api_cluster_put(struct rest_request *req);
void api_cluster_check_get(struct rest_request *req);
/* The content check of GET /1.0/cluster/check, without a request: CB(ARG,
 * 200, "", LIST) with the members' verdicts (LIST owned by CB), or
 * CB(ARG, HTTP_STATUS, ERRMSG, NULL); once, later (or at once when there
 * is no global database). On the leader, or standalone. */
typedef void (*api_check_cb)(void *arg, int status, const char *errmsg,
			     cJSON *list);
void api_cluster_check_start(struct daemon *d, api_check_cb cb, void *arg);
void api_cluster_members_get(struct rest_request *req);
void api_cluster_members_post(struct rest_request *req);
void api_cluster_member_get(struct rest_request *req);
void api_cluster_tokens_get(struct rest_request *req);
void api_cluster_token_delete(struct rest_request *req);
void api_cluster_member_delete(struct rest_request *req);
void api_cluster_member_post(struct rest_request *req);
void api_cluster_member_patch(struct rest_request *req);
void api_internal_cluster_join(struct rest_request *req);
void api_internal_cluster_reset(struct rest_request *req);
void api_internal_cluster_heartbeat(struct rest_request *req);
void api_internal_cluster_address(struct rest_request *req);
void api_internal_read_index_get(struct rest_request *req);
void api_internal_term_get(struct rest_request *req);
void api_internal_sql_batch_post(struct rest_request *req);
void api_internal_applied_get(struct rest_request *req);
void api_internal_check_get(struct rest_request *req);
void api_events_get(struct rest_request *req);
void api_internal_events_post(struct rest_request *req);

/* Member to member (internal/api/internal_raft.c). */
void api_internal_raft_get(struct rest_request *req);

/* Shared helpers (internal/api/json.c). */
/* Answer 400 and return false if OBJ (a JSON object) has a member not in
 * the NULL-terminated list ALLOWED, or is not an object. */
bool api_check_fields(struct rest_request *req, const cJSON *obj,
		      const char *const *allowed);

#endif /* TM_API_H */

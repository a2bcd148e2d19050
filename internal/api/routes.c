#include "internal/api/api.h"

const char *const api_extensions[] = {
    "etag", "certificates", "sql", "clustering", "events", NULL,
};

static const struct rest_route routes[] = {
    {.path = "/1.0", .get = api_root_get, .public_get = true},
    {.path = "/1.0/config",
     .get = api_config_get,
     .put = api_config_put,
     .patch = api_config_patch},
    {.path = "/1.0/certificates",
     .get = api_certificates_get,
     .post = api_certificates_post},
    {.path = "/1.0/certificates/{}",
     .get = api_certificate_get,
     .delete = api_certificate_delete},
    {.path = "/1.0/cluster", .get = api_cluster_get, .put = api_cluster_put},
    {.path = "/1.0/cluster/members",
     .get = api_cluster_members_get,
     .post = api_cluster_members_post},
    {.path = "/1.0/cluster/members/{}",
     .get = api_cluster_member_get,
     .post = api_cluster_member_post,
     .patch = api_cluster_member_patch,
     .delete = api_cluster_member_delete},
    {.path = "/1.0/cluster/tokens", .get = api_cluster_tokens_get},
    {.path = "/1.0/cluster/check", .get = api_cluster_check_get},
    {.path = "/1.0/cluster/tokens/{}", .delete = api_cluster_token_delete},
    {.path = "/1.0/events", .get = api_events_get},
    {.path = "/1.0/ready", .get = api_ready_get},
    {.path = "/1.0/shutdown", .put = api_shutdown_put},
    {.path = "/1.0/sql", .post = api_sql_post},
    {.path = "/1.0/sql/backup", .get = api_sql_backup_get},
    {.path = "/1.0/sql/restore", .post = api_sql_restore_post},
    /* Member to member. Public: the handler checks that the client
     * certificate is a member's. */
    {.path = "/internal/raft",
     .get = api_internal_raft_get,
     .public_get = true},
    /* Public: authenticated by the join token's secret. */
    {.path = "/internal/cluster/join",
     .post = api_internal_cluster_join,
     .public_post = true},
    /* Members only: the handler checks the certificate (admin clients
     * are trusted too, but are no members). */
    {.path = "/internal/cluster/read-index",
     .get = api_internal_read_index_get},
    {.path = "/internal/cluster/term", .get = api_internal_term_get},
    {.path = "/internal/cluster/sql-batch",
     .post = api_internal_sql_batch_post},
    /* Members only, as above: has this member applied an index? */
    {.path = "/internal/cluster/applied", .get = api_internal_applied_get},
    {.path = "/internal/cluster/check", .get = api_internal_check_get},
    /* Public: the handler admits members' certificates only. */
    {.path = "/internal/events",
     .post = api_internal_events_post,
     .public_post = true},
    /* Public: the handler admits members' certificates only. */
    {.path = "/internal/cluster/address",
     .post = api_internal_cluster_address,
     .public_post = true},
    /* Public: the handler admits members' certificates only. */
    {.path = "/internal/cluster/heartbeat",
     .post = api_internal_cluster_heartbeat,
     .public_post = true},
    /* Public: the handler admits members' certificates only. */
    {.path = "/internal/cluster/reset",
     .post = api_internal_cluster_reset,
     .public_post = true},
};

const struct rest_route *api_routes(size_t *n)
{
	*n = sizeof routes / sizeof routes[0];
	return routes;
}

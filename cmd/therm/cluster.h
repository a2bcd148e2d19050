/* What the files of "therm cluster" (and "therm init") share.
 *
 *   cmd_cluster.c         the group; enable, status
 *   cmd_cluster_member.c  list, show, set, rename, remove
 *   cmd_cluster_tokens.c  add, list-tokens, revoke-token
 *   cmd_cluster_join.c    join, and the wait for a join to finish */
#ifndef THERM_CLUSTER_H
#define THERM_CLUSTER_H

#include "cmd/therm/cli.h"

/* Default and interval of the wait for a join to finish. */
#define THERM_JOIN_TIMEOUT_MS (5u * 60u * 1000u)
#define THERM_JOIN_POLL_MS 200u

/* Ask the daemon of CTX to join with TOKEN (ADDRESS and FORCE as for
 * thermionic_cluster_join()), then poll GET /1.0/cluster every
 * THERM_JOIN_POLL_MS until it is a member, it gave up ("standalone"), or
 * TIMEOUT_MS passed. Progress lines ("joining: applied A of T entries")
 * go to ctx->err as they change. On success *STATE (owned, may be NULL
 * if STATE is) is the final cluster state. Returns THERM_EXIT_OK or
 * THERM_EXIT_ERROR with ctx->errmsg set (the daemon's message on
 * failure). */
int therm_cluster_join_wait(struct therm_ctx *ctx, const char *token,
			    const char *address, bool force,
			    unsigned timeout_ms, cJSON **state);

/* "Joined the cluster as NAME" for the final STATE of a join, into LINE
 * (SIZE bytes). */
void therm_cluster_joined_text(const cJSON *state, char *line, size_t size);

/* Print STATE for a command that acted on it: JSON/YAML the object,
 * table/CSV the line TEXT (may be NULL: nothing). */
int therm_cluster_print_result(struct therm_ctx *ctx, const cJSON *state,
			       const char *text);

extern const struct therm_command therm_cmd_cluster_join;
extern const struct therm_command therm_cmd_cluster_add;
extern const struct therm_command therm_cmd_cluster_list_tokens;
extern const struct therm_command therm_cmd_cluster_revoke_token;
extern const struct therm_command therm_cmd_cluster_list;
extern const struct therm_command therm_cmd_cluster_check;
extern const struct therm_command therm_cmd_cluster_show;
extern const struct therm_command therm_cmd_cluster_set;
extern const struct therm_command therm_cmd_cluster_rename;
extern const struct therm_command therm_cmd_cluster_remove;

#endif /* THERM_CLUSTER_H */

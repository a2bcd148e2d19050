/* Private to libthermionic: what cluster.c and cluster_member.c share. */
#ifndef THERMIONIC_CLUSTER_H
#define THERMIONIC_CLUSTER_H

#include <stdlib.h>

#include "pkg/internal.h"

/* "PREFIX/NAME-percent-encoded" followed by QUERY (may be NULL) into
 * *PATH (owned, free()). THERMIONIC_ERR_INVALID for a NULL or empty
 * NAME, "." or ".." (libcurl would fold them away), THERMIONIC_ERR_NOMEM;
 * errmsg set. */
int tmc_cluster_path(struct thermionic_client *c, const char *prefix,
		     const char *name, const char *query, char **path);

/* *VALUE must be an object with a string member KEY; otherwise it is
 * deleted, set to NULL, and THERMIONIC_ERR_PROTO returned ("malformed
 * response from T: WHAT without "KEY""). */
int tmc_cluster_check(struct thermionic_client *c, cJSON **value,
		      const char *key, const char *what);

/* The same for each entry of the array *LIST; JSON null reads as []. */
int tmc_cluster_check_list(struct thermionic_client *c, cJSON **list,
			   const char *key, const char *what);

#endif /* THERMIONIC_CLUSTER_H */

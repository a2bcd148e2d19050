/* Internals shared by the files of internal/config. */
#ifndef TM_CONFIG_PRIVATE_H
#define TM_CONFIG_PRIVATE_H

#include "internal/config/config.h"

/* config_normalize() without the "invalid value for KEY: " prefix: REASON
 * (TM_ERRMSG_SIZE bytes) holds only why VALUE was refused. */
int config_normalize_reason(const struct config_key *key, const cJSON *value,
			    char **out, char *reason);

/* REASON := "expected EXPECTED, got <VALUE's JSON type>"; TM_INVALID. */
int config_wrong_type(const char *expected, const cJSON *value, char *reason);

/* The CONFIG_DURATION case of config_normalize_reason (duration.c). */
int config_normalize_duration(const struct config_key *key, const cJSON *value,
			      char **out, char *reason);

#endif /* TM_CONFIG_PRIVATE_H */

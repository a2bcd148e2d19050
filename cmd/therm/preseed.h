/* The preseed file of "therm init": what a new daemon is set up with.
 *
 * JSON, or YAML (any file whose first non-blank character is not '{'):
 *
 *   config:                      # optional: keys set with PATCH /1.0/config
 *     core.https_address: 10.0.0.1:8443
 *   cluster:                     # optional; one of:
 *     enabled: true              #   start a new cluster ...
 *     member_name: n1            #   ... as its first member n1
 *   # or
 *   cluster:
 *     token: eyJ...              #   join with a token from 'cluster add'
 *     address: 10.0.0.2:8443     #   optional: this member's address
 *     force: false               #   optional
 *
 * In YAML, config values may be written without quotes (30, true): they
 * are sent as the text written. Unknown fields are refused. */
#ifndef THERM_PRESEED_H
#define THERM_PRESEED_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

/* What a preseed asks for. Strings are borrowed from the parsed
 * document (therm_preseed_close releases it). */
struct therm_preseed {
	cJSON *doc;    /* owned: the whole document */
	cJSON *config; /* borrowed from DOC: an object of strings, or NULL */
	bool enable;   /* cluster: enabled + member_name */
	bool join;     /* cluster: token */
	const char *member_name;
	const char *token;
	const char *address; /* may be NULL */
	bool force;
};

/* Parse and check LEN bytes of TEXT. 0, or TM_INVALID with ERRMSG
 * (THERM_ERRMSG_SIZE bytes) saying what is wrong and where. P is filled
 * on success only; release it with therm_preseed_close. */
int therm_preseed_parse(const char *text, size_t len, struct therm_preseed *p,
			char *errmsg);
void therm_preseed_close(struct therm_preseed *p);

/* YAML TEXT (LEN bytes, one document) as JSON: mappings become objects
 * (keys must be scalars, not repeated), sequences arrays, plain scalars
 * true/false/null/~ booleans and null, every other scalar a string.
 * *OUT owned (cJSON_Delete). 0 or TM_INVALID with ERRMSG. */
int therm_yaml_to_json(const char *text, size_t len, cJSON **out, char *errmsg);

#endif /* THERM_PRESEED_H */

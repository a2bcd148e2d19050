/* Configuration keys: a registry of typed keys and pure functions that
 * validate, normalise and merge values. No I/O: the caller loads and stores
 * the key -> string maps (local keys in the local database, global keys in
 * the global database).
 *
 * A configuration is a cJSON object of key -> normalised string holding only
 * the keys that are set to something other than their default.
 *
 * Keys (scope: where the value lives. Local keys ("member" keys to users)
 * are per member, kept in its local database, e.g. the raft snapshot
 * settings, which each member applies to its own log. Global keys
 * ("cluster" keys to users) are cluster-wide, kept in the global
 * database's config table, the same on every member):
 *   cluster.heartbeat_interval
 *                            int      global  500 ms between the leader's
 *                                             heartbeats (100..60000)
 *   cluster.join_token_expiry
 *                            duration global  3h a join token stays valid
 *                                             (1m..365d)
 *   cluster.max_standby      int      global  2 raft standbys (0..9)
 *   cluster.max_voters       int      global  3 raft voters (1..9, odd)
 *   cluster.offline_threshold
 *                            int      global  2000 ms without a heartbeat:
 *                                             OFFLINE (200..3600000)
 *   core.https_address       address  local   ""  (not listening)
 *   core.max_connections     int      global  1000 HTTPS connections
 *                                             (1..1000000)
 *   core.max_connections_per_address
 *                            int      global  100 per client address
 *                                             (1..1000000)
 *   core.request_timeout     int      global  30 seconds (1..3600)
 *   core.max_request_size    int      global  8388608 bytes (4096..1 GiB)
 *   core.min_free_space      int      local   67108864 bytes of disk kept
 *                                             free: writes that would eat
 *                                             into it are refused (8 MiB..
 *                                             1 TiB)
 *   core.query_timeout       int      global  5 seconds a SQL statement may
 *                                             run (1..86400)
 *   core.max_query_timeout   int      global  60: the most a request's
 *                                             "timeout" may ask (1..86400)
 *   core.max_response_size   int      global  33554432 bytes of SQL result
 *                                             (64 KiB..1 GiB)
 *   core.max_write_size      int      global  8388608 bytes of changes per
 *                                             SQL write (4096..15 MiB: two
 *                                             must fit a 32 MiB raft segment)
 *   raft.snapshot_threshold  int      local   1024 entries (16..100000000),
 *                                             the least interval (gdb.h)
 *   raft.snapshot_trailing   int      local   512 entries (0..100000000)
 *   user.*                   string   global  "" (free-form)
 *
 * Normalised forms: BOOL "true"/"false"; INT decimal; ADDRESS "host:port"
 * with IPv6 in brackets, hostnames in lower case, IPv6 in RFC 5952 form and
 * the port CONFIG_DEFAULT_PORT added when missing; DURATION as days, hours,
 * minutes and seconds, largest first, zero parts left out ("90s" is
 * "1m30s", "180m" is "3h", 0 is "0s"); "" means unset.
 *
 * DURATION input: a JSON number or a string of digits (seconds), or one or
 * more groups of digits and a unit, s, m, h or d, each unit at most once
 * and largest first: "90s", "30m", "3h", "2d", "1h30m". */
#ifndef TM_CONFIG_H
#define TM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define CONFIG_DEFAULT_PORT 8443

enum config_type {
	CONFIG_STRING,
	CONFIG_BOOL,
	CONFIG_INT,
	CONFIG_ADDRESS,
	CONFIG_DURATION,
};
enum config_scope { CONFIG_SCOPE_LOCAL, CONFIG_SCOPE_GLOBAL };

/* A key's definition; static. DEFAULT_VALUE is in normalised form ("" for
 * none). MIN/MAX bound CONFIG_INT values and CONFIG_DURATION seconds
 * (inclusive) and are 0 otherwise. CHECK (may be NULL) refuses a value in
 * range for a reason of its own (TM_INVALID, REASON set; TM_ERRMSG_SIZE
 * bytes). */
struct config_key {
	const char *name;
	enum config_type type;
	enum config_scope scope;
	const char *default_value;
	int64_t min, max;
	int (*check)(int64_t value, char *reason);
	const char *description;
	/* The value must not be shown where it could leak (the config
	 * events of GET /1.0/events carry no value for it). No key is
	 * secret today; one that holds a password or key must say so. */
	bool secret;
};

/* The definition of NAME, or NULL if unknown. Any "user.<suffix>" matches the
 * free-form string key, whose NAME is "user.*" (SUFFIX: 1 to 250 characters
 * among letters, digits and "._-:/"). Borrowed, static. */
const struct config_key *config_lookup(const char *name);

/* The whole table sorted by name, "user.*" included; *N gets its length.
 * Borrowed, static. */
const struct config_key *config_keys(size_t *n);

/* Validate and normalise VALUE (borrowed) for KEY: a JSON string for every
 * type, also a number for INT and a bool for BOOL; "" or null unset the key.
 * BOOL strings: true/false/1/0/yes/no/on/off, any case. On success *OUT is an
 * owned string (tm_free), "" meaning unset. Otherwise TM_INVALID with ERRMSG
 * (TM_ERRMSG_SIZE bytes) like "invalid value for core.https_address: port
 * 70000 out of range (1-65535)". */
int config_normalize(const struct config_key *key, const cJSON *value,
		     char **out, char *errmsg);

/* The new configuration from CURRENT (borrowed; object key -> string, only
 * set keys; NULL = empty) and a request BODY (borrowed; must be an object).
 *
 * REPLACE (PUT): the result holds exactly BODY's keys. Otherwise (PATCH):
 * BODY is merged into CURRENT, a null or "" value unsetting its key. Keys
 * whose value equals their default are not stored. Unknown keys fail with
 * "unknown configuration key \"foo\""; bad values with "cannot set 'k' to
 * 'v': reason". Every error is collected and the first one is reported,
 * followed by " (and N more errors)" when there are others.
 *
 * On success *RESULT (owned, cJSON_Delete) is the new configuration, its
 * members sorted by name (equal configurations print the same), and
 * *CHANGED (owned) an array of the names, sorted, whose effective value
 * differs between CURRENT and *RESULT. On failure (TM_INVALID, or TM_NOMEM
 * from cJSON) both are NULL. */
int config_apply(const cJSON *current, const cJSON *body, bool replace,
		 cJSON **result, cJSON **changed, char *errmsg);

/* The value of KEY (a known key) in CONFIG (borrowed, may be NULL), or its
 * default. Borrowed from CONFIG or static. NULL only for an unknown KEY. */
const char *config_get(const cJSON *config, const char *key);

/* config_get() of a CONFIG_INT key as a number; a stored value that does not
 * parse (never written by config_apply) yields the default, with a
 * warning. */
int64_t config_get_int(const cJSON *config, const char *key);

/* config_get() of a CONFIG_DURATION key in seconds; a stored value that
 * does not parse yields the default, with a warning. */
int64_t config_get_duration(const cJSON *config, const char *key);

/* Parse the duration TEXT (see "DURATION input" above; no range check
 * beyond what fits in 64 bits) into *SECONDS. TM_INVALID with ERRMSG
 * (TM_ERRMSG_SIZE bytes) saying why otherwise, e.g. "\"3x\" is not a
 * duration (e.g. 90s, 30m, 3h, 2d)". For the keys and for command-line
 * options such as "therm cluster add --expiry". */
int config_parse_duration(const char *text, int64_t *seconds, char *errmsg);

/* The normalised form of SECONDS (>= 0) into OUT (CONFIG_DURATION_LEN
 * bytes), e.g. 5400 -> "1h30m". */
#define CONFIG_DURATION_LEN 64
void config_format_duration(int64_t seconds, char *out);

/* The members of CONFIG (borrowed, may be NULL) whose key has SCOPE, as a
 * new object (owned) in CONFIG's order. A name that is no known key counts
 * as local: it stays where it was found. */
cJSON *config_scope_only(const cJSON *config, enum config_scope scope);

/* The union of A and B (borrowed, may be NULL; B wins for a name in both)
 * as a new object (owned) sorted by name. */
cJSON *config_merge(const cJSON *a, const cJSON *b);

/* "member" (CONFIG_SCOPE_LOCAL) or "cluster" (CONFIG_SCOPE_GLOBAL): the
 * words users see. Static. */
const char *config_scope_name(enum config_scope scope);

/* "string", "bool", "int", "address" or "duration". Static. */
const char *config_type_name(enum config_type type);

/* Every key described, for "therm config show --all": an array (owned)
 * of objects {key, scope, type, default, value, set, description}, one
 * per key of the table in its order, VALUE being the value in CONFIG
 * (borrowed, may be NULL: the effective configuration) or the default,
 * SET whether CONFIG holds the key. The free-form "user.*" key comes
 * once as itself (value "", set false), followed by each "user.<suffix>"
 * key CONFIG holds, sorted. Names in CONFIG that are no known key are
 * left out. */
cJSON *config_describe(const cJSON *config);

/* Canonical "host:port" form (see "Normalised forms" above) of the
 * non-empty address IN (borrowed): *OUT owned (tm_free). TM_INVALID with
 * REASON (TM_ERRMSG_SIZE bytes) set otherwise, e.g. "port 0 out of range
 * (1-65535)". Other modules use it to hold addresses to the same form as
 * core.https_address (the join token's member addresses). */
int config_address_normalize(const char *in, char **out, char *reason);

#endif /* TM_CONFIG_H */

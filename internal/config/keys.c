/* The table of configuration keys. Keep it sorted by name. */
#include <string.h>

#include "internal/config/config.h"
#include "internal/lib/assert.h"
#include "internal/lib/err.h"

#define USER_PREFIX "user."
#define USER_SUFFIX_MAX 250

/* cluster.max_voters: an even number of voters tolerates no more failures
 * than the odd number below it, and makes split votes likelier. */
static int check_odd(int64_t value, char *reason)
{
	if (value % 2 == 0) {
		tm_errmsg_printf(reason,
				 "%lld is even: the number of voters "
				 "must be odd",
				 (long long)value);
		return TM_INVALID;
	}
	return 0;
}

static const struct config_key keys[] = {
    {
	.name = "cluster.check_interval",
	.type = CONFIG_INT,
	.scope = CONFIG_SCOPE_GLOBAL,
	.default_value = "0",
	.min = 0,
	.max = 604800,
	.description = "Seconds between two content checks run by the "
		       "leader on its own, as 'therm cluster check' does "
		       "(0..604800; 0: never)",
    },
    {
	.name = "cluster.heartbeat_interval",
	.type = CONFIG_INT,
	.scope = CONFIG_SCOPE_GLOBAL,
	.default_value = "500",
	.min = 100,
	.max = 60000,
	.description = "Milliseconds between the leader's heartbeats to "
		       "each member (100..60000)",
    },
    {
	.name = "cluster.join_token_expiry",
	.type = CONFIG_DURATION,
	.scope = CONFIG_SCOPE_GLOBAL,
	.default_value = "3h",
	.min = 60,
	.max = 365 * 86400,
	.description = "How long a join token stays valid unless \"therm "
		       "cluster add --expiry\" says otherwise (1m..365d; "
		       "e.g. 90s, 30m, 3h, 2d)",
    },
    {
	.name = "cluster.max_standby",
	.type = CONFIG_INT,
	.scope = CONFIG_SCOPE_GLOBAL,
	.default_value = "2",
	.min = 0,
	.max = 9,
	.description = "Most members kept as raft standbys (replicating, "
		       "not voting); the others beyond the voters are spares",
    },
    {
	.name = "cluster.max_voters",
	.type = CONFIG_INT,
	.scope = CONFIG_SCOPE_GLOBAL,
	.default_value = "3",
	.min = 1,
	.max = 9,
	.check = check_odd,
	.description = "Most members that vote in raft elections (odd: 1, 3, "
		       "5, 7 or 9)",
    },
    {
	.name = "cluster.offline_threshold",
	.type = CONFIG_INT,
	.scope = CONFIG_SCOPE_GLOBAL,
	.default_value = "2000",
	.min = 200,
	.max = 3600000,
	.description = "Milliseconds without a heartbeat after which a "
		       "member is shown OFFLINE (200..3600000; at least "
		       "twice cluster.heartbeat_interval is used)",
    },
    {
	.name = "core.https_address",
	.type = CONFIG_ADDRESS,
	.scope = CONFIG_SCOPE_LOCAL,
	.default_value = "",
	.description = "Address to serve the REST API on, host[:port] "
		       "(default port 8443); unset: not listening",
    },
    {
	.name = "core.max_connections",
	.type = CONFIG_INT,
	.scope = CONFIG_SCOPE_GLOBAL,
	.default_value = "1000",
	.min = 1,
	.max = 1000000,
	.description = "Most HTTPS connections open at once (the unix "
		       "socket is not counted)",
    },
    {
	.name = "core.max_connections_per_address",
	.type = CONFIG_INT,
	.scope = CONFIG_SCOPE_GLOBAL,
	.default_value = "100",
	.min = 1,
	.max = 1000000,
	.description = "Most HTTPS connections open at once from one "
		       "client address",
    },
    {
	.name = "core.max_query_timeout",
	.type = CONFIG_INT,
	.scope = CONFIG_SCOPE_GLOBAL,
	.default_value = "60",
	.min = 1,
	.max = 86400,
	.description = "Longest timeout, in seconds, a SQL request may ask for",
    },
    {
	.name = "core.max_request_size",
	.type = CONFIG_INT,
	.scope = CONFIG_SCOPE_GLOBAL,
	.default_value = "8388608",
	.min = 4096,
	.max = 1073741824,
	.description = "Largest request body accepted, in bytes",
    },
    {
	.name = "core.max_response_size",
	.type = CONFIG_INT,
	.scope = CONFIG_SCOPE_GLOBAL,
	.default_value = "33554432",
	.min = 65536,
	.max = 1073741824,
	.description = "Largest SQL result sent, in bytes",
    },
    {
	.name = "core.max_write_size",
	.type = CONFIG_INT,
	.scope = CONFIG_SCOPE_GLOBAL,
	.default_value = "8388608",
	.min = 4096,
	.max = 15728640,
	.description = "Largest change a SQL write request may make, in bytes",
    },
    {
	.name = "core.min_free_space",
	.type = CONFIG_INT,
	.scope = CONFIG_SCOPE_LOCAL,
	.default_value = "67108864",
	.min = 8388608,
	.max = 1099511627776,
	.description = "Free disk space, in bytes, kept in reserve: writes "
		       "that would eat into it are refused",
    },
    {
	.name = "core.query_timeout",
	.type = CONFIG_INT,
	.scope = CONFIG_SCOPE_GLOBAL,
	.default_value = "5",
	.min = 1,
	.max = 86400,
	.description =
	    "Seconds a SQL statement may run unless its request asks otherwise",
    },
    {
	.name = "core.request_timeout",
	.type = CONFIG_INT,
	.scope = CONFIG_SCOPE_GLOBAL,
	.default_value = "30",
	.min = 1,
	.max = 3600,
	.description = "Seconds allowed to read a whole HTTP request",
    },
    {
	.name = "raft.snapshot_threshold",
	.type = CONFIG_INT,
	.scope = CONFIG_SCOPE_LOCAL,
	.default_value = "1024",
	.min = 16,
	.max = 100000000,
	.description = "Least raft log entries between two snapshots; the "
		       "interval grows so that the entries between two "
		       "snapshots carry about a quarter of the global "
		       "database's size",
    },
    {
	.name = "raft.snapshot_trailing",
	.type = CONFIG_INT,
	.scope = CONFIG_SCOPE_LOCAL,
	.default_value = "512",
	.min = 0,
	.max = 100000000,
	.description = "Raft log entries kept before a snapshot (fewer when "
		       "they carry more than a quarter of the database)",
    },
    {
	.name = "user.*",
	.type = CONFIG_STRING,
	.scope = CONFIG_SCOPE_GLOBAL,
	.default_value = "",
	.description = "Free-form string for users and their tools, the "
		       "same on every member",
    },
};

#define N_KEYS (sizeof keys / sizeof keys[0])

static bool user_suffix_valid(const char *suffix)
{
	size_t len = strlen(suffix);
	if (len == 0 || len > USER_SUFFIX_MAX) {
		return false;
	}
	return strspn(suffix, "abcdefghijklmnopqrstuvwxyz"
			      "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			      "0123456789._-:/") == len;
}

const struct config_key *config_lookup(const char *name)
{
	PRE(name != NULL);
	if (strncmp(name, USER_PREFIX, strlen(USER_PREFIX)) == 0) {
		if (!user_suffix_valid(name + strlen(USER_PREFIX))) {
			return NULL;
		}
		return &keys[N_KEYS - 1];
	}
	for (size_t i = 0; i < N_KEYS - 1; i++) {
		if (strcmp(keys[i].name, name) == 0) {
			return &keys[i];
		}
	}
	return NULL;
}

const struct config_key *config_keys(size_t *n)
{
	PRE(n != NULL);
	*n = N_KEYS;
	return keys;
}

/* Durations: "90s", "30m", "3h", "2d", "1h30m", or bare seconds; the
 * normalised form, largest unit first (config.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/config/private.h"
#include "internal/lib/assert.h"
#include "internal/lib/err.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"

static const struct {
	char unit;
	int64_t seconds;
} units[] = {{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};

#define N_UNITS (sizeof units / sizeof units[0])

/* No total beyond this: about 292 years in seconds would fit, but nobody
 * means more than a century. */
#define DURATION_MAX_SECONDS ((int64_t)100 * 366 * 86400)

static int not_a_duration(const char *text, char *errmsg)
{
	tm_errmsg_printf(errmsg,
			 "\"%.64s\" is not a duration (e.g. 90s, 30m, 3h, 2d)",
			 text);
	return TM_INVALID;
}

/* Index of unit C in units[], or -1. */
static int unit_index(char c)
{
	for (size_t i = 0; i < N_UNITS; i++) {
		if (units[i].unit == c) {
			return (int)i;
		}
	}
	return -1;
}

int config_parse_duration(const char *text, int64_t *seconds, char *errmsg)
{
	PRE(text != NULL && seconds != NULL && errmsg != NULL);
	const char *p = text;
	int64_t total = 0;
	int next_unit = 0; /* units must come largest first, once each */
	if (*p == '\0') {
		return not_a_duration(text, errmsg);
	}
	while (*p != '\0') {
		size_t digits = strspn(p, "0123456789");
		if (digits == 0 || digits > 12) {
			return not_a_duration(text, errmsg);
		}
		int64_t n = strtoll(p, NULL, 10);
		p += digits;
		int64_t scale = 1;
		if (*p == '\0' && p - digits == text) {
			/* bare digits: seconds */
		} else {
			int u = unit_index(*p);
			if (u < next_unit) {
				return not_a_duration(text, errmsg);
			}
			scale = units[u].seconds;
			next_unit = u + 1;
			p++;
		}
		total += n * scale; /* n < 10^12, scale <= 86400: no overflow */
		if (total > DURATION_MAX_SECONDS) {
			tm_errmsg_printf(errmsg, "\"%.64s\" is too long", text);
			return TM_INVALID;
		}
	}
	*seconds = total;
	return 0;
}

void config_format_duration(int64_t seconds, char *out)
{
	PRE(seconds >= 0 && out != NULL);
	size_t len = 0;
	out[0] = '\0';
	for (size_t i = 0; i < N_UNITS; i++) {
		int64_t n = seconds / units[i].seconds;
		seconds %= units[i].seconds;
		if (n > 0) {
			len += (size_t)snprintf(
			    out + len, CONFIG_DURATION_LEN - len, "%lld%c",
			    (long long)n, units[i].unit);
		}
	}
	if (len == 0) {
		snprintf(out, CONFIG_DURATION_LEN, "0s");
	}
}

int config_normalize_duration(const struct config_key *key, const cJSON *value,
			      char **out, char *reason)
{
	int64_t seconds;
	char shown[CONFIG_DURATION_LEN];
	if (cJSON_IsNumber(value)) {
		char *text = cJSON_PrintUnformatted(value);
		int rv = config_parse_duration(text != NULL ? text : "?",
					       &seconds, reason);
		cJSON_free(text);
		if (rv != 0) {
			return rv;
		}
	} else if (cJSON_IsString(value)) {
		int rv =
		    config_parse_duration(value->valuestring, &seconds, reason);
		if (rv != 0) {
			return rv;
		}
	} else {
		return config_wrong_type("a duration", value, reason);
	}
	config_format_duration(seconds, shown);
	if (seconds < key->min || seconds > key->max) {
		char lo[CONFIG_DURATION_LEN];
		char hi[CONFIG_DURATION_LEN];
		config_format_duration(key->min, lo);
		config_format_duration(key->max, hi);
		tm_errmsg_printf(reason, "%s out of range (%s-%s)", shown, lo,
				 hi);
		return TM_INVALID;
	}
	*out = tm_strdup(shown);
	return 0;
}

int64_t config_get_duration(const cJSON *config, const char *key)
{
	const struct config_key *def = config_lookup(key);
	PRE(def != NULL && def->type == CONFIG_DURATION);
	const char *value = config_get(config, key);
	char errmsg[TM_ERRMSG_SIZE];
	int64_t seconds;
	if (config_parse_duration(value, &seconds, errmsg) != 0 ||
	    seconds < def->min || seconds > def->max) {
		LOGW("config: %s has invalid value \"%s\", using the default "
		     "%s",
		     key, value, def->default_value);
		int rv =
		    config_parse_duration(def->default_value, &seconds, errmsg);
		INVARIANT(rv == 0);
	}
	return seconds;
}

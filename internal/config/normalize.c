/* Validating and normalising one value. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal/config/private.h"
#include "internal/lib/assert.h"
#include "internal/lib/err.h"
#include "internal/lib/mem.h"

static const char *json_type(const cJSON *value)
{
	if (cJSON_IsBool(value)) {
		return "a boolean";
	}
	if (cJSON_IsNumber(value)) {
		return "a number";
	}
	if (cJSON_IsString(value)) {
		return "a string";
	}
	if (cJSON_IsArray(value)) {
		return "an array";
	}
	if (cJSON_IsObject(value)) {
		return "an object";
	}
	return "an invalid JSON value";
}

int config_wrong_type(const char *expected, const cJSON *value, char *reason)
{
	tm_errmsg_printf(reason, "expected %s, got %s", expected,
			 json_type(value));
	return TM_INVALID;
}

static int normalize_bool(const cJSON *value, char **out, char *reason)
{
	static const char *truthy[] = {"true", "1", "yes", "on"};
	static const char *falsy[] = {"false", "0", "no", "off"};
	if (cJSON_IsBool(value)) {
		*out = tm_strdup(cJSON_IsTrue(value) ? "true" : "false");
		return 0;
	}
	if (!cJSON_IsString(value)) {
		return config_wrong_type("a boolean", value, reason);
	}
	for (size_t i = 0; i < sizeof truthy / sizeof truthy[0]; i++) {
		if (strcasecmp(value->valuestring, truthy[i]) == 0) {
			*out = tm_strdup("true");
			return 0;
		}
		if (strcasecmp(value->valuestring, falsy[i]) == 0) {
			*out = tm_strdup("false");
			return 0;
		}
	}
	tm_errmsg_printf(reason, "\"%.64s\" is not a boolean (true or false)",
			 value->valuestring);
	return TM_INVALID;
}

static int out_of_range(const struct config_key *key, const char *shown,
			char *reason)
{
	tm_errmsg_printf(reason, "%.64s out of range (%lld-%lld)", shown,
			 (long long)key->min, (long long)key->max);
	return TM_INVALID;
}

/* A JSON number: it must be integral and in range. */
static int int_from_number(const struct config_key *key, const cJSON *value,
			   int64_t *n, char *reason)
{
	double d = value->valuedouble;
	char *shown = cJSON_PrintUnformatted(value);
	int rv = 0;
	if (!(d >= (double)key->min && d <= (double)key->max)) {
		rv = out_of_range(key, shown != NULL ? shown : "value", reason);
	} else {
		*n = (int64_t)d;
		/* No == on doubles (-Wfloat-equal): integral iff neither
		 * side of the truncation is greater. */
		if ((double)*n < d || (double)*n > d) {
			tm_errmsg_printf(reason, "%.64s is not an integer",
					 shown != NULL ? shown : "value");
			rv = TM_INVALID;
		}
	}
	cJSON_free(shown);
	return rv;
}

/* A decimal string: optional '-', digits only. */
static int int_from_string(const struct config_key *key, const char *s,
			   int64_t *n, char *reason)
{
	const char *digits = s[0] == '-' ? s + 1 : s;
	if (digits[0] == '\0' ||
	    strspn(digits, "0123456789") != strlen(digits)) {
		tm_errmsg_printf(reason, "\"%.64s\" is not an integer", s);
		return TM_INVALID;
	}
	errno = 0;
	long long value = strtoll(s, NULL, 10);
	if (errno == ERANGE || value < key->min || value > key->max) {
		return out_of_range(key, s, reason);
	}
	*n = value;
	return 0;
}

static int normalize_int(const struct config_key *key, const cJSON *value,
			 char **out, char *reason)
{
	int64_t n = 0;
	int rv;
	if (cJSON_IsNumber(value)) {
		rv = int_from_number(key, value, &n, reason);
	} else if (cJSON_IsString(value)) {
		rv = int_from_string(key, value->valuestring, &n, reason);
	} else {
		rv = config_wrong_type("an integer", value, reason);
	}
	if (rv == 0 && key->check != NULL) {
		rv = key->check(n, reason);
	}
	if (rv == 0) {
		*out = tm_asprintf("%lld", (long long)n);
	}
	return rv;
}

int config_normalize_reason(const struct config_key *key, const cJSON *value,
			    char **out, char *reason)
{
	PRE(key != NULL && value != NULL && out != NULL && reason != NULL);
	if (cJSON_IsNull(value) ||
	    (cJSON_IsString(value) && value->valuestring[0] == '\0')) {
		*out = tm_strdup("");
		return 0;
	}
	switch (key->type) {
	case CONFIG_STRING:
		if (!cJSON_IsString(value)) {
			return config_wrong_type("a string", value, reason);
		}
		*out = tm_strdup(value->valuestring);
		return 0;
	case CONFIG_BOOL:
		return normalize_bool(value, out, reason);
	case CONFIG_INT:
		return normalize_int(key, value, out, reason);
	case CONFIG_ADDRESS:
		if (!cJSON_IsString(value)) {
			return config_wrong_type("a string", value, reason);
		}
		return config_address_normalize(value->valuestring, out,
						reason);
	case CONFIG_DURATION:
		return config_normalize_duration(key, value, out, reason);
	}
	IMPOSSIBLE("unknown config type");
}

int config_normalize(const struct config_key *key, const cJSON *value,
		     char **out, char *errmsg)
{
	PRE(errmsg != NULL);
	int rv = config_normalize_reason(key, value, out, errmsg);
	if (rv != 0) {
		tm_errmsg_wrapf(errmsg, "invalid value for %s", key->name);
	}
	return rv;
}

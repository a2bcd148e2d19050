/* Parsing and checking a preseed file (format in preseed.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cmd/therm/cli.h"
#include "cmd/therm/preseed.h"
#include "internal/lib/err.h"

static int preseed_fail(char *errmsg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int preseed_fail(char *errmsg, const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	vsnprintf(errmsg, THERM_ERRMSG_SIZE, fmt, args);
	va_end(args);
	return TM_INVALID;
}

static const char *json_type(const cJSON *v)
{
	if (cJSON_IsObject(v)) {
		return "an object";
	}
	if (cJSON_IsArray(v)) {
		return "a list";
	}
	if (cJSON_IsBool(v)) {
		return "a boolean";
	}
	if (cJSON_IsNumber(v)) {
		return "a number";
	}
	if (cJSON_IsNull(v)) {
		return "null";
	}
	return "a string";
}

/* Every member of OBJ is one of the NULL-terminated KNOWN names. */
static int check_fields(const cJSON *obj, const char *where,
			const char *const *known, const char *expected,
			char *errmsg)
{
	const cJSON *item;
	cJSON_ArrayForEach(item, obj)
	{
		const char *const *k = known;
		while (*k != NULL && strcmp(*k, item->string) != 0) {
			k++;
		}
		if (*k == NULL) {
			return preseed_fail(errmsg,
					    "unknown field \"%s%.64s\" "
					    "(expected %s)",
					    where, item->string, expected);
		}
	}
	return 0;
}

static int check_config(cJSON *config, char *errmsg)
{
	cJSON *next;

	if (!cJSON_IsObject(config)) {
		return preseed_fail(errmsg,
				    "\"config\" must be a mapping of keys "
				    "to values, not %s",
				    json_type(config));
	}
	for (cJSON *item = config->child; item != NULL; item = next) {
		next = item->next;
		if (cJSON_IsBool(item)) {
			/* YAML's unquoted true/false: the text written. The
			 * key moves over to the replacement. */
			cJSON *text = cJSON_CreateString(
			    cJSON_IsTrue(item) ? "true" : "false");
			text->string = item->string;
			item->string = NULL;
			cJSON_ReplaceItemViaPointer(config, item, text);
			continue;
		}
		if (!cJSON_IsString(item) && !cJSON_IsNull(item)) {
			return preseed_fail(errmsg,
					    "config key \"%.64s\" must be a "
					    "string, not %s",
					    item->string, json_type(item));
		}
	}
	return 0;
}

/* A string field of CLUSTER, or NULL if absent. */
static int cluster_string(const cJSON *cluster, const char *name,
			  const char **out, char *errmsg)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(cluster, name);
	*out = NULL;
	if (item == NULL) {
		return 0;
	}
	if (!cJSON_IsString(item) || item->valuestring[0] == '\0') {
		return preseed_fail(errmsg,
				    "\"cluster.%s\" must be a non-empty "
				    "string",
				    name);
	}
	*out = item->valuestring;
	return 0;
}

static int check_cluster(const cJSON *cluster, struct therm_preseed *p,
			 char *errmsg)
{
	static const char *const known[] = {"enabled", "member_name", "token",
					    "address", "force",	      NULL};
	const cJSON *enabled = cJSON_GetObjectItem(cluster, "enabled");
	const cJSON *force = cJSON_GetObjectItem(cluster, "force");

	if (!cJSON_IsObject(cluster)) {
		return preseed_fail(errmsg,
				    "\"cluster\" must be a mapping, "
				    "not %s",
				    json_type(cluster));
	}
	if (check_fields(cluster, "cluster.", known,
			 "enabled, member_name, token, address, force",
			 errmsg) != 0 ||
	    cluster_string(cluster, "member_name", &p->member_name, errmsg) ||
	    cluster_string(cluster, "token", &p->token, errmsg) ||
	    cluster_string(cluster, "address", &p->address, errmsg)) {
		return TM_INVALID;
	}
	if (enabled != NULL && !cJSON_IsTrue(enabled)) {
		return preseed_fail(errmsg, "\"cluster.enabled\" can only be "
					    "true (leave \"cluster\" out to "
					    "stay standalone)");
	}
	if (force != NULL && !cJSON_IsBool(force)) {
		return preseed_fail(errmsg, "\"cluster.force\" must be true "
					    "or false");
	}
	p->force = cJSON_IsTrue(force);
	if ((p->member_name != NULL) == (p->token != NULL)) {
		return preseed_fail(errmsg,
				    "\"cluster\" needs either member_name "
				    "(to start a cluster) or token (to join "
				    "one), not %s",
				    p->token != NULL ? "both" : "neither");
	}
	if (p->member_name != NULL && (p->address != NULL || force != NULL)) {
		return preseed_fail(errmsg, "\"cluster.address\" and "
					    "\"cluster.force\" go with a "
					    "token only");
	}
	p->enable = p->member_name != NULL;
	p->join = p->token != NULL;
	return 0;
}

static int preseed_decode(const char *text, size_t len, cJSON **doc,
			  char *errmsg)
{
	const char *end = NULL;
	size_t i = 0;

	while (i < len && strchr(" \t\r\n", text[i]) != NULL) {
		i++;
	}
	if (i == len || text[i] != '{') {
		return therm_yaml_to_json(text, len, doc, errmsg);
	}
	*doc = cJSON_ParseWithLengthOpts(text, len, &end, false);
	if (*doc != NULL) {
		/* Nothing but blanks may follow the value. */
		for (i = (size_t)(end - text); i < len; i++) {
			if (strchr(" \t\r\n", text[i]) == NULL) {
				cJSON_Delete(*doc);
				*doc = NULL;
				break;
			}
		}
		end = text + i;
	}
	if (*doc == NULL) {
		size_t at = end != NULL ? (size_t)(end - text) : 0;
		size_t line = 1;
		for (size_t k = 0; k < at && k < len; k++) {
			line += text[k] == '\n';
		}
		return preseed_fail(errmsg, "line %zu: invalid JSON", line);
	}
	return 0;
}

int therm_preseed_parse(const char *text, size_t len, struct therm_preseed *p,
			char *errmsg)
{
	static const char *const known[] = {"config", "cluster", NULL};
	struct therm_preseed q = {0};
	const cJSON *cluster;
	int rv;

	rv = preseed_decode(text, len, &q.doc, errmsg);
	if (rv != 0) {
		return rv;
	}
	if (!cJSON_IsObject(q.doc)) {
		rv = preseed_fail(errmsg,
				  "expected a mapping with \"config\" "
				  "and/or \"cluster\", not %s",
				  json_type(q.doc));
		goto err;
	}
	rv = check_fields(q.doc, "", known, "config, cluster", errmsg);
	if (rv != 0) {
		goto err;
	}
	q.config = cJSON_GetObjectItemCaseSensitive(q.doc, "config");
	if (q.config != NULL && (rv = check_config(q.config, errmsg)) != 0) {
		goto err;
	}
	cluster = cJSON_GetObjectItemCaseSensitive(q.doc, "cluster");
	if (cluster != NULL && (rv = check_cluster(cluster, &q, errmsg)) != 0) {
		goto err;
	}
	*p = q;
	return 0;
err:
	cJSON_Delete(q.doc);
	return TM_INVALID;
}

void therm_preseed_close(struct therm_preseed *p)
{
	cJSON_Delete(p->doc);
	memset(p, 0, sizeof *p);
}

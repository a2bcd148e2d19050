/* Computing a new configuration from a PUT or PATCH body, and reading
 * values with their defaults. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/config/private.h"
#include "internal/lib/assert.h"
#include "internal/lib/err.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"

#define SHOWN_MAX 64

/* Every error of one request; only the first is spelled out. */
struct errors {
	int count;
	char first[TM_ERRMSG_SIZE];
};

static void add_error(struct errors *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void add_error(struct errors *e, const char *fmt, ...)
{
	if (e->count++ == 0) {
		va_list args;
		va_start(args, fmt);
		vsnprintf(e->first, sizeof e->first, fmt, args);
		va_end(args);
	}
}

/* "<first> (and N more errors)", the first one cut to leave room. */
static void report(const struct errors *e, char *errmsg)
{
	char suffix[64] = "";
	int more = e->count - 1;
	if (more > 0) {
		snprintf(suffix, sizeof suffix, " (and %d more error%s)", more,
			 more == 1 ? "" : "s");
	}
	int room = TM_ERRMSG_SIZE - 1 - (int)strlen(suffix);
	tm_errmsg_printf(errmsg, "%.*s%s", room, e->first, suffix);
}

/* VALUE as shown in an error: a string as is, anything else as JSON; cut to
 * SHOWN_MAX characters. Owned. */
static char *shown_value(const cJSON *value)
{
	char *json = NULL;
	const char *text = value->valuestring;
	if (!cJSON_IsString(value)) {
		json = cJSON_PrintUnformatted(value);
		text = json != NULL ? json : "?";
	}
	char *shown = strlen(text) > SHOWN_MAX
			  ? tm_asprintf("%.*s...", SHOWN_MAX, text)
			  : tm_strdup(text);
	cJSON_free(json);
	return shown;
}

static bool seen_before(const cJSON *body, const cJSON *item)
{
	for (const cJSON *p = body->child; p != item; p = p->next) {
		if (strcmp(p->string, item->string) == 0) {
			return true;
		}
	}
	return false;
}

/* Apply one body entry to NEXT, or record why it cannot be. */
static int apply_item(cJSON *next, const cJSON *body, const cJSON *item,
		      struct errors *e)
{
	const char *name = item->string;
	if (seen_before(body, item)) {
		add_error(e, "duplicate configuration key \"%.64s\"", name);
		return 0;
	}
	const struct config_key *key = config_lookup(name);
	if (key == NULL) {
		add_error(e, "unknown configuration key \"%.64s\"", name);
		return 0;
	}
	char reason[TM_ERRMSG_SIZE];
	char *value;
	if (config_normalize_reason(key, item, &value, reason) != 0) {
		char *shown = shown_value(item);
		add_error(e, "cannot set '%s' to '%s': %s", name, shown,
			  reason);
		tm_free(shown);
		return 0;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(next, name);
	int rv = 0;
	if (value[0] != '\0' && strcmp(value, key->default_value) != 0 &&
	    cJSON_AddStringToObject(next, name, value) == NULL) {
		rv = TM_NOMEM;
	}
	tm_free(value);
	return rv;
}

/* The effective value of NAME in CONFIG: its string, else the default ("" for
 * names no longer known). */
static const char *effective(const cJSON *config, const char *name)
{
	const cJSON *item = config != NULL
				? cJSON_GetObjectItemCaseSensitive(config, name)
				: NULL;
	if (cJSON_IsString(item)) {
		return item->valuestring;
	}
	const struct config_key *key = config_lookup(name);
	return key != NULL ? key->default_value : "";
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted names set in A or B whose effective values differ. */
static cJSON *changed_keys(const cJSON *a, const cJSON *b)
{
	size_t cap =
	    (size_t)cJSON_GetArraySize(a) + (size_t)cJSON_GetArraySize(b);
	const char **names = tm_calloc(cap, sizeof *names);
	size_t n = 0;
	const cJSON *sides[2] = {a, b};
	for (int s = 0; s < 2; s++) {
		const cJSON *item;
		cJSON_ArrayForEach(item, sides[s])
		{
			if (strcmp(effective(a, item->string),
				   effective(b, item->string)) != 0) {
				names[n++] = item->string;
			}
		}
	}
	qsort(names, n, sizeof *names, compare_names);
	cJSON *changed = cJSON_CreateArray();
	for (size_t i = 0; changed != NULL && i < n; i++) {
		if (i > 0 && strcmp(names[i], names[i - 1]) == 0) {
			continue;
		}
		cJSON *name = cJSON_CreateString(names[i]);
		if (name == NULL) {
			cJSON_Delete(changed);
			changed = NULL;
			break;
		}
		cJSON_AddItemToArray(changed, name);
	}
	tm_free(names);
	return changed;
}

static int compare_items(const void *a, const void *b)
{
	return strcmp((*(cJSON *const *)a)->string,
		      (*(cJSON *const *)b)->string);
}

/* Order OBJECT's members by name, so that equal configurations print (and
 * hash, for ETags) the same whatever order the requests came in. */
static void sort_members(cJSON *object)
{
	size_t n = (size_t)cJSON_GetArraySize(object);
	cJSON **items = tm_calloc(n, sizeof *items);
	for (size_t i = 0; i < n; i++) {
		items[i] = cJSON_DetachItemViaPointer(object, object->child);
	}
	qsort(items, n, sizeof *items, compare_items);
	for (size_t i = 0; i < n; i++) {
		/* appends the member, keeping its name */
		cJSON_AddItemToArray(object, items[i]);
	}
	tm_free(items);
}

int config_apply(const cJSON *current, const cJSON *body, bool replace,
		 cJSON **result, cJSON **changed, char *errmsg)
{
	PRE(result != NULL && changed != NULL && errmsg != NULL);
	PRE(current == NULL || cJSON_IsObject(current));
	*result = NULL;
	*changed = NULL;
	if (!cJSON_IsObject(body)) {
		tm_errmsg_printf(errmsg, "configuration must be a JSON object");
		return TM_INVALID;
	}
	cJSON *next = replace || current == NULL
			  ? cJSON_CreateObject()
			  : cJSON_Duplicate(current, true);
	struct errors e = {0};
	int rv = next != NULL ? 0 : TM_NOMEM;
	const cJSON *item;
	cJSON_ArrayForEach(item, body)
	{
		if (rv != 0) {
			break;
		}
		rv = apply_item(next, body, item, &e);
	}
	if (rv == 0 && e.count > 0) {
		report(&e, errmsg);
		rv = TM_INVALID;
	}
	if (rv == 0) {
		*changed = changed_keys(current, next);
		rv = *changed != NULL ? 0 : TM_NOMEM;
	}
	if (rv != 0) {
		if (rv == TM_NOMEM) {
			tm_errmsg_printf(errmsg, "configuration: out of "
						 "memory");
		}
		cJSON_Delete(next);
		return rv;
	}
	sort_members(next);
	*result = next;
	return 0;
}

const char *config_get(const cJSON *config, const char *key)
{
	PRE(key != NULL);
	if (config_lookup(key) == NULL) {
		return NULL;
	}
	return effective(config, key);
}

int64_t config_get_int(const cJSON *config, const char *key)
{
	const struct config_key *def = config_lookup(key);
	PRE(def != NULL && def->type == CONFIG_INT);
	const char *value = effective(config, key);
	char *end;
	errno = 0;
	long long n = strtoll(value, &end, 10);
	if (value[0] == '\0' || *end != '\0' || errno != 0 || n < def->min ||
	    n > def->max) {
		LOGW("config: %s has invalid value \"%s\", using the default "
		     "%s",
		     key, value, def->default_value);
		n = strtoll(def->default_value, NULL, 10);
	}
	return n;
}

cJSON *config_scope_only(const cJSON *config, enum config_scope scope)
{
	cJSON *out = cJSON_CreateObject();
	INVARIANT(out != NULL);
	const cJSON *item;
	cJSON_ArrayForEach(item, config)
	{
		const struct config_key *key = config_lookup(item->string);
		enum config_scope s =
		    key != NULL ? key->scope : CONFIG_SCOPE_LOCAL;
		if (s == scope) {
			cJSON_AddItemToObject(out, item->string,
					      cJSON_Duplicate(item, true));
		}
	}
	return out;
}

cJSON *config_merge(const cJSON *a, const cJSON *b)
{
	cJSON *out =
	    a != NULL ? cJSON_Duplicate(a, true) : cJSON_CreateObject();
	INVARIANT(out != NULL);
	const cJSON *item;
	cJSON_ArrayForEach(item, b)
	{
		cJSON_DeleteItemFromObjectCaseSensitive(out, item->string);
		cJSON_AddItemToObject(out, item->string,
				      cJSON_Duplicate(item, true));
	}
	sort_members(out);
	return out;
}

/* Unit tests for internal/config: key registry, value normalisation, PUT and
 * PATCH semantics, error texts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "internal/config/config.h"
#include "internal/lib/err.h"
#include "internal/lib/mem.h"

/* --- helpers ------------------------------------------------------------- */

/* Normalise the JSON text VALUE for KEY and expect EXPECTED. */
static void norm_ok(const struct config_key *key, const char *value,
		    const char *expected)
{
	cJSON *json = cJSON_Parse(value);
	assert_non_null(json);
	char errmsg[TM_ERRMSG_SIZE] = "";
	char *out = NULL;
	int rv = config_normalize(key, json, &out, errmsg);
	if (rv != 0) {
		fail_msg("%s = %s: %s", key->name, value, errmsg);
	}
	assert_string_equal(out, expected);
	tm_free(out);
	cJSON_Delete(json);
}

/* Normalise the JSON text VALUE for KEY and expect a failure whose message
 * is "invalid value for <key>: <REASON>". */
static void norm_bad(const struct config_key *key, const char *value,
		     const char *reason)
{
	cJSON *json = cJSON_Parse(value);
	assert_non_null(json);
	char errmsg[TM_ERRMSG_SIZE] = "";
	char *out = NULL;
	assert_int_equal(config_normalize(key, json, &out, errmsg), TM_INVALID);
	assert_null(out);
	char expected[TM_ERRMSG_SIZE];
	snprintf(expected, sizeof expected, "invalid value for %s: %s",
		 key->name, reason);
	assert_string_equal(errmsg, expected);
	cJSON_Delete(json);
}

static const struct config_key *key(const char *name)
{
	const struct config_key *k = config_lookup(name);
	assert_non_null(k);
	return k;
}

/* The result of config_apply() as JSON text (results owned). */
struct applied {
	int rv;
	char *result;  /* unformatted JSON or NULL */
	char *changed; /* unformatted JSON or NULL */
	char errmsg[TM_ERRMSG_SIZE];
};

static char *to_text(const cJSON *json)
{
	if (json == NULL) {
		return NULL;
	}
	char *text = cJSON_PrintUnformatted(json);
	char *copy = tm_strdup(text);
	cJSON_free(text);
	return copy;
}

static struct applied apply(const char *current, const char *body, bool replace)
{
	cJSON *cur = current != NULL ? cJSON_Parse(current) : NULL;
	cJSON *req = cJSON_Parse(body);
	assert_true(current == NULL || cur != NULL);
	struct applied a = {0};
	cJSON *result = (cJSON *)1;
	cJSON *changed = (cJSON *)1;
	a.rv = config_apply(cur, req, replace, &result, &changed, a.errmsg);
	if (a.rv != 0) {
		assert_null(result);
		assert_null(changed);
	}
	a.result = to_text(result);
	a.changed = to_text(changed);
	cJSON_Delete(result);
	cJSON_Delete(changed);
	cJSON_Delete(cur);
	cJSON_Delete(req);
	return a;
}

static void applied_free(struct applied *a)
{
	tm_free(a->result);
	tm_free(a->changed);
}

static void apply_ok(const char *current, const char *body, bool replace,
		     const char *result, const char *changed)
{
	struct applied a = apply(current, body, replace);
	if (a.rv != 0) {
		fail_msg("apply %s: %s", body, a.errmsg);
	}
	assert_string_equal(a.result, result);
	assert_string_equal(a.changed, changed);
	applied_free(&a);
}

static void apply_bad(const char *current, const char *body, bool replace,
		      const char *errmsg)
{
	struct applied a = apply(current, body, replace);
	assert_int_equal(a.rv, TM_INVALID);
	assert_string_equal(a.errmsg, errmsg);
	applied_free(&a);
}

/* --- registry ------------------------------------------------------------ */

static void lookup_known_keys(void **state)
{
	(void)state;
	const struct config_key *k = key("core.https_address");
	assert_int_equal(k->type, CONFIG_ADDRESS);
	assert_int_equal(k->scope, CONFIG_SCOPE_LOCAL);
	assert_string_equal(k->default_value, "");
	k = key("core.request_timeout");
	assert_int_equal(k->type, CONFIG_INT);
	assert_int_equal(k->scope, CONFIG_SCOPE_GLOBAL);
	assert_string_equal(k->default_value, "30");
	assert_int_equal(k->min, 1);
	assert_int_equal(k->max, 3600);
	k = key("core.max_request_size");
	assert_string_equal(k->default_value, "8388608");
	assert_int_equal(k->min, 4096);
	assert_int_equal(k->max, 1073741824);
	k = key("raft.snapshot_threshold");
	assert_int_equal(k->scope, CONFIG_SCOPE_LOCAL);
	assert_string_equal(k->default_value, "1024");
	assert_int_equal(k->min, 16);
	assert_int_equal(k->max, 100000000);
	k = key("raft.snapshot_trailing");
	assert_int_equal(k->scope, CONFIG_SCOPE_LOCAL);
	assert_string_equal(k->default_value, "512");
	assert_int_equal(k->min, 0);

	assert_null(config_lookup("foo"));
	assert_null(config_lookup("core.https"));
	assert_null(config_lookup("core.https_address.x"));
	assert_null(config_lookup(""));
}

static void lookup_user_keys(void **state)
{
	(void)state;
	const struct config_key *k = key("user.note");
	assert_string_equal(k->name, "user.*");
	assert_int_equal(k->type, CONFIG_STRING);
	/* Cluster-wide: the same on every member. */
	assert_int_equal(k->scope, CONFIG_SCOPE_GLOBAL);
	assert_ptr_equal(key("user.a.b-c_d:e/f"), k);
	assert_null(config_lookup("user."));
	assert_null(config_lookup("user"));
	assert_null(config_lookup("user.with space"));
	assert_null(config_lookup("user.tab\t"));
	char long_name[300];
	memset(long_name, 'x', sizeof long_name);
	memcpy(long_name, "user.", 5);
	long_name[5 + 250] = '\0';
	assert_non_null(config_lookup(long_name));
	long_name[5 + 250] = 'x';
	long_name[5 + 251] = '\0';
	assert_null(config_lookup(long_name));
}

static void key_table(void **state)
{
	(void)state;
	size_t n = 0;
	const struct config_key *keys = config_keys(&n);
	assert_int_equal(n, 19);
	bool user = false;
	for (size_t i = 0; i < n; i++) {
		if (i > 0) {
			assert_true(strcmp(keys[i - 1].name, keys[i].name) < 0);
		}
		assert_non_null(keys[i].description);
		user = user || strcmp(keys[i].name, "user.*") == 0;
		if (strcmp(keys[i].name, "user.*") != 0) {
			assert_ptr_equal(config_lookup(keys[i].name), &keys[i]);
		}
		/* every default is in normalised form and valid */
		if (keys[i].default_value[0] != '\0') {
			char *json =
			    tm_asprintf("\"%s\"", keys[i].default_value);
			norm_ok(&keys[i], json, keys[i].default_value);
			tm_free(json);
		}
	}
	assert_true(user);
}

/* --- describing every key ------------------------------------------------ */

static const cJSON *field(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	assert_non_null(v);
	return v;
}

static const char *text(const cJSON *o, const char *name)
{
	const cJSON *v = field(o, name);
	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

/* Every declared key once, in the table's order, with its scope, type,
 * default and description; values from the configuration. */
static void describe_lists_every_key_once(void **state)
{
	(void)state;
	cJSON *config = cJSON_Parse(
	    "{\"user.zz\":\"last\",\"core.request_timeout\":\"45\","
	    "\"cluster.max_voters\":\"5\",\"user.a\":\"first\","
	    "\"no.such.key\":\"x\",\"core.https_address\":\"10.0.0.1:8443\"}");
	cJSON *all = config_describe(config);
	size_t n;
	const struct config_key *keys = config_keys(&n);
	/* The table, and the two user keys after "user.*". */
	assert_int_equal(cJSON_GetArraySize(all), (int)n + 2);
	size_t row = 0;
	for (size_t i = 0; i < n; i++, row++) {
		const cJSON *o = cJSON_GetArrayItem(all, (int)row);
		const struct config_key *k = &keys[i];
		assert_string_equal(text(o, "key"), k->name);
		assert_string_equal(text(o, "scope"),
				    k->scope == CONFIG_SCOPE_GLOBAL ? "cluster"
								    : "member");
		assert_string_equal(text(o, "type"), config_type_name(k->type));
		assert_string_equal(text(o, "default"), k->default_value);
		assert_string_equal(text(o, "description"), k->description);
		if (strcmp(k->name, "user.*") == 0) {
			assert_string_equal(text(o, "value"), "");
			assert_true(cJSON_IsFalse(field(o, "set")));
			o = cJSON_GetArrayItem(all, (int)++row);
			assert_string_equal(text(o, "key"), "user.a");
			assert_string_equal(text(o, "value"), "first");
			assert_string_equal(text(o, "scope"), "cluster");
			assert_string_equal(text(o, "type"), "string");
			assert_true(cJSON_IsTrue(field(o, "set")));
			o = cJSON_GetArrayItem(all, (int)++row);
			assert_string_equal(text(o, "key"), "user.zz");
			assert_string_equal(text(o, "value"), "last");
			continue;
		}
		const cJSON *set =
		    cJSON_GetObjectItemCaseSensitive(config, k->name);
		assert_int_equal(cJSON_IsTrue(field(o, "set")), set != NULL);
		assert_string_equal(text(o, "value"), set != NULL
							  ? set->valuestring
							  : k->default_value);
	}
	/* Each name once; the unknown one left out. */
	for (int i = 0; i < cJSON_GetArraySize(all); i++) {
		const char *name = text(cJSON_GetArrayItem(all, i), "key");
		assert_string_not_equal(name, "no.such.key");
		for (int j = i + 1; j < cJSON_GetArraySize(all); j++) {
			assert_string_not_equal(
			    name, text(cJSON_GetArrayItem(all, j), "key"));
		}
	}
	cJSON_Delete(all);
	cJSON_Delete(config);
}

static void describe_scopes_and_types(void **state)
{
	(void)state;
	assert_string_equal(config_scope_name(CONFIG_SCOPE_LOCAL), "member");
	assert_string_equal(config_scope_name(CONFIG_SCOPE_GLOBAL), "cluster");
	assert_string_equal(config_type_name(CONFIG_DURATION), "duration");
	assert_string_equal(config_type_name(CONFIG_ADDRESS), "address");
	/* Spot checks of the table as users see it. */
	cJSON *all = config_describe(NULL);
	const cJSON *o;
	unsigned seen = 0;
	cJSON_ArrayForEach(o, all)
	{
		const char *name = text(o, "key");
		if (strcmp(name, "core.https_address") == 0) {
			assert_string_equal(text(o, "scope"), "member");
			assert_string_equal(text(o, "type"), "address");
			seen++;
		} else if (strcmp(name, "cluster.max_voters") == 0) {
			assert_string_equal(text(o, "scope"), "cluster");
			assert_string_equal(text(o, "default"), "3");
			assert_string_equal(text(o, "value"), "3");
			seen++;
		} else if (strcmp(name, "user.*") == 0) {
			assert_string_equal(text(o, "scope"), "cluster");
			seen++;
		}
	}
	assert_int_equal(seen, 3);
	cJSON_Delete(all);
}

/* --- normalisation ------------------------------------------------------- */

static void normalize_unset(void **state)
{
	(void)state;
	size_t n;
	const struct config_key *keys = config_keys(&n);
	for (size_t i = 0; i < n; i++) {
		norm_ok(&keys[i], "null", "");
		norm_ok(&keys[i], "\"\"", "");
	}
}

static void normalize_string(void **state)
{
	(void)state;
	const struct config_key *k = key("user.x");
	norm_ok(k, "\"hello world\"", "hello world");
	norm_ok(k, "\"30\"", "30");
	norm_bad(k, "30", "expected a string, got a number");
	norm_bad(k, "true", "expected a string, got a boolean");
	norm_bad(k, "{}", "expected a string, got an object");
	norm_bad(k, "[]", "expected a string, got an array");
}

static const struct config_key bool_key = {
    .name = "test.flag",
    .type = CONFIG_BOOL,
    .scope = CONFIG_SCOPE_GLOBAL,
    .default_value = "false",
    .description = "a boolean for the tests",
};

static void normalize_bool(void **state)
{
	(void)state;
	norm_ok(&bool_key, "true", "true");
	norm_ok(&bool_key, "false", "false");
	static const char *yes[] = {"true", "TRUE", "1", "yes",
				    "Yes",  "on",   "ON"};
	static const char *no[] = {"false", "False", "0",  "no",
				   "NO",    "off",   "Off"};
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		char *json = tm_asprintf("\"%s\"", yes[i]);
		norm_ok(&bool_key, json, "true");
		tm_free(json);
		json = tm_asprintf("\"%s\"", no[i]);
		norm_ok(&bool_key, json, "false");
		tm_free(json);
	}
	norm_bad(&bool_key, "\"maybe\"",
		 "\"maybe\" is not a boolean (true or false)");
	norm_bad(&bool_key, "\"2\"", "\"2\" is not a boolean (true or false)");
	norm_bad(&bool_key, "1", "expected a boolean, got a number");
	norm_bad(&bool_key, "[true]", "expected a boolean, got an array");
}

static void normalize_int(void **state)
{
	(void)state;
	const struct config_key *k = key("core.request_timeout");
	norm_ok(k, "30", "30");
	norm_ok(k, "1", "1");
	norm_ok(k, "3600", "3600");
	norm_ok(k, "\"45\"", "45");
	norm_ok(k, "\"007\"", "7");
	norm_ok(k, "120.0", "120");
	norm_bad(k, "0", "0 out of range (1-3600)");
	norm_bad(k, "3601", "3601 out of range (1-3600)");
	norm_bad(k, "-5", "-5 out of range (1-3600)");
	norm_bad(k, "\"-5\"", "-5 out of range (1-3600)");
	norm_bad(k, "\"0\"", "0 out of range (1-3600)");
	norm_bad(k, "1.5", "1.5 is not an integer");
	norm_bad(k, "1e20", "1e+20 out of range (1-3600)");
	norm_bad(k, "\"99999999999999999999\"",
		 "99999999999999999999 out of range (1-3600)");
	norm_bad(k, "\"abc\"", "\"abc\" is not an integer");
	norm_bad(k, "\"30 \"", "\"30 \" is not an integer");
	norm_bad(k, "\" 30\"", "\" 30\" is not an integer");
	norm_bad(k, "\"+30\"", "\"+30\" is not an integer");
	norm_bad(k, "\"-\"", "\"-\" is not an integer");
	norm_bad(k, "\"1.5\"", "\"1.5\" is not an integer");
	norm_bad(k, "true", "expected an integer, got a boolean");
	norm_bad(k, "{}", "expected an integer, got an object");

	k = key("core.max_request_size");
	norm_ok(k, "1073741824", "1073741824");
	norm_bad(k, "1073741825", "1073741825 out of range (4096-1073741824)");
	norm_bad(k, "4095", "4095 out of range (4096-1073741824)");
	k = key("raft.snapshot_trailing");
	norm_ok(k, "0", "0");
	norm_ok(k, "\"100000000\"", "100000000");
	norm_bad(k, "100000001", "100000001 out of range (0-100000000)");
	k = key("raft.snapshot_threshold");
	norm_bad(k, "15", "15 out of range (16-100000000)");
}

static void normalize_address(void **state)
{
	(void)state;
	const struct config_key *k = key("core.https_address");
	norm_ok(k, "\"10.0.0.1\"", "10.0.0.1:8443");
	norm_ok(k, "\"10.0.0.1:443\"", "10.0.0.1:443");
	norm_ok(k, "\"0.0.0.0\"", "0.0.0.0:8443");
	norm_ok(k, "\"0.0.0.0:08443\"", "0.0.0.0:8443");
	norm_ok(k, "\"[::]\"", "[::]:8443");
	norm_ok(k, "\"[::]:9000\"", "[::]:9000");
	norm_ok(k, "\"[::1]:65535\"", "[::1]:65535");
	norm_ok(k, "\"[2001:DB8:0:0::1]:1\"", "[2001:db8::1]:1");
	norm_ok(k, "\"[::ffff:10.0.0.1]\"", "[::ffff:10.0.0.1]:8443");
	norm_ok(k, "\"localhost\"", "localhost:8443");
	norm_ok(k, "\"Node-1.Example.COM:8444\"", "node-1.example.com:8444");
	norm_ok(k, "\"1node.example\"", "1node.example:8443");

	norm_bad(k, "\"h:70000\"", "port 70000 out of range (1-65535)");
	norm_bad(k, "\"h:0\"", "port 0 out of range (1-65535)");
	norm_bad(k, "\"h:99999999999999999999\"",
		 "port 99999999999999999999 out of range (1-65535)");
	norm_bad(k, "\"h:\"", "missing port after ':'");
	norm_bad(k, "\"h:http\"", "invalid port \"http\"");
	norm_bad(k, "\"h:-1\"", "invalid port \"-1\"");
	norm_bad(k, "\":8443\"",
		 "missing host (use 0.0.0.0 or [::] for all addresses)");
	norm_bad(k, "\"[]:8443\"",
		 "missing host (use 0.0.0.0 or [::] for all addresses)");
	norm_bad(k, "\"::1\"", "IPv6 address needs brackets, as in [::1]:8443");
	norm_bad(k, "\"::1:8443\"",
		 "IPv6 address needs brackets, as in [::1]:8443");
	norm_bad(k, "\"[::1\"", "missing ']' after IPv6 address");
	norm_bad(k, "\"[::1]8443\"", "unexpected \"8443\" after ']'");
	norm_bad(k, "\"[zz::1]\"", "invalid IPv6 address \"zz::1\"");
	norm_bad(k, "\"[10.0.0.1]\"", "invalid IPv6 address \"10.0.0.1\"");
	norm_bad(k, "\"[fe80::1%eth0]\"",
		 "invalid IPv6 address \"fe80::1%eth0\"");
	norm_bad(k, "\"1.2.3\"", "invalid IPv4 address \"1.2.3\"");
	norm_bad(k, "\"256.1.1.1\"", "invalid IPv4 address \"256.1.1.1\"");
	norm_bad(k, "\"01.2.3.4\"", "invalid IPv4 address \"01.2.3.4\"");
	norm_bad(k, "\"-bad.example\"", "invalid host \"-bad.example\"");
	norm_bad(k, "\"bad-.example\"", "invalid host \"bad-.example\"");
	norm_bad(k, "\"a..b\"", "invalid host \"a..b\"");
	norm_bad(k, "\"a.b.\"", "invalid host \"a.b.\"");
	norm_bad(k, "\"a_b.example\"", "invalid host \"a_b.example\"");
	norm_bad(k, "\"h\\u00e9te\"", "invalid host \"h\xc3\xa9te\"");
	norm_bad(k, "\"a b\"", "address contains a space or control character");
	norm_bad(k, "8443", "expected a string, got a number");

	char label[80];
	memset(label, 'a', sizeof label);
	label[64] = '\0';
	char *json = tm_asprintf("\"%s.example\"", label);
	cJSON *value = cJSON_Parse(json);
	char errmsg[TM_ERRMSG_SIZE];
	char *out = NULL;
	assert_int_equal(config_normalize(k, value, &out, errmsg), TM_INVALID);
	cJSON_Delete(value);
	tm_free(json);
	label[63] = '\0';
	json = tm_asprintf("\"%s.example\"", label);
	char *expected = tm_asprintf("%s.example:8443", label);
	norm_ok(k, json, expected);
	tm_free(json);
	tm_free(expected);
}

/* --- apply ------------------------------------------------------------- */

#define CURRENT "{\"core.https_address\":\"10.0.0.1:8443\",\"user.x\":\"1\"}"

static void put_replaces(void **state)
{
	(void)state;
	apply_ok(CURRENT, "{\"user.y\":\"2\"}", true, "{\"user.y\":\"2\"}",
		 "[\"core.https_address\",\"user.x\",\"user.y\"]");
	apply_ok(CURRENT,
		 "{\"core.https_address\":\"10.0.0.1\",\"user.x\":\"1\"}", true,
		 CURRENT, "[]");
	apply_ok(CURRENT, "{}", true, "{}",
		 "[\"core.https_address\",\"user.x\"]");
	apply_ok(NULL, "{\"user.y\":\"\",\"core.request_timeout\":null}", true,
		 "{}", "[]");
}

static void patch_merges(void **state)
{
	(void)state;
	apply_ok(CURRENT, "{\"user.y\":\"2\"}", false,
		 "{\"core.https_address\":\"10.0.0.1:8443\",\"user.x\":\"1\","
		 "\"user.y\":\"2\"}",
		 "[\"user.y\"]");
	apply_ok(CURRENT, "{}", false, CURRENT, "[]");
	/* members come out sorted whatever the input order */
	apply_ok("{\"user.b\":\"1\",\"user.a\":\"2\"}", "{\"user.0\":\"3\"}",
		 false, "{\"user.0\":\"3\",\"user.a\":\"2\",\"user.b\":\"1\"}",
		 "[\"user.0\"]");
	apply_ok(CURRENT, "{\"core.https_address\":\"[::]\"}", false,
		 "{\"core.https_address\":\"[::]:8443\",\"user.x\":\"1\"}",
		 "[\"core.https_address\"]");
	apply_ok(NULL, "{\"core.request_timeout\":60}", false,
		 "{\"core.request_timeout\":\"60\"}",
		 "[\"core.request_timeout\"]");
}

static void patch_unsets(void **state)
{
	(void)state;
	apply_ok(CURRENT, "{\"user.x\":null}", false,
		 "{\"core.https_address\":\"10.0.0.1:8443\"}", "[\"user.x\"]");
	apply_ok(CURRENT, "{\"core.https_address\":\"\"}", false,
		 "{\"user.x\":\"1\"}", "[\"core.https_address\"]");
	/* unsetting what is not set changes nothing */
	apply_ok(CURRENT, "{\"user.zzz\":null,\"core.request_timeout\":\"\"}",
		 false, CURRENT, "[]");
}

static void defaults_not_stored(void **state)
{
	(void)state;
	apply_ok(NULL, "{\"core.request_timeout\":30}", false, "{}", "[]");
	apply_ok(NULL, "{\"core.request_timeout\":\"30\"}", true, "{}", "[]");
	apply_ok("{\"core.request_timeout\":\"60\"}",
		 "{\"core.request_timeout\":\"030\"}", false, "{}",
		 "[\"core.request_timeout\"]");
	apply_ok("{\"core.request_timeout\":\"60\"}",
		 "{\"core.request_timeout\":60}", false,
		 "{\"core.request_timeout\":\"60\"}", "[]");
	/* a stored default (older writer) is not a change when dropped */
	apply_ok("{\"raft.snapshot_trailing\":\"512\"}", "{}", true, "{}",
		 "[]");
}

static void unknown_key(void **state)
{
	(void)state;
	apply_bad(CURRENT, "{\"foo\":\"x\"}", false,
		  "unknown configuration key \"foo\"");
	apply_bad(CURRENT, "{\"foo\":\"x\"}", true,
		  "unknown configuration key \"foo\"");
	apply_bad(NULL, "{\"user.\":\"x\"}", true,
		  "unknown configuration key \"user.\"");
}

static void errors_aggregated(void **state)
{
	(void)state;
	apply_bad(CURRENT,
		  "{\"core.request_timeout\":\"abc\",\"foo\":1,"
		  "\"core.https_address\":\"h:70000\"}",
		  false,
		  "cannot set 'core.request_timeout' to 'abc': \"abc\" is not "
		  "an integer (and 2 more errors)");
	apply_bad(NULL, "{\"core.https_address\":\"h:70000\",\"user.q\":5}",
		  true,
		  "cannot set 'core.https_address' to 'h:70000': port 70000 "
		  "out of range (1-65535) (and 1 more error)");
	apply_bad(NULL, "{\"core.request_timeout\":0}", true,
		  "cannot set 'core.request_timeout' to '0': 0 out of range "
		  "(1-3600)");
	apply_bad(NULL, "{\"user.q\":{\"a\":[1]}}", false,
		  "cannot set 'user.q' to '{\"a\":[1]}': expected a string, "
		  "got an object");
	apply_bad(NULL, "{\"user.q\":\"1\",\"user.q\":\"2\"}", false,
		  "duplicate configuration key \"user.q\"");
}

static void long_errors_keep_the_count(void **state)
{
	(void)state;
	char value[400];
	memset(value, 'v', sizeof value);
	value[sizeof value - 1] = '\0';
	char *body = tm_asprintf("{\"core.request_timeout\":\"%s\","
				 "\"a\":1,\"b\":2}",
				 value);
	struct applied a = apply(NULL, body, true);
	tm_free(body);
	assert_int_equal(a.rv, TM_INVALID);
	assert_true(strlen(a.errmsg) < TM_ERRMSG_SIZE);
	assert_non_null(strstr(a.errmsg, "cannot set 'core.request_timeout' "
					 "to 'vvvv"));
	assert_non_null(strstr(a.errmsg, "...'"));
	size_t len = strlen(a.errmsg);
	const char *suffix = " (and 2 more errors)";
	assert_true(len > strlen(suffix));
	assert_string_equal(a.errmsg + len - strlen(suffix), suffix);
	applied_free(&a);
}

static void body_must_be_object(void **state)
{
	(void)state;
	apply_bad(CURRENT, "[]", false, "configuration must be a JSON object");
	apply_bad(CURRENT, "\"x\"", true,
		  "configuration must be a JSON object");
	apply_bad(CURRENT, "null", true, "configuration must be a JSON object");
}

/* --- get ----------------------------------------------------------------- */

static void get_values(void **state)
{
	(void)state;
	cJSON *config = cJSON_Parse("{\"core.request_timeout\":\"60\","
				    "\"user.x\":\"hi\","
				    "\"raft.snapshot_trailing\":\"junk\"}");
	assert_string_equal(config_get(config, "core.request_timeout"), "60");
	assert_string_equal(config_get(config, "core.max_request_size"),
			    "8388608");
	assert_string_equal(config_get(config, "core.https_address"), "");
	assert_string_equal(config_get(config, "user.x"), "hi");
	assert_string_equal(config_get(config, "user.y"), "");
	assert_null(config_get(config, "nope"));
	assert_string_equal(config_get(NULL, "core.request_timeout"), "30");

	assert_int_equal(config_get_int(config, "core.request_timeout"), 60);
	assert_int_equal(config_get_int(NULL, "core.request_timeout"), 30);
	assert_int_equal(config_get_int(config, "core.max_request_size"),
			 8388608);
	/* a value no validated writer produced falls back to the default */
	assert_int_equal(config_get_int(config, "raft.snapshot_trailing"), 512);
	cJSON_Delete(config);
}

/* --- durations ----------------------------------------------------------- */

static void parse_ok(const char *text, int64_t expected)
{
	char errmsg[TM_ERRMSG_SIZE] = "";
	int64_t seconds = -1;
	if (config_parse_duration(text, &seconds, errmsg) != 0) {
		fail_msg("%s: %s", text, errmsg);
	}
	assert_int_equal(seconds, expected);
}

static void parse_bad(const char *text)
{
	char errmsg[TM_ERRMSG_SIZE] = "";
	int64_t seconds = -1;
	assert_int_equal(config_parse_duration(text, &seconds, errmsg),
			 TM_INVALID);
	assert_int_equal(seconds, -1);
	assert_true(errmsg[0] != '\0');
}

static void duration_parse(void **state)
{
	(void)state;
	parse_ok("90s", 90);
	parse_ok("30m", 1800);
	parse_ok("3h", 10800);
	parse_ok("2d", 172800);
	parse_ok("1h30m", 5400);
	parse_ok("1d2h3m4s", 93784);
	parse_ok("0s", 0);
	parse_ok("0", 0);
	parse_ok("600", 600);
	parse_ok("007m", 420);
	parse_bad("");
	parse_bad("s");
	parse_bad("3x");
	parse_bad("3H");
	parse_bad(" 3h");
	parse_bad("3h ");
	parse_bad("-3h");
	parse_bad("1.5h");
	parse_bad("30m1h"); /* largest first */
	parse_bad("1h1h");  /* each unit once */
	parse_bad("1h30");  /* bare digits only alone */
	parse_bad("3hm");
	parse_bad("99999999999999s");
	parse_bad("40000d"); /* more than a century */

	char errmsg[TM_ERRMSG_SIZE];
	int64_t seconds;
	config_parse_duration("3x", &seconds, errmsg);
	assert_string_equal(errmsg,
			    "\"3x\" is not a duration (e.g. 90s, 30m, 3h, 2d)");
}

static void duration_format(void **state)
{
	(void)state;
	char out[CONFIG_DURATION_LEN];
	static const struct {
		int64_t seconds;
		const char *text;
	} cases[] = {
	    {0, "0s"},	     {1, "1s"},	     {59, "59s"},
	    {60, "1m"},	     {90, "1m30s"},  {3600, "1h"},
	    {10800, "3h"},   {86400, "1d"},  {93784, "1d2h3m4s"},
	    {86401, "1d1s"}, {172800, "2d"}, {31536000, "365d"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		config_format_duration(cases[i].seconds, out);
		assert_string_equal(out, cases[i].text);
		parse_ok(out, cases[i].seconds); /* round trip */
	}
}

static void normalize_duration(void **state)
{
	(void)state;
	const struct config_key *k = key("cluster.join_token_expiry");
	assert_int_equal(k->type, CONFIG_DURATION);
	assert_int_equal(k->scope, CONFIG_SCOPE_GLOBAL);
	assert_string_equal(k->default_value, "3h");
	norm_ok(k, "\"90s\"", "1m30s");
	norm_ok(k, "\"180m\"", "3h");
	norm_ok(k, "\"2d\"", "2d");
	norm_ok(k, "\"3600\"", "1h");
	norm_ok(k, "7200", "2h");
	norm_bad(k, "\"soon\"",
		 "\"soon\" is not a duration (e.g. 90s, 30m, 3h, 2d)");
	norm_bad(k, "\"30s\"", "30s out of range (1m-365d)");
	norm_bad(k, "\"366d\"", "366d out of range (1m-365d)");
	norm_bad(k, "1.5", "\"1.5\" is not a duration (e.g. 90s, 30m, 3h, 2d)");
	norm_bad(k, "true", "expected a duration, got a boolean");

	cJSON *config =
	    cJSON_Parse("{\"cluster.join_token_expiry\":\"1h30m\"}");
	assert_int_equal(
	    config_get_duration(config, "cluster.join_token_expiry"), 5400);
	assert_int_equal(config_get_duration(NULL, "cluster.join_token_expiry"),
			 10800);
	cJSON_Delete(config);
}

static void cluster_keys(void **state)
{
	(void)state;
	const struct config_key *voters = key("cluster.max_voters");
	assert_int_equal(voters->scope, CONFIG_SCOPE_GLOBAL);
	assert_string_equal(voters->default_value, "3");
	norm_ok(voters, "1", "1");
	norm_ok(voters, "\"5\"", "5");
	norm_ok(voters, "9", "9");
	norm_bad(voters, "4", "4 is even: the number of voters must be odd");
	norm_bad(voters, "0", "0 out of range (1-9)");
	norm_bad(voters, "11", "11 out of range (1-9)");
	const struct config_key *standby = key("cluster.max_standby");
	assert_int_equal(standby->scope, CONFIG_SCOPE_GLOBAL);
	assert_string_equal(standby->default_value, "2");
	norm_ok(standby, "0", "0");
	norm_ok(standby, "4", "4");
	norm_bad(standby, "10", "10 out of range (0-9)");

	/* Errors of a PATCH name the key. */
	cJSON *body = cJSON_Parse("{\"cluster.max_voters\": 2}");
	cJSON *result;
	cJSON *changed;
	char errmsg[TM_ERRMSG_SIZE];
	assert_int_equal(
	    config_apply(NULL, body, false, &result, &changed, errmsg),
	    TM_INVALID);
	assert_string_equal(errmsg, "cannot set 'cluster.max_voters' to '2': "
				    "2 is even: the number of voters must be "
				    "odd");
	cJSON_Delete(body);
}

static void scope_split_and_merge(void **state)
{
	(void)state;
	cJSON *config =
	    cJSON_Parse("{\"core.https_address\":\"127.0.0.1:8443\","
			"\"core.request_timeout\":\"45\","
			"\"no.longer.known\":\"x\","
			"\"user.a\":\"1\","
			"\"cluster.max_voters\":\"5\"}");
	cJSON *local = config_scope_only(config, CONFIG_SCOPE_LOCAL);
	cJSON *global = config_scope_only(config, CONFIG_SCOPE_GLOBAL);
	char *l = cJSON_PrintUnformatted(local);
	char *g = cJSON_PrintUnformatted(global);
	assert_string_equal(l, "{\"core.https_address\":\"127.0.0.1:8443\","
			       "\"no.longer.known\":\"x\"}");
	assert_string_equal(g,
			    "{\"core.request_timeout\":\"45\","
			    "\"user.a\":\"1\",\"cluster.max_voters\":\"5\"}");
	cJSON_free(l);
	cJSON_free(g);

	/* Merged back: sorted by name; the second wins. */
	cJSON *extra = cJSON_Parse("{\"user.a\":\"2\"}");
	cJSON *merged = config_merge(local, global);
	cJSON *merged2 = config_merge(merged, extra);
	char *m = cJSON_PrintUnformatted(merged2);
	assert_string_equal(m, "{\"cluster.max_voters\":\"5\","
			       "\"core.https_address\":\"127.0.0.1:8443\","
			       "\"core.request_timeout\":\"45\","
			       "\"no.longer.known\":\"x\",\"user.a\":\"2\"}");
	cJSON_free(m);
	cJSON *empty = config_merge(NULL, NULL);
	assert_int_equal(cJSON_GetArraySize(empty), 0);
	cJSON_Delete(empty);
	cJSON_Delete(merged2);
	cJSON_Delete(merged);
	cJSON_Delete(extra);
	cJSON_Delete(local);
	cJSON_Delete(global);
	cJSON_Delete(config);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(lookup_known_keys),
	    cmocka_unit_test(lookup_user_keys),
	    cmocka_unit_test(key_table),
	    cmocka_unit_test(describe_lists_every_key_once),
	    cmocka_unit_test(describe_scopes_and_types),
	    cmocka_unit_test(normalize_unset),
	    cmocka_unit_test(normalize_string),
	    cmocka_unit_test(normalize_bool),
	    cmocka_unit_test(normalize_int),
	    cmocka_unit_test(normalize_address),
	    cmocka_unit_test(put_replaces),
	    cmocka_unit_test(patch_merges),
	    cmocka_unit_test(patch_unsets),
	    cmocka_unit_test(defaults_not_stored),
	    cmocka_unit_test(unknown_key),
	    cmocka_unit_test(errors_aggregated),
	    cmocka_unit_test(long_errors_keep_the_count),
	    cmocka_unit_test(body_must_be_object),
	    cmocka_unit_test(get_values),
	    cmocka_unit_test(duration_parse),
	    cmocka_unit_test(duration_format),
	    cmocka_unit_test(normalize_duration),
	    cmocka_unit_test(cluster_keys),
	    cmocka_unit_test(scope_split_and_merge),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}

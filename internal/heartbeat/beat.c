/* The heartbeat's messages (beat.h). */
#include "internal/heartbeat/beat.h"

#include <stdio.h>
#include <string.h>

#include "internal/config/config.h"
#include "internal/lib/assert.h"
#include "internal/lib/err.h"
#include "internal/lib/json.h"
#include "internal/lib/mem.h"

#define INT_MAX_EXACT ((int64_t)1 << 53)

static const char *const request_fields[] = {
    "leader_id", "term", "index", "members", "snapshot_floor", NULL};
static const char *const member_fields[] = {
    "id", "name", "address", "role", "failure_domain", "fingerprint", NULL};
static const char *const answer_fields[] = {"id",
					    "name",
					    "address",
					    "version",
					    "schema_version",
					    "api_extensions",
					    "applied_index",
					    "snapshot_index",
					    "loop_lag_p99_ms",
					    "load_average",
					    "chain",
					    "chain_base",
					    NULL};

static int check_fields(const cJSON *o, const char *const *fields, char *errmsg)
{
	const cJSON *item;
	cJSON_ArrayForEach(item, o)
	{
		bool known = false;
		for (size_t i = 0; fields[i] != NULL && !known; i++) {
			known = strcmp(item->string, fields[i]) == 0;
		}
		if (!known) {
			tm_errmsg_printf(errmsg, "unknown field \"%.64s\"",
					 item->string);
			return TM_INVALID;
		}
	}
	return 0;
}

static int get_uint(const cJSON *o, const char *name, int64_t max,
		    uint64_t *out, char *errmsg)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	int64_t i;
	if (!json_get_int64(v, &i) || i < 0 || i > max) {
		tm_errmsg_printf(errmsg,
				 "field \"%s\" must be an integer from 0 to "
				 "%lld",
				 name, (long long)max);
		return TM_INVALID;
	}
	*out = (uint64_t)i;
	return 0;
}

static int get_real(const cJSON *o, const char *name, double *out, char *errmsg)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) ||
	    v->valuedouble > 1e9) {
		tm_errmsg_printf(errmsg,
				 "field \"%s\" must be a number from 0 to "
				 "1e9",
				 name);
		return TM_INVALID;
	}
	*out = v->valuedouble;
	return 0;
}

/* Copy the string NAME into OUT (SIZE bytes, MIN_LEN..SIZE-1 chars). */
static int get_string(const cJSON *o, const char *name, char *out, size_t size,
		      size_t min_len, char *errmsg)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	if (!cJSON_IsString(v) || strlen(v->valuestring) < min_len ||
	    strlen(v->valuestring) >= size) {
		tm_errmsg_printf(errmsg,
				 "field \"%s\" must be a string of %zu to %zu "
				 "characters",
				 name, min_len, size - 1);
		return TM_INVALID;
	}
	memcpy(out, v->valuestring, strlen(v->valuestring) + 1);
	return 0;
}

static int get_name(const cJSON *o, const char *name, char *out, bool empty,
		    char *errmsg)
{
	int rv = get_string(o, name, out, MEMBER_NAME_MAX + 1, 0, errmsg);
	if (rv == 0 && (out[0] != '\0' || !empty)) {
		rv = member_name_check(out, errmsg);
		if (rv != 0) {
			tm_errmsg_wrapf(errmsg, "field \"%s\"", name);
		}
	}
	return rv;
}

static int get_address(const cJSON *o, char *out, char *errmsg)
{
	int rv =
	    get_string(o, "address", out, TOKEN_ADDRESS_MAX + 1, 1, errmsg);
	if (rv != 0) {
		return rv;
	}
	char *normal = NULL;
	char reason[TM_ERRMSG_SIZE];
	if (config_address_normalize(out, &normal, reason) != 0 ||
	    strcmp(normal, out) != 0) {
		tm_errmsg_printf(errmsg, "field \"address\": %s",
				 normal == NULL ? reason
						: "not in "
						  "canonical "
						  "form");
		tm_free(normal);
		return TM_INVALID;
	}
	tm_free(normal);
	return 0;
}

static bool is_fingerprint(const char *s)
{
	return strlen(s) == TLS_FINGERPRINT_LEN &&
	       strspn(s, "0123456789abcdef") == TLS_FINGERPRINT_LEN;
}

static int parse_member(const cJSON *o, struct beat_member *m, char *errmsg)
{
	if (!cJSON_IsObject(o)) {
		tm_errmsg_printf(errmsg, "not an object");
		return TM_INVALID;
	}
	if (check_fields(o, member_fields, errmsg) != 0 ||
	    get_uint(o, "id", INT_MAX_EXACT, &m->id, errmsg) != 0 ||
	    get_name(o, "name", m->name, false, errmsg) != 0 ||
	    get_address(o, m->address, errmsg) != 0 ||
	    get_string(o, "role", m->role, sizeof m->role, 1, errmsg) != 0 ||
	    get_name(o, "failure_domain", m->failure_domain, true, errmsg) !=
		0 ||
	    get_string(o, "fingerprint", m->fingerprint, sizeof m->fingerprint,
		       0, errmsg) != 0) {
		return TM_INVALID;
	}
	if (m->id == 0) {
		tm_errmsg_printf(errmsg, "field \"id\" must not be 0");
		return TM_INVALID;
	}
	if (strcmp(m->role, "voter") != 0 && strcmp(m->role, "standby") != 0 &&
	    strcmp(m->role, "spare") != 0) {
		tm_errmsg_printf(errmsg, "field \"role\" must be voter, "
					 "standby or spare");
		return TM_INVALID;
	}
	if (m->fingerprint[0] != '\0' && !is_fingerprint(m->fingerprint)) {
		tm_errmsg_printf(errmsg, "field \"fingerprint\" must be 64 "
					 "lowercase hex digits");
		return TM_INVALID;
	}
	return 0;
}

static int check_unique(const struct beat_member *m, size_t n, char *errmsg)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < i; j++) {
			if (m[i].id == m[j].id ||
			    strcmp(m[i].name, m[j].name) == 0 ||
			    strcmp(m[i].address, m[j].address) == 0) {
				tm_errmsg_printf(errmsg,
						 "members %zu and %zu share an "
						 "id, a name or an address",
						 j, i);
				return TM_INVALID;
			}
		}
	}
	return 0;
}

static int parse_members(const cJSON *root, struct beat_request *out,
			 char *errmsg)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "members");
	int n = cJSON_GetArraySize(list);
	if (!cJSON_IsArray(list) || n < 1 || n > BEAT_MAX_MEMBERS) {
		tm_errmsg_printf(errmsg,
				 "field \"members\" must be an array of 1 to "
				 "%d members",
				 BEAT_MAX_MEMBERS);
		return TM_INVALID;
	}
	out->members = tm_calloc((size_t)n, sizeof *out->members);
	const cJSON *item;
	cJSON_ArrayForEach(item, list)
	{
		int rv =
		    parse_member(item, &out->members[out->n_members], errmsg);
		if (rv != 0) {
			tm_errmsg_wrapf(errmsg, "member %zu", out->n_members);
			return rv;
		}
		out->n_members++;
	}
	return check_unique(out->members, out->n_members, errmsg);
}

static cJSON *parse_object(const char *body, size_t len, const char *what,
			   char *errmsg)
{
	if (len > BEAT_MAX_SIZE) {
		tm_errmsg_printf(errmsg, "%s is longer than %d bytes", what,
				 BEAT_MAX_SIZE);
		return NULL;
	}
	cJSON *root = json_parse_exact(body, len, NULL);
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		tm_errmsg_printf(errmsg, "%s is not a JSON object", what);
		return NULL;
	}
	return root;
}

int beat_request_parse(const char *body, size_t len, struct beat_request *out,
		       char *errmsg)
{
	memset(out, 0, sizeof *out);
	cJSON *root = parse_object(body, len, "heartbeat", errmsg);
	if (root == NULL) {
		return len > BEAT_MAX_SIZE ? TM_TOOBIG : TM_INVALID;
	}
	int rv = 0;
	if (check_fields(root, request_fields, errmsg) != 0 ||
	    get_uint(root, "leader_id", INT_MAX_EXACT, &out->leader_id,
		     errmsg) != 0 ||
	    get_uint(root, "term", INT_MAX_EXACT, &out->term, errmsg) != 0 ||
	    get_uint(root, "index", INT_MAX_EXACT, &out->index, errmsg) != 0 ||
	    parse_members(root, out, errmsg) != 0) {
		rv = TM_INVALID;
	} else if (cJSON_GetObjectItemCaseSensitive(root, "snapshot_floor") !=
		   NULL) {
		/* Optional: older leaders do not send it. */
		if (get_uint(root, "snapshot_floor", INT_MAX_EXACT,
			     &out->snapshot_floor, errmsg) != 0) {
			rv = TM_INVALID;
		} else {
			out->has_snapshot_floor = true;
		}
	}
	cJSON_Delete(root);
	if (rv != 0) {
		beat_request_clear(out);
	}
	return rv;
}

void beat_request_clear(struct beat_request *r)
{
	tm_free(r->members);
	memset(r, 0, sizeof *r);
}

static void add_uint(cJSON *o, const char *name, uint64_t v)
{
	cJSON_AddItemToObject(o, name, json_create_int64((int64_t)v));
}

char *beat_request_format(const struct beat_request *r)
{
	cJSON *o = cJSON_CreateObject();
	add_uint(o, "leader_id", r->leader_id);
	add_uint(o, "term", r->term);
	add_uint(o, "index", r->index);
	if (r->has_snapshot_floor) {
		add_uint(o, "snapshot_floor", r->snapshot_floor);
	}
	cJSON *list = cJSON_AddArrayToObject(o, "members");
	for (size_t i = 0; i < r->n_members; i++) {
		const struct beat_member *m = &r->members[i];
		cJSON *mo = cJSON_CreateObject();
		add_uint(mo, "id", m->id);
		cJSON_AddStringToObject(mo, "name", m->name);
		cJSON_AddStringToObject(mo, "address", m->address);
		cJSON_AddStringToObject(mo, "role", m->role);
		cJSON_AddStringToObject(mo, "failure_domain",
					m->failure_domain);
		cJSON_AddStringToObject(mo, "fingerprint", m->fingerprint);
		cJSON_AddItemToArray(list, mo);
	}
	char *printed = cJSON_PrintUnformatted(o);
	INVARIANT(printed != NULL);
	char *out = tm_strdup(printed);
	cJSON_free(printed);
	cJSON_Delete(o);
	return out;
}

cJSON *beat_answer_json(const struct beat_answer *a)
{
	cJSON *o = cJSON_CreateObject();
	add_uint(o, "id", a->id);
	cJSON_AddStringToObject(o, "name", a->name);
	cJSON_AddStringToObject(o, "address", a->address);
	cJSON_AddStringToObject(o, "version", a->version);
	cJSON_AddNumberToObject(o, "schema_version", a->schema_version);
	cJSON_AddNumberToObject(o, "api_extensions", a->api_extensions);
	add_uint(o, "applied_index", a->applied_index);
	if (a->snapshot_index != 0) {
		add_uint(o, "snapshot_index", a->snapshot_index);
	}
	cJSON_AddItemToObject(o, "loop_lag_p99_ms",
			      json_create_real(a->loop_lag_p99_ms));
	cJSON_AddItemToObject(o, "load_average",
			      json_create_real(a->load_average));
	if (a->has_chain) {
		cJSON_AddStringToObject(o, "chain", a->chain);
		add_uint(o, "chain_base", a->chain_base);
	}
	return o;
}

static bool is_hex(const char *s, size_t len)
{
	return strlen(s) == len && strspn(s, "0123456789abcdef") == len;
}

/* The optional chain and chain_base: both or neither. */
static int parse_chain(const cJSON *o, struct beat_answer *out, char *errmsg)
{
	bool has = cJSON_GetObjectItemCaseSensitive(o, "chain") != NULL;
	bool has_base =
	    cJSON_GetObjectItemCaseSensitive(o, "chain_base") != NULL;
	if (!has && !has_base) {
		return 0;
	}
	if (get_string(o, "chain", out->chain, sizeof out->chain, 0,
		       errmsg) != 0 ||
	    get_uint(o, "chain_base", INT_MAX_EXACT, &out->chain_base,
		     errmsg) != 0) {
		return TM_INVALID;
	}
	if (!is_hex(out->chain, sizeof out->chain - 1)) {
		tm_errmsg_printf(errmsg, "field \"chain\" must be 32 lowercase "
					 "hex digits");
		return TM_INVALID;
	}
	out->has_chain = true;
	return 0;
}

static int parse_answer(const cJSON *o, struct beat_answer *out, char *errmsg)
{
	uint64_t schema = 0;
	uint64_t extensions = 0;
	if (check_fields(o, answer_fields, errmsg) != 0 ||
	    get_uint(o, "id", INT_MAX_EXACT, &out->id, errmsg) != 0 ||
	    get_name(o, "name", out->name, false, errmsg) != 0 ||
	    get_address(o, out->address, errmsg) != 0 ||
	    get_string(o, "version", out->version, sizeof out->version, 1,
		       errmsg) != 0 ||
	    get_uint(o, "schema_version", 1000000, &schema, errmsg) != 0 ||
	    get_uint(o, "api_extensions", 1000000, &extensions, errmsg) != 0 ||
	    get_uint(o, "applied_index", INT_MAX_EXACT, &out->applied_index,
		     errmsg) != 0 ||
	    get_real(o, "loop_lag_p99_ms", &out->loop_lag_p99_ms, errmsg) !=
		0 ||
	    get_real(o, "load_average", &out->load_average, errmsg) != 0) {
		return TM_INVALID;
	}
	/* Optional: older members do not send it. */
	if (cJSON_GetObjectItemCaseSensitive(o, "snapshot_index") != NULL &&
	    get_uint(o, "snapshot_index", INT_MAX_EXACT, &out->snapshot_index,
		     errmsg) != 0) {
		return TM_INVALID;
	}
	out->schema_version = (int)schema;
	out->api_extensions = (int)extensions;
	return parse_chain(o, out, errmsg);
}

int beat_answer_parse(const char *body, size_t len, struct beat_answer *out,
		      char *errmsg)
{
	memset(out, 0, sizeof *out);
	cJSON *root = parse_object(body, len, "heartbeat answer", errmsg);
	if (root == NULL) {
		return len > BEAT_MAX_SIZE ? TM_TOOBIG : TM_INVALID;
	}
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(root, "metadata");
	int rv;
	if (!cJSON_IsObject(meta)) {
		tm_errmsg_printf(errmsg, "heartbeat answer has no metadata "
					 "object");
		rv = TM_INVALID;
	} else {
		rv = parse_answer(meta, out, errmsg);
	}
	cJSON_Delete(root);
	return rv;
}

/* A member's answer to a content check: see check_answer.h. */
#include "internal/api/check_answer.h"

#include <string.h>

#include "internal/lib/err.h"
#include "internal/lib/json.h"

#define INT_MAX_EXACT ((int64_t)1 << 53)

static const char *const fields[] = {
    "member", "index", "applied_index", "chain", "chain_base", "content", NULL};

cJSON *check_answer_json(const struct check_answer *a)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "member", a->member);
	cJSON_AddItemToObject(o, "index", json_create_int64((int64_t)a->index));
	cJSON_AddItemToObject(o, "applied_index",
			      json_create_int64((int64_t)a->applied_index));
	cJSON_AddStringToObject(o, "chain", a->chain);
	cJSON_AddItemToObject(o, "chain_base",
			      json_create_int64((int64_t)a->chain_base));
	cJSON_AddStringToObject(o, "content", a->content);
	return o;
}

static int get_uint(const cJSON *o, const char *name, uint64_t *out,
		    char *errmsg)
{
	int64_t v;
	if (!json_get_int64(cJSON_GetObjectItemCaseSensitive(o, name), &v) ||
	    v < 0 || v > INT_MAX_EXACT) {
		tm_errmsg_printf(errmsg,
				 "field \"%s\" must be an integer from 0 to "
				 "2^53",
				 name);
		return TM_INVALID;
	}
	*out = (uint64_t)v;
	return 0;
}

/* A string of MIN..SIZE-1 characters; HEX: exactly SIZE-1 hex digits. */
static int get_text(const cJSON *o, const char *name, char *out, size_t size,
		    bool hex, char *errmsg)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	size_t n = cJSON_IsString(v) ? strlen(v->valuestring) : 0;
	bool ok = cJSON_IsString(v) && n >= 1 && n < size &&
		  (!hex || (n == size - 1 &&
			    strspn(v->valuestring, "0123456789abcdef") == n));
	if (!ok) {
		tm_errmsg_printf(errmsg,
				 hex ? "field \"%s\" must be %zu lowercase hex "
				       "digits"
				     : "field \"%s\" must be a string of 1 to "
				       "%zu characters",
				 name, size - 1);
		return TM_INVALID;
	}
	memcpy(out, v->valuestring, n + 1);
	return 0;
}

static int check_fields(const cJSON *o, char *errmsg)
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

int check_answer_parse(const char *body, size_t len, struct check_answer *out,
		       char *errmsg)
{
	memset(out, 0, sizeof *out);
	if (body == NULL || len > CHECK_ANSWER_MAX_SIZE) {
		tm_errmsg_printf(errmsg,
				 "the answer is empty or longer than "
				 "%d bytes",
				 CHECK_ANSWER_MAX_SIZE);
		return TM_INVALID;
	}
	cJSON *root = json_parse_exact(body, len, NULL);
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(root, "metadata");
	int rv = 0;
	if (!cJSON_IsObject(meta)) {
		tm_errmsg_printf(errmsg, "the answer has no metadata object");
		rv = TM_INVALID;
	} else if (check_fields(meta, errmsg) != 0 ||
		   get_text(meta, "member", out->member, sizeof out->member,
			    false, errmsg) != 0 ||
		   get_uint(meta, "index", &out->index, errmsg) != 0 ||
		   get_uint(meta, "applied_index", &out->applied_index,
			    errmsg) != 0 ||
		   get_text(meta, "chain", out->chain, sizeof out->chain, true,
			    errmsg) != 0 ||
		   get_uint(meta, "chain_base", &out->chain_base, errmsg) !=
		       0 ||
		   get_text(meta, "content", out->content, sizeof out->content,
			    true, errmsg) != 0) {
		rv = TM_INVALID;
	}
	cJSON_Delete(root);
	return rv;
}

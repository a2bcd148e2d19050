/* POST /1.0/sql as pure functions: the JSON body -> struct sql_request
 * (gdb_stmt/gdb_value), struct gdb_result -> JSON, and the HTTP answer for
 * an outcome. No I/O. The contract is doc/sql-api.md.
 *
 * Numbers in and out go through internal/lib/json.h, so 64-bit integers are
 * exact and reals always print with a fraction or an exponent. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "internal/api/sql.h"
#include "internal/lib/json.h"
#include "internal/lib/mem.h"

/* --- JSON strings --- */

static bool utf8_valid(const char *s, size_t n)
{
	return sql_utf8_invalid_at(s, n) == n;
}

/* A raw item holding the JSON text that sql_text.c writes. */
static cJSON *raw_item(struct sql_buf *b)
{
	cJSON *item = cJSON_CreateRaw(b->p);
	sql_buf_clear(b);
	return item;
}

static cJSON *json_text(const char *s, size_t n)
{
	struct sql_buf b = {0};
	sql_json_text(&b, s, n);
	return raw_item(&b);
}

static cJSON *json_cstr(const char *s) { return json_text(s, strlen(s)); }

/* --- base64 --- */

static bool base64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* Strict RFC 4648 base64 (standard alphabet, padded, no whitespace): its
 * bytes into *OUT (owned) and *N. False if S is not such text. OpenSSL's
 * EVP_DecodeBlock alone would accept stray '=' and whitespace. */
static bool base64_decode(const char *s, size_t len, char **out, size_t *n)
{
	size_t pad = 0;
	if (len % 4 != 0 || len > INT_MAX) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '=') {
			if (i + 2 < len) {
				return false;
			}
			pad++;
		} else if (pad > 0 || !base64_char(s[i])) {
			return false;
		}
	}
	unsigned char *buf = tm_malloc(len / 4 * 3 + 1);
	int got = EVP_DecodeBlock(buf, (const unsigned char *)s, (int)len);
	if (got < 0 || (size_t)got < pad) {
		tm_free(buf);
		return false;
	}
	*out = (char *)buf;
	*n = (size_t)got - pad;
	return true;
}

static cJSON *base64_json(const char *p, size_t n)
{
	struct sql_buf b = {0};
	sql_json_blob(&b, p, n);
	return raw_item(&b);
}

/* --- values --- */

static int number_value(const cJSON *item, struct gdb_value *out, char *errmsg)
{
	int64_t i;
	if (json_get_int64(item, &i)) {
		out->type = GDB_INT;
		out->i = i;
		return 0;
	}
	if (!json_is_real_literal(item)) {
		tm_errmsg_printf(errmsg,
				 "integer %.40s is out of the 64-bit "
				 "range",
				 item->valuestring != NULL ? item->valuestring
							   : "");
		return TM_INVALID;
	}
	if (!isfinite(item->valuedouble)) {
		tm_errmsg_printf(errmsg, "number %.40s is out of range",
				 item->valuestring != NULL ? item->valuestring
							   : "");
		return TM_INVALID;
	}
	out->type = GDB_REAL;
	out->r = item->valuedouble;
	return 0;
}

static int blob_value(const cJSON *item, struct gdb_value *out, char *errmsg)
{
	const cJSON *b64 = item->child;
	if (b64 == NULL || b64->next != NULL ||
	    strcmp(b64->string, "base64") != 0) {
		tm_errmsg_printf(errmsg, "unsupported parameter type: object "
					 "(a BLOB is written {\"base64\": "
					 "\"...\"})");
		return TM_INVALID;
	}
	if (!cJSON_IsString(b64) ||
	    !base64_decode(b64->valuestring, strlen(b64->valuestring), &out->p,
			   &out->n)) {
		tm_errmsg_printf(errmsg, "invalid base64 in BLOB (standard "
					 "alphabet with '=' padding, no "
					 "whitespace)");
		return TM_INVALID;
	}
	out->type = GDB_BLOB;
	return 0;
}

int sql_value_from_json(const cJSON *item, struct gdb_value *out, char *errmsg)
{
	memset(out, 0, sizeof *out);
	out->type = GDB_NULL;
	if (cJSON_IsNull(item)) {
		return 0;
	}
	if (cJSON_IsNumber(item)) {
		return number_value(item, out, errmsg);
	}
	if (cJSON_IsString(item)) {
		size_t n = strlen(item->valuestring);
		if (!utf8_valid(item->valuestring, n)) {
			tm_errmsg_printf(errmsg, "string is not valid UTF-8");
			return TM_INVALID;
		}
		out->type = GDB_TEXT;
		out->p = tm_strndup(item->valuestring, n);
		out->n = n;
		return 0;
	}
	if (cJSON_IsObject(item)) {
		return blob_value(item, out, errmsg);
	}
	tm_errmsg_printf(errmsg, "unsupported parameter type: %s",
			 cJSON_IsBool(item) ? "boolean (use 1 or 0)" : "array");
	return TM_INVALID;
}

/* --- request --- */

static const char *const body_fields[] = {
    "statements", "target",    "transaction", "consistency",
    "timeout",	  "min_index", NULL};
static const char *const stmt_fields[] = {"sql", "params", NULL};

/* False, with ERRMSG "<PREFIX>unknown field ..." or "...duplicate field",
 * if OBJ has a member not in ALLOWED (at most 8 names) or one twice. */
static bool check_members(const cJSON *obj, const char *const *allowed,
			  const char *prefix, char *errmsg)
{
	unsigned seen = 0;
	const cJSON *item;
	cJSON_ArrayForEach(item, obj)
	{
		unsigned k = 0;
		while (allowed[k] != NULL &&
		       strcmp(allowed[k], item->string) != 0) {
			k++;
		}
		if (allowed[k] == NULL) {
			tm_errmsg_printf(errmsg, "%sunknown field \"%.64s\"",
					 prefix, item->string);
			return false;
		}
		if (seen & (1u << k)) {
			tm_errmsg_printf(errmsg, "%sduplicate field \"%s\"",
					 prefix, allowed[k]);
			return false;
		}
		seen |= 1u << k;
	}
	return true;
}

/* An optional member: NULL when absent or JSON null. */
static const cJSON *member(const cJSON *obj, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
	return cJSON_IsNull(item) ? NULL : item;
}

static bool is_string(const cJSON *item, const char *s)
{
	return cJSON_IsString(item) && strcmp(item->valuestring, s) == 0;
}

static int parse_options(const cJSON *root, struct sql_request *out,
			 char *errmsg)
{
	const cJSON *target = member(root, "target");
	const cJSON *transaction = member(root, "transaction");
	const cJSON *consistency = member(root, "consistency");

	out->target = SQL_TARGET_GLOBAL;
	if (target != NULL && is_string(target, "local")) {
		out->target = SQL_TARGET_LOCAL;
	} else if (target != NULL && !is_string(target, "global")) {
		tm_errmsg_printf(errmsg, "field \"target\" must be \"global\" "
					 "or \"local\"");
		return TM_INVALID;
	}
	if (transaction != NULL && !cJSON_IsBool(transaction)) {
		tm_errmsg_printf(errmsg,
				 "field \"transaction\" must be true or false");
		return TM_INVALID;
	}
	out->transaction = cJSON_IsTrue(transaction);
	out->level = GDB_READ_NONE;
	if (consistency != NULL && is_string(consistency, "linearizable")) {
		out->level = GDB_READ_LINEARIZABLE;
	} else if (consistency != NULL && !is_string(consistency, "none")) {
		tm_errmsg_printf(errmsg, "field \"consistency\" must be "
					 "\"none\" or \"linearizable\"");
		return TM_INVALID;
	}
	const cJSON *timeout = member(root, "timeout");
	if (timeout != NULL &&
	    (!cJSON_IsNumber(timeout) || !isfinite(timeout->valuedouble) ||
	     timeout->valuedouble <= 0)) {
		tm_errmsg_printf(errmsg, "field \"timeout\" must be a number "
					 "of seconds greater than 0");
		return TM_INVALID;
	}
	out->timeout = timeout != NULL ? timeout->valuedouble : 0;
	const cJSON *min_index = member(root, "min_index");
	if (min_index != NULL &&
	    (!cJSON_IsNumber(min_index) || min_index->valuedouble < 0 ||
	     min_index->valuedouble > 9007199254740991.0 ||
	     min_index->valuedouble - floor(min_index->valuedouble) > 0)) {
		tm_errmsg_printf(errmsg, "field \"min_index\" must be a raft "
					 "index (an integer, 0 or more), as "
					 "a write's \"raft_index\"");
		return TM_INVALID;
	}
	out->min_index =
	    min_index != NULL ? (uint64_t)min_index->valuedouble : 0;
	if (out->target == SQL_TARGET_LOCAL && out->min_index > 0) {
		tm_errmsg_printf(errmsg, "\"min_index\" applies to the "
					 "global database only, not to target "
					 "\"local\"");
		return TM_INVALID;
	}
	if (out->target == SQL_TARGET_LOCAL &&
	    out->level == GDB_READ_LINEARIZABLE) {
		tm_errmsg_printf(errmsg,
				 "consistency \"linearizable\" applies to the "
				 "global database only, not to target "
				 "\"local\"");
		return TM_INVALID;
	}
	return 0;
}

static int parse_params(const cJSON *params, size_t no, struct gdb_stmt *st,
			char *errmsg)
{
	char reason[TM_ERRMSG_SIZE];
	bool named = cJSON_IsObject(params);
	st->n_params = (size_t)cJSON_GetArraySize(params);
	st->params = tm_calloc(st->n_params, sizeof *st->params);
	if (named) {
		st->names = tm_calloc(st->n_params, sizeof *st->names);
	}
	size_t i = 0;
	const cJSON *item;
	cJSON_ArrayForEach(item, params)
	{
		if (named && (item->string[0] == '\0' ||
			      strchr(":@$", item->string[0]) == NULL)) {
			tm_errmsg_printf(errmsg,
					 "statement %zu: parameter "
					 "\"%.64s\": a name starts with ':', "
					 "'@' or '$'",
					 no, item->string);
			return TM_INVALID;
		}
		if (sql_value_from_json(item, &st->params[i], reason) != 0) {
			if (named) {
				tm_errmsg_printf(errmsg,
						 "statement %zu: "
						 "parameter \"%.64s\": %s",
						 no, item->string, reason);
			} else {
				tm_errmsg_printf(errmsg,
						 "statement %zu: "
						 "parameter %zu: %s",
						 no, i + 1, reason);
			}
			return TM_INVALID;
		}
		if (named) {
			st->names[i] = tm_strdup(item->string);
		}
		i++;
	}
	return 0;
}

static int parse_statement(const cJSON *item, size_t no, struct gdb_stmt *st,
			   char *errmsg)
{
	char prefix[32];
	snprintf(prefix, sizeof prefix, "statement %zu: ", no);
	if (!cJSON_IsObject(item)) {
		tm_errmsg_printf(errmsg,
				 "%smust be an object {\"sql\": ..., "
				 "\"params\": ...}",
				 prefix);
		return TM_INVALID;
	}
	if (!check_members(item, stmt_fields, prefix, errmsg)) {
		return TM_INVALID;
	}
	const cJSON *sql = cJSON_GetObjectItemCaseSensitive(item, "sql");
	const cJSON *params = member(item, "params");
	if (sql == NULL) {
		tm_errmsg_printf(errmsg, "%sfield \"sql\" is required", prefix);
		return TM_INVALID;
	}
	if (!cJSON_IsString(sql)) {
		tm_errmsg_printf(errmsg, "%sfield \"sql\" must be a string",
				 prefix);
		return TM_INVALID;
	}
	if (params != NULL && !cJSON_IsArray(params) &&
	    !cJSON_IsObject(params)) {
		tm_errmsg_printf(errmsg,
				 "%sfield \"params\" must be an array "
				 "(positional) or an object (named)",
				 prefix);
		return TM_INVALID;
	}
	size_t len = strlen(sql->valuestring);
	size_t bad = sql_utf8_invalid_at(sql->valuestring, len);
	if (bad < len) {
		tm_errmsg_printf(errmsg,
				 "%sfield \"sql\" is not valid UTF-8 (byte "
				 "%zu of the SQL text, 0x%02x): send SQL as "
				 "UTF-8, and binary data as a BLOB parameter",
				 prefix, bad,
				 (unsigned char)sql->valuestring[bad]);
		return TM_INVALID;
	}
	st->sql = tm_strdup(sql->valuestring);
	if (params == NULL) {
		return 0;
	}
	return parse_params(params, no, st, errmsg);
}

static int parse_statements(const cJSON *list, struct sql_request *out,
			    char *errmsg)
{
	if (list == NULL) {
		tm_errmsg_printf(errmsg, "field \"statements\" is required");
		return TM_INVALID;
	}
	if (!cJSON_IsArray(list)) {
		tm_errmsg_printf(errmsg,
				 "field \"statements\" must be an array");
		return TM_INVALID;
	}
	size_t n = (size_t)cJSON_GetArraySize(list);
	if (n == 0) {
		tm_errmsg_printf(errmsg, "field \"statements\" must hold at "
					 "least one statement");
		return TM_INVALID;
	}
	if (n > SQL_MAX_STATEMENTS) {
		tm_errmsg_printf(errmsg, "too many statements: %zu (limit %d)",
				 n, SQL_MAX_STATEMENTS);
		return TM_INVALID;
	}
	out->stmts = tm_calloc(n, sizeof *out->stmts);
	out->n_stmts = n;
	size_t i = 0;
	const cJSON *item;
	cJSON_ArrayForEach(item, list)
	{
		int rv = parse_statement(item, i + 1, &out->stmts[i], errmsg);
		if (rv != 0) {
			return rv;
		}
		i++;
	}
	return 0;
}

/* cJSON decodes "\u0000" into a NUL that silently cuts the string short.
 * True if a string of TEXT (valid JSON) holds that escape. */
static bool has_escaped_nul(const char *text, size_t len)
{
	bool in_string = false;
	for (size_t i = 0; i < len; i++) {
		if (!in_string) {
			in_string = text[i] == '"';
		} else if (text[i] == '"') {
			in_string = false;
		} else if (text[i] == '\\') {
			if (i + 6 <= len &&
			    memcmp(text + i + 1, "u0000", 5) == 0) {
				return true;
			}
			i++; /* the escaped character */
		}
	}
	return false;
}

static int parse_json(const char *body, size_t len, cJSON **out, char *errmsg)
{
	size_t at = 0;
	const char *nul = len > 0 ? memchr(body, '\0', len) : NULL;
	if (len == 0) {
		tm_errmsg_printf(errmsg, "malformed JSON body: empty body");
		return TM_INVALID;
	}
	if (nul != NULL) {
		tm_errmsg_printf(errmsg,
				 "malformed JSON body: NUL byte at "
				 "byte %zu",
				 (size_t)(nul - body));
		return TM_INVALID;
	}
	char why[TM_ERRMSG_SIZE];
	if (json_check(body, len, &at, why) != 0) {
		tm_errmsg_printf(errmsg, "malformed JSON body: %s", why);
		return TM_INVALID;
	}
	*out = json_parse_exact(body, len, &at);
	if (*out == NULL) {
		tm_errmsg_printf(errmsg,
				 "malformed JSON body: syntax error at "
				 "byte %zu",
				 at);
		return TM_INVALID;
	}
	if (has_escaped_nul(body, len)) {
		tm_errmsg_printf(errmsg, "strings must not contain \\u0000: "
					 "send binary data as a BLOB "
					 "{\"base64\": \"...\"}");
		cJSON_Delete(*out);
		*out = NULL;
		return TM_INVALID;
	}
	return 0;
}

int sql_request_parse(const char *body, size_t len, struct sql_request *out,
		      char *errmsg)
{
	cJSON *root = NULL;
	memset(out, 0, sizeof *out);
	int rv = parse_json(body, len, &root, errmsg);
	if (rv != 0) {
		return rv;
	}
	if (!cJSON_IsObject(root)) {
		tm_errmsg_printf(errmsg, "request body must be a JSON object");
		rv = TM_INVALID;
	} else if (!check_members(root, body_fields, "", errmsg)) {
		rv = TM_INVALID;
	} else {
		rv = parse_options(root, out, errmsg);
	}
	if (rv == 0) {
		rv = parse_statements(member(root, "statements"), out, errmsg);
	}
	if (rv != 0) {
		sql_request_clear(out);
	}
	cJSON_Delete(root);
	return rv;
}

void sql_request_clear(struct sql_request *r)
{
	for (size_t i = 0; i < r->n_stmts; i++) {
		struct gdb_stmt *st = &r->stmts[i];
		for (size_t k = 0; k < st->n_params; k++) {
			if (st->params != NULL) {
				gdb_value_clear(&st->params[k]);
			}
			if (st->names != NULL) {
				tm_free(st->names[k]);
			}
		}
		tm_free(st->params);
		tm_free(st->names);
		tm_free(st->sql);
	}
	tm_free(r->stmts);
	memset(r, 0, sizeof *r);
}

/* --- results --- */

cJSON *sql_value_to_json(const struct gdb_value *v)
{
	switch (v->type) {
	case GDB_INT:
		return json_create_int64(v->i);
	case GDB_REAL:
		return json_create_real(v->r);
	case GDB_TEXT:
		return json_text(v->p != NULL ? v->p : "",
				 v->p != NULL ? v->n : 0);
	case GDB_BLOB:
		return base64_json(v->p, v->p != NULL ? v->n : 0);
	case GDB_NULL:
	default:
		return cJSON_CreateNull();
	}
}

cJSON *sql_result_to_json(const struct gdb_result *res)
{
	cJSON *obj = cJSON_CreateObject();
	if (res->status != 0) {
		const char *error =
		    res->error != NULL ? res->error : tm_strerror(res->status);
		cJSON_AddItemToObject(obj, "error", json_cstr(error));
		return obj;
	}
	if (res->n_cols == 0) {
		cJSON_AddItemToObject(obj, "rows_affected",
				      json_create_int64(res->rows_affected));
		cJSON_AddItemToObject(obj, "last_insert_id",
				      json_create_int64(res->last_insert_id));
		return obj;
	}
	cJSON *columns = cJSON_AddArrayToObject(obj, "columns");
	cJSON *types = cJSON_AddArrayToObject(obj, "types");
	cJSON *rows = cJSON_AddArrayToObject(obj, "rows");
	for (size_t c = 0; c < res->n_cols; c++) {
		const char *decl = res->decltypes[c];
		cJSON_AddItemToArray(columns, json_cstr(res->columns[c]));
		cJSON_AddItemToArray(types, decl != NULL && decl[0] != '\0'
						? json_cstr(decl)
						: cJSON_CreateNull());
	}
	for (size_t r = 0; r < res->n_rows; r++) {
		cJSON *row = cJSON_CreateArray();
		for (size_t c = 0; c < res->n_cols; c++) {
			cJSON_AddItemToArray(
			    row,
			    sql_value_to_json(&res->rows[r * res->n_cols + c]));
		}
		cJSON_AddItemToArray(rows, row);
	}
	return obj;
}

cJSON *sql_results_to_json(const struct gdb_result *results, size_t n)
{
	cJSON *meta = cJSON_CreateObject();
	cJSON *list = cJSON_AddArrayToObject(meta, "results");
	for (size_t i = 0; i < n; i++) {
		cJSON_AddItemToArray(list, sql_result_to_json(&results[i]));
	}
	return meta;
}

/* --- answers --- */

/* Index of the statement that made a request fail: the first whose status
 * is neither 0 nor TM_CANCELED (the others of a failed transaction), else
 * the first that failed at all; N if none did. */
static size_t first_failure(const struct gdb_result *results, size_t n)
{
	size_t any = n;
	for (size_t i = 0; i < n; i++) {
		if (results[i].status != 0 &&
		    results[i].status != TM_CANCELED) {
			return i;
		}
		if (results[i].status != 0 && any == n) {
			any = i;
		}
	}
	return any;
}

static int http_for_statement(int status)
{
	switch (status) {
	case TM_CONFLICT:
		return 409;
	case TM_INVALID:
	case TM_TOOBIG:
	case TM_PERM:
		return 400;
	case TM_BUSY:
		return 503;
	case TM_TIMEOUT:
		return 504;
	default:
		return 500;
	}
}

bool sql_answer_fails(int status, const struct gdb_result *results, size_t n,
		      bool transaction)
{
	return status != 0 || results == NULL ||
	       (transaction && first_failure(results, n) < n);
}

static void fail(struct sql_answer *out, int http_status, const char *msg)
{
	out->http_status = http_status;
	out->message = tm_strdup(msg);
}

void sql_answer_build(int status, const char *errmsg,
		      const struct gdb_result *results, size_t n,
		      bool transaction, struct sql_answer *out)
{
	memset(out, 0, sizeof *out);
	if (results != NULL && (status != 0 || transaction)) {
		size_t i = first_failure(results, n);
		if (i < n) {
			const struct gdb_result *res = &results[i];
			out->http_status = http_for_statement(res->status);
			out->message = tm_asprintf(
			    "statement %zu: %s (transaction rolled back, "
			    "nothing applied)",
			    i + 1,
			    res->error != NULL ? res->error
					       : tm_strerror(res->status));
			return;
		}
	}
	if (status == 0 && results != NULL) {
		out->http_status = 200;
		out->metadata = sql_results_to_json(results, n);
		return;
	}
	const char *why =
	    errmsg != NULL && errmsg[0] != '\0' ? errmsg : tm_strerror(status);
	switch (status) {
	case TM_NOTLEADER:
		fail(out, 503, why);
		break;
	case TM_CANCELED:
		fail(out, 503,
		     "leadership lost before the write was "
		     "committed; it may or may not have been "
		     "applied");
		break;
	case TM_SHUTDOWN:
		fail(out, 503, "shutting down");
		break;
	case TM_INVALID:
		fail(out, 400, why);
		break;
	case TM_TOOBIG:
		fail(out, 413, why);
		break;
	case TM_TIMEOUT:
		fail(out, 504, why);
		break;
	case TM_NOSPACE:
		fail(out, 507, why);
		break;
	case 0:
		fail(out, 500, "no results");
		break;
	default:
		fail(out, 500, why);
		break;
	}
}

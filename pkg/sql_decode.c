/* thermionic_sql(): decoding of the answer's metadata,
 *
 *   {"results": [
 *     {"rows_affected": 1, "last_insert_id": 7},
 *     {"columns": ["k", "v"], "types": ["TEXT", null], "rows": [["a", 1]]},
 *     {"error": "UNIQUE constraint failed: kv.k"}]}
 *
 * The metadata comes from tmc_json_parse(), so each number carries its
 * literal: an integer literal is an exact INTEGER, a literal with a
 * fraction or exponent a REAL. Anything off this shape is
 * THERMIONIC_ERR_PROTO naming where it was found. Partially decoded
 * results stay consistent for thermionic_sql_results_free() at every
 * step: arrays are zeroed before their counts are set. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/internal.h"

static int decode_fail(struct thermionic_client *c, size_t no, const char *what)
{
	return tmc_fail(c, THERMIONIC_ERR_PROTO,
			"malformed SQL response from %s: result %zu: %s",
			c->target, no, what);
}

static int decode_nomem(struct thermionic_client *c)
{
	return tmc_fail(c, THERMIONIC_ERR_NOMEM, "out of memory");
}

static int decode_number(struct thermionic_client *c, const cJSON *item,
			 struct thermionic_value *out, size_t no)
{
	if (tmc_json_int64(item, &out->integer)) {
		out->type = THERMIONIC_INTEGER;
		return THERMIONIC_OK;
	}
	if (tmc_json_is_real(item) && isfinite(item->valuedouble)) {
		out->type = THERMIONIC_REAL;
		out->real = item->valuedouble;
		return THERMIONIC_OK;
	}
	return decode_fail(c, no, "integer out of the 64-bit range");
}

static int decode_blob(struct thermionic_client *c, const cJSON *item,
		       struct thermionic_value *out, size_t no)
{
	const cJSON *b64 = item->child;
	char *bytes;
	int rv;

	if (b64 == NULL || b64->next != NULL || !cJSON_IsString(b64) ||
	    strcmp(b64->string, "base64") != 0) {
		return decode_fail(c, no,
				   "an object value is not {\"base64\": "
				   "\"...\"}");
	}
	rv = tmc_base64_decode(b64->valuestring, &bytes, &out->len);
	if (rv == THERMIONIC_ERR_NOMEM) {
		return decode_nomem(c);
	}
	if (rv != THERMIONIC_OK) {
		return decode_fail(c, no, "invalid base64 in a BLOB");
	}
	out->type = THERMIONIC_BLOB;
	out->bytes = bytes;
	return THERMIONIC_OK;
}

static int decode_value(struct thermionic_client *c, const cJSON *item,
			struct thermionic_value *out, size_t no)
{
	char *text;

	memset(out, 0, sizeof *out);
	if (cJSON_IsNull(item)) {
		out->type = THERMIONIC_NULL;
		return THERMIONIC_OK;
	}
	if (cJSON_IsNumber(item)) {
		return decode_number(c, item, out, no);
	}
	if (cJSON_IsString(item)) {
		text = strdup(item->valuestring);
		if (text == NULL) {
			return decode_nomem(c);
		}
		out->type = THERMIONIC_TEXT;
		out->bytes = text;
		out->len = strlen(text);
		return THERMIONIC_OK;
	}
	if (cJSON_IsObject(item)) {
		return decode_blob(c, item, out, no);
	}
	return decode_fail(c, no,
			   "a value is neither null, a number, a "
			   "string nor a BLOB");
}

/* A copy of a string item, or NULL for a JSON null when NULLABLE. */
static int decode_string(struct thermionic_client *c, const cJSON *item,
			 bool nullable, char **out, size_t no)
{
	*out = NULL;
	if (nullable && cJSON_IsNull(item)) {
		return THERMIONIC_OK;
	}
	if (!cJSON_IsString(item)) {
		return decode_fail(c, no,
				   "a column name or type is not a string");
	}
	*out = strdup(item->valuestring);
	return *out == NULL ? decode_nomem(c) : THERMIONIC_OK;
}

static int decode_columns(struct thermionic_client *c, const cJSON *obj,
			  struct thermionic_sql_result *r, size_t no)
{
	const cJSON *columns = cJSON_GetObjectItemCaseSensitive(obj, "columns");
	const cJSON *types = cJSON_GetObjectItemCaseSensitive(obj, "types");
	size_t n = (size_t)cJSON_GetArraySize(columns);
	const cJSON *col = columns->child;
	const cJSON *type;
	int rv;

	if (!cJSON_IsArray(types) || (size_t)cJSON_GetArraySize(types) != n) {
		return decode_fail(c, no,
				   "\"types\" does not match \"columns\"");
	}
	type = types->child;
	r->columns = calloc(n > 0 ? n : 1, sizeof *r->columns);
	r->types = calloc(n > 0 ? n : 1, sizeof *r->types);
	if (r->columns == NULL || r->types == NULL) {
		return decode_nomem(c);
	}
	r->n_columns = n;
	for (size_t i = 0; i < n; i++, col = col->next, type = type->next) {
		rv = decode_string(c, col, false, &r->columns[i], no);
		if (rv == THERMIONIC_OK) {
			rv = decode_string(c, type, true, &r->types[i], no);
		}
		if (rv != THERMIONIC_OK) {
			return rv;
		}
	}
	return THERMIONIC_OK;
}

static int decode_rows(struct thermionic_client *c, const cJSON *obj,
		       struct thermionic_sql_result *r, size_t no)
{
	const cJSON *rows = cJSON_GetObjectItemCaseSensitive(obj, "rows");
	size_t n = (size_t)cJSON_GetArraySize(rows);
	const cJSON *row;
	size_t i = 0;

	if (!cJSON_IsArray(rows)) {
		return decode_fail(c, no, "\"rows\" is not an array");
	}
	if (n > 0 && r->n_columns == 0) {
		return decode_fail(c, no, "rows without columns");
	}
	r->values = calloc(n * r->n_columns > 0 ? n * r->n_columns : 1,
			   sizeof *r->values);
	if (r->values == NULL) {
		return decode_nomem(c);
	}
	r->n_rows = n;
	cJSON_ArrayForEach(row, rows)
	{
		const cJSON *item;
		size_t k = 0;
		if (!cJSON_IsArray(row) ||
		    (size_t)cJSON_GetArraySize(row) != r->n_columns) {
			return decode_fail(c, no,
					   "a row does not have one value "
					   "per column");
		}
		cJSON_ArrayForEach(item, row)
		{
			int rv = decode_value(
			    c, item, &r->values[i * r->n_columns + k], no);
			if (rv != THERMIONIC_OK) {
				return rv;
			}
			k++;
		}
		i++;
	}
	return THERMIONIC_OK;
}

static int decode_counts(struct thermionic_client *c, const cJSON *obj,
			 struct thermionic_sql_result *r, size_t no)
{
	const cJSON *affected =
	    cJSON_GetObjectItemCaseSensitive(obj, "rows_affected");
	const cJSON *last =
	    cJSON_GetObjectItemCaseSensitive(obj, "last_insert_id");

	if (!tmc_json_int64(affected, &r->rows_affected)) {
		return decode_fail(c, no,
				   "no \"error\", \"columns\" or integer "
				   "\"rows_affected\"");
	}
	if (last != NULL && !tmc_json_int64(last, &r->last_insert_id)) {
		return decode_fail(c, no,
				   "\"last_insert_id\" is not an integer");
	}
	return THERMIONIC_OK;
}

static int decode_result(struct thermionic_client *c, const cJSON *obj,
			 struct thermionic_sql_result *r, size_t no)
{
	const cJSON *error = cJSON_GetObjectItemCaseSensitive(obj, "error");
	const cJSON *columns = cJSON_GetObjectItemCaseSensitive(obj, "columns");
	int rv;

	if (!cJSON_IsObject(obj)) {
		return decode_fail(c, no, "not an object");
	}
	if (error != NULL && !cJSON_IsNull(error)) {
		if (!cJSON_IsString(error)) {
			return decode_fail(c, no, "\"error\" is not a string");
		}
		r->error =
		    strdup(error->valuestring[0] != '\0' ? error->valuestring
							 : "statement failed");
		return r->error == NULL ? decode_nomem(c) : THERMIONIC_OK;
	}
	if (columns == NULL) {
		return decode_counts(c, obj, r, no);
	}
	if (!cJSON_IsArray(columns)) {
		return decode_fail(c, no, "\"columns\" is not an array");
	}
	rv = decode_columns(c, obj, r, no);
	if (rv == THERMIONIC_OK) {
		rv = decode_rows(c, obj, r, no);
	}
	return rv;
}

int tmc_sql_decode(struct thermionic_client *c, const cJSON *metadata, size_t n,
		   struct thermionic_sql_result **results)
{
	const cJSON *list =
	    cJSON_GetObjectItemCaseSensitive(metadata, "results");
	struct thermionic_sql_result *out;
	const cJSON *item;
	size_t i = 0;
	int rv = THERMIONIC_OK;

	*results = NULL;
	if (!cJSON_IsArray(list)) {
		return tmc_fail(c, THERMIONIC_ERR_PROTO,
				"malformed SQL response from %s: no "
				"\"results\" array",
				c->target);
	}
	if ((size_t)cJSON_GetArraySize(list) != n) {
		return tmc_fail(c, THERMIONIC_ERR_PROTO,
				"malformed SQL response from %s: %d results "
				"for %zu statements",
				c->target, cJSON_GetArraySize(list), n);
	}
	out = calloc(n, sizeof *out);
	if (out == NULL) {
		return decode_nomem(c);
	}
	cJSON_ArrayForEach(item, list)
	{
		rv = decode_result(c, item, &out[i], i + 1);
		if (rv != THERMIONIC_OK) {
			break;
		}
		i++;
	}
	if (rv != THERMIONIC_OK) {
		thermionic_sql_results_free(out, n);
		return rv;
	}
	*results = out;
	return THERMIONIC_OK;
}

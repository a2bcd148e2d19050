/* thermionic_sql(): encode the request, send it, decode the answer
 * (sql_decode.c). The wire format is doc/sql-api.md:
 *
 *   {"target": "global", "transaction": false, "consistency": "none",
 *    "statements": [{"sql": "...", "params": [1, 2.5, "a", null,
 *                                             {"base64": "AAE="}]}]}
 *
 * INTEGER parameters are written as raw integer literals and REAL ones
 * always with a fraction or an exponent, so the daemon types each exactly
 * as given (1 is an INTEGER, 1.0 a REAL). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/internal.h"

/* Where a parameter sits, for messages. */
struct sql_where {
	size_t stmt; /* 1-based */
	size_t param;
	const char *name; /* NULL for positional */
};

static int sql_param_fail(struct thermionic_client *c,
			  const struct sql_where *w, const char *why)
{
	if (w->name != NULL) {
		return tmc_fail(c, THERMIONIC_ERR_INVALID,
				"statement %zu: parameter \"%.64s\": %s",
				w->stmt, w->name, why);
	}
	return tmc_fail(c, THERMIONIC_ERR_INVALID,
			"statement %zu: parameter %zu: %s", w->stmt,
			w->param + 1, why);
}

static cJSON *sql_blob_item(const struct thermionic_value *v)
{
	char *text = tmc_base64_encode(v->bytes != NULL ? v->bytes : "",
				       v->bytes != NULL ? v->len : 0);
	cJSON *obj;
	if (text == NULL) {
		return NULL;
	}
	obj = cJSON_CreateObject();
	if (obj != NULL &&
	    cJSON_AddStringToObject(obj, "base64", text) == NULL) {
		cJSON_Delete(obj);
		obj = NULL;
	}
	free(text);
	return obj;
}

/* The JSON item for parameter V at W: 0 with *OUT owned, or
 * THERMIONIC_ERR_INVALID / _NOMEM with errmsg set. */
static int sql_value_item(struct thermionic_client *c,
			  const struct thermionic_value *v,
			  const struct sql_where *w, cJSON **out)
{
	char *text;

	*out = NULL;
	switch (v->type) {
	case THERMIONIC_NULL:
		*out = cJSON_CreateNull();
		break;
	case THERMIONIC_INTEGER:
		*out = tmc_json_int64_item(v->integer);
		break;
	case THERMIONIC_REAL:
		if (!isfinite(v->real)) {
			return sql_param_fail(c, w,
					      "a REAL must be finite (JSON "
					      "has no infinity or NaN)");
		}
		*out = tmc_json_real_item(v->real);
		break;
	case THERMIONIC_TEXT:
		if (v->bytes == NULL && v->len > 0) {
			return sql_param_fail(c, w, "TEXT without bytes");
		}
		if (v->len > 0 && memchr(v->bytes, '\0', v->len) != NULL) {
			return sql_param_fail(c, w,
					      "TEXT holds a NUL byte (send "
					      "binary data as a BLOB)");
		}
		text = malloc(v->len + 1);
		if (text == NULL) {
			break;
		}
		if (v->len > 0) {
			memcpy(text, v->bytes, v->len);
		}
		text[v->len] = '\0';
		*out = cJSON_CreateString(text);
		free(text);
		break;
	case THERMIONIC_BLOB:
		if (v->bytes == NULL && v->len > 0) {
			return sql_param_fail(c, w, "BLOB without bytes");
		}
		*out = sql_blob_item(v);
		break;
	default:
		return sql_param_fail(c, w, "unknown value type");
	}
	if (*out == NULL) {
		return tmc_fail(c, THERMIONIC_ERR_NOMEM, "out of memory");
	}
	return THERMIONIC_OK;
}

static bool sql_name_valid(const char *name)
{
	return name != NULL && name[0] != '\0' && name[1] != '\0' &&
	       strchr(":@$", name[0]) != NULL;
}

/* Named parameters must be unique: a JSON object cannot hold a key
 * twice. */
static bool sql_name_repeated(const struct thermionic_sql_statement *st,
			      size_t i)
{
	for (size_t k = 0; k < i; k++) {
		if (strcmp(st->names[k], st->names[i]) == 0) {
			return true;
		}
	}
	return false;
}

static int sql_params_json(struct thermionic_client *c,
			   const struct thermionic_sql_statement *st, size_t no,
			   cJSON **out)
{
	bool named = st->names != NULL;
	cJSON *params = named ? cJSON_CreateObject() : cJSON_CreateArray();
	int rv = THERMIONIC_OK;

	*out = NULL;
	if (params == NULL) {
		return tmc_fail(c, THERMIONIC_ERR_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < st->n_params && rv == THERMIONIC_OK; i++) {
		struct sql_where w = {no, i, named ? st->names[i] : NULL};
		cJSON *item;
		if (named && !sql_name_valid(st->names[i])) {
			rv = sql_param_fail(c, &w,
					    "a name starts with ':', '@' or "
					    "'$'");
			break;
		}
		if (named && sql_name_repeated(st, i)) {
			rv = sql_param_fail(c, &w, "named twice");
			break;
		}
		rv = sql_value_item(c, &st->params[i], &w, &item);
		if (rv != THERMIONIC_OK) {
			break;
		}
		if (!(named ? cJSON_AddItemToObject(params, st->names[i], item)
			    : cJSON_AddItemToArray(params, item))) {
			cJSON_Delete(item);
			rv = tmc_fail(c, THERMIONIC_ERR_NOMEM, "out of memory");
		}
	}
	if (rv != THERMIONIC_OK) {
		cJSON_Delete(params);
		return rv;
	}
	*out = params;
	return THERMIONIC_OK;
}

static int sql_statement_json(struct thermionic_client *c,
			      const struct thermionic_sql_statement *st,
			      size_t no, cJSON *list)
{
	cJSON *obj;
	cJSON *params = NULL;
	int rv;

	if (st->sql == NULL) {
		return tmc_fail(c, THERMIONIC_ERR_INVALID,
				"statement %zu: no SQL", no);
	}
	if (st->n_params > 0 && st->params == NULL) {
		return tmc_fail(c, THERMIONIC_ERR_INVALID,
				"statement %zu: %zu parameters but no values",
				no, st->n_params);
	}
	obj = cJSON_CreateObject();
	if (obj == NULL || !cJSON_AddItemToArray(list, obj)) {
		cJSON_Delete(obj);
		return tmc_fail(c, THERMIONIC_ERR_NOMEM, "out of memory");
	}
	if (cJSON_AddStringToObject(obj, "sql", st->sql) == NULL) {
		return tmc_fail(c, THERMIONIC_ERR_NOMEM, "out of memory");
	}
	if (st->n_params == 0) {
		return THERMIONIC_OK;
	}
	rv = sql_params_json(c, st, no, &params);
	if (rv != THERMIONIC_OK) {
		return rv;
	}
	if (!cJSON_AddItemToObject(obj, "params", params)) {
		cJSON_Delete(params);
		return tmc_fail(c, THERMIONIC_ERR_NOMEM, "out of memory");
	}
	return THERMIONIC_OK;
}

static int sql_check_options(struct thermionic_client *c,
			     const struct thermionic_sql_request *req)
{
	if (req->n_statements == 0 || req->statements == NULL) {
		return tmc_fail(c, THERMIONIC_ERR_INVALID,
				"a SQL request needs at least one statement");
	}
	if (req->target != THERMIONIC_SQL_GLOBAL &&
	    req->target != THERMIONIC_SQL_LOCAL) {
		return tmc_fail(c, THERMIONIC_ERR_INVALID,
				"unknown SQL target %d", (int)req->target);
	}
	if (req->consistency != THERMIONIC_SQL_CONSISTENCY_NONE &&
	    req->consistency != THERMIONIC_SQL_LINEARIZABLE) {
		return tmc_fail(c, THERMIONIC_ERR_INVALID,
				"unknown SQL consistency %d",
				(int)req->consistency);
	}
	if (req->target == THERMIONIC_SQL_LOCAL &&
	    req->consistency == THERMIONIC_SQL_LINEARIZABLE) {
		return tmc_fail(c, THERMIONIC_ERR_INVALID,
				"linearizable reads apply to the global "
				"database only, not to the local one");
	}
	return THERMIONIC_OK;
}

/* The request body: 0 with *TEXT owned (cJSON_free), or an error. */
static int sql_encode(struct thermionic_client *c,
		      const struct thermionic_sql_request *req, char **text)
{
	cJSON *root;
	cJSON *list;
	bool ok;
	int rv;

	*text = NULL;
	rv = sql_check_options(c, req);
	if (rv != THERMIONIC_OK) {
		return rv;
	}
	root = cJSON_CreateObject();
	ok = root != NULL &&
	     cJSON_AddStringToObject(root, "target",
				     req->target == THERMIONIC_SQL_LOCAL
					 ? "local"
					 : "global") != NULL &&
	     cJSON_AddBoolToObject(root, "transaction", req->transaction) !=
		 NULL &&
	     cJSON_AddStringToObject(root, "consistency",
				     req->consistency ==
					     THERMIONIC_SQL_LINEARIZABLE
					 ? "linearizable"
					 : "none") != NULL;
	list = ok ? cJSON_AddArrayToObject(root, "statements") : NULL;
	if (list == NULL) {
		rv = tmc_fail(c, THERMIONIC_ERR_NOMEM, "out of memory");
		goto out_root;
	}
	for (size_t i = 0; i < req->n_statements; i++) {
		rv = sql_statement_json(c, &req->statements[i], i + 1, list);
		if (rv != THERMIONIC_OK) {
			goto out_root;
		}
	}
	*text = cJSON_PrintUnformatted(root);
	if (*text == NULL) {
		rv = tmc_fail(c, THERMIONIC_ERR_NOMEM, "out of memory");
	}
out_root:
	cJSON_Delete(root);
	return rv;
}

int thermionic_sql(struct thermionic_client *client,
		   const struct thermionic_sql_request *request,
		   struct thermionic_sql_result **results, size_t *n_results)
{
	struct thermionic_response resp;
	char *text;
	int rv;

	if (results != NULL) {
		*results = NULL;
	}
	if (n_results != NULL) {
		*n_results = 0;
	}
	if (client == NULL || request == NULL || results == NULL ||
	    n_results == NULL) {
		return THERMIONIC_ERR_INVALID;
	}
	tmc_clear_error(client);
	rv = sql_encode(client, request, &text);
	if (rv != THERMIONIC_OK) {
		return rv;
	}
	rv = thermionic_request(client, "POST", "/1.0/sql", text, NULL, &resp);
	cJSON_free(text);
	if (rv != THERMIONIC_OK) {
		return rv;
	}
	rv = tmc_sql_decode(client, resp.metadata, request->n_statements,
			    results);
	thermionic_response_clear(&resp);
	if (rv == THERMIONIC_OK) {
		*n_results = request->n_statements;
	}
	return rv;
}

void thermionic_sql_results_free(struct thermionic_sql_result *results,
				 size_t n)
{
	if (results == NULL) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct thermionic_sql_result *r = &results[i];
		for (size_t k = 0; k < r->n_columns; k++) {
			free(r->columns != NULL ? r->columns[k] : NULL);
			free(r->types != NULL ? r->types[k] : NULL);
		}
		if (r->values != NULL) {
			for (size_t k = 0; k < r->n_rows * r->n_columns; k++) {
				free((char *)r->values[k].bytes);
			}
		}
		free(r->columns);
		free(r->types);
		free(r->values);
		free(r->error);
	}
	free(results);
}

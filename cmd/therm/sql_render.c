/* SQL results as tables, CSV, JSON and YAML. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "cmd/therm/sql.h"
#include "internal/lib/err.h"
#include "internal/lib/mem.h"

/* Width of the statement shown in "=> statement N: ..." headers. */
#define SQL_HEADER_WIDTH 60

const char *therm_sql_real_text(double r, char *buf)
{
	if (isnan(r)) {
		return strcpy(buf, "NaN");
	}
	if (isinf(r)) {
		return strcpy(buf, r > 0 ? "Inf" : "-Inf");
	}
	for (int digits = 15; digits <= 17; digits++) {
		snprintf(buf, 32, "%.*g", digits, r);
		if (!islessgreater(strtod(buf, NULL), r)) {
			break;
		}
	}
	if (strpbrk(buf, ".e") == NULL) {
		strcat(buf, ".0");
	}
	return buf;
}

static char *sql_hex(const char *prefix, const struct thermionic_value *v)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)v->bytes;
	size_t plen = strlen(prefix);
	char *out = tm_malloc(plen + 2 * v->len + 2);
	char *q = out + plen;

	memcpy(out, prefix, plen);
	for (size_t i = 0; i < v->len; i++) {
		*q++ = digits[p[i] >> 4];
		*q++ = digits[p[i] & 0xf];
	}
	*q++ = '\'';
	*q = '\0';
	return out;
}

char *therm_sql_cell(const struct thermionic_value *v, bool csv)
{
	char buf[32];
	switch (v->type) {
	case THERMIONIC_INTEGER:
		snprintf(buf, sizeof buf, "%lld", (long long)v->integer);
		return tm_strdup(buf);
	case THERMIONIC_REAL:
		return tm_strdup(therm_sql_real_text(v->real, buf));
	case THERMIONIC_TEXT:
		return tm_strndup(v->bytes != NULL ? v->bytes : "", v->len);
	case THERMIONIC_BLOB:
		return sql_hex("x'", v);
	case THERMIONIC_NULL:
	default:
		return tm_strdup(csv ? "" : "NULL");
	}
}

/*
 * JSON
 */

static cJSON *json_raw_int(int64_t i)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%lld", (long long)i);
	return cJSON_CreateRaw(buf);
}

static cJSON *json_blob(const struct thermionic_value *v)
{
	char *text = tm_malloc((v->len + 2) / 3 * 4 + 1);
	cJSON *obj = cJSON_CreateObject();
	size_t at = 0;
	/* Whole 3-byte groups per call keep each length within an int. */
	for (size_t done = 0; done < v->len;) {
		size_t k = v->len - done;
		if (k > (size_t)3 * 1024 * 1024) {
			k = (size_t)3 * 1024 * 1024;
		}
		at += (size_t)EVP_EncodeBlock(
		    (unsigned char *)text + at,
		    (const unsigned char *)v->bytes + done, (int)k);
		done += k;
	}
	text[at] = '\0';
	cJSON_AddStringToObject(obj, "base64", text);
	tm_free(text);
	return obj;
}

static cJSON *json_value(const struct thermionic_value *v)
{
	char buf[32];
	char *text;
	cJSON *item;

	switch (v->type) {
	case THERMIONIC_INTEGER:
		return json_raw_int(v->integer);
	case THERMIONIC_REAL:
		if (!isfinite(v->real)) {
			return cJSON_CreateNull();
		}
		return cJSON_CreateRaw(therm_sql_real_text(v->real, buf));
	case THERMIONIC_TEXT:
		text = tm_strndup(v->bytes != NULL ? v->bytes : "", v->len);
		item = cJSON_CreateString(text);
		tm_free(text);
		return item;
	case THERMIONIC_BLOB:
		return json_blob(v);
	case THERMIONIC_NULL:
	default:
		return cJSON_CreateNull();
	}
}

static cJSON *json_result(const struct thermionic_sql_result *r)
{
	cJSON *obj = cJSON_CreateObject();
	cJSON *columns;
	cJSON *types;
	cJSON *rows;

	if (r->error != NULL) {
		cJSON_AddStringToObject(obj, "error", r->error);
		return obj;
	}
	if (r->n_columns == 0) {
		cJSON_AddItemToObject(obj, "rows_affected",
				      json_raw_int(r->rows_affected));
		cJSON_AddItemToObject(obj, "last_insert_id",
				      json_raw_int(r->last_insert_id));
		return obj;
	}
	columns = cJSON_AddArrayToObject(obj, "columns");
	types = cJSON_AddArrayToObject(obj, "types");
	rows = cJSON_AddArrayToObject(obj, "rows");
	for (size_t c = 0; c < r->n_columns; c++) {
		cJSON_AddItemToArray(columns,
				     cJSON_CreateString(r->columns[c]));
		cJSON_AddItemToArray(
		    types, r->types[c] != NULL ? cJSON_CreateString(r->types[c])
					       : cJSON_CreateNull());
	}
	for (size_t i = 0; i < r->n_rows; i++) {
		cJSON *row = cJSON_CreateArray();
		for (size_t c = 0; c < r->n_columns; c++) {
			cJSON_AddItemToArray(
			    row, json_value(thermionic_sql_cell(r, i, c)));
		}
		cJSON_AddItemToArray(rows, row);
	}
	return obj;
}

cJSON *therm_sql_results_json(const struct thermionic_sql_result *results,
			      size_t n)
{
	cJSON *list = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++) {
		cJSON_AddItemToArray(list, json_result(&results[i]));
	}
	return list;
}

/*
 * Tables and CSV
 */

static void print_rows(FILE *out, const struct thermionic_sql_result *r,
		       bool csv)
{
	char **cells = tm_calloc(r->n_columns, sizeof *cells);
	struct therm_table t;

	therm_table_init(&t, r->n_columns, (const char *const *)r->columns);
	for (size_t i = 0; i < r->n_rows; i++) {
		for (size_t c = 0; c < r->n_columns; c++) {
			cells[c] =
			    therm_sql_cell(thermionic_sql_cell(r, i, c), csv);
		}
		therm_table_add_row(&t, cells);
	}
	if (csv) {
		therm_csv_write(out, &t);
	} else {
		therm_table_write(out, &t);
	}
	therm_table_close(&t);
	tm_free(cells);
}

/* Whether SQL is an INSERT or REPLACE (possibly after WITH), the only
 * statements after which the last insert id is news: SQLite keeps it per
 * connection, so an UPDATE reports the previous INSERT's. */
static bool sql_inserts(const char *sql)
{
	static const char *const words[] = {"INSERT", "REPLACE", "WITH"};
	const char *p = sql;
	while (isspace((unsigned char)*p)) {
		p++;
	}
	for (size_t i = 0; i < sizeof words / sizeof *words; i++) {
		size_t n = strlen(words[i]);
		if (strncasecmp(p, words[i], n) == 0 &&
		    !isalnum((unsigned char)p[n]) && p[n] != '_') {
			return true;
		}
	}
	return false;
}

static void print_table_mode(FILE *out, char *const *sqls,
			     const struct thermionic_sql_result *results,
			     size_t n)
{
	bool first = true;
	for (size_t i = 0; i < n; i++) {
		const struct thermionic_sql_result *r = &results[i];
		if (r->error != NULL) {
			continue;
		}
		if (!first) {
			fputc('\n', out);
		}
		first = false;
		if (n > 1) {
			char *summary =
			    therm_sql_summary(sqls[i], SQL_HEADER_WIDTH);
			fprintf(out, "=> statement %zu: %s\n", i + 1, summary);
			tm_free(summary);
		}
		if (r->n_columns > 0) {
			print_rows(out, r, false);
			continue;
		}
		fprintf(out, "Rows affected: %lld\n",
			(long long)r->rows_affected);
		if (r->last_insert_id > 0 && sql_inserts(sqls[i])) {
			fprintf(out, "Last insert id: %lld\n",
				(long long)r->last_insert_id);
		}
	}
}

static void
print_csv_mode(FILE *out, const struct thermionic_sql_result *results, size_t n)
{
	bool first = true;
	for (size_t i = 0; i < n; i++) {
		if (results[i].error != NULL || results[i].n_columns == 0) {
			continue;
		}
		if (!first) {
			fputc('\n', out);
		}
		first = false;
		print_rows(out, &results[i], true);
	}
}

size_t therm_sql_print(FILE *out, FILE *err, enum therm_format format,
		       char *const *sqls,
		       const struct thermionic_sql_result *results, size_t n)
{
	char errmsg[TM_ERRMSG_SIZE];
	size_t failed = 0;
	cJSON *doc;

	switch (format) {
	case THERM_FORMAT_JSON:
	case THERM_FORMAT_YAML:
		doc = therm_sql_results_json(results, n);
		if (format == THERM_FORMAT_JSON) {
			therm_json_write(out, doc);
		} else if (therm_yaml_write(out, doc, errmsg) != 0) {
			fprintf(err, "therm: %s\n", errmsg);
		}
		cJSON_Delete(doc);
		break;
	case THERM_FORMAT_CSV:
		print_csv_mode(out, results, n);
		break;
	case THERM_FORMAT_TABLE:
	default:
		print_table_mode(out, sqls, results, n);
		break;
	}
	fflush(out);
	for (size_t i = 0; i < n; i++) {
		if (results[i].error != NULL) {
			fprintf(err, "therm: statement %zu: %s\n", i + 1,
				results[i].error);
			failed++;
		}
	}
	return failed;
}

/* .dump: a database as SQL text that loads back with
 * "therm sql --transaction - < FILE".
 *
 * No BEGIN/COMMIT or PRAGMA lines: the daemon runs each request in its own
 * transaction and refuses transaction control, so the transaction is asked
 * for with --transaction instead. Tables come first, each followed by its
 * rows, then indexes, triggers and views (a trigger created before the
 * rows are loaded would fire on them). Internal sqlite_* tables are left
 * out. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd/therm/sql.h"
#include "internal/lib/mem.h"

/* S with each QUOTE doubled, between two QUOTEs. */
static char *sql_quote(const char *s, size_t len, char quote)
{
	char *out = tm_malloc(2 * len + 3);
	char *q = out;
	*q++ = quote;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == quote) {
			*q++ = quote;
		}
		*q++ = s[i];
	}
	*q++ = quote;
	*q = '\0';
	return out;
}

char *therm_sql_literal(const struct thermionic_value *v)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)v->bytes;
	char buf[32];
	char *out;

	switch (v->type) {
	case THERMIONIC_INTEGER:
		snprintf(buf, sizeof buf, "%lld", (long long)v->integer);
		return tm_strdup(buf);
	case THERMIONIC_REAL:
		if (isnan(v->real)) {
			return tm_strdup("NULL");
		}
		if (isinf(v->real)) {
			/* What SQLite itself writes: it reads back as
			 * infinity. */
			return tm_strdup(v->real > 0 ? "1e999" : "-1e999");
		}
		return tm_strdup(therm_sql_real_text(v->real, buf));
	case THERMIONIC_TEXT:
		return sql_quote(v->bytes != NULL ? v->bytes : "", v->len,
				 '\'');
	case THERMIONIC_BLOB:
		out = tm_malloc(2 * v->len + 4);
		memcpy(out, "X'", 2);
		for (size_t i = 0; i < v->len; i++) {
			out[2 + 2 * i] = digits[p[i] >> 4];
			out[3 + 2 * i] = digits[p[i] & 0xf];
		}
		memcpy(out + 2 + 2 * v->len, "'", 2);
		return out;
	case THERMIONIC_NULL:
	default:
		return tm_strdup("NULL");
	}
}

char *therm_sql_ident(const char *name)
{
	return sql_quote(name, strlen(name), '"');
}

/* The TEXT of schema cell (ROW, COL), or NULL. */
static const char *schema_text(const struct thermionic_sql_result *schema,
			       size_t row, size_t col)
{
	const struct thermionic_value *v;
	if (schema->n_columns < 3) {
		return NULL;
	}
	v = thermionic_sql_cell(schema, row, col);
	return v->type == THERMIONIC_TEXT ? v->bytes : NULL;
}

static bool schema_is_table(const struct thermionic_sql_result *schema,
			    size_t row)
{
	const char *type = schema_text(schema, row, 0);
	return type != NULL && strcmp(type, "table") == 0;
}

bool therm_sql_dump_has_rows(const struct thermionic_sql_result *schema,
			     size_t row)
{
	const char *sql = schema_text(schema, row, 2);
	return schema_is_table(schema, row) &&
	       schema_text(schema, row, 1) != NULL && sql != NULL &&
	       strncasecmp(sql, "CREATE VIRTUAL TABLE", 20) != 0;
}

static void dump_rows(FILE *out, const char *table,
		      const struct thermionic_sql_result *data)
{
	char *ident = therm_sql_ident(table);
	if (data->error != NULL) {
		fprintf(out, "-- rows of %s could not be read: %s\n", ident,
			data->error);
		tm_free(ident);
		return;
	}
	for (size_t i = 0; i < data->n_rows; i++) {
		fprintf(out, "INSERT INTO %s VALUES(", ident);
		for (size_t c = 0; c < data->n_columns; c++) {
			char *lit =
			    therm_sql_literal(thermionic_sql_cell(data, i, c));
			fprintf(out, "%s%s", c > 0 ? "," : "", lit);
			tm_free(lit);
		}
		fputs(");\n", out);
	}
	tm_free(ident);
}

void therm_sql_dump_write(FILE *out, const char *target,
			  const struct thermionic_sql_result *schema,
			  const struct thermionic_sql_result *data)
{
	size_t k = 0;

	fprintf(out,
		"-- thermionic: dump of the %s database\n"
		"-- Load it with: therm sql --transaction - < FILE\n",
		target);
	for (size_t i = 0; i < schema->n_rows; i++) {
		const char *sql = schema_text(schema, i, 2);
		if (!schema_is_table(schema, i) || sql == NULL) {
			continue;
		}
		fprintf(out, "%s;\n", sql);
		if (therm_sql_dump_has_rows(schema, i)) {
			dump_rows(out, schema_text(schema, i, 1), &data[k++]);
		}
	}
	for (size_t i = 0; i < schema->n_rows; i++) {
		const char *sql = schema_text(schema, i, 2);
		if (schema_is_table(schema, i) || sql == NULL) {
			continue;
		}
		fprintf(out, "%s;\n", sql);
	}
}

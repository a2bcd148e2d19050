/* Tables of strings: aligned text and CSV. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/therm/output.h"
#include "internal/lib/assert.h"
#include "internal/lib/mem.h"

const char *therm_number_text(double value, char *buf)
{
	/* islessgreater: an equality test that does not trip
	 * -Wfloat-equal. */
	if (isfinite(value) && !islessgreater(value, floor(value)) &&
	    fabs(value) < 9e15) {
		snprintf(buf, 32, "%.0f", value);
		return buf;
	}
	/* Shortest of 15 or 17 significant digits that reads back exact. */
	snprintf(buf, 32, "%.15g", value);
	if (islessgreater(strtod(buf, NULL), value)) {
		snprintf(buf, 32, "%.17g", value);
	}
	return buf;
}

static char *cell_time(const cJSON *value)
{
	char buf[32];
	struct tm tm;
	time_t t;
	if (!cJSON_IsNumber(value)) {
		return therm_cell_text(value, THERM_CELL_TEXT);
	}
	t = (time_t)value->valuedouble;
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		return therm_cell_text(value, THERM_CELL_TEXT);
	}
	return tm_strdup(buf);
}

/* "a,b,c" for an array of scalars. */
static char *cell_list(const cJSON *value)
{
	const cJSON *item;
	size_t len = 1;
	char *text;

	if (!cJSON_IsArray(value)) {
		return therm_cell_text(value, THERM_CELL_TEXT);
	}
	cJSON_ArrayForEach(item, value)
	{
		if (cJSON_IsArray(item) || cJSON_IsObject(item)) {
			return therm_cell_text(value, THERM_CELL_TEXT);
		}
	}
	text = tm_strdup("");
	cJSON_ArrayForEach(item, value)
	{
		char *part = therm_cell_text(item, THERM_CELL_TEXT);
		len += strlen(part) + 1;
		text = tm_realloc(text, len);
		if (item != value->child) {
			strcat(text, ",");
		}
		strcat(text, part);
		tm_free(part);
	}
	return text;
}

char *therm_cell_text(const cJSON *value, enum therm_cell_kind kind)
{
	char buf[32];
	char *json;
	char *copy;

	if (kind == THERM_CELL_TIME) {
		return cell_time(value);
	}
	if (kind == THERM_CELL_LIST) {
		return cell_list(value);
	}
	if (value == NULL || cJSON_IsNull(value)) {
		return tm_strdup("");
	}
	if (cJSON_IsString(value)) {
		return tm_strdup(value->valuestring);
	}
	if (cJSON_IsNumber(value)) {
		return tm_strdup(therm_number_text(value->valuedouble, buf));
	}
	if (cJSON_IsBool(value)) {
		return tm_strdup(cJSON_IsTrue(value) ? "true" : "false");
	}
	json = cJSON_PrintUnformatted(value);
	if (json == NULL) {
		return tm_strdup("");
	}
	copy = tm_strdup(json);
	cJSON_free(json);
	return copy;
}

void therm_table_init(struct therm_table *t, size_t n_cols,
		      const char *const *headers)
{
	PRE(n_cols > 0);
	t->n_cols = n_cols;
	t->headers = headers;
	t->n_rows = 0;
	t->cells = NULL;
}

void therm_table_add_row(struct therm_table *t, char **cells)
{
	size_t base = t->n_rows * t->n_cols;
	t->cells = tm_realloc(t->cells, (base + t->n_cols) * sizeof *t->cells);
	memcpy(t->cells + base, cells, t->n_cols * sizeof *cells);
	t->n_rows++;
}

void therm_table_close(struct therm_table *t)
{
	for (size_t i = 0; i < t->n_rows * t->n_cols; i++) {
		tm_free(t->cells[i]);
	}
	tm_free(t->cells);
	t->cells = NULL;
	t->n_rows = 0;
}

/* Characters in S as printed: UTF-8 continuation bytes do not count. */
static size_t text_width(const char *s)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0';
	     p++) {
		if ((*p & 0xc0) != 0x80) {
			n++;
		}
	}
	return n;
}

static void put_cell(FILE *out, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0';
	     p++) {
		fputc(*p < 0x20 || *p == 0x7f ? ' ' : *p, out);
	}
}

static const char *table_cell(const struct therm_table *t, size_t row,
			      size_t col)
{
	return t->cells[row * t->n_cols + col];
}

static void table_write_row(FILE *out, const struct therm_table *t,
			    const size_t *widths, size_t row, bool header)
{
	size_t last = 0; /* one past the last non-empty cell: no padding
			    after it, so lines carry no trailing blanks */
	for (size_t col = 0; col < t->n_cols; col++) {
		const char *s =
		    header ? t->headers[col] : table_cell(t, row, col);
		if (s[0] != '\0') {
			last = col + 1;
		}
	}
	for (size_t col = 0; col < last; col++) {
		const char *s =
		    header ? t->headers[col] : table_cell(t, row, col);
		put_cell(out, s);
		if (col + 1 < last) {
			for (size_t w = text_width(s); w < widths[col] + 2;
			     w++) {
				fputc(' ', out);
			}
		}
	}
	fputc('\n', out);
}

void therm_table_write(FILE *out, const struct therm_table *t)
{
	size_t *widths = tm_calloc(t->n_cols, sizeof *widths);
	for (size_t col = 0; col < t->n_cols; col++) {
		widths[col] = text_width(t->headers[col]);
		for (size_t row = 0; row < t->n_rows; row++) {
			size_t w = text_width(table_cell(t, row, col));
			if (w > widths[col]) {
				widths[col] = w;
			}
		}
	}
	table_write_row(out, t, widths, 0, true);
	for (size_t row = 0; row < t->n_rows; row++) {
		table_write_row(out, t, widths, row, false);
	}
	tm_free(widths);
}

void therm_csv_field(FILE *out, const char *field)
{
	size_t len = strlen(field);
	bool quote = strpbrk(field, ",\"\r\n") != NULL ||
		     (len > 0 && (field[0] == ' ' || field[len - 1] == ' '));
	if (!quote) {
		fputs(field, out);
		return;
	}
	fputc('"', out);
	for (const char *p = field; *p != '\0'; p++) {
		if (*p == '"') {
			fputc('"', out);
		}
		fputc(*p, out);
	}
	fputc('"', out);
}

void therm_csv_write(FILE *out, const struct therm_table *t)
{
	for (size_t row = 0; row <= t->n_rows; row++) {
		for (size_t col = 0; col < t->n_cols; col++) {
			if (col > 0) {
				fputc(',', out);
			}
			therm_csv_field(out, row == 0
						 ? t->headers[col]
						 : table_cell(t, row - 1, col));
		}
		fputc('\n', out);
	}
}

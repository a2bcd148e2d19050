/* Choosing a rendering for listings, maps, objects and single values. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/therm/output.h"
#include "internal/lib/err.h"
#include "internal/lib/mem.h"

static const struct {
	const char *name;
	enum therm_format format;
} format_names[] = {
    {"table", THERM_FORMAT_TABLE},
    {"json", THERM_FORMAT_JSON},
    {"yaml", THERM_FORMAT_YAML},
    {"csv", THERM_FORMAT_CSV},
    {"pretty", THERM_FORMAT_PRETTY},
};

int therm_format_parse(const char *name, enum therm_format *out)
{
	for (size_t i = 0; i < sizeof format_names / sizeof *format_names;
	     i++) {
		if (strcmp(name, format_names[i].name) == 0) {
			*out = format_names[i].format;
			return 0;
		}
	}
	return TM_INVALID;
}

void therm_formats_text(unsigned formats, char *buf, size_t size)
{
	size_t n = 0;
	size_t at = 0;
	size_t total = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof format_names / sizeof *format_names;
	     i++) {
		total += (formats & (unsigned)format_names[i].format) != 0;
	}
	for (size_t i = 0; i < sizeof format_names / sizeof *format_names;
	     i++) {
		if ((formats & (unsigned)format_names[i].format) == 0) {
			continue;
		}
		const char *sep = n == 0 ? "" : n + 1 == total ? " or " : ", ";
		int k = snprintf(buf + at, size - at, "%s%s", sep,
				 format_names[i].name);
		if (k < 0 || (size_t)k >= size - at) {
			return;
		}
		at += (size_t)k;
		n++;
	}
}

const char *therm_format_name(enum therm_format format)
{
	for (size_t i = 0; i < sizeof format_names / sizeof *format_names;
	     i++) {
		if (format_names[i].format == format) {
			return format_names[i].name;
		}
	}
	return "?";
}

static int json_scalar(FILE *out, const cJSON *v)
{
	/* cJSON does the escaping and number formatting of scalars. */
	char *text = cJSON_PrintUnformatted(v);
	if (text == NULL) {
		return TM_NOMEM;
	}
	fputs(text, out);
	cJSON_free(text);
	return 0;
}

static void json_indent(FILE *out, int depth)
{
	for (int i = 0; i < depth; i++) {
		fputs("  ", out);
	}
}

static int json_value(FILE *out, const cJSON *v, int depth)
{
	bool object = cJSON_IsObject(v);
	const cJSON *item;
	int rv;

	if (!object && !cJSON_IsArray(v)) {
		return json_scalar(out, v);
	}
	if (v->child == NULL) {
		fputs(object ? "{}" : "[]", out);
		return 0;
	}
	fputs(object ? "{\n" : "[\n", out);
	cJSON_ArrayForEach(item, v)
	{
		json_indent(out, depth + 1);
		if (object) {
			cJSON key = {.type = cJSON_String,
				     .valuestring = item->string};
			rv = json_scalar(out, &key);
			if (rv != 0) {
				return rv;
			}
			fputs(": ", out);
		}
		rv = json_value(out, item, depth + 1);
		if (rv != 0) {
			return rv;
		}
		fputs(item->next != NULL ? ",\n" : "\n", out);
	}
	json_indent(out, depth);
	fputc(object ? '}' : ']', out);
	return 0;
}

int therm_json_write(FILE *out, const cJSON *value)
{
	int rv = json_value(out, value, 0);
	fputc('\n', out);
	return rv;
}

/* JSON and YAML print the value whole. */
static int print_document(FILE *out, enum therm_format format,
			  const cJSON *value, char *errmsg)
{
	if (format == THERM_FORMAT_JSON) {
		return therm_json_write(out, value);
	}
	return therm_yaml_write(out, value, errmsg);
}

static void print_table(FILE *out, enum therm_format format,
			const struct therm_table *t)
{
	if (format == THERM_FORMAT_CSV) {
		therm_csv_write(out, t);
	} else {
		therm_table_write(out, t);
	}
}

int therm_print_list(FILE *out, enum therm_format format,
		     const struct therm_column *cols, size_t n_cols,
		     const cJSON *rows, char *errmsg)
{
	const char **headers;
	struct therm_table t;
	const cJSON *row;
	char **cells;

	if (format == THERM_FORMAT_JSON || format == THERM_FORMAT_YAML) {
		return print_document(out, format, rows, errmsg);
	}
	headers = tm_calloc(n_cols, sizeof *headers);
	cells = tm_calloc(n_cols, sizeof *cells);
	for (size_t i = 0; i < n_cols; i++) {
		headers[i] = cols[i].header;
	}
	therm_table_init(&t, n_cols, headers);
	cJSON_ArrayForEach(row, rows)
	{
		for (size_t i = 0; i < n_cols; i++) {
			cells[i] = therm_cell_text(
			    cJSON_GetObjectItemCaseSensitive(row, cols[i].key),
			    cols[i].kind);
		}
		therm_table_add_row(&t, cells);
	}
	print_table(out, format, &t);
	therm_table_close(&t);
	tm_free(cells);
	tm_free(headers);
	return 0;
}

static int compare_keys(const void *a, const void *b)
{
	const cJSON *const *x = a;
	const cJSON *const *y = b;
	return strcmp((*x)->string, (*y)->string);
}

/* OBJ's members sorted by key: an owned array of borrowed items. */
static const cJSON **sorted_members(const cJSON *obj, size_t *n)
{
	const cJSON **items;
	const cJSON *item;
	size_t i = 0;

	*n = (size_t)cJSON_GetArraySize(obj);
	items = tm_calloc(*n, sizeof *items);
	cJSON_ArrayForEach(item, obj) { items[i++] = item; }
	qsort(items, *n, sizeof *items, compare_keys);
	return items;
}

int therm_print_map(FILE *out, enum therm_format format, const char *key_header,
		    const char *value_header, const cJSON *obj, char *errmsg)
{
	const char *headers[2] = {key_header, value_header};
	struct therm_table t;
	const cJSON **items;
	cJSON *sorted = NULL;
	size_t n;
	int rv = 0;

	items = sorted_members(obj, &n);
	if (format == THERM_FORMAT_JSON || format == THERM_FORMAT_YAML) {
		sorted = cJSON_CreateObject();
		for (size_t i = 0; i < n; i++) {
			cJSON_AddItemToObject(sorted, items[i]->string,
					      cJSON_Duplicate(items[i], true));
		}
		rv = print_document(out, format, sorted, errmsg);
		cJSON_Delete(sorted);
		tm_free(items);
		return rv;
	}
	therm_table_init(&t, 2, headers);
	for (size_t i = 0; i < n; i++) {
		char *cells[2] = {
		    tm_strdup(items[i]->string),
		    therm_cell_text(items[i], THERM_CELL_TEXT),
		};
		therm_table_add_row(&t, cells);
	}
	print_table(out, format, &t);
	therm_table_close(&t);
	tm_free(items);
	return rv;
}

static bool is_scalar(const cJSON *v)
{
	return !cJSON_IsObject(v) && !cJSON_IsArray(v);
}

static bool all_scalars(const cJSON *array)
{
	const cJSON *item;
	cJSON_ArrayForEach(item, array)
	{
		if (!is_scalar(item)) {
			return false;
		}
	}
	return true;
}

static void print_leaf(FILE *out, const char *path, const char *text)
{
	const char *line = text;
	if (strchr(text, '\n') == NULL) {
		fprintf(out, "%s:%s%s\n", path, text[0] != '\0' ? " " : "",
			text);
		return;
	}
	fprintf(out, "%s: |\n", path);
	while (*line != '\0') {
		const char *end = strchr(line, '\n');
		size_t len = end == NULL ? strlen(line) : (size_t)(end - line);
		fprintf(out, "  %.*s\n", (int)len, line);
		line = end == NULL ? line + len : end + 1;
	}
}

static void print_flat(FILE *out, const char *path, const cJSON *v)
{
	const cJSON *item;
	char *text;

	if ((cJSON_IsObject(v) || cJSON_IsArray(v)) && v->child == NULL) {
		if (path[0] == '\0') {
			return;
		}
		print_leaf(out, path, cJSON_IsObject(v) ? "{}" : "[]");
		return;
	}
	if (cJSON_IsArray(v) && all_scalars(v)) {
		size_t len = 1;
		cJSON_ArrayForEach(item, v)
		{
			char *cell = therm_cell_text(item, THERM_CELL_TEXT);
			len += strlen(cell) + 2;
			tm_free(cell);
		}
		text = tm_calloc(1, len);
		cJSON_ArrayForEach(item, v)
		{
			char *cell = therm_cell_text(item, THERM_CELL_TEXT);
			if (text[0] != '\0') {
				strcat(text, ", ");
			}
			strcat(text, cell);
			tm_free(cell);
		}
		print_leaf(out, path, text);
		tm_free(text);
		return;
	}
	if (is_scalar(v)) {
		text = therm_cell_text(v, THERM_CELL_TEXT);
		print_leaf(out, path, text);
		tm_free(text);
		return;
	}
	if (cJSON_IsObject(v)) {
		cJSON_ArrayForEach(item, v)
		{
			char *sub = path[0] == '\0' ? tm_strdup(item->string)
						    : tm_asprintf("%s.%s", path,
								  item->string);
			print_flat(out, sub, item);
			tm_free(sub);
		}
		return;
	}
	size_t i = 0;
	cJSON_ArrayForEach(item, v)
	{
		char *sub = tm_asprintf("%s.%zu", path, i++);
		print_flat(out, sub, item);
		tm_free(sub);
	}
}

int therm_print_object(FILE *out, enum therm_format format, const cJSON *obj,
		       char *errmsg)
{
	if (format == THERM_FORMAT_JSON || format == THERM_FORMAT_YAML) {
		return print_document(out, format, obj, errmsg);
	}
	if (format != THERM_FORMAT_TABLE) {
		tm_errmsg_printf(errmsg, "format %s is not supported here",
				 therm_format_name(format));
		return TM_INVALID;
	}
	if (!cJSON_IsObject(obj)) {
		print_flat(out, "value", obj);
		return 0;
	}
	print_flat(out, "", obj);
	return 0;
}

int therm_print_value(FILE *out, enum therm_format format, const cJSON *value,
		      char *errmsg)
{
	cJSON *null = NULL;
	char *text;
	int rv;

	if (format == THERM_FORMAT_JSON || format == THERM_FORMAT_YAML) {
		if (value == NULL) {
			null = cJSON_CreateNull();
		}
		rv = print_document(out, format, value != NULL ? value : null,
				    errmsg);
		cJSON_Delete(null);
		return rv;
	}
	text = therm_cell_text(value, THERM_CELL_TEXT);
	fprintf(out, "%s\n", text);
	tm_free(text);
	return 0;
}

/* Output formats of therm: aligned tables, CSV, JSON and YAML.
 *
 * Listings (arrays of objects, key/value maps) support all four formats;
 * single objects support table (a readable "key: value" list), JSON and
 * YAML. Everything writes to a borrowed FILE and keeps no state. */
#ifndef THERM_OUTPUT_H
#define THERM_OUTPUT_H

#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

enum therm_format {
	THERM_FORMAT_TABLE = 1 << 0,
	THERM_FORMAT_JSON = 1 << 1,
	THERM_FORMAT_YAML = 1 << 2,
	THERM_FORMAT_CSV = 1 << 3,
	THERM_FORMAT_PRETTY = 1 << 4, /* one readable line per item (monitor) */
};

/* Sets of formats a command accepts. */
#define THERM_FORMATS_LIST                                                     \
	(THERM_FORMAT_TABLE | THERM_FORMAT_JSON | THERM_FORMAT_YAML |          \
	 THERM_FORMAT_CSV)
#define THERM_FORMATS_OBJECT                                                   \
	(THERM_FORMAT_TABLE | THERM_FORMAT_JSON | THERM_FORMAT_YAML)

/* "table", "json", "yaml", "csv" or "pretty" -> format; 0 or
 * TM_INVALID. */
int therm_format_parse(const char *name, enum therm_format *out);
const char *therm_format_name(enum therm_format format);
/* "table, json or yaml" for a mask of formats, into BUF (SIZE bytes). */
void therm_formats_text(unsigned formats, char *buf, size_t size);

/* How a JSON value becomes the text of a table or CSV cell. */
enum therm_cell_kind {
	THERM_CELL_TEXT, /* strings as is, numbers, true/false, "" for null,
			    compact JSON for objects and arrays */
	THERM_CELL_TIME, /* unix seconds -> "YYYY-MM-DDTHH:MM:SSZ" (UTC) */
	THERM_CELL_LIST, /* an array of scalars -> their texts joined with
			    ","; anything else as THERM_CELL_TEXT */
};

/* Cell text of VALUE (NULL is ""). Owned by the caller (tm_free). */
char *therm_cell_text(const cJSON *value, enum therm_cell_kind kind);

/* Text of a JSON number: integers without a fraction, else %.17g. BUF
 * holds 32 bytes. */
const char *therm_number_text(double value, char *buf);

/* A table of strings: a header row and rows of N_COLS owned cells. */
struct therm_table {
	size_t n_cols;
	const char *const *headers; /* borrowed, N_COLS entries */
	size_t n_rows;
	char **cells; /* owned: row-major, N_ROWS * N_COLS owned strings */
};

void therm_table_init(struct therm_table *t, size_t n_cols,
		      const char *const *headers);
/* Append a row; takes ownership of the N_COLS strings in CELLS (the array
 * itself stays the caller's). */
void therm_table_add_row(struct therm_table *t, char **cells);
void therm_table_close(struct therm_table *t);

/* Aligned columns separated by two spaces, header first, no trailing
 * blanks. Widths count characters (UTF-8 code points); control characters
 * inside cells (newlines, tabs) print as one space each. */
void therm_table_write(FILE *out, const struct therm_table *t);

/* RFC 4180: a header record then one record per row, fields separated by
 * commas; a field holding a comma, double quote, CR or LF, or starting or
 * ending with a space, is enclosed in double quotes with inner quotes
 * doubled. Records end with "\n" (not CRLF: the output is for Unix
 * pipelines; RFC 4180 readers accept both). */
void therm_csv_write(FILE *out, const struct therm_table *t);
void therm_csv_field(FILE *out, const char *field);

/* Pretty-printed JSON and a final newline. */
int therm_json_write(FILE *out, const cJSON *value);

/* YAML via libyaml's emitter: block style, strings that a YAML reader
 * would take for something else (numbers, booleans, null, dates) quoted,
 * multi-line strings as literal blocks. 0 or TM_IO with errmsg. */
int therm_yaml_write(FILE *out, const cJSON *value, char *errmsg);

/* Column of a listing: HEADER in the table, the member KEY of each row
 * object, rendered as KIND. */
struct therm_column {
	const char *header;
	const char *key;
	enum therm_cell_kind kind;
};

/* A listing: ROWS is an array of objects. Table and CSV show COLS; JSON
 * and YAML show ROWS whole. */
int therm_print_list(FILE *out, enum therm_format format,
		     const struct therm_column *cols, size_t n_cols,
		     const cJSON *rows, char *errmsg);

/* A map listing: OBJ's members as rows of (KEY_HEADER, VALUE_HEADER),
 * sorted by key in every format. */
int therm_print_map(FILE *out, enum therm_format format, const char *key_header,
		    const char *value_header, const cJSON *obj, char *errmsg);

/* A single object. Table format prints one "path: value" line per leaf,
 * nested names joined with '.', arrays of scalars joined with ", ",
 * multi-line strings as "path: |" followed by lines indented by two
 * spaces. CSV is not accepted (TM_INVALID). */
int therm_print_object(FILE *out, enum therm_format format, const cJSON *obj,
		       char *errmsg);

/* A single value (config get): table prints its cell text and a newline
 * (an empty line for NULL), JSON/YAML print it as a document. */
int therm_print_value(FILE *out, enum therm_format format, const cJSON *value,
		      char *errmsg);

#endif /* THERM_OUTPUT_H */

/* The interactive SQL shell: a loop over a line source (libedit on a
 * terminal, a script in the tests), the line assembly of sql_split.c, and
 * the dot-commands. Nothing here touches a terminal. */
#include <ctype.h>
#include <string.h>

#include "cmd/therm/sql.h"
#include "internal/lib/mem.h"

static const char shell_help[] =
    ".dump            the database as SQL text; load it back with\n"
    "                 therm sql --transaction - < FILE\n"
    ".global          run statements against the global database\n"
    ".help            show this help\n"
    ".local           run statements against this member's local "
    "database\n"
    ".mode MODE       output format: table, csv, json or yaml\n"
    ".quit, .exit     leave the shell (so does Ctrl-D)\n"
    ".schema [TABLE]  CREATE statements, of every object or of TABLE's "
    "(a LIKE\n"
    "                 pattern)\n"
    ".tables          the tables and views\n"
    "SQL statements end with ';' and may span several lines.\n";

static const char *target_name(enum thermionic_sql_target target)
{
	return target == THERMIONIC_SQL_LOCAL ? "local" : "global";
}

/* Print a failure of a dot-command or statement and clear it. */
static void shell_report(struct therm_sql_session *s)
{
	struct therm_ctx *ctx = s->ctx;
	if (!ctx->error_reported) {
		fprintf(ctx->err, "therm: %s\n",
			ctx->errmsg[0] != '\0' ? ctx->errmsg : "failed");
	}
	ctx->error_reported = false;
	ctx->errmsg[0] = '\0';
}

/* Run one query of one column and print each non-NULL value of it,
 * followed by SUFFIX, on its own line. */
static int shell_list(struct therm_sql_session *s, const char *sql,
		      const char *suffix)
{
	struct thermionic_sql_result *r;
	int rv = therm_sql_query(s, &sql, 1, false, &r);
	if (rv != THERM_EXIT_OK) {
		return rv;
	}
	if (r->error != NULL) {
		rv = therm_fail(s->ctx, "%s", r->error);
	} else {
		for (size_t i = 0; i < r->n_rows && r->n_columns > 0; i++) {
			const struct thermionic_value *v =
			    thermionic_sql_cell(r, i, 0);
			if (v->type == THERMIONIC_TEXT) {
				fprintf(s->ctx->out, "%s%s\n", v->bytes,
					suffix);
			}
		}
	}
	thermionic_sql_results_free(r, 1);
	return rv;
}

static int dot_tables(struct therm_sql_session *s)
{
	return shell_list(s,
			  "SELECT name FROM sqlite_schema WHERE type IN "
			  "('table', 'view') AND name NOT LIKE 'sqlite\\_%' "
			  "ESCAPE '\\' ORDER BY name",
			  "");
}

static int dot_schema(struct therm_sql_session *s, const char *table)
{
	struct thermionic_value pattern = thermionic_value_text(table);
	char *lit;
	char *sql;
	int rv;

	if (table == NULL) {
		return shell_list(s,
				  "SELECT sql FROM sqlite_schema WHERE sql IS "
				  "NOT NULL ORDER BY rowid",
				  ";");
	}
	lit = therm_sql_literal(&pattern);
	sql = tm_asprintf("SELECT sql FROM sqlite_schema WHERE sql IS NOT "
			  "NULL AND tbl_name LIKE %s ORDER BY rowid",
			  lit);
	rv = shell_list(s, sql, ";");
	tm_free(sql);
	tm_free(lit);
	return rv;
}

/* SELECT * of every table of SCHEMA whose rows are dumped, in as many
 * requests as the statement limit asks; each request is one read
 * transaction. *DATA holds *N results (owned). */
static int dump_fetch(struct therm_sql_session *s,
		      const struct thermionic_sql_result *schema,
		      struct thermionic_sql_result **data, size_t *n)
{
	char **sqls = tm_calloc(schema->n_rows + 1, sizeof *sqls);
	size_t done = 0;
	int rv = THERM_EXIT_OK;

	*n = 0;
	for (size_t i = 0; i < schema->n_rows; i++) {
		if (therm_sql_dump_has_rows(schema, i)) {
			char *ident = therm_sql_ident(
			    thermionic_sql_cell(schema, i, 1)->bytes);
			sqls[(*n)++] = tm_asprintf("SELECT * FROM %s", ident);
			tm_free(ident);
		}
	}
	/* Filled with results moved out of the library's arrays and freed
	 * like them by thermionic_sql_results_free (tm_calloc is calloc). */
	*data = tm_calloc(*n + 1, sizeof **data);
	while (done < *n && rv == THERM_EXIT_OK) {
		struct thermionic_sql_result *part;
		size_t k = *n - done;
		if (k > THERMIONIC_SQL_MAX_STATEMENTS) {
			k = THERMIONIC_SQL_MAX_STATEMENTS;
		}
		rv = therm_sql_query(s, (const char *const *)sqls + done, k,
				     true, &part);
		if (rv == THERM_EXIT_OK) {
			/* Move the results, then free the emptied array. */
			memcpy(*data + done, part, k * sizeof *part);
			memset(part, 0, k * sizeof *part);
			thermionic_sql_results_free(part, k);
			done += k;
		}
	}
	therm_sql_split_free(sqls, *n);
	if (rv != THERM_EXIT_OK) {
		thermionic_sql_results_free(*data, *n);
		*data = NULL;
		*n = 0;
	}
	return rv;
}

static int dot_dump(struct therm_sql_session *s)
{
	static const char *const schema_sql = THERM_SQL_DUMP_SCHEMA_QUERY;
	struct thermionic_sql_result *schema;
	struct thermionic_sql_result *data = NULL;
	size_t n = 0;
	int rv;

	rv = therm_sql_query(s, &schema_sql, 1, false, &schema);
	if (rv != THERM_EXIT_OK) {
		return rv;
	}
	if (schema->error != NULL) {
		rv = therm_fail(s->ctx, "%s", schema->error);
	} else {
		rv = dump_fetch(s, schema, &data, &n);
	}
	if (rv == THERM_EXIT_OK) {
		therm_sql_dump_write(s->ctx->out, target_name(s->target),
				     schema, data);
	}
	thermionic_sql_results_free(data, n);
	thermionic_sql_results_free(schema, 1);
	return rv;
}

static int dot_mode(struct therm_sql_session *s, const char *mode)
{
	if (mode == NULL) {
		fprintf(s->ctx->out, "%s\n", therm_format_name(s->format));
		return THERM_EXIT_OK;
	}
	if (therm_format_parse(mode, &s->format) != 0) {
		return therm_fail(s->ctx,
				  "unknown mode \"%s\" (expected table, csv, "
				  "json or yaml)",
				  mode);
	}
	return THERM_EXIT_OK;
}

/* Split LINE (owned, modified) into up to 3 words. */
static size_t dot_words(char *line, char **words)
{
	size_t n = 0;
	char *p = line;
	while (n < 3) {
		while (isspace((unsigned char)*p)) {
			p++;
		}
		if (*p == '\0') {
			break;
		}
		words[n++] = p;
		while (*p != '\0' && !isspace((unsigned char)*p)) {
			p++;
		}
		if (*p != '\0') {
			*p++ = '\0';
		}
	}
	return n;
}

/* Run the dot-command LINE; *QUIT set by .quit/.exit. */
static int shell_dot(struct therm_sql_session *s, const char *line, bool *quit)
{
	char *copy = tm_strdup(line);
	char *w[3] = {NULL, NULL, NULL};
	size_t n = dot_words(copy, w);
	const char *cmd = w[0];
	int rv = THERM_EXIT_OK;

	if (strcmp(cmd, ".quit") == 0 || strcmp(cmd, ".exit") == 0) {
		*quit = true;
	} else if (strcmp(cmd, ".help") == 0) {
		fputs(shell_help, s->ctx->out);
	} else if (strcmp(cmd, ".tables") == 0 && n == 1) {
		rv = dot_tables(s);
	} else if (strcmp(cmd, ".schema") == 0 && n <= 2) {
		rv = dot_schema(s, w[1]);
	} else if (strcmp(cmd, ".dump") == 0 && n == 1) {
		rv = dot_dump(s);
	} else if (strcmp(cmd, ".mode") == 0 && n <= 2) {
		rv = dot_mode(s, w[1]);
	} else if (strcmp(cmd, ".local") == 0 && n == 1) {
		s->target = THERMIONIC_SQL_LOCAL;
	} else if (strcmp(cmd, ".global") == 0 && n == 1) {
		s->target = THERMIONIC_SQL_GLOBAL;
	} else {
		rv = therm_fail(s->ctx,
				"unknown command or wrong arguments: \"%s\" "
				"(enter .help for the list)",
				line);
	}
	tm_free(copy);
	return rv;
}

static void shell_remember(struct therm_line_source *src, const char *entry)
{
	if (src->remember != NULL) {
		src->remember(src, entry);
	}
}

int therm_sql_shell(struct therm_sql_session *s, struct therm_line_source *src)
{
	struct therm_sql_lines lines;
	bool quit = false;

	therm_sql_lines_init(&lines);
	while (!quit) {
		char *text = NULL;
		char *line = src->read(src, therm_sql_lines_pending(&lines)
						? THERM_SQL_PROMPT_MORE
						: THERM_SQL_PROMPT);
		enum therm_sql_line kind = THERM_SQL_LINE_SQL;
		int rv = THERM_EXIT_OK;

		if (line == NULL) {
			/* End of input: run what is pending, as it is. */
			text = therm_sql_lines_take(&lines);
			quit = true;
		} else {
			kind = therm_sql_lines_feed(&lines, line, &text);
			tm_free(line);
		}
		if (text == NULL) {
			continue;
		}
		shell_remember(src, text);
		if (kind == THERM_SQL_LINE_DOT) {
			rv = shell_dot(s, text, &quit);
		} else {
			rv = therm_sql_run_text(s, text);
		}
		if (rv != THERM_EXIT_OK) {
			shell_report(s);
		}
		fflush(s->ctx->out);
		tm_free(text);
	}
	therm_sql_lines_close(&lines);
	return THERM_EXIT_OK;
}

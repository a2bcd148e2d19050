/* therm sql: statement splitting, rendering of results, .dump, and the
 * interactive shell.
 *
 * Files:
 *   sql_split.c   splitting SQL text into statements (sqlite3_complete),
 *                 and the shell's line assembly. Pure functions.
 *   sql_render.c  results as table, CSV, JSON, YAML. Pure functions.
 *   sql_dump.c    SQL literals and the .dump text. Pure functions.
 *   sql_run.c     one request for a text of statements, printed.
 *   sql_shell.c   the shell loop and its dot-commands, on an abstract
 *                 line source.
 *   sql_edit.c    the libedit line source with its history file.
 *   cmd_sql.c     the "therm sql" command. */
#ifndef THERM_SQL_H
#define THERM_SQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "cmd/therm/cli.h"
#include "pkg/thermionic.h"

/*
 * Splitting (sql_split.c)
 */

/* Split TEXT into its statements, each ending at a ';' after which
 * sqlite3_complete() says the text so far is complete: semicolons inside
 * strings, quoted names, comments and CREATE TRIGGER bodies do not split.
 * Each statement is trimmed of surrounding white space and of its final
 * ';'. Statements that hold only white space and comments are dropped; a
 * last statement without ';' is kept. *STMTS is an owned array of *N owned
 * strings (therm_sql_split_free), NULL when *N is 0. */
void therm_sql_split(const char *text, char ***stmts, size_t *n);
void therm_sql_split_free(char **stmts, size_t n);

/* True if TEXT holds only white space and comments (an unterminated
 * block comment counts as one, as SQLite reads it). */
bool therm_sql_blank(const char *text);

/* SQL on one line for headers: leading comments dropped, each run of
 * white space as one space, cut to MAX characters (bytes, at a UTF-8
 * boundary) with "..." appended when cut. Owned (tm_free). */
char *therm_sql_summary(const char *sql, size_t max);

/* The shell's line assembly. Lines are fed one at a time; the text they
 * build is handed out once sqlite3_complete() says it is complete (it may
 * hold several statements). A line starting with '.' when nothing is
 * pending is a dot-command; lines (and pending text) holding only white
 * space and complete comments are dropped. */
struct therm_sql_lines {
	char *buf; /* owned; NUL-terminated when LEN > 0 */
	size_t len;
	size_t cap;
};

enum therm_sql_line {
	THERM_SQL_LINE_MORE,  /* text pending: prompt for a continuation */
	THERM_SQL_LINE_EMPTY, /* nothing to do */
	THERM_SQL_LINE_SQL,   /* *OUT: complete SQL text */
	THERM_SQL_LINE_DOT,   /* *OUT: a dot-command line, trimmed */
};

void therm_sql_lines_init(struct therm_sql_lines *l);
/* Feed LINE (without its newline; borrowed). For _SQL and _DOT, *OUT is
 * owned by the caller (tm_free); else NULL. */
enum therm_sql_line therm_sql_lines_feed(struct therm_sql_lines *l,
					 const char *line, char **out);
/* Whether text is pending (the continuation prompt applies). */
bool therm_sql_lines_pending(const struct therm_sql_lines *l);
/* At end of input: the pending text (owned), or NULL if none. */
char *therm_sql_lines_take(struct therm_sql_lines *l);
void therm_sql_lines_close(struct therm_sql_lines *l);

/*
 * Rendering (sql_render.c)
 */

/* Text of a REAL with the fewest digits that read back exactly, always
 * showing it is a REAL ("1.0", "2.5e-10"); "Inf", "-Inf", "NaN" for the
 * values JSON cannot carry. BUF: 32 bytes. */
const char *therm_sql_real_text(double r, char *buf);

/* Cell text of V (owned, tm_free): NULL as "NULL" (table) or "" (CSV),
 * integers exact, reals as therm_sql_real_text, TEXT as is, BLOB as
 * x'hex'. */
char *therm_sql_cell(const struct thermionic_value *v, bool csv);

/* The results as the JSON array of doc/sql-api.md (owned): exact raw
 * numbers, BLOBs as {"base64": ...}. */
cJSON *therm_sql_results_json(const struct thermionic_sql_result *results,
			      size_t n);

/* Print N results of the statements SQLS (borrowed, N entries) in FORMAT:
 * - table: rows as aligned columns, "Rows affected: N" (and "Last insert
 *   id: M" when > 0 for INSERT/REPLACE) for statements without rows; with
 *   several statements a line "=> statement I: SQL" before each result
 *   and a blank line between results;
 * - csv: one CSV block (header and rows) per statement with rows, blocks
 *   separated by a blank line; nothing for the others;
 * - json/yaml: the whole results array.
 * Failed statements print nothing on OUT; after everything else, one line
 * "therm: statement I: ERROR" each on ERR. Returns how many failed. */
size_t therm_sql_print(FILE *out, FILE *err, enum therm_format format,
		       char *const *sqls,
		       const struct thermionic_sql_result *results, size_t n);

/*
 * .dump (sql_dump.c)
 */

/* A value as an SQL literal (owned): NULL, integers exact, reals with 17
 * significant digits at most and always as reals ("1.0"; 1e999 and
 * -1e999 for infinities, NULL for NaN), text in single quotes with quotes
 * doubled, BLOBs as X'hex'. */
char *therm_sql_literal(const struct thermionic_value *v);

/* NAME as a quoted identifier: double quotes, inner ones doubled. */
char *therm_sql_ident(const char *name);

/* The query that lists what .dump writes, and its columns. */
#define THERM_SQL_DUMP_SCHEMA_QUERY                                            \
	"SELECT type, name, sql FROM sqlite_schema WHERE sql IS NOT NULL "     \
	"AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid"

/* Whether schema row ROW of SCHEMA is a table whose rows .dump copies
 * (type "table", not a virtual table). */
bool therm_sql_dump_has_rows(const struct thermionic_sql_result *schema,
			     size_t row);

/* Write the dump of a database: SCHEMA is the result of
 * THERM_SQL_DUMP_SCHEMA_QUERY; DATA holds, for each schema row for which
 * therm_sql_dump_has_rows() is true, in order, the result of "SELECT *"
 * on that table. Tables and their rows come first, then indexes,
 * triggers and views, so that the text loads in order. TARGET names the
 * database in the header comment. */
void therm_sql_dump_write(FILE *out, const char *target,
			  const struct thermionic_sql_result *schema,
			  const struct thermionic_sql_result *data);

/*
 * Running statements (sql_run.c)
 */

struct therm_sql_session {
	struct therm_ctx *ctx; /* borrowed */
	enum thermionic_sql_target target;
	bool transaction;
	bool linearizable;
	enum therm_format format;
};

/* Run the statements of TEXT as one request and print their results.
 * Returns THERM_EXIT_OK, THERM_EXIT_USAGE when TEXT holds no statement
 * (nothing sent, ctx->errmsg set), or THERM_EXIT_ERROR: either the request
 * failed as a whole (ctx->errmsg set, nothing printed) or statements failed
 * (their errors printed, and ctx->error_reported set). */
int therm_sql_run_text(struct therm_sql_session *s, const char *text);

/* Run N statements (borrowed) on the session's target, without
 * parameters: 0 with *RESULTS owned (thermionic_sql_results_free, N
 * entries), or THERM_EXIT_ERROR with ctx->errmsg set. */
int therm_sql_query(struct therm_sql_session *s, const char *const *sqls,
		    size_t n, bool transaction,
		    struct thermionic_sql_result **results);

/*
 * The shell (sql_shell.c, sql_edit.c)
 */

/* Where the shell's lines come from. */
struct therm_line_source {
	/* The next line without its newline, owned (tm_free); NULL at the
	 * end of input. PROMPT is borrowed. */
	char *(*read)(struct therm_line_source *src, const char *prompt);
	/* Record ENTRY (borrowed) in the history; may be NULL. */
	void (*remember)(struct therm_line_source *src, const char *entry);
};

#define THERM_SQL_PROMPT "therm> "
#define THERM_SQL_PROMPT_MORE "  ...> "

/* Read lines from SRC until the end of input or .quit, running each
 * complete text and dot-command. Errors are printed and the shell goes
 * on. Returns THERM_EXIT_OK. */
int therm_sql_shell(struct therm_sql_session *s, struct therm_line_source *src);

/* The libedit line source on ctx's streams, with history in
 * therm_config_dir()/sql_history (none if that cannot be found). Release
 * with therm_edit_close. */
struct therm_line_source *therm_edit_open(struct therm_ctx *ctx);
void therm_edit_close(struct therm_line_source *src);

#define THERM_SQL_HISTORY_FILE "sql_history"

/* therm_config_dir()/sql_history, owned; NULL with ERRMSG set if there is
 * no configuration directory. */
char *therm_sql_history_path(char *errmsg);

#endif /* THERM_SQL_H */

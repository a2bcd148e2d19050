/* therm sql [--local] [--transaction] [--linearizable] [SQL | -] */
#include <string.h>
#include <unistd.h>

#include "cmd/therm/sql.h"
#include "internal/lib/mem.h"

/* Read all of IN: owned text, or NULL with ctx->errmsg set. */
static char *sql_read_all(struct therm_ctx *ctx, FILE *in)
{
	size_t cap = 4096;
	size_t len = 0;
	char *text = tm_malloc(cap);

	for (;;) {
		size_t got = fread(text + len, 1, cap - len - 1, in);
		len += got;
		if (got == 0) {
			break;
		}
		if (cap - len - 1 == 0) {
			cap *= 2;
			text = tm_realloc(text, cap);
		}
	}
	text[len] = '\0';
	if (ferror(in)) {
		therm_fail(ctx, "cannot read the SQL from stdin");
	} else if (strlen(text) != len) {
		therm_fail(ctx, "the SQL on stdin holds a NUL byte");
	} else {
		return text;
	}
	tm_free(text);
	return NULL;
}

static int sql_shell_run(struct therm_sql_session *s)
{
	struct therm_line_source *src = therm_edit_open(s->ctx);
	int rv;
	if (src == NULL) {
		return therm_fail(s->ctx, "cannot start line editing");
	}
	fprintf(s->ctx->out,
		"Connected to the %s database. Statements end with ';'; "
		"enter .help for more.\n",
		s->target == THERMIONIC_SQL_LOCAL ? "local" : "global");
	rv = therm_sql_shell(s, src);
	therm_edit_close(src);
	return rv;
}

static int sql_run(struct therm_ctx *ctx, int argc, char **argv)
{
	struct therm_sql_session s = {
	    .ctx = ctx,
	    .target = therm_flag(ctx, "local") ? THERMIONIC_SQL_LOCAL
					       : THERMIONIC_SQL_GLOBAL,
	    .transaction = therm_flag(ctx, "transaction"),
	    .linearizable = therm_flag(ctx, "linearizable"),
	    .format = ctx->format,
	};
	char *text;
	int rv;

	if (s.target == THERMIONIC_SQL_LOCAL && s.linearizable) {
		return therm_usage_fail(ctx, "--linearizable applies to the "
					     "global database, not with "
					     "--local");
	}
	if (argc == 1 && strcmp(argv[0], "-") != 0) {
		return therm_sql_run_text(&s, argv[0]);
	}
	if (argc == 0 && isatty(fileno(ctx->in))) {
		return sql_shell_run(&s);
	}
	text = sql_read_all(ctx, ctx->in);
	if (text == NULL) {
		return THERM_EXIT_ERROR;
	}
	rv = therm_sql_run_text(&s, text);
	tm_free(text);
	return rv;
}

static const struct therm_option sql_options[] = {
    {"local", 0, NULL, "use this member's local database (read-only)"},
    {"transaction", 't', NULL,
     "all or nothing: if one statement fails, no change is kept"},
    {"linearizable", 0, NULL,
     "reads see every acknowledged write (leader confirms)"},
    {NULL, 0, NULL, NULL},
};

const struct therm_command therm_cmd_sql = {
    .name = "sql",
    .summary = "Run SQL against the global or the local database.",
    .args = "[SQL | -]",
    .description =
	"Runs SQL against the cluster's global database, replicated through "
	"raft\n(any member takes reads and writes), or with --local against "
	"this member's\nown database, which is read-only here.\n"
	"\n"
	"SQL may hold several statements separated by ';' (a ';' inside a "
	"string,\na comment or a CREATE TRIGGER body does not separate); they "
	"are sent as\none request, each statement succeeding or failing on its "
	"own unless\n--transaction is given. \"-\" reads the SQL from stdin, "
	"and so does no\nargument when stdin is not a terminal. Put \"--\" "
	"before SQL that starts\nwith '-'. SQL that holds no statement "
	"(empty, only comments or ';') is\nrefused with exit status 2.\n"
	"\n"
	"Output (--format): table prints each statement's rows as aligned "
	"columns,\nNULL as NULL and BLOBs as x'hex', and \"Rows affected: N\" "
	"(with \"Last\ninsert id: N\" after an INSERT) for statements without "
	"rows; with several\nstatements a line \"=> statement N: SQL\" comes "
	"before each result. csv\nprints one CSV block per statement with "
	"rows (blank line between).\njson and yaml print the whole results "
	"array: exact integers, BLOBs as\n{\"base64\": ...}. A statement that "
	"fails prints \"therm: statement N:\nERROR\" on stderr after the "
	"other results, and the exit status is 1.\n"
	"\n"
	"With no argument on a terminal, an interactive shell starts: "
	"statements\nend with ';' and may span lines (prompt \"  ...> \" "
	"until they do), with\nline editing and a history kept in "
	"$XDG_CONFIG_HOME/thermionic/sql_history\n(default "
	"~/.config/thermionic). Dot-commands:\n"
	"  .tables          list the tables and views\n"
	"  .schema [TABLE]  show CREATE statements (TABLE: a LIKE pattern)\n"
	"  .dump            print the database as SQL; load it back with\n"
	"                   therm sql --transaction - < FILE\n"
	"  .mode MODE       output format: table, csv, json or yaml\n"
	"  .local, .global  switch database\n"
	"  .help            list the dot-commands\n"
	"  .quit, .exit     leave the shell (so does Ctrl-D)",
    .options = sql_options,
    .min_args = 0,
    .max_args = 1,
    .formats = THERM_FORMATS_LIST,
    .run = sql_run,
};

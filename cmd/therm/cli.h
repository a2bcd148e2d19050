/* therm's command framework: the command tree, argument parsing, help,
 * and the context a command runs in.
 *
 * Commands form a tree of struct therm_command: groups have CHILDREN and
 * no RUN; leaves have RUN. A new group (sql, backup, cluster, ...) drops in
 * by defining one `const struct therm_command therm_cmd_<group>` in its own
 * file and adding it to therm_root_children in commands.c.
 *
 * Command line grammar:
 *   therm [GLOBAL-OPTIONS] WORD... [OPTIONS] [ARGS]
 * Global options (--address, --format, --fingerprint, --help, --version)
 * are accepted anywhere; a command's own options after its name. "--"
 * ends the options; a lone "-" is an argument (stdin). Long options take
 * their value as "--name=value" or "--name value".
 *
 * Exit codes: 0 success, 1 failure (message "therm: ..." on stderr),
 * 2 usage error (unknown command or option, missing arguments, a group
 * without a subcommand). */
#ifndef THERM_CLI_H
#define THERM_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cmd/therm/output.h"
#include "cmd/therm/remote.h"
#include "pkg/thermionic.h"

#define THERM_EXIT_OK 0
#define THERM_EXIT_ERROR 1
#define THERM_EXIT_USAGE 2

#define THERM_MAX_OPTIONS 8 /* per command */
#define THERM_MAX_DEPTH 4   /* therm group subgroup command */
#define THERM_ERRMSG_SIZE 1024

struct therm_option {
	const char *name;	/* long name, without "--" */
	char short_name;	/* single letter, or 0 */
	const char *value_name; /* e.g. "SECONDS"; NULL for a flag */
	const char *help;
};

struct therm_ctx;

struct therm_command {
	const char *name;
	const char *summary;	 /* one line, for the parent's list */
	const char *args;	 /* argument synopsis, e.g. "KEY VALUE..." */
	const char *description; /* longer help text, may be NULL */
	/* Options, terminated by an entry with a NULL name; may be NULL. At
	 * most THERM_MAX_OPTIONS. */
	const struct therm_option *options;
	int min_args;
	int max_args;	  /* -1: no limit */
	unsigned formats; /* accepted enum therm_format values (a mask) */
	int (*run)(struct therm_ctx *ctx, int argc, char **argv);
	/* Subcommands, NULL-terminated; NULL for a leaf. */
	const struct therm_command *const *children;
};

/* Options every command accepts (parse.c), NULL-name terminated. */
extern const struct therm_option therm_global_options[];

/* The root of the tree (commands.c). */
extern const struct therm_command therm_root;

/* The parsed command line. */
struct therm_invocation {
	const struct therm_command *chain[THERM_MAX_DEPTH]; /* root first */
	size_t depth;
	const struct therm_command *cmd; /* == chain[depth - 1] */
	bool help;
	bool version;
	const char *address;	 /* borrowed from argv; NULL if not given */
	const char *format;	 /* ditto */
	const char *fingerprint; /* ditto */
	const char *values[THERM_MAX_OPTIONS]; /* by index in cmd->options */
	bool present[THERM_MAX_OPTIONS];
	int argc;    /* positional arguments */
	char **argv; /* owned array of borrowed strings */
};

/* Parse ARGV (ARGV[0] is the program name) against ROOT. On a usage error
 * returns TM_INVALID with ERRMSG (THERM_ERRMSG_SIZE bytes) set; INV is then
 * still filled as far as parsing went (chain/depth name the command for a
 * "--help" hint). Release INV with therm_invocation_close either way. */
int therm_parse(const struct therm_command *root, int argc, char **argv,
		struct therm_invocation *inv, char *errmsg);
void therm_invocation_close(struct therm_invocation *inv);

/* "therm config set" for the parsed chain. Owned (tm_free). */
char *therm_command_path(const struct therm_invocation *inv);

/* Print help for INV's command to OUT. */
void therm_help(FILE *out, const struct therm_invocation *inv);

/* Run the program: parse, dispatch, print errors. OUT and ERR are
 * borrowed; input is stdin. Returns the exit code. */
int therm_run(int argc, char **argv, FILE *out, FILE *err);
/* The same with IN (borrowed) as the program's input. */
int therm_run_io(int argc, char **argv, FILE *in, FILE *out, FILE *err);

/* What a command sees. */
struct therm_ctx {
	FILE *in;
	FILE *out;
	FILE *err;
	enum therm_format format;
	bool format_given; /* --format was on the command line */
	const struct therm_invocation *inv;
	const char *address;	 /* NULL: local unix socket */
	const char *fingerprint; /* --fingerprint, normalised; or NULL */
	char fingerprint_buf[THERMIONIC_FINGERPRINT_LEN + 1];
	struct thermionic_client *client; /* owned; created on demand */
	struct therm_remote remote;	  /* HTTPS bookkeeping */
	char errmsg[THERM_ERRMSG_SIZE];
	/* A command that failed has printed its errors itself (on ERR):
	 * therm_run adds nothing. */
	bool error_reported;
};

/* Value of the command option NAME, or NULL if absent. */
const char *therm_opt(const struct therm_ctx *ctx, const char *name);
/* Whether the command flag NAME was given. */
bool therm_flag(const struct therm_ctx *ctx, const char *name);

/* Set ctx->errmsg and return THERM_EXIT_ERROR (or _USAGE). */
int therm_fail(struct therm_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int therm_usage_fail(struct therm_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The connection to the daemon, created on first use: the unix socket of
 * $THERMIONIC_DIR (default /var/lib/thermionic) or of "--address
 * unix:PATH", else HTTPS to --address with the user's client certificate
 * and the pinned server fingerprint (remote.h). Borrowed: owned by CTX.
 * Returns 0 or THERM_EXIT_ERROR with ctx->errmsg set. */
int therm_client(struct therm_ctx *ctx, struct thermionic_client **out);

/* Turn the failure RV of a library call on ctx->client into ctx->errmsg
 * (adding how to re-pin on a fingerprint mismatch); returns
 * THERM_EXIT_ERROR. */
int therm_client_fail(struct therm_ctx *ctx, int rv);

/* A list command: FETCH the list from the daemon and print it with
 * COLUMNS (N_COLUMNS of them) in ctx's format. Returns the exit code. */
int therm_run_list(struct therm_ctx *ctx,
		   int (*fetch)(struct thermionic_client *client, cJSON **out),
		   const struct therm_column *columns, size_t n_columns);

/* Parse a "--timeout SECONDS" value (non-negative, fractions allowed, at
 * most a day) into milliseconds. TM_INVALID if malformed. */
int therm_parse_seconds(const char *text, unsigned *ms);

/* Command groups, one file each. */
extern const struct therm_command therm_cmd_version;
extern const struct therm_command therm_cmd_info;
extern const struct therm_command therm_cmd_config;
extern const struct therm_command therm_cmd_trust;
extern const struct therm_command therm_cmd_daemon;
extern const struct therm_command therm_cmd_sql;
extern const struct therm_command therm_cmd_backup;
extern const struct therm_command therm_cmd_restore;
extern const struct therm_command therm_cmd_cluster;
extern const struct therm_command therm_cmd_init;
extern const struct therm_command therm_cmd_monitor;

#endif /* THERM_CLI_H */

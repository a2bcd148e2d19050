/* Command line parsing against the command tree (grammar in cli.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cmd/therm/cli.h"
#include "internal/lib/err.h"
#include "internal/lib/mem.h"

enum global_option {
	GLOBAL_ADDRESS,
	GLOBAL_FORMAT,
	GLOBAL_FINGERPRINT,
	GLOBAL_HELP,
	GLOBAL_VERSION,
};

/* Shared with help.c through therm_global_options. */
const struct therm_option therm_global_options[] = {
    [GLOBAL_ADDRESS] = {"address", 0, "HOST:PORT",
			"HTTPS daemon(s), comma separated, or unix:PATH; "
			"default: the local socket"},
    [GLOBAL_FORMAT] = {"format", 0, "FORMAT",
		       "output format: table, json, yaml, csv or pretty "
		       "(which a command takes: see its help)"},
    [GLOBAL_FINGERPRINT] = {"fingerprint", 0, "FP",
			    "pin this server certificate fingerprint"},
    [GLOBAL_HELP] = {"help", 'h', NULL, "show help"},
    [GLOBAL_VERSION] = {"version", 0, NULL, "show the client version"},
    {NULL, 0, NULL, NULL},
};

static int parse_fail(char *errmsg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int parse_fail(char *errmsg, const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	vsnprintf(errmsg, THERM_ERRMSG_SIZE, fmt, args);
	va_end(args);
	return TM_INVALID;
}

/* Index of the option named by ARG ("--name", "--name=v" or "-x") in
 * OPTIONS, or -1. */
static int find_option(const struct therm_option *options, const char *arg)
{
	if (options == NULL) {
		return -1;
	}
	for (int i = 0; options[i].name != NULL; i++) {
		const struct therm_option *o = &options[i];
		if (arg[1] == '-') {
			size_t len = strcspn(arg + 2, "=");
			if (strlen(o->name) == len &&
			    strncmp(arg + 2, o->name, len) == 0) {
				return i;
			}
		} else if (o->short_name != 0 && arg[1] == o->short_name &&
			   arg[2] == '\0') {
			return i;
		}
	}
	return -1;
}

static void store_global(struct therm_invocation *inv, int index,
			 const char *value)
{
	switch (index) {
	case GLOBAL_ADDRESS:
		inv->address = value;
		break;
	case GLOBAL_FORMAT:
		inv->format = value;
		break;
	case GLOBAL_FINGERPRINT:
		inv->fingerprint = value;
		break;
	case GLOBAL_HELP:
		inv->help = true;
		break;
	case GLOBAL_VERSION:
		inv->version = true;
		break;
	default:
		break;
	}
}

/* Parse the option at ARGV[*I], consuming its value if it takes one. */
static int parse_option(struct therm_invocation *inv, int argc, char **argv,
			int *i, char *errmsg)
{
	const char *arg = argv[*i];
	const struct therm_option *o;
	const char *value = NULL;
	const char *eq = arg[1] == '-' ? strchr(arg, '=') : NULL;
	bool global = false;
	int index;

	index = inv->cmd->children == NULL ? find_option(inv->cmd->options, arg)
					   : -1;
	if (index < 0) {
		index = find_option(therm_global_options, arg);
		global = true;
	}
	if (index < 0) {
		char *path = therm_command_path(inv);
		parse_fail(errmsg, "unknown option \"%s\" for \"%s\"", arg,
			   path);
		tm_free(path);
		return TM_INVALID;
	}
	o = global ? &therm_global_options[index] : &inv->cmd->options[index];
	if (o->value_name == NULL && eq != NULL) {
		return parse_fail(errmsg, "option --%s takes no value",
				  o->name);
	}
	if (o->value_name != NULL) {
		if (eq != NULL) {
			value = eq + 1;
		} else if (*i + 1 < argc) {
			value = argv[++*i];
		} else {
			return parse_fail(errmsg,
					  "option --%s needs a value "
					  "(%s)",
					  o->name, o->value_name);
		}
	}
	if (global) {
		store_global(inv, index, value);
	} else {
		inv->values[index] = value;
		inv->present[index] = true;
	}
	return 0;
}

static int parse_word(struct therm_invocation *inv, const char *word,
		      char *errmsg)
{
	const struct therm_command *const *child;

	if (inv->cmd->children == NULL) {
		inv->argv[inv->argc++] = (char *)word;
		return 0;
	}
	for (child = inv->cmd->children; *child != NULL; child++) {
		if (strcmp((*child)->name, word) == 0) {
			break;
		}
	}
	if (*child == NULL || inv->depth == THERM_MAX_DEPTH) {
		char *path = therm_command_path(inv);
		parse_fail(errmsg, "unknown command \"%s\" for \"%s\"", word,
			   path);
		tm_free(path);
		return TM_INVALID;
	}
	inv->chain[inv->depth++] = *child;
	inv->cmd = *child;
	memset(inv->values, 0, sizeof inv->values);
	memset(inv->present, 0, sizeof inv->present);
	return 0;
}

int therm_parse(const struct therm_command *root, int argc, char **argv,
		struct therm_invocation *inv, char *errmsg)
{
	bool options_done = false;

	memset(inv, 0, sizeof *inv);
	inv->chain[0] = root;
	inv->depth = 1;
	inv->cmd = root;
	inv->argv = tm_calloc((size_t)(argc > 0 ? argc : 1), sizeof(char *));
	errmsg[0] = '\0';
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		int rv;
		if (!options_done && strcmp(arg, "--") == 0) {
			options_done = true;
			continue;
		}
		if (!options_done && arg[0] == '-' && arg[1] != '\0') {
			rv = parse_option(inv, argc, argv, &i, errmsg);
		} else {
			rv = parse_word(inv, arg, errmsg);
		}
		if (rv != 0) {
			return rv;
		}
	}
	return 0;
}

void therm_invocation_close(struct therm_invocation *inv)
{
	tm_free(inv->argv);
	inv->argv = NULL;
	inv->argc = 0;
}

char *therm_command_path(const struct therm_invocation *inv)
{
	size_t len = 1;
	char *path;
	for (size_t i = 0; i < inv->depth; i++) {
		len += strlen(inv->chain[i]->name) + 1;
	}
	path = tm_calloc(1, len);
	for (size_t i = 0; i < inv->depth; i++) {
		if (i > 0) {
			strcat(path, " ");
		}
		strcat(path, inv->chain[i]->name);
	}
	return path;
}

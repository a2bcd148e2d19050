/* Help text, generated from the command tree. */
#include <string.h>

#include "cmd/therm/cli.h"
#include "internal/lib/mem.h"

/* The --format line for CMD: the formats a command prints; for a group,
 * that it depends on the command. */
static const char *format_help(const struct therm_command *cmd, char *buf,
			       size_t size)
{
	char formats[64];
	if (cmd->children != NULL) {
		return "output format: table|json|yaml|csv, see COMMAND --help";
	}
	therm_formats_text(cmd->formats, formats, sizeof formats);
	snprintf(buf, size, "output format: %s", formats);
	return buf;
}

/* CMD: the command whose help this is, to describe --format; NULL for the
 * command's own options. */
static void help_options(FILE *out, const char *title,
			 const struct therm_option *options, bool skip_version,
			 const struct therm_command *cmd)
{
	char format[160];
	size_t width = 0;
	char buf[96];

	if (options == NULL || options[0].name == NULL) {
		return;
	}
	for (const struct therm_option *o = options; o->name != NULL; o++) {
		snprintf(buf, sizeof buf, "%s--%s%s%s",
			 o->short_name != 0 ? "-x, " : "", o->name,
			 o->value_name != NULL ? " " : "",
			 o->value_name != NULL ? o->value_name : "");
		if (strlen(buf) > width) {
			width = strlen(buf);
		}
	}
	fprintf(out, "\n%s:\n", title);
	for (const struct therm_option *o = options; o->name != NULL; o++) {
		if (skip_version && strcmp(o->name, "version") == 0) {
			continue;
		}
		if (o->short_name != 0) {
			snprintf(buf, sizeof buf, "-%c, --%s%s%s",
				 o->short_name, o->name,
				 o->value_name != NULL ? " " : "",
				 o->value_name != NULL ? o->value_name : "");
		} else {
			snprintf(buf, sizeof buf, "--%s%s%s", o->name,
				 o->value_name != NULL ? " " : "",
				 o->value_name != NULL ? o->value_name : "");
		}
		fprintf(out, "  %-*s  %s\n", (int)width, buf,
			cmd != NULL && strcmp(o->name, "format") == 0
			    ? format_help(cmd, format, sizeof format)
			    : o->help);
	}
}

static void help_children(FILE *out, const struct therm_command *cmd)
{
	size_t width = 0;
	const struct therm_command *const *child;

	for (child = cmd->children; *child != NULL; child++) {
		if (strlen((*child)->name) > width) {
			width = strlen((*child)->name);
		}
	}
	fprintf(out, "\nCommands:\n");
	for (child = cmd->children; *child != NULL; child++) {
		fprintf(out, "  %-*s  %s\n", (int)width, (*child)->name,
			(*child)->summary);
	}
}

void therm_help(FILE *out, const struct therm_invocation *inv)
{
	const struct therm_command *cmd = inv->cmd;
	char *path = therm_command_path(inv);
	bool group = cmd->children != NULL;

	if (group) {
		fprintf(out, "Usage: %s COMMAND [options]\n", path);
	} else if (cmd->args != NULL && cmd->args[0] != '\0') {
		fprintf(out, "Usage: %s [options] %s\n", path, cmd->args);
	} else {
		fprintf(out, "Usage: %s [options]\n", path);
	}
	fprintf(out, "\n%s\n", cmd->summary);
	if (cmd->description != NULL) {
		fprintf(out, "\n%s\n", cmd->description);
	}
	if (group) {
		help_children(out, cmd);
	}
	help_options(out, "Options", cmd->options, false, NULL);
	help_options(out, "Global options", therm_global_options,
		     inv->depth > 1, cmd);
	if (group) {
		fprintf(out,
			"\nRun '%s COMMAND --help' for more about a "
			"command.\n",
			path);
	}
	tm_free(path);
}

/* Matching the values of a request to the parameters of a statement, before
 * they are bound (gdb_stmt_bind).
 *
 * SQLite numbers parameters from 1, and sqlite3_bind_parameter_count() is
 * the largest number, not how often parameters appear: ":a" used twice is
 * one parameter, number 1, and takes one value; "?3" alone makes three
 * (1 and 2 unused). sqlite3_bind_parameter_name() is the name of each
 * number, NULL for an anonymous "?" (and for an unused number).
 *
 * Positional values bind to numbers 1..n in order, so their count must be
 * the largest number. Named values bind by name: each name given must be a
 * parameter of the statement, given once, and every parameter must have a
 * name (an anonymous "?" or a "?NNN" cannot be given by name) and a
 * value. */
#include <stdio.h>
#include <string.h>

#include "internal/db/cluster/gdb_private.h"

/* "?1, :a, @b" for parameters 1..COUNT of ST, cut short to fit. */
static void list_names(sqlite3_stmt *st, int count, char *out, size_t size)
{
	size_t used = 0;
	out[0] = '\0';
	for (int i = 1; i <= count && used + 1 < size; i++) {
		const char *name = sqlite3_bind_parameter_name(st, i);
		char anon[16];
		if (name == NULL) {
			snprintf(anon, sizeof anon, "?%d", i);
			name = anon;
		}
		int n = snprintf(out + used, size - used, "%s%s",
				 i > 1 ? ", " : "", name);
		if (n < 0 || (size_t)n >= size - used) {
			snprintf(out + (size > 4 ? size - 4 : 0), 4, "...");
			return;
		}
		used += (size_t)n;
	}
}

static bool has_named(sqlite3_stmt *st, int count)
{
	for (int i = 1; i <= count; i++) {
		const char *name = sqlite3_bind_parameter_name(st, i);
		if (name != NULL && name[0] != '?') {
			return true;
		}
	}
	return false;
}

static int check_positional(sqlite3_stmt *st, const struct gdb_stmt *stmt,
			    struct gdb_result *res)
{
	int count = sqlite3_bind_parameter_count(st);
	char names[200];
	if ((size_t)count == stmt->n_params) {
		return 0;
	}
	if (count == 0) {
		gdb_result_fail(res, TM_INVALID,
				"statement has no parameters, %zu given",
				stmt->n_params);
		return res->status;
	}
	list_names(st, count, names, sizeof names);
	gdb_result_fail(res, TM_INVALID,
			"statement has %d parameter%s (%s), "
			"%zu given%s",
			count, count == 1 ? "" : "s", names, stmt->n_params,
			has_named(st, count) && stmt->n_params > (size_t)count
			    ? ": a named parameter takes one value, however "
			      "often it appears"
			    : "");
	return res->status;
}

static bool given(const struct gdb_stmt *stmt, const char *name)
{
	for (size_t i = 0; i < stmt->n_params; i++) {
		if (stmt->names[i] != NULL &&
		    strcmp(stmt->names[i], name) == 0) {
			return true;
		}
	}
	return false;
}

static int check_named(sqlite3_stmt *st, const struct gdb_stmt *stmt,
		       struct gdb_result *res)
{
	for (size_t i = 0; i < stmt->n_params; i++) {
		const char *name = stmt->names[i];
		if (name == NULL ||
		    sqlite3_bind_parameter_index(st, name) == 0) {
			gdb_result_fail(res, TM_INVALID,
					"statement has no parameter named "
					"\"%s\"",
					name != NULL ? name : "(null)");
			return res->status;
		}
		for (size_t j = 0; j < i; j++) {
			if (strcmp(stmt->names[j], name) == 0) {
				gdb_result_fail(res, TM_INVALID,
						"parameter \"%s\" is given "
						"twice",
						name);
				return res->status;
			}
		}
	}
	int count = sqlite3_bind_parameter_count(st);
	for (int i = 1; i <= count; i++) {
		const char *name = sqlite3_bind_parameter_name(st, i);
		if (name == NULL || name[0] == '?') {
			gdb_result_fail(res, TM_INVALID,
					"parameter %d of the statement (%s) "
					"has no name: give the values as an "
					"array (positional), or name every "
					"parameter",
					i, name != NULL ? name : "?");
			return res->status;
		}
		if (!given(stmt, name)) {
			gdb_result_fail(res, TM_INVALID,
					"parameter \"%s\" is not given", name);
			return res->status;
		}
	}
	return 0;
}

int gdb_params_check(sqlite3_stmt *st, const struct gdb_stmt *stmt,
		     struct gdb_result *res)
{
	return stmt->names == NULL ? check_positional(st, stmt, res)
				   : check_named(st, stmt, res);
}

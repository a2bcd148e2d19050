/* The authorizer installed while a user statement is prepared and run.
 *
 * It classifies the statement (a schema statement travels as SQL text, a
 * data statement as a changeset) and refuses what cannot be replicated or
 * would break the module's own transaction handling. SQLite calls it at
 * prepare time and again at step time for nested work (a virtual table's
 * shadow tables, table-valued pragma functions), so refusals may surface from
 * either; the message kept here replaces SQLite's "not authorized". */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "internal/db/cluster/gdb_private.h"
#include "internal/lib/mem.h"

void gdb_names_add(struct gdb_names *names, const char *name)
{
	if (name == NULL || gdb_names_has(names, name)) {
		return;
	}
	names->v = tm_realloc(names->v, (names->n + 1) * sizeof *names->v);
	names->v[names->n++] = tm_strdup(name);
}

bool gdb_names_has(const struct gdb_names *names, const char *name)
{
	for (size_t i = 0; i < names->n; i++) {
		if (strcasecmp(names->v[i], name) == 0) {
			return true;
		}
	}
	return false;
}

void gdb_names_clear(struct gdb_names *names)
{
	for (size_t i = 0; i < names->n; i++) {
		tm_free(names->v[i]);
	}
	tm_free(names->v);
	names->v = NULL;
	names->n = 0;
}

/* PRAGMAs that take an argument only to name what they report on. */
static const char *const pragma_queries[] = {
    "table_info",
    "table_xinfo",
    "table_list",
    "index_info",
    "index_xinfo",
    "index_list",
    "foreign_key_list",
    "foreign_key_check",
    "integrity_check",
    "quick_check",
    NULL,
};

/* PRAGMAs that act even without an argument. */
static const char *const pragma_actions[] = {
    "optimize", "shrink_memory", "wal_checkpoint", "incremental_vacuum", NULL,
};

static bool listed(const char *const *list, const char *name)
{
	for (size_t i = 0; list[i] != NULL; i++) {
		if (strcasecmp(list[i], name) == 0) {
			return true;
		}
	}
	return false;
}

static int deny(struct gdb_auth *auth, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int deny(struct gdb_auth *auth, const char *fmt, ...)
{
	if (!auth->denied) {
		va_list args;
		va_start(args, fmt);
		vsnprintf(auth->message, sizeof auth->message, fmt, args);
		va_end(args);
		auth->denied = true;
	}
	return SQLITE_DENY;
}

static int check_pragma(struct gdb_auth *auth, const char *name,
			const char *arg)
{
	if (name == NULL) {
		return SQLITE_OK;
	}
	if (arg == NULL ? !listed(pragma_actions, name)
			: listed(pragma_queries, name)) {
		return SQLITE_OK;
	}
	return deny(auth,
		    "PRAGMA %s is refused: it would change settings or data "
		    "outside of replicated rows",
		    name);
}

/* Virtual table modules whose content replicates exactly: their data lives
 * in shadow tables, which sessions record like any table; or, for the
 * read-only views over them (fts4aux, fts5vocab, fts3tokenize), is
 * computed from replicated data alone. */
static const char *const vtab_modules[] = {
    "fts3",    "fts4",	  "fts5",      "rtree",	       "rtree_i32",
    "geopoly", "fts4aux", "fts5vocab", "fts3tokenize", NULL,
};

/* Modules known to show what differs between members. */
static const char *const vtab_local[][2] = {
    {"dbstat", "describes each member's own database file"},
    {"sqlite_dbpage", "reads each member's own database pages"},
    {"sqlite_stmt", "lists each member's own prepared statements"},
    {NULL, NULL},
};

static int check_vtab(struct gdb_auth *auth, const char *table,
		      const char *module)
{
	if (module != NULL && listed(vtab_modules, module)) {
		return SQLITE_OK;
	}
	for (size_t i = 0; module != NULL && vtab_local[i][0] != NULL; i++) {
		if (strcasecmp(module, vtab_local[i][0]) == 0) {
			return deny(auth,
				    "CREATE VIRTUAL TABLE %s USING %s is "
				    "refused: %s, so its content would differ "
				    "from member to member (query %s directly "
				    "instead: SELECT * FROM %s)",
				    table != NULL ? table : "?", module,
				    vtab_local[i][1], module, module);
		}
	}
	return deny(auth,
		    "CREATE VIRTUAL TABLE %s USING %s is refused: only "
		    "virtual tables known to replicate exactly through their "
		    "shadow tables may be created (fts3, fts4, fts5, rtree, "
		    "geopoly, and fts4aux, fts5vocab, fts3tokenize over "
		    "them)",
		    table != NULL ? table : "?", module != NULL ? module : "?");
}

static bool is_internal_table(const char *name)
{
	return name != NULL && (strcasecmp(name, "sqlite_sequence") == 0 ||
				strncasecmp(name, "sqlite_stat", 11) == 0);
}

/* Schema statements: record the statement kind and the names involved. */
static void note_schema(struct gdb_auth *auth, int action, const char *a1,
			const char *a2)
{
	auth->schema = true;
	switch (action) {
	case SQLITE_CREATE_TABLE:
		gdb_names_add(&auth->targets, a1);
		if (a1 != NULL && strncasecmp(a1, "sqlite_", 7) != 0) {
			/* not sqlite_sequence, created by AUTOINCREMENT */
			gdb_names_add(&auth->checks, a1);
		}
		break;
	case SQLITE_ALTER_TABLE:
		gdb_names_add(&auth->targets, a2);
		gdb_names_add(&auth->checks, a2);
		gdb_names_add(&auth->altered, a2);
		break;
	case SQLITE_CREATE_INDEX:
	case SQLITE_DROP_INDEX:
	case SQLITE_CREATE_TRIGGER:
	case SQLITE_DROP_TRIGGER:
		gdb_names_add(&auth->targets, a2);
		break;
	case SQLITE_CREATE_VIEW:
	case SQLITE_DROP_VIEW:
	case SQLITE_DROP_TABLE:
	case SQLITE_CREATE_VTABLE:
	case SQLITE_DROP_VTABLE:
		gdb_names_add(&auth->targets, a1);
		break;
	default: /* REINDEX, ANALYZE */
		break;
	}
}

static int authorize(void *arg, int action, const char *a1, const char *a2,
		     const char *db, const char *trigger)
{
	struct gdb_conn *c = arg;
	struct gdb_auth *auth = c->auth;
	(void)db;
	(void)trigger;
	if (auth == NULL) {
		return SQLITE_OK;
	}
	switch (action) {
	case SQLITE_CREATE_TABLE:
	case SQLITE_CREATE_INDEX:
	case SQLITE_CREATE_TRIGGER:
	case SQLITE_CREATE_VIEW:
	case SQLITE_DROP_TABLE:
	case SQLITE_DROP_INDEX:
	case SQLITE_DROP_TRIGGER:
	case SQLITE_DROP_VIEW:
	case SQLITE_DROP_VTABLE:
	case SQLITE_ALTER_TABLE:
	case SQLITE_REINDEX:
	case SQLITE_ANALYZE:
		note_schema(auth, action, a1, a2);
		return SQLITE_OK;
	case SQLITE_CREATE_VTABLE:
		note_schema(auth, action, a1, a2);
		return check_vtab(auth, a1, a2);
	case SQLITE_CREATE_TEMP_TABLE:
	case SQLITE_CREATE_TEMP_INDEX:
	case SQLITE_CREATE_TEMP_TRIGGER:
	case SQLITE_CREATE_TEMP_VIEW:
	case SQLITE_DROP_TEMP_TABLE:
	case SQLITE_DROP_TEMP_INDEX:
	case SQLITE_DROP_TEMP_TRIGGER:
	case SQLITE_DROP_TEMP_VIEW:
		return deny(auth,
			    "temporary objects are refused: they would exist "
			    "on one member's connection only");
	case SQLITE_ATTACH:
	case SQLITE_DETACH:
		return deny(auth,
			    "ATTACH, DETACH and VACUUM INTO are refused: only "
			    "the global database is replicated");
	case SQLITE_TRANSACTION:
	case SQLITE_SAVEPOINT:
		return deny(auth,
			    "transaction statements (%s) are refused: set the "
			    "request's transaction flag instead",
			    a1 != NULL ? a1 : "SAVEPOINT");
	case SQLITE_PRAGMA:
		return check_pragma(auth, a1, a2);
	case SQLITE_FUNCTION:
		if (a2 != NULL && strcasecmp(a2, "load_extension") == 0) {
			return deny(
			    auth, "load_extension() is refused: it would load "
				  "code into one member's process; extensions "
				  "cannot be loaded through SQL");
		}
		return SQLITE_OK;
	case SQLITE_INSERT:
	case SQLITE_UPDATE:
	case SQLITE_DELETE:
		if (!auth->schema && is_internal_table(a1)) {
			return deny(auth,
				    "writing to %s directly is refused: "
				    "SQLite maintains it",
				    a1);
		}
		/* "DELETE FROM t" without WHERE would use the truncate
		 * optimization, which the session extension does not see:
		 * the changeset would be empty and the delete silently
		 * lost. SQLITE_IGNORE on a DELETE disables the optimization;
		 * rows are deleted (and recorded) one by one. */
		if (action == SQLITE_DELETE && !auth->schema && a1 != NULL &&
		    strncasecmp(a1, "sqlite_", 7) != 0) {
			return SQLITE_IGNORE;
		}
		return SQLITE_OK;
	default:
		return SQLITE_OK;
	}
}

bool gdb_auth_refuse_vacuum(struct gdb_auth *auth, const char *sql)
{
	static const char word[] = "VACUUM";
	size_t n = sizeof word - 1;
	if (strncasecmp(sql, word, n) != 0 || isalnum((unsigned char)sql[n]) ||
	    sql[n] == '_' || (unsigned char)sql[n] >= 0x80) {
		return false;
	}
	deny(auth, "VACUUM and VACUUM INTO are refused: each member's "
		   "database file is its own, rebuilt from the raft log, and "
		   "VACUUM INTO would write a file on one member only; to copy "
		   "the global database use GET /1.0/sql/backup (therm "
		   "backup)");
	return true;
}

void gdb_auth_install(struct gdb_conn *c)
{
	c->auth = NULL;
	sqlite3_set_authorizer(c->db, authorize, c);
}

void gdb_auth_begin(struct gdb_conn *c, struct gdb_auth *auth,
		    enum gdb_exec_mode mode)
{
	memset(auth, 0, sizeof *auth);
	auth->mode = mode;
	c->auth = auth;
}

void gdb_auth_stop(struct gdb_conn *c) { c->auth = NULL; }

void gdb_auth_resume(struct gdb_conn *c, struct gdb_auth *auth)
{
	c->auth = auth;
}

void gdb_auth_end(struct gdb_conn *c, struct gdb_auth *auth)
{
	c->auth = NULL;
	gdb_names_clear(&auth->targets);
	gdb_names_clear(&auth->checks);
	gdb_names_clear(&auth->altered);
}

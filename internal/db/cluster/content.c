/* A hash of the database's content: see content.h. */
#include "internal/db/cluster/content.h"

#include <string.h>

#include <openssl/evp.h>

#include "internal/lib/assert.h"
#include "internal/lib/err.h"
#include "internal/lib/mem.h"

#define STOP_EVERY 1024 /* rows between two looks at STOP */

enum tag {
	TAG_SCHEMA = 's',
	TAG_TABLE = 't',
	TAG_ROW = 'r',
	TAG_INTEGER = 1,
	TAG_REAL = 2,
	TAG_TEXT = 3,
	TAG_BLOB = 4,
	TAG_NULL = 5,
};

struct content {
	sqlite3 *db;
	EVP_MD_CTX *md;
	const atomic_bool *stop;
	char *errmsg;
};

static void add(struct content *c, const void *data, size_t len)
{
	INVARIANT(EVP_DigestUpdate(c->md, data, len));
}

static void add_u8(struct content *c, uint8_t v) { add(c, &v, 1); }

static void add_u64(struct content *c, uint64_t v)
{
	uint8_t le[8];
	for (int i = 0; i < 8; i++) {
		le[i] = (uint8_t)(v >> (8 * i));
	}
	add(c, le, sizeof le);
}

static void add_bytes(struct content *c, const void *data, size_t len)
{
	uint8_t le[4];
	for (int i = 0; i < 4; i++) {
		le[i] = (uint8_t)((uint32_t)len >> (8 * i));
	}
	add(c, le, sizeof le);
	add(c, data, len);
}

static void add_value(struct content *c, sqlite3_stmt *st, int col)
{
	switch (sqlite3_column_type(st, col)) {
	case SQLITE_INTEGER:
		add_u8(c, TAG_INTEGER);
		add_u64(c, (uint64_t)sqlite3_column_int64(st, col));
		break;
	case SQLITE_FLOAT: {
		double d = sqlite3_column_double(st, col);
		uint64_t bits;
		memcpy(&bits, &d, sizeof bits);
		add_u8(c, TAG_REAL);
		add_u64(c, bits);
		break;
	}
	case SQLITE_TEXT: {
		const unsigned char *text = sqlite3_column_text(st, col);
		add_u8(c, TAG_TEXT);
		add_bytes(c, text, (size_t)sqlite3_column_bytes(st, col));
		break;
	}
	case SQLITE_BLOB: {
		const void *blob = sqlite3_column_blob(st, col);
		add_u8(c, TAG_BLOB);
		add_bytes(c, blob, (size_t)sqlite3_column_bytes(st, col));
		break;
	}
	default:
		add_u8(c, TAG_NULL);
	}
}

static int fail(struct content *c, const char *what)
{
	tm_errmsg_printf(c->errmsg, "%s: %s", what, sqlite3_errmsg(c->db));
	return TM_DB;
}

/* Every row of SQL's result, each value typed, ROW_TAG before each row. */
static int add_rows(struct content *c, const char *sql, int row_tag,
		    const char *what)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) {
		return fail(c, what);
	}
	int n = sqlite3_column_count(st);
	int rc;
	uint64_t rows = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		add_u8(c, (uint8_t)row_tag);
		for (int i = 0; i < n; i++) {
			add_value(c, st, i);
		}
		if (++rows % STOP_EVERY == 0 && c->stop != NULL &&
		    atomic_load(c->stop)) {
			sqlite3_finalize(st);
			tm_errmsg_printf(c->errmsg, "stopped");
			return TM_CANCELED;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		return fail(c, what);
	}
	return 0;
}

/* The name that reads TABLE's rowid (no column is named so), or NULL. */
static const char *rowid_name(struct content *c, const char *table)
{
	static const char *const names[] = {"rowid", "_rowid_", "oid"};
	for (size_t i = 0; i < 3; i++) {
		char *sql =
		    sqlite3_mprintf("SELECT 1 FROM pragma_table_info(%Q) "
				    "WHERE name = %Q COLLATE NOCASE",
				    table, names[i]);
		sqlite3_stmt *st = NULL;
		int rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
		bool taken = rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW;
		sqlite3_finalize(st);
		sqlite3_free(sql);
		if (!taken) {
			return names[i];
		}
	}
	return NULL;
}

/* "ORDER BY" clause of TABLE: its rowid, or its primary key columns. */
static char *order_by(struct content *c, const char *table, bool without_rowid)
{
	const char *rowid = without_rowid ? NULL : rowid_name(c, table);
	if (rowid != NULL) {
		return sqlite3_mprintf("%s, * FROM main.\"%w\" ORDER BY %s",
				       rowid, table, rowid);
	}
	char *sql = sqlite3_mprintf("SELECT group_concat('\"' || "
				    "replace(name, '\"', '\"\"') || '\"', "
				    "', ') FROM (SELECT name FROM "
				    "pragma_table_info(%Q) WHERE pk > 0 "
				    "ORDER BY pk)",
				    table);
	sqlite3_stmt *st = NULL;
	char *out = NULL;
	if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_text(st, 0) != NULL) {
		out = sqlite3_mprintf("* FROM main.\"%w\" ORDER BY %s", table,
				      sqlite3_column_text(st, 0));
	} else {
		/* No key and no free rowid name: every column. */
		out = sqlite3_mprintf("* FROM main.\"%w\" ORDER BY 1", table);
	}
	sqlite3_finalize(st);
	sqlite3_free(sql);
	return out;
}

static int add_table(struct content *c, const char *table, int n_cols,
		     bool without_rowid)
{
	add_u8(c, TAG_TABLE);
	add_bytes(c, table, strlen(table));
	add_u64(c, (uint64_t)n_cols);
	char *tail = order_by(c, table, without_rowid);
	char *sql = sqlite3_mprintf("SELECT %s", tail);
	int rv = add_rows(c, sql, TAG_ROW, table);
	sqlite3_free(sql);
	sqlite3_free(tail);
	return rv;
}

static int add_tables(struct content *c)
{
	static const char list[] =
	    "SELECT name, ncol, wr FROM pragma_table_list "
	    "WHERE schema = 'main' AND type IN ('table', 'shadow') "
	    "AND name NOT LIKE 'sqlite\\_stat%' ESCAPE '\\' "
	    "AND name <> 'sqlite_schema' AND name <> 'sqlite_temp_schema' "
	    "ORDER BY name";
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(c->db, list, -1, &st, NULL) != SQLITE_OK) {
		return fail(c, "listing tables");
	}
	int rv = 0;
	int rc;
	while (rv == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		char *name =
		    tm_strdup((const char *)sqlite3_column_text(st, 0));
		rv = add_table(c, name, sqlite3_column_int(st, 1),
			       sqlite3_column_int(st, 2) != 0);
		tm_free(name);
	}
	if (rv == 0 && rc != SQLITE_DONE) {
		rv = fail(c, "listing tables");
	}
	sqlite3_finalize(st);
	return rv;
}

int gdb_content_hash(sqlite3 *db, const atomic_bool *stop,
		     uint8_t out[GDB_CHAIN_SIZE], char *errmsg)
{
	struct content c = {.db = db, .stop = stop, .errmsg = errmsg};
	uint8_t digest[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	c.md = EVP_MD_CTX_new();
	INVARIANT(c.md != NULL && EVP_DigestInit_ex2(c.md, EVP_sha256(), NULL));
	int rv = add_rows(&c,
			  "SELECT type, name, tbl_name, sql FROM "
			  "sqlite_schema WHERE name NOT LIKE 'sqlite\\_stat%' "
			  "ESCAPE '\\' ORDER BY name, type",
			  TAG_SCHEMA, "reading the schema");
	if (rv == 0) {
		rv = add_tables(&c);
	}
	if (rv == 0) {
		INVARIANT(EVP_DigestFinal_ex(c.md, digest, &n) &&
			  n >= GDB_CHAIN_SIZE);
		memcpy(out, digest, GDB_CHAIN_SIZE);
	}
	EVP_MD_CTX_free(c.md);
	return rv;
}

/* The trust store: certificates allowed to use the API.
 *
 * Fingerprints are stored as 64 lowercase hex digits, so a prefix search is
 * a range scan of the primary key index and the trust check on every request
 * is one index lookup on a prepared statement. */
#include <ctype.h>
#include <string.h>
#include <time.h>

#include "internal/db/node/private.h"
#include "internal/lib/assert.h"
#include "internal/lib/err.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"

#define FINGERPRINT_LEN 64

/* Lower-case IN (hex digits only, 1..64 of them, exactly 64 unless PREFIX)
 * into OUT (65 bytes). */
static bool normalize_fp(const char *in, bool prefix, char *out)
{
	size_t len = strnlen(in, FINGERPRINT_LEN + 1);
	if (len == 0 || len > FINGERPRINT_LEN ||
	    (!prefix && len != FINGERPRINT_LEN)) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (!isxdigit(c)) {
			return false;
		}
		out[i] = (char)tolower(c);
	}
	out[len] = '\0';
	return true;
}

static int check_cert(struct nodedb *db, const struct nodedb_cert *cert,
		      char *fp, const char **type)
{
	if (!normalize_fp(cert->fingerprint, false, fp)) {
		tm_errmsg_printf(db->errmsg, "invalid fingerprint \"%.64s\": "
				 "expected 64 hex digits", cert->fingerprint);
		return TM_INVALID;
	}
	if (cert->name == NULL || cert->name[0] == '\0') {
		tm_errmsg_printf(db->errmsg, "certificate name is empty");
		return TM_INVALID;
	}
	*type = cert->type != NULL ? cert->type : "client";
	if (strcmp(*type, "client") != 0 && strcmp(*type, "server") != 0) {
		tm_errmsg_printf(db->errmsg, "invalid certificate type \"%s\" "
				 "(client or server)", *type);
		return TM_INVALID;
	}
	if (cert->certificate == NULL || cert->certificate[0] == '\0') {
		tm_errmsg_printf(db->errmsg, "certificate is empty");
		return TM_INVALID;
	}
	return 0;
}

int nodedb_cert_add(struct nodedb *db, const struct nodedb_cert *cert)
{
	PRE(db != NULL && cert != NULL);
	char fp[FINGERPRINT_LEN + 1];
	const char *type;
	int rv = check_cert(db, cert, fp, &type);
	if (rv != 0) {
		return rv;
	}
	int64_t added_at = cert->added_at != 0 ? cert->added_at
					       : (int64_t)time(NULL);
	sqlite3_stmt *stmt = nodedb_stmt(db, NODEDB_STMT_CERT_ADD);
	sqlite3_bind_text(stmt, 1, fp, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, cert->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, cert->certificate, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 5, added_at);
	rv = nodedb_step_done(db, stmt, "add certificate");
	sqlite3_clear_bindings(stmt);
	if (rv == TM_EXISTS) {
		tm_errmsg_printf(db->errmsg, "certificate %s is already "
				 "trusted", fp);
	}
	return rv;
}

/* Copy the current row of a CERT_LIST/CERT_PREFIX statement into OUT. */
static int read_row(struct nodedb *db, sqlite3_stmt *stmt,
		    struct nodedb_cert *out)
{
	const char *fp = (const char *)sqlite3_column_text(stmt, 0);
	const char *name = (const char *)sqlite3_column_text(stmt, 1);
	const char *type = (const char *)sqlite3_column_text(stmt, 2);
	const char *pem = (const char *)sqlite3_column_text(stmt, 3);
	if (fp == NULL || name == NULL || type == NULL || pem == NULL ||
	    strlen(fp) > FINGERPRINT_LEN) {
		tm_errmsg_printf(db->errmsg, "read certificate: bad row");
		return TM_CORRUPT;
	}
	memset(out, 0, sizeof *out);
	strcpy(out->fingerprint, fp);
	out->name = tm_strdup(name);
	out->type = tm_strdup(type);
	out->certificate = tm_strdup(pem);
	out->added_at = sqlite3_column_int64(stmt, 4);
	return 0;
}

int nodedb_cert_list(struct nodedb *db, struct nodedb_cert **out, size_t *n)
{
	PRE(db != NULL && out != NULL && n != NULL);
	sqlite3_stmt *stmt = nodedb_stmt(db, NODEDB_STMT_CERT_LIST);
	struct nodedb_cert *certs = NULL;
	size_t count = 0;
	size_t cap = 0;
	int rc;
	int rv = 0;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (count == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			certs = tm_realloc(certs, cap * sizeof *certs);
		}
		rv = read_row(db, stmt, &certs[count]);
		if (rv != 0) {
			break;
		}
		count++;
	}
	if (rv == 0 && rc != SQLITE_DONE) {
		rv = nodedb_sqlite_error(db, rc, "list certificates");
	}
	sqlite3_reset(stmt);
	if (rv != 0) {
		nodedb_cert_list_free(certs, count);
		return rv;
	}
	*out = certs;
	*n = count;
	return 0;
}

int nodedb_cert_get(struct nodedb *db, const char *fp, struct nodedb_cert *out)
{
	PRE(db != NULL && fp != NULL && out != NULL);
	char prefix[FINGERPRINT_LEN + 1];
	if (!normalize_fp(fp, true, prefix)) {
		tm_errmsg_printf(db->errmsg, "invalid fingerprint \"%.64s\": "
				 "expected 1 to 64 hex digits", fp);
		return TM_INVALID;
	}
	sqlite3_stmt *stmt = nodedb_stmt(db, NODEDB_STMT_CERT_PREFIX);
	sqlite3_bind_text(stmt, 1, prefix, -1, SQLITE_STATIC);
	struct nodedb_cert found;
	int rv = TM_NOTFOUND;
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		rv = read_row(db, stmt, &found);
		rc = rv == 0 ? sqlite3_step(stmt) : SQLITE_DONE;
		if (rc == SQLITE_ROW) {
			nodedb_cert_clear(&found);
			tm_errmsg_printf(db->errmsg, "ambiguous fingerprint "
					 "prefix \"%s\"", prefix);
			rv = TM_INVALID;
		}
	} else if (rc == SQLITE_DONE) {
		tm_errmsg_printf(db->errmsg, "no certificate with fingerprint "
				 "\"%s\"", prefix);
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		if (rv == 0) {
			nodedb_cert_clear(&found);
		}
		rv = nodedb_sqlite_error(db, rc, "get certificate");
	}
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	if (rv == 0) {
		*out = found;
	}
	return rv;
}

int nodedb_cert_remove(struct nodedb *db, const char *fp)
{
	PRE(db != NULL && fp != NULL);
	char exact[FINGERPRINT_LEN + 1];
	if (!normalize_fp(fp, false, exact)) {
		tm_errmsg_printf(db->errmsg, "invalid fingerprint \"%.64s\": "
				 "expected 64 hex digits", fp);
		return TM_INVALID;
	}
	sqlite3_stmt *stmt = nodedb_stmt(db, NODEDB_STMT_CERT_REMOVE);
	sqlite3_bind_text(stmt, 1, exact, -1, SQLITE_STATIC);
	int rv = nodedb_step_done(db, stmt, "remove certificate");
	sqlite3_clear_bindings(stmt);
	if (rv == 0 && sqlite3_changes(db->sql) == 0) {
		tm_errmsg_printf(db->errmsg, "no certificate with fingerprint "
				 "\"%s\"", exact);
		rv = TM_NOTFOUND;
	}
	return rv;
}

bool nodedb_cert_trusted(struct nodedb *db, const char *fingerprint)
{
	PRE(db != NULL);
	char exact[FINGERPRINT_LEN + 1];
	if (fingerprint == NULL || !normalize_fp(fingerprint, false, exact)) {
		return false;
	}
	sqlite3_stmt *stmt = db->stmts[NODEDB_STMT_CERT_TRUSTED];
	sqlite3_bind_text(stmt, 1, exact, FINGERPRINT_LEN, SQLITE_STATIC);
	int rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		LOGE("local database: trust check: %s",
		     sqlite3_errmsg(db->sql));
	}
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	return rc == SQLITE_ROW;
}

void nodedb_cert_clear(struct nodedb_cert *cert)
{
	if (cert == NULL) {
		return;
	}
	tm_free(cert->name);
	tm_free(cert->type);
	tm_free(cert->certificate);
	memset(cert, 0, sizeof *cert);
}

void nodedb_cert_list_free(struct nodedb_cert *certs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		nodedb_cert_clear(&certs[i]);
	}
	tm_free(certs);
}

/* Running a text of SQL statements as one request. */
#include <string.h>

#include "cmd/therm/sql.h"
#include "internal/lib/mem.h"

int therm_sql_query(struct therm_sql_session *s, const char *const *sqls,
		    size_t n, bool transaction,
		    struct thermionic_sql_result **results)
{
	struct thermionic_sql_statement *stmts;
	struct thermionic_sql_request req;
	struct thermionic_client *client;
	size_t n_results = 0;
	int rv;

	*results = NULL;
	if (n > THERMIONIC_SQL_MAX_STATEMENTS) {
		return therm_fail(s->ctx,
				  "%zu statements: one request holds at most "
				  "%d",
				  n, THERMIONIC_SQL_MAX_STATEMENTS);
	}
	if (therm_client(s->ctx, &client) != 0) {
		return THERM_EXIT_ERROR;
	}
	stmts = tm_calloc(n, sizeof *stmts);
	for (size_t i = 0; i < n; i++) {
		stmts[i].sql = sqls[i];
	}
	memset(&req, 0, sizeof req);
	req.statements = stmts;
	req.n_statements = n;
	req.target = s->target;
	req.transaction = transaction;
	/* Linearizable reads concern the global database only. */
	req.consistency = s->linearizable && s->target == THERMIONIC_SQL_GLOBAL
			      ? THERMIONIC_SQL_LINEARIZABLE
			      : THERMIONIC_SQL_CONSISTENCY_NONE;
	rv = thermionic_sql(client, &req, results, &n_results);
	tm_free(stmts);
	if (rv != THERMIONIC_OK) {
		return therm_client_fail(s->ctx, rv);
	}
	return THERM_EXIT_OK;
}

int therm_sql_run_text(struct therm_sql_session *s, const char *text)
{
	struct thermionic_sql_result *results;
	char **stmts;
	size_t n;
	int rv;

	therm_sql_split(text, &stmts, &n);
	if (n == 0) {
		/* The API refuses an empty request too (400). */
		therm_sql_split_free(stmts, n);
		return therm_usage_fail(s->ctx,
					"no SQL statement to run: the SQL "
					"given holds only whitespace, comments "
					"or ';'");
	}
	rv = therm_sql_query(s, (const char *const *)stmts, n, s->transaction,
			     &results);
	if (rv == THERM_EXIT_OK &&
	    therm_sql_print(s->ctx->out, s->ctx->err, s->format, stmts, results,
			    n) > 0) {
		s->ctx->error_reported = true;
		rv = THERM_EXIT_ERROR;
	}
	thermionic_sql_results_free(results, n); /* NULL after a failure */
	therm_sql_split_free(stmts, n);
	return rv;
}

/* Values, results and requests: conversion from SQLite and release. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal/db/cluster/gdb_private.h"
#include "internal/lib/mem.h"

void gdb_value_clear(struct gdb_value *v)
{
	if (v->type == GDB_TEXT || v->type == GDB_BLOB) {
		tm_free(v->p);
	}
	memset(v, 0, sizeof *v);
	v->type = GDB_NULL;
}

void gdb_value_from_column(sqlite3_stmt *st, int col, struct gdb_value *out)
{
	memset(out, 0, sizeof *out);
	switch (sqlite3_column_type(st, col)) {
	case SQLITE_INTEGER:
		out->type = GDB_INT;
		out->i = sqlite3_column_int64(st, col);
		break;
	case SQLITE_FLOAT:
		out->type = GDB_REAL;
		out->r = sqlite3_column_double(st, col);
		break;
	case SQLITE_TEXT: {
		const unsigned char *text = sqlite3_column_text(st, col);
		size_t n = (size_t)sqlite3_column_bytes(st, col);
		out->type = GDB_TEXT;
		out->n = n;
		out->p = tm_malloc(n + 1);
		if (n > 0) {
			memcpy(out->p, text, n);
		}
		out->p[n] = '\0';
		break;
	}
	case SQLITE_BLOB: {
		const void *blob = sqlite3_column_blob(st, col);
		size_t n = (size_t)sqlite3_column_bytes(st, col);
		out->type = GDB_BLOB;
		out->n = n;
		out->p = tm_malloc(n);
		if (n > 0) {
			memcpy(out->p, blob, n);
		}
		break;
	}
	default:
		out->type = GDB_NULL;
		break;
	}
}

void gdb_result_clear(struct gdb_result *res)
{
	for (size_t i = 0; i < res->n_cols; i++) {
		tm_free(res->columns[i]);
		tm_free(res->decltypes[i]);
	}
	tm_free(res->columns);
	tm_free(res->decltypes);
	/* Rows given to a sink are counted in n_rows but not kept. */
	for (size_t i = 0; res->rows != NULL && i < res->n_rows * res->n_cols;
	     i++) {
		gdb_value_clear(&res->rows[i]);
	}
	tm_free(res->rows);
	tm_free(res->error);
	memset(res, 0, sizeof *res);
}

void gdb_result_fail(struct gdb_result *res, int status, const char *fmt, ...)
{
	char buf[TM_ERRMSG_SIZE * 2];
	va_list args;
	va_start(args, fmt);
	vsnprintf(buf, sizeof buf, fmt, args);
	va_end(args);
	tm_free(res->error);
	res->error = tm_strdup(buf);
	res->status = status;
}

void gdb_request_clear(struct gdb_request *req)
{
	if (req->results != NULL) {
		for (size_t i = 0; i < req->n_stmts; i++) {
			gdb_result_clear(&req->results[i]);
		}
		tm_free(req->results);
		req->results = NULL;
	}
}

/* Helpers shared by the SQL tests: a scratch directory, SQLite database
 * files made with the real SQLite, and file comparisons. */
#ifndef TEST_CLIENT_SQL_FIXTURE_H
#define TEST_CLIENT_SQL_FIXTURE_H

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

/* A fresh directory under /tmp; DIR holds 64 bytes. */
static inline void scratch_make(char *dir)
{
	strcpy(dir, "/tmp/thermsql-XXXXXX");
	assert_non_null(mkdtemp(dir));
}

/* Remove the files of DIR (one level) and DIR. */
static inline void scratch_remove(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[512];
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 ||
		    strcmp(e->d_name, "..") == 0) {
			continue;
		}
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		unlink(path);
	}
	if (d != NULL) {
		closedir(d);
	}
	rmdir(dir);
}

/* Number of entries in DIR besides "." and "..". */
static inline int scratch_count(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 &&
		    strcmp(e->d_name, "..") != 0) {
			n++;
		}
	}
	closedir(d);
	return n;
}

static inline void sql_exec_or_fail(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fail_msg("%s: %s", sql, err);
	}
}

/* A small SQLite database at PATH, in rollback-journal mode. */
static inline void sqlite_file_make(const char *path)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sql_exec_or_fail(db, "CREATE TABLE kv(k TEXT PRIMARY KEY, v);"
			     "INSERT INTO kv VALUES('a', 1), ('b', x'00ff');");
	sqlite3_close(db);
}

/* Whole file: owned bytes (free) and their number. */
static inline char *file_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data;
	long size;
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = malloc((size_t)size + 1);
	assert_int_equal(fread(data, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	*len = (size_t)size;
	return data;
}

static inline void file_write(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

/* The very same double, bit for bit. */
static inline void assert_real(double got, double want)
{
	if (memcmp(&got, &want, sizeof got) != 0) {
		fail_msg("%.17g, want %.17g", got, want);
	}
}

static inline void assert_contains(const char *text, const char *part)
{
	if (text == NULL || strstr(text, part) == NULL) {
		fail_msg("\"%s\" not found in:\n%s", part,
			 text != NULL ? text : "(null)");
	}
}

#endif /* TEST_CLIENT_SQL_FIXTURE_H */

/* Divergence stops the member loudly: committed entries are applied through
 * the fsm in a forked child, which must die with SIGABRT and say why on
 * stderr. A control child that applies only valid entries exits normally.
 * RESTORE entries are applied the same way. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <raft.h>
#include <sqlite3.h>
#include <uv.h>

#include "internal/db/cluster/entry.h"
#include "internal/db/cluster/gdb.h"
#include "internal/lib/err.h"

static const char create_sql[] =
    "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)";

/* INSERT INTO t VALUES(1, 'hi'), as recorded by a session. */
static const uint8_t insert_cs[] = {
    0x54, 0x02, 0x01, 0x00, 0x74, 0x00, 0x12, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x02, 0x68, 0x69,
};

/* ROWS items on t: INSERT at rowid 1 of (1, 'hi'); DELETE of rowid 7; a
 * table "u" that has no such shape here (3 columns). */
static const uint8_t rows_insert[] = {
    'R', 2, 0, 1, 0, 0, 0, 't', 1, 0, 0, 0, 1, 1, 0, 0, 0,   0,	  0,
    0,	 0, 1, 1, 0, 0, 0, 0,	0, 0, 0, 3, 2, 0, 0, 0, 'h', 'i',
};
static const uint8_t rows_delete_7[] = {
    'R', 2, 0, 1, 0, 0, 0, 't', 1, 0, 0, 0, 3, 7, 0, 0, 0, 0, 0, 0, 0,
};
static const uint8_t rows_wrong_shape[] = {
    'R', 3, 0, 1, 0, 0, 0, 't', 1, 0, 0, 0, 3, 1, 0, 0, 0, 0, 0, 0, 0,
};

enum step {
	STEP_CREATE,	    /* SQL: CREATE TABLE t */
	STEP_INSERT,	    /* changeset: INSERT t(1, 'hi') */
	STEP_ROWS_INSERT,   /* ROWS: INSERT t(1, 'hi') at rowid 1 */
	STEP_ROWS_DELETE_7, /* ROWS: DELETE of rowid 7 of t */
	STEP_ROWS_SHAPE,    /* ROWS: a change for t with 3 columns */
	STEP_GARBAGE,	    /* bytes that are not an entry */
	STEP_NEWER,	    /* an entry of a format version from the future */
	STEP_BAD_SQL,	    /* SQL item that fails on apply */
	STEP_RESTORE, /* RESTORE: an image holding t with the row (1, 'hi') */
	STEP_RESTORE_BAD, /* RESTORE: a SQLite header over garbage pages */
	STEP_END,
};

/* A RESTORE entry of an image holding t(1, 'hi'); garbage pages if BAD. */
static struct raft_buffer make_restore(bool bad)
{
	sqlite3 *db;
	sqlite3_int64 size = 0;
	struct raft_buffer buf;
	sqlite3_open(":memory:", &db);
	sqlite3_exec(db, create_sql, NULL, NULL, NULL);
	sqlite3_exec(db, "INSERT INTO t VALUES(1, 'hi')", NULL, NULL, NULL);
	unsigned char *image = sqlite3_serialize(db, "main", &size, 0);
	sqlite3_close(db);
	if (bad) {
		memset(image + 100, 0xee, (size_t)size - 100);
	}
	struct gdb_entry e = {.type = GDB_ENTRY_RESTORE,
			      .image = image,
			      .image_len = (size_t)size};
	buf.len = gdb_entry_size(&e);
	buf.base = malloc(buf.len);
	gdb_entry_encode(&e, buf.base);
	sqlite3_free(image);
	return buf;
}

static struct raft_buffer make_entry(enum step step)
{
	struct gdb_item item;
	struct gdb_entry_request req = {1, &item};
	struct gdb_entry e = {
	    .type = GDB_ENTRY_WRITE, .n_requests = 1, .requests = &req};
	struct raft_buffer buf;

	if (step == STEP_RESTORE || step == STEP_RESTORE_BAD) {
		return make_restore(step == STEP_RESTORE_BAD);
	}
	switch (step) {
	case STEP_CREATE:
		item =
		    (struct gdb_item){GDB_ITEM_SQL, (const uint8_t *)create_sql,
				      strlen(create_sql)};
		break;
	case STEP_BAD_SQL:
		item = (struct gdb_item){
		    GDB_ITEM_SQL, (const uint8_t *)"DROP TABLE nope", 15};
		break;
	case STEP_ROWS_INSERT:
		item = (struct gdb_item){GDB_ITEM_ROWS, rows_insert,
					 sizeof rows_insert};
		break;
	case STEP_ROWS_DELETE_7:
		item = (struct gdb_item){GDB_ITEM_ROWS, rows_delete_7,
					 sizeof rows_delete_7};
		break;
	case STEP_ROWS_SHAPE:
		item = (struct gdb_item){GDB_ITEM_ROWS, rows_wrong_shape,
					 sizeof rows_wrong_shape};
		break;
	default:
		item = (struct gdb_item){GDB_ITEM_CHANGESET, insert_cs,
					 sizeof insert_cs};
		break;
	}
	buf.len = gdb_entry_size(&e);
	buf.base = malloc(buf.len);
	gdb_entry_encode(&e, buf.base);
	if (step == STEP_GARBAGE) {
		memset(buf.base, 0xee, buf.len);
	} else if (step == STEP_NEWER) {
		((uint8_t *)buf.base)[4] = GDB_ENTRY_VERSION + 1;
	}
	return buf;
}

/* In the child: apply STEPS in order through the fsm, then exit 0. */
static void child(const char *dir, const enum step *steps)
{
	uv_loop_t loop;
	struct gdb *g;
	char errmsg[TM_ERRMSG_SIZE];
	char path[256];

	snprintf(path, sizeof path, "%s/child.db", dir);
	uv_loop_init(&loop);
	if (gdb_init(&g, &loop, path, errmsg) != 0) {
		fprintf(stderr, "gdb_init: %s\n", errmsg);
		_exit(3);
	}
	struct raft_fsm *fsm = gdb_fsm(g);
	for (size_t i = 0; steps[i] != STEP_END; i++) {
		struct raft_buffer buf = make_entry(steps[i]);
		void *result;
		if (fsm->apply(fsm, &buf, &result) != 0) {
			_exit(4);
		}
		free(buf.base);
	}
	_exit(0);
}

/* Fork, run the steps, return the wait status; the child's stderr in OUT. */
static int run_child(const enum step *steps, char *out, size_t size)
{
	char dir[] = "/tmp/tm-gdb-div-XXXXXX";
	int fds[2];
	int status;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(pipe(fds), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], STDERR_FILENO);
		close(fds[0]);
		close(fds[1]);
		child(dir, steps);
	}
	close(fds[1]);
	size_t n = 0;
	ssize_t got;
	while (n + 1 < size &&
	       (got = read(fds[0], out + n, size - n - 1)) > 0) {
		n += (size_t)got;
	}
	out[n] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return status;
}

static void expect_abort(const enum step *steps, const char *const *words)
{
	char out[8192];
	int status = run_child(steps, out, sizeof out);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT) {
		fail_msg("child did not abort (status %d): %s", status, out);
	}
	for (size_t i = 0; words[i] != NULL; i++) {
		if (strstr(out, words[i]) == NULL) {
			fail_msg("stderr lacks \"%s\": %s", words[i], out);
		}
	}
}

static void test_control_exits_normally(void **state)
{
	const enum step steps[] = {STEP_CREATE, STEP_INSERT, STEP_END};
	char out[8192];
	(void)state;
	int status = run_child(steps, out, sizeof out);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* The row the changeset inserts already exists. */
static void test_existing_row_aborts(void **state)
{
	const enum step steps[] = {STEP_CREATE, STEP_INSERT, STEP_INSERT,
				   STEP_END};
	const char *words[] = {"global database diverged",
			       "INSERT of the row with key 1 in table \"t\"",
			       "CONFLICT", NULL};
	(void)state;
	expect_abort(steps, words);
}

/* ROWS items: a row that is already there, one that is not, a table
 * shaped otherwise, a table that does not exist. */
static void test_rows_divergence_aborts(void **state)
{
	const enum step ok[] = {STEP_CREATE, STEP_ROWS_INSERT, STEP_END};
	const enum step twice[] = {STEP_CREATE, STEP_ROWS_INSERT,
				   STEP_ROWS_INSERT, STEP_END};
	const enum step missing[] = {STEP_CREATE, STEP_ROWS_DELETE_7, STEP_END};
	const enum step shape[] = {STEP_CREATE, STEP_ROWS_SHAPE, STEP_END};
	const enum step no_table[] = {STEP_ROWS_INSERT, STEP_END};
	const char *twice_words[] = {"global database diverged",
				     "INSERT of rowid 1 in table \"t\"",
				     "UNIQUE constraint failed", NULL};
	const char *missing_words[] = {"DELETE of rowid 7 in table \"t\": no "
				       "such row",
				       NULL};
	const char *shape_words[] = {"row changes for table \"t\" (rowid, 3 "
				     "columns) do not fit the table here "
				     "(rowid, 2 columns)",
				     NULL};
	const char *no_table_words[] = {"row changes for table \"t\", which "
					"does not exist here",
					NULL};
	char out[8192];
	(void)state;
	int status = run_child(ok, out, sizeof out);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	expect_abort(twice, twice_words);
	expect_abort(missing, missing_words);
	expect_abort(shape, shape_words);
	expect_abort(no_table, no_table_words);
}

/* sqlite3changeset_apply would skip a missing table silently. */
static void test_missing_table_aborts(void **state)
{
	const enum step steps[] = {STEP_INSERT, STEP_END};
	const char *words[] = {"global database diverged",
			       "changeset for table \"t\", which does not "
			       "exist here",
			       NULL};
	(void)state;
	expect_abort(steps, words);
}

static void test_undecodable_entry_aborts(void **state)
{
	const enum step garbage[] = {STEP_GARBAGE, STEP_END};
	const enum step newer[] = {STEP_NEWER, STEP_END};
	const char *garbage_words[] = {"cannot decode the entry", "bad magic",
				       NULL};
	const char *newer_words[] = {"format version 5 is newer", NULL};
	(void)state;
	expect_abort(garbage, garbage_words);
	expect_abort(newer, newer_words);
}

static void test_failing_schema_statement_aborts(void **state)
{
	const enum step steps[] = {STEP_BAD_SQL, STEP_END};
	const char *words[] = {"schema statement \"DROP TABLE nope\"",
			       "no such table", NULL};
	(void)state;
	expect_abort(steps, words);
}

/* A restore followed by an entry computed against it applies cleanly. */
static void test_restore_control_exits_normally(void **state)
{
	const enum step steps[] = {STEP_CREATE, STEP_RESTORE, STEP_END};
	char out[8192];
	(void)state;
	int status = run_child(steps, out, sizeof out);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fail_msg("child failed (status %d): %s", status, out);
	}
}

/* The restore really replaced the content: the row it brought makes the
 * next insert of the same key conflict. */
static void test_restore_then_conflict_aborts(void **state)
{
	const enum step steps[] = {STEP_RESTORE, STEP_INSERT, STEP_END};
	const char *words[] = {"INSERT of the row with key 1 in table \"t\"",
			       "CONFLICT", NULL};
	(void)state;
	expect_abort(steps, words);
}

/* An image that does not load is divergence, like any failed apply. */
static void test_bad_restore_aborts(void **state)
{
	const enum step steps[] = {STEP_CREATE, STEP_RESTORE_BAD, STEP_END};
	const char *words[] = {
	    "global database diverged", "restore of the database",
	    "loading the image of 8192 bytes", "does not open", NULL};
	(void)state;
	expect_abort(steps, words);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_control_exits_normally),
	    cmocka_unit_test(test_existing_row_aborts),
	    cmocka_unit_test(test_missing_table_aborts),
	    cmocka_unit_test(test_rows_divergence_aborts),
	    cmocka_unit_test(test_undecodable_entry_aborts),
	    cmocka_unit_test(test_failing_schema_statement_aborts),
	    cmocka_unit_test(test_restore_control_exits_normally),
	    cmocka_unit_test(test_restore_then_conflict_aborts),
	    cmocka_unit_test(test_bad_restore_aborts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* snaplog: every snapshot raft stores is logged, failures at error level
 * with the index, size and reason, and raft's callback still gets the
 * status; a put that fails at once is logged and its error returned. The
 * put underneath is a fake that records what it was given. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal/lib/log.h"
#include "internal/raft/snaplog.h"
#include "test/unit/capture.h"

static struct raft_io_snapshot_put *pending_req;
static raft_io_snapshot_put_cb pending_cb;
static unsigned got_trailing;
static int fail_at_once;

static int fake_put(struct raft_io *io, unsigned trailing,
		    struct raft_io_snapshot_put *req,
		    const struct raft_snapshot *snapshot,
		    raft_io_snapshot_put_cb cb)
{
	(void)snapshot;
	got_trailing = trailing;
	if (fail_at_once != 0) {
		snprintf(io->errmsg, sizeof io->errmsg, "open snapshot.tmp");
		return fail_at_once;
	}
	pending_req = req;
	pending_cb = cb;
	return 0;
}

static int raft_status = -1;
static struct raft_io_snapshot_put *raft_req_seen;

static void raft_cb(struct raft_io_snapshot_put *req, int status)
{
	raft_req_seen = req;
	raft_status = status;
}

static struct raft_io io;
static struct raft_snapshot snap;
static struct raft_io_snapshot_put raft_req;
static struct raft_buffer bufs[2];

static void setup_snapshot(void)
{
	memset(&io, 0, sizeof io);
	memset(&snap, 0, sizeof snap);
	snap.index = 42;
	bufs[0].len = 1000;
	bufs[1].len = 16;
	snap.bufs = bufs;
	snap.n_bufs = 2;
	raft_status = -1;
	raft_req_seen = NULL;
	pending_req = NULL;
}

static void do_put(void *arg)
{
	int *rv = arg;
	*rv = snaplog_put(fake_put, &io, 8, &raft_req, &snap, raft_cb);
}

static void do_complete(void *arg)
{
	int status = *(int *)arg;
	snprintf(io.errmsg, sizeof io.errmsg, "write snapshot-2-42-1: %s",
		 status != 0 ? "no space left on device" : "");
	pending_cb(pending_req, status);
}

static void test_failure_is_logged(void **state)
{
	(void)state;
	int rv = -1;
	setup_snapshot();
	log_set_level(LOG_DEBUG);
	char *out = capture_stderr(do_put, &rv);
	assert_int_equal(rv, 0);
	assert_int_equal(got_trailing, 8);
	assert_non_null(pending_req);
	free(out);
	int status = RAFT_NOSPACE;
	out = capture_stderr(do_complete, &status);
	assert_ptr_equal(raft_req_seen, &raft_req);
	assert_int_equal(raft_status, RAFT_NOSPACE);
	if (strstr(out, "ERROR raft: storing the snapshot taken at index 42 "
			"(1016 bytes) failed") == NULL ||
	    strstr(out, "no space left on device") == NULL) {
		fail_msg("log: %s", out);
	}
	free(out);
}

static void test_success_is_logged_at_debug(void **state)
{
	(void)state;
	int rv = -1;
	setup_snapshot();
	log_set_level(LOG_DEBUG);
	free(capture_stderr(do_put, &rv));
	int status = 0;
	char *out = capture_stderr(do_complete, &status);
	assert_int_equal(raft_status, 0);
	if (strstr(out, "DEBUG raft: storing the snapshot taken at index 42 "
			"(1016 bytes):") == NULL) {
		fail_msg("log: %s", out);
	}
	free(out);
}

static void test_failure_at_once_is_logged(void **state)
{
	(void)state;
	int rv = 0;
	setup_snapshot();
	fail_at_once = RAFT_IOERR;
	char *out = capture_stderr(do_put, &rv);
	fail_at_once = 0;
	assert_int_equal(rv, RAFT_IOERR);
	assert_int_equal(raft_status, -1); /* raft's callback not called */
	if (strstr(out, "could not start") == NULL ||
	    strstr(out, "open snapshot.tmp") == NULL) {
		fail_msg("log: %s", out);
	}
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_failure_is_logged),
	    cmocka_unit_test(test_success_is_logged_at_debug),
	    cmocka_unit_test(test_failure_at_once_is_logged),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

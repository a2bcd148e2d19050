/* The watermark file: its exact bytes, what is refused when reading it,
 * and the timer and close that keep it up to date on a real loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal/lib/err.h"
#include "internal/lib/fs.h"
#include "internal/raft/watermark.h"

static void test_encode_is_byte_exact(void **state)
{
	(void)state;
	unsigned char buf[WATERMARK_SIZE];
	watermark_encode(0x0102030405060708ULL, buf);
	const unsigned char want[WATERMARK_SIZE] = {
	    'T',  'M',	'W',  'M',  1,	  0,	0,    0,
	    0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
	    0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe};
	assert_memory_equal(buf, want, WATERMARK_SIZE);
	raft_index index = 0;
	char errmsg[TM_ERRMSG_SIZE];
	assert_int_equal(watermark_decode(buf, sizeof buf, &index, errmsg), 0);
	assert_true(index == 0x0102030405060708ULL);
}

static void test_decode_refuses_damage(void **state)
{
	(void)state;
	unsigned char buf[WATERMARK_SIZE];
	raft_index index = 7;
	char errmsg[TM_ERRMSG_SIZE];
	watermark_encode(1234, buf);
	assert_int_equal(watermark_decode(buf, 23, &index, errmsg), TM_CORRUPT);
	buf[12] ^= 1; /* index byte: check bytes no longer match */
	assert_int_equal(watermark_decode(buf, sizeof buf, &index, errmsg),
			 TM_CORRUPT);
	assert_string_equal(errmsg, "index check bytes do not match");
	watermark_encode(1234, buf);
	buf[4] = 2;
	assert_int_equal(watermark_decode(buf, sizeof buf, &index, errmsg),
			 TM_CORRUPT);
	assert_string_equal(errmsg, "unknown watermark version 2");
	buf[0] = 'X';
	assert_int_equal(watermark_decode(buf, sizeof buf, &index, errmsg),
			 TM_CORRUPT);
	assert_true(index == 7);
}

struct fixture {
	char dir[64];
	uv_loop_t loop;
	raft_index applied;
	int closed;
};

static raft_index get_cb(void *data)
{
	struct fixture *f = data;
	return f->applied;
}

static void closed_cb(void *data)
{
	struct fixture *f = data;
	f->closed++;
}

static raft_index read_index(struct fixture *f)
{
	raft_index index = 99;
	char errmsg[TM_ERRMSG_SIZE];
	assert_int_equal(watermark_read(f->dir, &index, errmsg), 0);
	return index;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	strcpy(f->dir, "/tmp/tm-watermark-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	uv_loop_init(&f->loop);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(uv_loop_close(&f->loop), 0);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void test_missing_file_reads_zero(void **state)
{
	struct fixture *f = *state;
	assert_true(read_index(f) == 0);
}

static void test_timer_writes_and_close_writes_final(void **state)
{
	struct fixture *f = *state;
	struct watermark *w;
	f->applied = 42;
	watermark_start(&w, &f->loop, f->dir, 0, get_cb, f);
	/* One period and the write: the file holds 42. */
	while (read_index(f) != 42) {
		uv_run(&f->loop, UV_RUN_ONCE);
	}
	f->applied = 50;
	watermark_close(w, 57, closed_cb, f);
	assert_int_equal(f->closed, 0); /* never inside the call */
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(f->closed, 1);
	assert_true(read_index(f) == 57);
}

static void test_close_never_lowers_the_file(void **state)
{
	struct fixture *f = *state;
	struct watermark *w;
	watermark_start(&w, &f->loop, f->dir, 0, get_cb, f);
	watermark_close(w, 9, closed_cb, f);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_true(read_index(f) == 9);
	watermark_start(&w, &f->loop, f->dir, 9, get_cb, f);
	watermark_close(w, 3, closed_cb, f);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(f->closed, 2);
	assert_true(read_index(f) == 9);
}

static void test_write_failure_is_survived(void **state)
{
	struct fixture *f = *state;
	struct watermark *w;
	char sub[96];
	snprintf(sub, sizeof sub, "%s/gone", f->dir);
	/* The directory does not exist: every write fails, close still
	 * finishes. */
	watermark_start(&w, &f->loop, sub, 0, get_cb, f);
	watermark_close(w, 5, closed_cb, f);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(f->closed, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_encode_is_byte_exact),
	    cmocka_unit_test(test_decode_refuses_damage),
	    cmocka_unit_test_setup_teardown(test_missing_file_reads_zero, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(
		test_timer_writes_and_close_writes_final, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_close_never_lowers_the_file,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_failure_is_survived,
					    setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

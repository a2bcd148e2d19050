#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal/lib/err.h"
#include "internal/lib/fs.h"
#include "internal/lib/mem.h"

static void errmsg_wrap_prefixes_and_truncates(void **state)
{
	(void)state;
	char msg[TM_ERRMSG_SIZE];
	tm_errmsg_printf(msg, "disk full");
	tm_errmsg_wrapf(msg, "store %s", "config");
	assert_string_equal(msg, "store config: disk full");
	memset(msg, 'x', sizeof msg - 1);
	msg[sizeof msg - 1] = '\0';
	tm_errmsg_wrapf(msg, "prefix");
	assert_int_equal(strlen(msg), TM_ERRMSG_SIZE - 1);
	assert_memory_equal(msg, "prefix: xxx", 11);
	assert_string_equal(tm_strerror(TM_NOTFOUND), "not found");
	assert_string_equal(tm_strerror(-5), "unknown error");
}

static void atomic_write_read_and_modes(void **state)
{
	(void)state;
	char dir[] = "/tmp/tm-fs-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char errmsg[TM_ERRMSG_SIZE];
	char *sub = tm_asprintf("%s/a/b", dir);
	assert_int_equal(fs_ensure_dir(sub, 0700, errmsg), 0);
	struct stat st;
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	char *file = tm_asprintf("%s/secret", sub);
	assert_int_equal(fs_write_atomic(file, "hello", 5, 0600, errmsg), 0);
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	char *data;
	size_t len;
	assert_int_equal(fs_read_all(file, 100, &data, &len, errmsg), 0);
	assert_int_equal(len, 5);
	assert_string_equal(data, "hello");
	tm_free(data);
	assert_int_equal(fs_read_all(file, 3, &data, &len, errmsg), TM_TOOBIG);
	char *missing = tm_asprintf("%s/none", sub);
	assert_int_equal(fs_read_all(missing, 3, &data, &len, errmsg),
			 TM_NOTFOUND);
	unlink(file);
	rmdir(sub);
	char *a = tm_asprintf("%s/a", dir);
	rmdir(a);
	rmdir(dir);
	tm_free(a);
	tm_free(missing);
	tm_free(file);
	tm_free(sub);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(errmsg_wrap_prefixes_and_truncates),
		cmocka_unit_test(atomic_write_read_and_modes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

#define _XOPEN_SOURCE 700
#include "internal/lib/fs.h"

#include <ftw.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal/lib/err.h"
#include "internal/lib/mem.h"

int fs_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

int fs_ensure_dir(const char *dir, mode_t mode, char *errmsg)
{
	char *copy = tm_strdup(dir);
	for (char *p = copy + 1; *p != '\0'; p++) {
		if (*p != '/') {
			continue;
		}
		*p = '\0';
		if (mkdir(copy, 0755) != 0 && errno != EEXIST) {
			tm_errmsg_printf(errmsg, "mkdir %s: %s", copy,
					 strerror(errno));
			tm_free(copy);
			return TM_IO;
		}
		*p = '/';
	}
	tm_free(copy);
	if (mkdir(dir, mode) != 0 && errno != EEXIST) {
		tm_errmsg_printf(errmsg, "mkdir %s: %s", dir, strerror(errno));
		return TM_IO;
	}
	if (chmod(dir, mode) != 0) {
		tm_errmsg_printf(errmsg, "chmod %s: %s", dir, strerror(errno));
		return TM_IO;
	}
	return 0;
}

int fs_sync(const char *path, char *errmsg)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rv = 0;
	if (fd < 0 || fsync(fd) != 0) {
		tm_errmsg_printf(errmsg, "fsync %s: %s", path, strerror(errno));
		rv = TM_IO;
	}
	if (fd >= 0) {
		close(fd);
	}
	return rv;
}

int fs_sync_parent(const char *path, char *errmsg)
{
	char *copy = tm_strdup(path);
	int rv = fs_sync(dirname(copy), errmsg);
	tm_free(copy);
	return rv;
}

static int write_full(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			return -1;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int fs_write_atomic(const char *path, const void *data, size_t len,
		    mode_t mode, char *errmsg)
{
	char *tmp = tm_asprintf("%s.tmp", path);
	int rv = TM_IO;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		tm_errmsg_printf(errmsg, "open %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (fchmod(fd, mode) != 0 || write_full(fd, data, len) != 0 ||
	    fsync(fd) != 0) {
		tm_errmsg_printf(errmsg, "write %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		goto out;
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		tm_errmsg_printf(errmsg, "rename %s: %s", tmp,
				 strerror(errno));
		unlink(tmp);
		goto out;
	}
	rv = fs_sync_parent(path, errmsg);
out:
	tm_free(tmp);
	return rv;
}

int fs_read_all(const char *path, size_t max, char **out, size_t *len,
		char *errmsg)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		tm_errmsg_printf(errmsg, "open %s: %s", path, strerror(errno));
		return errno == ENOENT ? TM_NOTFOUND : TM_IO;
	}
	size_t cap = 4096;
	size_t n = 0;
	char *buf = tm_malloc(cap + 1);
	for (;;) {
		if (n == cap) {
			if (cap >= max) {
				tm_errmsg_printf(errmsg, "%s: larger than %zu bytes",
						 path, max);
				tm_free(buf);
				close(fd);
				return TM_TOOBIG;
			}
			cap *= 2;
			buf = tm_realloc(buf, cap + 1);
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR) {
				continue;
			}
			tm_errmsg_printf(errmsg, "read %s: %s", path,
					 strerror(errno));
			tm_free(buf);
			close(fd);
			return TM_IO;
		}
		if (r == 0) {
			break;
		}
		n += (size_t)r;
	}
	close(fd);
	if (n > max) {
		tm_errmsg_printf(errmsg, "%s: larger than %zu bytes", path, max);
		tm_free(buf);
		return TM_TOOBIG;
	}
	buf[n] = '\0';
	*out = buf;
	if (len != NULL) {
		*len = n;
	}
	return 0;
}

int fs_copy(const char *src, const char *dst, mode_t mode, char *errmsg)
{
	char *data;
	size_t len;
	int rv = fs_read_all(src, (size_t)1 << 40, &data, &len, errmsg);
	if (rv != 0) {
		return rv;
	}
	rv = fs_write_atomic(dst, data, len, mode, errmsg);
	tm_free(data);
	return rv;
}

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	int rv = flag == FTW_DP ? rmdir(path) : unlink(path);
	return rv != 0 && errno != ENOENT ? errno : 0;
}

int fs_remove_tree(const char *path, char *errmsg)
{
	struct stat st;
	if (lstat(path, &st) != 0) {
		if (errno == ENOENT) {
			return 0;
		}
		tm_errmsg_printf(errmsg, "remove %s: %s", path,
				 strerror(errno));
		return TM_IO;
	}
	int rv = nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	if (rv != 0) {
		tm_errmsg_printf(errmsg, "remove %s: %s", path,
				 rv > 0 ? strerror(rv) : strerror(errno));
		return TM_IO;
	}
	return 0;
}

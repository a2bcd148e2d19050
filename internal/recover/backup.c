/* Durable copies of the state for recovery: every file written, fsync'd
 * and closed, then its directory fsync'd. Files are streamed, never read
 * whole into memory (snapshots and segments can be large). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal/lib/err.h"
#include "internal/lib/fs.h"
#include "internal/lib/mem.h"
#include "internal/recover/recover.h"

#define COPY_CHUNK (1 << 20)

static int copy_fd(int in, int out, char *buf)
{
	for (;;) {
		ssize_t got = read(in, buf, COPY_CHUNK);
		if (got == 0) {
			return fsync(out);
		}
		if (got < 0) {
			if (errno == EINTR) {
				continue;
			}
			return -1;
		}
		for (ssize_t done = 0; done < got;) {
			ssize_t w =
			    write(out, buf + done, (size_t)(got - done));
			if (w < 0 && errno != EINTR) {
				return -1;
			}
			done += w > 0 ? w : 0;
		}
	}
}

static int copy_file(const char *src, const char *dst, mode_t mode,
		     char *errmsg)
{
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		tm_errmsg_printf(errmsg, "open %s: %s", src, strerror(errno));
		return TM_IO;
	}
	int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (out < 0) {
		tm_errmsg_printf(errmsg, "create %s: %s", dst, strerror(errno));
		close(in);
		return TM_IO;
	}
	char *buf = tm_malloc(COPY_CHUNK);
	int rv = copy_fd(in, out, buf);
	if (rv != 0) {
		tm_errmsg_printf(errmsg, "copy %s to %s: %s", src, dst,
				 strerror(errno));
	}
	tm_free(buf);
	close(in);
	if (close(out) != 0 && rv == 0) {
		tm_errmsg_printf(errmsg, "close %s: %s", dst, strerror(errno));
		rv = -1;
	}
	return rv == 0 ? 0 : TM_IO;
}

int recover_copy_tree(const char *src, const char *dst, char *errmsg)
{
	if (mkdir(dst, 0700) != 0) {
		tm_errmsg_printf(errmsg, "create %s: %s", dst, strerror(errno));
		return TM_IO;
	}
	DIR *dir = opendir(src);
	if (dir == NULL) {
		tm_errmsg_printf(errmsg, "open %s: %s", src, strerror(errno));
		return TM_IO;
	}
	int rv = 0;
	struct dirent *e;
	while (rv == 0 && (e = readdir(dir)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 ||
		    strcmp(e->d_name, "..") == 0) {
			continue;
		}
		char *from = tm_asprintf("%s/%s", src, e->d_name);
		char *to = tm_asprintf("%s/%s", dst, e->d_name);
		struct stat st;
		if (lstat(from, &st) != 0) {
			tm_errmsg_printf(errmsg, "stat %s: %s", from,
					 strerror(errno));
			rv = TM_IO;
		} else if (S_ISDIR(st.st_mode)) {
			rv = recover_copy_tree(from, to, errmsg);
		} else if (S_ISREG(st.st_mode)) {
			rv = copy_file(from, to, st.st_mode & 0777, errmsg);
		}
		tm_free(from);
		tm_free(to);
	}
	closedir(dir);
	if (rv == 0) {
		rv = fs_sync(dst, errmsg);
	}
	return rv;
}

int recover_backup(const char *dir, char **path, char *errmsg)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
	char *backup = tm_asprintf("%s/recover-backup-%s", dir, stamp);
	char *global = tm_asprintf("%s/global", dir);
	char *global_to = tm_asprintf("%s/global", backup);
	char *local = tm_asprintf("%s/%s", dir, NODEDB_FILE);
	char *local_to = tm_asprintf("%s/%s", backup, NODEDB_FILE);
	int rv = 0;
	if (mkdir(backup, 0700) != 0) {
		tm_errmsg_printf(errmsg, "create %s: %s%s", backup,
				 strerror(errno),
				 errno == EEXIST ? " (a recovery ran this "
						   "second: retry)"
						 : "");
		rv = TM_IO;
	}
	if (rv == 0) {
		rv = recover_copy_tree(global, global_to, errmsg);
	}
	/* The daemon is stopped and local.db was closed by this process:
	 * its WAL is checkpointed, the file alone is the database. */
	if (rv == 0) {
		rv = copy_file(local, local_to, 0600, errmsg);
	}
	if (rv == 0) {
		rv = fs_sync(backup, errmsg);
	}
	if (rv == 0) {
		rv = fs_sync_parent(backup, errmsg);
	}
	tm_free(global);
	tm_free(global_to);
	tm_free(local);
	tm_free(local_to);
	if (rv != 0) {
		tm_free(backup);
		return rv;
	}
	*path = backup;
	return 0;
}

/* Disk space guard for writes.
 *
 * A committed entry that cannot be applied for lack of space would leave
 * the member unable to follow the log, so the leader refuses new writes
 * while the file system holding the database has less free space than a
 * reserve (enough for raft to open its next segments and write a
 * snapshot). Refused writes were never proposed: nothing is applied, and
 * the client can retry once space is back. */
#include <errno.h>
#include <string.h>
#include <sys/statvfs.h>

#include "internal/db/cluster/gdb_private.h"

int gdb_space_check(const struct gdb *g, char *errmsg)
{
	if (g->min_free_bytes == 0) {
		return 0;
	}
	struct statvfs st;
	if (statvfs(g->dir, &st) != 0) {
		/* Not knowing is no reason to refuse a write. */
		return 0;
	}
	uint64_t free_bytes = (uint64_t)st.f_bavail * st.f_frsize;
	if (free_bytes >= g->min_free_bytes) {
		return 0;
	}
	tm_errmsg_printf(errmsg,
			 "not enough disk space to accept writes: %llu MiB "
			 "free in %s, %llu MiB are kept in reserve",
			 (unsigned long long)(free_bytes >> 20), g->dir,
			 (unsigned long long)(g->min_free_bytes >> 20));
	return TM_NOSPACE;
}

/* Disk space guard for writes.
 *
 * A committed entry that cannot be applied for lack of space would leave
 * the member unable to follow the log, so the leader refuses new writes
 * while the file system holding the database has less free space than a
 * reserve (enough for raft to open its next segments and write a
 * snapshot). The check runs twice: before a batch runs (is there room at
 * all?) and before its entry is proposed, against the entry's size (a
 * single large write must not eat the reserve). Refused writes were never
 * proposed: nothing is applied, and the client can retry once space is
 * back.
 *
 * A snapshot must not eat the reserve either: its copy of the database,
 * and raft's file made from it (LZ4 may not shrink it), need twice the
 * database's size above the reserve, or the snapshot is not taken (it is
 * tried again later; the log keeps every entry meanwhile). */
#include <errno.h>
#include <string.h>
#include <sys/statvfs.h>

#include "internal/db/cluster/gdb_private.h"

int gdb_space_check(const struct gdb *g, uint64_t entry_bytes, char *errmsg)
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
	/* The entry goes to the raft log and, applied, about as much again
	 * into the database: both must fit above the reserve. */
	uint64_t needed = g->min_free_bytes + 2 * entry_bytes;
	if (free_bytes >= needed) {
		return 0;
	}
	if (entry_bytes == 0) {
		tm_errmsg_printf(errmsg,
				 "disk full: not enough disk space to accept "
				 "writes: %llu MiB free in %s, %llu MiB are "
				 "kept in reserve (core.min_free_space)",
				 (unsigned long long)(free_bytes >> 20), g->dir,
				 (unsigned long long)(g->min_free_bytes >> 20));
	} else {
		tm_errmsg_printf(
		    errmsg,
		    "disk full: a write of %llu KiB needs %llu MiB "
		    "free in %s (twice its size above the %llu MiB "
		    "reserve, core.min_free_space); %llu MiB are "
		    "free; nothing was applied",
		    (unsigned long long)(entry_bytes >> 10),
		    (unsigned long long)((needed + (1 << 20) - 1) >> 20),
		    g->dir, (unsigned long long)(g->min_free_bytes >> 20),
		    (unsigned long long)(free_bytes >> 20));
	}
	return TM_NOSPACE;
}

int gdb_space_for_snapshot(const char *dir, uint64_t reserve, uint64_t db_bytes,
			   char *errmsg)
{
	struct statvfs st;
	if (statvfs(dir, &st) != 0) {
		return 0;
	}
	uint64_t free_bytes = (uint64_t)st.f_bavail * st.f_frsize;
	uint64_t needed = reserve + 2 * db_bytes;
	if (free_bytes >= needed) {
		return 0;
	}
	tm_errmsg_printf(errmsg,
			 "not enough disk space for a snapshot of %llu MiB: "
			 "it needs %llu MiB free in %s (twice the database "
			 "above the %llu MiB reserve, core.min_free_space); "
			 "%llu MiB are free",
			 (unsigned long long)(db_bytes >> 20),
			 (unsigned long long)((needed + (1 << 20) - 1) >> 20),
			 dir, (unsigned long long)(reserve >> 20),
			 (unsigned long long)(free_bytes >> 20));
	return TM_NOSPACE;
}

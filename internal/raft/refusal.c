/* Start-up refusals of the raft state, each naming the file and the
 * problem (in ERRMSG, printed by thermionicd on exit) and, in the log, what
 * the operator can do about it. */
#include "internal/raft/refusal.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "internal/lib/err.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"
#include "internal/raft/watermark.h"

/* The newest snapshot data file in DIR ("snapshot-TERM-INDEX-MS", not its
 * .meta), or "" if none. */
static void newest_snapshot(const char *dir, char *name, size_t size)
{
	unsigned long long best = 0;
	name[0] = '\0';
	DIR *d = opendir(dir);
	if (d == NULL) {
		return;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		unsigned long long term, index, ms;
		int end = 0;
		if (sscanf(e->d_name, "snapshot-%llu-%llu-%llu%n", &term,
			   &index, &ms, &end) == 3 &&
		    e->d_name[end] == '\0' && index >= best) {
			best = index;
			snprintf(name, size, "%s", e->d_name);
		}
	}
	closedir(d);
}

void refusal_advise(const char *dir)
{
	LOGE("raft: what to do: this standalone member holds the only copy "
	     "of its data, so it refuses to start rather than serve less "
	     "than it acknowledged. Either put back a copy of the whole "
	     "state directory taken while the member was stopped; or move "
	     "%s and %s.db aside (keep them for analysis), start the member "
	     "(its address, settings and trust store in local.db are kept; "
	     "the global database starts empty) and load the newest file "
	     "made by 'therm backup' with 'therm restore FILE' (writes made "
	     "after that backup are lost). Set LIBRAFT_TRACE=1 to see how "
	     "raft reads the files.",
	     dir, dir);
}

void refusal_load_failed(const char *dir, const char *raft_msg,
			 raft_index watermark, char *errmsg)
{
	char snapshot[256];
	/* raft 0.15 does not name the snapshot whose data fails to
	 * decompress, nor the one the state machine refused. */
	if (strstr(raft_msg, "LZ4") != NULL ||
	    strstr(raft_msg, "decompress") != NULL ||
	    strstr(raft_msg, "restoring the snapshot") != NULL) {
		newest_snapshot(dir, snapshot, sizeof snapshot);
		tm_errmsg_printf(errmsg,
				 "refusing to start: raft snapshot %s/%s is "
				 "damaged: %s",
				 dir, snapshot, raft_msg);
	} else {
		tm_errmsg_printf(errmsg,
				 "refusing to start: raft state in %s is "
				 "damaged: %s",
				 dir, raft_msg);
	}
	LOGE("raft: cannot load %s: %s (this member had applied the log up "
	     "to index %llu)",
	     dir, raft_msg, (unsigned long long)watermark);
	refusal_advise(dir);
}

void refusal_segment(const char *dir, const char *problem, raft_index watermark,
		     char *errmsg)
{
	tm_errmsg_printf(errmsg, "refusing to start: raft %s", problem);
	LOGE("raft: damaged log in %s: %s (this member had applied the log "
	     "up to index %llu; the entries of that batch and every entry "
	     "after it are unreadable)",
	     dir, problem, (unsigned long long)watermark);
	refusal_advise(dir);
}

void refusal_log_short(const char *dir, raft_index last, raft_index watermark,
		       char *errmsg)
{
	tm_errmsg_printf(errmsg,
			 "refusing to start: the raft log in %s ends at "
			 "index %llu, but this member had applied index %llu "
			 "(%s/%s): entries are missing",
			 dir, (unsigned long long)last,
			 (unsigned long long)watermark, dir, WATERMARK_FILE);
	LOGE("raft: the log in %s ends at index %llu but %s/%s says this "
	     "member applied index %llu: entries %llu..%llu were acknowledged "
	     "and are gone. raft 0.15 drops, without a word, a deleted "
	     "segment file and every batch after a damaged one in the "
	     "newest (open) segment, which it truncates.",
	     dir, (unsigned long long)last, dir, WATERMARK_FILE,
	     (unsigned long long)watermark, (unsigned long long)last + 1,
	     (unsigned long long)watermark);
	refusal_advise(dir);
}

/* The apply reserve: DIR/global.reserve, a file of GDB_RESERVE_BYTES that
 * holds disk space back for applying committed entries.
 *
 * A leader refuses writes when its own disk runs low (space.c), but a
 * follower's disk may fill while the leader's has room, and a committed
 * entry must be applied: raft cannot skip it, and libraft 0.15 stops the
 * member's raft for good if applying fails. So when an entry's COMMIT finds
 * the disk full, the reserve is deleted and the entry applied again in the
 * space it leaves (apply.c), with an error in the log saying what happened.
 * The reserve is made again once the disk has room for it twice over,
 * tried once a second while it is missing (a timer, so a member that
 * applies nothing gets it back too). A member whose disk is
 * still full after that stops, saying the disk is full (not that its
 * database diverged); a restart, once there is space, rebuilds its
 * database from the log. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "internal/db/cluster/gdb_private.h"
#include "internal/lib/log.h"

#define RESERVE_NAME "global.reserve"
#define RETRY_MS 1000

static void reserve_path(const struct gdb *g, char *out, size_t size)
{
	snprintf(out, size, "%s/" RESERVE_NAME, g->dir);
}

static void retry_cb(uv_timer_t *t)
{
	gdb_reserve_keep(t->data);
}

/* Try again in RETRY_MS, unless closing. */
static void retry_later(struct gdb *g)
{
	if (!g->closing && !uv_is_closing((uv_handle_t *)&g->reserve_timer)) {
		uv_timer_start(&g->reserve_timer, retry_cb, RETRY_MS, 0);
	}
}

void gdb_reserve_keep(struct gdb *g)
{
	if (atomic_load(&g->reserve_held)) {
		return;
	}
	uint64_t now = uv_now(g->loop);
	if (g->reserve_tried_ms != 0 && now - g->reserve_tried_ms < RETRY_MS) {
		return;
	}
	g->reserve_tried_ms = now;
	struct statvfs st;
	if (statvfs(g->dir, &st) != 0 ||
	    (uint64_t)st.f_bavail * st.f_frsize < 2 * GDB_RESERVE_BYTES) {
		retry_later(g);
		return;
	}
	char path[4096];
	reserve_path(g, path, sizeof path);
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		retry_later(g);
		return;
	}
	int rc = posix_fallocate(fd, 0, GDB_RESERVE_BYTES);
	close(fd);
	if (rc != 0) {
		unlink(path);
		retry_later(g);
		return;
	}
	atomic_store(&g->reserve_held, true);
	if (g->reserve_released) {
		LOGI("gdb: disk space is back in %s: %u MiB held in reserve "
		     "again for applying entries",
		     g->dir, GDB_RESERVE_BYTES >> 20);
		g->reserve_released = false;
	}
}

/* The applier (the lane's thread or the loop): only the file and the
 * flag; the loop does the rest (gdb_reserve_lost). The loop makes the
 * reserve only while the flag is down, so it is lowered last. */
bool gdb_reserve_release(struct gdb *g)
{
	if (!atomic_load(&g->reserve_held)) {
		return false;
	}
	char path[4096];
	reserve_path(g, path, sizeof path);
	bool deleted = unlink(path) == 0;
	atomic_store(&g->reserve_held, false);
	if (g->lane.started) {
		gdb_lane_reserve_lost(g);
	} else {
		gdb_reserve_lost(g);
	}
	return deleted;
}

void gdb_reserve_lost(struct gdb *g)
{
	g->reserve_released = true;
	g->reserve_tried_ms = uv_now(g->loop);
	retry_later(g);
}

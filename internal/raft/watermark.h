/* The watermark: how far this member's raft log reached, kept outside the
 * segment files so that a start can tell a log that lost entries (a damaged
 * batch in the open segment, a deleted segment) from a whole one.
 *
 * The file holds the highest index applied on this member (every write a
 * client saw acknowledged is applied first). It is written off the loop
 * (libuv's file-system requests on its thread pool), at most once per
 * WATERMARK_PERIOD_MS and only when the index moved, as a new file fsync'd
 * and renamed over the old one, and once more when the member stops. So it
 * adds no fsync to the write path, and after a crash it lags the log by at
 * most one period plus one write; it never runs ahead of the log. The format
 * is in doc/storage.md. */
#ifndef TM_RAFT_WATERMARK_H
#define TM_RAFT_WATERMARK_H

#include <raft.h>
#include <uv.h>

#define WATERMARK_FILE "watermark"
#define WATERMARK_SIZE 24
#define WATERMARK_PERIOD_MS 200

struct watermark;

/* Encode INDEX into BUF; decode BUF (LEN bytes) into *INDEX, returning 0 or
 * TM_CORRUPT with errmsg saying what is wrong. */
void watermark_encode(raft_index index, unsigned char buf[WATERMARK_SIZE]);
int watermark_decode(const unsigned char *buf, size_t len, raft_index *index,
		     char *errmsg);

/* Read the watermark in DIR (blocking; at start only). A missing file reads
 * as 0 (a member from before watermarks, or a fresh one). TM_CORRUPT or
 * TM_IO with errmsg naming the file otherwise. */
int watermark_read(const char *dir, raft_index *index, char *errmsg);

/* Where the index comes from: called on the loop at each period. */
typedef raft_index (*watermark_get_fn)(void *data);

/* Keep DIR/watermark up to date with GET(DATA), starting from STORED (what
 * the file holds now). DIR is copied. On success *OUT is owned by the
 * caller and released with watermark_close. */
void watermark_start(struct watermark **out, uv_loop_t *loop, const char *dir,
		     raft_index stored, watermark_get_fn get, void *data);

/* Stop the timer, write FINAL if it is above what the file holds, then
 * free W and call CB(DATA) (later, never inside this call). */
void watermark_close(struct watermark *w, raft_index final,
		     void (*cb)(void *data), void *data);

#endif /* TM_RAFT_WATERMARK_H */

/* The watermark file and the timer that keeps it up to date.
 *
 * Happy path of one write (one in flight at a time, all on libuv's thread
 * pool): open DIR/watermark.tmp (create, truncate) -> write 24 bytes ->
 * fdatasync -> close -> rename over DIR/watermark. The index is then
 * "stored".
 *
 * Failure modes: any step fails -> the temporary file is closed, a warning
 * is logged (once until a write succeeds again) and the next period tries
 * again; the old file stays as it was, lower than the log, which is safe. A
 * crash between fdatasync and rename leaves the old file (lower, safe); the
 * rename itself is not fsync'd for the same reason.
 *
 * Close: stop the timer; once no write is in flight, write FINAL if it is
 * above what is stored; free and call the user callback last. */
#include "internal/raft/watermark.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "internal/lib/assert.h"
#include "internal/lib/err.h"
#include "internal/lib/fs.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"

static const unsigned char magic[4] = {'T', 'M', 'W', 'M'};
#define WATERMARK_VERSION 1

struct watermark {
	uv_loop_t *loop;
	char *path;
	char *tmp;
	uv_timer_t timer;
	uv_fs_t req;
	uv_file fd;
	const char *failed_step; /* of the write in flight */
	ssize_t failure;	 /* its uv error, 0 if none */
	unsigned char buf[WATERMARK_SIZE];
	raft_index stored;  /* what the file holds */
	raft_index writing; /* in flight, 0 if none */
	bool warned;
	watermark_get_fn get;
	void *get_data;
	/* closing */
	bool closing;
	bool timer_closed;
	raft_index final;
	void (*close_cb)(void *data);
	void *close_data;
};

static void put_le(unsigned char *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++) {
		p[i] = (unsigned char)(v >> (8 * i));
	}
}

static uint64_t get_le(const unsigned char *p, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--) {
		v = (v << 8) | p[i];
	}
	return v;
}

void watermark_encode(raft_index index, unsigned char buf[WATERMARK_SIZE])
{
	memcpy(buf, magic, sizeof magic);
	put_le(buf + 4, WATERMARK_VERSION, 4);
	put_le(buf + 8, index, 8);
	put_le(buf + 16, ~(uint64_t)index, 8);
}

int watermark_decode(const unsigned char *buf, size_t len, raft_index *index,
		     char *errmsg)
{
	if (len != WATERMARK_SIZE || memcmp(buf, magic, sizeof magic) != 0) {
		tm_errmsg_printf(errmsg, "not a watermark file (%zu bytes)",
				 len);
		return TM_CORRUPT;
	}
	uint64_t version = get_le(buf + 4, 4);
	if (version != WATERMARK_VERSION) {
		tm_errmsg_printf(errmsg, "unknown watermark version %llu",
				 (unsigned long long)version);
		return TM_CORRUPT;
	}
	uint64_t v = get_le(buf + 8, 8);
	if (get_le(buf + 16, 8) != ~v) {
		tm_errmsg_printf(errmsg, "index check bytes do not match");
		return TM_CORRUPT;
	}
	*index = v;
	return 0;
}

int watermark_read(const char *dir, raft_index *index, char *errmsg)
{
	char *path = tm_asprintf("%s/%s", dir, WATERMARK_FILE);
	char *data = NULL;
	size_t len = 0;
	char err[TM_ERRMSG_SIZE];
	int rv = fs_read_all(path, 4096, &data, &len, err);
	if (rv == TM_NOTFOUND) {
		*index = 0;
		rv = 0;
	} else if (rv == 0) {
		rv = watermark_decode((unsigned char *)data, len, index, err);
	}
	if (rv != 0) {
		tm_errmsg_printf(errmsg, "%s: %s", path, err);
	}
	tm_free(data);
	tm_free(path);
	return rv;
}

static void write_start(struct watermark *w, raft_index index);

static void maybe_finish(struct watermark *w)
{
	if (!w->closing || w->writing != 0 || !w->timer_closed) {
		return;
	}
	if (w->final > w->stored) {
		write_start(w, w->final);
		return;
	}
	void (*cb)(void *data) = w->close_cb;
	void *data = w->close_data;
	tm_free(w->tmp);
	tm_free(w->path);
	tm_free(w);
	if (cb != NULL) {
		cb(data);
	}
}

static void write_done(struct watermark *w, const char *step, ssize_t result)
{
	uv_fs_req_cleanup(&w->req);
	if (result < 0) {
		if (!w->warned) {
			LOGW("raft: watermark %s: %s: %s (retrying)", w->path,
			     step, uv_strerror((int)result));
			w->warned = true;
		}
		if (w->closing) {
			w->final = 0; /* do not retry forever while closing */
		}
	} else {
		w->stored = w->writing;
		w->warned = false;
	}
	w->writing = 0;
	maybe_finish(w);
}

static void renamed_cb(uv_fs_t *req)
{
	struct watermark *w = req->data;
	write_done(w, "rename", req->result);
}

static void closed_cb(uv_fs_t *req)
{
	struct watermark *w = req->data;
	ssize_t result = req->result;
	uv_fs_req_cleanup(req);
	if (w->failure < 0) {
		write_done(w, w->failed_step, w->failure);
		return;
	}
	if (result < 0) {
		write_done(w, "close", result);
		return;
	}
	w->req.data = w;
	uv_fs_rename(w->loop, &w->req, w->tmp, w->path, renamed_cb);
}

/* Close the temporary file; STEP failed with FAILURE (a negative uv code)
 * unless FAILURE is 0. */
static void close_tmp(struct watermark *w, const char *step, ssize_t failure)
{
	w->failed_step = step;
	w->failure = failure;
	uv_fs_req_cleanup(&w->req);
	w->req.data = w;
	uv_fs_close(w->loop, &w->req, w->fd, closed_cb);
	w->fd = -1;
}

static void synced_cb(uv_fs_t *req)
{
	struct watermark *w = req->data;
	close_tmp(w, "fdatasync", req->result < 0 ? req->result : 0);
}

static void written_cb(uv_fs_t *req)
{
	struct watermark *w = req->data;
	ssize_t result = req->result;
	if (result >= 0 && result != WATERMARK_SIZE) {
		result = UV_EIO;
	}
	if (result < 0) {
		close_tmp(w, "write", result);
		return;
	}
	uv_fs_req_cleanup(req);
	w->req.data = w;
	uv_fs_fdatasync(w->loop, &w->req, w->fd, synced_cb);
}

static void opened_cb(uv_fs_t *req)
{
	struct watermark *w = req->data;
	if (req->result < 0) {
		write_done(w, "open", req->result);
		return;
	}
	w->fd = (uv_file)req->result;
	uv_fs_req_cleanup(req);
	w->req.data = w;
	uv_buf_t buf = uv_buf_init((char *)w->buf, WATERMARK_SIZE);
	uv_fs_write(w->loop, &w->req, w->fd, &buf, 1, 0, written_cb);
}

static void write_start(struct watermark *w, raft_index index)
{
	PRE(w->writing == 0);
	w->writing = index;
	watermark_encode(index, w->buf);
	w->req.data = w;
	uv_fs_open(w->loop, &w->req, w->tmp,
		   O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600, opened_cb);
}

static void timer_cb(uv_timer_t *t)
{
	struct watermark *w = t->data;
	if (w->writing != 0) {
		return;
	}
	raft_index index = w->get(w->get_data);
	if (index > w->stored) {
		write_start(w, index);
	}
}

void watermark_start(struct watermark **out, uv_loop_t *loop, const char *dir,
		     raft_index stored, watermark_get_fn get, void *data)
{
	struct watermark *w = tm_calloc(1, sizeof *w);
	w->loop = loop;
	w->path = tm_asprintf("%s/%s", dir, WATERMARK_FILE);
	w->tmp = tm_asprintf("%s/%s.tmp", dir, WATERMARK_FILE);
	w->fd = -1;
	w->stored = stored;
	w->get = get;
	w->get_data = data;
	uv_timer_init(loop, &w->timer);
	w->timer.data = w;
	uv_timer_start(&w->timer, timer_cb, WATERMARK_PERIOD_MS,
		       WATERMARK_PERIOD_MS);
	*out = w;
}

static void timer_closed_cb(uv_handle_t *h)
{
	struct watermark *w = h->data;
	w->timer_closed = true;
	maybe_finish(w);
}

void watermark_close(struct watermark *w, raft_index final,
		     void (*cb)(void *data), void *data)
{
	PRE(!w->closing);
	w->closing = true;
	w->final = final;
	w->close_cb = cb;
	w->close_data = data;
	uv_close((uv_handle_t *)&w->timer, timer_closed_cb);
}

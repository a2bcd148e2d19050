/* Hand-written chaos histories for the checkers' unit tests: events are
 * appended to a text buffer as JSON lines. */
#ifndef TEST_CHAOS_HISTORY_TEXT_H
#define TEST_CHAOS_HISTORY_TEXT_H

#include <stdio.h>
#include <string.h>

struct text {
	char buf[16384];
	size_t len;
};

/* One event: process P, TYPE ("invoke", "ok", ...), F, KEY (-1: none),
 * VALUE as JSON text, TIME; EXTRA is more members (",\"final\":true") or
 * "". */
static inline void ev(struct text *t, int p, const char *type, const char *f,
		      int key, const char *value, long time, const char *extra)
{
	char key_s[32] = "";
	if (key >= 0) {
		snprintf(key_s, sizeof key_s, ",\"key\":%d", key);
	}
	t->len += (size_t)snprintf(
	    t->buf + t->len, sizeof t->buf - t->len,
	    "{\"process\":%d,\"type\":\"%s\",\"f\":\"%s\"%s,\"value\":%s,"
	    "\"time\":%ld%s}\n",
	    p, type, f, key_s, value, time, extra);
}

/* A whole operation: invoke at T1 with IN, complete at T2 with TYPE and
 * OUT. */
static inline void op(struct text *t, int p, const char *f, int key,
		      const char *in, long t1, const char *type,
		      const char *out, long t2)
{
	ev(t, p, "invoke", f, key, in, t1, "");
	ev(t, p, type, f, key, out, t2, "");
}

static inline void line(struct text *t, const char *s)
{
	t->len += (size_t)snprintf(t->buf + t->len, sizeof t->buf - t->len,
				   "%s\n", s);
}

#endif

/* One request to many members (notify.h).
 *
 * Happy path: notify_call copies the members, asks the ALIVE predicate
 * (NOTIFY_ALIVE) and starts up to MAX_CONCURRENT requests on the loop
 * client -> each answer is recorded in its member's result and the next
 * member is started -> when none is left running, finish() closes the
 * call's timer handle, whose close callback runs the user's callback:
 * that keeps it out of notify_call and notify_cancel, which may finish a
 * call at once (no member to call, every member canceled).
 *
 * Failure modes:
 * - a member refuses, times out, answers non-2xx: recorded in its
 *   result; the policy decides whether the call fails (call_status());
 * - hclient_send refuses (the client is closing): recorded at once as
 *   that member's result (TM_SHUTDOWN), the next member is tried;
 * - notify_cancel: members not started are marked TM_CANCELED, those in
 *   flight are canceled on the client and report back as usual;
 * - hclient_close: the client cancels every request, which reports back
 *   with TM_CANCELED; the call finishes normally. */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "internal/lib/assert.h"
#include "internal/lib/mem.h"
#include "internal/notify/notify.h"

#define DEFAULT_MAX_CONCURRENT 8

struct notify_slot {
	struct hclient_request h;
	struct notify_req *req;
	size_t i;
	char *pin;
	bool skipped;	/* NOTIFY_ALIVE: not alive */
	bool in_flight; /* sent, its callback not run yet */
};

static size_t max_concurrent(const struct notify_req *req)
{
	return req->max_concurrent != 0 ? req->max_concurrent
					: DEFAULT_MAX_CONCURRENT;
}

/* ---- finishing ---- */

/* Append "; TEXT" (or TEXT first) to OUT (TM_ERRMSG_SIZE bytes); the
 * rest is cut. */
static void errmsg_append(char *out, const char *text)
{
	size_t len = strlen(out);
	if (len > 0 && len + 2 < TM_ERRMSG_SIZE) {
		memcpy(out + len, "; ", 3);
		len += 2;
	}
	size_t room = TM_ERRMSG_SIZE - 1 - len;
	size_t n = strlen(text);
	n = n < room ? n : room;
	memcpy(out + len, text, n);
	out[len + n] = '\0';
}

/* Does the call fail for result I? */
static bool counts_as_failure(const struct notify_req *req, size_t i)
{
	if (req->results[i].ok) {
		return false;
	}
	switch (req->policy) {
	case NOTIFY_ALL:
		return true;
	case NOTIFY_ALIVE:
		return !req->slots[i].skipped;
	default:
		return false;
	}
}

static void call_status(struct notify_req *req)
{
	req->n_ok = 0;
	size_t failed = 0;
	char list[TM_ERRMSG_SIZE] = "";
	for (size_t i = 0; i < req->n_results; i++) {
		if (req->results[i].ok) {
			req->n_ok++;
		}
		if (counts_as_failure(req, i)) {
			failed++;
			errmsg_append(list, req->results[i].errmsg);
		}
	}
	if (req->canceled) {
		req->status = TM_CANCELED;
		tm_errmsg_printf(req->errmsg, "call to %zu members canceled",
				 req->n_results);
	} else if (failed > 0) {
		req->status = TM_IO;
		tm_errmsg_printf(req->errmsg, "%zu of %zu members failed: %s",
				 failed, req->n_results, list);
	}
}

static void timer_closed_cb(uv_handle_t *h)
{
	struct notify_req *req = h->data;
	for (size_t i = 0; i < req->n_results; i++) {
		tm_free(req->slots[i].pin);
	}
	tm_free(req->slots);
	req->slots = NULL;
	req->finishing = false;
	req->cb(req); /* may free REQ */
}

static void finish(struct notify_req *req)
{
	PRE(!req->finishing && req->running == 0);
	req->finishing = true;
	call_status(req);
	uv_close((uv_handle_t *)&req->timer, timer_closed_cb);
}

static void maybe_finish(struct notify_req *req)
{
	if (req->running == 0 && req->next == req->n_results &&
	    !req->finishing) {
		finish(req);
	}
}

/* ---- one member ---- */

/* The "error" of an error envelope in BODY, or BODY's start. */
static void answer_error(struct notify_result *r)
{
	char why[160] = "";
	cJSON *json = r->body != NULL
			  ? cJSON_ParseWithLength(r->body, r->body_len)
			  : NULL;
	const cJSON *error = cJSON_GetObjectItemCaseSensitive(json, "error");
	if (cJSON_IsString(error)) {
		snprintf(why, sizeof why, "%s", error->valuestring);
	} else if (r->body != NULL) {
		snprintf(why, sizeof why, "%.100s", r->body);
	}
	cJSON_Delete(json);
	tm_errmsg_printf(r->errmsg, "%s: HTTP %ld%s%s", r->name, r->http_status,
			 why[0] != '\0' ? ": " : "", why);
}

static void record(struct notify_slot *s)
{
	struct notify_result *r = &s->req->results[s->i];
	r->status = s->h.status;
	r->http_status = s->h.status == 0 ? s->h.http_status : 0;
	r->body = s->h.body_out; /* taken */
	r->body_len = s->h.body_out_len;
	s->h.body_out = NULL;
	s->h.body_out_len = 0;
	r->ok = r->status == 0 && r->http_status >= 200 && r->http_status < 300;
	if (r->ok) {
		r->errmsg[0] = '\0';
	} else if (r->status == 0) {
		answer_error(r);
	} else {
		tm_errmsg_printf(r->errmsg, "%s: %s", r->name, s->h.errmsg);
	}
	hclient_request_clear(&s->h);
}

static void pump(struct notify_req *req);

static void slot_cb(struct hclient_request *h)
{
	struct notify_slot *s = h->data;
	struct notify_req *req = s->req;
	s->in_flight = false;
	record(s);
	req->running--;
	pump(req);
	maybe_finish(req);
}

static void fail_slot(struct notify_slot *s, int status, const char *why)
{
	struct notify_result *r = &s->req->results[s->i];
	r->status = status;
	tm_errmsg_printf(r->errmsg, "%s: %s", r->name, why);
}

/* Start members while there is room. */
static void pump(struct notify_req *req)
{
	while (!req->canceled && req->next < req->n_results &&
	       req->running < max_concurrent(req)) {
		struct notify_slot *s = &req->slots[req->next++];
		if (s->skipped) {
			continue;
		}
		req->results[s->i].called = true;
		int rv = hclient_send(req->client, &s->h, slot_cb);
		if (rv != 0) {
			char why[TM_ERRMSG_SIZE];
			snprintf(why, sizeof why, "%s", s->h.errmsg);
			fail_slot(s, rv, why);
			req->results[s->i].called = false;
			continue;
		}
		s->in_flight = true;
		req->running++;
	}
}

/* ---- API ---- */

static int check_inputs(struct notify_req *req,
			const struct notify_member *members, size_t n)
{
	if (req->method == NULL || req->path == NULL) {
		tm_errmsg_printf(req->errmsg, "notify: no method or path");
		return TM_INVALID;
	}
	if (req->policy == NOTIFY_ALIVE && req->alive == NULL) {
		tm_errmsg_printf(req->errmsg,
				 "notify: NOTIFY_ALIVE needs a predicate");
		return TM_INVALID;
	}
	for (size_t i = 0; i < n; i++) {
		if (members[i].name == NULL || members[i].address == NULL ||
		    members[i].pin == NULL) {
			tm_errmsg_printf(req->errmsg,
					 "notify: member %zu lacks a name, "
					 "address or pin",
					 i);
			return TM_INVALID;
		}
	}
	return 0;
}

static void slot_init(struct notify_req *req, size_t i,
		      const struct notify_member *m)
{
	struct notify_slot *s = &req->slots[i];
	struct notify_result *r = &req->results[i];
	r->name = tm_strdup(m->name);
	r->address = tm_strdup(m->address);
	s->req = req;
	s->i = i;
	s->pin = tm_strdup(m->pin);
	s->h.data = s;
	s->h.method = req->method;
	s->h.address = r->address;
	s->h.path = req->path;
	s->h.pin = s->pin;
	s->h.body = req->body;
	s->h.body_len = req->body_len;
	s->h.content_type = req->content_type;
	s->h.timeout_ms = req->timeout_ms;
	if (req->policy == NOTIFY_ALIVE && !req->alive(req->alive_data, m)) {
		s->skipped = true;
		fail_slot(s, TM_CONNECT, "not called: not alive");
	}
}

int notify_call(struct hclient *c, struct notify_req *req,
		const struct notify_member *members, size_t n, notify_cb cb)
{
	PRE(c != NULL && req != NULL && cb != NULL);
	PRE(req->slots == NULL && !req->finishing);
	notify_req_clear(req);
	req->status = 0;
	req->errmsg[0] = '\0';
	int rv = check_inputs(req, members, n);
	if (rv != 0) {
		return rv;
	}
	req->client = c;
	req->cb = cb;
	req->canceled = false;
	req->next = 0;
	req->running = 0;
	req->n_results = n;
	req->n_ok = 0;
	/* One more than N: tm_calloc(0) need not return a pointer. */
	req->results = tm_calloc(n + 1, sizeof *req->results);
	req->slots = tm_calloc(n + 1, sizeof *req->slots);
	for (size_t i = 0; i < n; i++) {
		slot_init(req, i, &members[i]);
	}
	uv_timer_init(hclient_loop(c), &req->timer);
	req->timer.data = req;
	pump(req);
	maybe_finish(req);
	return 0;
}

void notify_cancel(struct notify_req *req)
{
	PRE(req->slots != NULL);
	if (req->canceled || req->finishing) {
		return;
	}
	req->canceled = true;
	for (size_t i = req->next; i < req->n_results; i++) {
		if (!req->slots[i].skipped) {
			fail_slot(&req->slots[i], TM_CANCELED, "canceled");
		}
	}
	req->next = req->n_results;
	for (size_t i = 0; i < req->n_results; i++) {
		if (req->slots[i].in_flight) {
			hclient_cancel(&req->slots[i].h); /* reports later */
		}
	}
	maybe_finish(req);
}

void notify_req_clear(struct notify_req *req)
{
	PRE(req->slots == NULL);
	for (size_t i = 0; i < req->n_results; i++) {
		tm_free(req->results[i].name);
		tm_free(req->results[i].address);
		tm_free(req->results[i].body);
	}
	tm_free(req->results);
	req->results = NULL;
	req->n_results = 0;
	req->n_ok = 0;
}

const struct notify_result *notify_result_of(const struct notify_req *req,
					     const char *name)
{
	for (size_t i = 0; i < req->n_results; i++) {
		if (strcmp(req->results[i].name, name) == 0) {
			return &req->results[i];
		}
	}
	return NULL;
}

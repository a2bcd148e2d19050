/* The notifier against real TLS servers on 127.0.42.x: policies, one
 * result per member, bounded concurrency, cancellation, shutdown. */
#include <stdio.h>
#include <string.h>

#include "internal/lib/mem.h"
#include "internal/notify/notify.h"
#include "test/unit/hclient/fixture.h"

#define SUBNET "127.0.42"
#define REFUSED SUBNET ".29:1" /* nothing listens there */

/* ---- server side ---- */

/* 200 with "<server address> <body>". */
static void ok(struct rest_request *req)
{
	struct hc_server *s = rest_server_data(req);
	s->handled++;
	size_t len;
	const char *body = rest_body(req, &len);
	char *out = tm_asprintf("%s %.*s", s->address, (int)len, body);
	rest_respond_raw(req, 200, "text/plain", out, strlen(out), NULL);
	tm_free(out);
}

static void refuse(struct rest_request *req)
{
	struct hc_server *s = rest_server_data(req);
	s->handled++;
	rest_respond_error(req, 400, "bad thing");
}

static void hold(struct rest_request *req)
{
	struct hc_server *s = rest_server_data(req);
	s->handled++;
	hc_hold(req);
}

static const struct rest_route ok_routes[] = {
    {.path = "/x", .get = ok, .post = ok},
};
static const struct rest_route refuse_routes[] = {
    {.path = "/x", .get = refuse, .post = refuse},
};
static const struct rest_route hold_routes[] = {
    {.path = "/x", .get = hold, .post = hold},
};

static struct hc_server *start_ok(struct hc *hc, int ip)
{
	return hc_rest_start(hc, ip, ok_routes, 1);
}

static int setup(void **state) { return hc_setup_on(state, SUBNET); }

/* ---- calling ---- */

struct done {
	unsigned calls;
	bool inside;
	bool early;
};

static void done_cb(struct notify_req *req)
{
	struct done *d = req->data;
	d->calls++;
	if (d->inside) {
		d->early = true;
	}
}

static bool done_called(void *arg) { return ((struct done *)arg)->calls > 0; }

#define MAX_MEMBERS 8

struct members {
	struct notify_member m[MAX_MEMBERS];
	char names[MAX_MEMBERS][8];
	size_t n;
};

static void add(struct members *ms, const struct hc_server *s)
{
	size_t i = ms->n++;
	snprintf(ms->names[i], sizeof ms->names[i], "n%zu", i + 1);
	ms->m[i] = (struct notify_member){ms->names[i], s->address, s->fp};
}

/* A member at ADDRESS pinned to PIN. */
static void add_at(struct members *ms, const char *address, const char *pin)
{
	size_t i = ms->n++;
	snprintf(ms->names[i], sizeof ms->names[i], "n%zu", i + 1);
	ms->m[i] = (struct notify_member){ms->names[i], address, pin};
}

static void req_init(struct notify_req *r, struct done *d,
		     enum notify_policy policy)
{
	memset(r, 0, sizeof *r);
	memset(d, 0, sizeof *d);
	r->data = d;
	r->method = "POST";
	r->path = "/x";
	r->body = "hi";
	r->body_len = 2;
	r->content_type = "text/plain";
	r->policy = policy;
}

static void call(struct hc *hc, struct notify_req *r, struct members *ms)
{
	struct done *d = r->data;
	d->inside = true;
	int rv = notify_call(hc->client, r, ms->m, ms->n, done_cb);
	d->inside = false;
	if (rv != 0) {
		fail_msg("notify_call: %s", r->errmsg);
	}
	assert_int_equal(d->calls, 0);
}

static void wait_done(struct hc *hc, struct notify_req *r)
{
	struct done *d = r->data;
	assert_true(hc_run_until(hc, done_called, d, HC_DEADLINE_MS));
	assert_false(d->early);
	hc_run_for(hc, 20); /* a second callback would come now */
	assert_int_equal(d->calls, 1);
}

/* ---- policies ---- */

static void all_answer(void **state)
{
	struct hc *hc = *state;
	struct members ms = {0};
	struct hc_server *s[3];
	for (int i = 0; i < 3; i++) {
		s[i] = start_ok(hc, i + 1);
		add(&ms, s[i]);
	}
	struct notify_req r;
	struct done d;
	req_init(&r, &d, NOTIFY_ALL);
	call(hc, &r, &ms);
	wait_done(hc, &r);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.errmsg, "");
	assert_int_equal(r.n_results, 3);
	assert_int_equal(r.n_ok, 3);
	for (int i = 0; i < 3; i++) {
		const struct notify_result *res = &r.results[i];
		assert_string_equal(res->name, ms.names[i]);
		assert_string_equal(res->address, s[i]->address);
		assert_true(res->called);
		assert_true(res->ok);
		assert_int_equal(res->status, 0);
		assert_int_equal(res->http_status, 200);
		char want[96];
		snprintf(want, sizeof want, "%s hi", s[i]->address);
		assert_string_equal(res->body, want);
		assert_int_equal(res->body_len, strlen(want));
		assert_int_equal(s[i]->handled, 1);
	}
	assert_ptr_equal(notify_result_of(&r, "n2"), &r.results[1]);
	assert_null(notify_result_of(&r, "n9"));
	notify_req_clear(&r);
}

/* n1, n2 answer 200, n3 answers 400, n4 cannot be reached. */
static void mixed_members(struct hc *hc, struct members *ms)
{
	add(ms, start_ok(hc, 1));
	add(ms, start_ok(hc, 2));
	add(ms, hc_rest_start(hc, 3, refuse_routes, 1));
	add_at(ms, REFUSED, hc->servers[0].fp);
}

static void check_mixed_results(const struct notify_req *r)
{
	assert_int_equal(r->n_results, 4);
	assert_int_equal(r->n_ok, 2);
	assert_true(r->results[0].ok && r->results[1].ok);
	const struct notify_result *n3 = &r->results[2];
	assert_true(n3->called);
	assert_false(n3->ok);
	assert_int_equal(n3->status, 0);
	assert_int_equal(n3->http_status, 400);
	assert_string_equal(n3->errmsg, "n3: HTTP 400: bad thing");
	const struct notify_result *n4 = &r->results[3];
	assert_true(n4->called);
	assert_false(n4->ok);
	assert_int_equal(n4->status, TM_CONNECT);
	assert_int_equal(n4->http_status, 0);
	assert_null(n4->body);
	assert_true(strncmp(n4->errmsg, "n4: ", 4) == 0);
}

static void all_fails_when_one_fails(void **state)
{
	struct hc *hc = *state;
	struct members ms = {0};
	mixed_members(hc, &ms);
	struct notify_req r;
	struct done d;
	req_init(&r, &d, NOTIFY_ALL);
	call(hc, &r, &ms);
	wait_done(hc, &r);
	assert_int_equal(r.status, TM_IO);
	check_mixed_results(&r);
	assert_true(strncmp(r.errmsg,
			    "2 of 4 members failed: n3: HTTP 400: bad thing; "
			    "n4: ",
			    50) == 0);
	notify_req_clear(&r);
}

static void try_all_reports_each(void **state)
{
	struct hc *hc = *state;
	struct members ms = {0};
	mixed_members(hc, &ms);
	struct notify_req r;
	struct done d;
	req_init(&r, &d, NOTIFY_TRY_ALL);
	call(hc, &r, &ms);
	wait_done(hc, &r);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.errmsg, "");
	check_mixed_results(&r);
	notify_req_clear(&r);
}

/* Alive: every member but the one named by DATA. */
static bool alive_but(void *data, const struct notify_member *m)
{
	return strcmp(m->name, data) != 0;
}

static void alive_skips_the_dead(void **state)
{
	struct hc *hc = *state;
	struct members ms = {0};
	struct hc_server *s1 = start_ok(hc, 1);
	struct hc_server *s2 = start_ok(hc, 2);
	struct hc_server *s3 = start_ok(hc, 3);
	add(&ms, s1);
	add(&ms, s2);
	add(&ms, s3);
	struct notify_req r;
	struct done d;
	req_init(&r, &d, NOTIFY_ALIVE);
	r.alive = alive_but;
	r.alive_data = "n2";
	call(hc, &r, &ms);
	wait_done(hc, &r);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.n_ok, 2);
	assert_int_equal(s2->handled, 0);
	assert_int_equal(s1->handled + s3->handled, 2);
	const struct notify_result *n2 = notify_result_of(&r, "n2");
	assert_false(n2->called);
	assert_false(n2->ok);
	assert_int_equal(n2->status, TM_CONNECT);
	assert_string_equal(n2->errmsg, "n2: not called: not alive");
	notify_req_clear(&r);

	/* An alive member that fails fails the call. */
	struct members ms2 = {0};
	add(&ms2, s1);
	add_at(&ms2, REFUSED, s1->fp);
	add(&ms2, s3);
	req_init(&r, &d, NOTIFY_ALIVE);
	r.alive = alive_but;
	r.alive_data = "n3";
	call(hc, &r, &ms2);
	wait_done(hc, &r);
	assert_int_equal(r.status, TM_IO);
	assert_true(strncmp(r.errmsg, "1 of 3 members failed: n2: ", 27) == 0);
	assert_int_equal(r.results[1].status, TM_CONNECT);
	assert_false(r.results[2].called);
	assert_int_equal(s3->handled, 1);
	notify_req_clear(&r);
}

static void pin_mismatch(void **state)
{
	struct hc *hc = *state;
	struct members ms = {0};
	struct hc_server *s1 = start_ok(hc, 1);
	struct hc_server *s2 = start_ok(hc, 2);
	add_at(&ms, s1->address, s2->fp);
	struct notify_req r;
	struct done d;
	req_init(&r, &d, NOTIFY_ALL);
	call(hc, &r, &ms);
	wait_done(hc, &r);
	assert_int_equal(r.status, TM_IO);
	assert_int_equal(r.results[0].status, TM_PIN);
	assert_int_equal(s1->handled, 0);
	notify_req_clear(&r);
}

static void member_times_out(void **state)
{
	struct hc *hc = *state;
	struct members ms = {0};
	add(&ms, hc_rest_start(hc, 1, hold_routes, 1));
	add(&ms, start_ok(hc, 2));
	struct notify_req r;
	struct done d;
	req_init(&r, &d, NOTIFY_TRY_ALL);
	r.timeout_ms = 300;
	uint64_t t0 = uv_hrtime();
	call(hc, &r, &ms);
	wait_done(hc, &r);
	uint64_t ms_taken = (uv_hrtime() - t0) / 1000000;
	assert_true(ms_taken >= 250);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.results[0].status, TM_TIMEOUT);
	assert_true(strncmp(r.results[0].errmsg, "n1: ", 4) == 0);
	assert_true(r.results[1].ok);
	notify_req_clear(&r);
}

static void no_members(void **state)
{
	struct hc *hc = *state;
	struct members ms = {0};
	struct notify_req r;
	struct done d;
	req_init(&r, &d, NOTIFY_ALL);
	call(hc, &r, &ms); /* asserts the callback did not run inside */
	wait_done(hc, &r);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.n_results, 0);
	notify_req_clear(&r);
}

static void bad_inputs(void **state)
{
	struct hc *hc = *state;
	struct members ms = {0};
	struct hc_server *s1 = start_ok(hc, 1);
	add(&ms, s1);
	struct notify_req r;
	struct done d;
	req_init(&r, &d, NOTIFY_ALIVE); /* no predicate */
	assert_int_equal(notify_call(hc->client, &r, ms.m, ms.n, done_cb),
			 TM_INVALID);
	assert_non_null(strstr(r.errmsg, "predicate"));
	req_init(&r, &d, NOTIFY_ALL);
	ms.m[0].pin = NULL;
	assert_int_equal(notify_call(hc->client, &r, ms.m, ms.n, done_cb),
			 TM_INVALID);
	hc_run_for(hc, 20);
	assert_int_equal(d.calls, 0);
	assert_int_equal(s1->handled, 0);
}

/* ---- concurrency, cancellation, shutdown ---- */

struct count {
	struct hc *hc;
	unsigned n;
};

static unsigned handled(struct hc *hc)
{
	unsigned n = 0;
	for (unsigned i = 0; i < hc->n_servers; i++) {
		n += hc->servers[i].handled;
	}
	return n;
}

static bool handled_at_least(void *arg)
{
	struct count *c = arg;
	return handled(c->hc) >= c->n;
}

struct release {
	struct hc *hc;
	struct done *d;
	unsigned max_held; /* the most requests held at once */
};

/* Answer what is held, one at a time, until the call is done. */
static bool release_until_done(void *arg)
{
	struct release *rel = arg;
	if (rel->hc->n_held > rel->max_held) {
		rel->max_held = rel->hc->n_held;
	}
	hc_answer_held(rel->hc, 200);
	return rel->d->calls > 0;
}

static void bounded_concurrency(void **state)
{
	struct hc *hc = *state;
	struct members ms = {0};
	for (int i = 0; i < 5; i++) {
		add(&ms, hc_rest_start(hc, i + 1, hold_routes, 1));
	}
	struct notify_req r;
	struct done d;
	req_init(&r, &d, NOTIFY_ALL);
	r.max_concurrent = 2;
	call(hc, &r, &ms);
	struct count c = {hc, 2};
	assert_true(hc_run_until(hc, handled_at_least, &c, HC_DEADLINE_MS));
	hc_run_for(hc, 200);
	assert_int_equal(handled(hc), 2); /* the others wait their turn */
	assert_int_equal(hc->n_held, 2);
	struct release rel = {hc, &d, 0};
	assert_true(hc_run_until(hc, release_until_done, &rel, HC_DEADLINE_MS));
	assert_true(rel.max_held <= 2);
	assert_int_equal(handled(hc), 5);
	assert_int_equal(d.calls, 1);
	assert_false(d.early);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.n_ok, 5);
	notify_req_clear(&r);
}

static void cancel(void **state)
{
	struct hc *hc = *state;
	struct members ms = {0};
	for (int i = 0; i < 3; i++) {
		add(&ms, hc_rest_start(hc, i + 1, hold_routes, 1));
	}
	struct notify_req r;
	struct done d;
	req_init(&r, &d, NOTIFY_TRY_ALL);
	r.max_concurrent = 2;
	call(hc, &r, &ms);
	struct count c = {hc, 2};
	assert_true(hc_run_until(hc, handled_at_least, &c, HC_DEADLINE_MS));
	d.inside = true;
	notify_cancel(&r);
	notify_cancel(&r); /* twice is harmless */
	d.inside = false;
	wait_done(hc, &r);
	assert_int_equal(r.status, TM_CANCELED);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(r.results[i].status, TM_CANCELED);
		assert_false(r.results[i].ok);
		assert_true(r.results[i].called == (i < 2));
	}
	assert_string_equal(r.results[2].errmsg, "n3: canceled");
	assert_int_equal(handled(hc), 2);
	notify_req_clear(&r);
}

static void client_closed(void **state)
{
	struct hc *hc = *state;
	struct members ms = {0};
	for (int i = 0; i < 3; i++) {
		add(&ms, hc_rest_start(hc, i + 1, hold_routes, 1));
	}
	struct notify_req r;
	struct done d;
	req_init(&r, &d, NOTIFY_ALL);
	r.max_concurrent = 2;
	call(hc, &r, &ms);
	struct count c = {hc, 2};
	assert_true(hc_run_until(hc, handled_at_least, &c, HC_DEADLINE_MS));
	hc_client_close(hc, hc->client);
	hc->client = NULL;
	wait_done(hc, &r);
	assert_int_equal(r.status, TM_IO);
	assert_int_equal(r.results[0].status, TM_CANCELED);
	assert_int_equal(r.results[1].status, TM_CANCELED);
	/* The third was not started: the client refused it. */
	assert_int_equal(r.results[2].status, TM_SHUTDOWN);
	assert_false(r.results[2].called);
	notify_req_clear(&r);
}

/* The same request may be used again once its callback ran. */
static void reuse(void **state)
{
	struct hc *hc = *state;
	struct members ms = {0};
	add(&ms, start_ok(hc, 1));
	struct notify_req r;
	struct done d;
	req_init(&r, &d, NOTIFY_ALL);
	for (int i = 0; i < 3; i++) {
		d.calls = 0;
		call(hc, &r, &ms);
		wait_done(hc, &r);
		assert_int_equal(r.status, 0);
		assert_int_equal(r.n_ok, 1);
	}
	notify_req_clear(&r);
	assert_int_equal(hc->servers[0].handled, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(all_answer, setup, hc_teardown),
	    cmocka_unit_test_setup_teardown(all_fails_when_one_fails, setup,
					    hc_teardown),
	    cmocka_unit_test_setup_teardown(try_all_reports_each, setup,
					    hc_teardown),
	    cmocka_unit_test_setup_teardown(alive_skips_the_dead, setup,
					    hc_teardown),
	    cmocka_unit_test_setup_teardown(pin_mismatch, setup, hc_teardown),
	    cmocka_unit_test_setup_teardown(member_times_out, setup,
					    hc_teardown),
	    cmocka_unit_test_setup_teardown(no_members, setup, hc_teardown),
	    cmocka_unit_test_setup_teardown(bad_inputs, setup, hc_teardown),
	    cmocka_unit_test_setup_teardown(bounded_concurrency, setup,
					    hc_teardown),
	    cmocka_unit_test_setup_teardown(cancel, setup, hc_teardown),
	    cmocka_unit_test_setup_teardown(client_closed, setup, hc_teardown),
	    cmocka_unit_test_setup_teardown(reuse, setup, hc_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

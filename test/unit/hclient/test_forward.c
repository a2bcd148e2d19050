/* Relaying REST requests: a follower's REST server relays to a leader's,
 * both real TLS servers on 127.0.26.x. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/api/forward.h"
#include "internal/lib/mem.h"
#include "test/unit/hclient/fixture.h"

/* ---- the leader ---- */

struct leader_state {
	char forwarded_by[64]; /* X-Thermionic-Forwarded seen last */
};

static void note_forwarded(struct rest_request *req)
{
	struct hc_server *s = rest_server_data(req);
	struct leader_state *ls = s->data;
	const char *by = rest_header(req, API_FORWARDED_HEADER);
	snprintf(ls->forwarded_by, sizeof ls->forwarded_by, "%s",
		 by != NULL ? by : "");
	s->handled++;
}

static void thing_get(struct rest_request *req)
{
	note_forwarded(req);
	cJSON *m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "query", rest_query(req, "x"));
	rest_respond_sync(req, m, "abc123");
}

/* A write guarded by If-Match: echoes type and body as it got them. */
static void thing_put(struct rest_request *req)
{
	note_forwarded(req);
	const char *if_match = rest_header(req, "If-Match");
	if (!rest_etag_matches(if_match, "abc123")) {
		rest_respond_error(req, 412, "the thing changed (If-Match %s)",
				   if_match != NULL ? if_match : "absent");
		return;
	}
	size_t len;
	const char *body = rest_body(req, &len);
	const char *type = rest_header(req, "Content-Type");
	rest_respond_raw(req, 200, type != NULL ? type : "text/plain", body,
			 len, "ETag: \"def456\"\r\n");
}

static void missing_get(struct rest_request *req)
{
	note_forwarded(req);
	rest_respond_error(req, 404, "not found: %s", rest_path(req));
}

static void hold_post(struct rest_request *req)
{
	note_forwarded(req);
	hc_hold(req);
}

/* A member that does not lead refuses what is relayed to it. */
static void stale_post(struct rest_request *req)
{
	note_forwarded(req);
	api_refuse_not_leader(req, "127.0.26.7:8443",
			      "this member is not the leader");
}

static const struct rest_route leader_routes[] = {
    {.path = "/1.0/thing", .get = thing_get, .put = thing_put},
    {.path = "/1.0/missing", .get = missing_get},
    {.path = "/1.0/hold", .post = hold_post},
    {.path = "/1.0/stale", .post = stale_post},
};

/* ---- the follower: relays everything ---- */

struct relay {
	struct hclient *client;
	char address[64];
	char pin[TLS_FINGERPRINT_LEN + 1];
	bool deposed; /* the follower's view: the target no longer leads */
	bool with_cb; /* relay with a callback (relay_outcome) */
	int outcome;  /* the callback's, -1 before */
	char errmsg[TM_ERRMSG_SIZE];
};

static bool target_leads(struct rest_request *req, const char *address)
{
	struct hc_server *s = rest_server_data(req);
	struct relay *r = s->data;
	assert_string_equal(address, r->address);
	return !r->deposed;
}

struct relay_call {
	struct relay *r;
	struct rest_request *req;
};

/* Record the outcome; a request not answered is answered 299 here. */
static void relay_outcome(void *arg, enum api_forward_outcome outcome,
			  const char *errmsg)
{
	struct relay_call *rc = arg;
	rc->r->outcome = (int)outcome;
	snprintf(rc->r->errmsg, sizeof rc->r->errmsg, "%s",
		 errmsg != NULL ? errmsg : "");
	if (outcome != API_FORWARD_ANSWERED) {
		rest_respond_raw(rc->req, 299, "text/plain", "", 0, NULL);
	}
	tm_free(rc);
}

static void relay(struct rest_request *req)
{
	struct hc_server *s = rest_server_data(req);
	struct relay *r = s->data;
	s->handled++;
	struct relay_call *rc = NULL;
	if (r->with_cb) {
		rc = tm_calloc(1, sizeof *rc);
		rc->r = r;
		rc->req = req;
	}
	api_forward_ex(req, r->client, r->address, r->pin, "member-f",
		       target_leads, rc != NULL ? relay_outcome : NULL, rc);
}

static const struct rest_route follower_routes[] = {
    {.path = "/1.0/thing", .get = relay, .put = relay},
    {.path = "/1.0/missing", .get = relay},
    {.path = "/1.0/hold", .post = relay},
    {.path = "/1.0/stale", .post = relay},
};

struct fwd {
	struct hc *hc;
	struct hc_server *leader;
	struct hc_server *follower;
	struct leader_state ls;
	struct relay relay;
};

/* Follower relaying to TARGET (the leader unless NULL: ADDRESS/PIN). */
static void fwd_start(struct hc *hc, struct fwd *f, struct hc_server *target,
		      const char *address)
{
	memset(f, 0, sizeof *f);
	f->hc = hc;
	f->leader = hc_rest_start(hc, 1, leader_routes, 4);
	f->leader->data = &f->ls;
	f->follower = hc_rest_start(hc, 2, follower_routes, 4);
	f->follower->data = &f->relay;
	f->relay.outcome = -1;
	f->relay.client = hc_client_new(hc, 1000, 0);
	if (target == NULL) {
		target = f->leader;
	}
	snprintf(f->relay.address, sizeof f->relay.address, "%s",
		 address != NULL ? address : target->address);
	snprintf(f->relay.pin, sizeof f->relay.pin, "%s", target->fp);
}

static void fwd_stop(struct fwd *f) { hc_client_close(f->hc, f->relay.client); }

/* Send R (inputs set but address and pin) to S and wait. */
static void call(struct hc *hc, struct hc_server *s, struct hclient_request *r)
{
	struct hc_done d = {0};
	r->address = s->address;
	r->pin = s->fp;
	hc_send(hc->client, r, &d);
	hc_wait(hc, &d);
	assert_int_equal(r->status, 0);
}

static void assert_same_answer(const struct hclient_request *a,
			       const struct hclient_request *b)
{
	assert_int_equal(a->http_status, b->http_status);
	assert_string_equal(a->content_type_out, b->content_type_out);
	if (a->etag == NULL || b->etag == NULL) {
		assert_ptr_equal(a->etag, b->etag);
	} else {
		assert_string_equal(a->etag, b->etag);
	}
	assert_int_equal(a->body_out_len, b->body_out_len);
	assert_memory_equal(a->body_out, b->body_out, a->body_out_len);
}

/* Direct and relayed answers to the same request. */
static void compare(struct fwd *f, struct hclient_request *direct,
		    struct hclient_request *relayed)
{
	call(f->hc, f->leader, direct);
	assert_string_equal(f->ls.forwarded_by, "");
	call(f->hc, f->follower, relayed);
	assert_string_equal(f->ls.forwarded_by, "member-f");
	assert_same_answer(direct, relayed);
}

static void request(struct hclient_request *r, const char *method,
		    const char *path)
{
	memset(r, 0, sizeof *r);
	r->method = method;
	r->path = path;
}

static void relays_answers(void **state)
{
	struct hc *hc = *state;
	struct fwd f;
	fwd_start(hc, &f, NULL, NULL);
	struct hclient_request a, b;

	request(&a, "GET", "/1.0/thing?x=a%20b&y");
	request(&b, "GET", "/1.0/thing?x=a%20b&y");
	compare(&f, &a, &b);
	assert_int_equal(b.http_status, 200);
	assert_string_equal(b.etag, "\"abc123\"");
	assert_non_null(strstr(b.body_out, "\"query\":\"a b\""));
	hclient_request_clear(&a);
	hclient_request_clear(&b);

	/* A write: body, type and If-Match reach the leader. */
	const char *body = "{\"v\":\"\xc3\xa9\\u0000\"}";
	request(&a, "PUT", "/1.0/thing");
	a.body = body;
	a.body_len = strlen(body);
	a.content_type = "application/json; charset=utf-8";
	a.headers = "If-Match: \"abc123\"\r\n";
	b = a;
	compare(&f, &a, &b);
	assert_int_equal(b.http_status, 200);
	assert_string_equal(b.content_type_out,
			    "application/json; charset=utf-8");
	assert_string_equal(b.etag, "\"def456\"");
	assert_string_equal(b.body_out, body);
	hclient_request_clear(&a);
	hclient_request_clear(&b);

	/* Error envelopes, as the leader wrote them. */
	request(&a, "PUT", "/1.0/thing");
	a.body = "{}";
	a.body_len = 2;
	a.headers = "If-Match: \"stale\"\r\n";
	b = a;
	compare(&f, &a, &b);
	assert_int_equal(b.http_status, 412);
	hclient_request_clear(&a);
	hclient_request_clear(&b);
	request(&a, "GET", "/1.0/missing");
	request(&b, "GET", "/1.0/missing");
	compare(&f, &a, &b);
	assert_int_equal(b.http_status, 404);
	assert_non_null(strstr(b.body_out, "not found: /1.0/missing"));
	hclient_request_clear(&a);
	hclient_request_clear(&b);
	fwd_stop(&f);
}

/* The "error" of an error envelope (owned). */
static char *envelope_error(const struct hclient_request *r)
{
	cJSON *j = cJSON_ParseWithLength(r->body_out, r->body_out_len);
	assert_non_null(j);
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
	assert_true(cJSON_IsString(e));
	char *out = tm_strdup(e->valuestring);
	cJSON_Delete(j);
	return out;
}

static void never_relayed_twice(void **state)
{
	struct hc *hc = *state;
	struct fwd f;
	fwd_start(hc, &f, NULL, NULL);
	struct hclient_request r;
	request(&r, "GET", "/1.0/thing");
	r.headers = API_FORWARDED_HEADER ": member-x\r\n";
	call(hc, f.follower, &r);
	assert_int_equal(r.http_status, 503);
	char *e = envelope_error(&r);
	assert_string_equal(e, "not relaying a request relayed already (by "
			       "member-x): the members disagree about who "
			       "leads; retry");
	assert_int_equal(f.leader->handled, 0);
	tm_free(e);
	hclient_request_clear(&r);
	fwd_stop(&f);
}

static void leader_down(void **state)
{
	struct hc *hc = *state;
	struct fwd f;
	fwd_start(hc, &f, NULL, "127.0.26.9:1");
	struct hclient_request r;
	request(&r, "PUT", "/1.0/thing");
	r.body = "{}";
	r.body_len = 2;
	call(hc, f.follower, &r);
	assert_int_equal(r.http_status, 503);
	assert_string_equal(r.content_type_out, "application/json");
	char *e = envelope_error(&r);
	assert_string_equal(e, "no leader reachable: connect to "
			       "127.0.26.9:1: connection refused");
	tm_free(e);
	hclient_request_clear(&r);
	fwd_stop(&f);
}

static void leader_with_wrong_certificate(void **state)
{
	struct hc *hc = *state;
	struct fwd f;
	fwd_start(hc, &f, NULL, NULL);
	/* Pinned to the follower's certificate, not the leader's. */
	snprintf(f.relay.pin, sizeof f.relay.pin, "%s", f.follower->fp);
	struct hclient_request r;
	request(&r, "GET", "/1.0/thing");
	call(hc, f.follower, &r);
	assert_int_equal(r.http_status, 503);
	char *e = envelope_error(&r);
	char want[TM_ERRMSG_SIZE];
	snprintf(want, sizeof want,
		 "no leader reachable: %s presented certificate %s, not the "
		 "pinned %s",
		 f.leader->address, f.leader->fp, f.follower->fp);
	assert_string_equal(e, want);
	assert_int_equal(f.leader->handled, 0);
	tm_free(e);
	hclient_request_clear(&r);
	fwd_stop(&f);
}

static void leader_lost_mid_request(void **state)
{
	struct hc *hc = *state;
	struct hc_server *slam = hc_raw_start(hc, 4, HC_RAW_SLAM);
	struct fwd f;
	fwd_start(hc, &f, slam, NULL);
	struct hclient_request r;
	request(&r, "PUT", "/1.0/thing");
	r.body = "{}";
	r.body_len = 2;
	call(hc, f.follower, &r);
	assert_int_equal(r.http_status, 503);
	char *e = envelope_error(&r);
	char want[TM_ERRMSG_SIZE];
	snprintf(want, sizeof want,
		 "lost contact with the leader %s while the request was in "
		 "flight: it may or may not have been applied (connection to "
		 "%s lost: ",
		 slam->address, slam->address);
	assert_memory_equal(e, want, strlen(want));
	assert_int_equal(slam->handled, 1);
	tm_free(e);
	hclient_request_clear(&r);
	fwd_stop(&f);
}

static bool leader_holds(void *arg) { return ((struct hc *)arg)->n_held == 1; }

static bool peer_gone(void *arg)
{
	struct rest_request *req = arg;
	struct conn *c = rest_conn(req);
	return c == NULL || conn_peer_closed(c);
}

/* The target stops leading while it holds the request (a partition
 * cut it off): the follower gives up after the grace, long before the
 * request's timeout, and says the outcome is unknown. */
static void leader_deposed_mid_request(void **state)
{
	struct hc *hc = *state;
	struct fwd f;
	fwd_start(hc, &f, NULL, NULL);
	struct hclient_request r;
	struct hc_done d = {0};
	request(&r, "POST", "/1.0/hold");
	r.address = f.follower->address;
	r.pin = f.follower->fp;
	hc_send(hc->client, &r, &d);
	assert_true(hc_run_until(hc, leader_holds, hc, HC_DEADLINE_MS));
	uint64_t t0 = uv_now(&hc->loop);
	f.relay.deposed = true;
	hc_wait(hc, &d);
	uint64_t waited = uv_now(&hc->loop) - t0;
	assert_true(waited >= API_FORWARD_LEADER_GRACE_MS);
	assert_int_equal(r.http_status, 503);
	char *e = envelope_error(&r);
	char want[TM_ERRMSG_SIZE];
	snprintf(want, sizeof want,
		 "lost contact with the leader %s while the request was in "
		 "flight: it may or may not have been applied (it no longer "
		 "leads as far as this member knows; retry)",
		 f.leader->address);
	assert_string_equal(e, want);
	tm_free(e);
	hclient_request_clear(&r);
	fwd_stop(&f);
}

/* The target answers that it does not lead (X-Thermionic-Not-Leader):
 * with a callback, the request is given back (API_FORWARD_NOT_LEADER,
 * with the target's message) to be taken elsewhere; without one, the
 * answer is relayed as it is. */
static void target_not_leading(void **state)
{
	struct hc *hc = *state;
	struct fwd f;
	fwd_start(hc, &f, NULL, NULL);
	f.relay.with_cb = true;
	struct hclient_request r;
	request(&r, "POST", "/1.0/stale");
	r.body = "{}";
	r.body_len = 2;
	call(hc, f.follower, &r);
	assert_int_equal(r.http_status, 299);
	assert_int_equal(f.relay.outcome, API_FORWARD_NOT_LEADER);
	assert_string_equal(f.relay.errmsg, "this member is not the leader");
	assert_string_equal(f.ls.forwarded_by, "member-f");
	hclient_request_clear(&r);
	/* Another answer is the client's. */
	request(&r, "GET", "/1.0/missing");
	call(hc, f.follower, &r);
	assert_int_equal(r.http_status, 404);
	assert_int_equal(f.relay.outcome, API_FORWARD_ANSWERED);
	hclient_request_clear(&r);
	/* Without a callback the 503 goes to the client. */
	f.relay.with_cb = false;
	request(&r, "POST", "/1.0/stale");
	r.keep_header = API_NOT_LEADER_HEADER;
	call(hc, f.follower, &r);
	assert_int_equal(r.http_status, 503);
	char *e = envelope_error(&r);
	assert_string_equal(e, "this member is not the leader");
	assert_null(r.kept_header); /* a signal between members only */
	tm_free(e);
	hclient_request_clear(&r);
	/* As the target sent it: the header, which the client keeps. */
	request(&r, "POST", "/1.0/stale");
	r.keep_header = "x-thermionic-not-leader";
	call(hc, f.leader, &r);
	assert_int_equal(r.http_status, 503);
	assert_string_equal(r.kept_header, "127.0.26.7:8443");
	hclient_request_clear(&r);
	assert_null(r.kept_header);
	fwd_stop(&f);
}

static void client_gone_cancels(void **state)
{
	struct hc *hc = *state;
	struct fwd f;
	fwd_start(hc, &f, NULL, NULL);
	struct hclient_request r;
	struct hc_done d = {0};
	request(&r, "POST", "/1.0/hold");
	r.address = f.follower->address;
	r.pin = f.follower->fp;
	hc_send(hc->client, &r, &d);
	assert_true(hc_run_until(hc, leader_holds, hc, HC_DEADLINE_MS));
	assert_int_equal(hclient_pending(f.relay.client), 1);
	hclient_cancel(&r); /* the client goes away */
	hc_wait(hc, &d);
	/* The follower sees it and cancels the relayed request: the leader
	 * sees its connection go. */
	assert_true(
	    hc_run_until(hc, peer_gone, hc->held[0].req, HC_DEADLINE_MS));
	assert_int_equal(hclient_pending(f.relay.client), 0);
	hclient_request_clear(&r);
	fwd_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(relays_answers, hc_setup,
					    hc_teardown),
	    cmocka_unit_test_setup_teardown(never_relayed_twice, hc_setup,
					    hc_teardown),
	    cmocka_unit_test_setup_teardown(leader_down, hc_setup, hc_teardown),
	    cmocka_unit_test_setup_teardown(leader_with_wrong_certificate,
					    hc_setup, hc_teardown),
	    cmocka_unit_test_setup_teardown(leader_lost_mid_request, hc_setup,
					    hc_teardown),
	    cmocka_unit_test_setup_teardown(leader_deposed_mid_request,
					    hc_setup, hc_teardown),
	    cmocka_unit_test_setup_teardown(target_not_leading, hc_setup,
					    hc_teardown),
	    cmocka_unit_test_setup_teardown(client_gone_cancels, hc_setup,
					    hc_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The SQL endpoints end to end, without a daemon: the real handlers
 * (api_sql_post, api_sql_backup_get) behind the REST server on in-memory
 * connections (test/unit/rest/fixture.c), a real global database (gdb) on a
 * one-member raft fixture, and a real local database (nodedb). The daemon's
 * accessors are replaced by the three functions below, which hand out this
 * test's objects. Everything runs on the REST fixture's loop; raft's
 * fixture is stepped between loop turns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <raft.h>
#include <raft/fixture.h>

#include "internal/api/api.h"
#include "internal/daemon/cluster.h"
#include "internal/daemon/daemon.h"
#include "internal/db/cluster/gdb.h"
#include "internal/db/node/nodedb.h"
#include "internal/lib/mem.h"
#include "internal/lib/pool.h"
#include "test/unit/raft_grow.h"
#include "test/unit/rest/fixture.h"

#define DEADLINE_NS (10ULL * 1000 * 1000 * 1000)

struct env {
	struct fixture fx; /* loop and REST server */
	char dir[64];
	struct nodedb *nodedb;
	struct gdb *gdb[2]; /* the handlers see gdb[0] */
	unsigned n_gdb;
	bool gdb_visible; /* what daemon_gdb() answers */
	enum daemon_state state;	/* what daemon_state() answers */
	const char *cluster_message; /* what cluster_message() answers */
	struct raft_fixture raft;
	bool step_raft;
	unsigned gdb_closed;
	struct pool *pool; /* the local target's worker threads */
	bool pool_closed;
	cJSON *config; /* what daemon_config() answers */
	bool follows;	    /* what cluster_follows() answers */
	const char *leader; /* what cluster_leader_address() answers */
};

static struct env *current;

/* --- the daemon, faked --- */

/* A standalone member unless a test says otherwise; nothing is relayed
 * (daemon_hclient is NULL). */
bool cluster_follows(struct daemon *d)
{
	(void)d;
	return current->follows;
}

const char *cluster_leader_address(struct daemon *d)
{
	(void)d;
	return current->leader;
}

uint64_t cluster_raft_term(struct daemon *d)
{
	(void)d;
	return 1;
}

bool cluster_leader_silent(struct daemon *d)
{
	(void)d;
	return false;
}

const char *cluster_fingerprint(struct daemon *d)
{
	(void)d;
	return "";
}

const char *cluster_member_name(struct daemon *d)
{
	(void)d;
	return "";
}

void cluster_reachability(struct daemon *d, char *out, size_t size)
{
	(void)d;
	snprintf(out, size, "%s", "");
}

uint64_t cluster_applied_index(struct daemon *d)
{
	(void)d;
	return 0;
}

bool cluster_relay_write(struct daemon *d, struct rest_request *req,
			 cluster_relay_fallback_fn fallback)
{
	(void)d;
	(void)req;
	(void)fallback;
	return false;
}

void cluster_read_index(struct daemon *d, struct cluster_read_index_wait *w,
			cluster_read_index_cb cb)
{
	(void)d;
	cb(w, TM_NOTLEADER, 0, "no leader known");
}

const char *cluster_message(struct daemon *d)
{
	(void)d;
	return current->cluster_message;
}

enum daemon_state daemon_state(const struct daemon *d)
{
	(void)d;
	return current->state;
}

struct hclient *daemon_hclient(struct daemon *d)
{
	(void)d;
	return NULL;
}

struct gdb *daemon_gdb(struct daemon *d)
{
	(void)d;
	return current->gdb_visible ? current->gdb[0] : NULL;
}

struct nodedb *daemon_nodedb(struct daemon *d)
{
	(void)d;
	return current->nodedb;
}

const char *daemon_dir(const struct daemon *d)
{
	(void)d;
	return current->dir;
}

struct pool *daemon_pool(struct daemon *d)
{
	(void)d;
	return current->pool;
}

uv_loop_t *daemon_loop(struct daemon *d)
{
	(void)d;
	return &current->fx.loop;
}

const cJSON *daemon_config(const struct daemon *d)
{
	(void)d;
	return current->config;
}

static const struct rest_route routes[] = {
    {.path = "/1.0/sql", .post = api_sql_post},
    {.path = "/1.0/sql/backup", .get = api_sql_backup_get},
};

/* --- fixture --- */

/* N members. One is the leader at once (raft elects a lone voter when it
 * starts); two stay followers, raft being never stepped. */
static void setup_gdb(struct env *e, unsigned n)
{
	char errmsg[TM_ERRMSG_SIZE];
	struct raft_configuration conf;
	assert_int_equal(raft_fixture_initialize(&e->raft), 0);
	for (unsigned i = 0; i < n; i++) {
		char *path = tm_asprintf("%s/global-%u.db", e->dir, i);
		if (gdb_init(&e->gdb[i], &e->fx.loop, path, errmsg) != 0) {
			fail_msg("gdb_init: %s", errmsg);
		}
		tm_free(path);
		assert_int_equal(test_raft_grow(&e->raft, gdb_fsm(e->gdb[i])),
				 0);
	}
	e->n_gdb = n;
	for (unsigned i = 0; i < n; i++) {
		gdb_set_raft(e->gdb[i], raft_fixture_get(&e->raft, i));
	}
	assert_int_equal(raft_fixture_configuration(&e->raft, n, &conf), 0);
	assert_int_equal(raft_fixture_bootstrap(&e->raft, &conf), 0);
	raft_configuration_close(&conf);
	assert_int_equal(raft_fixture_start(&e->raft), 0);
	e->step_raft = n == 1;
	e->gdb_visible = true;
	e->state = DAEMON_READY;
	e->cluster_message = "";
}

static struct env *env_new(unsigned n)
{
	char errmsg[TM_ERRMSG_SIZE];
	struct env *e = tm_calloc(1, sizeof *e);
	current = e;
	fx_setup(&e->fx, routes, sizeof routes / sizeof routes[0]);
	snprintf(e->dir, sizeof e->dir, "/tmp/tm-sqlapi-http-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	if (nodedb_open(e->dir, &e->nodedb, errmsg) != 0) {
		fail_msg("nodedb_open: %s", errmsg);
	}
	setup_gdb(e, n);
	assert_int_equal(pool_init(&e->pool, &e->fx.loop, 1), 0);
	return e;
}

static int setup_leader(void **state)
{
	*state = env_new(1);
	return 0;
}

static int setup_follower(void **state)
{
	*state = env_new(2);
	return 0;
}

static void gdb_closed_cb(void *arg)
{
	struct env *e = arg;
	e->gdb_closed++;
}

static void pool_closed_cb(void *arg)
{
	struct env *e = arg;
	e->pool_closed = true;
}

static int teardown(void **state)
{
	struct env *e = *state;
	fx_close_server(&e->fx);
	pool_close(e->pool, pool_closed_cb, e);
	while (!e->pool_closed) {
		uv_run(&e->fx.loop, UV_RUN_ONCE);
	}
	cJSON_Delete(e->config);
	raft_fixture_close(&e->raft);
	for (unsigned i = 0; i < e->n_gdb; i++) {
		gdb_close(e->gdb[i], gdb_closed_cb, e);
	}
	while (e->gdb_closed < e->n_gdb) {
		uv_run(&e->fx.loop, UV_RUN_ONCE);
	}
	nodedb_close(e->nodedb);
	fx_teardown(&e->fx);
	char *cmd = tm_asprintf("rm -rf '%s'", e->dir);
	assert_int_equal(system(cmd), 0);
	tm_free(cmd);
	current = NULL;
	tm_free(e);
	return 0;
}

/* Turn the loop and step raft until COND holds; false after a deadline. */
static bool run_until(struct env *e, bool (*cond)(void *arg), void *arg)
{
	uint64_t end = uv_hrtime() + DEADLINE_NS;
	while (!cond(arg)) {
		if (uv_hrtime() > end) {
			return false;
		}
		uv_run(&e->fx.loop, UV_RUN_NOWAIT);
		if (e->step_raft) {
			raft_fixture_step(&e->raft);
		}
	}
	return true;
}

struct wait_response {
	struct conn *c;
	struct fx_response *r;
};

static bool has_response(void *arg)
{
	struct wait_response *w = arg;
	return fx_try_response(w->c, conn_fake_closed(w->c), w->r);
}

static struct conn *send_request(struct env *e, const char *method,
				 const char *path, const char *body)
{
	struct conn *c = fx_conn(&e->fx, FX_UNIX_ROOT);
	char *req = tm_asprintf("%s %s HTTP/1.1\r\nHost: test\r\n"
				"Content-Type: application/json\r\n"
				"Content-Length: %zu\r\n\r\n%s",
				method, path, strlen(body), body);
	conn_fake_push_str(c, req);
	tm_free(req);
	return c;
}

/* POST BODY to /1.0/sql as relayed by member "n2". */
static struct conn *send_relayed(struct env *e, const char *body)
{
	struct conn *c = fx_conn(&e->fx, FX_UNIX_ROOT);
	char *req = tm_asprintf("POST /1.0/sql HTTP/1.1\r\nHost: test\r\n"
				"X-Thermionic-Forwarded: n2\r\n"
				"Content-Type: application/json\r\n"
				"Content-Length: %zu\r\n\r\n%s",
				strlen(body), body);
	conn_fake_push_str(c, req);
	tm_free(req);
	return c;
}

static void roundtrip(struct env *e, const char *method, const char *path,
		      const char *body, struct fx_response *r)
{
	struct conn *c = send_request(e, method, path, body);
	struct wait_response w = {.c = c, .r = r};
	assert_true(run_until(e, has_response, &w));
	conn_fake_release(c);
}

static void post(struct env *e, const char *body, struct fx_response *r)
{
	roundtrip(e, "POST", "/1.0/sql", body, r);
}

/* The raft index a write answer carries (0 if none). */
static uint64_t raft_index_of(const struct fx_response *r)
{
	const char *p = strstr(r->body, ",\"raft_index\":");
	return p != NULL ? strtoull(p + strlen(",\"raft_index\":"), NULL, 10)
			 : 0;
}

/* Assert a 200 whose metadata, as sent on the wire, is exactly WANT,
 * leaving out the "raft_index" of a write (raft_index_of). */
static void assert_metadata(const struct fx_response *r, const char *want)
{
	if (r->status != 200) {
		fail_msg("status %d: %s", r->status, r->body);
	}
	const char *m = strstr(r->body, "\"metadata\":");
	assert_non_null(m);
	m += strlen("\"metadata\":");
	size_t len = strlen(m);
	assert_true(len > 0 && m[len - 1] == '}'); /* the envelope's end */
	const char *index = strstr(m, ",\"raft_index\":");
	char got[1 << 16];
	if (index != NULL) {
		snprintf(got, sizeof got, "%.*s}", (int)(index - m), m);
	} else {
		snprintf(got, sizeof got, "%.*s", (int)(len - 1), m);
	}
	if (strcmp(got, want) != 0) {
		fail_msg("metadata\n  got  %s\n  want %s", got, want);
	}
}

static void post_ok(struct env *e, const char *body, const char *want)
{
	struct fx_response r;
	post(e, body, &r);
	assert_metadata(&r, want);
	fx_response_free(&r);
}

static void post_error(struct env *e, const char *body, int status,
		       const char *message)
{
	struct fx_response r;
	post(e, body, &r);
	fx_assert_error(&r, status, message);
	fx_response_free(&r);
}

static struct gdb_stats stats(struct env *e)
{
	struct gdb_stats s;
	gdb_get_stats(e->gdb[0], &s);
	return s;
}

#define KV_TABLE                                                               \
	"{\"statements\":[{\"sql\":\"CREATE TABLE kv (k TEXT PRIMARY KEY "     \
	"NOT NULL, v)\"}]}"

/* --- POST /1.0/sql, global --- */

static void test_write_then_read(void **state)
{
	struct env *e = *state;
	post_ok(e, KV_TABLE,
		"{\"results\":[{\"rows_affected\":0,\"last_insert_id\":0}]}");
	/* Every write answer says the raft index it was applied at. */
	struct fx_response first;
	post(e, "{\"statements\":[{\"sql\":\"CREATE TABLE idx(x)\"}]}", &first);
	struct fx_response second;
	post(e, "{\"statements\":[{\"sql\":\"INSERT INTO idx VALUES (1)\"}]}",
	     &second);
	assert_true(raft_index_of(&first) > 0);
	assert_true(raft_index_of(&second) > raft_index_of(&first));
	fx_response_free(&first);
	fx_response_free(&second);
	uint64_t entries = stats(e).entries_proposed;
	post_ok(e,
		"{\"statements\":["
		"{\"sql\":\"INSERT INTO kv VALUES (?, ?)\","
		"\"params\":[\"max\", 9223372036854775807]},"
		"{\"sql\":\"INSERT INTO kv VALUES (:k, :v)\","
		"\"params\":{\":k\":\"min\",\":v\":-9223372036854775808}},"
		"{\"sql\":\"INSERT INTO kv VALUES (?, ?)\","
		"\"params\":[\"real\", 1.0]},"
		"{\"sql\":\"INSERT INTO kv VALUES (?, ?)\","
		"\"params\":[\"blob\", {\"base64\":\"AAEC/w==\"}]},"
		"{\"sql\":\"INSERT INTO kv VALUES (?, ?)\","
		"\"params\":[\"text\", \"caf\\u00e9 \\u2603\"]},"
		"{\"sql\":\"INSERT INTO kv VALUES ('null', NULL)\"}]}",
		"{\"results\":["
		"{\"rows_affected\":1,\"last_insert_id\":1},"
		"{\"rows_affected\":1,\"last_insert_id\":2},"
		"{\"rows_affected\":1,\"last_insert_id\":3},"
		"{\"rows_affected\":1,\"last_insert_id\":4},"
		"{\"rows_affected\":1,\"last_insert_id\":5},"
		"{\"rows_affected\":1,\"last_insert_id\":6}]}");
	assert_true(stats(e).entries_proposed > entries);

	/* A read goes through gdb_read: nothing is proposed. */
	entries = stats(e).entries_proposed;
	post_ok(e,
		"{\"statements\":[{\"sql\":\"SELECT k, v, typeof(v) AS t "
		"FROM kv ORDER BY rowid\"},{\"sql\":\"SELECT count(*) FROM "
		"kv WHERE k = ?\",\"params\":[\"max\"]}]}",
		"{\"results\":[{\"columns\":[\"k\",\"v\",\"t\"],"
		"\"types\":[\"TEXT\",null,null],\"rows\":["
		"[\"max\",9223372036854775807,\"integer\"],"
		"[\"min\",-9223372036854775808,\"integer\"],"
		"[\"real\",1.0,\"real\"],"
		"[\"blob\",{\"base64\":\"AAEC/w==\"},\"blob\"],"
		"[\"text\",\"caf\xc3\xa9 \xe2\x98\x83\",\"text\"],"
		"[\"null\",null,\"null\"]]},"
		"{\"columns\":[\"count(*)\"],\"types\":[null],"
		"\"rows\":[[1]]}]}");
	assert_int_equal(stats(e).entries_proposed, entries);

	/* A linearizable read costs a barrier, still no entry of its own. */
	uint64_t barriers = stats(e).barriers;
	post_ok(e,
		"{\"consistency\":\"linearizable\",\"statements\":"
		"[{\"sql\":\"SELECT v FROM kv WHERE k = 'min'\"}]}",
		"{\"results\":[{\"columns\":[\"v\"],\"types\":[null],"
		"\"rows\":[[-9223372036854775808]]}]}");
	assert_true(stats(e).barriers > barriers);
}

static void test_statement_errors(void **state)
{
	struct env *e = *state;
	post_ok(e, KV_TABLE,
		"{\"results\":[{\"rows_affected\":0,\"last_insert_id\":0}]}");
	/* Without a transaction each statement stands alone. */
	post_ok(e,
		"{\"statements\":["
		"{\"sql\":\"INSERT INTO kv VALUES ('a', 1)\"},"
		"{\"sql\":\"INSERT INTO kv VALUES ('a', 2)\"},"
		"{\"sql\":\"INSERT INTO kv VALUES ('b', 3)\"}]}",
		"{\"results\":["
		"{\"rows_affected\":1,\"last_insert_id\":1},"
		"{\"error\":\"UNIQUE constraint failed: kv.k\"},"
		"{\"rows_affected\":1,\"last_insert_id\":2}]}");
	/* A transaction is all or nothing: 409 for a constraint. */
	post_error(e,
		   "{\"transaction\":true,\"statements\":["
		   "{\"sql\":\"INSERT INTO kv VALUES ('c', 4)\"},"
		   "{\"sql\":\"INSERT INTO kv VALUES ('a', 5)\"}]}",
		   409,
		   "statement 2: UNIQUE constraint failed: kv.k (transaction "
		   "rolled back, nothing applied)");
	/* 400 for bad SQL. */
	post_error(e,
		   "{\"transaction\":true,\"statements\":["
		   "{\"sql\":\"INSERT INTO kv VALUES ('d', 4)\"},"
		   "{\"sql\":\"INSERT INTO nosuch VALUES (1)\"}]}",
		   400,
		   "statement 2: no such table: nosuch (transaction rolled "
		   "back, nothing applied)");
	post_ok(e,
		"{\"statements\":[{\"sql\":\"SELECT k FROM kv ORDER BY k\"},"
		"{\"sql\":\"SELECT * FROM nosuch\"}]}",
		"{\"results\":[{\"columns\":[\"k\"],\"types\":[\"TEXT\"],"
		"\"rows\":[[\"a\"],[\"b\"]]},"
		"{\"error\":\"no such table: nosuch\"}]}");
	/* A read-only transaction request with a failing statement. */
	post_error(e,
		   "{\"transaction\":true,\"statements\":["
		   "{\"sql\":\"SELECT 1\"},"
		   "{\"sql\":\"SELECT abs(-9223372036854775808)\"}]}",
		   400,
		   "statement 2: integer overflow (transaction rolled back, "
		   "nothing applied)");
}

static void test_bad_requests(void **state)
{
	struct env *e = *state;
	post_error(e, "{\"statements\":[{\"sql\":\"SELECT 1\"}]} []", 400,
		   "malformed JSON body: trailing data after the JSON value at "
		   "byte 36");
	post_error(e, "{\"statements\":[{\"sql\":\"SELECT 1\"}],\"x\":1}", 400,
		   "unknown field \"x\"");
	post_error(
	    e, "{\"statements\":[{\"sql\":\"SELECT ?\",\"params\":[true]}]}",
	    400,
	    "statement 1: parameter 1: unsupported parameter type: "
	    "boolean (use 1 or 0)");
	struct fx_response r;
	roundtrip(e, "GET", "/1.0/sql", "", &r);
	assert_int_equal(r.status, 405);
	fx_response_free(&r);
}

/* No global database and none coming (the member is not starting):
 * 503 at once. */
static void test_not_available(void **state)
{
	struct env *e = *state;
	e->gdb_visible = false;
	post_error(e, "{\"statements\":[{\"sql\":\"SELECT 1\"}]}", 503,
		   "global database not available yet");
	struct fx_response r;
	roundtrip(e, "GET", "/1.0/sql/backup", "", &r);
	fx_assert_error(&r, 503, "global database not available yet");
	fx_response_free(&r);
	/* The local database does not need the global one. */
	post_ok(e,
		"{\"target\":\"local\",\"statements\":[{\"sql\":\"SELECT "
		"count(*) AS n FROM config\"}]}",
		"{\"results\":[{\"columns\":[\"n\"],\"types\":[null],"
		"\"rows\":[[0]]}]}");
}

/* Turn the loop (stepping raft) for MS milliseconds, or until C has an
 * answer in R: true if it has. */
static bool answered_within(struct env *e, struct conn *c, unsigned ms,
			    struct fx_response *r)
{
	uint64_t end = uv_hrtime() + (uint64_t)ms * 1000 * 1000;
	while (uv_hrtime() < end) {
		if (fx_try_response(c, conn_fake_closed(c), r)) {
			return true;
		}
		uv_run(&e->fx.loop, UV_RUN_NOWAIT);
		if (e->step_raft) {
			raft_fixture_step(&e->raft);
		}
	}
	return false;
}

/* A member still starting (elected leader before it is ready, say):
 * requests for the global database wait until it is ready, then run
 * once. */
static void test_waits_while_starting(void **state)
{
	struct env *e = *state;
	e->gdb_visible = false;
	e->state = DAEMON_STARTING;
	e->cluster_message = "waiting for a leader";
	uint64_t entries = stats(e).entries_proposed;
	struct conn *write = send_request(
	    e, "POST", "/1.0/sql",
	    "{\"statements\":[{\"sql\":\"CREATE TABLE w(x)\"},"
	    "{\"sql\":\"INSERT INTO w VALUES (1)\"}]}");
	struct conn *backup = send_request(e, "GET", "/1.0/sql/backup", "");
	struct fx_response r;
	assert_false(answered_within(e, write, 200, &r));
	assert_false(answered_within(e, backup, 50, &r));
	assert_int_equal(stats(e).entries_proposed, entries);
	/* Ready: the waiting requests run, the write once. */
	e->gdb_visible = true;
	e->state = DAEMON_READY;
	assert_true(answered_within(e, write, 5000, &r));
	assert_metadata(&r, "{\"results\":["
			    "{\"rows_affected\":0,\"last_insert_id\":0},"
			    "{\"rows_affected\":1,\"last_insert_id\":1}]}");
	fx_response_free(&r);
	assert_true(answered_within(e, backup, 5000, &r));
	assert_int_equal(r.status, 200);
	fx_response_free(&r);
	conn_fake_release(write);
	conn_fake_release(backup);
	post_ok(e, "{\"statements\":[{\"sql\":\"SELECT count(*) FROM w\"}]}",
		"{\"results\":[{\"columns\":[\"count(*)\"],"
		"\"types\":[null],\"rows\":[[1]]}]}");
}

/* The wait is bounded: 503 naming what the member waits for. */
static void test_wait_is_bounded(void **state)
{
	struct env *e = *state;
	e->gdb_visible = false;
	e->state = DAEMON_STARTING;
	e->cluster_message = "waiting for a leader";
	uint64_t start = uv_hrtime();
	struct conn *c = send_request(
	    e, "POST", "/1.0/sql",
	    "{\"statements\":[{\"sql\":\"CREATE TABLE w(x)\"}]}");
	struct fx_response r;
	assert_true(answered_within(e, c, 8000, &r));
	uint64_t ms = (uv_hrtime() - start) / 1000000;
	assert_true(ms >= 4900);
	fx_assert_error(&r, 503,
			"global database not available yet: this member is "
			"still starting after 5 s (waiting for a leader)");
	fx_response_free(&r);
	conn_fake_release(c);
	/* A member that starts stopping answers the waiting at once. */
	c = send_request(e, "POST", "/1.0/sql",
			 "{\"statements\":[{\"sql\":\"SELECT 1\"}]}");
	assert_false(answered_within(e, c, 100, &r));
	e->state = DAEMON_DRAINING;
	assert_true(answered_within(e, c, 500, &r));
	fx_assert_error(&r, 503, "shutting down");
	fx_response_free(&r);
	conn_fake_release(c);
}

/* A write relayed to a member still starting (elected before it is
 * ready, as the relaying member believes) waits while that member may
 * still lead; once it knows it follows another leader it says so at
 * once, 503 with X-Thermionic-Not-Leader, having done nothing, so that
 * the relaying member takes the write there. A client's own write keeps
 * waiting: the member relays it once ready. */
static void test_relayed_while_starting(void **state)
{
	struct env *e = *state;
	e->gdb_visible = false;
	e->state = DAEMON_STARTING;
	e->cluster_message = "waiting for a leader";
	uint64_t entries = stats(e).entries_proposed;
	const char *body = "{\"statements\":[{\"sql\":\"CREATE TABLE w(x)\"}]}";
	struct conn *relayed = send_relayed(e, body);
	struct conn *own = send_request(e, "POST", "/1.0/sql", body);
	struct fx_response r;
	assert_false(answered_within(e, relayed, 200, &r));
	assert_false(answered_within(e, own, 50, &r));
	/* A leader elected among the others: */
	e->follows = true;
	e->leader = "127.0.0.9:8443";
	uint64_t start = uv_hrtime();
	assert_true(answered_within(e, relayed, 1000, &r));
	assert_true(uv_hrtime() - start < 500ULL * 1000 * 1000);
	fx_assert_error(&r, 503,
			"this member is not the leader (still starting; it "
			"follows 127.0.0.9:8443): nothing was done");
	assert_string_equal(fx_header(&r, "X-Thermionic-Not-Leader"),
			    "127.0.0.9:8443");
	fx_response_free(&r);
	conn_fake_release(relayed);
	/* One arriving now is answered at arrival. */
	relayed = send_relayed(e, body);
	assert_true(answered_within(e, relayed, 100, &r));
	assert_int_equal(r.status, 503);
	assert_string_equal(fx_header(&r, "X-Thermionic-Not-Leader"),
			    "127.0.0.9:8443");
	fx_response_free(&r);
	conn_fake_release(relayed);
	assert_false(answered_within(e, own, 100, &r));
	assert_int_equal(stats(e).entries_proposed, entries);
	e->state = DAEMON_DRAINING;
	assert_true(answered_within(e, own, 500, &r));
	fx_assert_error(&r, 503, "shutting down");
	assert_null(fx_header(&r, "X-Thermionic-Not-Leader"));
	fx_response_free(&r);
	conn_fake_release(own);
}

/* A member that is not the leader: writes and linearizable reads are
 * refused with 503, plain reads are served from its own copy. A relayed
 * write is refused with X-Thermionic-Not-Leader: nothing was done. */
static void test_follower(void **state)
{
	struct env *e = *state;
	struct fx_response r;
	post(e, KV_TABLE, &r);
	assert_int_equal(r.status, 503);
	assert_non_null(strstr(r.body, "leader"));
	assert_null(fx_header(&r, "X-Thermionic-Not-Leader"));
	fx_response_free(&r);
	struct conn *c = send_relayed(e, KV_TABLE);
	assert_true(answered_within(e, c, 5000, &r));
	assert_int_equal(r.status, 503);
	assert_non_null(strstr(r.body, "not the leader"));
	assert_string_equal(fx_header(&r, "X-Thermionic-Not-Leader"), "");
	fx_response_free(&r);
	conn_fake_release(c);
	post(e,
	     "{\"consistency\":\"linearizable\",\"statements\":"
	     "[{\"sql\":\"SELECT 1\"}]}",
	     &r);
	assert_int_equal(r.status, 503);
	fx_response_free(&r);
	post_ok(e, "{\"statements\":[{\"sql\":\"SELECT 1 AS one\"}]}",
		"{\"results\":[{\"columns\":[\"one\"],\"types\":[null],"
		"\"rows\":[[1]]}]}");
}

/* --- POST /1.0/sql, local --- */

static void test_local(void **state)
{
	struct env *e = *state;
	sqlite3 *db = nodedb_sqlite(e->nodedb);
	assert_int_equal(sqlite3_exec(db,
				      "INSERT INTO config VALUES "
				      "('core.https_address', '[::]:8443')",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	post_ok(e,
		"{\"target\":\"local\",\"statements\":[{\"sql\":\"SELECT key, "
		"value FROM config WHERE key = :k\",\"params\":{\":k\":"
		"\"core.https_address\"}}]}",
		"{\"results\":[{\"columns\":[\"key\",\"value\"],\"types\":"
		"[\"TEXT\",\"TEXT\"],\"rows\":[[\"core.https_address\","
		"\"[::]:8443\"]]}]}");
	post_error(e,
		   "{\"target\":\"local\",\"statements\":[{\"sql\":\"SELECT "
		   "1\"},{\"sql\":\"DELETE FROM config\"}]}",
		   400,
		   "the local database is read-only through the SQL API: "
		   "statement 2 writes");
	post_error(e,
		   "{\"target\":\"local\",\"consistency\":\"linearizable\","
		   "\"statements\":[{\"sql\":\"SELECT 1\"}]}",
		   400,
		   "consistency \"linearizable\" applies to the global "
		   "database only, not to target \"local\"");
	post_error(e,
		   "{\"target\":\"local\",\"transaction\":true,\"statements\":"
		   "[{\"sql\":\"SELECT 1\"},{\"sql\":\"SELECT * FROM x\"}]}",
		   400,
		   "statement 2: no such table: x (transaction rolled back, "
		   "nothing applied)");
	/* Nothing was deleted; the global database was not touched. */
	post_ok(e,
		"{\"target\":\"local\",\"statements\":[{\"sql\":\"SELECT "
		"count(*) AS n FROM config\"}]}",
		"{\"results\":[{\"columns\":[\"n\"],\"types\":[null],"
		"\"rows\":[[1]]}]}");
	assert_int_equal(stats(e).entries_proposed, 0);
}

/* --- streaming, limits, timeouts --- */

#define ENDLESS                                                                \
	"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) "       \
	"SELECT count(*) FROM c"

/* A result larger than one chunk is streamed (chunked) inside the same
 * envelope; the text is the same JSON a plain answer would hold. */
static void test_streamed_read(void **state)
{
	struct env *e = *state;
	struct fx_response r;
	post(e,
	     "{\"statements\":[{\"sql\":\"WITH RECURSIVE c(x) AS (SELECT 1 "
	     "UNION ALL SELECT x+1 FROM c WHERE x < 20000) SELECT x, 'row' "
	     "AS t FROM c\"},{\"sql\":\"SELECT 1 AS one\"}]}",
	     &r);
	assert_int_equal(r.status, 200);
	assert_true(r.chunked_seen);
	assert_null(fx_header(&r, "Content-Length"));
	assert_string_equal(fx_header(&r, "Content-Type"), "application/json");
	cJSON *json = cJSON_Parse(r.body);
	assert_non_null(json);
	assert_string_equal(cJSON_GetObjectItem(json, "type")->valuestring,
			    "sync");
	assert_int_equal(cJSON_GetObjectItem(json, "status_code")->valueint,
			 200);
	cJSON *m = cJSON_DetachItemFromObject(json, "metadata");
	cJSON_Delete(json);
	cJSON *results = cJSON_GetObjectItem(m, "results");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(
			     cJSON_GetArrayItem(results, 0), "rows")),
			 20000);
	assert_int_equal(cJSON_GetArraySize(results), 2);
	cJSON_Delete(m);
	fx_response_free(&r);
	/* A small one keeps Content-Length. */
	post(e, "{\"statements\":[{\"sql\":\"SELECT 1\"}]}", &r);
	assert_false(r.chunked_seen);
	assert_non_null(fx_header(&r, "Content-Length"));
	fx_response_free(&r);
}

/* core.max_response_size bounds the text: the rows before the limit stay,
 * the statement says why it ended and how to page. */
static void test_response_limit(void **state)
{
	struct env *e = *state;
	struct fx_response r;
	e->config = cJSON_CreateObject();
	cJSON_AddStringToObject(e->config, "core.max_response_size", "65536");
	/* What the daemon does with the same key. */
	struct gdb_limits limits = {.max_result_bytes = 65536};
	gdb_set_limits(e->gdb[0], &limits);
	post(e,
	     "{\"statements\":[{\"sql\":\"WITH RECURSIVE c(x) AS (SELECT 1 "
	     "UNION ALL SELECT x+1 FROM c) SELECT x FROM c\"}]}",
	     &r);
	assert_int_equal(r.status, 200);
	assert_true(r.body_len < 65536 + 1024);
	assert_non_null(strstr(r.body, "]],\"error\":\"the result is larger "
				       "than core.max_response_size (65536 "
				       "bytes) after "));
	assert_non_null(strstr(r.body, "fetch it in pages (LIMIT and a WHERE "
				       "on the key)\"}]}}"));
	fx_response_free(&r);
	/* One value larger than the limit is refused by SQLite at once. */
	post_ok(e,
		"{\"statements\":[{\"sql\":\"SELECT randomblob(500000000)\"}]}",
		"{\"results\":[{\"error\":\"a value is larger than "
		"core.max_response_size (65536 bytes)\"}]}");
	post_ok(e,
		"{\"target\":\"local\",\"statements\":[{\"sql\":\"SELECT "
		"randomblob(500000000)\"}]}",
		"{\"results\":[{\"error\":\"a value is larger than "
		"core.max_response_size (65536 bytes)\"}]}");
}

static void test_timeout_field(void **state)
{
	struct env *e = *state;
	post_error(
	    e, "{\"timeout\":61,\"statements\":[{\"sql\":\"SELECT 1\"}]}", 400,
	    "field \"timeout\" (61 seconds) is above "
	    "core.max_query_timeout (60 seconds): ask for less, or "
	    "raise core.max_query_timeout");
	const char *want =
	    "{\"results\":[{\"error\":\"interrupted: the statement ran "
	    "longer than its timeout of 200 ms (core.query_timeout; a "
	    "request may ask for another with \\\"timeout\\\", up to "
	    "core.max_query_timeout)\"}]}";
	post_ok(e,
		"{\"timeout\":0.2,\"statements\":[{\"sql\":\"" ENDLESS "\"}]}",
		want);
	post_ok(
	    e,
	    "{\"target\":\"local\",\"timeout\":0.2,\"statements\":[{\"sql\":"
	    "\"" ENDLESS "\"}]}",
	    want);
	/* A transaction fails as a whole: 504. */
	post_error(e,
		   "{\"target\":\"local\",\"transaction\":true,\"timeout\":0.1,"
		   "\"statements\":[{\"sql\":\"" ENDLESS "\"}]}",
		   504,
		   "statement 1: interrupted: the statement ran longer than "
		   "its timeout of 100 ms (core.query_timeout; a request may "
		   "ask for another with \"timeout\", up to "
		   "core.max_query_timeout) (transaction rolled back, nothing "
		   "applied)");
}

/* The client goes away while its local query runs: the query is
 * interrupted, and the only worker is free for the next request. */
static void test_local_client_gone(void **state)
{
	struct env *e = *state;
	struct conn *c = send_request(
	    e, "POST", "/1.0/sql",
	    "{\"target\":\"local\",\"timeout\":30,\"statements\":[{\"sql\":"
	    "\"" ENDLESS "\"}]}");
	uint64_t start = uv_hrtime();
	for (int i = 0; i < 20; i++) {
		uv_run(&e->fx.loop, UV_RUN_NOWAIT);
	}
	conn_fake_break(c, TM_IO);
	post_ok(e,
		"{\"target\":\"local\",\"statements\":[{\"sql\":\"SELECT 1 AS "
		"one\"}]}",
		"{\"results\":[{\"columns\":[\"one\"],\"types\":[null],"
		"\"rows\":[[1]]}]}");
	assert_true(uv_hrtime() - start < 5ULL * 1000 * 1000 * 1000);
	conn_fake_release(c);
}

/* --- GET /1.0/sql/backup --- */

static size_t count_backup_files(const char *dir)
{
	size_t n = 0;
	DIR *d = opendir(dir);
	struct dirent *ent;
	while ((ent = readdir(d)) != NULL) {
		n += strncmp(ent->d_name, "backup-", 7) == 0;
	}
	closedir(d);
	return n;
}

static size_t count_fds(void)
{
	size_t n = 0;
	DIR *d = opendir("/proc/self/fd");
	struct dirent *ent;
	while ((ent = readdir(d)) != NULL) {
		n += ent->d_name[0] != '.';
	}
	closedir(d);
	return n;
}

/* About 1.5 MiB of rows: the backup takes many chunks. */
static void fill(struct env *e)
{
	post_ok(e,
		"{\"statements\":[{\"sql\":\"CREATE TABLE big (id INTEGER "
		"PRIMARY KEY, b BLOB)\"}]}",
		"{\"results\":[{\"rows_affected\":0,\"last_insert_id\":0}]}");
	post_ok(e,
		"{\"statements\":[{\"sql\":\"WITH RECURSIVE s(i) AS (SELECT 1 "
		"UNION ALL SELECT i + 1 FROM s WHERE i < 1500) INSERT INTO "
		"big SELECT i, randomblob(1000) FROM s\"}]}",
		"{\"results\":[{\"rows_affected\":1500,"
		"\"last_insert_id\":1500}]}");
}

/* The stock sqlite3 shell opens the file too (when it is installed). */
static void check_with_cli(const char *path)
{
	if (access("/usr/bin/sqlite3", X_OK) != 0) {
		print_message("no /usr/bin/sqlite3: shell check skipped\n");
		return;
	}
	char *cmd = tm_asprintf("/usr/bin/sqlite3 '%s' 'PRAGMA "
				"integrity_check; SELECT count(*) FROM big'",
				path);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char out[64] = "";
	size_t n = fread(out, 1, sizeof out - 1, p);
	out[n] = '\0';
	assert_int_equal(pclose(p), 0);
	assert_string_equal(out, "ok\n1500\n");
	tm_free(cmd);
}

/* SQLite keeps the descriptor of a closed connection open while other
 * connections of the process use the same file (closing it would drop
 * their POSIX locks) and reuses it at the next open: the worker's
 * connection leaves one such descriptor. Count after a first backup. */
static void warm_up_backup(struct env *e)
{
	struct fx_response r;
	roundtrip(e, "GET", "/1.0/sql/backup", "", &r);
	assert_int_equal(r.status, 200);
	fx_response_free(&r);
}

static void test_backup(void **state)
{
	struct env *e = *state;
	fill(e);
	warm_up_backup(e);
	size_t fds = count_fds();
	struct fx_response r;
	roundtrip(e, "GET", "/1.0/sql/backup", "", &r);
	assert_int_equal(r.status, 200);
	assert_true(r.chunked_seen);
	assert_string_equal(fx_header(&r, "Content-Type"),
			    "application/vnd.sqlite3");
	assert_string_equal(fx_header(&r, "Content-Disposition"),
			    "attachment; filename=\"global.db\"");
	assert_true(r.body_len > 1500 * 1000);
	assert_int_equal(r.body_len % 4096, 0); /* whole pages */
	assert_memory_equal(r.body, "SQLite format 3", 16);
	assert_int_equal(r.body[18], 1); /* rollback journal: one file */
	assert_int_equal(r.body[19], 1);
	assert_int_equal(count_backup_files(e->dir), 0);
	assert_int_equal(count_fds(), fds);

	char *path = tm_asprintf("%s/received.db", e->dir);
	FILE *file = fopen(path, "wb");
	assert_int_equal(fwrite(r.body, 1, r.body_len, file), r.body_len);
	fclose(file);
	fx_response_free(&r);

	sqlite3 *db;
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
			 SQLITE_OK);
	assert_int_equal(
	    sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT count(*), sum(length(b)) "
					    "FROM big",
					    -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int64(st, 0), 1500);
	assert_int_equal(sqlite3_column_int64(st, 1), 1500 * 1000);
	sqlite3_finalize(st);
	sqlite3_close(db);
	check_with_cli(path);
	tm_free(path);
}

static bool has_output(void *arg)
{
	size_t len;
	conn_fake_output(arg, &len);
	return len > 0;
}

struct gone {
	struct conn *c;
	size_t fds;
};

static bool gone_and_released(void *arg)
{
	struct gone *g = arg;
	return conn_fake_closed(g->c) && count_fds() == g->fds;
}

/* The client goes away in the middle: the stream stops, the copy's
 * descriptor is closed and no file is left. */
static void test_backup_client_gone(void **state)
{
	struct env *e = *state;
	fill(e);
	warm_up_backup(e);
	struct gone g = {.fds = count_fds()};
	g.c = send_request(e, "GET", "/1.0/sql/backup", "");
	assert_true(run_until(e, has_output, g.c));
	conn_fake_break(g.c, TM_IO);
	assert_true(run_until(e, gone_and_released, &g));
	assert_int_equal(count_backup_files(e->dir), 0);
	size_t total;
	conn_fake_output(g.c, &total);
	assert_true(total < 1500 * 1000); /* stopped early */
	conn_fake_release(g.c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_write_then_read, setup_leader,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_statement_errors, setup_leader,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_bad_requests, setup_leader,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_waits_while_starting,
					    setup_leader, teardown),
	    cmocka_unit_test_setup_teardown(test_wait_is_bounded, setup_leader,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_not_available, setup_leader,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_relayed_while_starting,
					    setup_leader, teardown),
	    cmocka_unit_test_setup_teardown(test_follower, setup_follower,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_local, setup_leader, teardown),
	    cmocka_unit_test_setup_teardown(test_streamed_read, setup_leader,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_response_limit, setup_leader,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_timeout_field, setup_leader,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_local_client_gone,
					    setup_leader, teardown),
	    cmocka_unit_test_setup_teardown(test_backup, setup_leader,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_backup_client_gone,
					    setup_leader, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

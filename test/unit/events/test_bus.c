/* The event bus: filtering, sequencing, the per-subscriber bound and the
 * deduplication of relayed events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "internal/events/events.h"
#include "internal/lib/err.h"

/* What a subscriber's owner was told. */
struct owner {
	int ready;
	int overflows;
	uint64_t dropped;
	int shutdowns;
	struct events_sub *sub;
};

static void ready_cb(struct events_sub *s)
{
	((struct owner *)events_sub_data(s))->ready++;
}

static void overflow_cb(struct events_sub *s, uint64_t dropped)
{
	struct owner *o = events_sub_data(s);
	o->overflows++;
	o->dropped = dropped;
}

static void shutdown_cb(struct events_sub *s)
{
	((struct owner *)events_sub_data(s))->shutdowns++;
}

static const struct events_sub_ops ops = {ready_cb, overflow_cb, shutdown_cb};

static struct events_sub *sub(struct events_bus *b, struct owner *o,
			      unsigned types, enum log_level level)
{
	struct events_sub_config cfg = {.types = types, .level = level};
	memset(o, 0, sizeof *o);
	o->sub = events_subscribe(b, &cfg, &ops, o);
	return o->sub;
}

static cJSON *meta(const char *key, const char *value)
{
	cJSON *m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, key, value);
	return m;
}

/* Pop one event and parse it (owned). */
static cJSON *pop(struct events_sub *s)
{
	struct events_msg *m = events_sub_pop(s);
	assert_non_null(m);
	cJSON *e = cJSON_Parse(m->text);
	assert_non_null(e);
	events_msg_unref(m);
	return e;
}

static void test_shape_and_sequence(void **state)
{
	(void)state;
	struct events_bus *b;
	struct owner o;
	events_bus_new(NULL, NULL, &b);
	assert_string_equal(events_bus_origin(b), "none");
	sub(b, &o, EVENTS_ALL, LOG_INFO);
	assert_int_equal(events_emit(b, EVENTS_CLUSTER, LOG_INFO,
				     meta("action", "member-joined")),
			 1);
	events_bus_set_origin(b, "m1");
	assert_int_equal(events_emit(b, EVENTS_CONFIG, LOG_INFO, NULL), 2);
	assert_int_equal(o.ready, 1); /* only when the queue was empty */
	assert_int_equal(events_sub_queued(o.sub), 2);

	cJSON *e = pop(o.sub);
	assert_string_equal(cJSON_GetObjectItem(e, "type")->valuestring,
			    "cluster");
	assert_string_equal(cJSON_GetObjectItem(e, "location")->valuestring,
			    "none");
	assert_int_equal(cJSON_GetObjectItem(e, "sequence")->valueint, 1);
	const char *ts = cJSON_GetObjectItem(e, "timestamp")->valuestring;
	/* 2026-12-01T21:52:30.123Z */
	assert_int_equal(strlen(ts), 24);
	assert_true(ts[10] == 'T' && ts[19] == '.' && ts[23] == 'Z');
	assert_string_equal(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(e, "metadata"), "action")
		->valuestring,
	    "member-joined");
	cJSON_Delete(e);
	e = pop(o.sub);
	assert_string_equal(cJSON_GetObjectItem(e, "location")->valuestring,
			    "m1");
	assert_int_equal(cJSON_GetObjectItem(e, "sequence")->valueint, 2);
	assert_true(cJSON_IsObject(cJSON_GetObjectItem(e, "metadata")));
	cJSON_Delete(e);
	assert_null(events_sub_pop(o.sub));
	events_unsubscribe(o.sub);
	events_bus_free(b);
}

static void test_filters(void **state)
{
	(void)state;
	struct events_bus *b;
	struct owner cluster, logging, all;
	events_bus_new("m1", NULL, &b);
	sub(b, &cluster, EVENTS_CLUSTER, LOG_INFO);
	sub(b, &logging, EVENTS_LOGGING, LOG_WARN);
	sub(b, &all, EVENTS_ALL, LOG_TRACE);
	assert_int_equal(events_bus_logging_level(b), LOG_TRACE);
	events_emit(b, EVENTS_CLUSTER, LOG_INFO, NULL);
	events_emit(b, EVENTS_CONFIG, LOG_INFO, NULL);
	events_emit(b, EVENTS_LOGGING, LOG_INFO, meta("message", "below"));
	events_emit(b, EVENTS_LOGGING, LOG_ERROR, meta("message", "above"));
	assert_int_equal(events_sub_queued(cluster.sub), 1);
	assert_int_equal(events_sub_queued(logging.sub), 1);
	assert_int_equal(events_sub_queued(all.sub), 4);
	cJSON *e = pop(logging.sub);
	assert_string_equal(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(e, "metadata"), "message")
		->valuestring,
	    "above");
	cJSON_Delete(e);
	events_unsubscribe(all.sub);
	assert_int_equal(events_bus_logging_level(b), LOG_WARN);
	events_unsubscribe(logging.sub);
	assert_int_equal(events_bus_logging_level(b), LOG_ERROR + 1);
	events_unsubscribe(cluster.sub);
	events_bus_free(b);
}

static void test_bound_by_count(void **state)
{
	(void)state;
	struct events_limits limits = {.max_events = 3};
	struct events_bus *b;
	struct owner slow, fast;
	events_bus_new("m1", &limits, &b);
	sub(b, &slow, EVENTS_ALL, LOG_INFO);
	sub(b, &fast, EVENTS_ALL, LOG_INFO);
	for (int i = 0; i < 3; i++) {
		events_emit(b, EVENTS_CONFIG, LOG_INFO, NULL);
		events_msg_unref(events_sub_pop(fast.sub));
	}
	assert_int_equal(slow.overflows, 0);
	events_emit(b, EVENTS_CONFIG, LOG_INFO, NULL);
	assert_int_equal(slow.overflows, 1);
	assert_int_equal(slow.dropped, 4); /* three queued and this one */
	assert_int_equal(events_sub_queued(slow.sub), 0);
	/* Nothing more for it, and no second overflow. */
	events_emit(b, EVENTS_CONFIG, LOG_INFO, NULL);
	assert_int_equal(events_sub_queued(slow.sub), 0);
	assert_int_equal(slow.overflows, 1);
	/* The other subscriber goes on. */
	assert_int_equal(events_sub_queued(fast.sub), 2);
	struct events_stats st;
	events_bus_stats(b, &st);
	assert_int_equal(st.overflowed, 1);
	assert_int_equal(st.subscribers, 2);
	events_unsubscribe(slow.sub);
	events_unsubscribe(fast.sub);
	events_bus_free(b);
}

static void test_bound_by_bytes(void **state)
{
	(void)state;
	struct events_limits limits = {.max_bytes = 1000};
	struct events_bus *b;
	struct owner o;
	char big[300];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	events_bus_new("m1", &limits, &b);
	sub(b, &o, EVENTS_ALL, LOG_INFO);
	events_emit(b, EVENTS_CONFIG, LOG_INFO, meta("v", big));
	events_emit(b, EVENTS_CONFIG, LOG_INFO, meta("v", big));
	assert_int_equal(o.overflows, 0);
	struct events_stats st;
	events_bus_stats(b, &st);
	assert_true(st.queued_bytes > 600 && st.queued_bytes <= 1000);
	events_emit(b, EVENTS_CONFIG, LOG_INFO, meta("v", big));
	assert_int_equal(o.overflows, 1);
	events_bus_stats(b, &st);
	assert_int_equal(st.queued_bytes, 0);
	events_unsubscribe(o.sub);
	events_bus_free(b);
}

static void test_drop_on_overflow_goes_on(void **state)
{
	(void)state;
	struct events_limits limits = {.max_events = 2};
	struct events_bus *b;
	struct owner o;
	events_bus_new("m1", &limits, &b);
	struct events_sub_config cfg = {
	    .types = EVENTS_ALL, .local_only = true, .drop_on_overflow = true};
	memset(&o, 0, sizeof o);
	o.sub = events_subscribe(b, &cfg, &ops, &o);
	for (int i = 0; i < 5; i++) {
		events_emit(b, EVENTS_CONFIG, LOG_INFO, NULL);
	}
	assert_int_equal(o.overflows, 0);
	assert_int_equal(events_sub_dropped(o.sub), 3);
	events_msg_unref(events_sub_pop(o.sub));
	events_emit(b, EVENTS_CONFIG, LOG_INFO, NULL);
	assert_int_equal(events_sub_queued(o.sub), 2);
	/* Relay subscriptions are not counted as clients. */
	struct events_stats st;
	events_bus_stats(b, &st);
	assert_int_equal(st.subscribers, 0);
	events_unsubscribe(o.sub);
	events_bus_free(b);
}

static cJSON *event(const char *location, int seq)
{
	cJSON *e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "type", "cluster");
	cJSON_AddStringToObject(e, "timestamp", "2026-12-01T21:52:30.123Z");
	cJSON_AddStringToObject(e, "location", location);
	cJSON_AddNumberToObject(e, "sequence", seq);
	cJSON_AddItemToObject(e, "metadata", meta("action", "x"));
	return e;
}

static int inject(struct events_bus *b, uint64_t boot, const char *location,
		  int seq)
{
	char errmsg[TM_ERRMSG_SIZE];
	cJSON *e = event(location, seq);
	int rv = events_inject(b, boot, e, errmsg);
	cJSON_Delete(e);
	return rv;
}

static void test_dedupe(void **state)
{
	(void)state;
	struct events_bus *b;
	struct owner o, relay;
	events_bus_new("m2", NULL, &b);
	sub(b, &o, EVENTS_ALL, LOG_INFO);
	struct events_sub_config cfg = {.types = EVENTS_ALL,
					.local_only = true};
	memset(&relay, 0, sizeof relay);
	relay.sub = events_subscribe(b, &cfg, &ops, &relay);

	assert_int_equal(inject(b, 7, "m1", 1), 0);
	assert_int_equal(inject(b, 7, "m1", 2), 0);
	assert_int_equal(inject(b, 7, "m1", 2), TM_EXISTS);
	assert_int_equal(inject(b, 7, "m1", 1), TM_EXISTS);
	assert_int_equal(inject(b, 9, "m3", 1), 0);
	/* Its own events coming back are dropped. */
	assert_int_equal(inject(b, 7, "m2", 5), TM_EXISTS);
	/* m1 restarted: a new boot id, sequences from 1 again. */
	assert_int_equal(inject(b, 8, "m1", 1), 0);
	assert_int_equal(events_sub_queued(o.sub), 4);
	/* Relayed events are never relayed again. */
	assert_int_equal(events_sub_queued(relay.sub), 0);
	cJSON *e = pop(o.sub);
	assert_string_equal(cJSON_GetObjectItem(e, "location")->valuestring,
			    "m1");
	assert_string_equal(cJSON_GetObjectItem(e, "timestamp")->valuestring,
			    "2026-12-01T21:52:30.123Z");
	cJSON_Delete(e);
	struct events_stats st;
	events_bus_stats(b, &st);
	assert_int_equal(st.injected, 4);
	assert_int_equal(st.duplicates, 3);
	events_unsubscribe(o.sub);
	events_unsubscribe(relay.sub);
	events_bus_free(b);
}

static void test_inject_refuses_non_events(void **state)
{
	(void)state;
	struct events_bus *b;
	char errmsg[TM_ERRMSG_SIZE];
	events_bus_new("m2", NULL, &b);
	const char *bad[] = {
	    "[]",
	    "{}",
	    "{\"type\":\"nope\",\"timestamp\":\"t\",\"location\":\"m1\","
	    "\"sequence\":1,\"metadata\":{}}",
	    "{\"type\":\"cluster\",\"timestamp\":\"t\",\"location\":\"m1\","
	    "\"sequence\":0,\"metadata\":{}}",
	    "{\"type\":\"cluster\",\"timestamp\":\"t\",\"location\":\"\","
	    "\"sequence\":1,\"metadata\":{}}",
	    "{\"type\":\"cluster\",\"timestamp\":\"t\",\"location\":\"m1\","
	    "\"sequence\":1,\"metadata\":[]}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cJSON *e = cJSON_Parse(bad[i]);
		errmsg[0] = '\0';
		assert_int_equal(events_inject(b, 1, e, errmsg), TM_INVALID);
		assert_true(strstr(errmsg, "not an event") != NULL);
		cJSON_Delete(e);
	}
	events_bus_free(b);
}

static void test_shutdown_tells_everyone(void **state)
{
	(void)state;
	struct events_bus *b;
	struct owner a, c;
	events_bus_new("m1", NULL, &b);
	sub(b, &a, EVENTS_ALL, LOG_INFO);
	sub(b, &c, EVENTS_ALL, LOG_INFO);
	events_emit(b, EVENTS_CONFIG, LOG_INFO, NULL);
	events_bus_shutdown(b);
	assert_int_equal(a.shutdowns, 1);
	assert_int_equal(c.shutdowns, 1);
	assert_int_equal(events_sub_queued(a.sub), 0);
	/* Nothing is queued once shut down. */
	events_emit(b, EVENTS_CONFIG, LOG_INFO, NULL);
	assert_int_equal(events_sub_queued(a.sub), 0);
	events_unsubscribe(a.sub);
	events_unsubscribe(c.sub);
	events_bus_free(b);
}

static void test_type_and_level_names(void **state)
{
	(void)state;
	unsigned mask;
	char errmsg[TM_ERRMSG_SIZE];
	assert_int_equal(events_types_parse(NULL, &mask, errmsg), 0);
	assert_int_equal(mask, EVENTS_ALL);
	assert_int_equal(events_types_parse("config,cluster", &mask, errmsg),
			 0);
	assert_int_equal(mask, EVENTS_CONFIG | EVENTS_CLUSTER);
	assert_int_equal(events_types_parse("config,,cluster", &mask, errmsg),
			 TM_INVALID);
	assert_int_equal(events_types_parse("operation", &mask, errmsg),
			 TM_INVALID);
	assert_string_equal(errmsg, "unknown event type \"operation\" (valid "
				    "types: cluster, config, logging)");
	enum log_level level;
	assert_int_equal(events_level_parse("warning", &level, errmsg), 0);
	assert_int_equal(level, LOG_WARN);
	assert_int_equal(events_level_parse("loud", &level, errmsg),
			 TM_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_shape_and_sequence),
	    cmocka_unit_test(test_filters),
	    cmocka_unit_test(test_bound_by_count),
	    cmocka_unit_test(test_bound_by_bytes),
	    cmocka_unit_test(test_drop_on_overflow_goes_on),
	    cmocka_unit_test(test_dedupe),
	    cmocka_unit_test(test_inject_refuses_non_events),
	    cmocka_unit_test(test_shutdown_tells_everyone),
	    cmocka_unit_test(test_type_and_level_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

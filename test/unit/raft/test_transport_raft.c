/* Three real raft_uv instances in one process, each with the transport
 * on its own loopback address and REST server, over real TLS: they elect
 * a leader and replicate entries, large ones included; they get over
 * their connections being dropped and over a member stopping and coming
 * back; and raft closes cleanly while connects are pending, and does not
 * spin on peers that refuse. */
#include <string.h>

#include "internal/lib/mem.h"
#include "test/unit/raft/tp_fixture.h"

/* Multiples of 8: raft_uv 0.15 sends an entry's bytes as they are but
 * its receiver skips padding up to a multiple of 8 after each entry, so
 * an entry of another length shifts the ones after it
 * (doc/raft-transport.md). The global database pads its entries. */
#define SMALL 104
#define LARGE (1536 * 1024) /* over 1 MiB */

struct applied_wait {
	struct tp *tp;
	uint64_t n;
};

/* Every running member has applied N entries, and they agree. */
static bool all_applied(void *arg)
{
	struct applied_wait *w = arg;
	struct tp *tp = w->tp;
	struct tp_member *first = NULL;
	for (unsigned i = 0; i < tp->n_members; i++) {
		struct tp_member *m = &tp->members[i];
		if (!m->raft_running) {
			continue;
		}
		if (m->applied != w->n) {
			return false;
		}
		if (first == NULL) {
			first = m;
		} else if (m->hash != first->hash ||
			   m->applied_bytes != first->applied_bytes) {
			return false;
		}
	}
	return true;
}

static void wait_applied(struct tp *tp, uint64_t n)
{
	struct applied_wait w = {tp, n};
	if (!tp_run_until(tp, all_applied, &w, TP_DEADLINE_MS)) {
		for (unsigned i = 0; i < tp->n_members; i++) {
			struct tp_member *m = &tp->members[i];
			fprintf(stderr,
				"# member %llu: applied %llu (%llu bytes, "
				"hash %016llx)\n",
				(unsigned long long)m->id,
				(unsigned long long)m->applied,
				(unsigned long long)m->applied_bytes,
				(unsigned long long)m->hash);
		}
		fail_msg("not every member applied %llu entries",
			 (unsigned long long)n);
	}
}

static void start_three(struct tp *tp)
{
	for (int i = 1; i <= 3; i++) {
		tp_member_add(tp, i);
	}
	tp_set_clustered(tp, true);
	struct raft_configuration conf;
	tp_configuration(tp, &conf);
	for (unsigned i = 0; i < 3; i++) {
		tp_raft_start(&tp->members[i], &conf);
	}
	raft_configuration_close(&conf);
}

static struct tp_member *a_follower(struct tp *tp, struct tp_member *leader)
{
	for (unsigned i = 0; i < tp->n_members; i++) {
		if (&tp->members[i] != leader) {
			return &tp->members[i];
		}
	}
	return NULL;
}

/* Elect, replicate small and large entries, drop connections, stop and
 * restart a follower: every member ends with the same entries. */
static void test_three_members(void **state)
{
	struct tp *tp = *state;
	tp->queue_limit = 64 * 1024;
	start_three(tp);
	struct tp_member *leader = tp_wait_leader(tp);
	assert_non_null(leader);

	uint64_t n = 0;
	for (uint32_t i = 0; i < 30; i++) {
		tp_apply(leader, SMALL, i);
		n++;
	}
	wait_applied(tp, n);
	for (uint32_t i = 0; i < 4; i++) {
		tp_apply(leader, LARGE, 100 + i);
		n++;
	}
	wait_applied(tp, n);
	assert_true(leader->applied_bytes >= 4 * (uint64_t)LARGE);
	struct transport_stats st;
	transport_stats(&leader->transport, &st);
	/* Both followers got the large entries through the leader's
	 * bridges. */
	assert_true(st.to_peer >= 2 * 4 * (uint64_t)LARGE);
	assert_int_equal(st.dials_pending, 0);
	unsigned dials_before = st.dials_succeeded;

	/* Every connection of the leader and of a follower goes. */
	struct tp_member *follower = a_follower(tp, leader);
	transport_drop_connections(&leader->transport);
	transport_drop_connections(&follower->transport);
	for (uint32_t i = 0; i < 10; i++) {
		tp_apply(leader, SMALL, 200 + i);
		n++;
	}
	tp_apply(leader, LARGE, 300);
	n++;
	wait_applied(tp, n);
	transport_stats(&leader->transport, &st);
	assert_true(st.dials_succeeded > dials_before);

	/* A follower stops; the others go on; it comes back and catches
	 * up (raft replays its log, then gets what it missed). */
	tp_raft_close(follower);
	for (uint32_t i = 0; i < 10; i++) {
		tp_apply(leader, SMALL, 400 + i);
		n++;
	}
	tp_apply(leader, LARGE, 500);
	n++;
	wait_applied(tp, n);
	tp_raft_start(follower, NULL);
	wait_applied(tp, n);
	assert_int_equal(follower->applied, n);

	for (unsigned i = 0; i < 3; i++) {
		tp_raft_close(&tp->members[i]);
		assert_int_equal(tp->members[i].final_stats.dials_pending, 0);
	}
}

/* ---- peers that never answer, and peers that refuse ---- */

static bool two_pending(void *arg)
{
	struct tp_member *m = arg;
	struct transport_stats st;
	transport_stats(&m->transport, &st);
	return st.dials_pending == 2;
}

/* Member 1's peers are a TCP server that never speaks TLS and a member
 * that completes TLS but whose REST server has no time for it (its
 * listener's connections are never served): raft's connects to both
 * stay pending, and closing raft cancels them. */
static void test_close_with_pending_connects(void **state)
{
	struct tp *tp = *state;
	struct tp_member *m1 = tp_member_add(tp, 1);
	tp_set_clustered(tp, true);
	struct tp_mute tcp;
	struct tp_mute tcp2;
	tp_mute_start(tp, &tcp, "127.0.25.4");
	tp_mute_start(tp, &tcp2, "127.0.25.5");
	struct raft_configuration conf;
	raft_configuration_init(&conf);
	assert_int_equal(
	    raft_configuration_add(&conf, m1->id, m1->address, RAFT_VOTER), 0);
	assert_int_equal(
	    raft_configuration_add(&conf, 2, tcp.address, RAFT_VOTER), 0);
	assert_int_equal(
	    raft_configuration_add(&conf, 3, tcp2.address, RAFT_VOTER), 0);
	tp_raft_start(m1, &conf);
	raft_configuration_close(&conf);
	/* After an election timeout m1 asks both for votes. */
	assert_true(tp_run_until(tp, two_pending, m1, TP_DEADLINE_MS));
	tp_raft_close(m1);
	assert_int_equal(m1->final_stats.dials_pending, 0);
	assert_int_equal(m1->final_stats.dials_canceled, 2);
	tp_mute_stop(tp, &tcp);
	tp_mute_stop(tp, &tcp2);
}

/* Peers that refuse the TCP connection: raft retries every connect
 * retry delay (100 ms here), and the transport fails each attempt from
 * the loop, so a second brings a handful of attempts per peer, not a
 * spin. */
static void test_refused_peers_do_not_spin(void **state)
{
	struct tp *tp = *state;
	struct tp_member *m1 = tp_member_add(tp, 1);
	tp_set_clustered(tp, true);
	struct raft_configuration conf;
	raft_configuration_init(&conf);
	assert_int_equal(
	    raft_configuration_add(&conf, m1->id, m1->address, RAFT_VOTER), 0);
	assert_int_equal(
	    raft_configuration_add(&conf, 2, "127.0.25.3:1", RAFT_VOTER), 0);
	assert_int_equal(
	    raft_configuration_add(&conf, 3, "127.0.25.3:2", RAFT_VOTER), 0);
	tp_raft_start(m1, &conf);
	raft_configuration_close(&conf);
	tp_run_for(tp, 2000);
	struct transport_stats st;
	transport_stats(&m1->transport, &st);
	/* The first attempts come after an election timeout (500 ms to
	 * 1 s), then one per peer per 100 ms at most. */
	assert_true(st.dials_failed >= 2);
	assert_true(st.dials_failed <= 2 * (2000 / 100 + 2));
	assert_true(st.dials_started - st.dials_failed <= 2);
	tp_raft_close(m1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_three_members, tp_setup,
					    tp_teardown),
	    cmocka_unit_test_setup_teardown(test_close_with_pending_connects,
					    tp_setup, tp_teardown),
	    cmocka_unit_test_setup_teardown(test_refused_peers_do_not_spin,
					    tp_setup, tp_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* raft_fixture_grow() for an FSM with asynchronous snapshots.
 *
 * Debian's raft 0.15 fixture gives its raft_io an async_work method but
 * leaves io->version at 0, so raft_init() refuses a version 3 FSM
 * ("async snapshot requires io->version > 1"). Grow with the FSM presented
 * as version 2, then give the io the version it implements and restore the
 * FSM's: raft reads fsm->version only when it takes a snapshot, and then
 * runs snapshot_async through the fixture's async_work (inline, at the
 * completion time of the request, later in virtual time). */
#ifndef TEST_UNIT_RAFT_GROW_H
#define TEST_UNIT_RAFT_GROW_H

#include <raft.h>
#include <raft/fixture.h>

static inline int test_raft_grow(struct raft_fixture *f, struct raft_fsm *fsm)
{
	int version = fsm->version;
	if (version > 2) {
		fsm->version = 2;
	}
	int rv = raft_fixture_grow(f, fsm);
	fsm->version = version;
	if (rv == 0 && version > 2) {
		struct raft *r = raft_fixture_get(f, raft_fixture_n(f) - 1);
		if (r->io->async_work == NULL) {
			return -1;
		}
		r->io->version = 2;
	}
	return rv;
}

#endif /* TEST_UNIT_RAFT_GROW_H */

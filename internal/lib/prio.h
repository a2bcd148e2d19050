/* Thread priorities: the loop first.
 *
 * The daemon's loop carries raft's heartbeats and elections; a loop that
 * waits for a CPU behind SQL reads, snapshots or another process's work
 * is late for them exactly as if a callback had held it. On a busy
 * machine that wait is most of the loop's lag. So the loop thread asks
 * for a higher priority (nice PRIO_LOOP_NICE: needs root or
 * CAP_SYS_NICE; without them it stays at the normal one), and the
 * workers of the pool (pool.c) take a lower one (PRIO_WORKER_NICE:
 * always allowed). Linux keeps a nice value per thread; a thread starts
 * with its creator's.
 *
 * TM_PRIORITIES=off in the environment leaves every thread at the
 * process's priority (for comparison, or to let the system decide). */
#ifndef TM_LIB_PRIO_H
#define TM_LIB_PRIO_H

#include <stdbool.h>

#define PRIO_LOOP_NICE (-10)
#define PRIO_WORKER_NICE 5

/* Raise the calling thread (the loop's). Returns false, changing
 * nothing, when not permitted or turned off. */
bool prio_raise_loop(void);
/* Lower the calling thread (a worker's). */
void prio_lower_worker(void);

#endif /* TM_LIB_PRIO_H */

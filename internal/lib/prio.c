/* Thread priorities (prio.h). */
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal/lib/prio.h"

static bool enabled(void)
{
	const char *v = getenv("TM_PRIORITIES");
	return v == NULL || strcmp(v, "off") != 0;
}

/* On Linux, PRIO_PROCESS with a thread id sets that thread only. */
static int set_thread_nice(int nice)
{
	return setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), nice);
}

bool prio_raise_loop(void)
{
	return enabled() && set_thread_nice(PRIO_LOOP_NICE) == 0;
}

void prio_lower_worker(void)
{
	if (enabled()) {
		(void)set_thread_nice(PRIO_WORKER_NICE);
	}
}

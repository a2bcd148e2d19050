/* libraft's raft_uv destroys a kernel AIO context (io_destroy) each time
 * it closes a segment writer, on the loop thread; the kernel waits for an
 * RCU grace period there, which held the loop for 30-60 ms at every
 * segment close and snapshot, delaying raft's heartbeats and every
 * request. libraft reaches the kernel through syscall(2), so the daemon
 * provides syscall() itself: io_destroy is handed to a short-lived
 * thread (raft never touches the context again, and no I/O is in flight
 * on it by then), and every other call goes to the C library's syscall()
 * unchanged. TM_SYNC_IO_DESTROY=1 turns this off, for comparison. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
#include <sys/syscall.h>

long syscall(long number, ...);

typedef long (*syscall_fn)(long number, ...);

static _Atomic(syscall_fn) real_syscall;

static syscall_fn real(void)
{
	syscall_fn fn = atomic_load(&real_syscall);
	if (fn == NULL) {
		/* POSIX lets dlsym's object pointer hold a function. */
		void *p = dlsym(RTLD_NEXT, "syscall");
		memcpy(&fn, &p, sizeof fn);
		atomic_store(&real_syscall, fn);
	}
	return fn;
}

static void *destroy(void *arg)
{
	real()(SYS_io_destroy, (long)(uintptr_t)arg);
	return NULL;
}

static int deferred(long ctx)
{
	const char *env = getenv("TM_SYNC_IO_DESTROY");
	if (env != NULL && env[0] == '1') {
		return -1;
	}
	pthread_attr_t attr;
	pthread_t thread;
	if (pthread_attr_init(&attr) != 0) {
		return -1;
	}
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int rv = pthread_create(&thread, &attr, destroy,
				(void *)(uintptr_t)ctx);
	pthread_attr_destroy(&attr);
	return rv == 0 ? 0 : -1;
}

long syscall(long number, ...)
{
	va_list ap;
	long a[6];
	va_start(ap, number);
	for (int i = 0; i < 6; i++) {
		a[i] = va_arg(ap, long);
	}
	va_end(ap);
	if (number == SYS_io_destroy && deferred(a[0]) == 0) {
		return 0;
	}
	return real()(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}

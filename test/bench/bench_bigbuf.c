/* What a copy of a large raft entry costs the loop, by where it goes:
 * fresh memory from malloc (4 KiB faults), a bigbuf (huge pages), or a
 * buffer used before (the copy alone, the baseline). Each run copies
 * COUNT entries of SIZE bytes into new buffers, then frees them; the
 * median of RUNS runs is printed, per copy and per MB.
 *
 * Usage: bench-bigbuf [SIZE [COUNT [RUNS]]]   (default 3800000 16 7) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal/lib/bigbuf.h"
#include "internal/lib/mem.h"

enum mode { FRESH, BIGBUF, REUSED };

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* One run: ms per copy. */
static double run(enum mode mode, const char *src, size_t size, int count,
		  char **reuse)
{
	char **bufs = tm_calloc((size_t)count, sizeof *bufs);
	size_t *caps = tm_calloc((size_t)count, sizeof *caps);
	double t0 = now_ms();
	for (int i = 0; i < count; i++) {
		switch (mode) {
		case FRESH:
			/* As the allocator hands it out past its mmap
			 * threshold: a new mapping each time. */
			bufs[i] = tm_malloc(size);
			break;
		case BIGBUF:
			bufs[i] = bigbuf_alloc(size, &caps[i]);
			break;
		case REUSED:
			bufs[i] = reuse[i];
			break;
		}
		memcpy(bufs[i], src, size);
	}
	double ms = (now_ms() - t0) / count;
	for (int i = 0; i < count; i++) {
		if (mode == FRESH) {
			tm_free(bufs[i]);
		} else if (mode == BIGBUF) {
			bigbuf_free(bufs[i], caps[i]);
		}
	}
	tm_free(caps);
	tm_free(bufs);
	return ms;
}

int main(int argc, char **argv)
{
	size_t size = argc > 1 ? strtoul(argv[1], NULL, 10) : 3800000;
	int count = argc > 2 ? atoi(argv[2]) : 16;
	int runs = argc > 3 ? atoi(argv[3]) : 7;
	if (size == 0 || count <= 0 || runs <= 0) {
		fprintf(stderr, "usage: bench-bigbuf [SIZE [COUNT [RUNS]]]\n");
		return 2;
	}
	char *src = tm_malloc(size);
	memset(src, 0x5a, size);
	char **reuse = tm_calloc((size_t)count, sizeof *reuse);
	for (int i = 0; i < count; i++) {
		reuse[i] = tm_malloc(size);
		memset(reuse[i], 1, size);
	}
	static const char *names[] = {"fresh malloc", "bigbuf", "reused"};
	double *t = tm_calloc((size_t)runs, sizeof *t);
	for (int m = FRESH; m <= REUSED; m++) {
		for (int r = 0; r < runs; r++) {
			t[r] = run((enum mode)m, src, size, count, reuse);
		}
		qsort(t, (size_t)runs, sizeof *t, cmp);
		double med = t[runs / 2];
		printf("%-12s %8.3f ms per copy of %zu bytes, %6.3f ms/MB "
		       "(median of %d runs of %d; min %.3f, max %.3f)\n",
		       names[m], med, size, med / ((double)size / 1e6), runs,
		       count, t[0], t[runs - 1]);
	}
	for (int i = 0; i < count; i++) {
		tm_free(reuse[i]);
	}
	tm_free(reuse);
	tm_free(t);
	tm_free(src);
	return 0;
}

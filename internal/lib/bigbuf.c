/* Large buffers backed by huge pages (bigbuf.h). */
#include "internal/lib/bigbuf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "internal/lib/mem.h"

void *bigbuf_alloc(size_t len, size_t *cap)
{
	if (len < BIGBUF_MIN) {
		*cap = len;
		return tm_malloc(len);
	}
	size_t size = (len + BIGBUF_HUGE - 1) & ~(BIGBUF_HUGE - 1);
	/* One huge page more, to cut an aligned SIZE out of it. */
	size_t span = size + BIGBUF_HUGE;
	char *map = mmap(NULL, span, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED) {
		fprintf(stderr, "thermionic: out of memory\n");
		abort();
	}
	uintptr_t at = ((uintptr_t)map + BIGBUF_HUGE - 1) & ~(BIGBUF_HUGE - 1);
	char *base = (char *)at;
	size_t head = (size_t)(base - map);
	if (head > 0) {
		munmap(map, head);
	}
	if (span - head - size > 0) {
		munmap(base + size, span - head - size);
	}
	/* Advice only: without transparent huge pages it is refused, and the
	 * mapping works as any other. */
	(void)madvise(base, size, MADV_HUGEPAGE);
	*cap = size;
	return base;
}

void bigbuf_free(void *base, size_t cap)
{
	if (base == NULL) {
		return;
	}
	if (cap < BIGBUF_MIN) {
		tm_free(base);
		return;
	}
	munmap(base, cap);
}

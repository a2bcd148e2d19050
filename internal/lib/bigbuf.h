/* Large buffers that fault in a huge page at a time.
 *
 * Fresh memory from malloc faults in 4 KiB at a time on first touch; in
 * a virtual machine each fault is an exit to the hypervisor, and copying
 * a 3.8 MB raft entry into fresh memory cost the loop 10-27 ms, nearly
 * all of it faults (bench-bigbuf: up to 7 ms/MB, against 0.12-0.18 ms/MB
 * into memory written before).
 * A buffer of at least BIGBUF_MIN bytes is instead its own anonymous
 * mapping, aligned to and sized in 2 MiB, with MADV_HUGEPAGE: where the
 * kernel's transparent huge pages are "always" or "madvise" (Debian's
 * default), it faults in 2 MiB at a time. Elsewhere it is an ordinary
 * mapping, no slower than malloc's.
 *
 * The caller keeps the capacity bigbuf_alloc() returns and gives it back
 * to bigbuf_free(); smaller buffers come from tm_malloc(). Running out of
 * memory is fatal, as in mem.h. */
#ifndef TM_LIB_BIGBUF_H
#define TM_LIB_BIGBUF_H

#include <stddef.h>

#define BIGBUF_MIN ((size_t)1 << 20)
#define BIGBUF_HUGE ((size_t)2 << 20)

/* A buffer of at least LEN bytes; *CAP is its capacity. */
void *bigbuf_alloc(size_t len, size_t *cap);
/* Free BASE, of capacity CAP (as bigbuf_alloc returned it). */
void bigbuf_free(void *base, size_t cap);

#endif /* TM_LIB_BIGBUF_H */

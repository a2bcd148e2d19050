/* A 64-bit checksum of a byte string, xxHash64's algorithm (seed 0): fast
 * enough (several GB/s) to check a whole database image, and any change of
 * the bytes changes it with overwhelming probability. Not for security. */
#ifndef TM_HASH64_H
#define TM_HASH64_H

#include <stddef.h>
#include <stdint.h>

uint64_t hash64(const void *data, size_t len);

#endif /* TM_HASH64_H */

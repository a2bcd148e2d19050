/* The process's allocation policy: running out of memory is fatal.
 *
 * Every allocation in thermionic goes through these wrappers, which abort
 * with a message when the system allocator fails. Like redis, the daemon does
 * not try to keep serving without memory: half-applied state would be worse
 * than a restart. Library allocators (libuv, SQLite, cJSON) use their own
 * defaults, which fail in the same situations. */
#ifndef TM_MEM_H
#define TM_MEM_H

#include <stddef.h>

void *tm_malloc(size_t size);
void *tm_calloc(size_t n, size_t size);
void *tm_realloc(void *ptr, size_t size);
char *tm_strdup(const char *s);
char *tm_strndup(const char *s, size_t n);
char *tm_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tm_free(void *ptr);

#endif /* TM_MEM_H */

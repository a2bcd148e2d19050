/* Contracts that read as documentation. They stay on in release builds:
 * a broken invariant here would corrupt state, so the process stops. */
#ifndef TM_ASSERT_H
#define TM_ASSERT_H

#include <stdnoreturn.h>

noreturn void tm_panic(const char *file, int line, const char *what);

#define PRE(cond) \
	((cond) ? (void)0 : tm_panic(__FILE__, __LINE__, "precondition: " #cond))
#define POST(cond) \
	((cond) ? (void)0 : tm_panic(__FILE__, __LINE__, "postcondition: " #cond))
#define INVARIANT(cond) \
	((cond) ? (void)0 : tm_panic(__FILE__, __LINE__, "invariant: " #cond))
#define IMPOSSIBLE(why) tm_panic(__FILE__, __LINE__, "impossible: " why)

#endif /* TM_ASSERT_H */

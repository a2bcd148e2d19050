/* For unit tests: what a function writes to stderr (the log). */
#ifndef TEST_UNIT_CAPTURE_H
#define TEST_UNIT_CAPTURE_H

/* Run FN(ARG) with stderr going to a temporary file; the text written,
 * NUL-terminated (caller frees with free()). */
char *capture_stderr(void (*fn)(void *), void *arg);

#endif /* TEST_UNIT_CAPTURE_H */

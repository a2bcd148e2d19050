/* The bytes of a worked example in doc/raft-transport.md, so that tests
 * check the document itself. */
#ifndef TM_TEST_RAFT_DOC_BYTES_H
#define TM_TEST_RAFT_DOC_BYTES_H

#include <stddef.h>

/* The bytes of the first ``` block after the line LINE of
 * doc/raft-transport.md, a hex dump ("00000000  47 45 ..  |GET ...|");
 * owned (tm_free). Fails the test if there is none. */
char *doc_bytes(const char *line, size_t *len);

#endif /* TM_TEST_RAFT_DOC_BYTES_H */

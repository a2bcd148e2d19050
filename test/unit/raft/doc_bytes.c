#include "test/unit/raft/doc_bytes.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "internal/lib/err.h"
#include "internal/lib/fs.h"
#include "internal/lib/mem.h"

#ifndef DOC_SOURCE_ROOT
#error "DOC_SOURCE_ROOT must name the source tree"
#endif

char *doc_bytes(const char *line, size_t *len)
{
	char *doc;
	char errmsg[TM_ERRMSG_SIZE];
	int rv = fs_read_all(DOC_SOURCE_ROOT "/doc/raft-transport.md", 1 << 20,
			     &doc, NULL, errmsg);
	if (rv != 0) {
		fail_msg("%s", errmsg);
	}
	const char *at = strstr(doc, line);
	if (at == NULL) {
		fail_msg("doc/raft-transport.md has no line \"%s\"", line);
	}
	at = strstr(at, "\n```\n");
	assert_non_null(at);
	at += 5;
	char *out = tm_malloc(strlen(at) + 1);
	size_t n = 0;
	while (strncmp(at, "```", 3) != 0) {
		const char *eol = strchr(at, '\n');
		assert_non_null(eol);
		const char *bar = memchr(at, '|', (size_t)(eol - at));
		const char *p = at + 8; /* past the offset */
		const char *end = bar != NULL ? bar : eol;
		while (p < end) {
			while (p < end && *p == ' ') {
				p++;
			}
			if (p >= end) {
				break;
			}
			unsigned byte;
			assert_true(sscanf(p, "%2x", &byte) == 1);
			out[n++] = (char)byte;
			p += 2;
		}
		at = eol + 1;
	}
	tm_free(doc);
	*len = n;
	return out;
}

/* Fuzz target: raft configuration entries as `thermionicd recover` reads
 * them from the log (recover_conf_decode, internal/recover/conf.c): no
 * crash, read or leak past the input; a refusal has a message; an
 * accepted configuration, encoded again by raft, decodes to the same
 * servers. */
#include <stdint.h>
#include <string.h>

#include "internal/lib/assert.h"
#include "internal/lib/err.h"
#include "internal/lib/mem.h"
#include "internal/recover/recover.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same(const struct raft_configuration *a,
		 const struct raft_configuration *b)
{
	INVARIANT(a->n == b->n);
	for (unsigned i = 0; i < a->n; i++) {
		INVARIANT(a->servers[i].id == b->servers[i].id);
		INVARIANT(a->servers[i].role == b->servers[i].role);
		INVARIANT(strcmp(a->servers[i].address,
				 b->servers[i].address) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy, so that a read past the end is caught. */
	uint8_t *copy = tm_malloc(size + 1);
	memcpy(copy, data, size);
	struct raft_configuration conf;
	char errmsg[TM_ERRMSG_SIZE] = "";
	int rv = recover_conf_decode(copy, size, &conf, errmsg);
	if (rv != 0) {
		INVARIANT(errmsg[0] != '\0');
		tm_free(copy);
		return 0;
	}
	if (conf.n > 0) {
		struct raft_buffer buf;
		INVARIANT(raft_configuration_encode(&conf, &buf) == 0);
		struct raft_configuration again;
		INVARIANT(recover_conf_decode(buf.base, buf.len, &again,
					      errmsg) == 0);
		same(&conf, &again);
		raft_configuration_close(&again);
		raft_free(buf.base);
	}
	raft_configuration_close(&conf);
	tm_free(copy);
	return 0;
}

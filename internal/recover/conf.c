/* A raft configuration entry's payload (raft 0.15, configuration.c):
 *
 *   u8  format (1)
 *   u64 n, little-endian, unaligned
 *   n x { u64 id (LE, unaligned), address NUL-terminated, u8 role }
 *   zero padding to a multiple of 8 bytes
 *
 * raft's own decoder is not public; this one checks every bound. */
#include <string.h>

#include "internal/lib/err.h"
#include "internal/recover/recover.h"

#define CONF_FORMAT 1

static uint64_t le64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--) {
		v = (v << 8) | p[i];
	}
	return v;
}

int recover_conf_decode(const void *buf, size_t len,
			struct raft_configuration *out, char *errmsg)
{
	const unsigned char *p = buf;
	size_t off = 9;
	raft_configuration_init(out);
	if (len < off || p[0] != CONF_FORMAT) {
		tm_errmsg_printf(errmsg, "configuration entry: %s",
				 len < off ? "too short" : "unknown format");
		return TM_CORRUPT;
	}
	uint64_t n = le64(p + 1);
	for (uint64_t i = 0; i < n; i++) {
		const unsigned char *nul =
		    len - off > 8 ? memchr(p + off + 8, '\0', len - off - 8)
				  : NULL;
		if (nul == NULL || (size_t)(nul - p) + 2 > len) {
			tm_errmsg_printf(errmsg,
					 "configuration entry: server %llu of "
					 "%llu is cut short",
					 (unsigned long long)i + 1,
					 (unsigned long long)n);
			raft_configuration_close(out);
			return TM_CORRUPT;
		}
		raft_id id = le64(p + off);
		const char *address = (const char *)(p + off + 8);
		int role = nul[1];
		if (raft_configuration_add(out, id, address, role) != 0) {
			tm_errmsg_printf(errmsg,
					 "configuration entry: server %llu: "
					 "bad or repeated id or address",
					 (unsigned long long)id);
			raft_configuration_close(out);
			return TM_CORRUPT;
		}
		off = (size_t)(nul - p) + 2;
	}
	return 0;
}

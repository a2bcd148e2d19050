/* Closed segment check. Layout of a closed segment (raft 0.15, all
 * integers little-endian):
 *
 *   u64 format version (1)
 *   batches, back to back up to the end of the file, each:
 *     u32 header checksum, u32 data checksum
 *     u64 n (entries in the batch)
 *     n x { u64 term, u8 type, 3 unused bytes, u32 size }   header
 *     the entries' data, sizes as in the header (multiples of 8)
 *
 * The header checksum covers n and the n entry headers; the data checksum
 * the data. raft's CRC-32 is MSB-first, polynomial 0x04c11db7, initial
 * value 0, no final xor (libiberty's crc32). */
#include "internal/raft/segcheck.h"

#include <dirent.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "internal/lib/err.h"
#include "internal/lib/fs.h"
#include "internal/lib/mem.h"

#define SEGCHECK_MAX_SIZE ((size_t)1 << 31)

static uint32_t crc32_raft(const unsigned char *p, size_t n, uint32_t crc)
{
	static uint32_t table[256];
	static bool ready;
	if (!ready) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i << 24;
			for (int k = 0; k < 8; k++) {
				c = (c & 0x80000000u) ? (c << 1) ^ 0x04c11db7u
						      : c << 1;
			}
			table[i] = c;
		}
		ready = true;
	}
	while (n-- > 0) {
		crc = (crc << 8) ^ table[((crc >> 24) ^ *p++) & 0xff];
	}
	return crc;
}

static uint64_t le(const unsigned char *p, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--) {
		v = (v << 8) | p[i];
	}
	return v;
}

struct segment {
	const char *name;
	const unsigned char *p;
	size_t len;
	uint64_t first; /* index of the first entry, from the name */
	uint64_t last;
};

/* Check one batch at *OFF holding entries from *INDEX on; advance both. */
static int check_batch(const struct segment *s, size_t *off, uint64_t *index,
		       char *problem)
{
	size_t start = *off;
	if (s->len - start < 16) {
		snprintf(problem, TM_ERRMSG_SIZE, "truncated batch preamble");
		return TM_CORRUPT;
	}
	uint64_t n = le(s->p + start + 8, 8);
	if (n == 0 || n > (s->len - start - 16) / 16) {
		snprintf(problem, TM_ERRMSG_SIZE, "bad entry count %" PRIu64,
			 n);
		return TM_CORRUPT;
	}
	const unsigned char *header = s->p + start + 8;
	size_t header_len = 8 + 16 * (size_t)n;
	if (crc32_raft(header, header_len, 0) != le(s->p + start, 4)) {
		snprintf(problem, TM_ERRMSG_SIZE, "header checksum mismatch");
		return TM_CORRUPT;
	}
	size_t data_len = 0;
	for (uint64_t i = 0; i < n; i++) {
		data_len += (size_t)le(header + 8 + 16 * i + 12, 4);
	}
	size_t data_off = start + 8 + header_len;
	if (data_len > s->len - data_off) {
		snprintf(problem, TM_ERRMSG_SIZE, "truncated batch data");
		return TM_CORRUPT;
	}
	if (crc32_raft(s->p + data_off, data_len, 0) !=
	    le(s->p + start + 4, 4)) {
		snprintf(problem, TM_ERRMSG_SIZE, "data checksum mismatch");
		return TM_CORRUPT;
	}
	*off = data_off + data_len;
	*index += n;
	return 0;
}

static int check_segment(const struct segment *s, char *errmsg)
{
	char problem[TM_ERRMSG_SIZE] = "";
	size_t off = 8;
	uint64_t index = s->first;
	unsigned k = 1;
	int rv = 0;
	if (s->len < 8 || le(s->p, 8) != 1) {
		snprintf(problem, sizeof problem, "not format version 1");
		rv = TM_CORRUPT;
		off = 0;
	}
	while (rv == 0 && off < s->len) {
		rv = check_batch(s, &off, &index, problem);
		k += rv == 0 ? 1 : 0;
	}
	if (rv == 0 && index != s->last + 1) {
		tm_errmsg_printf(errmsg,
				 "segment %s: holds entries up to %" PRIu64
				 ", its name says %" PRIu64,
				 s->name, index - 1, s->last);
		return TM_CORRUPT;
	}
	if (rv != 0) {
		tm_errmsg_printf(errmsg,
				 "segment %s: batch %u (entries %" PRIu64
				 " and on, to %" PRIu64 ") at byte %zu: %s",
				 s->name, k, index, s->last, off, problem);
	}
	return rv;
}

static int check_file(const char *dir, const char *name, uint64_t first,
		      uint64_t last, char *errmsg)
{
	char *path = tm_asprintf("%s/%s", dir, name);
	char *data = NULL;
	size_t len = 0;
	int rv = fs_read_all(path, SEGCHECK_MAX_SIZE, &data, &len, errmsg);
	if (rv == 0) {
		struct segment s = {.name = path,
				    .p = (const unsigned char *)data,
				    .len = len,
				    .first = first,
				    .last = last};
		rv = check_segment(&s, errmsg);
	} else {
		rv = TM_IO;
	}
	tm_free(data);
	tm_free(path);
	return rv;
}

int segcheck_closed(const char *dir, char *errmsg)
{
	DIR *d = opendir(dir);
	if (d == NULL) {
		return 0; /* raft creates it and reports its own errors */
	}
	int rv = 0;
	struct dirent *e;
	while (rv == 0 && (e = readdir(d)) != NULL) {
		unsigned long long first, last;
		int end = 0;
		if (strlen(e->d_name) == 33 &&
		    sscanf(e->d_name, "%16llu-%16llu%n", &first, &last, &end) ==
			2 &&
		    end == 33 && first <= last) {
			rv = check_file(dir, e->d_name, first, last, errmsg);
		}
	}
	closedir(d);
	return rv;
}

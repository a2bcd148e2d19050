/* Alter one raft log entry on disk, keeping raft's checksums valid, for
 * test_check.sh: a member whose log says something else than the others'
 * at the same index, which raft loads without complaint.
 *
 *   tm-alter-entry DIR FROM TO
 *
 * In the segments of DIR (closed "FIRST-LAST" and open "open-N" files of
 * canonical/raft 0.15's libuv log), find the first entry whose payload
 * holds the bytes FROM, replace them with TO (same length), and write
 * the batch's data checksum again. Prints the file changed; exits 1 if
 * FROM is found nowhere, 2 on bad use or I/O errors.
 *
 * The segment format (raft src/uv_segment.c, uv_encoding.c): an 8-byte
 * format version (1; 2 adds the first index, 8 more bytes), then batches:
 * two CRC-32 checksums (4 bytes each: of the batch header, of the batch
 * data), the header (8-byte entry count, then 16 bytes per entry: term 8,
 * type 1, unused 3, payload size 4) and the data (the payloads, each a
 * multiple of 8 bytes). Integers are little-endian; raft's CRC-32 is the
 * MSB-first one of polynomial 0x04c11db7, starting at 0, without a final
 * xor. An open segment ends with zeros where no batch was written. */
#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t table[256];

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i << 24;
		for (int k = 0; k < 8; k++) {
			c = (c & 0x80000000u) ? (c << 1) ^ 0x04c11db7u : c << 1;
		}
		table[i] = c;
	}
}

static uint32_t crc32_raft(const uint8_t *p, size_t n)
{
	uint32_t crc = 0;
	while (n-- > 0) {
		crc = (crc << 8) ^ table[((crc >> 24) ^ *p++) & 255];
	}
	return crc;
}

static uint64_t get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--) {
		v = v << 8 | p[i];
	}
	return v;
}

static void put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++) {
		p[i] = (uint8_t)(v >> (8 * i));
	}
}

/* Replace FROM in the first payload of BUF holding it; true if done. */
static bool alter(uint8_t *buf, size_t len, const char *from, const char *to)
{
	size_t n_from = strlen(from);
	if (len < 8) {
		return false;
	}
	uint64_t format = get_le(buf, 8);
	size_t off = format == 2 ? 16 : 8;
	while (off + 16 <= len) {
		uint8_t *sums = buf + off;
		uint64_t n = get_le(buf + off + 8, 8);
		if (n == 0 || n > 1000000 || off + 16 + 16 * n > len) {
			return false; /* the zeros after the last batch */
		}
		const uint8_t *headers = buf + off + 16;
		size_t data_len = 0;
		for (uint64_t i = 0; i < n; i++) {
			data_len += get_le(headers + 16 * i + 12, 4);
		}
		uint8_t *data = buf + off + 16 + 16 * n;
		if (data + data_len > buf + len) {
			return false;
		}
		for (size_t i = 0; i + n_from <= data_len; i++) {
			if (memcmp(data + i, from, n_from) == 0) {
				memcpy(data + i, to, n_from);
				put_u32(sums + 4, crc32_raft(data, data_len));
				return true;
			}
		}
		off += 16 + 16 * n + data_len;
	}
	return false;
}

static int process(const char *path, const char *from, const char *to)
{
	FILE *f = fopen(path, "r+b");
	if (f == NULL) {
		return 2;
	}
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	if (size <= 0) {
		fclose(f);
		return 1;
	}
	uint8_t *buf = malloc((size_t)size);
	rewind(f);
	int rv = 2;
	if (buf != NULL && fread(buf, 1, (size_t)size, f) == (size_t)size) {
		rv = 1;
		if (alter(buf, (size_t)size, from, to)) {
			rewind(f);
			rv = fwrite(buf, 1, (size_t)size, f) == (size_t)size &&
				     fflush(f) == 0
				 ? 0
				 : 2;
		}
	}
	free(buf);
	fclose(f);
	return rv;
}

static bool is_segment(const char *name)
{
	unsigned long long a, b;
	int used = 0;
	if (sscanf(name, "open-%llu%n", &a, &used) == 1 && name[used] == '\0') {
		return true;
	}
	return sscanf(name, "%llu-%llu%n", &a, &b, &used) == 2 &&
	       name[used] == '\0';
}

int main(int argc, char **argv)
{
	if (argc != 4 || strlen(argv[2]) != strlen(argv[3]) ||
	    argv[2][0] == '\0') {
		fprintf(stderr, "usage: tm-alter-entry DIR FROM TO (FROM and "
				"TO of the same length)\n");
		return 2;
	}
	crc_init();
	DIR *dir = opendir(argv[1]);
	if (dir == NULL) {
		perror(argv[1]);
		return 2;
	}
	struct dirent *e;
	int rv = 1;
	while (rv == 1 && (e = readdir(dir)) != NULL) {
		if (!is_segment(e->d_name)) {
			continue;
		}
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", argv[1], e->d_name);
		rv = process(path, argv[2], argv[3]);
		if (rv == 0) {
			printf("%s\n", path);
		}
	}
	closedir(dir);
	return rv;
}

/* Log entry codec: round trips, the worked examples of
 * doc/log-entry-format.md byte for byte, and rejection of corrupt input, for
 * every entry type (WRITE, RESTORE, CHECK). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "internal/db/cluster/entry.h"
#include "internal/lib/err.h"

static const char example_sql[] =
    "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)";

/* INSERT INTO t VALUES(1, 'hi') as recorded by a SQLite session. */
static const uint8_t example_changeset[] = {
    0x54, 0x02, 0x01, 0x00, 0x74, 0x00, 0x12, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x02, 0x68, 0x69,
};

/* The entry of the worked example in doc/log-entry-format.md. */
/* clang-format off */
static const uint8_t example_entry[] = {
    0x54, 0x4d, 0x44, 0x42, /* magic "TMDB" */
    0x01, 0x00,		    /* format version 1 */
    0x01, 0x00,		    /* entry type 1: write batch */
    0x02, 0x00, 0x00, 0x00, /* 2 requests */
    0x01, 0x00, 0x00, 0x00, /* request 1: 1 item */
    0x02,		    /* kind 2: SQL */
    0x2e, 0x00, 0x00, 0x00, /* 46 bytes */
    'C', 'R', 'E', 'A', 'T', 'E', ' ', 'T', 'A', 'B', 'L', 'E', ' ', 't',
    '(', 'i', 'd', ' ', 'I', 'N', 'T', 'E', 'G', 'E', 'R', ' ', 'P', 'R',
    'I', 'M', 'A', 'R', 'Y', ' ', 'K', 'E', 'Y', ',', ' ', 'v', ' ', 'T',
    'E', 'X', 'T', ')',
    0x01, 0x00, 0x00, 0x00, /* request 2: 1 item */
    0x01,		    /* kind 1: CHANGESET */
    0x15, 0x00, 0x00, 0x00, /* 21 bytes */
    0x54, 0x02, 0x01, 0x00, 0x74, 0x00, 0x12, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x02, 0x68, 0x69,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* padding to 104 bytes */
};
/* clang-format on */

static void example(struct gdb_entry *e, struct gdb_entry_request *reqs,
		    struct gdb_item *items)
{
	items[0] = (struct gdb_item){GDB_ITEM_SQL, (const uint8_t *)example_sql,
				     strlen(example_sql)};
	items[1] = (struct gdb_item){GDB_ITEM_CHANGESET, example_changeset,
				     sizeof example_changeset};
	reqs[0] = (struct gdb_entry_request){1, &items[0]};
	reqs[1] = (struct gdb_entry_request){1, &items[1]};
	*e = (struct gdb_entry){
	    .type = GDB_ENTRY_WRITE, .n_requests = 2, .requests = reqs};
}

static void test_worked_example_encodes_byte_for_byte(void **state)
{
	struct gdb_entry e;
	struct gdb_entry_request reqs[2];
	struct gdb_item items[2];
	(void)state;
	example(&e, reqs, items);
	assert_int_equal(gdb_entry_size(&e), sizeof example_entry);
	assert_int_equal(sizeof example_entry, 104);
	uint8_t *buf = malloc(gdb_entry_size(&e));
	gdb_entry_encode(&e, buf);
	assert_memory_equal(buf, example_entry, sizeof example_entry);
	free(buf);
}

/* The changeset bytes in the example are what SQLite really produces. */
static void test_worked_example_changeset_is_real(void **state)
{
	sqlite3 *db;
	sqlite3_session *s;
	int n;
	void *p;
	(void)state;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, example_sql, NULL, NULL, NULL), 0);
	assert_int_equal(sqlite3session_create(db, "main", &s), SQLITE_OK);
	assert_int_equal(sqlite3session_attach(s, NULL), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(db, "INSERT INTO t VALUES(1, 'hi')", NULL, NULL, NULL),
	    0);
	assert_int_equal(sqlite3session_changeset(s, &n, &p), SQLITE_OK);
	assert_int_equal(n, sizeof example_changeset);
	assert_memory_equal(p, example_changeset, sizeof example_changeset);
	sqlite3_free(p);
	sqlite3session_delete(s);
	sqlite3_close(db);
}

static void test_decode_worked_example(void **state)
{
	struct gdb_entry e;
	char errmsg[TM_ERRMSG_SIZE];
	(void)state;
	assert_int_equal(
	    gdb_entry_decode(example_entry, sizeof example_entry, &e, errmsg),
	    0);
	assert_int_equal(e.type, GDB_ENTRY_WRITE);
	assert_int_equal(e.n_requests, 2);
	assert_int_equal(e.requests[0].n_items, 1);
	assert_int_equal(e.requests[0].items[0].kind, GDB_ITEM_SQL);
	assert_int_equal(e.requests[0].items[0].len, strlen(example_sql));
	assert_memory_equal(e.requests[0].items[0].data, example_sql,
			    strlen(example_sql));
	assert_int_equal(e.requests[1].n_items, 1);
	assert_int_equal(e.requests[1].items[0].kind, GDB_ITEM_CHANGESET);
	assert_int_equal(e.requests[1].items[0].len, 21);
	assert_memory_equal(e.requests[1].items[0].data, example_changeset, 21);
	gdb_entry_release(&e);
	assert_null(e.requests);
}

/* Many requests with many items of many sizes survive a round trip. */
static void test_round_trip_many(void **state)
{
	enum { N_REQ = 7, MAX_ITEMS = 5 };
	struct gdb_entry_request reqs[N_REQ];
	struct gdb_item items[N_REQ * MAX_ITEMS];
	uint8_t *payloads[N_REQ * MAX_ITEMS];
	size_t k = 0;
	char errmsg[TM_ERRMSG_SIZE];
	(void)state;
	srand(42);
	for (size_t r = 0; r < N_REQ; r++) {
		reqs[r].n_items = 1 + r % MAX_ITEMS;
		reqs[r].items = &items[k];
		for (size_t i = 0; i < reqs[r].n_items; i++, k++) {
			size_t len = 1 + (size_t)(rand() % 3000);
			payloads[k] = malloc(len);
			for (size_t b = 0; b < len; b++) {
				payloads[k][b] = (uint8_t)rand();
			}
			items[k].kind =
			    (i % 2) ? GDB_ITEM_SQL : GDB_ITEM_CHANGESET;
			items[k].data = payloads[k];
			items[k].len = len;
		}
	}
	struct gdb_entry e = {
	    .type = GDB_ENTRY_WRITE, .n_requests = N_REQ, .requests = reqs};
	size_t size = gdb_entry_size(&e);
	uint8_t *buf = malloc(size);
	gdb_entry_encode(&e, buf);

	struct gdb_entry d;
	assert_int_equal(gdb_entry_decode(buf, size, &d, errmsg), 0);
	assert_int_equal(d.n_requests, N_REQ);
	for (size_t r = 0; r < N_REQ; r++) {
		assert_int_equal(d.requests[r].n_items, reqs[r].n_items);
		for (size_t i = 0; i < reqs[r].n_items; i++) {
			const struct gdb_item *a = &reqs[r].items[i];
			const struct gdb_item *b = &d.requests[r].items[i];
			assert_int_equal(a->kind, b->kind);
			assert_int_equal(a->len, b->len);
			assert_memory_equal(a->data, b->data, a->len);
		}
	}
	gdb_entry_release(&d);
	free(buf);
	for (size_t i = 0; i < k; i++) {
		free(payloads[i]);
	}
}

static int decode_copy(const uint8_t *src, size_t len, char *errmsg)
{
	/* A separate allocation so that ASan sees any read past LEN. */
	uint8_t *copy = malloc(len > 0 ? len : 1);
	struct gdb_entry e;
	memcpy(copy, src, len);
	int rv = gdb_entry_decode(copy, len, &e, errmsg);
	if (rv == 0) {
		gdb_entry_release(&e);
	}
	free(copy);
	return rv;
}

static void test_every_truncation_is_corrupt(void **state)
{
	char errmsg[TM_ERRMSG_SIZE];
	(void)state;
	for (size_t len = 0; len < sizeof example_entry; len++) {
		assert_int_equal(decode_copy(example_entry, len, errmsg),
				 TM_CORRUPT);
	}
}

static void test_trailing_bytes_are_corrupt(void **state)
{
	uint8_t buf[sizeof example_entry + 8];
	char errmsg[TM_ERRMSG_SIZE];
	(void)state;
	memset(buf, 0, sizeof buf);
	memcpy(buf, example_entry, sizeof example_entry);
	/* A whole extra word of zeros is not padding. */
	assert_int_equal(decode_copy(buf, sizeof buf, errmsg), TM_CORRUPT);
	assert_non_null(strstr(errmsg, "trailing"));
	/* Padding must be zeros. */
	memcpy(buf, example_entry, sizeof example_entry);
	buf[sizeof example_entry - 1] = 1;
	assert_int_equal(decode_copy(buf, sizeof example_entry, errmsg),
			 TM_CORRUPT);
	assert_non_null(strstr(errmsg, "trailing"));
	/* An entry whose length is not a multiple of 8 is refused. */
	assert_int_equal(decode_copy(example_entry, 97, errmsg), TM_CORRUPT);
	assert_non_null(strstr(errmsg, "multiple of 8"));
}

/* Patch one header field of the example and expect CODE. */
static void expect_patched(size_t offset, const uint8_t *bytes, size_t n,
			   int code, const char *words)
{
	uint8_t buf[sizeof example_entry];
	char errmsg[TM_ERRMSG_SIZE];
	memcpy(buf, example_entry, sizeof buf);
	memcpy(buf + offset, bytes, n);
	assert_int_equal(decode_copy(buf, sizeof buf, errmsg), code);
	assert_non_null(strstr(errmsg, words));
}

static void test_bad_fields(void **state)
{
	(void)state;
	expect_patched(0, (const uint8_t *)"TMDC", 4, TM_CORRUPT, "magic");
	expect_patched(4, (const uint8_t[]){0, 0}, 2, TM_CORRUPT, "version 0");
	expect_patched(4, (const uint8_t[]){5, 0}, 2, TM_NEWER,
		       "format version 5 is newer");
	expect_patched(6, (const uint8_t[]){9, 0}, 2, TM_CORRUPT,
		       "entry type 9");
	expect_patched(8, (const uint8_t[]){0, 0, 0, 0}, 4, TM_CORRUPT,
		       "request count 0");
	expect_patched(8, (const uint8_t[]){0xff, 0xff, 0xff, 0xff}, 4,
		       TM_CORRUPT, "request count");
	expect_patched(8, (const uint8_t[]){3, 0, 0, 0}, 4, TM_CORRUPT,
		       "request 3");
	expect_patched(12, (const uint8_t[]){0, 0, 0, 0}, 4, TM_CORRUPT,
		       "item count 0");
	expect_patched(12, (const uint8_t[]){0xff, 0xff, 0xff, 0x7f}, 4,
		       TM_CORRUPT, "item count");
	/* ROWS items exist from version 3 on; 4 is no kind at all. */
	expect_patched(16, (const uint8_t[]){3}, 1, TM_CORRUPT,
		       "kind 3 in format version 1");
	expect_patched(16, (const uint8_t[]){4}, 1, TM_CORRUPT, "kind 4");
	expect_patched(17, (const uint8_t[]){0, 0, 0, 0}, 4, TM_CORRUPT,
		       "length 0");
	expect_patched(17, (const uint8_t[]){0xff, 0xff, 0xff, 0xff}, 4,
		       TM_CORRUPT, "length 4294967295");
}

/* Random corruption never crashes or reads out of bounds: decode either
 * accepts (lengths still consistent) or says TM_CORRUPT/TM_NEWER. */
static void test_random_corruption(void **state)
{
	uint8_t buf[sizeof example_entry];
	char errmsg[TM_ERRMSG_SIZE];
	(void)state;
	srand(7);
	for (int round = 0; round < 20000; round++) {
		memcpy(buf, example_entry, sizeof buf);
		int flips = 1 + rand() % 4;
		for (int f = 0; f < flips; f++) {
			buf[rand() % sizeof buf] ^= (uint8_t)(1 + rand() % 255);
		}
		size_t len = (size_t)rand() % (sizeof buf + 1);
		int rv = decode_copy(buf, len, errmsg);
		assert_true(rv == 0 || rv == TM_CORRUPT || rv == TM_NEWER);
	}
}

/* RESTORE entries. */

/* The first 40 bytes of the restore example in doc/log-entry-format.md: an
 * image of 8192 bytes (two 4096-byte pages). */
/* clang-format off */
static const uint8_t restore_prefix[] = {
    0x54, 0x4d, 0x44, 0x42, /* magic "TMDB" */
    0x02, 0x00,		    /* format version 2 */
    0x02, 0x00,		    /* entry type 2: restore */
    0x00, 0x00, 0x00, 0x00, /* request count 0 */
    0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* image: 8192 bytes */
    'S', 'Q', 'L', 'i', 't', 'e', ' ', 'f', 'o', 'r', 'm', 'a', 't', ' ',
    '3', 0x00,		    /* the image's SQLite header starts */
    0x10, 0x00,		    /* page size 4096 */
    0x01, 0x01,		    /* file format versions: rollback journal */
};
/* clang-format on */

/* The image of the restore example, made by SQLite (caller frees with
 * sqlite3_free). */
static unsigned char *example_image(size_t *len)
{
	sqlite3 *db;
	sqlite3_int64 size = 0;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, example_sql, NULL, NULL, NULL), 0);
	unsigned char *image = sqlite3_serialize(db, "main", &size, 0);
	assert_non_null(image);
	sqlite3_close(db);
	*len = (size_t)size;
	return image;
}

static uint8_t *encode_restore(const uint8_t *image, size_t len, size_t *size)
{
	struct gdb_entry e = {
	    .type = GDB_ENTRY_RESTORE, .image = image, .image_len = len};
	*size = gdb_entry_size(&e);
	uint8_t *buf = malloc(*size);
	memset(buf, 0xaa, *size); /* the padding must be written */
	gdb_entry_encode(&e, buf);
	return buf;
}

static void test_restore_worked_example(void **state)
{
	size_t len;
	size_t size;
	char errmsg[TM_ERRMSG_SIZE];
	struct gdb_entry d;
	(void)state;
	unsigned char *image = example_image(&len);
	assert_int_equal(len, 8192);
	uint8_t *buf = encode_restore(image, len, &size);
	assert_int_equal(size, 8216);
	assert_memory_equal(buf, restore_prefix, sizeof restore_prefix);
	assert_memory_equal(buf + 20, image, len);
	for (size_t k = 20 + len; k < size; k++) {
		assert_int_equal(buf[k], 0);
	}
	assert_int_equal(gdb_entry_decode(buf, size, &d, errmsg), 0);
	assert_int_equal(d.type, GDB_ENTRY_RESTORE);
	assert_int_equal(d.n_requests, 0);
	assert_null(d.requests);
	assert_ptr_equal(d.image, buf + 20);
	assert_int_equal(d.image_len, len);
	gdb_entry_release(&d);
	free(buf);
	sqlite3_free(image);
}

/* A fake image: the SQLite magic, then LEN - 16 pseudo-random bytes. */
static uint8_t *fake_image(size_t len)
{
	uint8_t *image = malloc(len);
	memcpy(image, "SQLite format 3", 16);
	for (size_t k = 16; k < len; k++) {
		image[k] = (uint8_t)rand();
	}
	return image;
}

/* Every image length modulo 8 (0 to 7 bytes of padding) survives. */
static void test_restore_round_trip(void **state)
{
	char errmsg[TM_ERRMSG_SIZE];
	(void)state;
	srand(3);
	for (size_t len = 100; len < 100 + 3 * GDB_ENTRY_ALIGN; len++) {
		size_t size;
		struct gdb_entry d;
		uint8_t *image = fake_image(len);
		uint8_t *buf = encode_restore(image, len, &size);
		assert_int_equal(size % GDB_ENTRY_ALIGN, 0);
		assert_true(size - (20 + len) < GDB_ENTRY_ALIGN);
		assert_int_equal(gdb_entry_decode(buf, size, &d, errmsg), 0);
		assert_int_equal(d.type, GDB_ENTRY_RESTORE);
		assert_int_equal(d.image_len, len);
		assert_memory_equal(d.image, image, len);
		gdb_entry_release(&d);
		free(buf);
		free(image);
	}
}

static void test_restore_truncations_are_corrupt(void **state)
{
	char errmsg[TM_ERRMSG_SIZE];
	size_t size;
	(void)state;
	uint8_t *image = fake_image(103); /* 123 bytes, 5 of padding */
	uint8_t *buf = encode_restore(image, 103, &size);
	assert_int_equal(size, 128);
	for (size_t len = 0; len < size; len++) {
		assert_int_equal(decode_copy(buf, len, errmsg), TM_CORRUPT);
	}
	assert_int_equal(decode_copy(buf, size, errmsg), 0);
	free(buf);
	free(image);
}

/* Patch BUF (SIZE bytes) at OFFSET, expect CODE and WORDS, restore it. */
static void expect_restore_patched(uint8_t *buf, size_t size, size_t offset,
				   const uint8_t *bytes, size_t n, int code,
				   const char *words)
{
	uint8_t saved[8];
	char errmsg[TM_ERRMSG_SIZE];
	assert_true(n <= sizeof saved);
	memcpy(saved, buf + offset, n);
	memcpy(buf + offset, bytes, n);
	assert_int_equal(decode_copy(buf, size, errmsg), code);
	if (strstr(errmsg, words) == NULL) {
		fail_msg("\"%s\" lacks \"%s\"", errmsg, words);
	}
	memcpy(buf + offset, saved, n);
}

static void test_restore_bad_fields(void **state)
{
	size_t size;
	(void)state;
	uint8_t *image = fake_image(103);
	uint8_t *buf = encode_restore(image, 103, &size);

	/* A restore entry needs format version 2; 5 is from the future. */
	expect_restore_patched(buf, size, 4, (const uint8_t[]){1, 0}, 2,
			       TM_CORRUPT,
			       "entry type 2 does not exist in format version "
			       "1");
	expect_restore_patched(buf, size, 4, (const uint8_t[]){5, 0}, 2,
			       TM_NEWER, "format version 5 is newer");
	expect_restore_patched(buf, size, 8, (const uint8_t[]){1, 0, 0, 0}, 4,
			       TM_CORRUPT, "request count 1, must be 0");
	/* Image lengths: 0, below a SQLite header, past the end, 2^64-1,
	 * 2^56 + 103 (the high half counts). */
	expect_restore_patched(buf, size, 12, (const uint8_t[]){0, 0, 0, 0}, 4,
			       TM_CORRUPT, "image length 0 impossible");
	expect_restore_patched(buf, size, 12, (const uint8_t[]){99, 0, 0, 0}, 4,
			       TM_CORRUPT, "image length 99 impossible");
	expect_restore_patched(buf, size, 12, (const uint8_t[]){109, 0, 0, 0},
			       4, TM_CORRUPT, "image length 109 impossible");
	expect_restore_patched(
	    buf, size, 12,
	    (const uint8_t[]){0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
	    8, TM_CORRUPT, "image length 18446744073709551615 impossible");
	expect_restore_patched(buf, size, 16, (const uint8_t[]){0, 0, 0, 1}, 4,
			       TM_CORRUPT,
			       "image length 72057594037928039 impossible");
	/* A shorter length leaves trailing bytes. */
	expect_restore_patched(buf, size, 12, (const uint8_t[]){100, 0, 0, 0},
			       4, TM_CORRUPT, "8 trailing bytes");
	expect_restore_patched(buf, size, 20, (const uint8_t *)"MySQL", 5,
			       TM_CORRUPT, "does not start with the SQLite");
	expect_restore_patched(buf, size, size - 1, (const uint8_t[]){1}, 1,
			       TM_CORRUPT, "trailing bytes");
	assert_int_equal(decode_copy(buf, size - 1, (char[TM_ERRMSG_SIZE]){0}),
			 TM_CORRUPT);
	free(buf);
	free(image);
}

/* A write entry written as version 2 means the same as version 1. */
static void test_write_entry_as_version_2(void **state)
{
	uint8_t buf[sizeof example_entry];
	char errmsg[TM_ERRMSG_SIZE];
	struct gdb_entry e;
	(void)state;
	memcpy(buf, example_entry, sizeof buf);
	buf[4] = 2;
	assert_int_equal(gdb_entry_decode(buf, sizeof buf, &e, errmsg), 0);
	assert_int_equal(e.type, GDB_ENTRY_WRITE);
	assert_int_equal(e.n_requests, 2);
	gdb_entry_release(&e);
}

static void test_restore_random_corruption(void **state)
{
	char errmsg[TM_ERRMSG_SIZE];
	size_t size;
	(void)state;
	srand(11);
	uint8_t *image = fake_image(103);
	uint8_t *orig = encode_restore(image, 103, &size);
	uint8_t *buf = malloc(size);
	for (int round = 0; round < 20000; round++) {
		memcpy(buf, orig, size);
		int flips = 1 + rand() % 4;
		for (int f = 0; f < flips; f++) {
			/* Mostly the header, where the structure is. */
			size_t at = rand() % 4 ? (size_t)rand() % 40
					       : (size_t)rand() % size;
			buf[at] ^= (uint8_t)(1 + rand() % 255);
		}
		size_t len = (size_t)rand() % (size + 1);
		int rv = decode_copy(buf, len, errmsg);
		assert_true(rv == 0 || rv == TM_CORRUPT || rv == TM_NEWER);
	}
	free(buf);
	free(orig);
	free(image);
}

/* The CHECK entry of doc/log-entry-format.md, byte for byte. */
static const uint8_t check_entry[16] = {
    0x54, 0x4d, 0x44, 0x42, /* magic "TMDB" */
    0x04, 0x00,		    /* format version 4 */
    0x03, 0x00,		    /* entry type 3: check */
    0x00, 0x00, 0x00, 0x00, /* request count 0 */
    0x00, 0x00, 0x00, 0x00, /* padding to 16 bytes */
};

static void test_check_worked_example(void **state)
{
	struct gdb_entry e = {.type = GDB_ENTRY_CHECK};
	struct gdb_entry d;
	uint8_t buf[16];
	char errmsg[TM_ERRMSG_SIZE];
	(void)state;
	assert_int_equal(gdb_entry_size(&e), sizeof check_entry);
	memset(buf, 0xaa, sizeof buf);
	gdb_entry_encode(&e, buf);
	assert_memory_equal(buf, check_entry, sizeof check_entry);
	assert_int_equal(decode_copy(check_entry, sizeof check_entry, errmsg),
			 0);
	assert_int_equal(gdb_entry_decode(buf, sizeof buf, &d, errmsg), 0);
	assert_int_equal(d.type, GDB_ENTRY_CHECK);
	assert_int_equal(d.n_requests, 0);
	assert_null(d.requests);
	assert_null(d.image);
	gdb_entry_release(&d);
}

/* Patch the CHECK example and expect CODE with WORDS. */
static void expect_check_patched(size_t offset, const uint8_t *bytes,
				 size_t n, size_t len, int code,
				 const char *words)
{
	uint8_t buf[24] = {0};
	char errmsg[TM_ERRMSG_SIZE];
	memcpy(buf, check_entry, sizeof check_entry);
	memcpy(buf + offset, bytes, n);
	assert_int_equal(decode_copy(buf, len, errmsg), code);
	assert_non_null(strstr(errmsg, words));
}

static void test_check_bad_fields(void **state)
{
	(void)state;
	/* A reader of format 3 (the build before CHECK entries) refuses
	 * the version as newer than it supports, never reads it as another
	 * type; this build refuses a CHECK entry claiming an older
	 * version, and the version after its own. */
	expect_check_patched(4, (const uint8_t[]){3, 0}, 2, 16, TM_CORRUPT,
			     "entry type 3 does not exist in format version "
			     "3");
	expect_check_patched(4, (const uint8_t[]){5, 0}, 2, 16, TM_NEWER,
			     "format version 5 is newer");
	expect_check_patched(8, (const uint8_t[]){1, 0, 0, 0}, 4, 16,
			     TM_CORRUPT, "request count 1, must be 0");
	expect_check_patched(12, (const uint8_t[]){1}, 1, 16, TM_CORRUPT,
			     "4 trailing bytes");
	expect_check_patched(0, check_entry, 0, 24, TM_CORRUPT,
			     "12 trailing bytes");
	expect_check_patched(0, check_entry, 0, 12, TM_CORRUPT,
			     "not a multiple of 8");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_worked_example_encodes_byte_for_byte),
	    cmocka_unit_test(test_worked_example_changeset_is_real),
	    cmocka_unit_test(test_decode_worked_example),
	    cmocka_unit_test(test_round_trip_many),
	    cmocka_unit_test(test_every_truncation_is_corrupt),
	    cmocka_unit_test(test_trailing_bytes_are_corrupt),
	    cmocka_unit_test(test_bad_fields),
	    cmocka_unit_test(test_random_corruption),
	    cmocka_unit_test(test_restore_worked_example),
	    cmocka_unit_test(test_restore_round_trip),
	    cmocka_unit_test(test_restore_truncations_are_corrupt),
	    cmocka_unit_test(test_restore_bad_fields),
	    cmocka_unit_test(test_write_entry_as_version_2),
	    cmocka_unit_test(test_restore_random_corruption),
	    cmocka_unit_test(test_check_worked_example),
	    cmocka_unit_test(test_check_bad_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

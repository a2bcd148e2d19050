/* The hash chain (chain.h) and the content hash (content.h), alone: no
 * raft, in-memory databases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "internal/db/cluster/chain.h"
#include "internal/db/cluster/content.h"
#include "internal/lib/err.h"

/* Entries i = 1..N: "entry i", one of them (ALTER, if not 0) with one
 * byte different. */
static void feed(struct gdb_chain *c, uint64_t from, uint64_t to,
		 uint64_t alter)
{
	for (uint64_t i = from; i <= to; i++) {
		char payload[32];
		int n = snprintf(payload, sizeof payload, "entry %llu",
				 (unsigned long long)i);
		if (i == alter) {
			payload[0] = 'E';
		}
		gdb_chain_add(c, i, payload, (size_t)n);
	}
}

static void value_at(const struct gdb_chain *c, uint64_t i, uint8_t *out)
{
	assert_true(gdb_chain_at(c, i, out));
}

static void test_same_entries_same_chain(void **state)
{
	struct gdb_chain a, b;
	uint8_t va[GDB_CHAIN_SIZE], vb[GDB_CHAIN_SIZE];
	(void)state;
	gdb_chain_init(&a);
	gdb_chain_init(&b);
	feed(&a, 1, 100, 0);
	feed(&b, 1, 100, 0);
	for (uint64_t i = 0; i <= 100; i++) {
		value_at(&a, i, va);
		value_at(&b, i, vb);
		assert_memory_equal(va, vb, GDB_CHAIN_SIZE);
	}
	/* Entries are not at every index (raft's own entries): the value
	 * at an index is that of the last entry at or below it. */
	gdb_chain_add(&a, 105, "x", 1);
	value_at(&a, 104, va);
	value_at(&a, 100, vb);
	assert_memory_equal(va, vb, GDB_CHAIN_SIZE);
	value_at(&a, 105, va);
	assert_memory_not_equal(va, vb, GDB_CHAIN_SIZE);
	gdb_chain_free(&a);
	gdb_chain_free(&b);
}

static void test_one_byte_differs_from_then_on(void **state)
{
	struct gdb_chain a, b;
	uint8_t va[GDB_CHAIN_SIZE], vb[GDB_CHAIN_SIZE];
	(void)state;
	gdb_chain_init(&a);
	gdb_chain_init(&b);
	feed(&a, 1, 50, 0);
	feed(&b, 1, 50, 20);
	for (uint64_t i = 1; i <= 50; i++) {
		value_at(&a, i, va);
		value_at(&b, i, vb);
		if (i < 20) {
			assert_memory_equal(va, vb, GDB_CHAIN_SIZE);
		} else {
			assert_memory_not_equal(va, vb, GDB_CHAIN_SIZE);
		}
	}
	/* The same payload at another index is another value. */
	gdb_chain_free(&a);
	gdb_chain_free(&b);
	gdb_chain_init(&a);
	gdb_chain_init(&b);
	gdb_chain_add(&a, 1, "same", 4);
	gdb_chain_add(&b, 2, "same", 4);
	assert_memory_not_equal(a.last.value, b.last.value, GDB_CHAIN_SIZE);
	gdb_chain_free(&a);
	gdb_chain_free(&b);
}

static void test_restart_from_a_snapshot_value(void **state)
{
	struct gdb_chain a, b;
	uint8_t at30[GDB_CHAIN_SIZE], va[GDB_CHAIN_SIZE], vb[GDB_CHAIN_SIZE];
	(void)state;
	gdb_chain_init(&a);
	gdb_chain_init(&b);
	feed(&a, 1, 60, 0);
	value_at(&a, 30, at30);
	/* B starts from A's value at 30, as from a snapshot there. */
	gdb_chain_reset(&b, a.base, 30, at30);
	feed(&b, 31, 60, 0);
	value_at(&a, 60, va);
	value_at(&b, 60, vb);
	assert_memory_equal(va, vb, GDB_CHAIN_SIZE);
	assert_int_equal(b.base, 0);
	/* Before the snapshot, B knows nothing. */
	assert_false(gdb_chain_at(&b, 29, vb));
	/* "Unknown before 30": another base, not comparable. */
	static const uint8_t zero[GDB_CHAIN_SIZE];
	gdb_chain_reset(&b, 30, 30, zero);
	feed(&b, 31, 60, 0);
	assert_int_equal(b.base, 30);
	gdb_chain_free(&a);
	gdb_chain_free(&b);
}

static void test_ring_keeps_the_last_points(void **state)
{
	struct gdb_chain a;
	uint8_t v[GDB_CHAIN_SIZE];
	(void)state;
	gdb_chain_init(&a);
	feed(&a, 1, GDB_CHAIN_RING + 10, 0);
	assert_false(gdb_chain_at(&a, 10, v));
	assert_true(gdb_chain_at(&a, 11, v));
	assert_true(gdb_chain_at(&a, GDB_CHAIN_RING + 10, v));
	assert_memory_equal(v, a.last.value, GDB_CHAIN_SIZE);
	char hex[GDB_CHAIN_HEX];
	uint8_t back[GDB_CHAIN_SIZE];
	gdb_chain_hex(v, hex);
	assert_int_equal(strlen(hex), 32);
	assert_true(gdb_chain_parse(hex, back));
	assert_memory_equal(back, v, GDB_CHAIN_SIZE);
	assert_false(gdb_chain_parse("0011", back));
	assert_false(gdb_chain_parse("0011223344556677889900aabbccddeG", back));
	gdb_chain_free(&a);
}

/* The cost of one 1 KiB entry on the apply path (printed, not asserted:
 * doc/consistency.md quotes it). */
static void test_cost_per_entry(void **state)
{
	struct gdb_chain a;
	uint8_t payload[1024];
	struct timespec t0, t1;
	const int n = 20000;
	(void)state;
	memset(payload, 'p', sizeof payload);
	gdb_chain_init(&a);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 1; i <= n; i++) {
		gdb_chain_add(&a, (uint64_t)i, payload, sizeof payload);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double us = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 +
		     (double)(t1.tv_nsec - t0.tv_nsec)) /
		    1e3 / n;
	printf("# hash chain: %.2f us per 1 KiB entry (%d entries)\n", us, n);
	gdb_chain_free(&a);
}

/* ---- the content hash ---- */

static void hash_of(const char *sql, uint8_t out[GDB_CHAIN_SIZE])
{
	sqlite3 *db;
	char errmsg[TM_ERRMSG_SIZE];
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(gdb_content_hash(db, NULL, out, errmsg), 0);
	sqlite3_close(db);
}

static void expect(const char *a, const char *b, bool same)
{
	uint8_t ha[GDB_CHAIN_SIZE], hb[GDB_CHAIN_SIZE];
	hash_of(a, ha);
	hash_of(b, hb);
	if (same) {
		assert_memory_equal(ha, hb, GDB_CHAIN_SIZE);
	} else {
		assert_memory_not_equal(ha, hb, GDB_CHAIN_SIZE);
	}
}

#define T "CREATE TABLE t(id INTEGER PRIMARY KEY, v);"
#define K "CREATE TABLE k(a TEXT PRIMARY KEY, b);"
#define W "CREATE TABLE w(k PRIMARY KEY, v) WITHOUT ROWID;"

static void test_content_same_rows_same_hash(void **state)
{
	(void)state;
	/* Insertion order does not matter; rowids and values do. */
	expect(T "INSERT INTO t VALUES(1, 'a'), (2, 'b');",
	       T "INSERT INTO t VALUES(2, 'b'); INSERT INTO t VALUES(1, 'a');",
	       true);
	expect(W "INSERT INTO w VALUES('x', 1), ('y', 2);",
	       W "INSERT INTO w VALUES('y', 2), ('x', 1);", true);
	/* Tables in name order whatever the order they were made in (and
	 * whatever pages they landed on). */
	expect(T K "INSERT INTO k VALUES('x', 1);",
	       K T "INSERT INTO k VALUES('x', 1);", true);
}

static void test_content_differences(void **state)
{
	(void)state;
	/* Another rowid for the same values. */
	expect(K "INSERT INTO k(rowid, a, b) VALUES(1, 'x', 1);",
	       K "INSERT INTO k(rowid, a, b) VALUES(2, 'x', 1);", false);
	/* Another type for the "same" value. */
	expect(T "INSERT INTO t VALUES(1, 1);",
	       T "INSERT INTO t VALUES(1, '1');", false);
	expect(T "INSERT INTO t VALUES(1, 1);",
	       T "INSERT INTO t VALUES(1, 1.0);", false);
	expect(T "INSERT INTO t VALUES(1, x'31');",
	       T "INSERT INTO t VALUES(1, '1');", false);
	expect(T "INSERT INTO t VALUES(1, NULL);",
	       T "INSERT INTO t VALUES(1, '');", false);
	/* The same rows in another table. */
	expect(T "INSERT INTO t VALUES(1, 'a');",
	       "CREATE TABLE u(id INTEGER PRIMARY KEY, v);"
	       "INSERT INTO u VALUES(1, 'a');",
	       false);
	/* One value changed. */
	expect(T "INSERT INTO t VALUES(1, 'a'), (2, 'b');",
	       T "INSERT INTO t VALUES(1, 'a'), (2, 'c');", false);
	/* Value boundaries: ('ab', 'c') is not ('a', 'bc'). */
	expect(K "INSERT INTO k VALUES('ab', 'c');",
	       K "INSERT INTO k VALUES('a', 'bc');", false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_same_entries_same_chain),
	    cmocka_unit_test(test_one_byte_differs_from_then_on),
	    cmocka_unit_test(test_restart_from_a_snapshot_value),
	    cmocka_unit_test(test_ring_keeps_the_last_points),
	    cmocka_unit_test(test_cost_per_entry),
	    cmocka_unit_test(test_content_same_rows_same_hash),
	    cmocka_unit_test(test_content_differences),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

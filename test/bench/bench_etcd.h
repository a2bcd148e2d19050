/* bench-sql's etcd target: the bodies of requests to etcd's v3 JSON
 * gateway and the check of its answers. Keys and values travel in
 * base64; 64-bit numbers come back as JSON strings. Every function
 * writes into the caller's buffer and keeps nothing. */
#ifndef BENCH_ETCD_H
#define BENCH_ETCD_H

#include <stdbool.h>
#include <stddef.h>

/* The keys reads read: bench-read-1 .. bench-read-ETCD_READ_KEYS. */
#define ETCD_READ_KEYS 1000

/* POST /v3/kv/put of a key no other request uses: this process's pid and
 * N. */
void etcd_put_body(char *out, size_t cap, long n);

/* POST /v3/kv/range of bench-read-N; linearizable (etcd's default), or
 * serializable (the member's own copy). */
void etcd_range_body(char *out, size_t cap, long n, bool serializable);

/* POST /v3/kv/txn that puts bench-read-FIRST .. bench-read-(FIRST +
 * COUNT - 1) (etcd allows 128 operations per transaction by default).
 * Returns -1 if CAP is too small. */
int etcd_txn_body(char *out, size_t cap, long first, long count);

/* Whether BODY, the start of a 200 answer, is what was asked: a header
 * with the revision a put made, or the one key a range asked for (a
 * missing key is an empty 200 answer). */
bool etcd_answer_ok(bool read, const char *body);

#endif

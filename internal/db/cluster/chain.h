/* The hash chain over applied entries (doc/consistency.md).
 *
 * Every member, when it applies the command entry at raft index i with
 * payload P, sets
 *
 *   chain_i = SHA-256(chain_{i-1} || u64le(i) || P), truncated to 16 bytes
 *
 * where chain_{i-1} is the value after the previous command entry (raft's
 * own entries, barriers and configuration changes, carry no payload of ours
 * and leave it as it is). Members that applied the same entries at the same
 * indices hold the same value; one byte different anywhere gives a
 * different value from that entry on.
 *
 * BASE says from where the chain is known: 0 for a chain that started with
 * the log (value 0 before the first entry); N for a chain that restarted at
 * index N from a snapshot written before snapshots carried the chain (value
 * 0 at N: "unknown before N"). Two chains are comparable only if their
 * bases are equal.
 *
 * A ring keeps the last GDB_CHAIN_RING (index, value) points, so that the
 * leader can tell its value at the index a follower reports.
 *
 * Pure: no I/O, no SQLite, no raft; not thread-safe (the global database
 * guards it: lane.c). */
#ifndef TM_DB_CLUSTER_CHAIN_H
#define TM_DB_CLUSTER_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GDB_CHAIN_SIZE 16   /* bytes of a value */
#define GDB_CHAIN_HEX 33    /* its lowercase hex text, with the NUL */
#define GDB_CHAIN_RING 4096 /* points kept */

struct gdb_chain_point {
	uint64_t index;
	uint8_t value[GDB_CHAIN_SIZE];
};

struct gdb_chain {
	uint64_t base;		      /* see above */
	struct gdb_chain_point last;  /* the newest point */
	struct gdb_chain_point *ring; /* owned; GDB_CHAIN_RING points */
	size_t ring_start;	      /* oldest point */
	size_t ring_len;
	void *md_ctx; /* OpenSSL digest context, reused */
	void *md;     /* the SHA-256 implementation, fetched once */
};

/* Start C from the log's beginning (base 0, value 0 at index 0). */
void gdb_chain_init(struct gdb_chain *c);
void gdb_chain_free(struct gdb_chain *c);

/* Start C again at INDEX with VALUE, known from BASE on (a snapshot): the
 * ring then holds this point only. */
void gdb_chain_reset(struct gdb_chain *c, uint64_t base, uint64_t index,
		     const uint8_t value[GDB_CHAIN_SIZE]);

/* The command entry at INDEX (above the last point) with PAYLOAD. */
void gdb_chain_add(struct gdb_chain *c, uint64_t index, const void *payload,
		   size_t len);

/* The same in two steps: the value at INDEX (C unchanged: the digest
 * needs no lock), then the point added. */
void gdb_chain_next(struct gdb_chain *c, uint64_t index, const void *payload,
		    size_t len, uint8_t out[GDB_CHAIN_SIZE]);
void gdb_chain_push(struct gdb_chain *c, uint64_t index,
		    const uint8_t value[GDB_CHAIN_SIZE]);

/* The value after every command entry up to INDEX, into OUT: false when
 * INDEX is older than the ring's oldest point. INDEX above the last point
 * gives the last value: the caller knows no entry was applied there. */
bool gdb_chain_at(const struct gdb_chain *c, uint64_t index,
		  uint8_t out[GDB_CHAIN_SIZE]);

/* VALUE as 32 lowercase hex digits and a NUL. */
void gdb_chain_hex(const uint8_t value[GDB_CHAIN_SIZE],
		   char out[GDB_CHAIN_HEX]);
/* Parse 32 hex digits; false otherwise. */
bool gdb_chain_parse(const char *text, uint8_t out[GDB_CHAIN_SIZE]);

#endif /* TM_DB_CLUSTER_CHAIN_H */

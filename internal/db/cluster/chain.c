/* The hash chain over applied entries: see chain.h. SHA-256 through
 * OpenSSL's EVP interface, with the implementation fetched once and one
 * digest context reused, so that an entry costs the hash of its bytes and
 * nothing else (doc/consistency.md gives the figure). */
#include "internal/db/cluster/chain.h"

#include <string.h>

#include <openssl/evp.h>

#include "internal/lib/assert.h"
#include "internal/lib/mem.h"

void gdb_chain_init(struct gdb_chain *c)
{
	static const uint8_t zero[GDB_CHAIN_SIZE];
	memset(c, 0, sizeof *c);
	c->ring = tm_calloc(GDB_CHAIN_RING, sizeof *c->ring);
	c->md_ctx = EVP_MD_CTX_new();
	c->md = EVP_MD_fetch(NULL, "SHA256", NULL);
	INVARIANT(c->md_ctx != NULL && c->md != NULL);
	gdb_chain_reset(c, 0, 0, zero);
}

void gdb_chain_free(struct gdb_chain *c)
{
	EVP_MD_CTX_free(c->md_ctx);
	EVP_MD_free(c->md);
	tm_free(c->ring);
	memset(c, 0, sizeof *c);
}

static void push(struct gdb_chain *c, const struct gdb_chain_point *p)
{
	size_t slot = (c->ring_start + c->ring_len) % GDB_CHAIN_RING;
	c->ring[slot] = *p;
	if (c->ring_len < GDB_CHAIN_RING) {
		c->ring_len++;
	} else {
		c->ring_start = (c->ring_start + 1) % GDB_CHAIN_RING;
	}
	c->last = *p;
}

void gdb_chain_reset(struct gdb_chain *c, uint64_t base, uint64_t index,
		     const uint8_t value[GDB_CHAIN_SIZE])
{
	struct gdb_chain_point p = {.index = index};
	memcpy(p.value, value, GDB_CHAIN_SIZE);
	c->base = base;
	c->ring_start = 0;
	c->ring_len = 0;
	push(c, &p);
}

void gdb_chain_next(struct gdb_chain *c, uint64_t index, const void *payload,
		    size_t len, uint8_t out[GDB_CHAIN_SIZE])
{
	PRE(index > c->last.index);
	uint8_t le[8];
	uint8_t digest[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	for (int i = 0; i < 8; i++) {
		le[i] = (uint8_t)(index >> (8 * i));
	}
	EVP_MD_CTX *ctx = c->md_ctx;
	int ok = EVP_DigestInit_ex2(ctx, c->md, NULL) &&
		 EVP_DigestUpdate(ctx, c->last.value, GDB_CHAIN_SIZE) &&
		 EVP_DigestUpdate(ctx, le, sizeof le) &&
		 EVP_DigestUpdate(ctx, payload, len) &&
		 EVP_DigestFinal_ex(ctx, digest, &n);
	INVARIANT(ok && n >= GDB_CHAIN_SIZE);
	memcpy(out, digest, GDB_CHAIN_SIZE);
}

void gdb_chain_push(struct gdb_chain *c, uint64_t index,
		    const uint8_t value[GDB_CHAIN_SIZE])
{
	PRE(index > c->last.index);
	struct gdb_chain_point p = {.index = index};
	memcpy(p.value, value, GDB_CHAIN_SIZE);
	push(c, &p);
}

void gdb_chain_add(struct gdb_chain *c, uint64_t index, const void *payload,
		   size_t len)
{
	uint8_t value[GDB_CHAIN_SIZE];
	gdb_chain_next(c, index, payload, len, value);
	gdb_chain_push(c, index, value);
}

/* Binary search: the newest point at or below INDEX. */
bool gdb_chain_at(const struct gdb_chain *c, uint64_t index,
		  uint8_t out[GDB_CHAIN_SIZE])
{
	if (c->ring_len == 0 || index < c->ring[c->ring_start].index) {
		return false;
	}
	size_t lo = 0;
	size_t hi = c->ring_len; /* the answer is in [lo, hi) */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		const struct gdb_chain_point *p =
		    &c->ring[(c->ring_start + mid) % GDB_CHAIN_RING];
		if (p->index <= index) {
			lo = mid;
		} else {
			hi = mid;
		}
	}
	memcpy(out, c->ring[(c->ring_start + lo) % GDB_CHAIN_RING].value,
	       GDB_CHAIN_SIZE);
	return true;
}

void gdb_chain_hex(const uint8_t value[GDB_CHAIN_SIZE], char out[GDB_CHAIN_HEX])
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < GDB_CHAIN_SIZE; i++) {
		out[2 * i] = digits[value[i] >> 4];
		out[2 * i + 1] = digits[value[i] & 15];
	}
	out[2 * GDB_CHAIN_SIZE] = '\0';
}

static int nibble(char ch)
{
	if (ch >= '0' && ch <= '9') {
		return ch - '0';
	}
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

bool gdb_chain_parse(const char *text, uint8_t out[GDB_CHAIN_SIZE])
{
	if (strlen(text) != 2 * GDB_CHAIN_SIZE) {
		return false;
	}
	for (size_t i = 0; i < GDB_CHAIN_SIZE; i++) {
		int hi = nibble(text[2 * i]);
		int lo = nibble(text[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			return false;
		}
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

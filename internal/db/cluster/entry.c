/* Log entry codec: see entry.h and doc/log-entry-format.md. Little-endian
 * fixed-width integers, no alignment. */
#include "internal/db/cluster/entry.h"

#include <stdbool.h>
#include <string.h>

#include "internal/lib/assert.h"
#include "internal/lib/err.h"
#include "internal/lib/mem.h"

/* Smallest encodings, used to bound counts before allocating. */
#define MIN_ITEM (GDB_ENTRY_ITEM_HEADER + 1)
#define MIN_REQUEST (4 + MIN_ITEM)

static void put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v & 0xff);
	p[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v & 0xff);
	p[1] = (uint8_t)((v >> 8) & 0xff);
	p[2] = (uint8_t)((v >> 16) & 0xff);
	p[3] = (uint8_t)(v >> 24);
}

static uint16_t get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

static void put_u64(uint8_t *p, uint64_t v)
{
	put_u32(p, (uint32_t)(v & 0xffffffffu));
	put_u32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t get_u64(const uint8_t *p)
{
	return (uint64_t)get_u32(p) | ((uint64_t)get_u32(p + 4) << 32);
}

/* Bytes of the entry before padding. */
static size_t content_size(const struct gdb_entry *e)
{
	if (e->type == GDB_ENTRY_CHECK) {
		return GDB_ENTRY_HEADER_SIZE;
	}
	if (e->type == GDB_ENTRY_RESTORE) {
		return GDB_ENTRY_RESTORE_HEADER_SIZE + e->image_len;
	}
	size_t size = GDB_ENTRY_HEADER_SIZE;
	for (size_t r = 0; r < e->n_requests; r++) {
		const struct gdb_entry_request *req = &e->requests[r];
		size += 4;
		for (size_t i = 0; i < req->n_items; i++) {
			size += GDB_ENTRY_ITEM_HEADER + req->items[i].len;
		}
	}
	return size;
}

/* raft's libuv log stores entry data padded to 8 bytes and reads it back
 * assuming so: a buffer of another length corrupts the segment. */
size_t gdb_entry_size(const struct gdb_entry *e)
{
	size_t size = content_size(e);
	return (size + GDB_ENTRY_ALIGN - 1) / GDB_ENTRY_ALIGN * GDB_ENTRY_ALIGN;
}

static void encode_header(uint8_t *p, uint16_t version, uint16_t type,
			  uint32_t count)
{
	memcpy(p, GDB_ENTRY_MAGIC, 4);
	put_u16(p + 4, version);
	put_u16(p + 6, type);
	put_u32(p + 8, count);
}

/* The lowest version that defines every item of E. */
static uint16_t write_version(const struct gdb_entry *e)
{
	for (size_t r = 0; r < e->n_requests; r++) {
		for (size_t i = 0; i < e->requests[r].n_items; i++) {
			if (e->requests[r].items[i].kind == GDB_ITEM_ROWS) {
				return GDB_ENTRY_VERSION_ROWS;
			}
		}
	}
	return GDB_ENTRY_VERSION_WRITE;
}

static bool item_kind_known(uint8_t kind, uint16_t version)
{
	return kind == GDB_ITEM_CHANGESET || kind == GDB_ITEM_SQL ||
	       (kind == GDB_ITEM_ROWS && version >= GDB_ENTRY_VERSION_ROWS);
}

static uint8_t *encode_write(const struct gdb_entry *e, uint8_t *buf)
{
	PRE(e->n_requests >= 1 && e->n_requests <= UINT32_MAX);
	PRE(e->image == NULL && e->image_len == 0);
	uint8_t *p = buf;
	encode_header(p, write_version(e), GDB_ENTRY_WRITE,
		      (uint32_t)e->n_requests);
	p += GDB_ENTRY_HEADER_SIZE;
	for (size_t r = 0; r < e->n_requests; r++) {
		const struct gdb_entry_request *req = &e->requests[r];
		PRE(req->n_items >= 1 && req->n_items <= UINT32_MAX);
		put_u32(p, (uint32_t)req->n_items);
		p += 4;
		for (size_t i = 0; i < req->n_items; i++) {
			const struct gdb_item *item = &req->items[i];
			PRE(item_kind_known((uint8_t)item->kind,
					    GDB_ENTRY_VERSION));
			PRE(item->len >= 1 && item->len <= UINT32_MAX);
			p[0] = (uint8_t)item->kind;
			put_u32(p + 1, (uint32_t)item->len);
			memcpy(p + GDB_ENTRY_ITEM_HEADER, item->data,
			       item->len);
			p += GDB_ENTRY_ITEM_HEADER + item->len;
		}
	}
	return p;
}

static uint8_t *encode_restore(const struct gdb_entry *e, uint8_t *buf)
{
	PRE(e->n_requests == 0 && e->requests == NULL);
	PRE(e->image_len >= GDB_ENTRY_SQLITE_HEADER &&
	    memcmp(e->image, GDB_ENTRY_SQLITE_MAGIC,
		   sizeof GDB_ENTRY_SQLITE_MAGIC) == 0);
	encode_header(buf, GDB_ENTRY_VERSION_RESTORE, GDB_ENTRY_RESTORE, 0);
	put_u64(buf + GDB_ENTRY_HEADER_SIZE, (uint64_t)e->image_len);
	memcpy(buf + GDB_ENTRY_RESTORE_HEADER_SIZE, e->image, e->image_len);
	return buf + GDB_ENTRY_RESTORE_HEADER_SIZE + e->image_len;
}

static uint8_t *encode_check(const struct gdb_entry *e, uint8_t *buf)
{
	PRE(e->n_requests == 0 && e->requests == NULL && e->image == NULL);
	encode_header(buf, GDB_ENTRY_VERSION_CHECK, GDB_ENTRY_CHECK, 0);
	return buf + GDB_ENTRY_HEADER_SIZE;
}

void gdb_entry_encode(const struct gdb_entry *e, uint8_t *buf)
{
	PRE(e->type == GDB_ENTRY_WRITE || e->type == GDB_ENTRY_RESTORE ||
	    e->type == GDB_ENTRY_CHECK);
	uint8_t *p = e->type == GDB_ENTRY_WRITE	    ? encode_write(e, buf)
		     : e->type == GDB_ENTRY_RESTORE ? encode_restore(e, buf)
						    : encode_check(e, buf);
	POST((size_t)(p - buf) == content_size(e));
	size_t pad = gdb_entry_size(e) - content_size(e);
	memset(p, 0, pad);
}

static int check_header(const uint8_t *buf, size_t len, uint16_t *version_out,
			uint16_t *type, char *errmsg)
{
	if (len < GDB_ENTRY_HEADER_SIZE) {
		tm_errmsg_printf(errmsg,
				 "entry of %zu bytes is shorter than "
				 "its %d-byte header",
				 len, GDB_ENTRY_HEADER_SIZE);
		return TM_CORRUPT;
	}
	if (memcmp(buf, GDB_ENTRY_MAGIC, 4) != 0) {
		tm_errmsg_printf(errmsg, "bad magic %02x%02x%02x%02x", buf[0],
				 buf[1], buf[2], buf[3]);
		return TM_CORRUPT;
	}
	uint16_t version = get_u16(buf + 4);
	*version_out = version;
	if (version == 0) {
		tm_errmsg_printf(errmsg, "format version 0 does not exist");
		return TM_CORRUPT;
	}
	if (version > GDB_ENTRY_VERSION) {
		tm_errmsg_printf(errmsg,
				 "format version %u is newer than this build "
				 "supports (%d): upgrade this member",
				 version, GDB_ENTRY_VERSION);
		return TM_NEWER;
	}
	*type = get_u16(buf + 6);
	if (*type != GDB_ENTRY_WRITE && *type != GDB_ENTRY_RESTORE &&
	    *type != GDB_ENTRY_CHECK) {
		tm_errmsg_printf(errmsg, "unknown entry type %u", *type);
		return TM_CORRUPT;
	}
	if ((*type == GDB_ENTRY_RESTORE &&
	     version < GDB_ENTRY_VERSION_RESTORE) ||
	    (*type == GDB_ENTRY_CHECK && version < GDB_ENTRY_VERSION_CHECK)) {
		tm_errmsg_printf(errmsg,
				 "entry type %u does not exist in format "
				 "version %u",
				 *type, version);
		return TM_CORRUPT;
	}
	return 0;
}

static int check_request_count(const uint8_t *buf, size_t len,
			       uint32_t *n_requests, char *errmsg)
{
	*n_requests = get_u32(buf + 8);
	size_t rest = len - GDB_ENTRY_HEADER_SIZE;
	if (*n_requests == 0 || *n_requests > rest / MIN_REQUEST) {
		tm_errmsg_printf(errmsg,
				 "request count %u impossible in %zu bytes",
				 *n_requests, rest);
		return TM_CORRUPT;
	}
	return 0;
}

/* The content ends at OFF: up to 7 zero bytes pad the entry to a multiple of
 * 8, and nothing else may follow. */
static int check_end(const uint8_t *buf, size_t len, size_t off, char *errmsg)
{
	bool padding =
	    len % GDB_ENTRY_ALIGN == 0 && len - off < GDB_ENTRY_ALIGN;
	for (size_t k = off; padding && k < len; k++) {
		padding = buf[k] == 0;
	}
	if (len % GDB_ENTRY_ALIGN != 0) {
		tm_errmsg_printf(errmsg, "length %zu is not a multiple of %d",
				 len, GDB_ENTRY_ALIGN);
		return TM_CORRUPT;
	}
	if (!padding) {
		tm_errmsg_printf(errmsg, "%zu trailing bytes", len - off);
		return TM_CORRUPT;
	}
	return 0;
}

/* First pass: validate everything and count the items. Messages number
 * requests and items from 1. */
static int scan(const uint8_t *buf, size_t len, uint16_t version,
		uint32_t n_requests, size_t *n_items_total, char *errmsg)
{
	size_t off = GDB_ENTRY_HEADER_SIZE;
	size_t total = 0;
	for (uint32_t r = 0; r < n_requests; r++) {
		if (len - off < 4) {
			tm_errmsg_printf(errmsg, "request %u: truncated count",
					 r + 1);
			return TM_CORRUPT;
		}
		uint32_t n_items = get_u32(buf + off);
		off += 4;
		if (n_items == 0 || n_items > (len - off) / MIN_ITEM) {
			tm_errmsg_printf(errmsg,
					 "request %u: item count %u impossible "
					 "in %zu bytes",
					 r + 1, n_items, len - off);
			return TM_CORRUPT;
		}
		for (uint32_t i = 0; i < n_items; i++) {
			if (len - off < GDB_ENTRY_ITEM_HEADER) {
				tm_errmsg_printf(
				    errmsg,
				    "request %u item %u: truncated "
				    "header",
				    r + 1, i + 1);
				return TM_CORRUPT;
			}
			uint8_t kind = buf[off];
			uint32_t item_len = get_u32(buf + off + 1);
			off += GDB_ENTRY_ITEM_HEADER;
			if (!item_kind_known(kind, version)) {
				tm_errmsg_printf(errmsg,
						 "request %u item %u: unknown "
						 "kind %u in format version %u",
						 r + 1, i + 1, kind, version);
				return TM_CORRUPT;
			}
			if (item_len == 0 || item_len > len - off) {
				tm_errmsg_printf(
				    errmsg,
				    "request %u item %u: length %u "
				    "with %zu bytes left",
				    r + 1, i + 1, item_len, len - off);
				return TM_CORRUPT;
			}
			off += item_len;
		}
		total += n_items;
	}
	int rv = check_end(buf, len, off, errmsg);
	if (rv != 0) {
		return rv;
	}
	*n_items_total = total;
	return 0;
}

static int decode_write(const uint8_t *buf, size_t len, uint16_t version,
			struct gdb_entry *out, char *errmsg)
{
	uint32_t n_requests;
	size_t n_items_total;
	int rv = check_request_count(buf, len, &n_requests, errmsg);
	if (rv != 0) {
		return rv;
	}
	rv = scan(buf, len, version, n_requests, &n_items_total, errmsg);
	if (rv != 0) {
		return rv;
	}

	/* Second pass: everything was checked, just fill in. */
	struct gdb_entry_request *requests =
	    tm_calloc(n_requests, sizeof *requests);
	struct gdb_item *items = tm_calloc(n_items_total, sizeof *items);
	size_t off = GDB_ENTRY_HEADER_SIZE;
	size_t next = 0;
	for (uint32_t r = 0; r < n_requests; r++) {
		uint32_t n_items = get_u32(buf + off);
		off += 4;
		requests[r].n_items = n_items;
		requests[r].items = &items[next];
		for (uint32_t i = 0; i < n_items; i++) {
			struct gdb_item *item = &items[next++];
			item->kind = (enum gdb_item_kind)buf[off];
			item->len = get_u32(buf + off + 1);
			item->data = buf + off + GDB_ENTRY_ITEM_HEADER;
			off += GDB_ENTRY_ITEM_HEADER + item->len;
		}
	}
	POST(len - off < GDB_ENTRY_ALIGN && next == n_items_total);
	out->type = GDB_ENTRY_WRITE;
	out->n_requests = n_requests;
	out->requests = requests;
	return 0;
}

static int decode_restore(const uint8_t *buf, size_t len, struct gdb_entry *out,
			  char *errmsg)
{
	if (len < GDB_ENTRY_RESTORE_HEADER_SIZE) {
		tm_errmsg_printf(errmsg,
				 "restore entry of %zu bytes is shorter than "
				 "its %d-byte header",
				 len, GDB_ENTRY_RESTORE_HEADER_SIZE);
		return TM_CORRUPT;
	}
	uint32_t count = get_u32(buf + 8);
	if (count != 0) {
		tm_errmsg_printf(errmsg,
				 "restore entry: request count %u, must be 0",
				 count);
		return TM_CORRUPT;
	}
	uint64_t image_len = get_u64(buf + GDB_ENTRY_HEADER_SIZE);
	size_t rest = len - GDB_ENTRY_RESTORE_HEADER_SIZE;
	if (image_len < GDB_ENTRY_SQLITE_HEADER || image_len > rest) {
		tm_errmsg_printf(errmsg,
				 "restore entry: image length %llu impossible "
				 "with %zu bytes left (at least %d)",
				 (unsigned long long)image_len, rest,
				 GDB_ENTRY_SQLITE_HEADER);
		return TM_CORRUPT;
	}
	const uint8_t *image = buf + GDB_ENTRY_RESTORE_HEADER_SIZE;
	if (memcmp(image, GDB_ENTRY_SQLITE_MAGIC,
		   sizeof GDB_ENTRY_SQLITE_MAGIC) != 0) {
		tm_errmsg_printf(errmsg, "restore entry: the image does not "
					 "start with the SQLite header");
		return TM_CORRUPT;
	}
	size_t end = GDB_ENTRY_RESTORE_HEADER_SIZE + (size_t)image_len;
	int rv = check_end(buf, len, end, errmsg);
	if (rv != 0) {
		return rv;
	}
	out->type = GDB_ENTRY_RESTORE;
	out->image = image;
	out->image_len = (size_t)image_len;
	return 0;
}

static int decode_check(const uint8_t *buf, size_t len, struct gdb_entry *out,
			char *errmsg)
{
	uint32_t count = get_u32(buf + 8);
	if (count != 0) {
		tm_errmsg_printf(errmsg,
				 "check entry: request count %u, must be 0",
				 count);
		return TM_CORRUPT;
	}
	int rv = check_end(buf, len, GDB_ENTRY_HEADER_SIZE, errmsg);
	if (rv != 0) {
		return rv;
	}
	out->type = GDB_ENTRY_CHECK;
	return 0;
}

int gdb_entry_decode(const uint8_t *buf, size_t len, struct gdb_entry *out,
		     char *errmsg)
{
	uint16_t version = 0;
	uint16_t type = 0;

	memset(out, 0, sizeof *out);
	int rv = check_header(buf, len, &version, &type, errmsg);
	if (rv != 0) {
		return rv;
	}
	if (type == GDB_ENTRY_RESTORE) {
		return decode_restore(buf, len, out, errmsg);
	}
	if (type == GDB_ENTRY_CHECK) {
		return decode_check(buf, len, out, errmsg);
	}
	return decode_write(buf, len, version, out, errmsg);
}

bool gdb_entry_is_check(const uint8_t *buf, size_t len)
{
	uint16_t version = 0;
	uint16_t type = 0;
	char errmsg[TM_ERRMSG_SIZE];
	return check_header(buf, len, &version, &type, errmsg) == 0 &&
	       type == GDB_ENTRY_CHECK;
}

void gdb_entry_release(struct gdb_entry *e)
{
	if (e->requests != NULL) {
		tm_free(e->requests[0].items);
		tm_free(e->requests);
	}
	memset(e, 0, sizeof *e);
}

/* Fuzz target: the raft log entry decoder must refuse, never crash on,
 * any byte string, and what it accepts must re-encode to the same bytes
 * (for write entries); the ROWS items inside are read too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal/db/cluster/entry.h"
#include "internal/db/cluster/rows.h"
#include "internal/lib/assert.h"
#include "internal/lib/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gdb_entry e;
	char errmsg[TM_ERRMSG_SIZE];
	if (gdb_entry_decode(data, size, &e, errmsg) != 0) {
		return 0;
	}
	if (e.type == GDB_ENTRY_WRITE) {
		size_t n = gdb_entry_size(&e);
		uint8_t *again = malloc(n);
		gdb_entry_encode(&e, again);
		/* The version field may differ (the lowest that defines the
		 * type is written); everything after it must match. */
		INVARIANT(n == size);
		INVARIANT(memcmp(again + 6, data + 6, n - 6) == 0);
		free(again);
		/* ROWS items are read as a member applying them would. */
		for (size_t r = 0; r < e.n_requests; r++) {
			for (size_t i = 0; i < e.requests[r].n_items; i++) {
				const struct gdb_item *it =
				    &e.requests[r].items[i];
				struct gdb_rows_iter rows;
				if (it->kind != GDB_ITEM_ROWS) {
					continue;
				}
				gdb_rows_iter_init(&rows, it->data, it->len);
				while (gdb_rows_next(&rows, errmsg) == 1) {
				}
				gdb_rows_iter_release(&rows);
			}
		}
	}
	gdb_entry_release(&e);
	return 0;
}

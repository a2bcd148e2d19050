/* Fuzz target: the chaos history parser and the three checkers never
 * crash nor leak on any input, and the linearizability search stays
 * within a small budget. */
#include <stdint.h>
#include <stdio.h>

#include "test/chaos/check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct chk_history h;
	char err[256];
	if (chk_history_parse((const char *)data, size, &h, err, sizeof err) !=
	    0) {
		return 0;
	}
	struct chk_limits lim = {
	    .max_states = 10000, .max_bytes = 1 << 20, .max_seconds = 1};
	struct chk_report r;
	chk_report_init(&r, &h, "register");
	chk_register(&h, &lim, &r);
	chk_bank(&h, &r);
	chk_set(&h, &r);
	char *json = chk_report_json(&r);
	cJSON_free(json);
	chk_report_free(&r);
	chk_history_free(&h);
	return 0;
}

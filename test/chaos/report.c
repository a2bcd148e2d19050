/* Check reports; see report.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "test/chaos/report.h"

void chk_report_init(struct chk_report *r, const struct chk_history *h,
		     const char *workload)
{
	memset(r, 0, sizeof *r);
	snprintf(r->workload, sizeof r->workload, "%s", workload);
	for (size_t i = 0; h != NULL && i < h->n_ops; i++) {
		r->ops++;
		switch (h->ops[i].type) {
		case CHK_OK:
			r->ok++;
			break;
		case CHK_FAIL:
			r->fail++;
			break;
		default:
			r->info++;
			break;
		}
	}
}

static char *vformat(const char *fmt, va_list ap)
{
	va_list copy;
	va_copy(copy, ap);
	int n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	char *s = malloc((size_t)n + 1);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

void chk_report_anomaly(struct chk_report *r, const char *kind, const char *fmt,
			...)
{
	r->anomalies =
	    realloc(r->anomalies, (r->n_anomalies + 1) * sizeof *r->anomalies);
	struct chk_anomaly *a = &r->anomalies[r->n_anomalies++];
	a->kind = strdup(kind);
	va_list ap;
	va_start(ap, fmt);
	a->detail = vformat(fmt, ap);
	va_end(ap);
	r->verdict = CHK_INVALID;
}

void chk_report_unknown(struct chk_report *r, const char *fmt, ...)
{
	if (r->why_unknown == NULL) {
		va_list ap;
		va_start(ap, fmt);
		r->why_unknown = vformat(fmt, ap);
		va_end(ap);
	}
	if (r->verdict == CHK_VALID) {
		r->verdict = CHK_UNKNOWN;
	}
}

char *chk_report_json(const struct chk_report *r)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "workload", r->workload);
	if (r->verdict == CHK_UNKNOWN) {
		cJSON_AddStringToObject(o, "valid", "unknown");
	} else {
		cJSON_AddBoolToObject(o, "valid", r->verdict == CHK_VALID);
	}
	cJSON_AddNumberToObject(o, "ops", (double)r->ops);
	cJSON_AddNumberToObject(o, "ok", (double)r->ok);
	cJSON_AddNumberToObject(o, "fail", (double)r->fail);
	cJSON_AddNumberToObject(o, "info", (double)r->info);
	if (r->why_unknown != NULL) {
		cJSON_AddStringToObject(o, "unknown", r->why_unknown);
	}
	cJSON *list = cJSON_AddArrayToObject(o, "anomalies");
	for (size_t i = 0; i < r->n_anomalies; i++) {
		cJSON *a = cJSON_CreateObject();
		cJSON_AddStringToObject(a, "kind", r->anomalies[i].kind);
		cJSON_AddStringToObject(a, "detail", r->anomalies[i].detail);
		cJSON_AddItemToArray(list, a);
	}
	char *s = cJSON_Print(o);
	cJSON_Delete(o);
	return s;
}

void chk_report_free(struct chk_report *r)
{
	for (size_t i = 0; i < r->n_anomalies; i++) {
		free(r->anomalies[i].kind);
		free(r->anomalies[i].detail);
	}
	free(r->anomalies);
	free(r->why_unknown);
	memset(r, 0, sizeof *r);
}

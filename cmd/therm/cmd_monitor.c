/* therm monitor: follow the event stream (GET /1.0/events, over a
 * WebSocket) and print each event as it arrives, until interrupted. */
#include <string.h>

#include "cmd/therm/cli.h"
#include "internal/lib/err.h"
#include "internal/lib/mem.h"

/* "2026-12-01T21:52:30.123Z m1#42 cluster action=member-joined name=m4":
 * the metadata's members as key=value; a logging event as its level and
 * message. */
static void print_pretty(FILE *out, const cJSON *e)
{
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(e, "type");
	const cJSON *stamp = cJSON_GetObjectItemCaseSensitive(e, "timestamp");
	const cJSON *loc = cJSON_GetObjectItemCaseSensitive(e, "location");
	const cJSON *seq = cJSON_GetObjectItemCaseSensitive(e, "sequence");
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(e, "metadata");
	char num[32];
	fprintf(out, "%s %s#%s %s",
		cJSON_IsString(stamp) ? stamp->valuestring : "-",
		cJSON_IsString(loc) ? loc->valuestring : "-",
		cJSON_IsNumber(seq) ? therm_number_text(seq->valuedouble, num)
				    : "-",
		cJSON_IsString(type) ? type->valuestring : "?");
	const cJSON *level = cJSON_GetObjectItemCaseSensitive(meta, "level");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(meta, "message");
	if (cJSON_IsString(type) && strcmp(type->valuestring, "cluster") != 0 &&
	    strcmp(type->valuestring, "config") != 0 && cJSON_IsString(msg)) {
		fprintf(out, " %s%s%s\n",
			cJSON_IsString(level) ? level->valuestring : "",
			cJSON_IsString(level) ? ": " : "", msg->valuestring);
		return;
	}
	const cJSON *item;
	cJSON_ArrayForEach(item, meta)
	{
		char *text = therm_cell_text(item, THERM_CELL_TEXT);
		fprintf(out, " %s=%s", item->string, text);
		tm_free(text);
	}
	fputc('\n', out);
}

static int event_cb(void *arg, const cJSON *event)
{
	struct therm_ctx *ctx = arg;
	char errmsg[TM_ERRMSG_SIZE];
	if (ctx->format == THERM_FORMAT_JSON) {
		char *text = cJSON_PrintUnformatted(event);
		fprintf(ctx->out, "%s\n", text != NULL ? text : "{}");
		cJSON_free(text);
	} else if (ctx->format == THERM_FORMAT_YAML) {
		fputs("---\n", ctx->out);
		therm_yaml_write(ctx->out, event, errmsg);
	} else {
		print_pretty(ctx->out, event);
	}
	/* Stop when the output is gone (a closed pipe). */
	return fflush(ctx->out) != 0 || ferror(ctx->out) ? 1 : 0;
}

static int monitor_run(struct therm_ctx *ctx, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	struct thermionic_client *client;
	if (therm_client(ctx, &client) != 0) {
		return THERM_EXIT_ERROR;
	}
	int rv =
	    thermionic_events_follow(client, therm_opt(ctx, "type"),
				     therm_opt(ctx, "level"), event_cb, ctx);
	if (rv != THERMIONIC_OK) {
		return therm_client_fail(ctx, rv);
	}
	return THERM_EXIT_OK;
}

static const struct therm_option monitor_options[] = {
    {"type", 't', "TYPE[,TYPE]",
     "event types: cluster, config, logging (default: all)"},
    {"level", 'l', "LEVEL",
     "least level of logging events: trace, debug, info, warn, error "
     "(default: info)"},
    {NULL, 0, NULL, NULL},
};

const struct therm_command therm_cmd_monitor = {
    .name = "monitor",
    .summary = "Print events as they happen, on any member (GET /1.0/events).",
    .description =
	"Follows the daemon's event stream over a WebSocket and prints each "
	"event\nas it arrives, until interrupted (Ctrl-C) or until the "
	"daemon ends the\nstream (it stops, or drops a client that reads "
	"too slowly: then therm\nprints the reason and exits 1). Events "
	"from every member of the cluster\narrive, each once, whichever "
	"member therm is connected to.\n\n"
	"Formats: pretty (the default; table is the same), one line per "
	"event;\njson, one object per line, for scripts; yaml, one "
	"document per event.",
    .options = monitor_options,
    .formats = THERM_FORMAT_PRETTY | THERM_FORMAT_TABLE | THERM_FORMAT_JSON |
	       THERM_FORMAT_YAML,
    .max_args = 0,
    .run = monitor_run,
};

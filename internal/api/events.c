/* GET /1.0/events: the event stream (doc/events.md), as a WebSocket when
 * the request asks "Upgrade: websocket", as Server-Sent Events when it
 * accepts text/event-stream. Query: type=cluster,config,logging (default:
 * all), level=trace|debug|info|warn|error (logging; default info).
 *
 * POST /internal/events: a batch of another member's events (the relay,
 * internal/daemon/events_relay.c); members' certificates only. */
#include <string.h>

#include "internal/api/api.h"
#include "internal/daemon/cluster.h"
#include "internal/daemon/daemon.h"
#include "internal/events/stream.h"
#include "internal/events/ws_handshake.h"
#include "internal/lib/log.h"
#include "internal/lib/mem.h"

#define NEITHER                                                                \
	"GET /1.0/events streams events in one of two ways: as a WebSocket "   \
	"(send \"Connection: Upgrade\", \"Upgrade: websocket\", "              \
	"Sec-WebSocket-Key and \"Sec-WebSocket-Version: 13\") or as "          \
	"Server-Sent Events (send \"Accept: text/event-stream\")"

struct ws_start {
	struct events_bus *bus;
	struct events_sub_config cfg;
};

static void upgraded_cb(void *arg, struct conn *c, const char *extra,
			size_t extra_len)
{
	struct ws_start *w = arg;
	if (c != NULL) {
		events_ws_serve(w->bus, &w->cfg, c, extra, extra_len);
	}
	tm_free(w);
}

static bool accepts_sse(const char *accept)
{
	return accept != NULL && strstr(accept, "text/event-stream") != NULL;
}

void api_events_get(struct rest_request *req)
{
	struct daemon *d = rest_server_data(req);
	char errmsg[TM_ERRMSG_SIZE];
	struct events_sub_config cfg = {.level = LOG_INFO};
	const char *level = rest_query(req, "level");
	if (events_types_parse(rest_query(req, "type"), &cfg.types, errmsg) !=
		0 ||
	    (level != NULL && level[0] != '\0' &&
	     events_level_parse(level, &cfg.level, errmsg) != 0)) {
		rest_respond_error(req, 400, "%s", errmsg);
		return;
	}
	struct events_bus *bus = daemon_events(d);
	if (bus == NULL) {
		rest_respond_error(req, 503, "events are not running");
		return;
	}
	struct ws_handshake_request hs = {
	    .upgrade = rest_header(req, "Upgrade"),
	    .connection = rest_header(req, "Connection"),
	    .version = rest_header(req, "Sec-WebSocket-Version"),
	    .key = rest_header(req, "Sec-WebSocket-Key"),
	};
	if (ws_handshake_asked(&hs)) {
		char accept[WS_ACCEPT_LEN + 1];
		if (ws_handshake_check(&hs, accept, errmsg) != 0) {
			rest_respond_error(req, 400, "%s", errmsg);
			return;
		}
		char *headers =
		    tm_asprintf("Sec-WebSocket-Accept: %s\r\n", accept);
		struct ws_start *w = tm_calloc(1, sizeof *w);
		w->bus = bus;
		w->cfg = cfg;
		rest_respond_upgrade_headers(req, "websocket", headers,
					     upgraded_cb, w);
		tm_free(headers);
		return;
	}
	if (accepts_sse(rest_header(req, "Accept"))) {
		events_sse_serve(bus, &cfg, req);
		return;
	}
	rest_respond_error(req, 400, NEITHER);
}

void api_internal_events_post(struct rest_request *req)
{
	struct daemon *d = rest_server_data(req);
	/* What this request logs must not become events: they would be
	 * relayed back, and so on. */
	log_quiet(true);
	if (!cluster_is_member(d, rest_peer_fingerprint(req))) {
		rest_respond_error(req, 403,
				   "not authorized: only members of this "
				   "cluster may relay events");
		log_quiet(false);
		return;
	}
	cJSON *body = rest_body_json(req);
	if (body != NULL) {
		char errmsg[TM_ERRMSG_SIZE] = "";
		cJSON *answer;
		int rv = daemon_events_receive(d, body, &answer, errmsg);
		if (rv != 0) {
			rest_respond_error(req, rv == TM_INVALID ? 400 : 503,
					   "%s", errmsg);
		} else {
			rest_respond_sync(req, answer, NULL);
		}
		cJSON_Delete(body);
	}
	log_quiet(false);
}

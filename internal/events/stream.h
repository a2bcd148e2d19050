/* The two transports of GET /1.0/events: a WebSocket (ws.c) and
 * Server-Sent Events (sse.c). Each serves one subscription of the bus to
 * one client until the client goes, the bus shuts down, or the client is
 * too slow (doc/events.md).
 *
 * Flow control: a transport moves events from its subscription's queue
 * to the connection only while less than EVENTS_STREAM_WINDOW bytes wait
 * unsent there; the rest wait in the bus's bounded queue, whose overflow
 * ends the stream with a final error message. */
#ifndef TM_EVENTS_STREAM_H
#define TM_EVENTS_STREAM_H

#include <stddef.h>

#include "internal/events/events.h"
#include "internal/net/conn.h"
#include "internal/rest/rest.h"

#define EVENTS_STREAM_WINDOW (64 * 1024)
/* A comment line keeps an idle SSE stream (and its proxies) alive. */
#define EVENTS_SSE_KEEPALIVE_MS 15000

/* The final message to a client dropped for being slow (JSON, owned). */
char *events_slow_message(uint64_t dropped);

/* Serve CFG's events on C, a connection just upgraded to WebSocket
 * (owned from now on). EXTRA holds bytes the client sent after its
 * request (borrowed). */
void events_ws_serve(struct events_bus *b, const struct events_sub_config *cfg,
		     struct conn *c, const char *extra, size_t extra_len);

/* Answer REQ with a text/event-stream of CFG's events; the request is
 * completed when the stream ends. */
void events_sse_serve(struct events_bus *b, const struct events_sub_config *cfg,
		      struct rest_request *req);

#endif /* TM_EVENTS_STREAM_H */

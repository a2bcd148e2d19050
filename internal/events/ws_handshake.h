/* The server's side of the WebSocket opening handshake (RFC 6455 4.2):
 * a pure check of the request's header values, bytes from the network.
 *
 * A client asks for WebSocket with "Upgrade: websocket" (a token list,
 * case-insensitive) and "Connection: Upgrade" (a token list), and must send
 * "Sec-WebSocket-Version: 13" and a "Sec-WebSocket-Key" that is the base64
 * of 16 bytes (24 characters). The answer's Sec-WebSocket-Accept is the
 * base64 of SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"). */
#ifndef TM_EVENTS_WS_HANDSHAKE_H
#define TM_EVENTS_WS_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>

/* Base64 of a SHA-1 digest, without the NUL. */
#define WS_ACCEPT_LEN 28

/* The request's header values, each NULL when absent; borrowed. */
struct ws_handshake_request {
	const char *upgrade;
	const char *connection;
	const char *version;
	const char *key;
};

/* Does the comma-separated LIST (HTTP token list, optional white space)
 * hold TOKEN, compared case-insensitively? False for NULL. */
bool ws_token_list_has(const char *list, const char *token);

/* Is this a request for a WebSocket at all (Upgrade lists websocket)? */
bool ws_handshake_asked(const struct ws_handshake_request *r);

/* Check R. 0 with ACCEPT (WS_ACCEPT_LEN + 1 bytes) set to the
 * Sec-WebSocket-Accept value; TM_INVALID with ERRMSG saying what is
 * missing or malformed. */
int ws_handshake_check(const struct ws_handshake_request *r, char *accept,
		       char *errmsg);

/* The accept value for KEY (any string), into ACCEPT (WS_ACCEPT_LEN + 1
 * bytes). */
void ws_accept_for_key(const char *key, char *accept);

#endif /* TM_EVENTS_WS_HANDSHAKE_H */

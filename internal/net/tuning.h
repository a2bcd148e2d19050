/* Timeouts of the net module. The defaults suit the daemon; the setters
 * exist so that tests do not wait for them. */
#ifndef TM_NET_TUNING_H
#define TM_NET_TUNING_H

#include <stdint.h>

#include "internal/net/conn.h"
#include "internal/net/listener.h"

/* A TLS client has this long to finish its handshake on an accepted
 * connection. */
#define NET_HANDSHAKE_TIMEOUT_MS 10000
/* conn_connect: resolve, connect and handshake within this time. */
#define NET_CONNECT_TIMEOUT_MS 10000

/* How long conn_close waits for queued writes that make no progress
 * before dropping them (default CONN_LINGER_MS). */
void conn_set_linger(struct conn *c, uint64_t ms);
/* Handshake timeout for connections accepted from now on. */
void listener_set_handshake_timeout(struct listener *l, uint64_t ms);
/* Connections of a TCP listener counted against its caps now: from
 * ADDRESS ("127.0.0.1"), or in total if ADDRESS is NULL. */
unsigned listener_connections(const struct listener *l, const char *address);

#endif /* TM_NET_TUNING_H */

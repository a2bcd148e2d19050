/* Connection caps of a TCP listener (private to internal/net): how many
 * accepted connections may be open at once, in total and per client
 * address. A connection counts from its accept until its handles are
 * closed, handshake included.
 *
 * Lifetime: the listener holds a reference and every counted conn holds
 * one, since conns outlive their listener; the limiter is freed with the
 * last reference. */
#ifndef TM_NET_LIMITER_H
#define TM_NET_LIMITER_H

#include <stdbool.h>
#include <stdint.h>

#include <netinet/in.h>

/* An address as text, without the port ("1.2.3.4", "::1"). */
#define LIMITER_KEY_SIZE INET6_ADDRSTRLEN

struct net_limiter;

/* No caps until limiter_set. */
struct net_limiter *limiter_new(void);
void limiter_ref(struct net_limiter *lim);
void limiter_unref(struct net_limiter *lim);

/* 0 means no cap. Applies to new connections; open ones stay. */
void limiter_set(struct net_limiter *lim, unsigned max_total,
		 unsigned max_per_address);

/* Is the total cap reached (checked before accepting)? */
bool limiter_full(const struct net_limiter *lim);
/* Count one more connection from KEY; false (nothing counted) if a cap
 * is reached. */
bool limiter_acquire(struct net_limiter *lim, const char *key);
void limiter_release(struct net_limiter *lim, const char *key);

/* A refused connection: logged at debug level, at most once a second
 * (NOW_MS) with the number refused since the last line. */
void limiter_note_refused(struct net_limiter *lim, uint64_t now_ms,
			  const char *listener, const char *key);

/* Connections counted now: in total, and from KEY. */
unsigned limiter_total(const struct net_limiter *lim);
unsigned limiter_count(const struct net_limiter *lim, const char *key);

#endif /* TM_NET_LIMITER_H */

/* The raft_uv_transport of a member. Raft traffic rides the member's HTTPS
 * port: peers open `GET /internal/raft` with `Upgrade: raft`. Until
 * membership lands, a member has no peers to dial: connect attempts fail
 * (asynchronously, as the interface requires) and raft keeps retrying. */
#ifndef TM_RAFT_TRANSPORT_H
#define TM_RAFT_TRANSPORT_H

#include <raft/uv.h>
#include <uv.h>

int transport_init(struct raft_uv_transport *t, uv_loop_t *loop);
/* Release memory; call after the transport's close callback. */
void transport_free(struct raft_uv_transport *t);

#endif /* TM_RAFT_TRANSPORT_H */

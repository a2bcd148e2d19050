/* Relaying a REST request to another member, as it is.
 *
 * A follower answers writes and cluster-management requests by relaying
 * them to the raft leader: the same method, path and query string, body,
 * Content-Type and If-Match, over the loop client (internal/client),
 * pinned to the cluster certificate. The leader's answer (status,
 * Content-Type, ETag, body) goes back to the client byte for byte.
 *
 * A relayed request carries "X-Thermionic-Forwarded: <forwarding
 * member>"; such a request is never relayed again, so that members that
 * disagree about who leads cannot bounce it between them. A member that
 * refuses a relayed request because it does not lead, before doing any
 * of it, says so with "X-Thermionic-Not-Leader: <the leader it knows,
 * or empty>" on its 503 (api_refuse_not_leader): the relaying member may
 * then take the request to another leader (api_forward_cb). */
#ifndef TM_API_FORWARD_H
#define TM_API_FORWARD_H

#include <stdbool.h>

#include "internal/client/hclient.h"
#include "internal/rest/rest.h"

#define API_FORWARDED_HEADER "X-Thermionic-Forwarded"
#define API_NOT_LEADER_HEADER "X-Thermionic-Not-Leader"

/* Did REQ come relayed by another member? */
bool api_forwarded(const struct rest_request *req);

/* Answer REQ 503 with the message FMT... and API_NOT_LEADER_HEADER
 * naming LEADER (NULL or "" when none is known): nothing of REQ was done
 * because this member does not lead. Only for that case: the member that
 * relayed REQ takes it elsewhere on this answer. */
void api_refuse_not_leader(struct rest_request *req, const char *leader,
			   const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Answer REQ by relaying it to ADDRESS ("host:port"), whose certificate
 * must have fingerprint PIN; FORWARDER names this member in the
 * X-Thermionic-Forwarded header. ADDRESS, PIN and FORWARDER are copied;
 * C must stay open until REQ is answered (hclient_close answers it).
 *
 * Failures are answered with the error envelope:
 * - REQ was relayed already: 503, not relayed again;
 * - nothing reached the leader (refused, unreachable, wrong certificate,
 *   connect timeout): 503 "no leader reachable: <why>";
 * - the connection failed or timed out once the request may have reached
 *   the leader: 503 "lost contact with the leader <address> while the
 *   request was in flight: it may or may not have been applied (<why>)";
 * - the leader's answer is larger than 64 MiB: 502.
 * A client that goes away cancels the relayed request (seen within
 * ~150 ms). */
void api_forward(struct rest_request *req, struct hclient *c,
		 const char *address, const char *pin, const char *forwarder);

/* The same, and CB(ARG, OUTCOME, ERRMSG) runs exactly once, from the
 * loop or from within this call:
 * - API_FORWARD_ANSWERED: REQ was answered (ERRMSG NULL);
 * - API_FORWARD_UNREACHABLE: nothing of the request reached ADDRESS
 *   (refused, unreachable, wrong certificate), ERRMSG says why;
 * - API_FORWARD_NOT_LEADER: ADDRESS answered that it does not lead and
 *   did nothing (a 503 with API_NOT_LEADER_HEADER); ERRMSG is its
 *   message.
 * For the last two REQ is NOT answered: the caller may try again or
 * answer it. */
enum api_forward_outcome {
	API_FORWARD_ANSWERED,
	API_FORWARD_UNREACHABLE,
	API_FORWARD_NOT_LEADER,
};
typedef void (*api_forward_cb)(void *arg, enum api_forward_outcome outcome,
			       const char *errmsg);

/* Does ADDRESS still lead, as far as this member knows? */
typedef bool (*api_forward_leads_fn)(struct rest_request *req,
				     const char *address);

/* LEADS (may be NULL): a relayed request whose target has not led for
 * API_FORWARD_LEADER_GRACE_MS (another leader known, or none) is given up
 * on before its timeout: CB with UNREACHABLE if nothing was sent yet,
 * else 503 "lost contact with the leader ... may or may not have been
 * applied". Without it a relay to a leader cut off by a partition waited
 * for the whole request timeout (30 s) on a kept-alive connection. */
void api_forward_ex(struct rest_request *req, struct hclient *c,
		    const char *address, const char *pin, const char *forwarder,
		    api_forward_leads_fn leads, api_forward_cb cb, void *arg);
#define API_FORWARD_LEADER_GRACE_MS 1000

/* A read that changes nothing (a view), relayed like api_forward_ex but
 * given up after TIMEOUT_MS: a failure or timeout after the request was
 * sent reports API_FORWARD_UNREACHABLE too (nothing was changed, so the
 * caller may answer from elsewhere), and REQ is not answered then. */
void api_forward_view(struct rest_request *req, struct hclient *c,
		      const char *address, const char *pin,
		      const char *forwarder, unsigned timeout_ms,
		      api_forward_cb cb, void *arg);

#endif /* TM_API_FORWARD_H */
